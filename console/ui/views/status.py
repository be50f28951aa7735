"""The Monitoring page: every endpoint's check and metric as it stands, live, worst first.

The table is the accessible heart of monitoring: every state is a word, a shape and a colour,
every column sorts, the filters and the search narrow it, and the keyboard reaches everything
(Ctrl+F searches; arrows move through the rows; Shift or Ctrl with arrows or clicks select
several). Selecting rows charts them below the table (``status_charts.ChartPanel``).

Nothing here reads the store on the UI thread: the statuses come from :class:`StatusFeed` every
two seconds while the page is shown, the sparklines of the rows in view from the same worker
(each at most every 30 s), and the time columns are recomputed each second from the clock alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QSize, Qt, QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.core.status import DisplayState, MetricStatus
from console.ui import icons
from console.ui.estate import EstateModel
from console.ui.models.status import (
    PROBLEMS,
    SPARK_ROLE,
    STATE_ORDER,
    Column,
    Key,
    StatusFilter,
    StatusFilterProxy,
    StatusTableModel,
    state_icon,
)
from console.ui.models.status_feed import StatusFeed, StatusReading, read_sparklines
from console.ui.theme import Theme
from console.ui.views.page import Page
from console.ui.views.status_charts import ChartPanel
from console.ui.widgets.sparkline import Sparkline, SparklineDelegate

#: How often the time columns (time in state, last check, STALE) are recomputed.
TICK_MS = 1_000
#: Rows beyond the visible ones whose sparklines are read too (a short scroll finds them).
SPARK_MARGIN_ROWS = 10
#: How long scrolling or filtering must pause before sparklines are read.
SPARK_DELAY_MS = 150
SUBTITLE = (
    "Every endpoint's check and metric as it stands, worst first. Select rows to chart them "
    "(Shift or Ctrl for several); Ctrl+F searches."
)
#: Fixed widths of the narrow columns; Endpoint takes what is left. The metric column fits the
#: longest demo metric name whole ("ledger-writer consumer lag"): it is what an operator reads.
WIDTHS = {
    Column.STATE: 122,
    Column.SERVICE: 150,
    Column.METRIC: 224,
    Column.VALUE: 90,
    Column.LIMITS: 172,
    Column.IN_STATE: 96,
    Column.LAST_CHECK: 98,
    Column.TREND: 124,
}


class StateCounts(QWidget):
    """The line above the table: how many metrics are in each state, and how many are shown."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        """Every state at zero."""
        super().__init__(parent)
        self.setObjectName("status-counts")
        self.theme = theme
        row = QHBoxLayout(self)
        row.setContentsMargins(2, 0, 2, 0)
        row.setSpacing(4)
        self.labels: dict[DisplayState, QLabel] = {}
        for state in STATE_ORDER:
            mark = QLabel()
            mark.setPixmap(state_icon(state).pixmap(14, 14))
            label = QLabel()
            row.addWidget(mark)
            row.addWidget(label)
            row.addSpacing(12)
            self.labels[state] = label
        row.addStretch(1)
        self.shown_label = QLabel()
        self.shown_label.setObjectName("Muted")
        row.addWidget(self.shown_label)
        self.set_counts(dict.fromkeys(STATE_ORDER, 0), 0, 0)

    def set_counts(self, counts: dict[DisplayState, int], shown: int, total: int) -> None:
        """Show ``counts`` per state and that ``shown`` of ``total`` rows pass the filters."""
        spoken = []
        for state, label in self.labels.items():
            count = counts.get(state, 0)
            text = f"{state.label} {count}"
            if label.text() != text:
                label.setText(text)
                weight = "600" if count and state is not DisplayState.OK else "400"
                colour = self.theme.text if count else self.theme.muted
                label.setStyleSheet(f"color: {colour}; font-weight: {weight};")
            spoken.append(f"{count} {state.label}")
        noun = "metric" if total == 1 else "metrics"
        if total == 0:
            shown_text = "No metrics are monitored yet: add endpoints on the Endpoints page."
        elif shown == total:
            shown_text = f"{total} {noun}"
        else:
            shown_text = f"{shown} of {total} {noun} shown"
        if self.shown_label.text() != shown_text:
            self.shown_label.setText(shown_text)
        self.setAccessibleName("State counts: " + ", ".join(spoken) + f"; {shown_text}")


class StatusPage(Page):
    """The live monitoring table, its filters and counts, and the charts of the selected rows."""

    title = "Monitoring"
    icon_name = "monitoring"

    def __init__(self, estate: EstateModel, theme: Theme, parent: QWidget | None = None) -> None:
        """The page; reading starts once the estate has loaded and the page is shown."""
        super().__init__(theme, SUBTITLE, parent)
        self.estate_model = estate
        self.clock = estate.store.clock
        self.model = StatusTableModel(self.clock.now(), self)
        self.proxy = StatusFilterProxy(self.model, self)
        self.feed = StatusFeed(estate.store, estate.runner, parent=self)
        self.charts = ChartPanel(estate, theme)
        #: The selected rows' keys, in the order they were selected (the charts' order).
        self.selected: list[Key] = []
        self._started = False
        self._chose_first = False
        self._sparks_pending = False
        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("status-split")
        split.setChildrenCollapsible(False)
        split.setHandleWidth(14)
        split.addWidget(self._build_table_panel())
        split.addWidget(self._panel(self.charts))
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([420, 440])
        self.splitter = split
        body = QWidget()
        box = QVBoxLayout(body)
        box.setContentsMargins(20, 14, 20, 14)
        box.addWidget(split)
        self.set_content(body)
        self.tick_timer = QTimer(self)
        self.tick_timer.setInterval(TICK_MS)
        self.tick_timer.timeout.connect(self.tick)
        self._spark_timer = QTimer(self)
        self._spark_timer.setSingleShot(True)
        self._spark_timer.setInterval(SPARK_DELAY_MS)
        self._spark_timer.timeout.connect(self.fetch_sparklines)
        self._wire()

    # -- construction -----------------------------------------------------------------------

    @staticmethod
    def _panel(content: QWidget) -> QFrame:
        panel = QFrame()
        panel.setObjectName("Panel")
        box = QVBoxLayout(panel)
        box.setContentsMargins(14, 12, 14, 10)
        box.addWidget(content)
        return panel

    def _build_table_panel(self) -> QWidget:
        panel = QFrame()
        panel.setObjectName("Panel")
        box = QVBoxLayout(panel)
        box.setContentsMargins(14, 12, 14, 8)
        box.setSpacing(8)
        box.addLayout(self._build_filters())
        self.counts = StateCounts(self.theme)
        box.addWidget(self.counts)
        self.table = QTableView()
        self.table.setObjectName("status-table")
        self.table.setAccessibleName("Metric states")
        self.table.setAccessibleDescription(
            "One row per endpoint check and metric: state, service, endpoint, metric, last "
            "value, band or thresholds, time in state, last check and the last hour. "
            "Selected rows are charted below."
        )
        self.table.setModel(self.proxy)
        self.table.setItemDelegateForColumn(Column.TREND, SparklineDelegate(SPARK_ROLE, self))
        _configure(self.table)
        self.table.horizontalHeader().setSortIndicator(Column.STATE, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        box.addWidget(self.table, 1)
        return panel

    def _build_filters(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("status-search")
        self.search.setPlaceholderText("Search services, endpoints and metrics…  (Ctrl+F)")
        self.search.setAccessibleName("Search metrics")
        self.search.setAccessibleDescription(
            "Shows only the rows whose service, endpoint, metric or team holds these words"
        )
        self.search.setClearButtonEnabled(True)
        self.search.addAction(
            icons.icon("search", self.theme.muted), QLineEdit.ActionPosition.LeadingPosition
        )
        self.team_filter = _combo("status-team-filter", "Show metrics of team")
        self.team_filter.addItem("All teams", None)
        self.service_filter = _combo("status-service-filter", "Show metrics of service")
        self.service_filter.addItem("All services", None)
        self.state_filter = _combo("status-state-filter", "Show metrics in state")
        self.state_filter.addItem("All states", None)
        self.state_filter.addItem("Problems (not OK)", PROBLEMS)
        for state in STATE_ORDER:
            self.state_filter.addItem(state_icon(state), state.label, frozenset({state}))
        row.addWidget(self.search, 1)
        for combo in (self.team_filter, self.service_filter, self.state_filter):
            row.addWidget(combo)
        return row

    def _wire(self) -> None:
        self.search.textChanged.connect(self._apply_filter)
        self.team_filter.currentIndexChanged.connect(self._on_team_chosen)
        for combo in (self.service_filter, self.state_filter):
            combo.currentIndexChanged.connect(self._apply_filter)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        # Not connected to QTimer.start directly: the scroll value would become its interval.
        self.table.verticalScrollBar().valueChanged.connect(self._sparklines_soon)
        self.proxy.layoutChanged.connect(self._sparklines_soon)
        self.feed.reading.connect(self._on_reading)
        self.feed.failed.connect(self.message)
        self.estate_model.changed.connect(self._on_estate_changed)
        QWidget.setTabOrder(self.search, self.team_filter)
        QWidget.setTabOrder(self.team_filter, self.service_filter)
        QWidget.setTabOrder(self.service_filter, self.state_filter)
        QWidget.setTabOrder(self.state_filter, self.table)

    # -- running ----------------------------------------------------------------------------

    def _on_estate_changed(self) -> None:
        self._refresh_choices()
        if not self._started:
            self._started = True
            if self.isVisible():
                self._resume()

    def _resume(self) -> None:
        self.tick()
        self.feed.start()
        self.tick_timer.start()

    def showEvent(self, event: QShowEvent) -> None:
        """Read and tick while shown (a hidden page costs nothing)."""
        super().showEvent(event)
        if self._started:
            self._resume()

    def hideEvent(self, event: QHideEvent) -> None:
        """Stop reading while hidden."""
        super().hideEvent(event)
        self.feed.stop()
        self.tick_timer.stop()

    def tick(self) -> None:
        """Recompute time in state, data ages and STALE for the clock's now (no store read)."""
        self.model.set_now(self.clock.now())
        self._update_counts()

    def _on_reading(self, reading: StatusReading) -> None:
        self.model.set_statuses(reading.statuses, self.clock.now())
        self._update_counts()
        statuses = {
            key: s for key in self.charts.slots if (s := self.model.status_of(key)) is not None
        }
        self.charts.follow(statuses)
        if not self._chose_first and self.proxy.rowCount():
            self._chose_first = True
            if not self.table.selectionModel().hasSelection():
                self.select_row(0)
        self.fetch_sparklines()

    def _update_counts(self) -> None:
        self.counts.set_counts(self.model.counts(), self.proxy.rowCount(), self.model.rowCount())

    # -- filters ------------------------------------------------------------------------------

    def focus_search(self) -> None:
        """Ctrl+F: put the cursor in the search box, its text selected."""
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _refresh_choices(self) -> None:
        estate = self.estate_model.estate
        _refill(self.team_filter, "All teams", [(t.name, t.key) for t in estate.teams])
        self._refresh_services()

    def _refresh_services(self) -> None:
        team = self.team_filter.currentData()
        services = [
            (s.name, s.key)
            for s in self.estate_model.estate.services
            if team is None or s.team == team
        ]
        _refill(self.service_filter, "All services", services)

    def _on_team_chosen(self, *_args: object) -> None:
        self._refresh_services()
        self._apply_filter()

    def current_filter(self) -> StatusFilter:
        """What the search box and the filter boxes ask for."""
        return StatusFilter(
            team=self.team_filter.currentData(),
            service=self.service_filter.currentData(),
            states=self.state_filter.currentData(),
            text=self.search.text().strip(),
        )

    def _apply_filter(self, *_args: object) -> None:
        self.proxy.set_filter(self.current_filter())
        self._update_counts()
        self._sparklines_soon()

    def set_filter(
        self,
        team: str | None = None,
        service: str | None = None,
        states: frozenset[DisplayState] | None = None,
    ) -> None:
        """Choose the filters, as picking them in the boxes does."""
        _choose(self.team_filter, team)
        _choose(self.service_filter, service)
        _choose(self.state_filter, states)

    # -- selection and charts -----------------------------------------------------------------

    def select_row(self, row: int) -> None:
        """Make proxy ``row`` the current row and the only one selected."""
        index = self.proxy.index(row, 0)
        if index.isValid():
            flags = (
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows
            )
            self.table.selectionModel().setCurrentIndex(index, flags)
            self.table.scrollTo(index)

    def selected_statuses(self) -> list[MetricStatus]:
        """The selected rows' statuses, in the order they were selected."""
        return [s for key in self.selected if (s := self.model.status_of(key)) is not None]

    def _on_selection_changed(self, _new: QItemSelection, _old: QItemSelection) -> None:
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        now = self.proxy.keys(rows)
        chosen = set(now)
        kept = [key for key in self.selected if key in chosen]
        self.selected = kept + [key for key in now if key not in set(kept)]
        self.charts.show_statuses(self.selected_statuses())

    # -- sparklines ---------------------------------------------------------------------------

    def _sparklines_soon(self, *_args: object) -> None:
        """Read the sparklines in view once scrolling, sorting or filtering pauses."""
        self._spark_timer.start()

    def visible_rows(self) -> range:
        """The proxy rows in view, and a few beyond."""
        count = self.proxy.rowCount()
        if not count:
            return range(0)
        top = max(0, self.table.rowAt(0))
        bottom = self.table.rowAt(self.table.viewport().height() - 1)
        bottom = count - 1 if bottom < 0 else bottom
        return range(max(0, top - SPARK_MARGIN_ROWS), min(count, bottom + SPARK_MARGIN_ROWS + 1))

    def fetch_sparklines(self) -> None:
        """Read the sparklines of the rows in view that have none or an old one."""
        if self._sparks_pending or not self.isVisible():
            return
        now = self.clock.now()
        keys = self.model.sparklines_due(self.proxy.keys(self.visible_rows()), now)
        if not keys:
            return
        store = self.estate_model.store
        try:
            self.estate_model.runner.submit(
                lambda: read_sparklines(store, keys, now),
                lambda lines: self._on_sparklines(lines, now),
                self._on_sparklines_failed,
            )
        except RuntimeError:  # the worker has shut down: the console is closing
            return
        self._sparks_pending = True

    def _on_sparklines(self, lines: dict[Key, Sparkline], read_at: datetime) -> None:
        self._sparks_pending = False
        self.model.set_sparklines(lines, read_at)

    def _on_sparklines_failed(self, exc: BaseException) -> None:
        self._sparks_pending = False
        self.message.emit(f"Could not read the sparklines: {exc}")


