"""The live Monitoring page's models: every metric's status as rows, filtered, sorted, refreshed.

``status_feed.StatusFeed`` reads the statuses on the store worker every two seconds (never on
the UI thread); :class:`StatusTableModel` keeps one row per metric and
tells its views only about the rows that changed; :class:`StatusFilterProxy` sorts (worst first
by default, like ``console.core.status.worst_first``) and filters by team, service, state and
text. Everything that depends on the clock (time in state, data age, STALE) is recomputed from
the model's ``now`` by :meth:`StatusTableModel.set_now`, once a second, without a store read.

A state is shown as a word, a shape and a colour (the wall's Okabe-Ito palette and shapes,
``console.ui.wall.style``): the word and the shape carry the meaning, the colour repeats it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from functools import cache
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QObject,
    QRectF,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QFont, QIcon, QImage, QPainter, QPixmap

from console.core.checks import StateType
from console.core.status import DisplayState, MetricStatus, value_text
from console.core.units import format_duration
from console.ui.models.base import ROOT, SORT_ROLE, Index
from console.ui.wall.style import draw_shape, state_colour
from console.ui.wall.text import limits_text, span
from console.ui.widgets.sparkline import Sparkline

Key = tuple[str, str | None]
"""(endpoint key, metric key or None for the endpoint's own check): one row."""

#: The row's MetricStatus.
STATUS_ROLE = int(Qt.ItemDataRole.UserRole) + 20
#: The row's DisplayState as of the model's ``now``.
STATE_ROLE = int(Qt.ItemDataRole.UserRole) + 21
#: The row's Sparkline (None until one was read).
SPARK_ROLE = int(Qt.ItemDataRole.UserRole) + 22

#: How long a sparkline is kept before it is read again.
SPARK_MAX_AGE_S = 30.0
#: Worst first: the order the state counts and the state filter list states in.
STATE_ORDER = tuple(sorted(DisplayState, key=lambda s: -s.rank))


class Column(IntEnum):
    """The table's columns, left to right."""

    STATE = 0
    SERVICE = 1
    ENDPOINT = 2
    METRIC = 3
    VALUE = 4
    LIMITS = 5
    IN_STATE = 6
    LAST_CHECK = 7
    TREND = 8


@dataclass(frozen=True, slots=True)
class _Heading:
    title: str
    tooltip: str


HEADINGS = {
    Column.STATE: _Heading("State", "The state shown: the judged state, STALE data or FLAPPING"),
    Column.SERVICE: _Heading("Service", "The service the endpoint belongs to"),
    Column.ENDPOINT: _Heading("Endpoint", "What is polled"),
    Column.METRIC: _Heading("Metric", "The metric, or the endpoint's own check"),
    Column.VALUE: _Heading("Last value", "The newest value, in its unit"),
    Column.LIMITS: _Heading(
        "Band / thresholds", "The deviation band at the last state change, and the static levels"
    ),
    Column.IN_STATE: _Heading("In state", "How long the state shown has lasted"),
    Column.LAST_CHECK: _Heading("Last check", "How long ago the newest result arrived"),
    Column.TREND: _Heading("Last hour", "The metric over the last hour"),
}


def status_key(status: MetricStatus) -> Key:
    """The row key of a status."""
    return (status.endpoint, status.metric_key)


def state_words(status: MetricStatus, shown: DisplayState, now: datetime) -> str:
    """The state in words: "CRITICAL", "WARNING (soft)" for a state not yet confirmed."""
    if status.state_type is StateType.SOFT and not status.is_stale(now):
        return f"{shown.label} (soft)"
    return shown.label


def seconds_text(seconds: float | None) -> str:
    """A duration to the second ("43 min 4 s"), "-" when unknown."""
    return "-" if seconds is None else format_duration(round(seconds))


@cache
def state_icon(state: DisplayState, size: int = 16) -> QIcon:
    """The state's shape in its colour, as an icon (drawn at twice the size for sharpness)."""
    image = QImage(size * 2, size * 2, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        draw_shape(painter, state, QRectF(3, 3, size * 2 - 6, size * 2 - 6), state_colour(state))
    finally:
        painter.end()  # an image destroyed while painted on crashes the process
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(2.0)
    icon = QIcon(pixmap)
    # The same colours on a selected row: Qt would otherwise tint the shape with the selection.
    icon.addPixmap(pixmap, QIcon.Mode.Selected)
    return icon


# -- the table ------------------------------------------------------------------------------


def _runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted rows as (first, last) runs of consecutive numbers."""
    runs: list[tuple[int, int]] = []
    for row in sorted(rows):
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


class StatusTableModel(QAbstractTableModel):
    """One row per metric (and per endpoint's own check), in the order they first appeared.

    Rows keep their place and identity between refreshes (the proxy does the sorting), so a
    selection survives them; a refresh signals only the rows whose status changed, and
    :meth:`set_now` only the time columns and the rows whose shown state changed.
    """

    def __init__(self, now: datetime, parent: QObject | None = None) -> None:
        """An empty table as of ``now``."""
        super().__init__(parent)
        self._now = now
        self._rows: list[MetricStatus] = []
        self._shown: list[DisplayState] = []
        self._index: dict[Key, int] = {}
        self._sparks: dict[Key, tuple[datetime, Sparkline]] = {}

    # -- contents -----------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        """The moment the time columns are computed for."""
        return self._now

    @property
    def statuses(self) -> tuple[MetricStatus, ...]:
        """The statuses shown, in row order."""
        return tuple(self._rows)

    def status_at(self, row: int) -> MetricStatus:
        """The status of ``row``."""
        return self._rows[row]

    def state_at(self, row: int) -> DisplayState:
        """The shown state of ``row`` as of :attr:`now`."""
        return self._shown[row]

    def row_of(self, key: Key) -> int:
        """The row of the metric ``key``, or -1."""
        return self._index.get(key, -1)

    def status_of(self, key: Key) -> MetricStatus | None:
        """The status of the metric ``key``, if it has a row."""
        row = self._index.get(key)
        return None if row is None else self._rows[row]

    def counts(self) -> dict[DisplayState, int]:
        """How many rows are in each shown state, worst state first (zeros included)."""
        counted = Counter(self._shown)
        return {state: counted[state] for state in STATE_ORDER}

    def set_statuses(self, statuses: Sequence[MetricStatus], now: datetime) -> list[int]:
        """Show ``statuses`` as of ``now``; returns the rows whose status changed.

        Rows of metrics no longer listed are removed, new metrics are appended, and only the
        rows whose status differs are signalled as changed.
        """
        wanted = {status_key(s): s for s in statuses}
        self._remove(row for row, s in enumerate(self._rows) if status_key(s) not in wanted)
        changed = []
        for row, old in enumerate(self._rows):
            new = wanted[status_key(old)]
            if new is not old and new != old:
                self._rows[row] = new
                changed.append(row)
        added = [s for key, s in wanted.items() if key not in self._index]
        if added:
            first = len(self._rows)
            self.beginInsertRows(ROOT, first, first + len(added) - 1)
            for status in added:
                self._index[status_key(status)] = len(self._rows)
                self._rows.append(status)
                self._shown.append(status.display_state(now))
            self.endInsertRows()
        for row in changed:
            self._shown[row] = self._rows[row].display_state(now)
        self._signal_rows(changed, 0, len(Column) - 1)
        self.set_now(now)
        return changed

    def _remove(self, rows: Iterable[int]) -> None:
        runs = _runs(rows)
        if not runs:
            return
        for first, last in reversed(runs):
            self.beginRemoveRows(ROOT, first, last)
            del self._rows[first : last + 1]
            del self._shown[first : last + 1]
            self.endRemoveRows()
        self._index = {status_key(s): row for row, s in enumerate(self._rows)}
        self._sparks = {k: v for k, v in self._sparks.items() if k in self._index}

    def _signal_rows(self, rows: Iterable[int], first_column: int, last_column: int) -> None:
        for first, last in _runs(rows):
            self.dataChanged.emit(self.index(first, first_column), self.index(last, last_column))

    def set_now(self, now: datetime) -> None:
        """Recompute the time columns and STALE for ``now`` (no store read)."""
        self._now = now
        flipped = []
        for row, status in enumerate(self._rows):
            shown = status.display_state(now)
            if shown is not self._shown[row]:
                self._shown[row] = shown
                flipped.append(row)
        self._signal_rows(flipped, 0, len(Column) - 1)
        if self._rows:
            last = len(self._rows) - 1
            self.dataChanged.emit(
                self.index(0, Column.IN_STATE),
                self.index(last, Column.LAST_CHECK),
                [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole, SORT_ROLE],
            )

    # -- sparklines ---------------------------------------------------------------------

    def sparkline(self, key: Key) -> Sparkline | None:
        """The sparkline held for ``key``, if one was read."""
        held = self._sparks.get(key)
        return None if held is None else held[1]

    def sparklines_due(self, keys: Iterable[Key], now: datetime) -> list[Key]:
        """Those of ``keys`` with no sparkline, or one read ``SPARK_MAX_AGE_S`` or more ago."""
        oldest = now - timedelta(seconds=SPARK_MAX_AGE_S)
        return [
            key
            for key in keys
            if key in self._index and ((held := self._sparks.get(key)) is None or held[0] <= oldest)
        ]

    def set_sparklines(self, lines: Mapping[Key, Sparkline], read_at: datetime) -> None:
        """Hold these sparklines (read at ``read_at``) and repaint their cells."""
        rows = []
        for key, line in lines.items():
            row = self._index.get(key)
            if row is not None:
                self._sparks[key] = (read_at, line)
                rows.append(row)
        self._signal_rows(rows, Column.TREND, Column.TREND)

    # -- Qt model -----------------------------------------------------------------------

    def rowCount(self, parent: Index = ROOT) -> int:
        """One row per metric (none under a valid parent: a flat table)."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = ROOT) -> int:
        """The columns of :class:`Column`."""
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles, with a tooltip saying what each holds."""
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        heading = HEADINGS[Column(section)]
        if role == Qt.ItemDataRole.DisplayRole:
            return heading.title
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleDescriptionRole):
            return heading.tooltip
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        """Selectable, not editable."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """The cell's text, sort value, icon, font, tooltip and the row's records."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, column = index.row(), Column(index.column())
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.text(row, column, accessible=role != Qt.ItemDataRole.DisplayRole)
        if role == SORT_ROLE:
            return self.sort_key(row, column)
        if role == STATUS_ROLE:
            return self._rows[row]
        if role == STATE_ROLE:
            return self._shown[row]
        return self._look(row, column, role)

    def _look(self, row: int, column: Column, role: int) -> Any:
        status, shown = self._rows[row], self._shown[row]
        if role == Qt.ItemDataRole.DecorationRole and column is Column.STATE:
            return state_icon(shown)
        if role == Qt.ItemDataRole.FontRole and column is Column.STATE:
            font = QFont()
            font.setBold(shown is not DisplayState.OK)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(status, column)
        if role == SPARK_ROLE and column is Column.TREND:
            line = self.sparkline(status_key(status))
            if line is None:
                return None
            return line.marked(state_colour(shown).name())
        return None

    def _tooltip(self, status: MetricStatus, column: Column) -> str | None:
        if column in (Column.STATE, Column.METRIC, Column.VALUE):
            return status.reason or None
        if column is Column.ENDPOINT:
            return f"{status.endpoint_name} ({status.endpoint})"
        if column is Column.SERVICE:
            return f"{status.service_name}, owned by {status.team_name}"
        if column is Column.LIMITS:
            return limits_text(status) or "No band and no static thresholds"
        return None

    def text(self, row: int, column: Column, *, accessible: bool = False) -> str:
        """The text of one cell (``accessible``: the words a screen reader says instead)."""
        status, now = self._rows[row], self._now
        if column is Column.STATE:
            return state_words(status, self._shown[row], now)
        if column is Column.SERVICE:
            return status.service_name
        if column is Column.ENDPOINT:
            return status.endpoint_name
        if column is Column.METRIC:
            return status.metric_name
        if column is Column.VALUE:
            return value_text(status)
        if column is Column.LIMITS:
            return limits_text(status) or ("no band or thresholds" if accessible else "–")
        if column is Column.IN_STATE:
            return seconds_text(status.seconds_in_state(now))
        if column is Column.LAST_CHECK:  # to the minute once past two: it fits the column
            age = status.data_age(now)
            return "never" if age is None else f"{span(age)} ago"
        line = self.sparkline(status_key(status))
        if not accessible:
            return ""
        return "not read yet" if line is None else line.describe(status.unit)

    def sort_key(self, row: int, column: Column) -> tuple[Any, ...]:
        """What ``column`` sorts ``row`` by; the state column sorts worst first, ascending."""
        status, now = self._rows[row], self._now
        names = (status.endpoint_name.casefold(), status.metric_name.casefold())
        if column in (Column.STATE, Column.TREND):
            lasted = status.seconds_in_state(now)
            return (-self._shown[row].rank, -(lasted if lasted is not None else -1.0), *names)
        if column is Column.VALUE:  # no value sorts below every value
            return (status.value is not None, status.value or 0.0, *names)
        if column is Column.LAST_CHECK:  # never checked is the oldest of all
            age = status.data_age(now)
            return (age is None, age or 0.0, *names)
        if column is Column.IN_STATE:
            lasted = status.seconds_in_state(now)
            return (lasted is None, lasted or 0.0, *names)
        return (self.text(row, column).casefold(), *names)


# -- filtering and sorting ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusFilter:
    """Which rows to show.

    Attributes:
        team: Only this team's metrics (key), or None for every team.
        service: Only this service's metrics (key), or None for every service.
        states: Only metrics shown in one of these states, or None for every state.
        text: Only metrics whose service, endpoint, metric or team name (or key) holds this.
    """

    team: str | None = None
    service: str | None = None
    states: frozenset[DisplayState] | None = None
    text: str = ""

    def accepts(self, status: MetricStatus, shown: DisplayState) -> bool:
        """Whether a row with this status and shown state passes."""
        if self.team is not None and status.team != self.team:
            return False
        if self.service is not None and status.service != self.service:
            return False
        if self.states is not None and shown not in self.states:
            return False
        if not self.text:
            return True
        needle = self.text.casefold()
        return any(needle in hay.casefold() for hay in _haystack(status))


def _haystack(status: MetricStatus) -> tuple[str, ...]:
    return (
        status.service_name,
        status.service,
        status.endpoint_name,
        status.endpoint,
        status.metric_name,
        status.metric_key or "",
        status.team_name,
    )


#: The problems: every state but OK.
PROBLEMS = frozenset(s for s in DisplayState if s is not DisplayState.OK)


class StatusFilterProxy(QSortFilterProxyModel):
    """Sorts the status rows (by :meth:`StatusTableModel.sort_key`) and filters them."""

    def __init__(self, model: StatusTableModel, parent: QObject | None = None) -> None:
        """A proxy over ``model``, sorted worst first."""
        super().__init__(parent)
        self._model = model
        self._filter = StatusFilter()
        self.setSourceModel(model)
        self.setSortRole(SORT_ROLE)
        self.sort(Column.STATE, Qt.SortOrder.AscendingOrder)

    @property
    def current_filter(self) -> StatusFilter:
        """The filter applied."""
        return self._filter

    def set_filter(self, wanted: StatusFilter) -> None:
        """Show only the rows ``wanted`` accepts."""
        if wanted == self._filter:
            return
        self.beginFilterChange()
        self._filter = wanted
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        """Rows the filter accepts."""
        if source_parent.isValid():
            return False
        model = self._model
        return self._filter.accepts(model.status_at(source_row), model.state_at(source_row))

    def lessThan(self, source_left: Index, source_right: Index) -> bool:
        """Compare the rows' sort keys (Python tuples: states, then durations, then names)."""
        column = Column(source_left.column())
        left = self._model.sort_key(source_left.row(), column)
        right = self._model.sort_key(source_right.row(), column)
        return bool(left < right)

    def status_at(self, row: int) -> MetricStatus:
        """The status shown in proxy ``row``."""
        return self._model.status_at(self.mapToSource(self.index(row, 0)).row())

    def keys(self, rows: Iterable[int]) -> list[Key]:
        """The metric keys of these proxy rows (rows out of range are left out)."""
        count = self.rowCount()
        return [status_key(self.status_at(r)) for r in rows if 0 <= r < count]
