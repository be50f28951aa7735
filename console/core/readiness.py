"""The readiness report: where a team stands in its ability to respond, before an incident asks.

Every finding names what is missing and for what. The checks, over a horizon (14 days by
default) from the moment asked:

* services: an owning team with nobody in it, no runbook, no escalation policy, or stretches of
  the horizon when the policy can reach nobody (every level's targets empty at once: the
  schedules have gaps, the members are away);
* people: members no delivery channel reaches (no email server configured, no chat webhook or
  phone gateway that applies to their teams), for whom a page stays on this console;
* policies: levels that can come up empty during the horizon (escalation then records a
  failure and goes on to the next level);
* training: members never drilled, runbooks not reviewed or not drilled within the training
  window (90 days by default).

A tier-1 service with a gap in its own cover (no team members, no runbook, no policy, no cover)
makes the report *blocking*: ``oncall-console readiness`` exits 1. Pure: the store reads the
inputs, the CLI and the page show the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from console.core.enums import ImpactTier
from console.core.escalation import Level, Policy, Target, TargetKind, policy_for
from console.core.models import Estate, Member, Service
from console.core.notices import DeliveryConfig, Recipient, channels_for
from console.core.schedules import Unavailability, gaps

HORIZON = timedelta(days=14)
TRAINING_WINDOW = timedelta(days=90)

Span = tuple[datetime, datetime]


class Area(Enum):
    """What a finding is about."""

    SERVICE = "service"
    MEMBER = "member"
    POLICY = "policy"
    TRAINING = "training"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing that is not ready.

    Attributes:
        area: Services, people, policies or training.
        subject: The key of what it is about (a service, a member's email, a policy, a runbook).
        problem: In words, with the when where it matters.
        tier: The service's impact tier, for service findings.
        blocking: A tier-1 service's own cover is missing (the report then fails).
    """

    area: Area
    subject: str
    problem: str
    tier: ImpactTier | None = None
    blocking: bool = False


@dataclass(frozen=True, slots=True)
class Drill:
    """A drill that took place: which runbook, when, and who took part (reached or answered)."""

    runbook: str | None
    at: datetime
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReadinessInputs:
    """Everything the report reads.

    Attributes:
        estate: The configuration (services, teams, members, runbooks, schedules, absences,
            escalation policies, delivery).
        reviewed: When each runbook was last reviewed (its newest version, or a review).
        drills: The drills held so far.
    """

    estate: Estate
    reviewed: Mapping[str, datetime] = field(default_factory=dict)
    drills: tuple[Drill, ...] = ()

    @property
    def policies(self) -> tuple[Policy, ...]:
        """The escalation policies."""
        return self.estate.escalation_policies

    @property
    def delivery(self) -> DeliveryConfig | None:
        """How people away from the console are reached (None: not configured)."""
        return self.estate.delivery


@dataclass(frozen=True, slots=True)
class ReadinessReport:
    """The findings, at ``at`` over ``horizon``."""

    at: datetime
    horizon: timedelta
    findings: tuple[Finding, ...]

    @property
    def blocking(self) -> tuple[Finding, ...]:
        """The findings that make the report fail (tier-1 services' cover)."""
        return tuple(f for f in self.findings if f.blocking)

    def by_area(self, area: Area) -> tuple[Finding, ...]:
        """The findings of one area, in report order."""
        return tuple(f for f in self.findings if f.area is area)


# -- spans ---------------------------------------------------------------------------------


