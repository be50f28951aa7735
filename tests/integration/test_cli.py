"""The command line as a user runs it: a real process, a real store file, real exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

SUBCOMMANDS = [
    ["config"],
    ["config", "check"],
    ["config", "import"],
    ["config", "export"],
    ["backup"],
    ["restore"],
    ["db"],
    ["db", "info"],
    ["db", "check"],
    ["db", "rebuild"],
    ["identity"],
    ["teams"],
    ["members"],
    ["services"],
    ["resources"],
    ["priorities"],
    ["runbooks"],
    ["events"],
]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment whose per-user folders live in the test's own folder."""
    out = dict(os.environ)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        out[var] = str(tmp_path / var.lower())
    out.pop("QT_QPA_PLATFORM", None)
    return out


def run(
    env: dict[str, str], *args: str | Path, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "console", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_help_documents_exit_codes_and_every_subcommand_has_help(env: dict[str, str]) -> None:
    top = run(env, "--help").stdout
    assert "3 store refused" in top and "--demo" in top and "--as EMAIL" in top
    for words in SUBCOMMANDS:
        assert run(env, *words, "--help").stdout.startswith("usage: oncall-console")


def test_bad_usage_exits_2(env: dict[str, str]) -> None:
    assert run(env, "no-such-command", ok=False).returncode == 2
    assert run(env, "--as", "not-an-email", "teams", ok=False).returncode == 2
    assert run(env, "--size", "huge", ok=False).returncode == 2


def test_demo_is_a_temporary_store_for_any_subcommand(env: dict[str, str], tmp_path: Path) -> None:
    teams = json.loads(run(env, "--demo", "--json", "teams").stdout)
    keys = {t["id"] for t in teams}
    assert {"noc", "sirt"} <= keys and len(keys) >= 4
    services = json.loads(run(env, "--demo", "--json", "services").stdout)
    assert len(services) >= 12
    # the temporary demo store never became the default store
    assert not (tmp_path / "xdg_data_home" / "oncall-console" / "store.db").exists()


def test_default_store_follows_platformdirs(env: dict[str, str], tmp_path: Path) -> None:
    info = json.loads(run(env, "--json", "db", "info").stdout)
    assert info["path"] == str(tmp_path / "xdg_data_home" / "oncall-console" / "store.db")
    assert info["counts"]["events"] == 0


def test_export_import_export_is_byte_identical(env: dict[str, str], tmp_path: Path) -> None:
    first = tmp_path / "first.yaml"
    run(env, "--demo", "config", "export", first)
    empty = tmp_path / "empty.db"
    out = run(env, "--db", empty, "config", "import", first).stdout
    assert "create" in out
    second = run(env, "--db", empty, "config", "export").stdout
    assert second == first.read_text(encoding="utf-8")
    again = run(env, "--db", empty, "config", "import", first).stdout
    assert "changed 0 item(s)" in again


def test_check_lists_errors_with_positions_and_import_writes_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    store = tmp_path / "s.db"
    good = tmp_path / "good.yaml"
    run(env, "--demo", "config", "export", good)
    run(env, "--db", store, "config", "import", good)
    before = json.loads(run(env, "--db", store, "--json", "db", "info").stdout)["counts"]
    bad = tmp_path / "bad.yaml"
    text = good.read_text(encoding="utf-8")
    bad.write_text(text.replace("team: payments", "team: no-such-team", 1), encoding="utf-8")
    line = text.splitlines().index(
        next(x for x in text.splitlines() if x.strip() == "team: payments")
    )
    check = run(env, "config", "check", bad, ok=False)
    assert check.returncode == 2
    assert f"{bad}:{line + 1}:" in check.stderr and "no-such-team" in check.stderr
    imp = run(env, "--db", store, "config", "import", bad, ok=False)
    assert imp.returncode == 2
    after = json.loads(run(env, "--db", store, "--json", "db", "info").stdout)["counts"]
    assert after == before


def test_prune_lists_deletions_before_applying(env: dict[str, str], tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    full = tmp_path / "full.yaml"
    run(env, "--demo", "config", "export", full)
    run(env, "--db", store, "config", "import", full)
    smaller = tmp_path / "smaller.yaml"
    doc = full.read_text(encoding="utf-8")
    start = doc.index("resources:")
    end = doc.index("\nservices:") if doc.index("\nservices:") > start else len(doc)
    smaller.write_text(doc[:start] + doc[end + 1 :], encoding="utf-8")
    dry = run(env, "--db", store, "config", "import", "--prune", "--dry-run", smaller).stdout
    assert "--prune removes" in dry and "delete resource" in dry
    assert json.loads(run(env, "--db", store, "--json", "resources").stdout)
    real = run(env, "--db", store, "config", "import", "--prune", smaller).stdout
    assert real.index("--prune removes") < real.index("changed")
    assert json.loads(run(env, "--db", store, "--json", "resources").stdout) == []


def test_actor_comes_from_as_or_identity(env: dict[str, str], tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    cfg = tmp_path / "c.yaml"
    run(env, "--demo", "config", "export", cfg)
    members = json.loads(run(env, "--demo", "--json", "members").stdout)
    first, second = members[0]["email"], members[1]["email"]
    run(env, "--db", store, "--as", first, "config", "import", cfg)
    assert run(env, "--db", store, "identity", "nobody@example.com", ok=False).returncode == 2
    run(env, "--db", store, "identity", second)
    run(env, "--db", store, "db", "rebuild")
    evs = json.loads(run(env, "--db", store, "--json", "events").stdout)
    assert {e["actor"] for e in evs if e["type"] == "config.imported"} == {first}
    ident = json.loads(run(env, "--db", store, "--json", "identity").stdout)
    assert ident == {"identity": second, "actor": second}


def test_refused_stores_exit_3_and_stay_untouched(env: dict[str, str], tmp_path: Path) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database\n")
    before = digest(text_file)
    proc = run(env, "--db", text_file, "teams", ok=False)
    assert proc.returncode == 3 and "not a SQLite database" in proc.stderr
    assert digest(text_file) == before

    newer = tmp_path / "newer.db"
    run(env, "--db", newer, "teams")
    conn = sqlite3.connect(newer)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('oncall-console', 'm999_from_the_future', 'x')"
    )
    conn.commit()
    conn.close()
    before = digest(newer)
    proc = run(env, "--db", newer, "teams", ok=False)
    assert proc.returncode == 3 and "m999_from_the_future" in proc.stderr
    assert digest(newer) == before

    proc = run(env, "--db", tmp_path, "teams", ok=False)
    assert proc.returncode == 3 and "directory" in proc.stderr


def test_backup_restore_and_maintenance(env: dict[str, str], tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    cfg = tmp_path / "c.yaml"
    run(env, "--demo", "config", "export", cfg)
    run(env, "--db", store, "config", "import", cfg)
    copy = tmp_path / "backup.db"
    run(env, "--db", store, "backup", copy)
    assert run(env, "--db", store, "backup", copy, ok=False).returncode != 0
    assert run(env, "--db", store, "db", "check").stdout.strip() == "ok"
    missing = run(env, "--db", store, "config", "import", tmp_path / "empty.yaml", ok=False)
    assert missing.returncode == 2 and "empty.yaml" in missing.stderr
    (tmp_path / "empty.yaml").write_text("version: 1\n")
    run(env, "--db", store, "config", "import", "--prune", tmp_path / "empty.yaml")
    assert json.loads(run(env, "--db", store, "--json", "teams").stdout) == []
    restored = json.loads(run(env, "--db", store, "--json", "restore", copy).stdout)
    assert Path(restored["safety_copy"]).exists()
    assert len(json.loads(run(env, "--db", store, "--json", "teams").stdout)) >= 4
    assert "replayed" in run(env, "--db", store, "db", "rebuild").stdout


def test_runbooks_show_versions_and_search(env: dict[str, str], tmp_path: Path) -> None:
    books = json.loads(run(env, "--demo", "--json", "runbooks").stdout)
    assert len(books) >= 4
    key = books[0]["id"]
    shown = run(env, "--demo", "runbooks", key).stdout
    assert shown.startswith(f"# {books[0]['title']}  (version 1)")
    hits = json.loads(run(env, "--demo", "--json", "runbooks", "--search", "evidence").stdout)
    assert any("intrusion" in h["id"] or "intrusion" in h["title"].lower() for h in hits)
    missing = run(env, "--demo", "runbooks", "no-such-runbook", ok=False)
    assert missing.returncode == 2 and "no runbook" in missing.stderr
