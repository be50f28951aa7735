"""``silences`` and ``routes``: the real CLI in subprocesses against a store file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from console.cli.main import build_parser
from console.core.clock import isoformat
from console.core.incident_policy import Hold, SignalEffect
from console.core.signals import Signal, alert_signal
from console.store import alerting
from console.store import incidents as inc
from console.store.db import Store

CONFIG = """\
version: 1
teams:
  - {id: noc, name: NOC, discipline: infrastructure}
  - {id: sirt, name: SIRT, discipline: security}
  - {id: web, name: Web, discipline: development}
services:
  - {id: shop, name: Shop, team: web, tier: 1}
  - {id: search, name: Search, team: web, tier: 2}
alerting:
  routes:
    - name: security alerts
      team: sirt
      matchers: [team=security]
    - team: noc
      matchers: ['alertname=~Disk.*', 'severity!=info']
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


@pytest.fixture
def db(tmp_path: Path, env: dict[str, str]) -> Path:
    """A store configured by `config import` of CONFIG."""
    path = tmp_path / "store.db"
    config = tmp_path / "estate.yaml"
    config.write_text(CONFIG)
    done = cli(env, path, "config", "import", str(config))
    assert done.returncode == 0, done.stderr
    return path


def alert(service: str, fingerprint: str, **labels: str) -> Signal:
    return alert_signal(
        labels={"alertname": "Down", "service": service, "severity": "critical", **labels},
        annotations={},
        starts_at=datetime.now(UTC),
        fingerprint=fingerprint,
    )


def test_the_commands_have_help() -> None:
    for args in (["silences", "add"], ["silences", "list"], ["routes", "test"], ["routes"]):
        with pytest.raises(SystemExit) as leaving:
            build_parser().parse_args([*args, "--help"])
        assert leaving.value.code == 0, args


def test_a_silence_added_from_the_cli_holds_back_a_matching_signal_until_deleted(
    env: dict[str, str], db: Path
) -> None:
    added = ok_json(
        env, db, "silences", "add", "--service", "shop", "--for", "1h", "--reason", "deploy"
    )
    key = added["id"]
    assert key.startswith("shop-")
    assert (added["state"], added["services"], added["reason"]) == ("active", ["shop"], "deploy")
    starts = datetime.fromisoformat(added["once"]["starts"])
    assert datetime.fromisoformat(added["once"]["ends"]) - starts == timedelta(hours=1)
    assert [s["id"] for s in ok_json(env, db, "silences", "list")] == [key]

    with Store.open(db) as store:
        held = inc.open_or_update(store, alert("shop", "f1"))
        assert held.effect is SignalEffect.OPENED  # the incident is recorded...
        assert held.hold is Hold.SILENCED and held.silenced_by == key  # ...and not notified
        assert held.worse and not held.notify
        elsewhere = inc.open_or_update(store, alert("search", "f2"))
        assert elsewhere.hold is None and elsewhere.notify

    deleted = cli(env, db, "silences", "delete", key)
    assert deleted.returncode == 0 and f"deleted silence {key}" in deleted.stdout
    assert ok_json(env, db, "silences", "list") == []
    with Store.open(db) as store:
        assert alerting.silences(store.read()) == ()
        again = inc.open_or_update(store, alert("shop", "f3"))
        assert again.effect is SignalEffect.OPENED and again.hold is None and again.notify


def test_a_label_matcher_silence_until_a_time_matches_only_what_it_names(
    env: dict[str, str], db: Path
) -> None:
    until = isoformat(datetime.now(UTC) + timedelta(hours=2))
    added = ok_json(
        env, db, "--as", "ada@example.com", "silences", "add",
        "--match", "alertname=~Disk.*", "--match", "host!=db-2",
        "--until", until, "--reason", "disk swap", "--id", "disk-swap",
    )  # fmt: skip
    assert (added["id"], added["created_by"]) == ("disk-swap", "ada@example.com")
    assert added["matchers"] == ["alertname=~Disk.*", "host!=db-2"]
    text = cli(env, db, "silences", "list")
    assert "disk-swap" in text.stdout and "active" in text.stdout and "disk swap" in text.stdout
    with Store.open(db) as store:
        disk = inc.open_or_update(store, alert("shop", "d1", alertname="DiskFull", host="db-1"))
        assert disk.silenced_by == "disk-swap"
        spared = inc.open_or_update(store, alert("shop", "d2", alertname="DiskFull", host="db-2"))
        assert spared.hold is None
        other = inc.open_or_update(store, alert("shop", "d3", alertname="HighLatency"))
        assert other.hold is None


