"""Backups of a live store and restores: consistent, atomic, refused when they would hurt."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from console.core.clock import FakeClock
from console.core.enums import EntityKind
from console.core.events import EventType
from console.store import backup, entities, estate, events, preflight
from console.store.db import Store
from console.store.errors import CorruptStore, NewerSchema, NotAStore, StoreError
from console.store.migrations import known_names

from tests.unit.store import sample
from tests.unit.store.conftest import (
    batch_counts,
    child_env,
    run_in_read_only_folder,
    start_writer,
)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def integrity(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def open_copy(path: Path, tmp_path: Path, name: str = "copy.db") -> Store:
    """Open a copy of ``path`` (never the file itself, so it stays as it was)."""
    target = tmp_path / name
    shutil.copyfile(path, target)
    return Store.open(target, FakeClock())


# -- backup ---------------------------------------------------------------------------


def test_a_backup_is_one_checked_file_holding_the_whole_store(store: Store, tmp_path: Path) -> None:
    sample.basic(store)
    entities.save(store, sample.runbook("restart", "Restart it twice.", "api"))
    dest = tmp_path / "backups" / "monday.db"
    dest.parent.mkdir()
    assert backup.backup(store, dest) == dest
    assert sorted(p.name for p in dest.parent.iterdir()) == ["monday.db"]
    assert integrity(dest) == "ok"
    conn = sqlite3.connect(dest)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    conn.close()
    with open_copy(dest, tmp_path) as copy:
        assert estate.load(copy.read()) == estate.load(store.read())
        assert list(events.iter_events(copy.read())) == list(events.iter_events(store.read()))
        assert len(estate.runbook_versions(copy.read(), "restart")) == 2


def test_a_backup_refuses_an_existing_file_unless_told(store: Store, tmp_path: Path) -> None:
    sample.basic(store)
    dest = tmp_path / "backup.db"
    dest.write_text("precious")
    with pytest.raises(StoreError, match="already exists"):
        backup.backup(store, dest)
    assert dest.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.db", "store.db", *_side(store)]
    backup.backup(store, dest, overwrite=True)
    assert integrity(dest) == "ok"


def _side(store: Store) -> list[str]:
    return sorted(p.name for p in store.path.parent.iterdir() if p.name.startswith("store.db-"))


@pytest.mark.parametrize(
    ("name", "message"),
    [("missing/backup.db", "does not exist"), ("folder", "is a folder"), ("store.db", "itself")],
)
def test_a_backup_to_an_unusable_place_is_a_clear_error(
    store: Store, tmp_path: Path, name: str, message: str
) -> None:
    (tmp_path / "folder").mkdir()
    with pytest.raises(StoreError, match=message):
        backup.backup(store, tmp_path / name)
    assert not (tmp_path / "missing").exists()


_BACKUP_INTO = """
from console.core.clock import FakeClock
from console.store import backup
from console.store.db import Store
from console.store.errors import StoreError
with Store.open(Path(sys.argv[2]), FakeClock()) as store:
    try:
        backup.backup(store, Path(sys.argv[1]) / "backup.db")
        out = {"written": True}
    except StoreError as exc:
        out = {"error": type(exc).__name__, "message": str(exc)}
