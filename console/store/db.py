"""The Store: preflight, connections, the single writer and short transactions.

One writer connection per process, serialised by a lock, with ``BEGIN IMMEDIATE`` so that
other processes (the CLI beside the GUI, a headless engine) queue on SQLite's busy timeout
instead of failing half-way. Readers use their own read-only connections, one per thread.
"""

from __future__ import annotations

import getpass
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from console.core.clock import Clock, SystemClock
from console.store import preflight
from console.store.errors import CorruptStore, ReadOnlyLocation, StoreRefused
from console.store.migrations import known_names, migrations

BUSY_TIMEOUT_MS = 10_000
SETTING_CONSOLE_ID = "console_id"
SETTING_IDENTITY = "identity"


def _connect(target: str, *, uri: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(
        target,
        uri=uri,
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
        check_same_thread=False,
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


class Store:
    """An open store. Create with :meth:`open`; close when done (or use ``with``)."""

    def __init__(self, path: Path, conn: sqlite3.Connection, clock: Clock) -> None:
        """Wrap a configured writer connection and bring its schema up to date."""
        self.path = path
        self.clock = clock
        self._conn = conn
        self._db = Database(conn)
        self._lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._actor_override: str | None = None
        self._os_user = f"local:{getpass.getuser()}"
        # The actor, resolved once per write transaction (by the thread that owns it).
        self._tx_owner: int | None = None
        self._tx_actor: str | None = None
        with self.transaction() as db:
            migrations.apply(db)
        self.console_id = self._ensure_console_id()

    @classmethod
    def open(cls, path: Path, clock: Clock | None = None) -> Store:
        """Check, open, configure and migrate the store at ``path``."""
        path = Path(path).expanduser()
        preflight.check(path, known_names())
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = _connect(str(path))
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise StoreRefused(path, f"cannot use write-ahead logging (journal mode {mode})")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.OperationalError as exc:
            if "readonly" in str(exc) or "read-only" in str(exc):
                raise ReadOnlyLocation(path, f"cannot be written ({exc})") from exc
            raise CorruptStore(path, f"cannot be opened ({exc})") from exc
        return cls(path, conn, clock or SystemClock())

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._lock:
            for reader in self._readers:
                reader.close()
            self._readers.clear()
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """The one way to write: a short ``BEGIN IMMEDIATE`` transaction on the writer."""
        with self._lock:
            if self._conn.in_transaction:  # nested use within the same writer: one transaction
                yield self._db
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._tx_owner, self._tx_actor = threading.get_ident(), None
            try:
                yield self._db
            except BaseException:
                self._rollback()
                raise
            finally:
                self._tx_owner = self._tx_actor = None
            self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        # An error such as SQLITE_FULL may already have ended the transaction.
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def read(self) -> Database:
        """A read-only connection for the calling thread (it sees every committed write)."""
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            conn = _connect(preflight.readonly_uri(self.path), uri=True)
            with self._lock:
                self._readers.append(conn)
            db = Database(conn)
            self._local.db = db
        return db

    def data_version(self) -> int:
        """A number that changes whenever another connection commits (our writer included).

        It belongs to this thread's reader connection: compare values read on one thread.
        """
        return int(self.read().execute("PRAGMA data_version").fetchone()[0])

    @contextmanager
    def snapshot(self) -> Iterator[Database]:
        """A read transaction on this thread's reader: all reads inside see one state."""
        db = self.read()
        db.execute("BEGIN")
        try:
            yield db
        finally:
            db.execute("COMMIT")

    # -- settings and identity -------------------------------------------------------

    def setting(self, key: str) -> str | None:
        """A stored setting's value."""
        row = self.read().execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str | None) -> None:
        """Store (or with None, remove) a setting."""
        with self.transaction() as db:
            if value is None:
                db.execute("DELETE FROM settings WHERE key = ?", [key])
            else:
                db.execute(
                    "INSERT INTO settings (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [key, value],
                )

    def _ensure_console_id(self) -> str:
        with self.transaction() as db:
            row = db.execute(
                "SELECT value FROM settings WHERE key = ?", [SETTING_CONSOLE_ID]
            ).fetchone()
            if row is not None:
                return str(row[0])
            console_id = str(uuid.uuid4())
            db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?)", [SETTING_CONSOLE_ID, console_id]
            )
            return console_id

    def act_as(self, email: str | None) -> None:
        """Record the following actions as ``email`` (the global ``--as`` option)."""
        self._actor_override = email

    @property
    def identity(self) -> str | None:
        """The local identity setting: which member this console belongs to."""
        return self.setting(SETTING_IDENTITY)

    @property
    def actor(self) -> str:
        """Who the next recorded action is attributed to."""
        if self._actor_override:
            return self._actor_override
        in_my_transaction = self._tx_owner == threading.get_ident()
        if in_my_transaction and self._tx_actor is not None:
            return self._tx_actor
        if in_my_transaction:
            row = self._conn.execute(
                "SELECT value FROM settings WHERE key = ?", [SETTING_IDENTITY]
            ).fetchone()
            self._tx_actor = str(row[0]) if row else self._os_user
            return self._tx_actor
        return self.identity or self._os_user
