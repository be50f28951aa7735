"""The live Monitoring page's reads: every metric's status, and sparklines, on the store worker.

:class:`StatusFeed` reads ``console.store.status.metric_statuses`` every two seconds through the
console's :class:`~console.ui.tasks.TaskRunner` and hands each reading back on the UI thread;
:func:`read_sparklines` reads the last hour of some metrics (the page asks only for the rows in
view, each at most every ``SPARK_MAX_AGE_S``). Nothing here touches the store on the UI thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QObject

from console.core.status import MetricStatus
from console.store.db import Store
from console.ui.models.feed import PollingFeed
from console.ui.models.status import Key
from console.ui.tasks import TaskRunner
from console.ui.widgets.sparkline import Sparkline

#: How often the feed reads the store.
REFRESH_MS = 2_000
#: What a sparkline covers and how many points it draws.
SPARK_SPAN_S = 3_600
SPARK_POINTS = 60


@dataclass(frozen=True, slots=True)
class StatusReading:
    """One read of every metric's status.

    Attributes:
        statuses: Every metric's status, in the store's order.
        read_at: The store clock's time when it was read.
    """

    statuses: tuple[MetricStatus, ...]
    read_at: datetime


def read_statuses(store: Store) -> StatusReading:
    """Every metric's status (call it on the worker thread: it reads SQLite)."""
    from console.store import status  # the store's read model

    return StatusReading(tuple(status.metric_statuses(store.read())), store.clock.now())


def read_sparklines(store: Store, keys: Sequence[Key], now: datetime) -> dict[Key, Sparkline]:
    """The last hour of each metric, at most ``SPARK_POINTS`` points (worker thread)."""
    from console.store import status
    from console.store.samples import epoch_ms

    until = epoch_ms(now) + 1
    since = until - SPARK_SPAN_S * 1000
    lines = status.sparklines(store.read(), keys, since, until, SPARK_POINTS)
    return {
        key: Sparkline(
            tuple((ts / 1000, value) for ts, value in points), since / 1000, until / 1000
        )
        for key, points in lines.items()
    }


class StatusFeed(PollingFeed):
    """Reads every metric's status on the store worker every ``interval_ms``.

    A read that comes due while the previous one is still running is skipped, so a slow store
    never builds up a backlog of reads.
    """

    def __init__(
        self,
        store: Store,
        runner: TaskRunner,
        interval_ms: int = REFRESH_MS,
        parent: QObject | None = None,
    ) -> None:
        """A feed over ``store``, read through ``runner``; nothing is read before :meth:`start`."""
        super().__init__(
            lambda: read_statuses(store),
            runner,
            interval_ms,
            what="the monitoring status",
            parent=parent,
        )
