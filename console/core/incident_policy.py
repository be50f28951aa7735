"""What a signal does: open, update, recur or reopen; priority, grouping and held notifications.

The store gathers the inputs (the open incident for the dedup key, the services, the routes,
the silences, the settings) inside one transaction and asks these functions what to record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from types import MappingProxyType
from typing import Any

from console.core.clock import isoformat
from console.core.enums import ImpactTier, Priority, Severity
from console.core.errors import Problem, ValidationError
from console.core.events import Event, EventType
from console.core.incidents import Fact, Incident, ResolveReason, severity_rank
from console.core.models import PriorityMatrix
from console.core.routing import RouteDecision
from console.core.signals import Signal, SignalSource

DEFAULT_QUIET_PERIOD = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class IncidentSettings:
    """How signals become incidents (the settings dialog edits these).

    Attributes:
        quiet_period: A repeat after this long without one records ``recurred``; closer
            repeats are only counted.
        reopen_within: A signal this soon after its incident was auto-resolved reopens it
            instead of opening a new one (0: never, except for a flapping incident, which
            reopens within the quiet period so that it stays one incident).
        unknown_severity: The severity of a confirmed UNKNOWN check (the probe failed).
        unknown_label_severity: The severity of an inbound alert whose ``severity`` label is
            missing or not understood.
        default_tier: The impact tier of a signal whose service is unknown.
        auto_resolve: Whether a recovery resolves the incident, per source.
        auto_resolve_services: Per-service exceptions to ``auto_resolve``.
    """

    quiet_period: timedelta = DEFAULT_QUIET_PERIOD
    reopen_within: timedelta = timedelta(0)
    unknown_severity: Severity = Severity.WARNING
    unknown_label_severity: Severity = Severity.WARNING
    default_tier: ImpactTier = ImpactTier.TIER_3
    auto_resolve: Mapping[SignalSource, bool] = field(
        default_factory=lambda: {
            SignalSource.METRIC: True,
            SignalSource.ALERT: True,
            SignalSource.MANUAL: False,
        }
    )
    auto_resolve_services: Mapping[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = [
            Problem(name, "must not be negative")
            for name in ("quiet_period", "reopen_within")
            if getattr(self, name) < timedelta(0)
        ]
        if problems:
            raise ValidationError(problems)
        # Read-only views: a frozen record whose mappings could still be changed is not frozen.
        object.__setattr__(self, "auto_resolve", MappingProxyType(dict(self.auto_resolve)))
        services = MappingProxyType(dict(self.auto_resolve_services))
        object.__setattr__(self, "auto_resolve_services", services)

    def auto_resolves(self, source: SignalSource, service: str | None) -> bool:
        """Whether a recovery of a signal from ``source`` on ``service`` resolves its incident."""
        if service is not None and service in self.auto_resolve_services:
            return self.auto_resolve_services[service]
        return self.auto_resolve.get(source, False)

    def to_dict(self) -> dict[str, Any]:
        """Encode (durations in seconds)."""
        return {
            "quiet_period_s": self.quiet_period.total_seconds(),
            "reopen_within_s": self.reopen_within.total_seconds(),
            "unknown_severity": self.unknown_severity.value,
            "unknown_label_severity": self.unknown_label_severity.value,
            "default_tier": int(self.default_tier),
            "auto_resolve": {s.value: v for s, v in self.auto_resolve.items()},
            "auto_resolve_services": dict(self.auto_resolve_services),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> IncidentSettings:
        """Decode; missing fields take their defaults."""
        base = cls()
        return cls(
            quiet_period=timedelta(
                seconds=d.get("quiet_period_s", base.quiet_period.total_seconds())
            ),
            reopen_within=timedelta(seconds=d.get("reopen_within_s", 0)),
            unknown_severity=Severity(d.get("unknown_severity", base.unknown_severity.value)),
            unknown_label_severity=Severity(
                d.get("unknown_label_severity", base.unknown_label_severity.value)
            ),
            default_tier=ImpactTier(d.get("default_tier", int(base.default_tier))),
            auto_resolve={
                **base.auto_resolve,
                **{SignalSource(k): bool(v) for k, v in d.get("auto_resolve", {}).items()},
            },
            auto_resolve_services={
                str(k): bool(v) for k, v in d.get("auto_resolve_services", {}).items()
            },
        )


def decide_priority(
    matrix: PriorityMatrix, tier: ImpactTier | None, severity: Severity, default_tier: ImpactTier
) -> tuple[Priority, str]:
    """The priority from the matrix, and the cell that gave it in words.

    Args:
        matrix: The priority matrix.
        tier: The service's impact tier; None when the service is unknown.
        severity: The signal's severity.
        default_tier: The tier used for an unknown service.
    """
    used = default_tier if tier is None else tier
    priority = matrix.priority(used, severity)
    reason = f"tier {int(used)} x {severity.value} -> {priority.value} (priority matrix)"
    if tier is None:
        reason += f"; service unknown, so tier {int(used)} is assumed"
    return priority, reason


# -- opening and repeats ------------------------------------------------------------------------


def opening(
    signal: Signal,
    *,
    incident_id: str,
    number: int,
    now: datetime,
    route: RouteDecision,
    priority: tuple[Priority, str],
    parent: Incident | None = None,
    silenced_by: str | None = None,
) -> Fact:
    """The ``incident.opened`` fact for a new incident.

    ``started_at`` is the signal's, but never later than ``now`` (a sender whose clock runs
    ahead must not put the start after the detection).
    """
    payload: dict[str, Any] = {
        "id": incident_id,
        "number": number,
        "title": signal.title,
        "summary": signal.summary,
        "source": signal.source.value,
        "dedup_key": signal.dedup_key,
        "service": signal.service,
        "team": route.team,
        "route": {"basis": route.basis.value, "reason": route.reason},
        "severity": signal.severity.value,
        "priority": priority[0].value,
        "priority_reason": priority[1],
        "started_at": isoformat(min(signal.started_at, now)),
        "detected_at": isoformat(now),
        "labels": dict(signal.labels),
        "reporter": signal.reporter,
        "impact": signal.impact,
        "value": signal.value,
        "parent": None if parent is None else parent.id,
        "parent_number": None if parent is None else parent.number,
        "silenced_by": silenced_by,
        "drill": signal.drill,
    }
    return Fact(incident_id, EventType.INCIDENT_OPENED, payload, now)


def severity_change(
    incident: Incident, severity: Severity, *, at: datetime, priority: tuple[Priority, str]
) -> Fact | None:
    """The ``severity_changed`` fact (priority follows unless overridden), or None."""
    if severity is incident.severity:
        return None
    payload: dict[str, Any] = {
        "from": incident.severity.value,
        "to": severity.value,
        "priority_from": incident.priority.value,
        "priority_to": None,
        "priority_reason": None,
        "at": isoformat(at),
    }
    if not incident.priority_overridden and priority[0] is not incident.priority:
        payload.update(priority_to=priority[0].value, priority_reason=priority[1])
    return Fact(incident.id, EventType.INCIDENT_SEVERITY_CHANGED, payload, at)


def is_quiet(incident: Incident, now: datetime, settings: IncidentSettings) -> bool:
    """Whether a repeat now comes after the quiet period (and so records ``recurred``)."""
    return now - incident.last_seen_at >= settings.quiet_period


def recurrence(incident: Incident, signal: Signal, *, now: datetime) -> Fact:
    """The ``recurred`` fact for a repeat after a quiet period."""
    payload = {
        "at": isoformat(now),
        "value": signal.value,
        "count": incident.count + 1,
        "quiet_since": isoformat(incident.last_seen_at),
        "started_at": isoformat(min(signal.started_at, now)),
    }
    return Fact(incident.id, EventType.INCIDENT_RECURRED, payload, now)


def reopens(incident: Incident, now: datetime, settings: IncidentSettings) -> bool:
    """Whether a new signal for this resolved incident's key reopens it.

    Only an automatic resolution is undone this way (a person's resolve is a decision), and
    only soon after it: within ``reopen_within``, or within the quiet period when the incident
    was flapping, so that a flapping metric keeps one incident.
    """
    if incident.is_open or incident.merged_into is not None or incident.resolved_at is None:
        return False
    if incident.resolve_reason is not ResolveReason.AUTO:
        return False
    window = max(
        settings.reopen_within, settings.quiet_period if incident.flapping else timedelta(0)
    )
    return now - incident.resolved_at <= window


def worse(before: Severity, after: Severity) -> bool:
    """Whether ``after`` is a worse severity than ``before``."""
    return severity_rank(after) < severity_rank(before)


# -- grouping -----------------------------------------------------------------------------------


def upstream_levels(service: str, depends_on: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """The services ``service`` depends on, transitively, nearest first (one list per hop)."""
    seen = {service}
    levels: list[list[str]] = []
    frontier = [service]
    while frontier:
        level: list[str] = []
        for node in frontier:
            for dep in depends_on.get(node, ()):
                if dep not in seen:
                    seen.add(dep)
                    level.append(dep)
        if level:
            levels.append(level)
        frontier = level
    return levels


def group_parent(
    service: str | None,
    depends_on: Mapping[str, Sequence[str]],
    open_incidents: Iterable[Incident],
) -> Incident | None:
    """The open upstream incident a new incident on ``service`` is grouped under, or None.

    The nearest upstream service (by dependency hops) with an open incident wins, its oldest
    incident first; when that incident is itself grouped, the group's root is returned so that
    a group is one level deep: the root cause, and everything it took down with it.
    """
    if service is None:
        return None
    by_service: dict[str, list[Incident]] = {}
    by_id: dict[str, Incident] = {}
    for incident in open_incidents:
        if incident.is_open and incident.service is not None:
            by_service.setdefault(incident.service, []).append(incident)
            by_id[incident.id] = incident
    for level in upstream_levels(service, depends_on):
        candidates = [i for s in level for i in by_service.get(s, ())]
        if candidates:
            found = min(candidates, key=lambda i: (i.detected_at, i.number))
            seen = {found.id}
            while found.parent in by_id and found.parent not in seen:
                found = by_id[found.parent]
                seen.add(found.id)
            return found
    return None


# -- what a signal did --------------------------------------------------------------------------


class SignalEffect(Enum):
    """What a signal did to the incidents."""

    OPENED = "opened"  # a new incident
    REOPENED = "reopened"  # an auto-resolved incident came back
    RECURRED = "recurred"  # a repeat after a quiet period (one timeline event)
    UPDATED = "updated"  # a repeat: counted, no timeline event (unless the severity changed)


class Hold(Enum):
    """Why notifications about an incident are held back (the record is kept regardless)."""

    SILENCED = "silenced"  # a silence or maintenance window matches
    GROUPED = "grouped"  # an upstream incident is open: that one pages
    SNOOZED = "snoozed"
    FLAPPING = "flapping"  # notified once; a flapping signal does not re-notify


def hold_for(
    incident: Incident,
    *,
    now: datetime,
    silenced_by: str | None,
    parent_open: bool,
    new: bool,
) -> Hold | None:
    """Why notifications are held back for this incident now, or None.

    Args:
        incident: The incident after the signal.
        now: The current time.
        silenced_by: The key of a silence that matches it now.
        parent_open: Whether it is grouped under an incident that is still open.
        new: Whether the signal opened or reopened it (a flapping incident notifies then).
    """
    if silenced_by is not None:
        return Hold.SILENCED
    if incident.parent is not None and parent_open:
        return Hold.GROUPED
    if incident.is_snoozed(now):
        return Hold.SNOOZED
    if incident.flapping and not new:
        return Hold.FLAPPING
    return None


@dataclass(frozen=True, slots=True)
class SignalOutcome:
    """What `open_or_update` did with a signal.

    Attributes:
        effect: Opened, reopened, recurred or only updated (counted).
        incident: The incident after the signal (with its count and last seen).
        events: The events recorded (none for a plain repeat).
        worse: Something got worse: a new or reopened incident, or a higher severity.
        hold: Why notifications are held back, if they are.
        silenced_by: The matching silence's key, when ``hold`` is SILENCED.
    """

    effect: SignalEffect
    incident: Incident
    events: tuple[Event, ...] = ()
    worse: bool = False
    hold: Hold | None = None
    silenced_by: str | None = None

    @property
    def notify(self) -> bool:
        """Whether people should be notified: something got worse and nothing holds it back."""
        return self.worse and self.hold is None

    @property
    def suppressed(self) -> bool:
        """A silence or maintenance window held the notification back."""
        return self.hold is Hold.SILENCED

    @property
    def grouped(self) -> bool:
        """The incident is grouped under an open upstream incident."""
        return self.hold is Hold.GROUPED
