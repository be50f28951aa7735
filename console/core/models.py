"""Frozen records of the domain: teams, members, services, runbooks, shared resources."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from console.core.endpoints import Endpoint
from console.core.enums import (
    Discipline,
    ImpactTier,
    MemberRole,
    Priority,
    ResourceKind,
    Severity,
)

if TYPE_CHECKING:  # incident settings import this module: names for annotations only
    from console.core.alerting_config import AlertingConfig
    from console.core.escalation import Policy
    from console.core.notices import DeliveryConfig
    from console.core.schedules import Schedule, Unavailability
    from console.core.silences import Silence


@dataclass(frozen=True, slots=True)
class ChatHandle:
    """A member's address on one chat network (slack, matrix, teams...)."""

    network: str
    handle: str


@dataclass(frozen=True, slots=True)
class Member:
    """A person who can be paged; the email is the stable key."""

    email: str
    name: str
    timezone: str
    discipline: Discipline
    phone: str | None = None
    chat: tuple[ChatHandle, ...] = ()

    def __post_init__(self) -> None:
        # Handles are a set keyed by network: one canonical order makes equal members equal.
        ordered = tuple(sorted(self.chat, key=lambda c: (c.network, c.handle)))
        object.__setattr__(self, "chat", ordered)

    @property
    def key(self) -> str:
        """The member's stable key: the email."""
        return self.email


@dataclass(frozen=True, slots=True)
class Membership:
    """A member's place in a team."""

    member: str
    role: MemberRole


@dataclass(frozen=True, slots=True)
class Team:
    """A group that owns services and answers for them."""

    key: str
    name: str
    discipline: Discipline
    lead: str | None = None
    bridge_url: str | None = None
    notes: str | None = None
    members: tuple[Membership, ...] = ()

    def role_of(self, email: str) -> MemberRole | None:
        """The role a member holds in this team, if any."""
        return next((m.role for m in self.members if m.member == email), None)


@dataclass(frozen=True, slots=True)
class Service:
    """Something the business depends on, owned by a team and ranked by impact."""

    key: str
    name: str
    team: str
    tier: ImpactTier
    description: str | None = None
    tags: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()


SEVERITY_ORDER: tuple[Severity, ...] = (Severity.CRITICAL, Severity.WARNING, Severity.INFO)

_DEFAULT_GRID: tuple[tuple[Priority, ...], ...] = (
    (Priority.P1, Priority.P2, Priority.P4),
    (Priority.P2, Priority.P3, Priority.P4),
    (Priority.P3, Priority.P4, Priority.P5),
    (Priority.P4, Priority.P5, Priority.P5),
)


@dataclass(frozen=True, slots=True)
class PriorityMatrix:
    """Impact tier x severity -> priority; rows are tiers 1..4, columns critical/warning/info."""

    grid: tuple[tuple[Priority, ...], ...] = _DEFAULT_GRID

    def __post_init__(self) -> None:
        if len(self.grid) != len(ImpactTier) or any(
            len(row) != len(SEVERITY_ORDER) for row in self.grid
        ):
            raise ValueError("a priority matrix has 4 tiers x 3 severities")

    def priority(self, tier: ImpactTier, severity: Severity) -> Priority:
        """The priority an incident of this severity on a service of this tier gets."""
        return self.grid[int(tier) - 1][SEVERITY_ORDER.index(severity)]

    def with_cell(self, tier: ImpactTier, severity: Severity, value: Priority) -> PriorityMatrix:
        """A copy with one cell changed."""
        rows = [list(row) for row in self.grid]
        rows[int(tier) - 1][SEVERITY_ORDER.index(severity)] = value
        return PriorityMatrix(tuple(tuple(r) for r in rows))

    @property
    def is_default(self) -> bool:
        """Whether no cell differs from the shipped defaults."""
        return self.grid == _DEFAULT_GRID


@dataclass(frozen=True, slots=True)
class RunbookStep:
    """One step of a runbook, in Markdown."""

    title: str
    body: str
    expected_minutes: int | None = None
    destroys_evidence: bool = False


@dataclass(frozen=True, slots=True)
class Runbook:
    """What to do in a scenario, written before it happens."""

    key: str
    title: str
    scenario: str
    services: tuple[str, ...] = ()
    steps: tuple[RunbookStep, ...] = ()

    def content_hash(self) -> str:
        """A digest of everything a version captures; equal content means no new version."""
        content = {
            "title": self.title,
            "scenario": self.scenario,
            "services": list(self.services),
            "steps": [
                [s.title, s.body, s.expected_minutes, s.destroys_evidence] for s in self.steps
            ],
        }
        raw = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(raw.encode()).hexdigest()

    @property
    def expected_minutes(self) -> int | None:
        """Sum of the steps' expected durations, if every step has one."""
        values = [s.expected_minutes for s in self.steps]
        if not values or any(v is None for v in values):
            return None
        return sum(v for v in values if v is not None)

    @property
    def destroys_evidence(self) -> bool:
        """Whether any step destroys forensic evidence."""
        return any(s.destroys_evidence for s in self.steps)


@dataclass(frozen=True, slots=True)
class RunbookVersion:
    """One recorded version of a runbook."""

    number: int
    content_hash: str
    recorded_at: datetime
    actor: str
    runbook: Runbook


@dataclass(frozen=True, slots=True)
class SharedResource:
    """Something several teams may need in an incident, held by reference, never a secret."""

    key: str
    name: str
    kind: ResourceKind
    description: str | None = None
    who_may_use: tuple[str, ...] = ()
    how_to_obtain: str | None = None
    secret_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Estate:
    """Everything configuration declares: what `config import` takes and `export` writes."""

    teams: tuple[Team, ...] = ()
    members: tuple[Member, ...] = ()
    services: tuple[Service, ...] = ()
    runbooks: tuple[Runbook, ...] = ()
    resources: tuple[SharedResource, ...] = ()
    #: None when a configuration file does not declare one (an import keeps the stored one).
    priority_matrix: PriorityMatrix | None = None
    endpoints: tuple[Endpoint, ...] = ()
    #: Inbound-alert routes and incident settings; None when not declared (an import keeps
    #: the stored ones).
    alerting: AlertingConfig | None = None
    silences: tuple[Silence, ...] = ()
    #: On-call schedules (with their overrides) and members' absences.
    schedules: tuple[Schedule, ...] = ()
    unavailability: tuple[Unavailability, ...] = ()
    #: Escalation policies (console.core.escalation).
    escalation_policies: tuple[Policy, ...] = ()
    #: Email and webhook delivery (console.core.notices); None when not declared.
    delivery: DeliveryConfig | None = None

    def sorted(self) -> Estate:
        """The same estate with every collection in key order (canonical form)."""
        return replace(
            self,
            teams=tuple(sorted(self.teams, key=lambda t: t.key)),
            members=tuple(sorted(self.members, key=lambda m: m.email)),
            services=tuple(sorted(self.services, key=lambda s: s.key)),
            runbooks=tuple(sorted(self.runbooks, key=lambda r: r.key)),
            resources=tuple(sorted(self.resources, key=lambda r: r.key)),
            endpoints=tuple(sorted(self.endpoints, key=lambda e: e.key)),
            silences=tuple(sorted(self.silences, key=lambda s: s.key)),
            schedules=tuple(sorted(self.schedules, key=lambda s: s.key)),
            unavailability=tuple(sorted(self.unavailability, key=lambda u: u.key)),
            escalation_policies=tuple(sorted(self.escalation_policies, key=lambda p: p.key)),
        )