def _configure(table: QTableView) -> None:
    """Whole rows, several at a time; arrows move within, Tab leaves; fixed narrow columns."""
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(30)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setMinimumSectionSize(60)
    for column in Column:
        if column is Column.ENDPOINT:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        else:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, WIDTHS[column])
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    # Endpoint names often start with their service's: the end tells them apart.
    table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    table.setIconSize(QSize(16, 16))
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setTabKeyNavigation(False)
    table.setAlternatingRowColors(False)


def _combo(name: str, accessible: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setAccessibleName(accessible)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return combo


def _refill(combo: QComboBox, everything: str, choices: Sequence[tuple[str, str]]) -> None:
    """Replace a filter box's choices, keeping the current one when it is still offered."""
    current = combo.currentData()
    combo.blockSignals(True)
    try:
        combo.clear()
        combo.addItem(everything, None)
        for text, key in sorted(choices, key=lambda c: c[0].casefold()):
            combo.addItem(text, key)
        _choose(combo, current)
    finally:
        combo.blockSignals(False)
    if combo.currentData() != current:
        combo.currentIndexChanged.emit(combo.currentIndex())


def _choose(combo: QComboBox, value: Any) -> None:
    """Pick the choice whose data equals ``value`` (the first choice when none does)."""
    found = next((i for i in range(combo.count()) if combo.itemData(i) == value), 0)
    combo.setCurrentIndex(found)
