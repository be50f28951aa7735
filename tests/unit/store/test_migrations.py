"""Every migration has a recorded store, and today's code opens each one with nothing lost."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from console.core.clock import FakeClock
from console.store import estate, events, preflight, status
from console.store.db import Store
from console.store.migrations import known_names

from tests.fixtures.make_store_fixture import (
    STORES,
    declared_estate,
    decode_estate,
    describe_schedules,
)
from tests.unit.store.conftest import REPO, child_env

SCRIPT = REPO / "tests" / "fixtures" / "make_store_fixture.py"


def test_every_migration_has_a_committed_fixture_store() -> None:
    missing = [
        name
        for name in known_names()
        if not (STORES / f"{name}.db").is_file() or not (STORES / f"{name}.json").is_file()
    ]
    assert not missing, f"run `python {SCRIPT.relative_to(REPO)}` and commit: {missing}"


def test_no_fixture_belongs_to_an_unknown_migration() -> None:
    names = {p.name.split(".")[0] for p in STORES.iterdir() if not p.name.startswith(".")}
    assert names <= set(known_names())


def status_rows(db: Any) -> dict[str, list[dict[str, Any]]]:
    """The monitoring status tables, as the fixture script describes them."""
    out = {}
    for table, order in (("metric_states", "1, 2"), ("endpoint_results", "1")):
        cursor = db.execute(f"SELECT * FROM {table} ORDER BY {order}")
        names = [d[0] for d in cursor.description]
        out[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return out


def describe(folder: Path, name: str) -> dict[str, Any]:
    """What the fixture script recorded next to a fixture store."""
    result: dict[str, Any] = json.loads((folder / f"{name}.json").read_text())
    return result


@pytest.mark.parametrize("name", known_names())
def test_a_fixture_store_opens_upgraded_with_its_data_intact(name: str, tmp_path: Path) -> None:
    fixture = STORES / f"{name}.db"
    original = fixture.read_bytes()
    copy = tmp_path / "store.db"
    shutil.copyfile(fixture, copy)
    description = describe(STORES, name)
    expected = decode_estate(description["estate"])

    with Store.open(copy, FakeClock()) as store:
        db = store.read()
        assert estate.load(db) == expected
        first_versions = {r.key: estate.runbook_versions(db, r.key) for r in expected.runbooks}
        counts = {key: len(versions) for key, versions in first_versions.items()}
        assert counts == description["runbook_versions"]
        assert max(counts.values()) >= 2, "a fixture must hold a runbook with old versions"
        logged = events.last_seq(db)
        # From m004 on the fixture holds states; older ones upgrade to empty status tables.
        empty: dict[str, list[Any]] = {"metric_states": [], "endpoint_results": []}
        stored_status = description.get("status", empty)
        assert status_rows(db) == stored_status
        statuses = status.metric_statuses(db)
        monitored = [e for e in expected.endpoints if e.enabled]
        assert len(statuses) == sum(1 + len(e.metrics) for e in monitored)

        assert events.rebuild(store) == logged
        assert estate.load(store.read()) == expected
        for key, before in first_versions.items():
            assert estate.runbook_versions(store.read(), key) == before
        assert status_rows(store.read()) == stored_status
        assert status.metric_statuses(store.read()) == statuses
    assert preflight.check(copy, known_names()).applied == known_names()
    assert fixture.read_bytes() == original


def test_the_fixture_script_writes_one_self_contained_file(tmp_path: Path) -> None:
    command = [sys.executable, str(SCRIPT), "--out", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, env=child_env(), check=False)
    assert done.returncode == 0, done.stderr
    name = known_names()[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{name}.db", f"{name}.json"]
    conn = sqlite3.connect(f"file:{tmp_path / f'{name}.db'}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] > 10
    finally:
        conn.close()
    assert decode_estate(describe(tmp_path, name)["estate"]) == declared_estate()

    again = subprocess.run(command, capture_output=True, text=True, env=child_env(), check=False)
    assert again.returncode != 0 and "never regenerated" in again.stderr


def test_state_changes_logged_before_m004_are_projected_by_the_upgrade(tmp_path: Path) -> None:
    copy = tmp_path / "store.db"
    shutil.copyfile(STORES / "m003_endpoints.db", copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    logged = [
        ("soft", "ok", "critical", "2026-03-01T12:00:00.000000Z"),
        ("hard", "ok", "critical", "2026-03-01T12:01:00.000000Z"),
    ]
    try:
        for n, (kind, before, after, at) in enumerate(logged):
            payload = {
                "metric": "check", "from": before, "to": after, "type": kind, "at": at,
                "value": None, "band": None, "reason": "connection refused",
                "endpoint": "db-port", "service": "postgres", "metric_key": None,
            }  # fmt: skip
            conn.execute(
                "INSERT INTO events (id, type, subject, event_time, recorded_time, actor, origin, "
                "schema_version, payload) VALUES (?, 'metric.state_changed', 'endpoint:db-port', "
                "?, ?, 'engine', 'elsewhere', 1, ?)",
                [f"0190000{n}", at, at, json.dumps(payload)],
            )
    finally:
        conn.close()

    with Store.open(copy, FakeClock()) as store:
        (check,) = [m for m in status.metric_statuses(store.read()) if m.endpoint == "db-port"]
        assert (check.state.value, check.state_type.value) == ("critical", "hard")
        assert check.since is not None and check.since.isoformat().startswith("2026-03-01T12:00")


@pytest.mark.parametrize("name", known_names()[known_names().index("m006_schedules") :])
def test_a_fixture_store_gives_the_on_call_answers_it_recorded(name: str, tmp_path: Path) -> None:
    copy = tmp_path / "store.db"
    shutil.copyfile(STORES / f"{name}.db", copy)
    recorded = describe(STORES, name)["schedules"]
    with Store.open(copy, FakeClock()) as store:
        assert describe_schedules(store) == recorded
        assert any(a["member"] is None for a in recorded["on_call"]), "a fixture needs a gap"
        events.rebuild(store)
        assert describe_schedules(store) == recorded
