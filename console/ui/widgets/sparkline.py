"""Sparklines: a metric's recent values as a small line inside a table cell.

A sparkline is drawn against time, not against the point count, so a metric that went silent
shows a line that stops short of the right edge rather than one stretched to look current.
The newest point is a dot in the row's state colour; the line itself takes the text colour (or
the selection's text colour), so it reads on either theme.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from console.core.units import format_number

Index = QModelIndex | QPersistentModelIndex

#: The cell's preferred size.
WIDTH = 140
HEIGHT = 28
#: Space kept free around the line.
MARGIN_X = 6.0
MARGIN_Y = 5.0
DOT_RADIUS = 2.5


@dataclass(frozen=True, slots=True)
class Sparkline:
    """Values over a time range.

    Attributes:
        points: (epoch seconds, value) pairs, oldest first; NaN values are left out.
        since: The range's start (epoch seconds): the cell's left edge.
        until: The range's end: the cell's right edge.
        mark: The colour of the newest point's dot, or None for the line's colour.
    """

    points: tuple[tuple[float, float], ...]
    since: float
    until: float
    mark: str | None = None

    def marked(self, colour: str) -> Sparkline:
        """The same line with its newest point drawn in ``colour``."""
        return self if colour == self.mark else replace(self, mark=colour)

    def describe(self, unit: str = "") -> str:
        """The line in words, for screen readers: range and newest value."""
        values = [v for _, v in self.points]
        if not values:
            return "no data in the last hour"

        def text(value: float) -> str:
            return f"{format_number(value)} {unit}".rstrip()

        low, high = min(values), max(values)
        return f"last hour from {text(low)} to {text(high)}, newest {text(values[-1])}"


def sparkline_path(line: Sparkline, box: QRectF) -> QPainterPath:
    """The line's polyline fitted into ``box`` (time across, min..max up; flat data centred)."""
    path = QPainterPath()
    points = [(t, v) for t, v in line.points if math.isfinite(v)]
    if not points or line.until <= line.since:
        return path
    values = [v for _, v in points]
    low, high = min(values), max(values)
    span_t = line.until - line.since

    def at(t: float, v: float) -> QPointF:
        x = box.left() + (min(max(t, line.since), line.until) - line.since) / span_t * box.width()
        share = 0.5 if high == low else (v - low) / (high - low)
        return QPointF(x, box.bottom() - share * box.height())

    path.moveTo(at(*points[0]))
    for t, v in points[1:]:
        path.lineTo(at(t, v))
    return path


def paint_sparkline(painter: QPainter, rect: QRectF, line: Sparkline, colour: QColor) -> None:
    """Draw ``line`` inside ``rect`` in ``colour``, its newest point as a dot."""
    box = rect.adjusted(MARGIN_X, MARGIN_Y, -MARGIN_X, -MARGIN_Y)
    path = sparkline_path(line, box)
    if path.isEmpty():
        return
    painter.save()
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(colour, 1.5)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        end = path.currentPosition()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(line.mark) if line.mark else colour)
        painter.drawEllipse(end, DOT_RADIUS + 0.5, DOT_RADIUS + 0.5)
    finally:
        painter.restore()


class SparklineDelegate(QStyledItemDelegate):
    """Paints the :class:`Sparkline` a model gives under ``role`` (background as usual).

    A cell without a sparkline shows a muted dash; one whose range holds no value says
    "no data".
    """

    def __init__(self, role: int, parent: QObject | None = None) -> None:
        """A delegate reading sparklines from ``role``."""
        super().__init__(parent)
        self.role = role

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        """The cell's background and focus as the style draws them, then the line."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        palette: QPalette = opt.palette
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        rect = QRectF(opt.rect)
        line = index.data(self.role)
        if isinstance(line, Sparkline) and line.points:
            paint_sparkline(painter, rect, line, palette.color(role))
            return
        muted = palette.color(role if selected else QPalette.ColorRole.PlaceholderText)
        painter.save()
        painter.setPen(muted)
        words = "no data" if isinstance(line, Sparkline) else "–"
        painter.drawText(
            rect.adjusted(MARGIN_X, 0, -MARGIN_X, 0), Qt.AlignmentFlag.AlignVCenter, words
        )
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        """Wide enough to see a trend, as tall as a row."""
        return QSize(WIDTH, HEIGHT)
