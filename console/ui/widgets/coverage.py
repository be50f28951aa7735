"""The coming weeks of every schedule on one time axis: who covers when, and the gaps.

One row per schedule; each stretch a member covers is a block in that member's colour with the
name inside when it fits, an override outlined in the accent colour, and time nobody covers in
the error colour, hatched, so a gap reads as a gap without colour too. Days are marked in the
viewer's own time zone. Hovering a block tells who, from when to when (in the schedule's zone),
and from which layer or override.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QHelpEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from console.core.schedules import CoverSource
from console.ui.models.oncall import CoverageReading, ScheduleCoverage
from console.ui.theme import Theme

#: Member colours: Okabe-Ito hues (told apart with colour-vision deficiencies), drawn soft.
MEMBER_HUES = (
    "#56b4e9", "#e69f00", "#009e73", "#cc79a7", "#0072b2", "#d55e00", "#f0e442",
    "#8c8c8c", "#7f3c8d", "#66a61e",
)  # fmt: skip
LABEL_WIDTH = 200
AXIS_HEIGHT = 38
LEGEND_HEIGHT = 26
ROW_HEIGHT = 34
ROW_GAP = 6


@dataclass(frozen=True, slots=True)
class Block:
    """A painted stretch, kept for hit-testing (tooltips)."""

    rect: QRectF
    text: str


def _span(start: datetime, end: datetime, zone: str) -> str:
    where = ZoneInfo(zone)
    fmt = "%a %d %b %H:%M"
    return (
        f"{start.astimezone(where).strftime(fmt)} to {end.astimezone(where).strftime(fmt)} ({zone})"
    )


class CoverageTimeline(QWidget):
    """Paints a :class:`CoverageReading` (nothing before the first reading arrives)."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        """An empty timeline in ``theme``'s colours."""
        super().__init__(parent)
        self.theme = theme
        self.reading: CoverageReading | None = None
        self.blocks: list[Block] = []
        self._colours: dict[str, QColor] = {}
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.setAccessibleName("On-call coverage over the coming days")

    def set_reading(self, reading: CoverageReading) -> None:
        """Show a new reading."""
        self.reading = reading
        members = sorted({s.member for c in reading.schedules for s in c.shifts})
        self._colours = {
            m: self._soft(MEMBER_HUES[i % len(MEMBER_HUES)]) for i, m in enumerate(members)
        }
        self.updateGeometry()
        self.update()

    def colour_of(self, member: str) -> QColor:
        """The colour a member's blocks are painted in."""
        return self._colours.get(member, QColor(self.theme.surface_alt))

    def _soft(self, hue: str) -> QColor:
        colour, base = QColor(hue), QColor(self.theme.surface)
        share = 0.55 if self.theme.is_dark else 0.42
        return QColor(
            round(colour.red() * share + base.red() * (1 - share)),
            round(colour.green() * share + base.green() * (1 - share)),
            round(colour.blue() * share + base.blue() * (1 - share)),
        )

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """Tall enough for every schedule's row."""
        rows = len(self.reading.schedules) if self.reading else 1
        return QSize(900, AXIS_HEIGHT + rows * (ROW_HEIGHT + ROW_GAP) + LEGEND_HEIGHT + 8)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """Rows are never squeezed."""
        return QSize(LABEL_WIDTH + 200, self.sizeHint().height())

    # -- geometry --------------------------------------------------------------------------

    def _x(self, moment: datetime) -> float:
        assert self.reading is not None
        span = (self.reading.end - self.reading.start).total_seconds()
        share = (moment - self.reading.start).total_seconds() / span
        return LABEL_WIDTH + max(0.0, min(1.0, share)) * (self.width() - LABEL_WIDTH - 8)

    def _row_top(self, index: int) -> float:
        return AXIS_HEIGHT + index * (ROW_HEIGHT + ROW_GAP)

    # -- painting --------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        """Axis, then each schedule's row."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.blocks = []
        if self.reading is not None:
            self._paint_axis(painter)
            for index, cover in enumerate(self.reading.schedules):
                self._paint_row(painter, index, cover)
            self._paint_legend(painter)
        painter.end()

    def _paint_axis(self, painter: QPainter) -> None:
        assert self.reading is not None
        theme = self.theme
        local = datetime.now().astimezone().tzinfo
        start = self.reading.start.astimezone(local)
        day = start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        painter.setFont(self.font())
        bottom = self._row_top(len(self.reading.schedules))
        month = None
        while day < self.reading.end:
            x = self._x(day)
            painter.setPen(QPen(QColor(theme.border), 1))
            painter.drawLine(QPointF(x, AXIS_HEIGHT - 6), QPointF(x, bottom))
            painter.setPen(QColor(theme.muted))
            # Two lines: the day, and the month where it begins (or on the first mark).
            if x + 60 > self.width():
                break  # no room for a whole label at the right edge
            painter.drawText(
                QRectF(x + 3, 2, 80, 16), Qt.AlignmentFlag.AlignLeft, day.strftime("%a %d")
            )
            if day.month != month:
                month = day.month
                painter.drawText(
                    QRectF(x + 3, 16, 80, 16), Qt.AlignmentFlag.AlignLeft, day.strftime("%B")
                )
            day = (day + timedelta(days=1, hours=2)).replace(hour=0)
        now_x = self._x(self.reading.start)
        painter.setPen(QPen(QColor(theme.accent), 2))
        painter.drawLine(QPointF(now_x, AXIS_HEIGHT - 10), QPointF(now_x, bottom))

    def _paint_row(self, painter: QPainter, index: int, cover: ScheduleCoverage) -> None:
        assert self.reading is not None
        theme, top = self.theme, self._row_top(index)
        painter.setPen(QColor(theme.text))
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setFont(bold)
        label = QRectF(0, top, LABEL_WIDTH - 10, ROW_HEIGHT)
        painter.drawText(
            label,
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            painter.fontMetrics().elidedText(
                cover.schedule.name, Qt.TextElideMode.ElideRight, int(label.width())
            ),
        )
        painter.setFont(self.font())
        zone = cover.schedule.zone
        for shift in cover.shifts:
            rect = QRectF(
                self._x(shift.start), top, self._x(shift.end) - self._x(shift.start), ROW_HEIGHT
            )
            name = self.reading.name(shift.member)
            self._block(
                painter,
                rect,
                self.colour_of(shift.member),
                name,
                override=shift.source is CoverSource.OVERRIDE,
            )
            source = "override" if shift.source is CoverSource.OVERRIDE else f"layer {shift.layer}"
            self.blocks.append(
                Block(
                    rect,
                    f"{cover.schedule.name}: {name}\n"
                    f"{_span(shift.start, shift.end, zone)}\n{source}",
                )
            )
        for gap in cover.gaps:
            rect = QRectF(
                self._x(gap.start), top, max(2.0, self._x(gap.end) - self._x(gap.start)), ROW_HEIGHT
            )
            painter.setPen(QPen(QColor(theme.error), 1))
            painter.setBrush(QBrush(QColor(theme.error_soft)))
            painter.drawRect(rect)
            painter.setBrush(QBrush(QColor(theme.error), Qt.BrushStyle.BDiagPattern))
            painter.drawRect(rect)
            self.blocks.append(
                Block(
                    rect,
                    f"{cover.schedule.name}: NOBODY on call\n"
                    f"{_span(gap.start, gap.end, zone)}\n{gap.reason}",
                )
            )

    def _paint_legend(self, painter: QPainter) -> None:
        """Each member's colour and name: short shifts are too narrow to carry the name."""
        assert self.reading is not None
        top = self._row_top(len(self.reading.schedules)) + 4
        x = float(LABEL_WIDTH)
        metrics = painter.fontMetrics()
        for member, colour in self._colours.items():
            name = self.reading.name(member)
            width = 14 + 6 + metrics.horizontalAdvance(name) + 18
            if x + width > self.width():
                break
            painter.setPen(QPen(QColor(self.theme.border), 1))
            painter.setBrush(colour)
            painter.drawRoundedRect(QRectF(x, top + 3, 14, 14), 2, 2)
            painter.setPen(QColor(self.theme.text))
            painter.drawText(QRectF(x + 20, top, width, 20), Qt.AlignmentFlag.AlignVCenter, name)
            x += width

    def _block(
        self, painter: QPainter, rect: QRectF, fill: QColor, name: str, *, override: bool
    ) -> None:
        inner = rect.adjusted(0.5, 0.5, -0.5, -0.5)
        outline = QColor(self.theme.accent) if override else QColor(self.theme.surface)
        painter.setPen(QPen(outline, 2 if override else 1))
        painter.setBrush(fill)
        painter.drawRoundedRect(inner, 3, 3)
        metrics = painter.fontMetrics()
        first = name.split()[0] if name.split() else name
        for text in (name, first):
            if metrics.horizontalAdvance(text) + 8 <= inner.width():
                painter.setPen(QColor(self.theme.text))
                painter.drawText(inner.adjusted(4, 0, -2, 0), Qt.AlignmentFlag.AlignVCenter, text)
                break

    def event(self, event: QEvent) -> bool:
        """Tooltips: the block under the pointer."""
        if isinstance(event, QHelpEvent) and event.type() == QHelpEvent.Type.ToolTip:
            point = QPointF(event.pos())
            hit = next((b for b in reversed(self.blocks) if b.rect.contains(point)), None)
            if hit is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), hit.text, self)
            return True
        return super().event(event)
