"""The Incidents page: the incident list with its filters, and the selected incident's detail.

Every read and every action runs on the store worker: the list comes from `IncidentFeed` (which
follows the store, so the CLI, the engine and other consoles show up here), the detail from
`read_detail`, and each button calls the same `console.store.incidents` function the CLI calls.
The store re-checks the rule inside its transaction, so a button pressed on a view a moment out
of date is refused with the store's message ("INC-7 is already acknowledged by ..."), shown in
the detail pane and the status bar; the page never acts on what it merely believes.

Keys (while the page is shown): A acknowledge, O acknowledge on behalf of someone, E escalate
now, M mitigate, R resolve, S snooze, T reassign, G merge, P priority, B join the bridge, N report
an incident.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from PySide6.QtCore import QModelIndex, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.core.enums import Priority
from console.core.errors import ConsoleError
from console.core.incident_policy import SignalOutcome
from console.core.incidents import Incident, IncidentState
from console.core.signals import ManualReport
from console.store import escalations
from console.store import incidents as incident_store
from console.store.db import Store
from console.ui import icons, labels
from console.ui.dialogs.incident_actions import (
    AckOnBehalfDialog,
    MergeDialog,
    PriorityDialog,
    ReassignDialog,
    SnoozeChoice,
    SnoozeDialog,
)
from console.ui.dialogs.incident_report import ReportDialog
from console.ui.estate import EstateModel
from console.ui.models.base import KEY_ROLE, FilterProxy
from console.ui.models.incident_feed import (
    IncidentDetail,
    IncidentFeed,
    IncidentFilter,
    StateFilter,
    read_detail,
)
from console.ui.models.incidents import IncidentTableModel, state_text
from console.ui.theme import Theme
from console.ui.views.incident_detail import COMMANDS, IncidentDetailPane
from console.ui.views.page import Page
from console.ui.widgets.common import EmptyState, button

log = logging.getLogger(__name__)

#: How often ages are recomputed while nothing else changes.
AGE_TICK_MS = 30_000


@runtime_checkable
class Navigator(Protocol):
    """What the page needs of its window to open another page (the main window has it)."""

    def show_page(self, name: str) -> bool:
        """Switch to the page called ``name``."""
        ...

    def page(self, name: str) -> Any:
        """The page called ``name``."""
        ...


class IncidentsPage(Page):
    """Open incidents, unacknowledged first, and one incident's response and timeline."""

    title = "Incidents"
    icon_name = "incidents"

    def __init__(self, estate: EstateModel, theme: Theme, parent: QWidget | None = None) -> None:
        """The list, its filters and the detail pane; reading starts with the estate."""
        super().__init__(
            theme,
            "Unacknowledged first, then by priority. Keys: A acknowledge, O on behalf, "
            "E escalate, M mitigate, R resolve, S snooze, T reassign, G merge, P priority, "
            "B bridge, N report.",
            parent,
        )
        self.estate_model = estate
        self.feed = IncidentFeed(estate, self)
        self.model = IncidentTableModel(theme, self)
        self.proxy = FilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.selected: str | None = None
        self.dialog: QDialog | None = None
        self._detail_token = 0
        self._started = False
        self.report_button = button(
            "Report incident", icons.icon("add", theme.accent_text), name="Primary"
        )
        self.report_button.setToolTip("Open an incident from someone's report (N)")
        self.report_button.clicked.connect(self.report_incident)
        self.header.action_row.addWidget(self.report_button)
        self.detail = IncidentDetailPane(theme, estate.store.clock.now)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.setHandleWidth(14)
        split.addWidget(self._build_list())
        split.addWidget(self.detail)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([360, 540])
        body = QWidget()
        box = QVBoxLayout(body)
        box.setContentsMargins(20, 14, 20, 14)
        box.addWidget(split)
        self.set_content(body)
        self._wire()
        self._age_timer = QTimer(self)
        self._age_timer.setInterval(AGE_TICK_MS)
        self._age_timer.timeout.connect(lambda: self.model.set_now(estate.store.clock.now()))

    # -- construction ----------------------------------------------------------------------

    def _build_list(self) -> QWidget:
        panel = QFrame()
        panel.setObjectName("Panel")
        box = QVBoxLayout(panel)
        box.setContentsMargins(14, 12, 14, 8)
        box.setSpacing(8)
        box.addLayout(self._build_filters())
        self.table = QTableView()
        self.table.setObjectName("incident-list")
        self.table.setAccessibleName("Incidents")
        self.table.setModel(self.proxy)
        _configure(self.table, self.model.titles)
        # No column is sorted at first: the store's order (unacknowledged first) holds until a
        # header is clicked.
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.empty = EmptyState(
            self.theme, "incidents", "No incidents", "Nothing matches: all quiet, or filtered out."
        )
        self.list_stack = QStackedWidget()
        self.list_stack.addWidget(self.table)
        self.list_stack.addWidget(self.empty)
        box.addWidget(self.list_stack, 1)
        self.count_label = QLabel("Loading…")
        self.count_label.setObjectName("Muted")
        box.addWidget(self.count_label)
        return panel

    def _build_filters(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("incident-search")
        self.search.setPlaceholderText("Search incidents: number, title, service, team…")
        self.search.setAccessibleName("Search incidents")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(
            icons.icon("search", self.theme.muted), QLineEdit.ActionPosition.LeadingPosition
        )
        self.state_filter = _combo("incident-state-filter", "Show incidents in state")
        for choice in StateFilter:
            self.state_filter.addItem(choice.value, choice)
        self.team_filter = _combo("incident-team-filter", "Show incidents of team")
        self.team_filter.addItem("All teams", None)
        self.priority_filter = _combo("incident-priority-filter", "Show incidents of priority")
        self.priority_filter.addItem("All priorities", None)
        for priority, text in labels.PRIORITY.items():
            self.priority_filter.addItem(text, priority)
        row.addWidget(self.search, 1)
        for combo in (self.state_filter, self.team_filter, self.priority_filter):
            row.addWidget(combo)
        return row

    def _wire(self) -> None:
        self.search.textChanged.connect(self._on_search)
        for combo in (self.state_filter, self.team_filter, self.priority_filter):
            combo.currentIndexChanged.connect(self._on_filter_chosen)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.feed.loaded.connect(self._on_list_loaded)
        self.feed.failed.connect(self.message)
        self.estate_model.changed.connect(self._on_estate_changed)
        self.detail.openRunbook.connect(self.open_runbook)
        self.detail.openIncident.connect(self.show_incident)
        self.detail.bridge_button.clicked.connect(self.join_bridge)
        handlers: dict[str, Callable[[], None]] = {
            "acknowledge": self.acknowledge,
            "behalf": self.acknowledge_on_behalf,
            "escalate": self.escalate,
            "mitigate": self.mitigate,
            "resolve": self.resolve,
            "snooze": self.snooze,
            "reassign": self.reassign,
            "merge": self.merge,
            "priority": self.override_priority,
        }
        for command in COMMANDS:
            self.detail.buttons[command.name].clicked.connect(handlers[command.name])
            self._shortcut(command.key, handlers[command.name])
        self._shortcut("B", self.join_bridge)
        self._shortcut("N", self.report_incident)

    def _shortcut(self, key: str, slot: Callable[[], None]) -> None:
        # Window-wide while the page is shown (a hidden page's actions do not fire); text
        # fields keep their letters, as they claim printable keys before shortcuts.
        action = QAction(self)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)

    # -- the list --------------------------------------------------------------------------

    def _on_estate_changed(self) -> None:
        estate = self.estate_model.estate
        names = {t.key: t.name for t in estate.teams}
        names.update({s.key: s.name for s in estate.services})
        self.model.set_names(names)
        self._refresh_team_choices()
        if not self._started:
            self._started = True
            self.feed.start()
            self._age_timer.start()
        elif self.detail.detail is not None:
            self.detail.show_detail(self.detail.detail, estate)

    def _refresh_team_choices(self) -> None:
        current = self.team_filter.currentData()
        self.team_filter.blockSignals(True)
        try:
            self.team_filter.clear()
            self.team_filter.addItem("All teams", None)
            for team in self.estate_model.estate.teams:
                self.team_filter.addItem(team.name, team.key)
            self.team_filter.setCurrentIndex(max(0, self.team_filter.findData(current)))
        finally:
            self.team_filter.blockSignals(False)

    def current_filter(self) -> IncidentFilter:
        """What the filter boxes ask for."""
        return IncidentFilter(
            state=self.state_filter.currentData(),
            team=self.team_filter.currentData(),
            priority=self.priority_filter.currentData(),
        )

    def _on_filter_chosen(self, *_args: object) -> None:
        self.feed.set_filter(self.current_filter())

    def set_filter(
        self,
        state: StateFilter = StateFilter.OPEN,
        team: str | None = None,
        priority: Priority | None = None,
    ) -> None:
        """Choose the filters (as picking them in the boxes does)."""
        for combo, value in (
            (self.state_filter, state),
            (self.team_filter, team),
            (self.priority_filter, priority),
        ):
            combo.setCurrentIndex(max(0, combo.findData(value)))

    def _on_search(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._update_count()

    def _on_list_loaded(self) -> None:
        current = self.feed.current
        if current is None:
            return
        self.model.set_incidents(current.incidents, current.now)
        self.list_stack.setCurrentWidget(self.table if current.incidents else self.empty)
        self._update_count()
        if self.selected is not None and self._select_row(self.selected):
            self._load_detail()  # the same incident: show what changed
        elif self.selected is not None:
            self.table.clearSelection()
            self._load_detail()  # no longer listed (resolved, filtered): still shown
        elif self.proxy.rowCount():
            self.table.setCurrentIndex(self.proxy.index(0, 0))

    def _update_count(self) -> None:
        incidents = self.model.incidents
        waiting = sum(1 for i in incidents if i.state is IncidentState.TRIGGERED)
        shown = self.proxy.rowCount()
        noun = "incident" if len(incidents) == 1 else "incidents"
        text = f"{len(incidents)} {noun}, {waiting} unacknowledged"
        if shown != len(incidents):
            text = f"{shown} of {text}"
        self.count_label.setText(text)

    def _select_row(self, incident_id: str) -> bool:
        row = self.model.row_of(incident_id)
        if row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        if self.table.currentIndex().row() != index.row():
            self.table.setCurrentIndex(index)
            self.table.scrollTo(index)
        return True

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        incident_id = current.data(KEY_ROLE)
        if incident_id != self.selected:
            self.selected = incident_id
            self.detail.clear_message()
            self._load_detail()

    def show_incident(self, incident_id: str) -> None:
        """Select an incident (any state: the list widens to every state if it must)."""
        self.selected = incident_id
        self.detail.clear_message()
        if not self._select_row(incident_id) and self.state_filter.currentData() is not (
            StateFilter.ALL
        ):
            self.set_filter(StateFilter.ALL, None, None)
            self.search.clear()
        self._load_detail()

    # -- the detail ------------------------------------------------------------------------

    def _load_detail(self) -> None:
        incident_id = self.selected
        if incident_id is None:
            self.detail.show_detail(None, self.estate_model.estate)
            return
        self._detail_token += 1
        token = self._detail_token
        store = self.estate_model.store
        try:
            job = self.estate_model.query(lambda _db: read_detail(store, incident_id))
        except RuntimeError:  # the worker has shut down: the console is closing
            return
        job.succeeded.connect(lambda detail: self._on_detail(token, detail))
        job.failed.connect(lambda exc: self._on_detail_failed(token, exc))

    def _on_detail(self, token: int, detail: IncidentDetail) -> None:
        if token == self._detail_token:
            self.detail.show_detail(detail, self.estate_model.estate)

    def _on_detail_failed(self, token: int, exc: BaseException) -> None:
        if token == self._detail_token:
            self.detail.show_message(f"Could not read the incident: {exc}")

    def incident(self) -> Incident | None:
        """The incident the detail pane shows."""
        shown = self.detail.detail
        return None if shown is None else shown.incident

    # -- actions ---------------------------------------------------------------------------

    def _act(self, doing: str, fn: Callable[[Store], Any]) -> None:
        """Run a store command on the worker; its result or refusal comes back here."""
        store = self.estate_model.store
        self.detail.clear_message()
        try:
            job = self.estate_model.call(lambda: fn(store))
        except RuntimeError:
            return
        job.succeeded.connect(lambda result: self._done(doing, result))
        job.failed.connect(lambda exc: self._refused(doing, exc))

    def _done(self, doing: str, result: object) -> None:
        if isinstance(result, SignalOutcome):
            self.message.emit(f"Opened {result.incident.ref}: {result.incident.title}")
            self.show_incident(result.incident.id)
        elif isinstance(result, Incident):
            self.message.emit(f"{result.ref}: {doing} done, now {state_text(result).lower()}")
        self.feed.reload()

    def _refused(self, doing: str, exc: BaseException) -> None:
        if isinstance(exc, ConsoleError):
            text = str(exc)
        else:  # a bug: keep the traceback in the log, tell the user nothing changed
            log.error("%s failed", doing, exc_info=exc)
            text = f"Unexpected error; nothing was changed: {exc}"
        self.detail.show_message(text)
        self.message.emit(f"Not done ({doing}): {text}")
        self.feed.reload()

    def _target(self) -> Incident | None:
        incident = self.incident()
        if incident is None:
            self.message.emit("Select an incident first")
        return incident

    def acknowledge(self) -> None:
        """Acknowledge the shown incident (A)."""
        if (i := self._target()) is not None:
            self._act("acknowledge", lambda s: incident_store.acknowledge(s, i.id))

    def escalate(self) -> None:
        """Page the next level of the shown incident's escalation now (E)."""
        if (i := self._target()) is not None:
            self._act("escalate", lambda s: escalations.escalate(s, i.id))

    def acknowledge_on_behalf(self) -> None:
        """Ask who answered and how, then acknowledge for them (O)."""
        if (i := self._target()) is not None:
            shown = self.detail.detail
            members = [(m.email, m.name) for m in self.estate_model.estate.members]
            dialog = AckOnBehalfDialog(i, members, _reached(shown), self)

            def run() -> None:
                member, via = dialog.answer()
                self._act(
                    "acknowledge on behalf",
                    lambda s: escalations.acknowledge_on_behalf(s, i.id, member, via.value),
                )

            self._ask(dialog, run)

    def mitigate(self) -> None:
        """Record that the shown incident's impact stopped (M)."""
        if (i := self._target()) is not None:
            self._act("mitigate", lambda s: incident_store.mitigate(s, i.id))

    def resolve(self) -> None:
        """Resolve the shown incident (R)."""
        if (i := self._target()) is not None:
            self._act("resolve", lambda s: incident_store.resolve(s, i.id))

    def snooze(self) -> None:
        """Ask how long, then snooze the shown incident (S)."""
        if (i := self._target()) is not None:
            dialog = SnoozeDialog(i, self.estate_model.store.clock.now(), self)
            self._ask(dialog, lambda: self._snooze(i, dialog.choice()))

    def _snooze(self, i: Incident, choice: SnoozeChoice) -> None:
        self._act(
            "snooze",
            lambda s: incident_store.snooze(s, i.id, until=choice.until_from(s.clock.now())),
        )

    def reassign(self) -> None:
        """Ask which team and why, then reassign the shown incident (T)."""
        if (i := self._target()) is not None:
            teams = [(t.key, t.name) for t in self.estate_model.estate.teams]
            dialog = ReassignDialog(i, teams, self)

            def run() -> None:
                team, reason = dialog.answer()
                self._act(
                    "reassign", lambda s: incident_store.reassign(s, i.id, team, reason=reason)
                )

            self._ask(dialog, run)

    def merge(self) -> None:
        """Ask which open incident to merge into, then merge the shown one (G)."""
        if (i := self._target()) is not None:
            open_ones = [x for x in self.model.incidents if x.is_open]
            dialog = MergeDialog(i, open_ones, self)
            self._ask(
                dialog,
                lambda: self._act(
                    "merge", lambda s: incident_store.merge(s, i.id, dialog.answer())
                ),
            )

    def override_priority(self) -> None:
        """Ask which priority and why, then set it by hand (P)."""
        if (i := self._target()) is not None:
            dialog = PriorityDialog(i, self)

            def run() -> None:
                priority, reason = dialog.answer()
                self._act(
                    "priority",
                    lambda s: incident_store.override_priority(s, i.id, priority, reason=reason),
                )

            self._ask(dialog, run)

    def report_incident(self) -> None:
        """Take down someone's report and open an incident from it (N)."""
        estate = self.estate_model.estate
        dialog = ReportDialog(
            [(s.key, s.name) for s in estate.services],
            [(t.key, t.name) for t in estate.teams],
            self,
        )
        self._ask(dialog, lambda: self._report(dialog.report()))

    def _report(self, report: ManualReport) -> None:
        self._act("report", lambda s: incident_store.create_manual(s, report))

    def _ask(self, dialog: QDialog, then: Callable[[], None]) -> None:
        """Open ``dialog`` (window-modal, not blocking); ``then`` runs if it is accepted."""
        self.dialog = dialog

        def finished(result: int) -> None:
            self.dialog = None
            dialog.deleteLater()
            # Back to the list, so the next key (A, M, R...) works straight away.
            self.window().activateWindow()
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)
            if result == QDialog.DialogCode.Accepted:
                then()

        dialog.finished.connect(finished)
        dialog.open()

    def join_bridge(self) -> None:
        """Open the conference bridge of the shown incident's team (B)."""
        url = self.detail.bridge_url()
        if url is None:
            self.message.emit("The incident's team has no conference bridge")
            return
        if not QDesktopServices.openUrl(QUrl(url)):
            self.detail.show_message(f"Could not open the bridge {url}: no application for it")
            return
        self.message.emit(f"Opening the bridge: {url}")

    def open_runbook(self, key: str) -> None:
        """Switch to the Runbooks page with the runbook ``key`` selected."""
        window = self.window()
        if not isinstance(window, Navigator) or not window.show_page("Runbooks"):
            self.message.emit("The Runbooks page is not available")
            return
        page = window.page("Runbooks")
        editor = getattr(page, "runbooks", None)
        tabs = getattr(page, "tabs", None)
        if tabs is not None and editor is not None:
            tabs.setCurrentWidget(editor)
        if editor is not None:
            editor.filter_edit.clear()  # a search that hides the runbook would defeat the link
            editor.select_key(key)


def _reached(detail: IncidentDetail | None) -> tuple[str, ...]:
    """Whom the current escalation level reached (offered first: they are who answers)."""
    progress = None if detail is None else detail.progress
    return () if progress is None else tuple(r.member for r in progress.recipients)


def _configure(table: QTableView, titles: tuple[str, ...]) -> None:
    """The list's look and keys: whole rows, one at a time, arrows within and Tab out."""
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(30)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft)
    for column, title in enumerate(titles):
        mode = QHeaderView.ResizeMode.ResizeToContents
        if title == "Title":
            mode = QHeaderView.ResizeMode.Stretch
        header.setSectionResizeMode(column, mode)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setTabKeyNavigation(False)


def _combo(name: str, accessible: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setAccessibleName(accessible)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return combo
