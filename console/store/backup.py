"""Backing up a live store and restoring one, with SQLite's online backup API."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from console.core.clock import Clock, SystemClock
from console.core.events import EventType, subject_of
from console.store import preflight
from console.store.db import BUSY_TIMEOUT_MS, Store
from console.store.errors import CorruptStore, NotAStore, ReadOnlyLocation, StoreError
from console.store.events import record
from console.store.migrations import known_names

_SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What a restore did.

    Attributes:
        safety_copy: Where the store's previous content was kept (None: there was none).
        events: How many events the restored log holds, not counting the restore's own.
    """

    safety_copy: Path | None
    events: int


def backup(store: Store, dest: Path, *, overwrite: bool = False) -> Path:
    """Write a consistent one-file copy of a live store to ``dest``.

    Other connections and processes may keep writing meanwhile: the copy is one read
    snapshot. It is written beside ``dest``, checked, synced and then renamed into place, so
    ``dest`` is either absent, the old file or the whole new copy.

    Args:
        store: The open store to copy.
        dest: The backup file to create.
        overwrite: Replace ``dest`` if it exists (otherwise that is refused).

    Returns:
        ``dest``.

    Raises:
        StoreError: ``dest`` exists, is the store itself, or its folder is missing or not
            writable.
    """
    dest = Path(dest).expanduser()
    if dest.resolve() == store.path.resolve():
        raise StoreError(f"backup {dest}: that is the store itself; choose another file")
    return _copy_store(store.path, dest, overwrite=overwrite)


def restore(store_path: Path, source: Path, clock: Clock | None = None) -> RestoreResult:
    """Replace the store at ``store_path`` with the content of the store file ``source``.

    The source is checked first (refusals leave both files untouched). The current store,
    if any, is kept as ``<store>.before-restore-<UTC time>``; the source is then copied in
    with SQLite's backup API, so a process reading the store meanwhile sees either the old
    or the new content. The result is opened (which migrates an older schema) and the
    restore is recorded as an event.

    Args:
        store_path: The store to replace (it may not exist yet).
        source: A backup or another oncall-console store.
        clock: Time for the safety copy's name and the event (default: the system clock).

    Returns:
        The safety copy's path and the restored log's event count.

    Raises:
        StoreRefused: ``source`` (NotAStore, NewerSchema, CorruptStore) or ``store_path``
            (NotAStore, NewerSchema, ReadOnlyLocation) cannot be used.
        StoreError: The copy itself failed.
    """
    store_path = Path(store_path).expanduser()
    source = Path(source).expanduser()
    clock = clock or SystemClock()
    _check_source(source)
    if store_path.exists() and source.resolve() == store_path.resolve():
        raise StoreError(f"restore {source}: that is the store itself; give a backup file")
    damaged = False
    try:
        found = preflight.check(store_path, known_names())
        exists = found.exists
    except CorruptStore:
        # A damaged store is the usual reason to restore: keep its raw bytes and go on.
        damaged = exists = True
    safety = _safety_copy(store_path, clock, damaged=damaged) if exists else None
    _copy_into(source, store_path, safety)
    with Store.open(store_path, clock) as store, store.transaction() as db:
        count = int(db.execute("SELECT COUNT(*) FROM events").fetchone()[0])
        payload = {
            "source": str(source.resolve()),
            "safety_copy": None if safety is None else str(safety),
            "events": count,
        }
        record(store, EventType.STORE_RESTORED, subject_of("store", "restore"), payload, db=db)
    return RestoreResult(safety_copy=safety, events=count)


def _check_source(source: Path) -> None:
    if not source.exists():
        raise NotAStore(source, "does not exist; give an oncall-console backup or store file")
    if source.is_file() and source.stat().st_size == 0:
        raise NotAStore(source, "is empty; give an oncall-console backup or store file")
    try:
        found = preflight.check(source, known_names())
    except ReadOnlyLocation:
        # Only the location was refused (every content check passed first): a backup on
        # read-only media is a fine source, since it is only read.
        return
    if not found.exists or not found.applied:
        raise NotAStore(source, "is empty; give an oncall-console backup or store file")


