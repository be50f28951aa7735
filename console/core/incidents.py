"""Incidents: the record, its timeline fold, the transition rules and the response timestamps.

An incident is nothing but its events: ``incident.opened`` and whatever followed it on the
subject ``incident:<id>``. `evolve` folds one event into the record; the store's projection and
any later reader (escalation, post-mortems, a console that synced the log) use the same fold,
so the record is always the timeline replayed.

The fold is total: it never refuses an event. The rules (`acknowledge`, `resolve`...) are
checked when a command is given, on the console that gives it; facts that arrive later through
sync are already history, and a fact that no longer fits (an acknowledgement that reaches a
console after the incident was resolved there) is kept on the timeline without moving the
incident backwards. Event types the fold does not know (``escalation.*``, notes, roles added by
later versions) leave the record as it is.

States: TRIGGERED -> ACKNOWLEDGED -> RESOLVED (and back by ``unacknowledged``, ``reopened``).
Snoozed and mitigated are attributes, not states: a snoozed incident is still triggered or
acknowledged underneath (waking returns it to exactly that), and a mitigated one is still open
and still somebody's (impact stopped, cause not fixed). Merged is RESOLVED with reason MERGED.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from console.core.clock import isoformat, parse_iso
from console.core.enums import Priority, Severity
from console.core.errors import ConsoleError, Problem, ValidationError
from console.core.events import EventType
from console.core.models import SEVERITY_ORDER
from console.core.signals import Labels, SignalSource, labels_of

NUMBER_PREFIX = "INC-"


class IncidentState(Enum):
    """Where an incident stands in its response."""

    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"

    @property
    def is_open(self) -> bool:
        """Triggered or acknowledged."""
        return self is not IncidentState.RESOLVED


class ResolveReason(Enum):
    """Why an incident was resolved."""

    AUTO = "auto"  # the signal recovered and the service resolves on recovery
    MANUAL = "manual"  # a person resolved it
    MERGED = "merged"  # it was merged into another incident


class WakeReason(Enum):
    """Why a snooze ended."""

    MANUAL = "manual"
    EXPIRED = "expired"


class IncidentError(ConsoleError):
    """An incident command that cannot be carried out; the message says why."""


class IncidentNotFound(IncidentError):
    """No incident answers to the id or number given."""


class TransitionRefused(IncidentError):
    """The incident's current state does not allow the command (someone else was quicker...)."""


def subject(incident_id: str) -> str:
    """The event-log subject of an incident."""
    return f"incident:{incident_id}"


def severity_rank(severity: Severity) -> int:
    """0 for critical, 1 for warning, 2 for info: lower is worse."""
    return SEVERITY_ORDER.index(severity)


# -- timestamps -----------------------------------------------------------------------------

_ORDER = ("started", "detected", "acknowledged", "mitigated", "resolved")


@dataclass(frozen=True, slots=True)
class Durations:
    """How long each step of the response took (None where the step has not happened).

    Attributes:
        to_detect: started -> detected: how long the trouble went unnoticed.
        to_acknowledge: detected -> acknowledged: how long until a person took it.
        to_mitigate: started -> mitigated (or resolved, when it never was mitigated on its
            own): how long the impact lasted.
        to_resolve: started -> resolved: the whole incident.
    """

    to_detect: timedelta
    to_acknowledge: timedelta | None
    to_mitigate: timedelta | None
    to_resolve: timedelta | None


@dataclass(frozen=True, slots=True)
class Timestamps:
    """The five raw response timestamps; their order is a rule (`problems`)."""

    started: datetime
    detected: datetime
    acknowledged: datetime | None = None
    mitigated: datetime | None = None
    resolved: datetime | None = None

    def problems(self) -> list[Problem]:
        """Every pair out of order: each present timestamp is at or after the ones before."""
        out: list[Problem] = []
        previous: tuple[str, datetime] | None = None
        for name in _ORDER:
            value: datetime | None = getattr(self, name)
            if value is None:
                continue
            if previous is not None and value < previous[1]:
                out.append(
                    Problem(
                        name,
                        f"{name} ({isoformat(value)}) is before {previous[0]} "
                        f"({isoformat(previous[1])})",
                    )
                )
            previous = (name, value)
        return out

    def validate(self) -> None:
        """Raise ValidationError when any timestamp is out of order."""
        problems = self.problems()
        if problems:
            raise ValidationError(problems)

    @property
    def durations(self) -> Durations:
        """The durations, computed here and nowhere else."""
        impact_end = self.mitigated or self.resolved
        return Durations(
            to_detect=self.detected - self.started,
            to_acknowledge=None if self.acknowledged is None else self.acknowledged - self.detected,
            to_mitigate=None if impact_end is None else impact_end - self.started,
            to_resolve=None if self.resolved is None else self.resolved - self.started,
        )


