"""Planning an import: what changes, in an order the store can apply."""

from __future__ import annotations

from dataclasses import replace

from console.core import codec
from console.core.diff import Change, plan
from console.core.enums import Discipline, EntityKind, ImpactTier, MemberRole, ResourceKind
from console.core.models import (
    Estate,
    Member,
    Membership,
    Runbook,
    RunbookStep,
    Service,
    SharedResource,
    Team,
)

ADA = Member("ada@example.com", "Ada", "UTC", Discipline.INFRASTRUCTURE)
BOB = Member("bob@example.com", "Bob", "UTC", Discipline.SECURITY)
LEAD = Membership(ADA.email, MemberRole.LEAD)
INFRA = Team("infra", "Infra", Discipline.INFRASTRUCTURE, members=(LEAD,))
DB = Service("db", "DB", "infra", ImpactTier.TIER_1)
API = Service("api", "API", "infra", ImpactTier.TIER_2, depends_on=("db",))
WEB = Service("web", "Web", "infra", ImpactTier.TIER_3, depends_on=("api", "db"))
RUNBOOK = Runbook("restart", "Restart", "Down", ("api",), (RunbookStep("Do", "it"),))
VAULT = SharedResource("vault", "Vault", ResourceKind.ACCESS, who_may_use=("infra",))

FULL = Estate(
    members=(ADA, BOB),
    teams=(INFRA,),
    services=(DB, API, WEB),
    runbooks=(RUNBOOK,),
    resources=(VAULT,),
)


def steps(changes: list[Change]) -> list[tuple[str, EntityKind, str]]:
    return [(c.verb, c.kind, c.key) for c in changes]


def test_creates_come_in_dependency_order() -> None:
    declared = Estate(
        resources=(VAULT,),
        runbooks=(RUNBOOK,),
        services=(WEB, API, DB),  # dependents listed first
        teams=(INFRA,),
        members=(BOB, ADA),
    )
    changes = plan(Estate(), declared, prune=False)
    assert steps(changes) == [
        ("create", EntityKind.MEMBER, "bob@example.com"),
        ("create", EntityKind.MEMBER, "ada@example.com"),
        ("create", EntityKind.TEAM, "infra"),
        ("create", EntityKind.SERVICE, "db"),
        ("create", EntityKind.SERVICE, "api"),
        ("create", EntityKind.SERVICE, "web"),
        ("create", EntityKind.RUNBOOK, "restart"),
        ("create", EntityKind.RESOURCE, "vault"),
    ]
    assert changes[0].before is None
    assert changes[0].after == codec.member_to_dict(BOB)


def test_unchanged_means_no_change() -> None:
    assert plan(FULL, FULL, prune=True) == []
    reordered = replace(FULL, services=FULL.services[::-1], members=FULL.members[::-1])
    assert plan(FULL, reordered, prune=True) == []


def test_updates_carry_before_and_after() -> None:
    renamed = replace(API, name="Public API")
    (change,) = plan(FULL, replace(FULL, services=(DB, renamed, WEB)), prune=False)
    assert (change.verb, change.kind, change.key) == ("update", EntityKind.SERVICE, "api")
    assert change.before == codec.service_to_dict(API)
    assert change.after == codec.service_to_dict(renamed)


def test_without_prune_nothing_is_deleted() -> None:
    assert plan(FULL, Estate(), prune=False) == []


def test_prune_deletes_last_dependents_first() -> None:
    declared = Estate(members=(ADA, replace(BOB, name="Robert")), teams=(replace(INFRA, name="I"),))
    changes = plan(FULL, declared, prune=True)
    assert steps(changes) == [
        ("update", EntityKind.MEMBER, "bob@example.com"),
        ("update", EntityKind.TEAM, "infra"),
        ("delete", EntityKind.RESOURCE, "vault"),
        ("delete", EntityKind.RUNBOOK, "restart"),
        ("delete", EntityKind.SERVICE, "web"),
        ("delete", EntityKind.SERVICE, "api"),
        ("delete", EntityKind.SERVICE, "db"),
    ]
    assert all(c.after is None and c.before is not None for c in changes[2:])


def test_pruning_everything_deletes_members_last() -> None:
    changes = plan(FULL, Estate(), prune=True)
    assert [c.kind for c in changes][-3:] == [
        EntityKind.TEAM,
        EntityKind.MEMBER,
        EntityKind.MEMBER,
    ]
    assert {c.verb for c in changes} == {"delete"}
    assert len(changes) == 8


def test_a_cycle_still_plans_every_service() -> None:
    a = Service("a", "A", "infra", ImpactTier.TIER_1, depends_on=("b",))
    b = Service("b", "B", "infra", ImpactTier.TIER_1, depends_on=("a",))
    changes = plan(Estate(), Estate(services=(a, b)), prune=False)
    assert sorted(c.key for c in changes) == ["a", "b"]
