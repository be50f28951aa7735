"""Who refers to what: checks before a delete, and validating one edited entity in context."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from console.core.endpoints import Endpoint
from console.core.enums import EntityKind
from console.core.errors import Problem
from console.core.escalation import Policy, TargetKind
from console.core.escalation_rules import escalation_referrers
from console.core.models import Estate, Member, Runbook, Service, SharedResource, Team
from console.core.schedule_rules import schedule_referrers
from console.core.schedules import Schedule, Unavailability
from console.core.validation import validate_estate

Record = (
    Team
    | Member
    | Service
    | Runbook
    | SharedResource
    | Endpoint
    | Schedule
    | Unavailability
    | Policy
)

SECTION: dict[EntityKind, str] = {
    EntityKind.TEAM: "teams",
    EntityKind.MEMBER: "members",
    EntityKind.SERVICE: "services",
    EntityKind.RUNBOOK: "runbooks",
    EntityKind.RESOURCE: "resources",
    EntityKind.ENDPOINT: "endpoints",
    EntityKind.SILENCE: "silences",
    EntityKind.SCHEDULE: "schedules",
    EntityKind.UNAVAILABILITY: "unavailability",
    EntityKind.ESCALATION_POLICY: "escalation_policies",
}


def kind_of(record: Record) -> EntityKind:
    """The entity kind of a record."""
    kinds: dict[type[Any], EntityKind] = {
        Team: EntityKind.TEAM,
        Member: EntityKind.MEMBER,
        Service: EntityKind.SERVICE,
        Runbook: EntityKind.RUNBOOK,
        SharedResource: EntityKind.RESOURCE,
        Endpoint: EntityKind.ENDPOINT,
        Schedule: EntityKind.SCHEDULE,
        Unavailability: EntityKind.UNAVAILABILITY,
        Policy: EntityKind.ESCALATION_POLICY,
    }
    return kinds[type(record)]


def key_of(record: Record) -> str:
    """The stable key of a record."""
    return record.email if isinstance(record, Member) else record.key


def referrers(estate: Estate, kind: EntityKind, key: str) -> list[str]:
    """Human-readable list of what still refers to an entity (empty: safe to delete)."""
    out: list[str] = []
    if kind is EntityKind.MEMBER:
        for t in estate.teams:
            if t.lead == key:
                out.append(f"team {t.key} (lead)")
            elif t.role_of(key) is not None:
                out.append(f"team {t.key} (member)")
        out += schedule_referrers(estate.schedules, estate.unavailability, key)
        out += escalation_referrers(estate.escalation_policies, TargetKind.MEMBER, key)
    elif kind is EntityKind.TEAM:
        out += [f"service {s.key} (owner)" for s in estate.services if s.team == key]
        out += [f"resource {r.key} (who may use)" for r in estate.resources if key in r.who_may_use]
        if estate.alerting is not None:
            routing = estate.alerting.routing
            out += [f"alert route {i + 1}" for i, r in enumerate(routing.routes) if r.team == key]
            out += ["alerting (default team)"] if routing.default_team == key else []
        out += escalation_referrers(estate.escalation_policies, TargetKind.TEAM, key)
    elif kind is EntityKind.SCHEDULE:
        out += escalation_referrers(estate.escalation_policies, TargetKind.SCHEDULE, key)
    elif kind is EntityKind.SERVICE:
        out += [f"service {s.key} (depends on it)" for s in estate.services if key in s.depends_on]
        out += [f"runbook {r.key}" for r in estate.runbooks if key in r.services]
        out += [f"endpoint {e.key}" for e in estate.endpoints if e.service == key]
        if estate.alerting is not None and key in estate.alerting.settings.auto_resolve_services:
            out.append("incident settings (auto-resolve)")
        out += [
            f"escalation policy {p.key} (default for)"
            for p in estate.escalation_policies
            if key in p.services
        ]
    return out


def with_record(estate: Estate, record: Record) -> tuple[Estate, int]:
    """The estate with ``record`` inserted or replacing the one of the same key; its index."""
    section = SECTION[kind_of(record)]
    items: list[Any] = list(getattr(estate, section))
    key = key_of(record)
    index = next((i for i, x in enumerate(items) if key_of(x) == key), None)
    if index is None:
        items.append(record)
        index = len(items) - 1
    else:
        items[index] = record
    changes: dict[str, Any] = {section: tuple(items)}
    return replace(estate, **changes), index


_CYCLE = "dependency cycle: "


def _cycle_keys(problem: Problem) -> list[str]:
    # A key that merely contains the record's key ("db" in "dbx") is another service.
    return problem.message.removeprefix(_CYCLE).split(" -> ")


def check_entity(estate: Estate, record: Record) -> list[Problem]:
    """Problems an edited record would have in this estate, with paths relative to it."""
    candidate, index = with_record(estate, record)
    prefix = f"{SECTION[kind_of(record)]}[{index}]."
    out: list[Problem] = []
    for problem in validate_estate(candidate):
        if problem.path.startswith(prefix):
            out.append(Problem(problem.path[len(prefix) :], problem.message))
        elif problem.message.startswith(_CYCLE) and key_of(record) in _cycle_keys(problem):
            out.append(Problem("depends_on", problem.message))
    return out
