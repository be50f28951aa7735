"""Small valid records for the store tests, built with only the fields a test cares about."""

from __future__ import annotations

from console.core.enums import Discipline, ImpactTier, MemberRole
from console.core.models import Member, Membership, Runbook, RunbookStep, Service, Team
from console.store import entities
from console.store.db import Store


def member(email: str = "ada@example.com", name: str = "Ada") -> Member:
    """A member in London."""
    return Member(email, name, "Europe/London", Discipline.INFRASTRUCTURE)


def team(key: str = "infra", *emails: str, lead: str | None = None) -> Team:
    """A team whose members are responders."""
    return Team(
        key,
        key.title(),
        Discipline.INFRASTRUCTURE,
        lead=lead,
        members=tuple(Membership(e, MemberRole.RESPONDER) for e in emails),
    )


def service(key: str, team_key: str = "infra", *deps: str) -> Service:
    """A tier-2 service."""
    return Service(key, key.title(), team_key, ImpactTier.TIER_2, depends_on=deps)


def runbook(key: str = "restart", body: str = "Restart the web tier.", *services: str) -> Runbook:
    """A one-step runbook."""
    return Runbook(key, key.title(), "It broke", services, (RunbookStep("Do it", body),))


def basic(store: Store) -> None:
    """A member, a team with a lead, two services (one depending on the other), a runbook."""
    entities.save(store, member())
    entities.save(store, team("infra", "ada@example.com", lead="ada@example.com"))
    entities.save(store, service("db"))
    entities.save(store, service("api", "infra", "db"))
    entities.save(store, runbook("restart", "Restart the web tier.", "api"))
