"""The Incidents page's item models: the incident list and one incident's timeline.

`IncidentTableModel` shows the rows `console.ui.models.incident_feed` reads; `TimelineModel`
shows one incident's events in words (`console.core.timeline_text`).

Priority and state are shown with words, a shape and a colour: the words and the shape carry
the meaning, the colour only repeats it, so the list reads the same without colour vision.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QIcon,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
)

from console.core.enums import Priority
from console.core.events import Event
from console.core.incident_rules import human
from console.core.incidents import Incident, IncidentState, ResolveReason
from console.core.timeline_text import Names, TimelineEntry, duration_words, entry
from console.ui import labels
from console.ui.models.base import KEY_ROLE, RECORD_ROLE, ROOT, SORT_ROLE, Index
from console.ui.theme import Theme

# -- looks ------------------------------------------------------------------------------------


class Shape(Enum):
    """The mark drawn beside a priority or a state: it differs where the colour differs."""

    SQUARE = "square"  # act now
    TRIANGLE = "triangle"  # a warning sign
    DIAMOND = "diamond"
    CIRCLE = "circle"
    RING = "ring"  # hollow: nothing to do
    HALF = "half"  # half filled: someone has it


def priority_look(priority: Priority, theme: Theme) -> tuple[Shape, str]:
    """The shape and colour of a priority: P1/P2 red squares, P3 amber triangle, P4/P5 muted."""
    if priority.rank <= 2:
        return Shape.SQUARE, theme.error
    if priority.rank == 3:
        return Shape.TRIANGLE, theme.warning
    return (Shape.CIRCLE if priority.rank == 4 else Shape.RING), theme.muted


def state_look(incident: Incident, theme: Theme) -> tuple[Shape, str]:
    """The shape and colour of a state: triggered diamond, acknowledged half disc, resolved ring."""
    if incident.state is IncidentState.TRIGGERED:
        return Shape.DIAMOND, theme.error
    if incident.state is IncidentState.ACKNOWLEDGED:
        return Shape.HALF, theme.warning
    return Shape.RING, theme.success


def _path(shape: Shape, box: QRectF) -> QPainterPath:
    path = QPainterPath()
    cx, cy, r = box.center().x(), box.center().y(), box.width() / 2
    if shape is Shape.SQUARE:
        path.addRect(box.adjusted(r * 0.12, r * 0.12, -r * 0.12, -r * 0.12))
    elif shape is Shape.TRIANGLE:
        path.addPolygon(QPolygonF([QPointF(cx, box.top()), box.bottomRight(), box.bottomLeft()]))
    elif shape is Shape.DIAMOND:
        corners = [(cx, box.top()), (box.right(), cy), (cx, box.bottom()), (box.left(), cy)]
        path.addPolygon(QPolygonF([QPointF(x, y) for x, y in corners]))
    else:
        path.addEllipse(box)
    path.closeSubpath()
    return path


@cache
def mark(shape: Shape, colour: str, size: int = 14) -> QIcon:
    """A small filled (or hollow, or half-filled) shape as an icon."""
    image = QImage(size * 2, size * 2, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    box = QRectF(3, 3, size * 2 - 6, size * 2 - 6)
    try:
        painter.setPen(QPen(QColor(colour), 2.5))
        if shape is Shape.HALF:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(_path(shape, box))
            half = QPainterPath()
            half.moveTo(box.center())
            half.arcTo(box, 90, 180)  # the left half, filled like a pie
            half.closeSubpath()
            painter.setBrush(QColor(colour))
            painter.drawPath(half)
        else:
            painter.setBrush(Qt.BrushStyle.NoBrush if shape is Shape.RING else QColor(colour))
            painter.drawPath(_path(shape, box))
    finally:
        painter.end()  # an image destroyed while painted on crashes the process
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(2.0)
    return QIcon(pixmap)


def state_text(incident: Incident) -> str:
    """The state in words, with what else matters: ``Acknowledged · mitigated · snoozed``."""
    words = [incident.state.value.capitalize()]
    if incident.resolve_reason is ResolveReason.MERGED:
        words.append("merged")
    elif incident.resolve_reason is ResolveReason.AUTO:
        words.append("recovered")
    if incident.mitigated_at is not None and incident.is_open:
        words.append("mitigated")
    if incident.snoozed_until is not None and incident.is_open:
        words.append("snoozed")
    if incident.flapping:
        words.append("flapping")
    if incident.parent is not None and incident.is_open:
        words.append("grouped")
    text = " · ".join(words)
    return f"DRILL {text}" if incident.drill else text


def priority_text(priority: Priority) -> str:
    """``P1 · page now``."""
    return labels.PRIORITY[priority]


# -- the list --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Column:
    title: str
    text: Callable[[Incident], str]
    sort: Callable[[Incident], Any]


class IncidentTableModel(QAbstractTableModel):
    """Incidents as rows: number, priority, state, title, service, team, age and count."""

    def __init__(self, theme: Theme, parent: QObject | None = None) -> None:
        """An empty list drawn with ``theme``'s colours."""
        super().__init__(parent)
        self._theme = theme
        self._incidents: tuple[Incident, ...] = ()
        self._names: Mapping[str, str] = {}
        self._now: datetime | None = None
        self._columns = (
            _Column("Incident", lambda i: i.ref, lambda i: i.number),
            _Column("Priority", lambda i: i.priority.value, lambda i: i.priority.rank),
            _Column("State", state_text, lambda i: _state_rank(i)),
            _Column("Title", lambda i: i.title, lambda i: i.title.casefold()),
            _Column("Service", self._service, lambda i: self._service(i).casefold()),
            _Column("Team", self._team, lambda i: self._team(i).casefold()),
            _Column("Age", self._age, lambda i: -i.started_at.timestamp()),
            _Column("Count", lambda i: str(i.count), lambda i: i.count),
        )

    # -- contents ----------------------------------------------------------------------------

    @property
    def incidents(self) -> tuple[Incident, ...]:
        """The incidents shown, in row order."""
        return self._incidents

    @property
    def titles(self) -> tuple[str, ...]:
        """The column titles."""
        return tuple(c.title for c in self._columns)

    def set_incidents(self, incidents: Sequence[Incident], now: datetime) -> None:
        """Show ``incidents``; with the same ids only the cells change (the selection stays)."""
        incidents = tuple(incidents)
        self._now = now
        if [i.id for i in incidents] == [i.id for i in self._incidents]:
            self._incidents = incidents
            self._changed_all()
            return
        self.beginResetModel()
        self._incidents = incidents
        self.endResetModel()

    def set_names(self, names: Mapping[str, str]) -> None:
        """Display names of services and teams by key."""
        self._names = dict(names)
        self._changed_all()

    def set_now(self, now: datetime) -> None:
        """Measure ages from ``now`` (ages move on without the store changing)."""
        self._now = now
        if self._incidents:
            column = self.titles.index("Age")
            self.dataChanged.emit(
                self.index(0, column), self.index(len(self._incidents) - 1, column)
            )

    def _changed_all(self) -> None:
        if self._incidents:
            last = self.index(len(self._incidents) - 1, len(self._columns) - 1)
            self.dataChanged.emit(self.index(0, 0), last)

    def row_of(self, incident_id: str) -> int:
        """The row of an incident, or -1."""
        return next((r for r, i in enumerate(self._incidents) if i.id == incident_id), -1)

    def _service(self, i: Incident) -> str:
        return "—" if i.service is None else self._names.get(i.service, i.service)

    def _team(self, i: Incident) -> str:
        return "Unassigned" if i.team is None else self._names.get(i.team, i.team)

    def _age(self, i: Incident) -> str:
        if self._now is None:
            return ""
        end = i.resolved_at if i.resolved_at is not None else self._now
        return duration_words(end - i.started_at)

    # -- the Qt model ------------------------------------------------------------------------

    def rowCount(self, parent: Index = ROOT) -> int:
        """Number of incidents (none under a valid parent: a flat table)."""
        return 0 if parent.isValid() else len(self._incidents)

    def columnCount(self, parent: Index = ROOT) -> int:
        """Number of columns."""
        return 0 if parent.isValid() else len(self._columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles; rows are unnumbered."""
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self._columns)
        ):
            return self._columns[section].title
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Text, marks, colours, tooltips and keys of one cell."""
        if not index.isValid() or not 0 <= index.row() < len(self._incidents):
            return None
        incident = self._incidents[index.row()]
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(incident)
        if role == KEY_ROLE:
            return incident.id
        if role == RECORD_ROLE:
            return incident
        if role == SORT_ROLE:
            return column.sort(incident)
        return self._look(incident, column.title, role)

    def _look(self, incident: Incident, title: str, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(incident, title)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self._spoken(incident, title)
        if title in ("Priority", "State"):
            return self._badge(incident, title, role)
        if role == Qt.ItemDataRole.FontRole and title == "Title":
            # Unacknowledged incidents stand out like unread mail.
            return _bold() if incident.state is IncidentState.TRIGGERED else None
        return None

    def _badge(self, incident: Incident, title: str, role: int) -> Any:
        if title == "Priority":
            shape, colour = priority_look(incident.priority, self._theme)
        else:
            shape, colour = state_look(incident, self._theme)
        if role == Qt.ItemDataRole.DecorationRole:
            return mark(shape, colour)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(colour)
        if role == Qt.ItemDataRole.FontRole:
            return _bold()
        return None

    def _tooltip(self, incident: Incident, title: str) -> str | None:
        if title == "Priority":
            return f"{priority_text(incident.priority)}: {incident.priority_reason}"
        if title == "State":
            return _state_tooltip(incident)
        if title == "Age":
            return f"Started {human(incident.started_at)}"
        if title == "Count":
            return f"Seen {incident.count} time(s), last at {human(incident.last_seen_at)}"
        if title == "Title":
            return incident.summary or incident.title
        return None

    def _spoken(self, incident: Incident, title: str) -> str | None:
        if title == "Priority":
            return f"Priority {priority_text(incident.priority)}"
        if title == "State":
            return f"State {state_text(incident)}"
        if title == "Incident":
            return f"Incident {incident.number}"
        return None


def _bold() -> QFont:
    font = QFont()
    font.setBold(True)
    return font


def _state_rank(incident: Incident) -> int:
    return list(IncidentState).index(incident.state)


def _state_tooltip(incident: Incident) -> str:
    parts = [state_text(incident)]
    if incident.acknowledged_at is not None:
        parts.append(
            f"acknowledged by {incident.acknowledged_by} at {human(incident.acknowledged_at)}"
        )
    if incident.snoozed_until is not None and incident.is_open:
        parts.append(f"snoozed until {human(incident.snoozed_until)}")
    if incident.resolved_at is not None:
        parts.append(f"resolved at {human(incident.resolved_at)}")
    return "; ".join(parts)


# -- the timeline ----------------------------------------------------------------------------


class TimelineModel(QAbstractTableModel):
    """One incident's events, oldest first: when, and what happened in words."""

    TITLES = ("When", "What happened")

    def __init__(self, parent: QObject | None = None) -> None:
        """An empty timeline."""
        super().__init__(parent)
        self._entries: tuple[TimelineEntry, ...] = ()
        self._events: tuple[Event, ...] = ()

    @property
    def entries(self) -> tuple[TimelineEntry, ...]:
        """The entries shown, oldest first."""
        return self._entries

    @property
    def events(self) -> tuple[Event, ...]:
        """The events shown, oldest first."""
        return self._events

    def set_events(self, events: Sequence[Event], names: Names | None = None) -> None:
        """Show ``events`` (already in timeline order) in words."""
        self.beginResetModel()
        self._events = tuple(events)
        self._entries = tuple(entry(e, names) for e in self._events)
        self.endResetModel()

    def rowCount(self, parent: Index = ROOT) -> int:
        """Number of events."""
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: Index = ROOT) -> int:
        """When, and what."""
        return 0 if parent.isValid() else len(self.TITLES)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.TITLES)
        ):
            return self.TITLES[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """The time or the sentence; the full line as tooltip and accessible text."""
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        item = self._entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return human(item.at) if index.column() == 0 else item.text
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return item.sentence
        if role == KEY_ROLE:
            return self._events[index.row()].id
        if role == RECORD_ROLE:
            return self._events[index.row()]
        return None
