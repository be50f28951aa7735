"""The wall's look: state colours (Okabe-Ito), state shapes and the fixed dark surface.

The wall is always dark, whatever the desktop asks for: a bright wall in a dim NOC room dazzles
and washes out the state colours. Its chrome comes from the dark :class:`~console.ui.theme.Theme`;
the state colours are the Okabe-Ito palette, which people with the common colour-vision
deficiencies can still tell apart. Colour is never the only sign: each state also has a word and a
shape, drawn in black on its colour (every Okabe-Ito colour used here has a contrast ratio above
5:1 against black, better than against white).
"""

from __future__ import annotations

import math
from enum import Enum

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, Qt

from console.core.status import DisplayState
from console.ui.theme import DARK, Theme

#: The wall's chrome: always the dark theme.
WALL_THEME: Theme = DARK


class Shape(Enum):
    """The sign drawn beside a state's word."""

    CIRCLE = "circle"
    TRIANGLE = "triangle"
    OCTAGON = "octagon"
    DIAMOND = "diamond"
    ZIGZAG = "zigzag"
    CLOCK = "clock"


#: Okabe-Ito colours; STALE is a neutral grey because it says "not known", not "fine".
STATE_COLOUR: dict[DisplayState, str] = {
    DisplayState.OK: "#009E73",  # bluish green
    DisplayState.WARNING: "#E69F00",  # orange
    DisplayState.CRITICAL: "#D55E00",  # vermillion
    DisplayState.UNKNOWN: "#56B4E9",  # sky blue
    DisplayState.FLAPPING: "#CC79A7",  # reddish purple
    DisplayState.STALE: "#9E9E9E",
}

STATE_SHAPE: dict[DisplayState, Shape] = {
    DisplayState.OK: Shape.CIRCLE,
    DisplayState.WARNING: Shape.TRIANGLE,
    DisplayState.CRITICAL: Shape.OCTAGON,
    DisplayState.UNKNOWN: Shape.DIAMOND,
    DisplayState.FLAPPING: Shape.ZIGZAG,
    DisplayState.STALE: Shape.CLOCK,
}

#: Text drawn on a state colour.
ON_STATE = "#000000"
#: The fault screen's background (a dark vermillion: alarming, yet white text stays readable).
FAULT_BACKGROUND = "#5c1a00"


def state_colour(state: DisplayState) -> QColor:
    """The colour of ``state``."""
    return QColor(STATE_COLOUR[state])


def tint(state: DisplayState, amount: float) -> QColor:
    """The wall's surface mixed with ``amount`` (0..1) of the state's colour."""
    base, top = QColor(WALL_THEME.surface), state_colour(state)
    return QColor(
        round(base.red() + (top.red() - base.red()) * amount),
        round(base.green() + (top.green() - base.green()) * amount),
        round(base.blue() + (top.blue() - base.blue()) * amount),
    )


def _polygon(centre: QPointF, radius: float, corners: int, turn: float) -> QPainterPath:
    path = QPainterPath()
    for i in range(corners):
        angle = turn + 2 * math.pi * i / corners
        point = QPointF(
            centre.x() + radius * math.cos(angle), centre.y() + radius * math.sin(angle)
        )
        if i == 0:
            path.moveTo(point)
        else:
            path.lineTo(point)
    path.closeSubpath()
    return path


def shape_path(shape: Shape, box: QRectF) -> QPainterPath:
    """The outline of ``shape`` filling the square ``box`` (ZIGZAG and CLOCK are strokes)."""
    centre, radius = box.center(), min(box.width(), box.height()) / 2
    path = QPainterPath()
    if shape is Shape.CIRCLE:
        path.addEllipse(centre, radius, radius)
    elif shape is Shape.TRIANGLE:
        path = _polygon(
            QPointF(centre.x(), centre.y() + radius * 0.15), radius * 1.1, 3, -math.pi / 2
        )
    elif shape is Shape.OCTAGON:
        path = _polygon(centre, radius, 8, math.pi / 8)
    elif shape is Shape.DIAMOND:
        path = _polygon(centre, radius, 4, -math.pi / 2)
    elif shape is Shape.ZIGZAG:
        left, step = box.left(), box.width() / 4
        path.moveTo(left, centre.y())
        for i in range(1, 5):
            path.lineTo(left + i * step, centre.y() + (-radius if i % 2 else radius) * 0.8)
    else:  # CLOCK: a dial with two hands
        path.addEllipse(centre, radius * 0.9, radius * 0.9)
        path.moveTo(centre)
        path.lineTo(centre.x(), centre.y() - radius * 0.6)
        path.moveTo(centre)
        path.lineTo(centre.x() + radius * 0.45, centre.y())
    return path


def draw_shape(painter: QPainter, state: DisplayState, box: QRectF, colour: QColor) -> None:
    """Draw the shape of ``state`` in ``colour`` inside ``box``."""
    shape = STATE_SHAPE[state]
    path = shape_path(shape, box)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if shape in (Shape.ZIGZAG, Shape.CLOCK):
        pen = QPen(colour, max(2.0, box.width() / 8))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
    else:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
    painter.drawPath(path)
    painter.restore()
