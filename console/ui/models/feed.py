"""A reading of the store taken on the worker every few seconds and handed back on the UI thread.

Every live page polls the same way: a timer asks the console's :class:`~console.ui.tasks.
TaskRunner` for one read, and a read that comes due while the previous one is still running is
skipped, so a slow store never builds up a backlog. :class:`PollingFeed` is that loop once;
pages give it the function that reads (it runs on the worker thread, never on the UI thread).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from console.ui.tasks import TaskRunner


class PollingFeed(QObject):
    """Runs ``read`` on the store worker every ``interval_ms`` and emits what it returns."""

    #: A new reading arrived (whatever ``read`` returned).
    reading = Signal(object)
    #: A read failed; the text says why.
    failed = Signal(str)

    def __init__(
        self,
        read: Callable[[], object],
        runner: TaskRunner,
        interval_ms: int,
        *,
        what: str,
        parent: QObject | None = None,
    ) -> None:
        """A feed; nothing is read before :meth:`start`.

        Args:
            read: Reads the store (called on the worker thread).
            runner: The console's store worker.
            interval_ms: Time between reads.
            what: Names the reading in failure messages ("the monitoring status").
            parent: The Qt parent.
        """
        super().__init__(parent)
        self._read = read
        self._runner = runner
        self._what = what
        self._pending = False
        #: How many reads were asked of the worker (tests check that a tick rereads nothing).
        self.reads = 0
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.refresh)

    @property
    def pending(self) -> bool:
        """Whether a read is on its way."""
        return self._pending

    def start(self) -> None:
        """Read now and then every interval."""
        self.timer.start()
        self.refresh()

    def stop(self) -> None:
        """Stop reading (a read already on its way still reports)."""
        self.timer.stop()

    def refresh(self) -> None:
        """Read once now, unless a read is already on its way."""
        if self._pending:
            return
        try:
            self._runner.submit(self._read, self._on_reading, self._on_failed)
        except RuntimeError:  # the worker has shut down: the console is closing
            self.timer.stop()
            return
        self._pending = True
        self.reads += 1

    def _on_reading(self, reading: object) -> None:
        self._pending = False
        self.reading.emit(reading)

    def _on_failed(self, exc: BaseException) -> None:
        self._pending = False
        self.failed.emit(f"Could not read {self._what}: {exc}")
