"""Shared pieces for the escalation tests: people, an incident, and a timeline simulator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from console.core import incident_rules as rules
from console.core.enums import Discipline, MemberRole, Priority, Severity
from console.core.escalation import Level, Policy, Target, TargetKind
from console.core.escalator import (
    Delivery,
    Directory,
    EscalationProgress,
    Plan,
    advance,
    next_due,
    plan,
    start,
)
from console.core.events import EventType
from console.core.incidents import Fact, Incident, IncidentState, apply
from console.core.models import Membership, Team
from console.core.schedules import Schedule, Unavailability
from console.core.signals import SignalSource

ANA, BOB, CAT, DAN = "ana@example.com", "bob@example.com", "cat@example.com", "dan@example.com"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def member(email: str) -> Target:
    return Target(TargetKind.MEMBER, email)


def team(key: str) -> Target:
    return Target(TargetKind.TEAM, key)


def schedule(key: str) -> Target:
    return Target(TargetKind.SCHEDULE, key)


def round_robin(ref: str, members: tuple[str, ...] = ()) -> Target:
    return Target(TargetKind.ROUND_ROBIN, ref, members)


def level(delay: float, *targets: Target, urgent: bool = False) -> Level:
    return Level(minutes(delay), targets, urgent)


def policy(*levels: Level, key: str = "payments", **fields: object) -> Policy:
    return Policy(key, key.title(), levels, **fields)  # type: ignore[arg-type]


def make_team(key: str, *emails: str) -> Team:
    return Team(
        key,
        key.title(),
        Discipline.INFRASTRUCTURE,
        members=tuple(Membership(e, MemberRole.RESPONDER) for e in emails),
    )


def directory(
    teams: Sequence[Team] = (),
    schedules: Sequence[Schedule] = (),
    absences: Sequence[Unavailability] = (),
    members: Sequence[str] = (ANA, BOB, CAT, DAN),
) -> Directory:
    return Directory.build(members, teams, schedules, absences)


def incident(number: int = 1, at: datetime = T0, *, drill: bool = False) -> Incident:
    return Incident(
        id=f"inc-{number}",
        number=number,
        title="Payments failing",
        source=SignalSource.MANUAL,
        dedup_key=f"manual:{number}",
        team="payments",
        severity=Severity.CRITICAL,
        priority=Priority.P1,
        priority_reason="tier 1 x critical",
        state=IncidentState.TRIGGERED,
        started_at=at,
        detected_at=at,
        last_seen_at=at,
        updated_at=at,
        service="payments-api",
        drill=drill,
    )


@dataclass
class Sim:
    """One incident's timeline, planned and recorded as a store would, in memory."""

    policy: Policy
    directory: Directory
    incident: Incident = field(default_factory=incident)
    facts: list[Fact] = field(default_factory=list)
    sent: list[Delivery] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.facts.append(start(self.incident, self.policy, self.incident.detected_at))

    @property
    def progress(self) -> EscalationProgress:
        found = advance(None, self.facts)
        assert found is not None
        return found

    @property
    def due(self) -> datetime | None:
        return next_due(self.progress, self.incident)

    def record(self, facts: Sequence[Fact]) -> None:
        self.facts += facts
        after = apply(self.incident, facts)
        assert after is not None
        self.incident = after

    def tick(self, now: datetime) -> Plan:
        found = plan(self.progress, self.incident, self.directory, now)
        self.record(found.facts)
        self.sent += found.deliveries
        self.directory = self.directory.advanced(found.turns)
        assert found.next_due_at == self.due  # the plan's answer is the timeline's
        return found

    def acknowledge(self, at: datetime, by: str = ANA) -> None:
        self.record(rules.acknowledge(self.incident, by=by, at=at))

    def types(self, facts: Sequence[Fact] | None = None) -> list[EventType]:
        return [f.type for f in (self.facts if facts is None else facts)]


def started(facts: Sequence[Fact]) -> list[tuple[int, int, str]]:
    """(level, repeat, due_at) of each level start or empty level among ``facts``."""
    wanted = (EventType.ESCALATION_LEVEL_STARTED, EventType.ESCALATION_LEVEL_EMPTY)
    return [
        (int(f.payload["level"]), int(f.payload["repeat"]), str(f.payload["due_at"]))
        for f in facts
        if f.type in wanted
    ]
