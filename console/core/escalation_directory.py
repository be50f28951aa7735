"""Who a level of an escalation policy reaches: the directory of people, and resolving targets.

The planner (`console.core.escalator`) asks a `Directory` built from plain data (the store
builds one per tick): team members in their listed order, who a schedule has on call at an
instant (overrides and absences included), who is away, and each round robin's next turn.
`reach` turns one level into recipients, each member once (the first target that names them
wins), passing over anybody unavailable, and says why anybody was left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from console.core.escalation import Level, Target, TargetKind
from console.core.models import Team
from console.core.rotation import Absences
from console.core.schedules import OnCall, Resolver, Schedule, Unavailability


@dataclass(frozen=True, slots=True)
class Recipient:
    """A member a level reaches, and through which target (``team:sre``, ``member``...)."""

    member: str
    via: str

    def to_dict(self) -> dict[str, str]:
        """The payload form."""
        return {"member": self.member, "via": self.via}


# -- the directory ------------------------------------------------------------------------


@dataclass(frozen=True)
class Directory:
    """What the planner asks about people: teams, schedules, absences, round-robin turns.

    Built from plain data (the store builds one per tick); ``advanced`` carries the turns a
    plan took on to the next incident planned with the same directory.

    Attributes:
        members: Every known member's email.
        teams: Each team's member emails, in the team's listed order.
        schedules: The schedules by key.
        absences: Members' unavailability, indexed.
        turns: The next round-robin index per (policy, level); missing means 0.
    """

    members: frozenset[str]
    teams: Mapping[str, tuple[str, ...]]
    schedules: Mapping[str, Schedule]
    absences: Absences = field(default_factory=Absences, compare=False)
    turns: Mapping[tuple[str, int], int] = field(default_factory=dict)
    _resolvers: dict[str, Resolver] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        members: Iterable[str],
        teams: Iterable[Team],
        schedules: Iterable[Schedule],
        unavailability: Iterable[Unavailability] = (),
        turns: Mapping[tuple[str, int], int] | None = None,
    ) -> Directory:
        """A directory from records (members by email, teams, schedules, absences)."""
        return cls(
            members=frozenset(members),
            teams={t.key: tuple(m.member for m in t.members) for t in teams},
            schedules={s.key: s for s in schedules},
            absences=Absences(unavailability),
            turns=dict(turns or {}),
        )

    def exists(self, member: str) -> bool:
        """Whether ``member`` is a known member."""
        return member in self.members

    def unavailable(self, member: str, at: datetime) -> Unavailability | None:
        """The absence keeping ``member`` away at ``at``, if any."""
        return self.absences.find(member, at)

    def team_members(self, team: str) -> tuple[str, ...]:
        """The team's members in its listed order (nothing for an unknown team)."""
        return self.teams.get(team, ())

    def on_call(self, schedule: str, at: datetime) -> OnCall | None:
        """Who ``schedule`` has on call at ``at``; None for an unknown or broken schedule."""
        resolver = self._resolvers.get(schedule)
        if resolver is None:
            found = self.schedules.get(schedule)
            if found is None:
                return None
            try:
                resolver = Resolver(found, self.absences)
            except ValueError:  # an unknown zone: validation reports it; nobody is reached
                return None
            self._resolvers[schedule] = resolver
        return resolver.at(at)

    def turn(self, policy: str, level: int) -> int:
        """The next round-robin index of a policy's level (taken modulo the candidates)."""
        return self.turns.get((policy, level), 0)

    def advanced(self, turns: Mapping[tuple[str, int], int]) -> Directory:
        """The same directory with the turns a plan took (``Plan.turns``)."""
        if not turns:
            return self
        return replace(self, turns={**self.turns, **turns})


# -- resolving a level ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reached:
    """Who one level reaches at one instant, and why anybody was left out."""

    recipients: tuple[Recipient, ...]
    round_robin: dict[str, Any] | None
    reasons: tuple[str, ...]


def _available(directory: Directory, member: str, at: datetime) -> str | None:
    """Why ``member`` cannot be reached at ``at``, or None when they can."""
    if not directory.exists(member):
        return f"{member} is not a known member"
    away = directory.unavailable(member, at)
    return None if away is None else f"{member} is {away.reason.phrase}"


def _round_robin(
    target: Target, policy: str, level: int, directory: Directory, at: datetime
) -> tuple[str | None, int | None, list[str]]:
    candidates = target.members or directory.team_members(target.ref)
    if not candidates:
        return None, None, [f"{target.describe} has no members"]
    start = directory.turn(policy, level)
    reasons: list[str] = []
    for k in range(len(candidates)):
        index = (start + k) % len(candidates)
        why = _available(directory, candidates[index], at)
        if why is None:
            return candidates[index], index, reasons
        reasons.append(why)
    return None, None, reasons


def _target_members(
    target: Target, policy: str, level: int, directory: Directory, at: datetime
) -> tuple[list[str], dict[str, Any] | None, list[str]]:
    """The members a target reaches, its round-robin turn taken, and who was left out."""
    if target.kind is TargetKind.ROUND_ROBIN:
        member, index, reasons = _round_robin(target, policy, level, directory, at)
        turn = None if index is None else {"policy": policy, "level": level, "index": index}
        return ([] if member is None else [member]), turn, reasons
    if target.kind is TargetKind.SCHEDULE:
        answer = directory.on_call(target.ref, at)
        if answer is None:
            return [], None, [f"schedule {target.ref} is unknown or broken"]
        if answer.member is None:
            return [], None, [f"schedule {target.ref}: {answer.reason}"]
        return [answer.member], None, []
    names = [target.ref] if target.kind is TargetKind.MEMBER else directory.team_members(target.ref)
    if not names:
        return [], None, [f"{target.describe} has no members"]
    found = [(m, _available(directory, m, at)) for m in names]
    return [m for m, why in found if why is None], None, [why for _, why in found if why]


def reach(policy: str, index: int, level: Level, directory: Directory, at: datetime) -> Reached:
    """Who level ``index`` of ``policy`` reaches at ``at`` (each member once, first target wins).

    Args:
        policy: The policy's key (round-robin turns are kept per policy and level).
        index: The level's index (0-based).
        level: The level.
        directory: Teams, schedules, absences and turns.
        at: The instant the level starts.
    """
    seen: dict[str, Recipient] = {}
    reasons: list[str] = []
    turn: dict[str, Any] | None = None
    for target in level.targets:
        members, taken, why = _target_members(target, policy, index, directory, at)
        turn = turn or taken
        reasons += why
        for member in members:
            seen.setdefault(member, Recipient(member, target.via))
    return Reached(tuple(seen.values()), turn, tuple(reasons))