def _copy_store(source: Path, dest: Path, *, overwrite: bool) -> Path:
    """Copy the database at ``source`` into a new self-contained file at ``dest``."""
    _check_dest(dest, overwrite=overwrite)
    tmp = _temp_beside(dest)
    try:
        src = preflight.connect_readonly(source)
        try:
            _snapshot(src, tmp)
        finally:
            src.close()
        _fsync(tmp)
        _publish(tmp, dest, overwrite=overwrite)
    finally:
        for name in (tmp, *(tmp.with_name(tmp.name + s) for s in _SIDE_FILES)):
            name.unlink(missing_ok=True)
    _fsync(dest.parent)
    return dest


def _snapshot(src: sqlite3.Connection, tmp: Path) -> None:
    dst = sqlite3.connect(str(tmp), isolation_level=None)
    try:
        # One step (pages=-1) copies a single read snapshot: writers elsewhere go on.
        src.backup(dst)
        # A WAL-mode copy would need its -wal file beside it; a backup is one file.
        dst.execute("PRAGMA journal_mode = DELETE")
        verdict = dst.execute("PRAGMA integrity_check(1)").fetchone()[0]
        if verdict != "ok":
            raise StoreError(f"backup {tmp}: the copy fails SQLite's integrity check: {verdict}")
    except sqlite3.Error as exc:
        raise StoreError(f"backup: SQLite could not copy the store ({exc})") from exc
    finally:
        dst.close()


def _check_dest(dest: Path, *, overwrite: bool) -> None:
    if dest.is_dir():
        raise StoreError(f"backup {dest}: is a folder; give the name of the file to write")
    if dest.exists() and not overwrite:
        raise StoreError(f"backup {dest}: already exists; choose another name or overwrite it")
    if not dest.parent.is_dir():
        raise StoreError(f"backup {dest}: the folder {dest.parent} does not exist")


def _temp_beside(dest: Path) -> Path:
    try:
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    except OSError as exc:
        raise StoreError(
            f"backup {dest}: cannot write in {dest.parent} ({exc.strerror or exc})"
        ) from exc
    os.close(fd)
    return Path(name)


def _publish(tmp: Path, dest: Path, *, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, dest)
        return
    try:
        # A hard link never replaces an existing file, even one created a moment ago.
        os.link(tmp, dest)
    except FileExistsError as exc:
        raise StoreError(f"backup {dest}: already exists; choose another name") from exc
    except OSError:
        # Some filesystems have no hard links.
        if dest.exists():
            raise StoreError(f"backup {dest}: already exists; choose another name") from None
        os.replace(tmp, dest)


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # folders cannot be opened on every platform; the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _free_name(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def _safety_copy(store_path: Path, clock: Clock, *, damaged: bool) -> Path:
    stamp = clock.now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    dest = _free_name(store_path.with_name(f"{store_path.name}.before-restore-{stamp}"))
    if not damaged:
        return _copy_store(store_path, dest, overwrite=False)
    # SQLite may not be able to read a damaged store: keep its bytes (and its log) as they are.
    for suffix in ("", "-wal"):
        if store_path.with_name(store_path.name + suffix).exists():
            shutil.copy2(
                store_path.with_name(store_path.name + suffix),
                dest.with_name(dest.name + suffix),
            )
    return dest


def _copy_into(source: Path, store_path: Path, safety: Path | None) -> None:
    store_path.parent.mkdir(parents=True, exist_ok=True)
    kept = f"; the previous store is kept at {safety}" if safety else ""
    try:
        src = preflight.connect_readonly(source)
        try:
            dst = sqlite3.connect(
                str(store_path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
            try:
                # Written as one transaction on the store: readers see old or new content.
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise StoreError(f"restore {source} into {store_path} failed ({exc}){kept}") from exc
