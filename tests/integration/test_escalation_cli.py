"""``incidents escalate``, ``incidents ack --on-behalf-of --via`` and the escalation in ``show``.

The real CLI in subprocesses against a store file imported from YAML (with an
``escalation_policies`` section); the engine's part (planning the due steps and recording
delivery attempts) is played in the test process through the same store functions the engine
calls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from console.core.escalator import NotificationStatus, issued, plan
from console.store import escalations, incidents
from console.store.db import Store

CONFIG = """version: 1
members:
  - {email: ana@example.com, name: Ana Silva, timezone: Europe/Lisbon, discipline: development}
  - {email: bob@example.com, name: Bob Jones, timezone: UTC, discipline: development}
teams:
  - id: payments
    name: Payments
    discipline: development
    members:
      - {email: bob@example.com, role: responder}
      - {email: ana@example.com, role: lead}
services:
  - {id: payments-api, name: Payments API, team: payments, tier: 1}
escalation_policies:
  - id: payments-default
    name: Payments default
    services: [payments-api]
    levels:
      - delay: 0 min
        targets: [{member: ana@example.com}, {round_robin: payments}]
      - delay: 10 min
        urgent: true
        targets: [{member: bob@example.com}]
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment whose per-user folders live in the test's own folder."""
    out = dict(os.environ)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        out[var] = str(tmp_path / var.lower())
    out.pop("QT_QPA_PLATFORM", None)
    return out


def cli(env: dict[str, str], db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", "--db", str(db), "--as", "noc@example.com", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def db(tmp_path: Path, env: dict[str, str]) -> Path:
    """A store holding CONFIG, imported with the real CLI, and one incident on payments-api."""
    path = tmp_path / "store.db"
    config = tmp_path / "estate.yaml"
    config.write_text(CONFIG)
    done = cli(env, path, "config", "import", str(config))
    assert done.returncode == 0, done.stderr
    opened = as_json(
        cli(env, path, "incidents", "create", "--title", "Card payments failing",
            "--reporter", "service desk", "--service", "payments-api", "--json")
    )  # fmt: skip
    assert opened["ref"] == "INC-1"
    return path


def engine_tick(path: Path) -> None:
    """What the engine's tick does: plan the due steps, record them; then the delivery results."""
    with Store.open(path) as store:
        now = store.clock.now()
        db = store.read()
        people = escalations.directory(db, now)
        for incident in incidents.due(db, now):
            found = plan(escalations.progress(db, incident.id), incident, people, now)
            escalations.apply_plan(store, incident.id, found)
            facts = [
                issued(d, "email", NotificationStatus.SENT, now)
                if d.recipient == "ana@example.com"
                else issued(d, "email", NotificationStatus.FAILED, now, error="550 mailbox full")
                for d in found.deliveries
            ]
            escalations.record(store, incident.id, facts)


def test_show_prints_the_escalation_policy_level_next_due_and_attempts(
    env: dict[str, str], db: Path
) -> None:
    before = as_json(cli(env, db, "incidents", "show", "INC-1", "--json"))["escalation"]
    assert (before["policy"], before["phase"], before["current_level"]) == (
        "payments-default",
        "waiting",
        None,
    )
    engine_tick(db)
    shown = cli(env, db, "incidents", "show", "INC-1")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "escalation:   policy Payments default (payments-default), running" in lines
    (due,) = [line for line in lines if line.startswith("next:")]
    assert due.startswith(
        ("next:         Level 2 starts in 9:", "next:         Level 2 starts in 10:00")
    )
    assert "  level 1  current  at once; targets: ana@example.com, round robin (payments)" in lines
    assert "    ana@example.com via email: sent" in lines
    assert "    bob@example.com via email: failed: 550 mailbox full" in lines
    assert "  level 2  upcoming after 10 min, urgent; targets: bob@example.com" in lines
    data = as_json(cli(env, db, "incidents", "show", "INC-1", "--json"))["escalation"]
    assert data["current_level"] == 1
    assert [s["state"] for s in data["steps"]] == ["current", "upcoming"]
    statuses = {(n["recipient"], n["status"]) for n in data["steps"][0]["notified"]}
    assert statuses == {("ana@example.com", "sent"), ("bob@example.com", "failed")}


def test_escalate_moves_to_the_next_level_and_refuses_past_the_last(
    env: dict[str, str], db: Path
) -> None:
    engine_tick(db)
    done = cli(env, db, "incidents", "escalate", "INC-1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("INC-1 escalated: the next level starts at the engine's next")
    engine_tick(db)
    data = as_json(cli(env, db, "incidents", "show", "INC-1", "--json"))
    assert data["escalation"]["current_level"] == 2
    jump = [e for e in data["timeline"] if e["type"] == "escalation.escalated_now"]
    assert [(e["payload"]["by"], e["payload"]["to_level"]) for e in jump] == [
        ("noc@example.com", 1)
    ]
    refused = cli(env, db, "incidents", "escalate", "INC-1")
    assert refused.returncode == 2
    assert refused.stderr.strip() == "error: INC-1 is at the last level of its last loop"


def test_ack_on_behalf_records_who_answered_and_how(env: dict[str, str], db: Path) -> None:
    engine_tick(db)
    no_who = cli(env, db, "incidents", "ack", "INC-1", "--via", "phone")
    assert no_who.returncode == 2 and "--via needs --on-behalf-of" in no_who.stderr
    stranger = cli(
        env, db, "incidents", "ack", "INC-1", "--on-behalf-of", "eve@example.com", "--via", "sms"
    )
    assert stranger.returncode == 2 and "unknown member 'eve@example.com'" in stranger.stderr
    acked = as_json(
        cli(env, db, "incidents", "ack", "INC-1", "--on-behalf-of", "bob@example.com",
            "--via", "phone", "--json")
    )  # fmt: skip
    assert acked["state"] == "acknowledged"
    data = as_json(cli(env, db, "incidents", "show", "INC-1", "--json"))
    (ack,) = [e for e in data["timeline"] if e["type"] == "incident.acknowledged"]
    assert (ack["payload"]["by"], ack["payload"]["on_behalf_of"], ack["payload"]["via"]) == (
        "noc@example.com",
        "bob@example.com",
        "phone",
    )
    assert data["escalation"]["phase"] == "acknowledged"
    shown = cli(env, db, "incidents", "show", "INC-1")
    assert "next:         Acknowledged by bob@example.com: escalation stopped" in shown.stdout


def test_escalate_refuses_an_incident_without_a_policy_or_resolved(
    env: dict[str, str], db: Path
) -> None:
    other = as_json(
        cli(env, db, "incidents", "create", "--title", "Printer on fire", "--reporter", "desk",
            "--team", "payments", "--json")
    )  # fmt: skip
    assert as_json(cli(env, db, "incidents", "show", other["ref"], "--json"))["escalation"] is None
    refused = cli(env, db, "incidents", "escalate", other["ref"])
    assert refused.returncode == 2 and "has no escalation policy" in refused.stderr
    assert cli(env, db, "incidents", "resolve", "INC-1").returncode == 0
    resolved = cli(env, db, "incidents", "escalate", "INC-1")
    assert resolved.returncode == 2 and "is resolved" in resolved.stderr
