"""Checks that run before anything writes to a store file (not even a PRAGMA).

Every refusal leaves the file byte-for-byte as it was: the only access is a read of the
header and a ``mode=ro`` connection that reads the schema and the migration record.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from console.store.errors import (
    CorruptStore,
    NewerSchema,
    NotAStore,
    ReadOnlyLocation,
    StoreRefused,
)

SQLITE_HEADER = b"SQLite format 3\x00"
MIGRATION_SET = "oncall-console"
MIGRATIONS_TABLE = "_sqlite_migrations"
#: Stores up to this size get a full quick_check at open (milliseconds for a config-sized
#: store); larger ones rely on the schema read and ``oncall-console db check``.
QUICK_CHECK_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Preflight:
    """What the checks found: a new file, or an existing store and its applied migrations."""

    path: Path
    exists: bool
    applied: tuple[str, ...]


def readonly_uri(path: Path) -> str:
    """A URI that opens ``path`` read-only, whatever characters its name holds."""
    return f"file:{quote(str(path.resolve()))}?mode=ro"


def check(path: Path, known_migrations: tuple[str, ...]) -> Preflight:
    """Refuse, with a reason, any file that is not a usable store for this version."""
    if path.is_dir():
        raise NotAStore(path, "is a directory; give the path of a store file")
    if not path.exists() or path.stat().st_size == 0:
        _check_writable_dir(path.parent if path.parent.exists() else _existing_parent(path))
        return Preflight(path, exists=False, applied=())
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreRefused(path, f"cannot be read ({exc.strerror})") from exc
    if header != SQLITE_HEADER:
        raise NotAStore(path, "is not a SQLite database (wrong file header)")
    applied = _read_applied(path)
    unknown = [name for name in applied if name not in known_migrations]
    if unknown:
        raise NewerSchema(
            path,
            "was written by a newer oncall-console (unknown schema changes: "
            + ", ".join(unknown)
            + "); upgrade oncall-console, or open another store with --db",
        )
    if not os.access(path, os.W_OK):
        raise ReadOnlyLocation(path, "is read-only; the console needs to write to its store")
    _check_writable_dir(path.parent)
    return Preflight(path, exists=True, applied=tuple(applied))


def _existing_parent(path: Path) -> Path:
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def _check_writable_dir(folder: Path) -> None:
    if not folder.is_dir():
        raise NotAStore(folder, "is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ReadOnlyLocation(
            folder, "folder is read-only; SQLite needs to create its journal files beside the store"
        )


def _read_applied(path: Path) -> list[str]:
    # An immutable read can be torn by a process that opens, writes and checkpoints the file
    # at that very moment; a second failure in a row is real damage.
    try:
        return _read_applied_once(path)
    except CorruptStore:
        return _read_applied_once(path)


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection to a store file that leaves nothing beside the file."""
    # A read-only connection to a WAL-mode file creates -wal and -shm files beside it and
    # cannot remove them. With neither a -wal nor a -journal file no process holds content
    # that is not in the file itself, so read the file alone, as immutable.
    uri = readonly_uri(path)
    if not any(path.with_name(path.name + suffix).exists() for suffix in ("-wal", "-journal")):
        uri += "&immutable=1"
    return sqlite3.connect(uri, uri=True)


def _read_applied_once(path: Path) -> list[str]:
    try:
        conn = connect_readonly(path)
    except sqlite3.Error as exc:
        raise CorruptStore(path, f"cannot be opened by SQLite ({exc})") from exc
    try:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if not tables:
            return []
        if MIGRATIONS_TABLE not in tables:
            raise NotAStore(
                path,
                "is a SQLite database of another program (no oncall-console schema record); "
                "give a new or an oncall-console store with --db",
            )
        rows = conn.execute(
            f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY rowid",
            (MIGRATION_SET,),
        ).fetchall()
        if not rows:
            raise NotAStore(path, "is a SQLite database without an oncall-console schema")
        if path.stat().st_size <= QUICK_CHECK_LIMIT:
            verdict = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
            if verdict != "ok":
                raise CorruptStore(path, f"is damaged: SQLite's quick_check says {verdict}")
        return [str(r[0]) for r in rows]
    except sqlite3.DatabaseError as exc:
        raise CorruptStore(path, f"is damaged: SQLite says {exc!s}") from exc
    finally:
        conn.close()
