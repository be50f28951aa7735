"""Every validation rule, reported with the index path of the offending field."""

from __future__ import annotations

from dataclasses import replace

import pytest
from console.core.enums import Discipline, ImpactTier, MemberRole, ResourceKind
from console.core.errors import Problem, ValidationError
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
from console.core.validation import (
    validate_estate,
    validate_member,
    validate_resource,
    validate_runbook,
    validate_service,
    validate_team,
)

ADA = Member("ada@example.com", "Ada", "Europe/London", Discipline.INFRASTRUCTURE)
INFRA = Team("infra", "Infrastructure", Discipline.INFRASTRUCTURE)
STEP = RunbookStep("Restart", "systemctl restart web")


def paths(problems: list[Problem]) -> list[str]:
    return [p.path for p in problems]


@pytest.mark.parametrize("key", ["a", "noc", "web-2", "x" * 64, "0day"])
def test_good_slugs(key: str) -> None:
    assert validate_team(replace(INFRA, key=key)) == []


@pytest.mark.parametrize("key", ["", "Noc", "-noc", "noc-", "no c", "no_c", "x" * 65, "né"])
def test_bad_slugs(key: str) -> None:
    (problem,) = validate_team(replace(INFRA, key=key), "teams[3].")
    assert problem.path == "teams[3].id"
    assert "expected a slug" in problem.message and repr(key) in problem.message


@pytest.mark.parametrize(
    ("email", "ok"),
    [
        ("ada@example.com", True),
        ("a.b+tag@sub.example.org", True),
        ("ada", False),
        ("ada@localhost", False),
        ("ada @example.com", False),
        ("a@b@example.com", False),
    ],
)
def test_emails(email: str, ok: bool) -> None:
    problems = validate_member(replace(ADA, email=email), "members[0].")
    assert paths(problems) == ([] if ok else ["members[0].email"])


@pytest.mark.parametrize(
    ("zone", "ok"),
    [
        ("Europe/Paris", True),
        ("UTC", True),
        ("America/Argentina/Buenos_Aires", True),
        ("Europe/Atlantis", False),
        ("CEST", False),
        ("../etc/passwd", False),
        ("", False),
    ],
)
def test_time_zones(zone: str, ok: bool) -> None:
    problems = validate_member(replace(ADA, timezone=zone))
    assert paths(problems) == ([] if ok else ["timezone"])
    if not ok:
        assert "IANA time zone" in problems[0].message


def test_member_name_and_phone() -> None:
    member = replace(ADA, name="  ", phone="call me maybe")
    assert paths(validate_member(member, "m.")) == ["m.name", "m.phone"]
    assert validate_member(replace(ADA, phone="+44 (20) 7946-0000")) == []


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://meet.example.com/noc", True),
        ("http://bridge.local/room", True),
        ("tel:+33123456789", True),
        ("sip:noc@example.com", True),
        ("sips:noc@example.com", True),
        ("ftp://files.example.com", False),
        ("javascript:alert(1)", False),
        ("meet.example.com/noc", False),
        ("https://", False),
    ],
)
def test_bridge_url_schemes(url: str, ok: bool) -> None:
    problems = validate_team(replace(INFRA, bridge_url=url), "teams[0].")
    assert paths(problems) == ([] if ok else ["teams[0].bridge"])


def test_a_member_listed_twice_in_a_team() -> None:
    team = replace(
        INFRA,
        members=(
            Membership("ada@example.com", MemberRole.LEAD),
            Membership("bob@example.com", MemberRole.RESPONDER),
            Membership("ada@example.com", MemberRole.SHADOW),
        ),
    )
    assert validate_team(team, "teams[1].") == [
        Problem("teams[1].members[2].email", "ada@example.com is listed twice")
    ]


def test_service_rules() -> None:
    service = Service("api", " ", "infra", ImpactTier.TIER_1, tags=("ok", ""), depends_on=("api",))
    assert paths(validate_service(service, "s.")) == ["s.name", "s.depends_on", "s.tags[1]"]


def test_runbook_rules() -> None:
    assert paths(validate_runbook(Runbook("r", "R", "S"))) == ["steps"]
    runbook = Runbook(
        "r",
        "",
        "S",
        steps=(STEP, RunbookStep("", " "), RunbookStep("Wait", "for it", expected_minutes=0)),
    )
    assert paths(validate_runbook(runbook, "runbooks[0].")) == [
        "runbooks[0].title",
        "runbooks[0].steps[1].title",
        "runbooks[0].steps[1].body",
        "runbooks[0].steps[2].expected_minutes",
    ]