print(json.dumps(out))
"""


def test_a_backup_into_a_read_only_folder_is_a_clear_error(
    store_path: Path, tmp_path: Path
) -> None:
    with Store.open(store_path, FakeClock()) as store:
        sample.basic(store)
    folder = tmp_path / "ro"
    folder.mkdir()
    result = run_in_read_only_folder(folder, _BACKUP_INTO, str(store_path))
    assert result["error"] == "StoreError", result
    assert "cannot write" in result["message"]
    assert list(folder.iterdir()) == []


def test_a_backup_while_another_process_writes_is_a_consistent_snapshot(
    store: Store, tmp_path: Path
) -> None:
    stop = tmp_path / "stop"
    writer = start_writer(store.path, 0, 50, -1, stop)
    assert writer.stdout is not None
    try:
        assert writer.stdout.readline().strip() == "ready"
        seen: list[int] = []
        for n in range(6):
            # Each backup starts once the writer has written more.
            line = ""
            while not line.startswith("commit"):
                line = writer.stdout.readline()
                assert line, "the writer stopped"
            dest = backup.backup(store, tmp_path / f"b{n}.db")
            assert integrity(dest) == "ok"
            conn = sqlite3.connect(dest)
            written, rows = batch_counts(conn)
            conn.close()
            assert written == rows
            assert all(count == 50 for count in written.values()), written
            assert sorted(written) == list(range(len(written)))
            seen.append(len(written))
    finally:
        stop.touch()
        # Not communicate(): it would skip what readline() already buffered.
        rest = writer.stdout.read()
        writer.wait(timeout=60)
        writer.stdout.close()
    assert writer.returncode == 0 and rest.rstrip().endswith("done")
    assert seen == sorted(seen) and seen[-1] > seen[0]


# -- restore --------------------------------------------------------------------------


def filled(path: Path, *emails: str) -> Path:
    with Store.open(path, FakeClock()) as store:
        sample.basic(store)
        for email in emails:
            entities.save(store, sample.member(email))
    return path


def test_restore_keeps_a_safety_copy_and_records_the_restore(
    store_path: Path, tmp_path: Path
) -> None:
    filled(store_path, "old@example.com")
    with Store.open(store_path, FakeClock()) as old:
        old_estate = estate.load(old.read())
    source = filled(tmp_path / "source.db", "new@example.com", "newer@example.com")
    with Store.open(source, FakeClock()) as src:
        source_estate = estate.load(src.read())
        source_events = list(events.iter_events(src.read()))
    clock = FakeClock()
    clock.advance(3723)

    result = backup.restore(store_path, source, clock)

    safety = tmp_path / "store.db.before-restore-20260101T010203Z"
    assert result == backup.RestoreResult(safety_copy=safety, events=len(source_events))
    with open_copy(safety, tmp_path, "safety.db") as kept:
        assert estate.load(kept.read()) == old_estate
    with Store.open(store_path, FakeClock()) as restored:
        assert estate.load(restored.read()) == source_estate
        log = list(events.iter_events(restored.read()))
    assert log[:-1] == source_events
    assert log[-1].type is EventType.STORE_RESTORED
    assert log[-1].recorded_time == clock.now()
    assert dict(log[-1].payload) == {
        "source": str(source.resolve()),
        "safety_copy": str(safety),
        "events": len(source_events),
    }


def test_restoring_twice_in_one_second_keeps_both_safety_copies(
    store_path: Path, tmp_path: Path
) -> None:
    filled(store_path)
    source = filled(tmp_path / "source.db", "new@example.com")
    clock = FakeClock()
    first = backup.restore(store_path, source, clock)
    second = backup.restore(store_path, source, clock)
    assert first.safety_copy is not None and second.safety_copy is not None
    assert first.safety_copy != second.safety_copy
    assert first.safety_copy.exists() and second.safety_copy.exists()


def test_restore_into_a_missing_store_has_no_safety_copy(tmp_path: Path) -> None:
    source = filled(tmp_path / "source.db", "new@example.com")
    target = tmp_path / "new" / "store.db"
    result = backup.restore(target, source)
    assert result.safety_copy is None
    with Store.open(target, FakeClock()) as restored:
        assert "new@example.com" in {m.email for m in estate.members(restored.read())}


def test_restore_from_a_backup_file_round_trips(store_path: Path, tmp_path: Path) -> None:
    filled(store_path, "before@example.com")
    with Store.open(store_path, FakeClock()) as store:
        saved = backup.backup(store, tmp_path / "saved.db")
        expected = estate.load(store.read())
        entities.delete(store, EntityKind.MEMBER, "before@example.com")
    backup.restore(store_path, saved)
    with Store.open(store_path, FakeClock()) as store:
        assert estate.load(store.read()) == expected


def test_restore_refuses_a_newer_source_and_touches_neither_file(
    store_path: Path, tmp_path: Path
) -> None:
    filled(store_path)
    source = filled(tmp_path / "future.db")
    conn = sqlite3.connect(source)
    with conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('oncall-console', 'm999_from_the_future', 'later')"
        )
    conn.close()
    before = {p.name: digest(p) for p in tmp_path.iterdir()}
    with pytest.raises(NewerSchema, match="m999_from_the_future"):
        backup.restore(store_path, source)
    assert {p.name: digest(p) for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize(
    "content", [None, b"", b"not a database"], ids=["missing", "empty", "text"]
)
def test_restore_refuses_a_source_that_is_not_a_store(
    store_path: Path, tmp_path: Path, content: bytes | None
) -> None:
    filled(store_path)
    source = tmp_path / "source.db"
    if content is not None:
        source.write_bytes(content)
    before = {p.name: digest(p) for p in tmp_path.iterdir()}
    with pytest.raises(NotAStore):
        backup.restore(store_path, source)
    assert {p.name: digest(p) for p in tmp_path.iterdir()} == before


_RESTORE_FROM = """
from console.store import backup
from console.store.errors import StoreError
try:
    result = backup.restore(Path(sys.argv[2]), Path(sys.argv[1]) / sys.argv[3])
    out = {"events": result.events}
