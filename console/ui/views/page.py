"""A page of the main window: a header, then one editor or several in tabs."""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from console.ui import icons
from console.ui.theme import Theme
from console.ui.views.editor import RecordEditor
from console.ui.widgets.common import PageHeader


class Page(QWidget):
    """A sidebar destination. Subclasses set ``title`` and ``icon_name``."""

    title: ClassVar[str]
    icon_name: ClassVar[str]
    #: A sentence for the status bar.
    message = Signal(str)

    def __init__(self, theme: Theme, subtitle: str, parent: QWidget | None = None) -> None:
        """A page with a header; add content with :meth:`add_tab` or :meth:`set_content`."""
        super().__init__(parent)
        self.setObjectName(f"page-{self.title.lower()}")
        self.theme = theme
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.header = PageHeader(self.title, subtitle)
        layout.addWidget(self.header)
        self._layout = layout
        self.tabs: QTabWidget | None = None

    def set_content(self, widget: QWidget) -> None:
        """The page's single body."""
        self._layout.addWidget(widget, 1)
        self._connect(widget)

    def add_tab(self, widget: QWidget, label: str, icon_name: str) -> None:
        """Add one of several bodies, each in a tab under the header."""
        if self.tabs is None:
            self.tabs = QTabWidget()
            self.tabs.setDocumentMode(True)
            self.tabs.setObjectName("PageTabs")
            self._layout.addWidget(self.tabs, 1)
        self.tabs.addTab(widget, icons.icon(icon_name, self.theme.muted), label)
        self._connect(widget)

    def _connect(self, widget: QWidget) -> None:
        if isinstance(widget, RecordEditor):
            widget.message.connect(self.message)

    def current_editor(self) -> RecordEditor | None:
        """The editor the user is looking at (target of New, Save, Delete, Find)."""
        widget: QWidget | None
        if self.tabs is not None:
            widget = self.tabs.currentWidget()
        else:
            item = self._layout.itemAt(1)
            widget = item.widget() if item is not None else None
        return widget if isinstance(widget, RecordEditor) else None
