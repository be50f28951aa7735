"""``oncall-console incidents``: the real CLI in subprocesses against a store file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console.cli.main import build_parser
from console.core.enums import Discipline, ImpactTier
from console.core.incidents import IncidentState
from console.core.models import Member, Service, Team
from console.core.signals import ManualReport
from console.store import entities
from console.store import incidents as inc
from console.store.db import Store

ACTIONS = [
    "list",
    "show",
    "ack",
    "mitigate",
    "resolve",
    "reopen",
    "snooze",
    "wake",
    "reassign",
    "merge",
    "priority",
    "create",
]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment whose per-user folders live in the test's own folder."""
    out = dict(os.environ)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        out[var] = str(tmp_path / var.lower())
    out.pop("QT_QPA_PLATFORM", None)
    return out


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    """A store with two teams and a service, written through the store API, then closed."""
    path = tmp_path / "store.db"
    with Store.open(path) as store:
        entities.save(store, Member("ada@example.com", "Ada", "UTC", Discipline.OTHER))
        for key in ("infra", "web"):
            entities.save(store, Team(key, key.title(), Discipline.INFRASTRUCTURE))
        entities.save(store, Service("shop", "Shop", "web", ImpactTier.TIER_1))
    yield path


def cli(env: dict[str, str], db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", "--db", str(db), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def ok_json(env: dict[str, str], db: Path, *args: str) -> Any:
    done = cli(env, db, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def create(env: dict[str, str], db: Path, title: str, *extra: str) -> dict[str, Any]:
    found: dict[str, Any] = ok_json(
        env, db, "incidents", "create", "--title", title, "--reporter", "desk", *extra
    )
    return found


def test_every_action_has_help(env: dict[str, str], db: Path) -> None:
    done = cli(env, db, "incidents", "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: oncall-console incidents")
    assert all(action in done.stdout for action in ACTIONS)
    # Each action's own help, from the same parser the process builds (one process is enough).
    for action in ACTIONS:
        with pytest.raises(SystemExit) as leaving:
            build_parser().parse_args(["incidents", action, "--help"])
        assert leaving.value.code == 0, action


def test_create_list_acknowledge_and_a_second_acknowledgement_is_refused(
    env: dict[str, str], db: Path
) -> None:
    made = create(env, db, "Checkout fails", "--service", "shop", "--impact", "no sales")
    assert (made["ref"], made["team"], made["priority"], made["state"]) == (
        "INC-1",
        "web",
        "P2",
        "triggered",
    )
    listed = ok_json(env, db, "incidents", "list")
    assert [i["ref"] for i in listed] == ["INC-1"]
    acked = ok_json(env, db, "--as", "ada@example.com", "incidents", "ack", "INC-1")
    assert (acked["state"], acked["acknowledged_by"]) == ("acknowledged", "ada@example.com")
    again = cli(env, db, "incidents", "ack", "1")
    assert again.returncode == 2
    assert "INC-1 is already acknowledged by ada@example.com" in again.stderr
    missing = cli(env, db, "incidents", "show", "INC-99")
    assert missing.returncode == 2 and "there is no incident 'INC-99'" in missing.stderr
    text = cli(env, db, "incidents", "list")
    assert text.returncode == 0 and "INC-1" in text.stdout and "acknowledged" in text.stdout


def test_the_whole_response_from_the_command_line(env: dict[str, str], db: Path) -> None:
    create(env, db, "Checkout fails", "--service", "shop")
    create(env, db, "Shop is slow", "--service", "shop", "--severity", "critical")
    snoozed = ok_json(env, db, "incidents", "snooze", "INC-1", "--for", "1h30m")
    assert snoozed["snoozed_until"] is not None
    assert ok_json(env, db, "incidents", "wake", "INC-1")["snoozed_until"] is None
    moved = ok_json(env, db, "incidents", "reassign", "INC-1", "infra", "--reason", "network")
    assert moved["team"] == "infra"
    forced = ok_json(env, db, "incidents", "priority", "INC-1", "P1", "--reason", "VIP")
    assert forced["priority"] == "P1" and forced["priority_overridden"]
    survivor = ok_json(env, db, "incidents", "merge", "INC-2", "INC-1")
    assert survivor["ref"] == "INC-1"
    mitigated = ok_json(env, db, "incidents", "mitigate", "INC-1", "--note", "rolled back")
    assert mitigated["state"] == "acknowledged" and mitigated["mitigated_at"] is not None
    resolved = ok_json(env, db, "incidents", "resolve", "INC-1", "--note", "fixed")
    assert resolved["state"] == "resolved"
    assert resolved["durations_s"]["to_resolve"] >= 0
    reopened = ok_json(env, db, "incidents", "reopen", "INC-1", "--reason", "it is back")
    assert reopened["state"] == "triggered"
    shown = ok_json(env, db, "incidents", "show", "INC-1")
    assert [e["type"] for e in shown["timeline"]] == [
        "incident.opened",
        "incident.snoozed",
        "incident.woke",
        "incident.reassigned",
        "incident.priority_overridden",
        "incident.absorbed",
        "incident.acknowledged",
        "incident.mitigated",
        "incident.resolved",
        "incident.reopened",
    ]
    assert shown["timeline"][3]["payload"]["reason"] == "network"
    every = ok_json(env, db, "incidents", "list", "--all")
    assert {(i["ref"], i["state"]) for i in every} == {
        ("INC-1", "triggered"),
        ("INC-2", "resolved"),
    }
    assert cli(env, db, "incidents", "snooze", "1", "--for", "soon").returncode == 2
    assert cli(env, db, "incidents", "reassign", "1", "ghosts", "--reason", "x").returncode == 2


def test_two_processes_acknowledging_at_once_one_wins(env: dict[str, str], db: Path) -> None:
    create(env, db, "Checkout fails")
    base = [sys.executable, "-m", "console", "--db", str(db)]
    procs = [
        subprocess.Popen(
            [*base, "--as", who, "incidents", "ack", "INC-1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for who in ("ada@example.com", "grace@example.com")
    ]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    for p in procs:
        for stream in (p.stdout, p.stderr):
            if stream is not None:
                stream.close()
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refusal = next(err for code, err in results if code == 2)
    assert "is already acknowledged by" in refusal


def test_the_cli_works_beside_an_open_console(env: dict[str, str], db: Path) -> None:
    with Store.open(db) as console:  # the desktop app holding the store open
        inc.create_manual(console, ManualReport("VPN down", "bob", team="infra"))
        done = cli(env, db, "incidents", "ack", "INC-1")
        assert done.returncode == 0, done.stderr
        assert "INC-1 acknowledged" in done.stdout
        seen = inc.get(console.read(), "INC-1")
        assert seen.state is IncidentState.ACKNOWLEDGED