def test_bad_silences_are_refused_with_the_reason(env: dict[str, str], db: Path) -> None:
    typo = cli(env, db, "silences", "add", "--service", "shp", "--for", "1h", "--reason", "x")
    assert typo.returncode == 2
    assert "unknown service 'shp'; did you mean 'shop'?" in typo.stderr
    nothing = cli(env, db, "silences", "add", "--for", "1h", "--reason", "x")
    assert nothing.returncode == 2 and "--service KEY or --match LABEL=VALUE" in nothing.stderr
    regex = cli(env, db, "silences", "add", "--match", "a=~(", "--for", "1h", "--reason", "x")
    assert regex.returncode == 2 and "invalid regular expression '('" in regex.stderr
    past = isoformat(datetime.now(UTC) - timedelta(hours=1))
    ended = cli(env, db, "silences", "add", "--service", "shop", "--until", past, "--reason", "x")
    assert ended.returncode == 2 and "must end after it starts" in ended.stderr
    first = cli(
        env,
        db,
        "silences",
        "add",
        "--service",
        "shop",
        "--for",
        "5m",
        "--reason",
        "x",
        "--id",
        "one",
    )
    assert first.returncode == 0, first.stderr
    again = cli(
        env,
        db,
        "silences",
        "add",
        "--service",
        "shop",
        "--for",
        "5m",
        "--reason",
        "x",
        "--id",
        "one",
    )
    assert again.returncode == 2 and "there is already a silence 'one'" in again.stderr
    missing = cli(env, db, "silences", "delete", "nope")
    assert missing.returncode == 2 and "there is no silence 'nope'" in missing.stderr
    with Store.open(db) as store:
        assert [s.key for s in alerting.silences(store.read())] == ["one"]


def test_routes_lists_the_table_and_test_names_the_team_and_the_route(
    env: dict[str, str], db: Path, tmp_path: Path
) -> None:
    listed = ok_json(env, db, "routes")
    assert [(r["position"], r["name"], r["team"]) for r in listed["routes"]] == [
        (1, "security alerts", "sirt"),
        (2, None, "noc"),
    ]
    assert listed["default_team"] is None
    assert ok_json(env, db, "routes", "list") == listed

    security = ok_json(env, db, "routes", "test", "team=security", "alertname=DiskFull")
    assert (security["team"], security["route"], security["route_name"]) == (
        "sirt",
        1,
        "security alerts",
    )  # the first match wins, though route 2 matches too
    text = cli(env, db, "routes", "test", "alertname=DiskFull", "severity=critical")
    assert text.returncode == 0
    assert text.stdout.splitlines()[:2] == [
        "team: noc",
        "matched: route 2: alertname=~Disk.* severity!=info",
    ]
    owner = ok_json(env, db, "routes", "test", "service=shop")
    assert (owner["team"], owner["basis"], owner["route"]) == ("web", "owner", None)
    nowhere = cli(env, db, "routes", "test", "alertname=Odd")
    assert nowhere.returncode == 1 and "no route matched and there is no default" in nowhere.stderr

    # A new file with a default team, imported from the command line, changes the answer.
    config = tmp_path / "with-default.yaml"
    config.write_text(CONFIG + "  default_team: noc\n")
    planned = cli(env, db, "config", "import", str(config), "--dry-run")
    assert planned.returncode == 0 and "update  routing  inbound" in planned.stdout
    assert cli(env, db, "routes", "test", "alertname=Odd").returncode == 1
    assert cli(env, db, "config", "import", str(config)).returncode == 0
    default = ok_json(env, db, "routes", "test", "alertname=Odd")
    assert (default["team"], default["basis"]) == ("noc", "default")


def test_config_check_points_at_the_problem_and_export_round_trips(
    env: dict[str, str], db: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(CONFIG.replace("'alertname=~Disk.*'", "'alertname=~Disk.(*'"))
    checked = cli(env, db, "config", "check", str(bad))
    assert checked.returncode == 2
    (line,) = [n for n, text in enumerate(bad.read_text().splitlines(), 1) if "Disk" in text]
    column = bad.read_text().splitlines()[line - 1].index("Disk.(*") + 1 + 6  # at the '*'
    assert checked.stderr.startswith(
        f"{bad}:{line}:{column}: alerting.routes[1].matchers[0]: invalid regular expression "
        "'Disk.(*': nothing to repeat at character 7"
    )
    added = cli(env, db, "silences", "add", "--service", "search", "--for", "1h", "--reason", "x")
    assert added.returncode == 0, added.stderr
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    assert cli(env, db, "config", "export", str(first)).returncode == 0
    other = tmp_path / "other.db"
    assert cli(env, other, "config", "import", str(first)).returncode == 0
    assert cli(env, other, "config", "export", str(second)).returncode == 0
    assert second.read_bytes() == first.read_bytes()
    assert "silences:\n  - id: search-" in first.read_text()
