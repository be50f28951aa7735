"""A monospace text editor with line numbers, for configuration items edited as YAML."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QTextCursor,
)
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from console.ui.theme import Theme

_GUTTER_PAD = 10


class _Gutter(QWidget):
    """The strip left of the text where the line numbers are painted."""

    def __init__(self, editor: CodeEdit) -> None:
        super().__init__(editor)
        self.editor = editor

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """As wide as the largest line number."""
        return QSize(self.editor.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        """Delegate to the editor, which knows where each line is."""
        self.editor.paint_gutter(event)


class CodeEdit(QPlainTextEdit):
    """Plain text in the system's fixed-width font, no wrapping, numbered lines.

    Tab inserts two spaces: YAML indents with spaces, and a tab would only earn a problem.
    """

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        """An empty editor in ``theme``'s colours."""
        super().__init__(parent)
        self.theme = theme
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabChangesFocus(False)
        self.setTabStopDistance(2 * self.fontMetrics().horizontalAdvance(" "))
        self._gutter = _Gutter(self)
        self.blockCountChanged.connect(self._update_margins)
        self.updateRequest.connect(self._on_update_request)
        self._update_margins()

    def gutter_width(self) -> int:
        """Room for the widest line number and some padding."""
        digits = max(2, len(str(self.blockCount())))
        return self.fontMetrics().horizontalAdvance("9" * digits) + 2 * _GUTTER_PAD

    def _update_margins(self, _count: int = 0) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _on_update_request(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        """Keep the gutter along the left edge of the viewport."""
        super().resizeEvent(event)
        inner = self.contentsRect()
        self._gutter.setGeometry(
            QRect(inner.left(), inner.top(), self.gutter_width(), inner.height())
        )

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        """Tab indents with spaces."""
        if event.key() == Qt.Key.Key_Tab and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self.insertPlainText("  ")
            return
        super().keyPressEvent(event)

    def paint_gutter(self, event: QPaintEvent) -> None:
        """Paint the numbers of the lines in view, the cursor's line in the text colour."""
        painter = QPainter(self._gutter)
        painter.fillRect(event.rect(), QColor(self.theme.surface_alt))
        current = self.textCursor().blockNumber()
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        width = self._gutter.width() - _GUTTER_PAD
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible():
                number = block.blockNumber()
                colour = self.theme.text if number == current else self.theme.muted
                painter.setPen(QColor(colour))
                painter.drawText(
                    0, top, width, height, Qt.AlignmentFlag.AlignRight, str(number + 1)
                )
            top += round(self.blockBoundingRect(block).height())
            block = block.next()
        painter.end()

    def go_to(self, line: int, column: int) -> None:
        """Put the cursor at a 1-based line and column (clamped to the text) and focus."""
        block = self.document().findBlockByNumber(max(0, line - 1))
        if not block.isValid():
            block = self.document().lastBlock()
        cursor = QTextCursor(block)
        offset = max(0, min(column - 1, block.length() - 1))
        cursor.movePosition(
            QTextCursor.MoveOperation.Right, QTextCursor.MoveMode.MoveAnchor, offset
        )
        self.setTextCursor(cursor)
        self.centerCursor()
        self.setFocus(Qt.FocusReason.OtherFocusReason)
