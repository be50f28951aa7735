"""``oncall-console drill start|end|report|list``: the real CLI in subprocesses.

The store is imported from YAML with a runbook, an escalation policy and a ``delivery`` section
that points at a real SMTP server (aiosmtpd on loopback, in a thread of this test). The paging
is done by a real ``oncall-console engine`` process: the drill's page must arrive with a subject
that starts with ``[DRILL]``, and the report must say who was reached through which channel.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_escalation_kill import mail_server
from tests.unit.delivery.servers import MailServer

ANA, BOB, NOC = "ana@example.com", "bob@example.com", "noc@example.com"
CONFIG = """version: 1
members:
  - {email: ana@example.com, name: Ana Silva, timezone: Europe/Lisbon, discipline: development}
  - {email: bob@example.com, name: Bob Jones, timezone: UTC, discipline: development}
teams:
  - id: payments
    name: Payments
    discipline: development
    members:
      - {email: ana@example.com, role: lead}
      - {email: bob@example.com, role: responder}
services:
  - {id: payments-api, name: Payments API, team: payments, tier: 1}
  - {id: ledger, name: Ledger, team: payments, tier: 2}
runbooks:
  - id: card-outage
    title: Card payments down
    scenario: The card processor stops answering; checkouts fail.
    services: [payments-api]
    steps:
      - {title: Check, body: Look at the processor's status page.}
  - id: bare
    title: Something breaks
    scenario: No service is named.
    steps:
      - {title: Look, body: Look around.}
escalation_policies:
  - id: payments-default
    name: Payments default
    services: [payments-api, ledger]
    levels:
      - delay: 0 min
        targets: [{member: ana@example.com}]
      - delay: 30 min
        targets: [{member: bob@example.com}]
delivery:
  smtp: {host: 127.0.0.1, port: PORT, security: none, from: oncall@example.com, timeout: 5}
"""
READY = re.compile(r"engine running on")


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
        [sys.executable, "-m", "console", "--db", str(db), "--as", NOC, *args],
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
def mail() -> Iterator[MailServer]:
    with mail_server() as server:
        yield server


@pytest.fixture
def db(tmp_path: Path, env: dict[str, str], mail: MailServer) -> Path:
    """A store holding CONFIG (its SMTP relay the test's server), imported with the real CLI."""
    path = tmp_path / "store.db"
    config = tmp_path / "estate.yaml"
    config.write_text(CONFIG.replace("PORT", str(mail.port)))
    done = cli(env, path, "config", "import", str(config))
    assert done.returncode == 0, done.stderr
    return path


def run_engine_until(
    env: dict[str, str], db: Path, log: Path, mail: MailServer, count: int
) -> None:
    """Run ``oncall-console engine`` until ``count`` messages arrived, then stop it (SIGTERM)."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "console", "--db", str(db), "engine", "--port", "0"],
            env=env, stdout=subprocess.DEVNULL, stderr=out,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(mail.messages) < count and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text(errors="replace")
            time.sleep(0.05)
        assert len(mail.messages) >= count, log.read_text(errors="replace")
        time.sleep(0.5)  # let the engine record the outcome of what it sent
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text(errors="replace")
    assert READY.search(log.read_text(errors="replace"))


def test_a_drill_pages_through_a_real_engine_and_ends_with_its_report(
    env: dict[str, str], db: Path, mail: MailServer, tmp_path: Path
) -> None:
    started = cli(env, db, "drill", "start", "card-outage")
    assert started.returncode == 0, started.stderr
    lines = started.stdout.splitlines()
    assert lines[0] == "INC-1 opened as a drill: DRILL: Card payments down"
    assert "runbook card-outage, service payments-api, team payments, P1" in lines[1]
    assert lines[-1] == "  end it with: oncall-console drill end INC-1"
    run_engine_until(env, db, tmp_path / "engine.log", mail, 1)
    (page,) = mail.messages
    assert page.rcpt_tos == [ANA]
    assert str(page.message["Subject"]).startswith("[DRILL] INC-1 P1")
    running = as_json(cli(env, db, "drill", "report", "INC-1", "--json"))
    assert running["state"] == "running" and running["acknowledged"] is None
    (level,) = running["levels"]
    assert level["contacts"] == [
        {
            "member": ANA,
            "via": "member",
            "reached": True,
            "channels": [{"channel": "email", "status": "sent", "attempts": 1, "error": None}],
        }
    ]
    acked = cli(env, db, "incidents", "ack", "INC-1", "--on-behalf-of", ANA, "--via", "phone")
    assert acked.returncode == 0, acked.stderr
    ended = cli(env, db, "drill", "end", "INC-1")
    assert ended.returncode == 0, ended.stderr
    text = ended.stdout.splitlines()
    assert text[0] == "INC-1: DRILL: Card payments down (ended)"
    assert any(
        line.startswith("acknowledged: ") and f"by {NOC} on behalf of {ANA} (phone)" in line
        for line in text
    )
    assert f"  {ANA}: email sent" in text
    report = as_json(cli(env, db, "drill", "report", "INC-1", "--json"))
    assert report["state"] == "ended" and report["participants"] == [ANA, NOC]
    assert report["time_to_acknowledge_s"] is not None and report["time_to_acknowledge_s"] >= 0
    shown = as_json(cli(env, db, "incidents", "show", "INC-1", "--json"))
    assert (shown["state"], shown["drill"]) == ("resolved", True)
    (listed,) = as_json(cli(env, db, "drill", "list", "--json"))
    assert (listed["ref"], listed["runbook"], listed["reached"]) == ("INC-1", "card-outage", [ANA])
    findings = as_json(cli(env, db, "readiness", "--json"))["findings"]
    training = {(f["subject"], f["problem"]) for f in findings if f["area"] == "training"}
    assert (BOB, "never drilled") in training and (ANA, "never drilled") not in training
    assert ("card-outage", "runbook not drilled in 90 days") not in training
    assert ("bare", "runbook not drilled in 90 days") in training


def test_drill_commands_refuse_bad_input_with_exit_code_2(env: dict[str, str], db: Path) -> None:
    helped = cli(env, db, "drill", "start", "--help")
    assert helped.returncode == 0 and helped.stdout.startswith("usage: oncall-console")
    assert "SCENARIO" in helped.stdout and "--service KEY" in helped.stdout
    cases = [
        (("drill", "start", "nope"), "error: runbook: unknown runbook 'nope'"),
        (("drill", "start", "bare"), "covers no service: give one with --service"),
        (("drill", "start", "card-outage", "--service", "x"), "unknown service 'x'"),
        (("drill", "end", "INC-9"), "error: there is no incident 'INC-9'"),
        (("drill", "report", "INC-9"), "error: there is no incident 'INC-9'"),
    ]
    for args, message in cases:
        done = cli(env, db, *args)
        assert (done.returncode, message in done.stderr) == (2, True), (args, done.stderr)
    real = cli(env, db, "incidents", "create", "--title", "Slow", "--reporter", "desk")
    assert real.returncode == 0, real.stderr
    for action in ("end", "report"):
        done = cli(env, db, "drill", action, "INC-1")
        assert done.returncode == 2 and "error: INC-1 is not a drill" in done.stderr
    assert as_json(cli(env, db, "drill", "list", "--json")) == []
    started = as_json(cli(env, db, "drill", "start", "bare", "--service", "ledger", "--json"))
    assert (started["ref"], started["drill"], started["escalating"]) == ("INC-2", True, True)
    assert cli(env, db, "drill", "end", "INC-2").returncode == 0
    again = cli(env, db, "drill", "end", "INC-2")
    assert again.returncode == 2 and "error: the drill INC-2 ended already" in again.stderr
    listed = cli(env, db, "drill", "list")
    assert listed.returncode == 0, listed.stderr
    (header, row) = listed.stdout.splitlines()
    assert header.split() == ["ID", "STATE", "RUNBOOK", "SERVICE", "STARTED", "ACK", "AFTER"] + [
        "REACHED"
    ]
    assert row.split()[:4] == ["INC-2", "ended", "bare", "ledger"] and "never" in row