except StoreError as exc:
    out = {"error": type(exc).__name__, "message": str(exc)}
print(json.dumps(out))
"""


def test_restore_reads_a_backup_on_read_only_media(store_path: Path, tmp_path: Path) -> None:
    filled(store_path)
    media = tmp_path / "media"
    media.mkdir()
    with Store.open(filled(tmp_path / "other.db", "new@example.com"), FakeClock()) as other:
        backup.backup(other, media / "backup.db")
        expected = estate.load(other.read())
    (media / "empty.db").touch()
    before = {p.name: digest(p) for p in media.iterdir()}

    restored = run_in_read_only_folder(media, _RESTORE_FROM, str(store_path), "backup.db")
    refused = run_in_read_only_folder(media, _RESTORE_FROM, str(store_path), "empty.db")

    assert "events" in restored, restored
    assert refused["error"] == "NotAStore" and "empty" in refused["message"]
    assert {p.name: digest(p) for p in media.iterdir()} == before
    with Store.open(store_path, FakeClock()) as store:
        assert estate.load(store.read()) == expected


def test_restore_over_a_damaged_store_keeps_its_bytes(store_path: Path, tmp_path: Path) -> None:
    filled(store_path, *(f"u{i}@example.com" for i in range(200)))
    with store_path.open("r+b") as handle:
        handle.seek(store_path.stat().st_size // 2)
        handle.write(bytes(range(256)) * 64)
    damaged = digest(store_path)
    with pytest.raises(CorruptStore):
        Store.open(store_path, FakeClock())
    source = filled(tmp_path / "source.db", "new@example.com")

    result = backup.restore(store_path, source)

    assert result.safety_copy is not None and digest(result.safety_copy) == damaged
    assert integrity(store_path) == "ok"
    with Store.open(store_path, FakeClock()) as store:
        assert "new@example.com" in {m.email for m in estate.members(store.read())}


_READER = """
import sys, time
from pathlib import Path
from console.store.db import Store
store = Store.open(Path(sys.argv[1]))
db = store.read()
print("ready", flush=True)
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    row = db.execute(
        "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM members)"
    ).fetchone()
    print(row[0], row[1], flush=True)
    if row[0] == int(sys.argv[2]):
        break
store.close()
"""


def test_a_running_reader_sees_the_old_or_the_new_store_never_a_mix(
    store_path: Path, tmp_path: Path
) -> None:
    filled(store_path, *(f"old{i}@example.com" for i in range(30)))
    source = filled(tmp_path / "source.db", *(f"new{i}@example.com" for i in range(90)))
    counts = {}
    for path in (store_path, source):
        conn = sqlite3.connect(path)
        counts[path] = conn.execute(
            "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM members)"
        ).fetchone()
        conn.close()
    old, new = counts[store_path], counts[source]
    final = (new[0] + 1, new[1])  # the restore records one event
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(store_path), str(final[0])],
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    assert reader.stdout is not None
    assert reader.stdout.readline().strip() == "ready"
    assert reader.stdout.readline().split() == [str(old[0]), str(old[1])]
    backup.restore(store_path, source)
    out = reader.stdout.read()
    reader.wait(timeout=60)
    reader.stdout.close()
    assert reader.returncode == 0
    seen = {tuple(int(x) for x in line.split()) for line in out.splitlines()}
    assert final in seen
    assert seen <= {old, new, final}


def test_preflight_accepts_what_backup_and_restore_leave(store_path: Path, tmp_path: Path) -> None:
    filled(store_path)
    with Store.open(store_path, FakeClock()) as store:
        dest = backup.backup(store, tmp_path / "b.db")
    assert preflight.check(dest, known_names()).applied == known_names()
