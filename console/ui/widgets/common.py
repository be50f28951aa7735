"""Small building blocks every page uses: header, empty state, banner, buttons."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from console.ui import icons
from console.ui.theme import Theme


class PageHeader(QFrame):
    """A page's title and one-line purpose, with room for actions on the right."""

    def __init__(self, title: str, subtitle: str, parent: QWidget | None = None) -> None:
        """A header reading ``title`` over ``subtitle``."""
        super().__init__(parent)
        self.setObjectName("PageHeader")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(28, 18, 28, 16)
        text = QVBoxLayout()
        text.setSpacing(2)
        self.title = QLabel(title)
        self.title.setObjectName("PageTitle")
        self.subtitle = QLabel(subtitle)
        self.subtitle.setObjectName("PageSubtitle")
        self.subtitle.setWordWrap(True)
        text.addWidget(self.title)
        text.addWidget(self.subtitle)
        layout.addLayout(text, 1)
        self.action_row = QHBoxLayout()
        self.action_row.setSpacing(8)
        layout.addLayout(self.action_row)


class EmptyState(QWidget):
    """What a page or a list shows when it has nothing: an icon, a sentence, maybe a list."""

    WIDTH = 520

    def __init__(
        self,
        theme: Theme,
        icon_name: str,
        title: str,
        text: str,
        points: Sequence[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        """Build the empty state; ``points`` become a short bulleted card under the text."""
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(32, 32, 32, 32)
        outer.addStretch(2)
        column = QWidget()
        column.setMaximumWidth(self.WIDTH)
        layout = QVBoxLayout(column)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.icon = QLabel()
        self.icon.setPixmap(icons.pixmap(icon_name, theme.muted, 56, self.devicePixelRatioF()))
        self.icon.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.title = QLabel(title)
        self.title.setObjectName("EmptyTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.title.setWordWrap(True)
        self.text = QLabel(text)
        self.text.setObjectName("EmptyText")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.icon)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        if points:
            layout.addSpacing(8)
            layout.addWidget(self._points(theme, points))
        self.buttons = QHBoxLayout()
        self.buttons.addStretch(1)
        self.buttons.addStretch(1)
        layout.addSpacing(4)
        layout.addLayout(self.buttons)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(column, 100)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(3)

    @staticmethod
    def _points(theme: Theme, points: Sequence[str]) -> QWidget:
        card = QFrame()
        card.setObjectName("Panel")
        box = QVBoxLayout(card)
        box.setContentsMargins(18, 14, 18, 14)
        box.setSpacing(8)
        for point in points:
            line = QHBoxLayout()
            line.setSpacing(10)
            mark = QLabel()
            mark.setPixmap(icons.pixmap("save", theme.accent, 16, card.devicePixelRatioF()))
            mark.setAlignment(Qt.AlignmentFlag.AlignTop)
            mark.setContentsMargins(0, 2, 0, 0)
            label = QLabel(point)
            label.setWordWrap(True)
            line.addWidget(mark)
            line.addWidget(label, 1)
            box.addLayout(line)
        return card

    def add_button(self, button: QPushButton) -> None:
        """Offer an action (centred under the text)."""
        self.buttons.insertWidget(self.buttons.count() - 1, button)


class Banner(QLabel):
    """A form-wide message (an error the fields cannot show, a conflict on delete)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """A hidden banner."""
        super().__init__(parent)
        self.setObjectName("Banner")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.hide()

    def show_message(self, text: str) -> None:
        """Show ``text``."""
        self.setText(text)
        self.show()

    def clear_message(self) -> None:
        """Hide the banner."""
        self.clear()
        self.hide()


def button(text: str, icon: QIcon | None = None, *, name: str | None = None) -> QPushButton:
    """A push button; ``name`` picks a style (Primary, Danger)."""
    out = QPushButton(text)
    if icon is not None:
        out.setIcon(icon)
    if name:
        out.setObjectName(name)
    out.setAutoDefault(False)
    return out


def section_title(text: str) -> QLabel:
    """A small bold heading inside a form."""
    label = QLabel(text.upper())
    label.setObjectName("SectionTitle")
    return label
