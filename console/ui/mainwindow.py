"""The main window: a sidebar of pages, menus with every action, and a status bar."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console import __version__
from console.ui import icons
from console.ui.estate import EstateModel
from console.ui.theme import Theme
from console.ui.views.editor import RecordEditor
from console.ui.views.escalation import EscalationPage
from console.ui.views.incidents import IncidentsPage
from console.ui.views.monitoring import EndpointsPage
from console.ui.views.page import Page
from console.ui.views.placeholder import PLANNED, PlaceholderPage
from console.ui.views.reports import ReportsPage
from console.ui.views.resources import ResourcesPage
from console.ui.views.runbooks import RunbooksPage
from console.ui.views.services import ServicesPage
from console.ui.views.status import StatusPage
from console.ui.views.teams import TeamsPage

SHORTCUTS = (
    ("Ctrl+1 … Ctrl+9, Ctrl+0", "Go to a page (in sidebar order; Ctrl+0 is the tenth)"),
    ("Ctrl+N", "New record on the current page"),
    ("Ctrl+S", "Save the record being edited"),
    ("Delete", "Delete the selected record (in a list; asks first)"),
    ("Ctrl+F", "Filter or search the current list"),
    ("Ctrl+,", "Settings"),
    ("Tab / Shift+Tab", "Move between fields"),
    ("Ctrl+Q", "Quit"),
)


@runtime_checkable
class Searchable(Protocol):
    """A page with its own search box (not an editor's filter) that Ctrl+F focuses."""

    def focus_search(self) -> None:
        """Put the cursor in the page's search box."""
        ...


def page_shortcut(number: int) -> str | None:
    """The key that goes to the ``number``-th page (1-based): Ctrl+1 to Ctrl+9, then Ctrl+0."""
    if 1 <= number <= 9:
        return f"Ctrl+{number}"
    return "Ctrl+0" if number == 10 else None


def build_pages(estate: EstateModel, theme: Theme) -> list[Page]:
    """Every page in sidebar order."""
    planned = {p.title: p for p in PLANNED}
    return [
        IncidentsPage(estate, theme),
        StatusPage(estate, theme),
        EndpointsPage(estate, theme),
        TeamsPage(estate, theme),
        ServicesPage(estate, theme),
        RunbooksPage(estate, theme),
        ResourcesPage(estate, theme),
        EscalationPage(estate, theme),
        PlaceholderPage(planned["Post-mortems"], theme),
        ReportsPage(estate, theme),
    ]


class MainWindow(QMainWindow):
    """The console's window. It shows the estate model; it does no I/O itself."""

    #: Sent with the page's title whenever the current page changes.
    pageChanged = Signal(str)
    #: File > Settings (Ctrl+,) was chosen; the application opens the settings dialog.
    settingsRequested = Signal()

    def __init__(self, estate: EstateModel, theme: Theme, parent: QWidget | None = None) -> None:
        """Build sidebar, pages, menus and status bar around ``estate``."""
        super().__init__(parent)
        self.estate_model = estate
        self.theme = theme
        self.setWindowTitle(f"On-call Console — {estate.store.path.name}")
        self.setWindowIcon(icons.icon("app", theme.accent))
        self.setMinimumSize(QSize(1024, 640))
        self.pages = build_pages(estate, theme)
        self.stack = QStackedWidget()
        for page in self.pages:
            self.stack.addWidget(page)
            page.message.connect(self.show_message)
        central = QWidget()
        # Bars across the top (the incident banner, see add_top_bar), then sidebar and pages.
        self._top_bars = QVBoxLayout(central)
        self._top_bars.setContentsMargins(0, 0, 0, 0)
        self._top_bars.setSpacing(0)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self._build_sidebar())
        row.addWidget(self.stack, 1)
        self._top_bars.addLayout(row, 1)
        self.setCentralWidget(central)
        self._build_menus()
        self._build_status_bar(estate.store.path)
        estate.loadFailed.connect(self.show_message)
        self.sidebar.setCurrentRow(0)

    # -- construction ----------------------------------------------------------------

    def _build_sidebar(self) -> QWidget:
        frame = QFrame()
        frame.setObjectName("Sidebar")
        frame.setFixedWidth(224)
        box = QVBoxLayout(frame)
        box.setContentsMargins(0, 18, 0, 12)
        box.setSpacing(0)
        brand = QHBoxLayout()
        brand.setContentsMargins(20, 0, 16, 18)
        logo = QLabel()
        logo.setPixmap(icons.pixmap("app", self.theme.accent, 28, self.devicePixelRatioF()))
        names = QVBoxLayout()
        names.setSpacing(0)
        title = QLabel("On-call Console")
        title.setObjectName("AppTitle")
        subtitle = QLabel(f"version {__version__}")
        subtitle.setObjectName("AppSubtitle")
        names.addWidget(title)
        names.addWidget(subtitle)
        brand.addWidget(logo)
        brand.addSpacing(8)
        brand.addLayout(names, 1)
        box.addLayout(brand)
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("SidebarList")
        self.sidebar.setIconSize(QSize(20, 20))
        self.sidebar.setAccessibleName("Pages")
        for number, page in enumerate(self.pages, start=1):
            item = QListWidgetItem(icons.icon(page.icon_name, self.theme.muted), page.title)
            key = page_shortcut(number)
            item.setToolTip(f"{page.title} ({key})" if key else page.title)
            item.setSizeHint(QSize(200, 40))
            self.sidebar.addItem(item)
        self.sidebar.currentRowChanged.connect(self._on_page_selected)
        box.addWidget(self.sidebar, 1)
        return frame

    def _action(
        self, text: str, shortcut: QKeySequence | QKeySequence.StandardKey | str | None, slot: Any
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.settings_action = self._action(
            "&Settings…", "Ctrl+,", lambda: self.settingsRequested.emit()
        )
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        self.quit_action = self._action("&Quit", "Ctrl+Q", self.close)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        file_menu.addAction(self.quit_action)
        edit = bar.addMenu("&Edit")
        self.new_action = self._action("&New", QKeySequence.StandardKey.New, self.new_record)
        self.save_action = self._action("&Save", QKeySequence.StandardKey.Save, self.save)
        self.revert_action = self._action("&Revert", None, self.revert)
        self.delete_action = self._action("&Delete…", None, self.delete)
        self.find_action = self._action("&Find", QKeySequence.StandardKey.Find, self.focus_search)
        for action in (self.new_action, self.save_action, self.revert_action):
            edit.addAction(action)
        edit.addAction(self.delete_action)
        edit.addSeparator()
        edit.addAction(self.find_action)
        go = bar.addMenu("&Go")
        self.page_actions: list[QAction] = []
        for number, page in enumerate(self.pages, start=1):
            action = self._action(page.title, page_shortcut(number), self._go(number - 1))
            go.addAction(action)
            self.page_actions.append(action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("&Keyboard shortcuts", None, self._show_shortcuts))
        help_menu.addAction(self._action("&About", None, self._show_about))

    def _go(self, row: int) -> object:
        def go() -> None:
            self.sidebar.setCurrentRow(row)

        return go

    def _build_status_bar(self, path: Path) -> None:
        status = self.statusBar()
        status.setSizeGripEnabled(False)
        self.store_label = QLabel(f"Store: {path}")
        self.store_label.setToolTip(str(path))
        self.identity_label = QLabel("Identity: …")
        self.engine_label = QLabel("Engine: …")
        self.engine_label.setToolTip("Checking where the monitoring engine runs.")
        self.keyring_label = QLabel("Keyring: …")
        self.keyring_label.setToolTip("Checking the operating system's keyring.")
        status.addPermanentWidget(self.store_label)
        status.addPermanentWidget(self.identity_label)
        status.addPermanentWidget(self.keyring_label)
        status.addPermanentWidget(self.engine_label)

    # -- state -----------------------------------------------------------------------

    def set_identity(self, identity: str | None, actor: str) -> None:
        """Show who this console acts as."""
        if identity:
            self.identity_label.setText(f"Identity: {identity}")
        else:
            self.identity_label.setText(f"Identity: {actor} (none set)")
        if actor != identity:
            self.identity_label.setToolTip(f"Actions are recorded as {actor}")

    def set_engine_status(self, text: str, tooltip: str) -> None:
        """Show where the monitoring engine stands ("Engine: running here")."""
        self.engine_label.setText(text)
        self.engine_label.setToolTip(tooltip)

    def set_keyring_status(self, available: bool, explanation: str) -> None:
        """Say plainly whether credentials can be read (endpoints needing one depend on it)."""
        if available:
            self.keyring_label.setText("Keyring: available")
            self.keyring_label.setStyleSheet("")
        else:
            self.keyring_label.setText("Keyring: unavailable")
            self.keyring_label.setStyleSheet(f"color: {self.theme.error}; font-weight: 600;")
        self.keyring_label.setToolTip(explanation)

    def show_message(self, text: str) -> None:
        """A transient message in the status bar."""
        self.statusBar().showMessage(text, 8000)

    def add_top_bar(self, bar: QWidget) -> None:
        """Put ``bar`` (the incident banner) across the top, above the sidebar and the pages."""
        self._top_bars.insertWidget(self._top_bars.count() - 1, bar)

    def page_names(self) -> list[str]:
        """Titles of the pages, in sidebar order."""
        return [p.title for p in self.pages]

    def page(self, name: str) -> Page | None:
        """The page called ``name`` (case-insensitive)."""
        return next((p for p in self.pages if p.title.casefold() == name.casefold()), None)

    def show_page(self, name: str) -> bool:
        """Switch to the page called ``name`` (case-insensitive); False if there is none."""
        page = self.page(name)
        if page is None:
            return False
        self.sidebar.setCurrentRow(self.pages.index(page))
        return True

    def current_page(self) -> Page:
        """The page on show."""
        return self.pages[self.stack.currentIndex()]

    def _on_page_selected(self, row: int) -> None:
        if 0 <= row < len(self.pages):
            self.stack.setCurrentIndex(row)
            editor = self.pages[row].current_editor()
            for action in (self.new_action, self.save_action, self.revert_action):
                action.setEnabled(editor is not None)
            self.delete_action.setEnabled(editor is not None)
            self.find_action.setEnabled(
                editor is not None or isinstance(self.pages[row], Searchable)
            )
            self.pageChanged.emit(self.pages[row].title)

    # -- actions ---------------------------------------------------------------------

    def _editor(self) -> RecordEditor | None:
        return self.current_page().current_editor()

    def new_record(self) -> None:
        """Ctrl+N: a new record on the current page."""
        if (editor := self._editor()) is not None:
            editor.new_record()

    def save(self) -> None:
        """Ctrl+S: save the record being edited."""
        if (editor := self._editor()) is not None:
            editor.save()

    def revert(self) -> None:
        """Discard the current page's unsaved changes."""
        if (editor := self._editor()) is not None:
            editor.revert()

    def delete(self) -> None:
        """Delete the current record (after confirmation)."""
        if (editor := self._editor()) is not None:
            editor.request_delete()

    def focus_search(self) -> None:
        """Ctrl+F: focus the current list's filter or search field."""
        if (editor := self._editor()) is not None:
            editor.focus_filter()
        elif isinstance(page := self.current_page(), Searchable):
            page.focus_search()

    def _show_shortcuts(self) -> None:
        rows = "".join(
            f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in SHORTCUTS
        )
        QMessageBox.information(self, "Keyboard shortcuts", f"<table>{rows}</table>")

    def _show_about(self) -> None:
        QMessageBox.about(
            self,
            "About On-call Console",
            f"<b>On-call Console</b> {__version__}<br>Teams, services, runbooks, monitoring, "
            "escalation and post-mortems for on-call teams.",
        )

    def _dirty_editors(self) -> list[RecordEditor]:
        return [e for e in self.findChildren(RecordEditor) if e.dirty]

    def closeEvent(self, event: QCloseEvent) -> None:
        """Ask before throwing away unsaved edits."""
        dirty = self._dirty_editors()
        if dirty:
            names = ", ".join(sorted({e.plural for e in dirty}))
            answer = QMessageBox.question(
                self,
                "Quit with unsaved changes?",
                f"There are unsaved changes in: {names}. Quit and lose them?",
                QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Discard:
                event.ignore()
                return
        event.accept()
