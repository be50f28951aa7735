"""Who answers for each service now, and how far its open incident has escalated (wall tiles).

The person on call for a service is whoever its escalation policy's first level reaches first
at that moment: the member a schedule target has on call (absences passed over), or a member
named directly; a team or a round robin names no one person ahead of an incident. The level is
the last one an open incident of the service started (1-based), from the timeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlite_utils import Database

from console.core.escalation import Policy, TargetKind, policy_for
from console.core.events import EventType
from console.core.schedules import Absences, Resolver, Schedule
from console.core.status import ServiceInfo
from console.store import escalation_rows, schedule_rows


def _first_answer(
    policy: Policy, resolvers: Mapping[str, Resolver], absences: Absences, now: datetime
) -> str | None:
    for level in policy.levels:
        for target in level.targets:
            if target.kind is TargetKind.SCHEDULE and target.ref in resolvers:
                member = resolvers[target.ref].at(now).member
                if member is not None:
                    return member
            elif target.kind is TargetKind.MEMBER and absences.find(target.ref, now) is None:
                return target.ref
        return None  # the first level says who answers first; later ones are escalation
    return None


def _resolvers(schedules: Sequence[Schedule], absences: Absences) -> dict[str, Resolver]:
    out: dict[str, Resolver] = {}
    for schedule in schedules:
        try:
            out[schedule.key] = Resolver(schedule, absences)
        except ValueError:  # an unknown zone or an empty layer: nobody can be named from it
            continue
    return out


def on_call_names(db: Database, services: Sequence[ServiceInfo], now: datetime) -> dict[str, str]:
    """Service key -> the display name of who answers for it first now (when anyone does)."""
    policies = escalation_rows.policies(db)
    if not policies:
        return {}
    absences = Absences(schedule_rows.unavailability(db))
    resolvers = _resolvers(schedule_rows.schedules(db), absences)
    names = {str(e): str(n) for e, n in db.execute("SELECT email, name FROM members")}
    answers: dict[str, str | None] = {}
    out: dict[str, str] = {}
    for info in services:
        policy = policy_for(policies, info.key, info.team)
        if policy is None:
            continue
        if policy.key not in answers:
            answers[policy.key] = _first_answer(policy, resolvers, absences, now)
        member = answers[policy.key]
        if member is not None:
            out[info.key] = names.get(member, member)
    return out


def escalation_levels(db: Database) -> dict[str, int]:
    """Service key -> the level (1-based) the furthest-escalated open incident last started."""
    rows = db.execute(
        "SELECT i.service, MAX(json_extract(e.payload, '$.level')) FROM events e "
        "JOIN incidents i ON e.subject = 'incident:' || i.id "
        "WHERE e.seq IN (SELECT MAX(seq) FROM events WHERE type = ? GROUP BY subject) "
        "AND i.state != 'resolved' AND i.service IS NOT NULL GROUP BY i.service",
        [EventType.ESCALATION_LEVEL_STARTED.value],
    ).fetchall()
    return {str(service): int(level) + 1 for service, level in rows if level is not None}