# -- the record -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident as its timeline has made it so far.

    ``count`` and ``last_seen_at`` also move without events (repeats of the same signal are
    counted, not logged); ``next_due_at`` belongs to escalation. Everything else is the fold.
    """

    id: str
    number: int
    title: str
    source: SignalSource
    dedup_key: str
    team: str | None
    severity: Severity
    priority: Priority
    priority_reason: str
    state: IncidentState
    started_at: datetime
    detected_at: datetime
    last_seen_at: datetime
    updated_at: datetime
    summary: str | None = None
    service: str | None = None
    labels: Labels = ()
    reporter: str | None = None
    impact: str | None = None
    priority_overridden: bool = False
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolve_reason: ResolveReason | None = None
    snoozed_until: datetime | None = None
    flapping: bool = False
    parent: str | None = None
    merged_into: str | None = None
    recurrences: int = 0
    count: int = 1
    next_due_at: datetime | None = None
    drill: bool = False

    @property
    def ref(self) -> str:
        """The short human name: INC-42."""
        return f"{NUMBER_PREFIX}{self.number}"

    @property
    def is_open(self) -> bool:
        """Not resolved."""
        return self.state.is_open

    def is_snoozed(self, now: datetime) -> bool:
        """Snoozed until a moment still to come."""
        return self.snoozed_until is not None and now < self.snoozed_until

    @property
    def timestamps(self) -> Timestamps:
        """The five response timestamps."""
        return Timestamps(
            self.started_at,
            self.detected_at,
            self.acknowledged_at,
            self.mitigated_at,
            self.resolved_at,
        )

    @property
    def durations(self) -> Durations:
        """Time to detect, acknowledge, mitigate and resolve."""
        return self.timestamps.durations


@dataclass(frozen=True, slots=True)
class Fact:
    """An event to record: what a command decided, before the store stamps it.

    Attributes:
        incident: The incident it is about (its subject is ``incident:<id>``).
        type: The event type.
        payload: The JSON-able payload.
        at: When it happened (the event time).
    """

    incident: str
    type: EventType
    payload: Mapping[str, Any]
    at: datetime


def _when(value: datetime | None) -> str | None:
    return None if value is None else isoformat(value)


def _at(payload: Mapping[str, Any], key: str, default: datetime) -> datetime:
    value = payload.get(key)
    return default if value is None else parse_iso(value)


# -- the fold -------------------------------------------------------------------------------


def _opened(payload: Mapping[str, Any], at: datetime) -> Incident:
    detected = _at(payload, "detected_at", at)
    return Incident(
        id=payload["id"],
        number=int(payload["number"]),
        title=payload["title"],
        summary=payload.get("summary"),
        source=SignalSource(payload["source"]),
        dedup_key=payload["dedup_key"],
        service=payload.get("service"),
        team=payload.get("team"),
        severity=Severity(payload["severity"]),
        priority=Priority(payload["priority"]),
        priority_reason=payload["priority_reason"],
        state=IncidentState.TRIGGERED,
        started_at=_at(payload, "started_at", detected),
        detected_at=detected,
        last_seen_at=detected,
        updated_at=at,
        labels=labels_of(payload.get("labels") or {}),
        reporter=payload.get("reporter"),
        impact=payload.get("impact"),
        parent=payload.get("parent"),
        drill=bool(payload.get("drill", False)),
    )


Fold = Callable[[Incident, Mapping[str, Any], datetime], Incident]


def _recurred(i: Incident, p: Mapping[str, Any], at: datetime) -> Incident:
    seen = max(i.last_seen_at, _at(p, "at", at))
    return replace(i, recurrences=i.recurrences + 1, last_seen_at=seen, count=i.count + 1)


def _severity_changed(i: Incident, p: Mapping[str, Any], at: datetime) -> Incident:
    out = replace(i, severity=Severity(p["to"]))
    if p.get("priority_to") and not i.priority_overridden:
        out = replace(
            out, priority=Priority(p["priority_to"]), priority_reason=p["priority_reason"]
        )
    return out


def _acknowledged(i: Incident, p: Mapping[str, Any], at: datetime) -> Incident:
    if i.state is not IncidentState.TRIGGERED:
        return i  # the first acknowledgement counts; none un-resolves
    who = p.get("on_behalf_of") or p.get("by")
    return replace(
        i, state=IncidentState.ACKNOWLEDGED, acknowledged_at=_at(p, "at", at), acknowledged_by=who
    )


def _unacknowledged(i: Incident, p: Mapping[str, Any], at: datetime) -> Incident:
    if i.state is not IncidentState.ACKNOWLEDGED or i.mitigated_at is not None:
        return i
    return replace(i, state=IncidentState.TRIGGERED, acknowledged_at=None, acknowledged_by=None)


def _mitigated(i: Incident, p: Mapping[str, Any], at: datetime) -> Incident:
    if not i.is_open or i.mitigated_at is not None:
        return i
    return replace(i, mitigated_at=_at(p, "at", at))


def _resolved(i: Incident, p: Mapping[str, Any], at: datetime) -> Incident:
    if not i.is_open:
        return i
    return replace(
        i,
        state=IncidentState.RESOLVED,
        resolved_at=_at(p, "at", at),
        resolved_by=p.get("by"),
        resolve_reason=ResolveReason(p.get("reason", ResolveReason.MANUAL.value)),
        snoozed_until=None,
    )


def _reopened(i: Incident, p: Mapping[str, Any], at: datetime) -> Incident:
    if i.is_open or i.merged_into is not None:
        return i
    return replace(
        i,
        state=IncidentState.TRIGGERED,
        acknowledged_at=None,
        acknowledged_by=None,
        mitigated_at=None,
        resolved_at=None,
        resolved_by=None,
        resolve_reason=None,
        last_seen_at=max(i.last_seen_at, _at(p, "at", at)),
    )


def _snoozed(i: Incident, p: Mapping[str, Any], at: datetime) -> Incident:
    return replace(i, snoozed_until=parse_iso(p["until"])) if i.is_open else i


_FOLDS: Mapping[EventType, Fold] = {
    EventType.INCIDENT_RECURRED: _recurred,
    EventType.INCIDENT_SEVERITY_CHANGED: _severity_changed,
    EventType.INCIDENT_ACKNOWLEDGED: _acknowledged,
    EventType.INCIDENT_UNACKNOWLEDGED: _unacknowledged,
    EventType.INCIDENT_MITIGATED: _mitigated,
    EventType.INCIDENT_RESOLVED: _resolved,
    EventType.INCIDENT_REOPENED: _reopened,
    EventType.INCIDENT_SNOOZED: _snoozed,
    EventType.INCIDENT_WOKE: lambda i, p, at: replace(i, snoozed_until=None),
    EventType.INCIDENT_REASSIGNED: lambda i, p, at: replace(i, team=p["to_team"]),
    EventType.INCIDENT_MERGED: lambda i, p, at: replace(i, merged_into=p["into"]),
    EventType.INCIDENT_PRIORITY_OVERRIDDEN: lambda i, p, at: replace(
        i,
        priority=Priority(p["to"]),
        priority_overridden=True,
        priority_reason=f"set by hand: {p['reason']}",
    ),
    EventType.INCIDENT_FLAPPING: lambda i, p, at: replace(i, flapping=bool(p["flapping"])),
    EventType.INCIDENT_GROUPED: lambda i, p, at: replace(i, parent=p.get("parent")),
}


def evolve(
    incident: Incident | None, type_: EventType, payload: Mapping[str, Any], at: datetime
) -> Incident | None:
    """Fold one event of an incident's timeline into its record.

    Args:
        incident: The record so far (None before ``incident.opened``).
        type_: The event's type.
        payload: The event's payload.
        at: The event's time.

    Returns:
        The record after the event; unchanged for event types the fold does not know.
    """
    if type_ is EventType.INCIDENT_OPENED:
        return incident if incident is not None else _opened(payload, at)
    fold = _FOLDS.get(type_)
    if incident is None:
        return None  # an event whose opening has not arrived (yet): nothing to fold into
    if fold is None:
        # Known to the log but not to the record (absorbed, later issues' events): only the
        # time of the latest change moves.
        if type_.value.startswith("incident."):
            return replace(incident, updated_at=max(incident.updated_at, at))
        return incident
    return replace(fold(incident, payload, at), updated_at=max(incident.updated_at, at))


def replay(facts: Iterable[tuple[EventType, Mapping[str, Any], datetime]]) -> Incident | None:
    """One incident's record from its timeline (type, payload, time), oldest first."""
    incident: Incident | None = None
    for type_, payload, at in facts:
        incident = evolve(incident, type_, payload, at)
    return incident


def apply(incident: Incident | None, facts: Iterable[Fact]) -> Incident | None:
    """The record after some facts about it (the others are ignored)."""
    for fact in facts:
        if incident is None or fact.incident == incident.id:
            incident = evolve(incident, fact.type, fact.payload, fact.at)
    return incident
