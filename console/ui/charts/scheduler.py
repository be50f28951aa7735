"""Spreads chart updates across frames: the newest update per chart, a few charts per frame.

Updating and repainting 24 charts at once costs about 90 to 180 ms here (DESIGN.md), a visible
freeze every second. Charts therefore never redraw when their data arrives: they post an
update here. Posting again before the update ran replaces it (only the newest pending update
per chart matters: a chart's update draws everything it holds), and a timer at about 60 Hz
runs pending updates in the order charts first asked, stopping when the frame's budget would
be exceeded or after ``max_per_frame`` of them. Each frame runs at least one update, so
nothing starves.

The budget counts the paints too. They happen after the frame, in the same event-loop turn,
and cost more than the updates (about 4 ms against 2 ms for a 3,600-point chart here), so
charts report how long they took to paint (:meth:`ChartScheduler.note_paint`) and a frame
stops when what it has run, plus the paints those will cause, plus one more update and its
paint, would pass the budget. Costs are learnt as running averages.

The clock is injected (``timer``, seconds) so tests decide what an update "costs".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer, Signal

Update = Callable[[], None]

#: One frame at 60 Hz.
FRAME_MS = 16
#: Milliseconds of updates and their paints per frame: half a frame, the rest is for input.
BUDGET_MS = 8.0
#: Most updates per frame, whatever the budget says.
MAX_PER_FRAME = 3
#: How fast the predicted cost of one update follows measurements (exponential average).
_COST_WEIGHT = 0.25


@dataclass(slots=True)
class SchedulerStats:
    """Running totals, for tests, benchmarks and a debug overlay.

    Attributes:
        posted: Updates posted.
        coalesced: Posts that replaced an update still pending.
        applied: Updates run.
        frames: Frames that ran at least one update.
        longest_frame_ms: The longest frame so far (its updates, not their paints).
        expected_cost_ms: The current prediction of one update's cost.
        expected_paint_ms: The current prediction of one chart paint's cost.
    """

    posted: int = 0
    coalesced: int = 0
    applied: int = 0
    frames: int = 0
    longest_frame_ms: float = 0.0
    expected_cost_ms: float = 0.0
    expected_paint_ms: float = 0.0


class ChartScheduler(QObject):
    """Coalesces and throttles chart updates (see the module docstring).

    A target (usually a :class:`~console.ui.charts.chart.MetricChart`) registers once, then
    posts updates; when the target is a QObject, its pending update is dropped when it is
    destroyed.
    """

    #: After each frame that ran updates: how many it ran.
    frame_done = Signal(int)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        frame_ms: int = FRAME_MS,
        budget_ms: float = BUDGET_MS,
        max_per_frame: int = MAX_PER_FRAME,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        """A scheduler running a frame every ``frame_ms`` while updates are pending."""
        super().__init__(parent)
        if budget_ms <= 0 or max_per_frame < 1 or frame_ms < 1:
            raise ValueError("the budget, frame length and updates per frame must be positive")
        self.budget_ms = budget_ms
        self.max_per_frame = max_per_frame
        self.stats = SchedulerStats()
        self._now = timer
        self._registered: set[int] = set()
        self._pending: dict[int, Update] = {}
        self._frame = QTimer(self)
        self._frame.setTimerType(Qt.TimerType.PreciseTimer)
        self._frame.setInterval(frame_ms)
        self._frame.timeout.connect(self.run_frame)

    @property
    def pending(self) -> int:
        """How many targets have an update waiting."""
        return len(self._pending)

    @property
    def active(self) -> bool:
        """Whether the frame timer is running (it stops when nothing is pending)."""
        return self._frame.isActive()

    def register(self, target: object) -> None:
        """Accept updates for ``target`` (a QObject's pending update dies with it)."""
        key = id(target)
        if key in self._registered:
            return
        self._registered.add(key)
        if isinstance(target, QObject):
            target.destroyed.connect(lambda *_: self._forget(key))

    def unregister(self, target: object) -> None:
        """Stop accepting updates for ``target`` and drop its pending one."""
        self._forget(id(target))

    def _forget(self, key: int) -> None:
        self._registered.discard(key)
        self._pending.pop(key, None)

    def is_pending(self, target: object) -> bool:
        """Whether ``target`` has an update waiting."""
        return id(target) in self._pending

    def post(self, target: object, update: Update) -> None:
        """Run ``update`` in a coming frame, replacing ``target``'s pending update if any.

        Raises:
            ValueError: When ``target`` is not registered.
        """
        key = id(target)
        if key not in self._registered:
            raise ValueError("register a target before posting its updates")
        self.stats.posted += 1
        if key in self._pending:
            self.stats.coalesced += 1
        self._pending[key] = update  # a replaced key keeps its place in the queue
        if not self._frame.isActive():
            self._frame.start()

    def take(self, target: object) -> Update | None:
        """Remove and return ``target``'s pending update (to run it at once, outside a frame)."""
        return self._pending.pop(id(target), None)

    def run_frame(self) -> int:
        """Run pending updates within the budget (at least one); returns how many ran."""
        start = self._now()
        ran = 0
        try:
            while self._pending and ran < self.max_per_frame:
                if ran and self._would_overrun(start, ran):
                    break
                key = next(iter(self._pending))
                update = self._pending.pop(key)
                before = self._now()
                try:
                    update()
                finally:
                    ran += 1
                    self._learn((self._now() - before) * 1000)
        finally:
            self._end_frame(start, ran)
        return ran

    def _would_overrun(self, start: float, ran: int) -> bool:
        stats = self.stats
        spent = (self._now() - start) * 1000 + ran * stats.expected_paint_ms
        return spent + stats.expected_cost_ms + stats.expected_paint_ms > self.budget_ms

    def note_paint(self, cost_ms: float) -> None:
        """Learn what a chart's paint costs (charts call this after painting)."""
        stats = self.stats
        if stats.expected_paint_ms == 0.0:
            stats.expected_paint_ms = cost_ms
        else:
            stats.expected_paint_ms += _COST_WEIGHT * (cost_ms - stats.expected_paint_ms)

    def run_all(self) -> int:
        """Run every pending update now, ignoring the budget (shutdown, tests, exports)."""
        ran = 0
        while self._pending:
            key = next(iter(self._pending))
            self._pending.pop(key)()
            ran += 1
        self._frame.stop()
        return ran

    def _learn(self, cost_ms: float) -> None:
        stats = self.stats
        stats.applied += 1
        if stats.applied == 1:
            stats.expected_cost_ms = cost_ms
        else:
            stats.expected_cost_ms += _COST_WEIGHT * (cost_ms - stats.expected_cost_ms)

    def _end_frame(self, start: float, ran: int) -> None:
        if not self._pending:
            self._frame.stop()
        if ran:
            self.stats.frames += 1
            frame_ms = (self._now() - start) * 1000
            self.stats.longest_frame_ms = max(self.stats.longest_frame_ms, frame_ms)
            self.frame_done.emit(ran)
