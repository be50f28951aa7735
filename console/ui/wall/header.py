"""The wall's header: the clock, how many services are in each state, data age and the page.

The clock ticks every second even when everything else stands still, so a frozen wall is seen
to be frozen. The data age is the age of the newest result of all: when even that is older than
a few poll intervals, nothing is being collected and the header says so in the warning colour.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from console.core.checks import STALE_INTERVALS
from console.core.status import DisplayState, ServiceTile
from console.ui.wall.layout import MIN_POINT_SIZE
from console.ui.wall.style import ON_STATE, STATE_COLOUR, WALL_THEME, draw_shape, state_colour
from console.ui.wall.text import span

#: States in the order the header counts them (worst first; OK last).
COUNT_ORDER = (
    DisplayState.CRITICAL,
    DisplayState.WARNING,
    DisplayState.FLAPPING,
    DisplayState.UNKNOWN,
    DisplayState.STALE,
    DisplayState.OK,
)
#: Data older than this is old when no tile says how often it is polled.
DEFAULT_OLD_AFTER_S = 90.0
WARNING_COLOUR = STATE_COLOUR[DisplayState.WARNING]


@dataclass(frozen=True, slots=True)
class DataAge:
    """The newest data of all, and when it counts as old.

    Attributes:
        age_s: Its age when it was read, or None when there is no data at all.
        read_at: When it was read.
        old_after_s: From this age on, the header warns.
    """

    age_s: float | None
    read_at: datetime
    old_after_s: float

    @classmethod
    def of(cls, tiles: Sequence[ServiceTile], read_at: datetime) -> DataAge:
        """The newest data among ``tiles``: old after 3 of the shortest poll intervals."""
        ages = [t.data_age_s for t in tiles if t.data_age_s is not None]
        intervals = [t.worst.interval_s for t in tiles if t.worst is not None]
        old_after = STALE_INTERVALS * min(intervals) if intervals else DEFAULT_OLD_AFTER_S
        return cls(min(ages) if ages else None, read_at, old_after)

    def text(self, now: datetime) -> tuple[str, bool]:
        """The words for the header at ``now``, and whether they warn."""
        if self.age_s is None:
            return "NO DATA", True
        age = self.age_s + max(0.0, (now - self.read_at).total_seconds())
        if age >= self.old_after_s:
            return f"DATA {span(age)} OLD", True
        return f"Data {span(age)} old", False


def state_counts(tiles: Sequence[ServiceTile]) -> dict[DisplayState, int]:
    """How many services are in each state (states with none are left out, except OK)."""
    counts = Counter(t.state for t in tiles)
    return {s: counts[s] for s in COUNT_ORDER if counts[s] or s is DisplayState.OK}


@dataclass(frozen=True, slots=True)
class HeaderText:
    """Everything the header shows, as it is painted."""

    clock: str
    counts: tuple[tuple[DisplayState, int], ...]
    age: str
    age_warns: bool
    page: str
    prompt: str


class WallHeader(QWidget):
    """A painted bar across the top of the wall."""

    def __init__(self, now: datetime, parent: QWidget | None = None) -> None:
        """A header showing ``now`` and nothing else yet."""
        super().__init__(parent)
        self.setObjectName("wall-header")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._now = now
        self._counts: dict[DisplayState, int] = {}
        self._age: DataAge | None = None
        self._page = ""
        self._prompt = ""
        self.font_body = QFont(self.font())
        self.font_body.setPointSizeF(MIN_POINT_SIZE)
        self.font_body.setBold(True)
        self.font_clock = QFont(self.font_body)
        self.font_clock.setPointSizeF(MIN_POINT_SIZE * 1.25)
        self._metrics = QFontMetricsF(self.font_body, self)
        self._clock_metrics = QFontMetricsF(self.font_clock, self)
        self.setFixedHeight(round(self._clock_metrics.height() * 1.5))
        self._shown = self.text()

    def text(self) -> HeaderText:
        """What the header shows now."""
        age, warns = ("", False) if self._age is None else self._age.text(self._now)
        return HeaderText(
            clock=self._now.astimezone().strftime("%H:%M:%S"),
            counts=tuple(self._counts.items()),
            age=age,
            age_warns=warns,
            page=self._page,
            prompt=self._prompt,
        )

    def show_tiles(self, tiles: Sequence[ServiceTile], read_at: datetime) -> None:
        """Count ``tiles`` and show the age of their newest data."""
        self._counts = state_counts(tiles)
        self._age = DataAge.of(tiles, read_at)
        self._changed()

    def show_fault(self) -> None:
        """Show the clock only: counts and ages of data the wall no longer trusts are hidden."""
        self._counts, self._age, self._page = {}, None, ""
        self._changed()

    def set_page(self, page: int, pages: int) -> None:
        """Show "page of pages" (nothing when there is a single page)."""
        self._page = f"Page {page + 1}/{pages}" if pages > 1 else ""
        self._changed()

    def set_prompt(self, prompt: str) -> None:
        """Show ``prompt`` in place of the counts ("" to clear it)."""
        self._prompt = prompt
        self._changed()

    def set_now(self, now: datetime) -> None:
        """Move the clock on (repaints only when a shown word changed)."""
        self._now = now
        self._changed()

    def _changed(self) -> None:
        shown = self.text()
        if shown != self._shown:
            self._shown = shown
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: D102 - Qt override
        shown = self._shown
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(WALL_THEME.sidebar))
        pad = self._metrics.height() * 0.5
        height = float(self.height())
        painter.setPen(QColor(WALL_THEME.text))
        painter.setFont(self.font_clock)
        clock_w = self._clock_metrics.horizontalAdvance(shown.clock)
        middle = Qt.AlignmentFlag.AlignVCenter
        painter.drawText(QRectF(pad, 0, clock_w, height), middle, shown.clock)
        right = self._paint_right(painter, shown, pad, height)
        left = pad * 3 + clock_w
        if shown.prompt:
            self._paint_prompt(painter, shown.prompt, QRectF(left, 0, right - left, height))
        else:
            self._paint_counts(painter, shown.counts, left, right, height)
        painter.end()

    def _paint_right(
        self, painter: QPainter, shown: HeaderText, pad: float, height: float
    ) -> float:
        """Page and data age from the right edge; returns where they begin."""
        painter.setFont(self.font_body)
        x = self.width() - pad
        for words, warns in ((shown.page, False), (shown.age, shown.age_warns)):
            if not words:
                continue
            width = self._metrics.horizontalAdvance(words)
            box = QRectF(x - width, 0, width, height)
            if warns:
                back = box.adjusted(-pad / 2, pad / 2, pad / 2, -pad / 2)
                painter.fillRect(back, QColor(WARNING_COLOUR))
                painter.setPen(QColor(ON_STATE))
            else:
                painter.setPen(QColor(WALL_THEME.text))
            painter.drawText(box, Qt.AlignmentFlag.AlignVCenter, words)
            x -= width + pad * 2.5
        return x

    def _paint_prompt(self, painter: QPainter, prompt: str, box: QRectF) -> None:
        painter.setFont(self.font_body)
        painter.setPen(QColor(WARNING_COLOUR))
        shown = self._metrics.elidedText(prompt, Qt.TextElideMode.ElideRight, box.width())
        painter.drawText(box, Qt.AlignmentFlag.AlignVCenter, shown)

    def _paint_counts(
        self,
        painter: QPainter,
        counts: tuple[tuple[DisplayState, int], ...],
        left: float,
        right: float,
        height: float,
    ) -> None:
        painter.setFont(self.font_body)
        side = self._metrics.height() * 0.7
        x = left
        for state, count in counts:
            words = f"{count} {state.label}"
            width = side * 1.4 + self._metrics.horizontalAdvance(words)
            if x + width > right:
                break  # never overlap the data age: the grid below shows every tile anyway
            box = QRectF(x, (height - side) / 2, side, side)
            draw_shape(painter, state, box, state_colour(state))
            painter.setPen(QColor(WALL_THEME.text))
            text_box = QRectF(x + side * 1.4, 0, width, height)
            painter.drawText(text_box, Qt.AlignmentFlag.AlignVCenter, words)
            x += width + side * 1.5
