"""Preflight refuses every unusable file with a clear reason and leaves it byte-for-byte alone."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from console.core.clock import FakeClock
from console.store import entities, preflight
from console.store.db import Store
from console.store.errors import (
    CorruptStore,
    NewerSchema,
    NotAStore,
    ReadOnlyLocation,
    StoreRefused,
)
from console.store.migrations import known_names

from tests.unit.store import sample
from tests.unit.store.conftest import run_in_read_only_folder

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


def _check(path: Path) -> None:
    preflight.check(path, known_names())


def _open(path: Path) -> None:
    Store.open(path, FakeClock()).close()


OPENERS = [pytest.param(_check, id="preflight.check"), pytest.param(_open, id="Store.open")]


@pytest.fixture(params=OPENERS)
def opener(request: pytest.FixtureRequest) -> Callable[[Path], None]:
    """Each refusal is checked through preflight alone and through Store.open."""
    result: Callable[[Path], None] = request.param
    return result


def fingerprint(path: Path) -> tuple[Any, ...]:
    """Content hash and mtime of a file (or None for a folder), and what lies beside it."""
    listing = sorted(p.name for p in path.parent.iterdir())
    if path.is_dir():
        return ("dir", path.stat().st_mtime_ns, sorted(p.name for p in path.iterdir()), listing)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return (digest, path.stat().st_mtime_ns, path.stat().st_size, listing)


def refuse(opener: Callable[[Path], None], path: Path, error: type[StoreRefused]) -> str:
    """Assert that opening ``path`` raises ``error`` and changes nothing; the message."""
    before = fingerprint(path)
    with pytest.raises(error) as caught:
        opener(path)
    assert type(caught.value) is error
    assert fingerprint(path) == before
    assert not any(path.with_name(path.name + s).exists() for s in ("-wal", "-shm", "-journal"))
    return str(caught.value)


def filled_store(path: Path, members: int = 200) -> Path:
    """A closed store with enough events to span many pages."""
    with Store.open(path, FakeClock()) as store:
        sample.basic(store)
        for i in range(members):
            entities.save(store, sample.member(f"user{i}@example.com", f"User number {i}"))
    return path


def test_newer_schema_is_refused_naming_the_unknown_change(
    store_path: Path, opener: Callable[[Path], None]
) -> None:
    filled_store(store_path, members=3)
    conn = sqlite3.connect(store_path)
    with conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES (?, ?, ?)",
            ("oncall-console", "m999_from_the_future", "2030-01-01 00:00:00"),
        )
    conn.close()
    message = refuse(opener, store_path, NewerSchema)
    assert "m999_from_the_future" in message
    assert "newer oncall-console" in message


@pytest.mark.parametrize(
    "content",
    [b"teams:\n  - id: noc\n", PNG, b"SQLite format 2\x00" + bytes(100)],
    ids=["text", "png", "almost-sqlite"],
)
def test_a_file_that_is_not_sqlite_is_not_a_store(
    store_path: Path, opener: Callable[[Path], None], content: bytes
) -> None:
    store_path.write_bytes(content)
    assert "not a SQLite database" in refuse(opener, store_path, NotAStore)


def test_another_programs_database_is_not_a_store(
    store_path: Path, opener: Callable[[Path], None]
) -> None:
    conn = sqlite3.connect(store_path)
    with conn:
        conn.execute("CREATE TABLE bookmarks (url TEXT, title TEXT)")
        conn.execute("INSERT INTO bookmarks VALUES ('https://example.com', 'Example')")
    conn.close()
    assert "another program" in refuse(opener, store_path, NotAStore)


def test_a_database_with_other_migrations_only_is_not_a_store(
    store_path: Path, opener: Callable[[Path], None]
) -> None:
    conn = sqlite3.connect(store_path)
    with conn:
        conn.execute(
            "CREATE TABLE _sqlite_migrations (id INTEGER PRIMARY KEY, migration_set TEXT, "
            "name TEXT, applied_at TEXT)"
        )
        conn.execute("INSERT INTO _sqlite_migrations VALUES (1, 'some-other-app', 'm001', 'x')")
    conn.close()
    refuse(opener, store_path, NotAStore)


def test_damaged_pages_are_a_corrupt_store(
    store_path: Path, opener: Callable[[Path], None]
) -> None:
    # Enough data that the middle third of the file is data, not the empty root pages of the
    # tables each migration adds (a garbled empty page is not damage SQLite can see).
    filled_store(store_path, members=600)
    size = store_path.stat().st_size
    page = 4096
    assert size >= 20 * page
    with store_path.open("r+b") as handle:
        for n in range(size // page // 3, size // page * 2 // 3, 2):
            handle.seek(n * page + 100)
            handle.write(bytes(range(256)) * 8)
    assert "damaged" in refuse(opener, store_path, CorruptStore)


def test_a_truncated_store_is_corrupt(store_path: Path, opener: Callable[[Path], None]) -> None:
    filled_store(store_path)
    with store_path.open("r+b") as handle:
        handle.truncate(store_path.stat().st_size // 2 + 123)
    refuse(opener, store_path, CorruptStore)


def test_a_store_with_a_destroyed_header_is_not_a_store(
    store_path: Path, opener: Callable[[Path], None]
) -> None:
    filled_store(store_path, members=10)
    with store_path.open("r+b") as handle:
        handle.write(b"\xff" * 100)
    refuse(opener, store_path, NotAStore)


def test_a_directory_is_not_a_store(tmp_path: Path, opener: Callable[[Path], None]) -> None:
    folder = tmp_path / "store.db"
    folder.mkdir()
    (folder / "inside.txt").write_text("x")
    assert "directory" in refuse(opener, folder, NotAStore)


def test_an_empty_file_is_a_new_store(store_path: Path) -> None:
    store_path.touch()
    found = preflight.check(store_path, known_names())
    assert (found.exists, found.applied) == (False, ())
    with Store.open(store_path, FakeClock()) as store:
        sample.basic(store)
    assert preflight.check(store_path, known_names()).applied == known_names()


def test_a_missing_file_in_missing_folders_is_a_new_store(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "store.db"
    found = preflight.check(path, known_names())
    assert (found.exists, found.applied) == (False, ())
    assert not path.parent.exists()
    with Store.open(path, FakeClock()) as store:
        sample.basic(store)
    assert preflight.check(path, known_names()) == preflight.Preflight(path, True, known_names())


def test_checking_a_closed_store_leaves_no_files_beside_it(store_path: Path) -> None:
    filled_store(store_path, members=3)
    before = fingerprint(store_path)
    assert preflight.check(store_path, known_names()).applied == known_names()
    assert fingerprint(store_path) == before


# -- read-only locations --------------------------------------------------------------

_OPEN = """
from console.core.clock import FakeClock
from console.store.db import Store
from console.store.errors import StoreRefused
try:
    Store.open(Path(sys.argv[2]), FakeClock()).close()
    out = {"opened": True}
except StoreRefused as exc:
    out = {"error": type(exc).__name__, "message": str(exc)}
print(json.dumps(out))
"""


def open_in_read_only_folder(folder: Path, path: Path) -> dict[str, Any]:
    """Try Store.open(path) in a child process that cannot write inside ``folder``."""
    return run_in_read_only_folder(folder, _OPEN, str(path))


def test_the_read_only_folder_is_really_read_only_for_the_child(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    result = run_in_read_only_folder(folder, "print(json.dumps({'probed': True}))")
    assert result == {"probed": True}
    # Outside that child the folder stays writable: nothing leaked out of its namespace.
    (folder / "probe").write_text("x")
    assert sorted(p.name for p in folder.iterdir()) == ["probe"]


def test_an_existing_store_in_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = filled_store(folder / "store.db", members=3)
    before = fingerprint(path)
    result = open_in_read_only_folder(folder, path)
    assert result.get("error") == ReadOnlyLocation.__name__, result
    assert "read-only" in result["message"]
    assert fingerprint(path) == before


def test_a_new_store_in_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "sub" / "store.db"
    result = open_in_read_only_folder(folder, path)
    assert result.get("error") == ReadOnlyLocation.__name__, result
    assert sorted(folder.iterdir()) == []
