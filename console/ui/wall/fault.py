"""The full-screen fault: shown instead of the tiles whenever their data cannot be trusted."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from console.core.status import DisplayState
from console.ui.wall.layout import MIN_POINT_SIZE
from console.ui.wall.style import FAULT_BACKGROUND, WALL_THEME, draw_shape, state_colour
from console.ui.wall.text import FaultText

WAITING = FaultText("Waiting for data…", "The wall shows the services once the store answers.")


class FaultPanel(QWidget):
    """Paints a fault (or the wait for the first data) across the whole body of the wall."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """A panel showing the wait for the first data."""
        super().__init__(parent)
        self.setObjectName("wall-fault")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._fault = WAITING
        self.title_font = QFont(self.font())
        self.title_font.setPointSizeF(MIN_POINT_SIZE * 2)
        self.title_font.setBold(True)
        self.body_font = QFont(self.font())
        self.body_font.setPointSizeF(MIN_POINT_SIZE * 1.2)
        self.detail_font = QFont(self.font())
        self.detail_font.setPointSizeF(MIN_POINT_SIZE)

    @property
    def fault(self) -> FaultText:
        """What the panel says."""
        return self._fault

    @property
    def is_fault(self) -> bool:
        """Whether it shows a fault (rather than the wait for the first data)."""
        return self._fault is not WAITING

    def show_fault(self, fault: FaultText) -> None:
        """Say ``fault``."""
        if fault != self._fault:
            self._fault = fault
            self.setAccessibleName(f"{fault.title}. {fault.body} {fault.detail}".strip())
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: D102 - Qt override
        painter = QPainter(self)
        fault = self.is_fault
        painter.fillRect(self.rect(), QColor(FAULT_BACKGROUND if fault else WALL_THEME.window))
        title = QFontMetricsF(self.title_font, self)
        margin = title.height()
        width = self.width() - 2 * margin
        y = self.height() * 0.28
        if fault:
            side = title.height() * 1.6
            box = QRectF((self.width() - side) / 2, y - side * 1.3, side, side)
            draw_shape(painter, DisplayState.CRITICAL, box, state_colour(DisplayState.CRITICAL))
        flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        painter.setPen(QColor(WALL_THEME.text))
        for words, font in (
            (self._fault.title, self.title_font),
            (self._fault.body, self.body_font),
            (self._fault.detail, self.detail_font),
        ):
            if not words:
                continue
            painter.setFont(font)
            box = painter.boundingRect(QRectF(margin, y, width, self.height()), flags, words)
            painter.drawText(QRectF(margin, y, width, box.height()), flags, words)
            y += box.height() + QFontMetricsF(font, self).height() * 0.6
        painter.end()