def intersect(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    """The stretches in both (each list sorted and without overlaps)."""
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _merge(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


@dataclass(frozen=True, slots=True)
class Cover:
    """Answers "when can this target reach nobody" over one window."""

    estate: Estate
    start: datetime
    end: datetime

    def away(self, member: str) -> list[Span]:
        """When ``member`` cannot be reached (unknown members: always)."""
        if member not in {m.email for m in self.estate.members}:
            return [(self.start, self.end)]
        spans = (
            (max(u.start, self.start), min(u.end, self.end))
            for u in self.estate.unavailability
            if u.member == member and u.start < self.end and u.end > self.start
        )
        return _merge(spans)

    def all_away(self, members: Sequence[str]) -> list[Span]:
        """When every one of ``members`` is away (always, for nobody)."""
        found: list[Span] = [(self.start, self.end)]
        for member in members:
            found = intersect(found, self.away(member))
            if not found:
                break
        return found

    def schedule_gaps(self, key: str) -> list[Span]:
        """When the schedule has nobody on call (always, for an unknown or broken one)."""
        schedule = next((s for s in self.estate.schedules if s.key == key), None)
        if schedule is None:
            return [(self.start, self.end)]
        try:
            return [(g.start, g.end) for g in gaps(schedule, self.start, self.end, self._absent())]
        except ValueError:
            return [(self.start, self.end)]

    def _absent(self) -> tuple[Unavailability, ...]:
        return self.estate.unavailability

    def team_members(self, key: str) -> tuple[str, ...]:
        """A team's members (none for an unknown team)."""
        team = next((t for t in self.estate.teams if t.key == key), None)
        return () if team is None else tuple(m.member for m in team.members)

    def target_gaps(self, target: Target) -> list[Span]:
        """When the target reaches nobody."""
        if target.kind is TargetKind.MEMBER:
            return self.away(target.ref)
        if target.kind is TargetKind.SCHEDULE:
            return self.schedule_gaps(target.ref)
        if target.kind is TargetKind.ROUND_ROBIN and target.members:
            return self.all_away(target.members)
        return self.all_away(self.team_members(target.ref))

    def level_gaps(self, level: Level) -> list[Span]:
        """When none of the level's targets reaches anybody."""
        found: list[Span] = [(self.start, self.end)]
        for target in level.targets:
            found = intersect(found, self.target_gaps(target))
        return found

    def policy_gaps(self, policy: Policy) -> list[Span]:
        """When no level of the policy reaches anybody."""
        found: list[Span] = [(self.start, self.end)]
        for level in policy.levels:
            found = intersect(found, self.level_gaps(level))
        return found


def _when(spans: Sequence[Span]) -> str:
    first = spans[0]
    total = sum((b - a for a, b in spans), timedelta())
    hours = total.total_seconds() / 3600
    more = f" ({len(spans)} stretches, {hours:.0f} h in all)" if len(spans) > 1 else ""
    return f"from {first[0]:%Y-%m-%d %H:%M} UTC to {first[1]:%Y-%m-%d %H:%M} UTC{more}"


# -- the checks ----------------------------------------------------------------------------


def _service_findings(service: Service, inputs: ReadinessInputs, cover: Cover) -> list[Finding]:
    estate, blocking = inputs.estate, service.tier is ImpactTier.TIER_1
    out: list[str] = []
    if not cover.team_members(service.team):
        out.append(f"its owning team {service.team} has nobody in it")
    if not any(service.key in r.services for r in estate.runbooks):
        out.append("no runbook covers it")
    policy = policy_for(inputs.policies, service.key, service.team)
    if policy is None:
        out.append("no escalation policy applies to it")
    else:
        holes = cover.policy_gaps(policy)
        if holes:
            out.append(f"policy {policy.key} reaches nobody {_when(holes)}")
    return [Finding(Area.SERVICE, service.key, p, service.tier, blocking) for p in out]


def _member_findings(inputs: ReadinessInputs) -> list[Finding]:
    out: list[Finding] = []
    teams_of: dict[str, list[str]] = {}
    for team in inputs.estate.teams:
        for m in team.members:
            teams_of.setdefault(m.member, []).append(team.key)
    for member in inputs.estate.members:
        if not _reachable(member, teams_of.get(member.email, []), inputs.delivery):
            out.append(
                Finding(
                    Area.MEMBER,
                    member.email,
                    "no email, chat or phone channel reaches them away from this console",
                )
            )
    return out


def _reachable(member: Member, teams: Sequence[str], delivery: DeliveryConfig | None) -> bool:
    if delivery is None:
        return False
    recipient = Recipient(member.email, member.name, member.phone, member.chat)
    choices: list[str | None] = [*teams] if teams else [None]
    return any(channels_for(recipient, delivery, team, True) for team in choices)


def _policy_findings(inputs: ReadinessInputs, cover: Cover) -> list[Finding]:
    out: list[Finding] = []
    for policy in inputs.policies:
        for number, level in enumerate(policy.levels, start=1):
            holes = cover.level_gaps(level)
            if holes:
                out.append(
                    Finding(
                        Area.POLICY,
                        policy.key,
                        f"level {number} can come up empty: nobody {_when(holes)}",
                    )
                )
    return out


def _training_findings(inputs: ReadinessInputs, at: datetime, window: timedelta) -> list[Finding]:
    drilled = {m for d in inputs.drills for m in d.members}
    recent = {d.runbook for d in inputs.drills if d.runbook and d.at >= at - window}
    days = window.days
    out = [
        Finding(Area.TRAINING, m.email, "never drilled")
        for m in inputs.estate.members
        if m.email not in drilled
    ]
    for runbook in inputs.estate.runbooks:
        reviewed = inputs.reviewed.get(runbook.key)
        if reviewed is None or reviewed < at - window:
            out.append(Finding(Area.TRAINING, runbook.key, f"runbook not reviewed in {days} days"))
        if runbook.key not in recent:
            out.append(Finding(Area.TRAINING, runbook.key, f"runbook not drilled in {days} days"))
    return out


def readiness(
    inputs: ReadinessInputs,
    at: datetime,
    *,
    horizon: timedelta = HORIZON,
    training_window: timedelta = TRAINING_WINDOW,
) -> ReadinessReport:
    """Every finding at ``at``: services by tier (tier 1 first), people, policies, training."""
    cover = Cover(inputs.estate, at, at + horizon)
    findings: list[Finding] = []
    for service in sorted(inputs.estate.services, key=lambda s: (int(s.tier), s.key)):
        findings.extend(_service_findings(service, inputs, cover))
    findings.extend(_member_findings(inputs))
    findings.extend(_policy_findings(inputs, cover))
    findings.extend(_training_findings(inputs, at, training_window))
    return ReadinessReport(at, horizon, tuple(findings))
