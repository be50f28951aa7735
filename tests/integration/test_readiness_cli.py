"""``readiness``: the real CLI on a store filled from YAML; exit 1 while a tier-1 gap remains."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BASE = """version: 1
members:
  - {email: ana@example.com, name: Ana Silva, timezone: Europe/Lisbon, discipline: infrastructure}
  - {email: bob@example.com, name: Bob Jones, timezone: Europe/Lisbon, discipline: infrastructure}
teams:
  - id: ops
    name: Operations
    discipline: infrastructure
    members:
      - {email: ana@example.com, role: responder}
      - {email: bob@example.com, role: responder}
services:
  - {id: payments, name: Payments, team: ops, tier: 1}
  - {id: wiki, name: Wiki, team: ops, tier: 4}
schedules:
  - id: days
    name: Days
    timezone: UTC
    layers:
      - name: Days
        members: [ana@example.com, bob@example.com]
        shift: 1 week
        handoff: "08:00"
        handoff_day: mon
        start: 2020-01-06
        restrictions:
          - {from: "08:00", to: "20:00"}
"""
POLICY = """escalation_policies:
  - id: payments
    name: Payments
    services: [payments]
    levels:
      - delay: 0 min
        targets: [{schedule: days}]
"""
NIGHTS = """      - delay: 10 min
        targets: [{member: bob@example.com}]
"""
RUNBOOK = """runbooks:
  - id: payments-down
    title: Payments down
    scenario: the payment API answers 5xx
    services: [payments]
    steps:
      - {title: Look, body: Check the dashboards.}
"""
DELIVERY = """delivery:
  smtp: {host: smtp.example.com, port: 587, security: starttls, from: oncall@example.com}
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    out = dict(os.environ)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        out[var] = str(tmp_path / var.lower())
    return out


def cli(env: dict[str, str], db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", "--db", str(db), *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def load(env: dict[str, str], db: Path, tmp_path: Path, text: str) -> None:
    config = tmp_path / "estate.yaml"
    config.write_text(text)
    done = cli(env, db, "config", "import", "--prune", str(config))
    assert done.returncode == 0, done.stderr + done.stdout


def report(env: dict[str, str], db: Path) -> tuple[int, dict[str, object]]:
    done = cli(env, db, "readiness", "--json")
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def problems(data: dict[str, object], subject: str) -> list[str]:
    findings = data["findings"]
    assert isinstance(findings, list)
    return [f["problem"] for f in findings if f["subject"] == subject and f["area"] == "service"]


def test_a_tier_1_gap_fails_the_report_until_it_is_closed(
    env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "store.db"
    load(env, db, tmp_path, BASE)
    code, data = report(env, db)
    assert code == 1
    assert problems(data, "payments") == [
        "no runbook covers it",
        "no escalation policy applies to it",
    ]
    # Without a mail server or webhook, a page reaches nobody away from the console.
    assert {f["subject"] for f in data["findings"] if f["area"] == "member"} == {  # type: ignore[union-attr]
        "ana@example.com",
        "bob@example.com",
    }
    # A runbook and a policy: the policy's schedule has nobody at night.
    load(env, db, tmp_path, BASE + POLICY + RUNBOOK + DELIVERY)
    code, data = report(env, db)
    assert code == 1
    (night,) = problems(data, "payments")
    # Twelve hours a night over fourteen whole days: 168 h, in 14 stretches (15 when the
    # fortnight starts and ends inside a night).
    assert night.startswith("policy payments reaches nobody from")
    assert re.search(r"\((14|15) stretches, 168 h in all\)", night), night
    # A second level for the nights: ready (the wiki's own gaps do not block: tier 4).
    load(env, db, tmp_path, BASE + POLICY + NIGHTS + RUNBOOK + DELIVERY)
    code, data = report(env, db)
    assert code == 0 and data["blocking"] == 0
    assert problems(data, "payments") == []
    assert "no escalation policy applies to it" in problems(data, "wiki")
    text = cli(env, db, "readiness")
    assert text.returncode == 0
    assert "no tier-1 gap" in text.stdout and "level 1 can come up empty" in text.stdout