def test_resource_rules() -> None:
    resource = SharedResource("vault", "Vault", ResourceKind.ACCESS, secret_ref=" ")
    assert paths(validate_resource(resource)) == ["secret_ref"]
    assert validate_resource(replace(resource, secret_ref=None)) == []


def test_duplicate_keys_point_at_the_second_one() -> None:
    estate = Estate(
        members=(ADA, replace(ADA, name="Ada again")),
        teams=(INFRA, Team("web", "Web", Discipline.DEVELOPMENT), INFRA),
        services=(Service("db", "DB", "infra", ImpactTier.TIER_1),) * 2,
        runbooks=(Runbook("r", "R", "S", steps=(STEP,)),) * 2,
        resources=(SharedResource("v", "V", ResourceKind.ACCESS),) * 2,
    )
    problems = validate_estate(estate)
    assert problems == [
        Problem("members[1].email", "duplicate email 'ada@example.com' (also members[0])"),
        Problem("teams[2].id", "duplicate id 'infra' (also teams[0])"),
        Problem("services[1].id", "duplicate id 'db' (also services[0])"),
        Problem("runbooks[1].id", "duplicate id 'r' (also runbooks[0])"),
        Problem("resources[1].id", "duplicate id 'v' (also resources[0])"),
    ]


def test_dangling_references_point_at_the_reference() -> None:
    estate = Estate(
        members=(ADA,),
        teams=(
            replace(
                INFRA,
                lead="ghost@example.com",
                members=(
                    Membership("ada@example.com", MemberRole.LEAD),
                    Membership("bob@example.com", MemberRole.RESPONDER),
                ),
            ),
        ),
        services=(
            Service("db", "DB", "infra", ImpactTier.TIER_1),
            Service("api", "API", "payments", ImpactTier.TIER_2, depends_on=("db", "cache")),
        ),
        runbooks=(Runbook("r", "R", "S", services=("db", "queue"), steps=(STEP,)),),
        resources=(SharedResource("v", "V", ResourceKind.ACCESS, who_may_use=("infra", "noc")),),
    )
    assert validate_estate(estate) == [
        Problem("teams[0].lead", "unknown member 'ghost@example.com'"),
        Problem("teams[0].members[1].email", "unknown member 'bob@example.com'"),
        Problem("services[1].team", "unknown team 'payments'"),
        Problem("services[1].depends_on[1]", "unknown service 'cache'"),
        Problem("runbooks[0].services[1]", "unknown service 'queue'"),
        Problem("resources[0].who_may_use[1]", "unknown team 'noc'"),
    ]


def test_a_dependency_cycle_is_reported_with_its_path() -> None:
    def svc(key: str, *deps: str) -> Service:
        return Service(key, key.upper(), "infra", ImpactTier.TIER_2, depends_on=deps)

    estate = Estate(
        teams=(INFRA,),
        services=(svc("web", "api"), svc("db", "api"), svc("api", "cache"), svc("cache", "db")),
    )
    assert validate_estate(estate) == [
        Problem("services[2].depends_on", "dependency cycle: api -> cache -> db -> api")
    ]
    acyclic = replace(estate, services=(svc("web", "api"), svc("api", "db"), svc("db")))
    assert validate_estate(acyclic) == []


def test_a_valid_estate_has_no_problems() -> None:
    estate = Estate(
        members=(ADA,),
        teams=(replace(INFRA, lead=ADA.email, members=(Membership(ADA.email, MemberRole.LEAD),)),),
        services=(Service("db", "DB", "infra", ImpactTier.TIER_1),),
        runbooks=(Runbook("r", "R", "S", services=("db",), steps=(STEP,)),),
        resources=(SharedResource("v", "V", ResourceKind.ACCESS, who_may_use=("infra",)),),
    )
    assert validate_estate(estate) == []


def test_a_validation_error_carries_every_problem() -> None:
    problems = [Problem("a", "first"), Problem("", "whole file")]
    error = ValidationError(problems)
    assert error.problems == problems
    assert str(error) == "a: first; whole file"
