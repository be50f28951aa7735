"""Rules escalation policies must satisfy, reported as field-path problems.

Paths are index-based like the rest of validation (``escalation_policies[0].levels[1]
.targets[0]``), so the YAML loader and an editor can point at the exact field. Problems are
errors (the policy cannot be saved); a level that can come up empty (a team without members, a
schedule nobody is in) is only a warning: the planner records it as a failed level and moves
on, and the readiness report shows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta

from console.core.errors import Problem
from console.core.escalation import MAX_REPEAT, Level, Policy, Target, TargetKind
from console.core.models import Estate
from console.core.schedule_rules import SLUG
from console.core.schedules import Schedule

SECTION = "escalation_policies"
_ZERO = timedelta(0)


def _level_problems(level: Level, at: str) -> list[Problem]:
    out: list[Problem] = []
    if level.delay < _ZERO:
        out.append(Problem(f"{at}delay", "must not be negative"))
    if not level.targets:
        out.append(Problem(f"{at}targets", "a level needs at least one target"))
    for j, target in enumerate(level.targets):
        path = f"{at}targets[{j}]"
        if not target.ref.strip():
            out.append(Problem(path, f"name the {target.kind.value.replace('_', ' ')}"))
        if target.members and target.kind is not TargetKind.ROUND_ROBIN:
            out.append(Problem(f"{path}.members", "only a round robin takes a list of members"))
    return out


def validate_policy(policy: Policy, at: str = "") -> list[Problem]:
    """Problems with one policy's own fields (references need the estate)."""
    out: list[Problem] = []
    if not SLUG.match(policy.key):
        message = f"expected a slug (lowercase letters, digits, '-'), got {policy.key!r}"
        out.append(Problem(f"{at}id", message))
    if not policy.name.strip():
        out.append(Problem(f"{at}name", "must not be empty"))
    if not policy.levels:
        out.append(Problem(f"{at}levels", "a policy needs at least one level"))
    if not 0 <= policy.repeat <= MAX_REPEAT:
        message = f"must be from 0 to {MAX_REPEAT} extra loops, got {policy.repeat}"
        out.append(Problem(f"{at}repeat", message))
    if policy.ack_timeout is not None and policy.ack_timeout <= _ZERO:
        out.append(Problem(f"{at}ack_timeout", "must be positive (leave it out to turn it off)"))
    if policy.repeat_after is not None and policy.repeat_after <= _ZERO:
        out.append(Problem(f"{at}repeat_after", "must be positive"))
    for i, level in enumerate(policy.levels):
        out += _level_problems(level, f"{at}levels[{i}].")
    return out


def _target_refs(
    target: Target, path: str, emails: set[str], teams: set[str], schedules: set[str]
) -> list[Problem]:
    if target.kind is TargetKind.MEMBER:
        known, what = emails, "member"
    elif target.kind is TargetKind.SCHEDULE:
        known, what = schedules, "schedule"
    elif target.kind is TargetKind.TEAM or not target.members:
        known, what = teams, "team"
    else:
        return [
            Problem(f"{path}.members[{k}]", f"unknown member {m!r}")
            for k, m in enumerate(target.members)
            if m not in emails
        ]
    return [] if target.ref in known else [Problem(path, f"unknown {what} {target.ref!r}")]


def _references(policy: Policy, at: str, estate: Estate) -> list[Problem]:
    emails = {m.email for m in estate.members}
    teams = {t.key for t in estate.teams}
    schedules = {s.key for s in estate.schedules}
    services = {s.key for s in estate.services}
    out: list[Problem] = []
    for i, level in enumerate(policy.levels):
        for j, target in enumerate(level.targets):
            out += _target_refs(target, f"{at}levels[{i}].targets[{j}]", emails, teams, schedules)
    out += [
        Problem(f"{at}services[{k}]", f"unknown service {s!r}")
        for k, s in enumerate(policy.services)
        if s not in services
    ]
    out += [
        Problem(f"{at}teams[{k}]", f"unknown team {t!r}")
        for k, t in enumerate(policy.teams)
        if t not in teams
    ]
    return out


