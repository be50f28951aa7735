"""Following the store for the Incidents page: what the list and the detail pane read.

`IncidentFeed` reads the incidents (filtered by state, team and priority in the query, so the
store's order holds: unacknowledged first, then by priority, newest first) on the store worker
and keeps following the store: every second it compares ``PRAGMA data_version`` and the newest
event, as the estate model does, so an incident acknowledged in another console, by the CLI or
by the engine shows up within a second or two. `read_detail` reads one incident with its
timeline, children, parent and survivor in one snapshot.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from console.core import escalation_steps
from console.core.enums import Priority
from console.core.escalation_steps import EscalationView
from console.core.escalator import EscalationProgress, fold
from console.core.events import Event
from console.core.incidents import Incident, IncidentState
from console.store import estate as estate_store
from console.store import events as event_log
from console.store import incidents as incident_store
from console.store.db import Store
from console.ui.estate import EstateModel, Job

log = logging.getLogger(__name__)

POLL_MS = 1000
#: Commits without events (an alert repeating: count and last seen) reload the list this often.
REPEAT_REFRESH_S = 5.0
#: The most incidents one list shows (resolved ones pile up; the newest come first).
LIST_LIMIT = 500


class StateFilter(Enum):
    """Which incidents the list shows, by state."""

    OPEN = "Open"
    TRIGGERED = "Triggered"
    ACKNOWLEDGED = "Acknowledged"
    RESOLVED = "Resolved"
    ALL = "All states"

    @property
    def states(self) -> tuple[IncidentState, ...]:
        """The states listed."""
        return {
            StateFilter.OPEN: (IncidentState.TRIGGERED, IncidentState.ACKNOWLEDGED),
            StateFilter.TRIGGERED: (IncidentState.TRIGGERED,),
            StateFilter.ACKNOWLEDGED: (IncidentState.ACKNOWLEDGED,),
            StateFilter.RESOLVED: (IncidentState.RESOLVED,),
            StateFilter.ALL: tuple(IncidentState),
        }[self]


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    """What the list is narrowed to (None: any)."""

    state: StateFilter = StateFilter.OPEN
    team: str | None = None
    priority: Priority | None = None


@dataclass(frozen=True, slots=True)
class IncidentList:
    """One read of the list: the incidents, and the moment their ages are measured from."""

    incidents: tuple[Incident, ...]
    now: datetime
    version: tuple[int, int]
    filter: IncidentFilter


@dataclass(frozen=True, slots=True)
class IncidentDetail:
    """What the detail pane shows of one incident, read in one snapshot.

    Attributes:
        incident: The incident.
        events: Its timeline, oldest first.
        children: The incidents grouped under it.
        parent: The incident it is grouped under.
        merged_into: The incident it was merged into.
        progress: Its escalation folded from the timeline (None: no policy applies).
        escalation: The same as steps to show (None: no policy applies).
        member_names: Every member's name by email, as the store holds them now.
    """

    incident: Incident
    events: tuple[Event, ...]
    children: tuple[Incident, ...]
    parent: Incident | None
    merged_into: Incident | None
    progress: EscalationProgress | None = None
    escalation: EscalationView | None = None
    member_names: Mapping[str, str] = field(default_factory=dict)


# -- reading (on the worker) --------------------------------------------------------------------


def _version(store: Store) -> tuple[int, int]:
    return store.data_version(), event_log.last_seq(store.read())


def read_list(store: Store, chosen: IncidentFilter) -> IncidentList:
    """The incidents matching ``chosen``, in the store's order (run on the worker)."""
    with store.snapshot() as db:
        found = incident_store.list_incidents(
            db,
            states=chosen.state.states,
            team=chosen.team,
            priority=chosen.priority,
            limit=LIST_LIMIT,
        )
        return IncidentList(tuple(found), store.clock.now(), _version(store), chosen)


