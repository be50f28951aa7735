"""The wall's data: every couple of seconds the store worker reads the tiles and the engine state.

Nothing here reads the store on the UI thread: :class:`WallFeed` submits one job at a time to
the :class:`~console.ui.tasks.TaskRunner` and hands the answer back through a queued signal. A
refresh that comes due while the previous read is still running is skipped rather than queued, so
a slow store never builds up a backlog of reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QObject, QTimer, Signal

from console.core.status import ServiceTile
from console.store.db import Store
from console.ui.engine_host import EngineHost, EngineStatus, read_status
from console.ui.tasks import TaskRunner

#: How often the wall reads the store.
REFRESH_MS = 2_000

#: Reads the tiles from a store at a moment (runs on the worker thread).
TileReader = Callable[[Store, datetime], Sequence[ServiceTile]]


def store_tiles(store: Store, now: datetime) -> Sequence[ServiceTile]:
    """Every service's tile from the store, worst first."""
    from console.store import status  # the store's read model

    return status.tiles(store.read(), now)


@dataclass(frozen=True, slots=True)
class WallReading:
    """One read of the wall's data.

    Attributes:
        status: Where the engine stands.
        tiles: Every service's tile, worst first.
        read_at: When it was read (the tiles' data ages are as of then).
    """

    status: EngineStatus
    tiles: tuple[ServiceTile, ...]
    read_at: datetime


class WallFeed(QObject):
    """Reads the wall's data on the store worker every ``interval_ms``.

    Args:
        store: The store to read.
        runner: The store worker.
        host: This process's engine host, if it runs one (it says where the engine stands).
        reader: Reads the tiles (the store's read model unless a test gives another).
        interval_ms: How often to read.
    """

    #: A new reading arrived (a WallReading).
    reading = Signal(object)
    #: A read failed; the argument says why.
    failed = Signal(str)

    def __init__(
        self,
        store: Store,
        runner: TaskRunner,
        host: EngineHost | None = None,
        reader: TileReader = store_tiles,
        interval_ms: int = REFRESH_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._runner = runner
        self._host = host
        self._reader = reader
        self._pending = False
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
        self._pending = True
        store, host, reader = self._store, self._host, self._reader

        def read() -> WallReading:
            status = read_status(store, host)
            now = store.clock.now()
            return WallReading(status, tuple(reader(store, now)), now)

        self._runner.submit(read, self._on_reading, self._on_failed)

    def _on_reading(self, reading: WallReading) -> None:
        self._pending = False
        self.reading.emit(reading)

    def _on_failed(self, exc: BaseException) -> None:
        self._pending = False
        self.failed.emit(str(exc) or type(exc).__name__)
