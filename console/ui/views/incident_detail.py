"""The detail pane of the Incidents page: one incident, its response so far, and its timeline.

The pane only shows: the page reads the incident on the worker (`read_detail`) and carries out
what the buttons ask. It says where things stand in words first (state, priority and why, who
has it, the five response timestamps with how long each step took), then where to go next (the
affected service's runbooks, the team's conference bridge, the incidents grouped with this one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.core.escalation_steps import EscalationView
from console.core.incident_rules import human
from console.core.incidents import Incident, IncidentState
from console.core.models import Estate, Team
from console.core.signals import SignalSource
from console.core.timeline_text import Names, duration_words
from console.ui import icons, labels
from console.ui.models.incident_feed import IncidentDetail
from console.ui.models.incidents import (
    TimelineModel,
    mark,
    priority_look,
    state_look,
    state_text,
)
from console.ui.theme import Theme
from console.ui.widgets.common import Banner, EmptyState, button, section_title
from console.ui.widgets.stepper import Clock, EscalationStepper


@dataclass(frozen=True, slots=True)
class Command:
    """A button of the pane and the key that does the same."""

    name: str
    text: str
    key: str
    tip: str


COMMANDS = (
    Command("acknowledge", "Acknowledge", "A", "Take it: escalation and the alarm stop"),
    Command(
        "behalf",
        "Acknowledge on behalf of…",
        "O",
        "Someone answered by phone or elsewhere: acknowledge for them",
    ),
    Command("escalate", "Escalate now", "E", "Page the next level of the escalation now"),
    Command("mitigate", "Mitigate", "M", "The impact stopped; the cause is not fixed yet"),
    Command("resolve", "Resolve", "R", "The cause is fixed"),
    Command("snooze", "Snooze…", "S", "Hold notifications back for a while"),
    Command("reassign", "Reassign…", "T", "Give it to another team"),
    Command("merge", "Merge…", "G", "The same trouble as another open incident"),
    Command("priority", "Priority…", "P", "Set the priority by hand, with a reason"),
)

_SOURCE = {
    SignalSource.METRIC: "A confirmed metric state",
    SignalSource.ALERT: "An inbound alert",
    SignalSource.MANUAL: "A person's report",
}
_LINK_STYLE = (
    "QPushButton {{ color: {c}; border: none; background: transparent; text-align: left; "
    "padding: 2px 0; }} QPushButton:focus {{ text-decoration: underline; }}"
)


def _value_label(wrap: bool = True) -> QLabel:
    label = QLabel()
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _after(value: timedelta | None, what: str) -> str:
    return "" if value is None else f"{duration_words(value)} {what}"


TIMES = ("Started", "Detected", "Acknowledged", "Mitigated", "Resolved")


def _durations(i: Incident) -> list[tuple[str, datetime | None, str]]:
    """The five timestamps, each with how long its step took (computed in core)."""
    d = i.durations
    who = f" by {i.acknowledged_by}" if i.acknowledged_by else ""
    return [
        (
            "Started",
            i.started_at,
            "first bad sample" if i.source is not SignalSource.MANUAL else "",
        ),
        ("Detected", i.detected_at, _after(d.to_detect, "to detect")),
        ("Acknowledged", i.acknowledged_at, _after(d.to_acknowledge, f"to acknowledge{who}")),
        ("Mitigated", i.mitigated_at, _after(d.to_mitigate, "of impact")),
        ("Resolved", i.resolved_at, _after(d.to_resolve, "to resolve")),
    ]


def detail_names(detail: IncidentDetail, estate: Estate) -> dict[str, str]:
    """Names the timeline uses: members, teams and services by key, incidents by id."""
    names: dict[str, str] = dict(detail.member_names)
    names.update({m.email: m.name for m in estate.members})
    names.update({t.key: t.name for t in estate.teams})
    names.update({s.key: s.name for s in estate.schedules})
    names.update({s.key: s.name for s in estate.services})
    related = [detail.incident, *detail.children, detail.parent, detail.merged_into]
    names.update({i.id: i.ref for i in related if i is not None})
    return names


class IncidentDetailPane(QFrame):
    """One incident: what it is, where its response stands, and its timeline."""

    #: The user asked for a runbook (its key).
    openRunbook = Signal(str)
    #: The user asked for another incident (its id).
    openIncident = Signal(str)

    def __init__(
        self, theme: Theme, clock: Clock | None = None, parent: QWidget | None = None
    ) -> None:
        """An empty pane until :meth:`show_detail`; ``clock`` drives the escalation countdown."""
        super().__init__(parent)
        self.setObjectName("Panel")
        self.theme = theme
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self.detail: IncidentDetail | None = None
        self.timeline = TimelineModel(self)
        self.buttons: dict[str, QPushButton] = {}
        self._links: tuple[tuple[str, str, str], ...] = ()
        self._names: dict[str, str] = {}
        self._bridge: str | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget()
        self.empty = EmptyState(
            theme,
            "incidents",
            "No incident selected",
            "Pick an incident in the list to see its response and timeline.",
        )
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self._build_body())
        outer.addWidget(self.stack)

    # -- construction ----------------------------------------------------------------------

    def _build_body(self) -> QWidget:
        body = QWidget()
        box = QVBoxLayout(body)
        box.setContentsMargins(22, 16, 22, 14)
        box.setSpacing(10)
        head = QHBoxLayout()
        head.setSpacing(6)
        self.ref_label = QLabel()
        self.ref_label.setObjectName("FormTitle")
        self.state_mark = QLabel()
        self.state_label = QLabel()
        self.state_label.setObjectName("incident-state")
        self.priority_mark = QLabel()
        self.priority_label = QLabel()
        self.priority_label.setObjectName("incident-priority-badge")
        head.addWidget(self.ref_label)
        head.addSpacing(12)
        for widget in (self.state_mark, self.state_label):
            head.addWidget(widget)
        head.addSpacing(14)
        for widget in (self.priority_mark, self.priority_label):
            head.addWidget(widget)
        head.addStretch(1)
        box.addLayout(head)
        self.title_label = QLabel()
        self.title_label.setObjectName("incident-title")
        self.title_label.setWordWrap(True)
        self.title_label.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.addWidget(self.title_label)
        box.addLayout(self._build_buttons())
        self.banner = Banner()
        box.addWidget(self.banner)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        split.setHandleWidth(14)
        split.addWidget(self._build_facts())
        split.addWidget(self._build_timeline())
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([540, 760])
        box.addWidget(split, 1)
        return body

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        for command in COMMANDS:
            widget = button(command.text)
            widget.setObjectName("Primary" if command.name == "acknowledge" else command.name)
            widget.setAccessibleName(command.text.rstrip("…"))
            widget.setToolTip(f"{command.tip} ({command.key})")
            self.buttons[command.name] = widget
            row.addWidget(widget)
        row.addStretch(1)
        self.bridge_button = button("Join bridge", icons.icon("resources", self.theme.muted))
        self.bridge_button.setObjectName("join-bridge")
        self.bridge_button.setAccessibleName("Join the team's conference bridge")
        row.addWidget(self.bridge_button)
        return row

    def _build_facts(self) -> QWidget:
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content = QWidget()
        content.setObjectName("FormBody")
        box = QVBoxLayout(content)
        box.setContentsMargins(0, 0, 8, 0)
        box.setSpacing(6)
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(6)
        self.facts: dict[str, QLabel] = {}
        for row, name in enumerate(("Priority", "Severity", "Service", "Team", "Source", "Seen")):
            self.facts[name] = self._grid_row(grid, row, name)
        grid.setColumnStretch(1, 1)
        box.addLayout(grid)
        box.addWidget(section_title("Escalation"))
        self.stepper = EscalationStepper(self.theme, self.clock)
        box.addWidget(self.stepper)
        box.addWidget(section_title("Response"))
        times = QGridLayout()
        times.setHorizontalSpacing(14)
        times.setVerticalSpacing(4)
        self.times: dict[str, tuple[QLabel, QLabel]] = {}
        for row, name in enumerate(TIMES):
            when = self._grid_row(times, row, name, wrap=False)
            note = QLabel()
            note.setObjectName("Muted")
            note.setWordWrap(True)
            times.addWidget(note, row, 2)
            self.times[name] = (when, note)
        times.setColumnStretch(2, 1)
        box.addLayout(times)
        box.addStretch(1)
        scroll.setWidget(content)
        return scroll

    def _grid_row(self, grid: QGridLayout, row: int, name: str, wrap: bool = True) -> QLabel:
        label = QLabel(name)
        label.setObjectName("FieldLabel")
        value = _value_label(wrap)
        value.setObjectName(f"incident-{name.lower()}")
        value.setAccessibleName(name)
        label.setBuddy(value)
        grid.addWidget(label, row, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(value, row, 1)
        return value

    def _build_timeline(self) -> QWidget:
        area = QWidget()
        box = QVBoxLayout(area)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)
        box.addWidget(section_title("Timeline"))
        self.timeline_view = QTableView()
        self.timeline_view.setObjectName("incident-timeline")
        self.timeline_view.setAccessibleName("Timeline")
        self.timeline_view.setModel(self.timeline)
        self.timeline_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.timeline_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.timeline_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.timeline_view.setTabKeyNavigation(False)
        self.timeline_view.setShowGrid(False)
        self.timeline_view.setWordWrap(True)
        self.timeline_view.verticalHeader().hide()
        self.timeline_view.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        header = self.timeline_view.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft)
        header.setHighlightSections(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.timeline_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        box.addWidget(self.timeline_view, 1)
        # Where to go next, under what happened so far.
        links = QHBoxLayout()
        links.setSpacing(24)
        self.grouping = QVBoxLayout()
        self.runbooks = QVBoxLayout()
        for title, column in (("Runbooks", self.runbooks), ("Grouping", self.grouping)):
            column.setSpacing(0)
            holder = QVBoxLayout()
            holder.setSpacing(2)
            holder.addWidget(section_title(title))
            holder.addLayout(column)
            holder.addStretch(1)
            links.addLayout(holder, 1)
        box.addLayout(links)
        return area

    # -- showing ---------------------------------------------------------------------------

    def show_detail(self, detail: IncidentDetail | None, estate: Estate) -> None:
        """Show ``detail`` (None: the empty state) with names and links from ``estate``."""
        self.detail = detail
        if detail is None:
            self.stack.setCurrentWidget(self.empty)
            self.timeline.set_events([])
            self._names = {}
            return
        self.stack.setCurrentIndex(1)
        names = detail_names(detail, estate)
        incident = detail.incident
        self._show_head(incident)
        self._show_facts(incident, names)
        self._show_times(incident)
        self._show_links(detail, estate)
        self._show_bridge(incident, estate)
        self.stepper.show_view(detail.escalation, names)
        self._enable(incident, detail.escalation)
        # Lay the wrapped labels out now, not an event-loop turn later: a screenshot taken as
        # soon as the data arrives would catch them one line high.
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        ids = [e.id for e in detail.events]
        if ids != [e.id for e in self.timeline.events] or names != self._names:
            self._names = names
            self.timeline.set_events(detail.events, names)
            self.timeline_view.scrollToBottom()

    def clear_message(self) -> None:
        """Hide the message of an earlier action."""
        self.banner.clear_message()

    def show_message(self, text: str) -> None:
        """Say why an action was not carried out."""
        self.banner.show_message(text)

    def _show_head(self, i: Incident) -> None:
        self.ref_label.setText(i.ref)
        shape, colour = state_look(i, self.theme)
        ratio = self.devicePixelRatioF()
        self.state_mark.setPixmap(mark(shape, colour).pixmap(QSize(14, 14), ratio))
        self.state_label.setText(state_text(i))
        self.state_label.setStyleSheet(f"color: {colour}; font-weight: 600;")
        self.state_label.setAccessibleName(f"State: {state_text(i)}")
        shape, colour = priority_look(i.priority, self.theme)
        self.priority_mark.setPixmap(mark(shape, colour).pixmap(QSize(14, 14), ratio))
        self.priority_label.setText(labels.PRIORITY[i.priority])
        self.priority_label.setStyleSheet(f"color: {colour}; font-weight: 600;")
        self.priority_label.setAccessibleName(f"Priority: {labels.PRIORITY[i.priority]}")
        self.title_label.setText(i.title)

    def _show_facts(self, i: Incident, names: Names) -> None:
        how = "set by hand" if i.priority_overridden else "from the priority matrix"
        self.facts["Priority"].setText(
            f"{labels.PRIORITY[i.priority]} ({how})\n{i.priority_reason}"
        )
        self.facts["Severity"].setText(labels.SEVERITY[i.severity])
        service = "Not known" if i.service is None else names.get(i.service, i.service)
        self.facts["Service"].setText(service)
        self.facts["Team"].setText("Unassigned" if i.team is None else names.get(i.team, i.team))
        source = _SOURCE[i.source]
        if i.reporter:
            source += f", from {i.reporter}"
        if i.impact:
            source += f"\nImpact as reported: {i.impact}"
        if i.summary:
            source += f"\n{i.summary}"
        self.facts["Source"].setText(source)
        times = "once" if i.count == 1 else f"{i.count} times"
        self.facts["Seen"].setText(f"{times}, last at {human(i.last_seen_at)}")

    def _show_times(self, i: Incident) -> None:
        for name, at, note in _durations(i):
            when, after = self.times[name]
            when.setText("—" if at is None else human(at))
            after.setText(note if at is not None else "")

    def _show_links(self, detail: IncidentDetail, estate: Estate) -> None:
        """Grouping and runbooks, rebuilt only when what they link to changes."""
        i = detail.incident
        group: list[tuple[str, str, str]] = []
        if detail.parent is not None:
            p = detail.parent
            group.append(("incident", p.id, f"Grouped under {p.ref}: {p.title}"))
        if detail.merged_into is not None:
            m = detail.merged_into
            group.append(("incident", m.id, f"Merged into {m.ref}: {m.title}"))
        for child in detail.children:
            text = f"Under it: {child.ref} ({state_text(child).lower()}), {child.title}"
            group.append(("incident", child.id, text))
        books = [
            ("runbook", r.key, r.title)
            for r in estate.runbooks
            if i.service is not None and i.service in r.services
        ]
        links = (*group, ("-", "", ""), *books)
        if links == self._links:
            return
        self._links = links
        _fill(self.grouping, [self._link(*g) for g in group], "Not grouped with another incident.")
        none = "No runbook covers this service yet: write one on the Runbooks page."
        if i.service is None:
            none = "No service is known for this incident, so no runbook is suggested."
        _fill(self.runbooks, [self._link(*b) for b in books], none)

    def _link(self, kind: str, key: str, text: str) -> QPushButton:
        link = QPushButton(text)
        link.setObjectName(f"{kind}-link")
        link.setCursor(Qt.CursorShape.PointingHandCursor)
        link.setStyleSheet(_LINK_STYLE.format(c=self.theme.accent))
        link.setAccessibleName(f"Open {kind} {text}")
        link.setToolTip(f"Open the {kind}")
        target = self.openRunbook if kind == "runbook" else self.openIncident
        link.clicked.connect(lambda: target.emit(key))
        return link

    def _show_bridge(self, i: Incident, estate: Estate) -> None:
        team: Team | None = next((t for t in estate.teams if t.key == i.team), None)
        url = None if team is None else team.bridge_url
        self._bridge = url or None
        self.bridge_button.setEnabled(bool(url))
        if team is not None and url:
            self.bridge_button.setToolTip(f"Join team {team.name}'s bridge: {url} (B)")
        elif team is None:
            self.bridge_button.setToolTip("No team has this incident, so there is no bridge.")
        else:
            self.bridge_button.setToolTip(
                f"Team {team.name} has no conference bridge: add one on the Teams page."
            )

    def bridge_url(self) -> str | None:
        """The shown incident's team's conference bridge, if it has one."""
        return self._bridge

    def _enable(self, i: Incident, escalation: EscalationView | None) -> None:
        refusal = "No escalation policy applies to this incident."
        if escalation is not None:
            refusal = escalation.escalate_refusal or ""
        escalate = self.buttons["escalate"]
        escalate.setToolTip(refusal or "Page the next level of the escalation now (E)")
        allowed = {
            "acknowledge": i.state is IncidentState.TRIGGERED,
            "behalf": i.state is IncidentState.TRIGGERED,
            "escalate": not refusal,
            "mitigate": i.is_open and i.mitigated_at is None,
            "resolve": i.is_open,
            "snooze": i.is_open,
            "reassign": i.is_open,
            "merge": i.is_open,
            "priority": True,
        }
        for name, widget in self.buttons.items():
            widget.setEnabled(allowed[name])


def _fill(box: QVBoxLayout, widgets: Sequence[QWidget], empty: str) -> None:
    while box.count():
        item = box.takeAt(0)
        widget = None if item is None else item.widget()
        if widget is not None:
            widget.deleteLater()
    if not widgets:
        note = QLabel(empty)
        note.setObjectName("Muted")
        note.setWordWrap(True)
        box.addWidget(note)
    for widget in widgets:
        box.addWidget(widget)
