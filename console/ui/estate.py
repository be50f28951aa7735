"""The EstateModel: the configured estate, loaded and written on the worker, watched for change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from console.core.enums import EntityKind
from console.core.models import Estate, PriorityMatrix
from console.core.references import Record
from console.store import entities, events
from console.store import estate as estate_store
from console.store.db import Store
from console.ui.tasks import TaskRunner

POLL_MS = 1000


class Job(QObject):
    """One piece of work on the store; exactly one of its signals fires, once."""

    succeeded = Signal(object)
    failed = Signal(object)


# The store's read connection (a sqlite_utils Database), handed to store functions only;
# typed loosely so that this module does not import the SQLite layer.
ReadDb = Any


def _snapshot(store: Store) -> tuple[tuple[int, int], Estate]:
    """Read the whole estate inside one read transaction, so it is a consistent snapshot."""
    with store.snapshot() as db:
        return _version(store), estate_store.load(db)


def _version(store: Store) -> tuple[int, int]:
    """``PRAGMA data_version`` (any commit) and the newest event (a change to the estate).

    An engine commits samples every second: only a new event can have changed the estate.
    """
    return store.data_version(), events.last_seq(store.read())


class EstateModel(QObject):
    """Holds the current Estate; every view of configuration subscribes to ``changed``."""

    #: The estate was (re)loaded; read :attr:`estate`.
    changed = Signal()
    #: Loading failed; the argument is a message for people.
    loadFailed = Signal(str)

    def __init__(self, store: Store, runner: TaskRunner, parent: QObject | None = None) -> None:
        """Wrap ``store``; nothing is read until :meth:`reload` or :meth:`start_watching`."""
        super().__init__(parent)
        self.store = store
        self.estate = Estate()
        self.loaded = False
        self._runner = runner
        self._version: tuple[int, int] | None = None
        self._loading = False
        self._reload_again = False
        self._polling = False
        self._waiting_next: list[Callable[[], None]] = []
        self._waiting_current: list[Callable[[], None]] = []
        self._jobs: set[Job] = set()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    @property
    def runner(self) -> TaskRunner:
        """The store worker this model uses (chart sources read history through it too)."""
        return self._runner

    # -- loading ---------------------------------------------------------------------

    def reload(self, then: Callable[[], None] | None = None) -> None:
        """Load the estate again; ``then`` runs after a load that started after this call."""
        if then is not None:
            self._waiting_next.append(then)
        if self._loading:
            self._reload_again = True
            return
        self._start_load()

    def start_watching(self) -> None:
        """Load now, then reload whenever the store changes (checked every second)."""
        self.reload()
        self._timer.start()

    def stop_watching(self) -> None:
        """Stop checking the store for changes."""
        self._timer.stop()

    def _start_load(self) -> None:
        self._loading = True
        self._reload_again = False
        self._waiting_current, self._waiting_next = self._waiting_next, []
        store = self.store
        self._runner.submit(lambda: _snapshot(store), self._on_loaded, self._on_load_failed)

    def _on_loaded(self, result: tuple[tuple[int, int], Estate]) -> None:
        self._version, self.estate = result
        self.loaded = True
        self._finish_load()
        self.changed.emit()
        self._run_waiters()

    def _on_load_failed(self, exc: BaseException) -> None:
        self._finish_load()
        self.loadFailed.emit(f"Could not read the store: {exc}")
        self._run_waiters()

    def _finish_load(self) -> None:
        self._loading = False

    def _run_waiters(self) -> None:
        waiters, self._waiting_current = self._waiting_current, []
        if self._reload_again:
            self._start_load()
        for waiter in waiters:
            waiter()

    def _poll(self) -> None:
        if self._loading or self._polling:
            return
        self._polling = True
        store = self.store
        self._runner.submit(lambda: _version(store), self._on_polled, self._poll_failed)

    def _on_polled(self, version: tuple[int, int]) -> None:
        self._polling = False
        if self._loading or version == self._version:
            return
        if self._version is None or version[1] != self._version[1]:
            self.reload()
        else:  # commits without events (samples, settings): the estate is the same
            self._version = version

    def _poll_failed(self, exc: BaseException) -> None:
        self._polling = False
        self.loadFailed.emit(f"Could not check the store for changes: {exc}")

    # -- writing and querying --------------------------------------------------------

    def save(self, record: Record) -> Job:
        """Create or update one record; ``succeeded`` fires once the estate shows it."""
        store = self.store
        return self._write(lambda: entities.save(store, record))

    def delete(self, kind: EntityKind, key: str) -> Job:
        """Delete one record; ``failed`` carries a StoreConflict while it is still in use."""
        store = self.store
        return self._write(lambda: entities.delete(store, kind, key))

    def set_priority_matrix(self, matrix: PriorityMatrix) -> Job:
        """Replace the priority matrix."""
        store = self.store
        return self._write(lambda: entities.set_priority_matrix(store, matrix))

    def query(self, fn: Callable[[ReadDb], Any]) -> Job:
        """Run a read-only ``fn(db)`` on the worker's read connection."""
        job = self._new_job()
        store = self.store
        self._runner.submit(
            lambda: fn(store.read()),
            lambda result: self._finish(job, job.succeeded, result),
            lambda exc: self._finish(job, job.failed, exc),
        )
        return job

    def call(self, fn: Callable[[], Any]) -> Job:
        """Run ``fn()`` on the worker: work that is not a store read (listing time zones)."""
        job = self._new_job()
        self._runner.submit(
            fn,
            lambda result: self._finish(job, job.succeeded, result),
            lambda exc: self._finish(job, job.failed, exc),
        )
        return job

    def _write(self, fn: Callable[[], Any]) -> Job:
        job = self._new_job()

        def written(result: object) -> None:
            self.reload(lambda: self._finish(job, job.succeeded, result))

        self._runner.submit(fn, written, lambda exc: self._finish(job, job.failed, exc))
        return job

    def _new_job(self) -> Job:
        job = Job(self)
        self._jobs.add(job)
        return job

    def _finish(self, job: Job, signal: Any, value: object) -> None:
        self._jobs.discard(job)
        signal.emit(value)
        job.deleteLater()
