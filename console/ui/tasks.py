"""Runs store work on one worker thread; results return to the UI thread as queued signals.

A single worker thread (not a pool) runs jobs in the order they were submitted and keeps
one read connection for the whole session, so ``PRAGMA data_version`` polls compare like
with like. It is a Python thread, not a QThread: PySide gives a QThread a fresh Python
thread state for every call into Python, which empties ``threading.local`` and would make
``Store.read()`` open a new connection for every job.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]
_Job = tuple[int, Callable[[], Any]] | None


class _Relay(QObject):
    """Lives on the UI thread; the worker emits through it, so delivery is queued."""

    finished = Signal(int, object)
    failed = Signal(int, object)


class TaskRunner(QObject):
    """Submit callables to the worker thread; callbacks run later on the UI thread."""

    #: Emitted whenever the last pending job has delivered its result.
    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        """Start the worker thread."""
        super().__init__(parent)
        self._next_id = 0
        self._pending: dict[int, tuple[Done, Failed | None]] = {}
        self._relay = _Relay(self)
        self._relay.finished.connect(self._on_finished)
        self._relay.failed.connect(self._on_failed)
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="store-worker", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            job_id, fn = job
            try:
                result = fn()
            except Exception as exc:  # every failure goes back to whoever submitted the job
                self._relay.failed.emit(job_id, exc)
                continue
            self._relay.finished.emit(job_id, result)

    @property
    def pending(self) -> int:
        """How many submitted jobs have not reported back yet."""
        return len(self._pending)

    def submit(self, fn: Callable[[], Any], on_done: Done, on_error: Failed | None = None) -> int:
        """Run ``fn()`` on the worker; ``on_done(result)`` or ``on_error(exc)`` follows here."""
        if not self._thread.is_alive():
            raise RuntimeError("the task runner has been shut down")
        self._next_id += 1
        self._pending[self._next_id] = (on_done, on_error)
        self._jobs.put((self._next_id, fn))
        return self._next_id

    def shutdown(self) -> None:
        """Let the jobs already queued finish, then stop the worker thread."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()
        self._pending.clear()

    def _on_finished(self, job_id: int, result: object) -> None:
        callbacks = self._pending.pop(job_id, None)
        try:
            if callbacks is not None:
                callbacks[0](result)
        finally:
            self._maybe_idle()

    def _on_failed(self, job_id: int, exc: BaseException) -> None:
        callbacks = self._pending.pop(job_id, None)
        try:
            if callbacks is not None and callbacks[1] is not None:
                callbacks[1](exc)
                return
            if callbacks is None:  # submitted before a shutdown: nobody is waiting
                return
            # Nobody expected this failure: it is a bug, so let it surface as a traceback.
            log.error("background job failed", exc_info=exc)
            raise exc
        finally:
            self._maybe_idle()

    def _maybe_idle(self) -> None:
        if not self._pending:
            self.idle.emit()