def read_detail(store: Store, incident_id: str) -> IncidentDetail:
    """One incident with its timeline, children, parent and survivor (run on the worker)."""
    with store.snapshot() as db:
        incident = incident_store.get(db, incident_id)
        parent = None if incident.parent is None else incident_store.find(db, incident.parent)
        merged = None
        if incident.merged_into is not None:
            merged = incident_store.find(db, incident.merged_into)
        events = tuple(incident_store.timeline(db, incident.id))
        # The timeline is the incident's whole subject: its fold is the escalation's progress.
        progress = fold(events)
        return IncidentDetail(
            incident,
            events,
            tuple(incident_store.children(db, incident.id)),
            parent,
            merged,
            progress,
            escalation_steps.view(progress, incident, events),
            {m.email: m.name for m in estate_store.members(db)},
        )


# -- following the store ---------------------------------------------------------------------


class IncidentFeed(QObject):
    """Reads the incident list on the worker and reloads it whenever the store changes."""

    #: A new list arrived (read :attr:`current`).
    loaded = Signal()
    #: Reading failed; a message for people.
    failed = Signal(str)

    def __init__(self, estate: EstateModel, parent: QObject | None = None) -> None:
        """Follow ``estate``'s store; nothing is read until :meth:`start` or :meth:`reload`."""
        super().__init__(parent)
        self._estate = estate
        self._filter = IncidentFilter()
        self.current: IncidentList | None = None
        self._loading = False
        self._again = False
        self._polling = False
        self._loaded_at = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    @property
    def filter(self) -> IncidentFilter:
        """What the list is narrowed to."""
        return self._filter

    @property
    def watching(self) -> bool:
        """Whether the feed checks the store for changes."""
        return self._timer.isActive()

    def start(self) -> None:
        """Load now, then reload whenever the store changes."""
        self.reload()
        self._timer.start()

    def stop(self) -> None:
        """Stop checking the store (a list already asked for still arrives)."""
        self._timer.stop()

    def set_filter(self, chosen: IncidentFilter) -> None:
        """Narrow the list, and read it again."""
        if chosen != self._filter:
            self._filter = chosen
            self.reload()

    def reload(self) -> None:
        """Read the list again (once more after the read in progress, if there is one)."""
        if self._loading:
            self._again = True
            return
        self._loading = True
        self._again = False
        store, chosen = self._estate.store, self._filter
        self._submit(lambda _db: read_list(store, chosen), self._on_loaded, self._on_failed)

    def _submit(
        self, fn: Callable[[Any], Any], done: Callable[[Any], None], failed: Callable[[Any], None]
    ) -> None:
        try:
            job: Job = self._estate.query(fn)
        except RuntimeError:  # the worker has shut down: the console is closing
            self._timer.stop()
            self._loading = self._polling = False
            return
        job.succeeded.connect(done)
        job.failed.connect(failed)

    def _on_loaded(self, result: IncidentList) -> None:
        self._loading = False
        self._loaded_at = time.monotonic()
        if result.filter == self._filter:
            self.current = result
            self.loaded.emit()
        if self._again or result.filter != self._filter:
            self.reload()

    def _on_failed(self, exc: BaseException) -> None:
        self._loading = False
        log.warning("reading incidents failed: %s", exc)
        self.failed.emit(f"Could not read the incidents: {exc}")

    def _poll(self) -> None:
        if self._loading or self._polling:
            return
        self._polling = True
        store = self._estate.store
        self._submit(lambda _db: _version(store), self._on_polled, self._poll_failed)

    def _on_polled(self, version: tuple[int, int]) -> None:
        self._polling = False
        if self.current is None or self._loading:
            return
        known = self.current.version
        if version[1] != known[1]:
            self.reload()  # a new event: an incident (or the estate) changed
        elif version[0] != known[0] and time.monotonic() - self._loaded_at >= REPEAT_REFRESH_S:
            self.reload()  # commits without events: counts and last-seen times may have moved

    def _poll_failed(self, exc: BaseException) -> None:
        self._polling = False
        self.failed.emit(f"Could not check the store for changes: {exc}")
