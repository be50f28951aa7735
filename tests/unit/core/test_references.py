"""Who refers to what, and validating one edited record inside its estate."""

from __future__ import annotations

from dataclasses import replace

from console.core.enums import Discipline, EntityKind, ImpactTier, MemberRole, ResourceKind
from console.core.errors import Problem
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
from console.core.references import check_entity, key_of, kind_of, referrers, with_record

ADA = Member("ada@example.com", "Ada", "UTC", Discipline.INFRASTRUCTURE)
BOB = Member("bob@example.com", "Bob", "UTC", Discipline.INFRASTRUCTURE)
INFRA = Team(
    "infra",
    "Infra",
    Discipline.INFRASTRUCTURE,
    lead=ADA.email,
    members=(Membership(ADA.email, MemberRole.LEAD), Membership(BOB.email, MemberRole.SHADOW)),
)
WEB_LEAD = Membership(BOB.email, MemberRole.LEAD)
WEB_TEAM = Team("web", "Web", Discipline.DEVELOPMENT, members=(WEB_LEAD,))
DB = Service("db", "DB", "infra", ImpactTier.TIER_1)
DBX = Service("dbx", "DBX", "infra", ImpactTier.TIER_1)
API = Service("api", "API", "web", ImpactTier.TIER_2, depends_on=("db",))
RUNBOOK = Runbook("restart", "Restart", "Down", ("api", "db"), (RunbookStep("Do", "it"),))
VAULT = SharedResource("vault", "Vault", ResourceKind.ACCESS, who_may_use=("infra",))
ESTATE = Estate(
    members=(ADA, BOB),
    teams=(INFRA, WEB_TEAM),
    services=(DB, DBX, API),
    runbooks=(RUNBOOK,),
    resources=(VAULT,),
)


def test_kind_and_key_of_every_record() -> None:
    assert [(kind_of(r), key_of(r)) for r in (ADA, INFRA, DB, RUNBOOK, VAULT)] == [
        (EntityKind.MEMBER, "ada@example.com"),
        (EntityKind.TEAM, "infra"),
        (EntityKind.SERVICE, "db"),
        (EntityKind.RUNBOOK, "restart"),
        (EntityKind.RESOURCE, "vault"),
    ]


def test_referrers_name_everything_that_points_at_an_entity() -> None:
    assert referrers(ESTATE, EntityKind.MEMBER, ADA.email) == ["team infra (lead)"]
    assert referrers(ESTATE, EntityKind.MEMBER, BOB.email) == [
        "team infra (member)",
        "team web (member)",
    ]
    assert referrers(ESTATE, EntityKind.TEAM, "infra") == [
        "service db (owner)",
        "service dbx (owner)",
        "resource vault (who may use)",
    ]
    assert referrers(ESTATE, EntityKind.SERVICE, "db") == [
        "service api (depends on it)",
        "runbook restart",
    ]
    assert referrers(ESTATE, EntityKind.SERVICE, "dbx") == []
    assert referrers(ESTATE, EntityKind.RUNBOOK, "restart") == []
    assert referrers(ESTATE, EntityKind.RESOURCE, "vault") == []


def test_with_record_replaces_in_place_or_appends() -> None:
    renamed = replace(DB, name="Database")
    estate, index = with_record(ESTATE, renamed)
    assert index == 0 and estate.services == (renamed, DBX, API)
    new = Service("cache", "Cache", "infra", ImpactTier.TIER_3)
    estate, index = with_record(ESTATE, new)
    assert index == 3 and estate.services[-1] == new
    assert estate.members == ESTATE.members


def test_check_entity_reports_paths_relative_to_the_record() -> None:
    broken = Service("api", "", "payments", ImpactTier.TIER_2, depends_on=("db", "ghost"))
    assert check_entity(ESTATE, broken) == [
        Problem("name", "must not be empty"),
        Problem("team", "unknown team 'payments'"),
        Problem("depends_on[1]", "unknown service 'ghost'"),
    ]
    assert check_entity(ESTATE, replace(API, name="Public API")) == []


def test_check_entity_ignores_problems_of_other_records() -> None:
    estate = replace(ESTATE, teams=(replace(INFRA, lead="gone@example.com"), WEB_TEAM))
    assert check_entity(estate, replace(DB, name="Database")) == []


def test_check_entity_reports_a_cycle_the_record_would_close() -> None:
    closing = replace(DB, depends_on=("api",))
    (problem,) = check_entity(ESTATE, closing)
    assert problem == Problem("depends_on", "dependency cycle: api -> db -> api")


def test_a_cycle_elsewhere_is_not_blamed_on_a_similar_key() -> None:
    # api -> dbx -> api is a cycle; "db" is only a part of the name "dbx".
    dbx = replace(DBX, depends_on=("api",))
    cyclic = replace(ESTATE, services=(DB, dbx, replace(API, depends_on=("dbx",))))
    assert check_entity(cyclic, replace(DB, name="Other")) == []
    assert check_entity(cyclic, replace(dbx, name="Other")) == [
        Problem("depends_on", "dependency cycle: api -> dbx -> api")
    ]
