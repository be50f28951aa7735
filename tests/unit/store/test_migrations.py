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
from console.store import estate, events, preflight
from console.store.db import Store
from console.store.migrations import known_names

from tests.fixtures.make_store_fixture import STORES, declared_estate, decode_estate
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

        assert events.rebuild(store) == logged
        assert estate.load(store.read()) == expected
        for key, before in first_versions.items():
            assert estate.runbook_versions(store.read(), key) == before
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