def _claims(policies: Sequence[Policy], field: str) -> list[Problem]:
    """A service (or team) that two policies both claim as theirs by default."""
    out: list[Problem] = []
    first: dict[str, str] = {}
    for i, policy in enumerate(policies):
        names: tuple[str, ...] = getattr(policy, field)
        for k, name in enumerate(names):
            owner = first.setdefault(name, policy.key)
            if owner != policy.key:
                what = field.removesuffix("s")
                message = (
                    f"{what} {name!r} already has policy {owner!r} as its default; "
                    f"a {what} has one default policy"
                )
                out.append(Problem(f"{SECTION}[{i}].{field}[{k}]", message))
    return out


def escalation_problems(estate: Estate) -> list[Problem]:
    """Every error in an estate's escalation policies, references and duplicates included."""
    policies = estate.escalation_policies
    out: list[Problem] = []
    first: dict[str, int] = {}
    for i, policy in enumerate(policies):
        at = f"{SECTION}[{i}]."
        out += validate_policy(policy, at)
        out += _references(policy, at, estate)
        j = first.setdefault(policy.key, i)
        if j != i:
            message = f"duplicate id {policy.key!r} (also {SECTION}[{j}])"
            out.append(Problem(f"{at}id", message))
    return out + _claims(policies, "services") + _claims(policies, "teams")


def _empty_reason(
    target: Target, teams: Mapping[str, tuple[str, ...]], schedules: Mapping[str, Schedule]
) -> str | None:
    """Why a target can reach nobody at all, or None (unknown names are errors, not this)."""
    if target.kind is TargetKind.SCHEDULE:
        schedule = schedules.get(target.ref)
        if schedule is not None and not schedule.members():
            return f"schedule {target.ref!r} has nobody in it"
    elif target.kind is TargetKind.TEAM or (
        target.kind is TargetKind.ROUND_ROBIN and not target.members
    ):
        members = teams.get(target.ref)
        if members is not None and not members:
            return f"team {target.ref!r} has no members"
    return None


def escalation_warnings(estate: Estate) -> list[Problem]:
    """Levels that can come up empty: each of their targets reaches nobody at all.

    Returns:
        One problem per such level, at ``escalation_policies[i].levels[j]``, saying why each
        target is empty (``targets[0]: team 'x' has no members``).
    """
    teams = {t.key: tuple(m.member for m in t.members) for t in estate.teams}
    schedules = {s.key: s for s in estate.schedules}
    out: list[Problem] = []
    for i, policy in enumerate(estate.escalation_policies):
        for j, level in enumerate(policy.levels):
            reasons = [_empty_reason(t, teams, schedules) for t in level.targets]
            if level.targets and all(reasons):
                why = "; ".join(f"targets[{k}]: {r}" for k, r in enumerate(reasons))
                message = f"this level reaches nobody ({why}): it will be skipped as failed"
                out.append(Problem(f"{SECTION}[{i}].levels[{j}]", message))
    return out


def _names(policy: Policy, kind: TargetKind, key: str) -> bool:
    for level in policy.levels:
        for t in level.targets:
            if t.kind is kind and t.ref == key and not t.members:
                return True
            if kind is TargetKind.MEMBER and key in t.members:
                return True
    return False


def escalation_referrers(policies: Iterable[Policy], kind: TargetKind, key: str) -> list[str]:
    """What still names a member, team or schedule (``kind`` TEAM covers round robins too)."""
    out: list[str] = []
    for p in policies:
        named = _names(p, kind, key)
        if kind is TargetKind.TEAM:
            named = named or _names(p, TargetKind.ROUND_ROBIN, key) or key in p.teams
        if named:
            out.append(f"escalation policy {p.key}")
    return out
