"""Escalation policies: defaults per service and team, the codec, and every rule with its path."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

from console.core.enums import Discipline, EntityKind, ImpactTier
from console.core.errors import Problem
from console.core.escalation import Policy, TargetKind, policy_for
from console.core.escalation_codec import policy_from_dict, policy_to_dict
from console.core.escalation_rules import escalation_warnings
from console.core.models import Estate, Member, Service
from console.core.references import referrers
from console.core.schedules import Layer, Schedule, ShiftUnit
from console.core.validation import validate_estate

from tests.unit.core.escalation_helpers import (
    ANA,
    BOB,
    CAT,
    level,
    make_team,
    member,
    minutes,
    policy,
    round_robin,
    schedule,
    team,
)

PRIMARY = Schedule(
    "primary",
    "Primary",
    "Europe/Berlin",
    (Layer("Day", (ANA, BOB), 1, ShiftUnit.WEEKS, date(2026, 3, 2)),),
)
NOBODY = Schedule("nobody", "Nobody", "UTC", ())
GOOD = Policy(
    "payments-default",
    "Payments default",
    (
        level(0, schedule("primary")),
        level(10, member(ANA), team("payments"), round_robin("sre"), urgent=True),
        level(20, round_robin("dba", (BOB, CAT))),
    ),
    repeat=2,
    ack_timeout=minutes(30),
    services=("payments-api",),
    teams=("payments",),
    description="Pages the payments rota first.",
)


def people() -> Estate:
    return Estate(
        members=tuple(Member(e, e[:3], "UTC", Discipline.OTHER) for e in (ANA, BOB, CAT)),
        teams=(make_team("payments", ANA, BOB), make_team("sre", CAT), make_team("empty")),
        services=(
            Service("payments-api", "Payments API", "payments", ImpactTier.TIER_1),
            Service("ledger", "Ledger", "payments", ImpactTier.TIER_2),
        ),
        schedules=(PRIMARY,),
        escalation_policies=(GOOD,),
    )


def problems(*policies: Policy) -> list[Problem]:
    return validate_estate(replace(people(), escalation_policies=policies))


def test_a_services_own_policy_wins_over_its_teams() -> None:
    by_team = policy(level(0, member(ANA)), key="payments-team", teams=("payments",))
    by_service = policy(level(0, member(BOB)), key="ledger", services=("ledger",))
    chosen = (by_team, by_service)
    assert policy_for(chosen, "ledger", "payments") is by_service
    assert policy_for(chosen, "payments-api", "payments") is by_team
    assert policy_for(chosen, None, "payments") is by_team
    assert policy_for(chosen, "ledger", None) is by_service
    assert policy_for(chosen, "other", "web") is None


def test_the_loop_wait_is_the_longest_delay_unless_given() -> None:
    assert GOOD.loop_wait == minutes(20)
    assert policy(level(0, member(ANA))).loop_wait == minutes(1)
    assert replace(GOOD, repeat_after=minutes(45)).loop_wait == minutes(45)


def test_the_codec_round_trips_through_json() -> None:
    encoded = policy_to_dict(GOOD)
    assert json.loads(json.dumps(encoded)) == encoded
    assert policy_from_dict(json.loads(json.dumps(encoded))) == GOOD
    assert encoded["levels"][1]["targets"][2] == {
        "kind": "round_robin",
        "ref": "sre",
        "members": [],
    }
    assert encoded["ack_timeout_s"] == 1800 and encoded["repeat_after_s"] is None
    # A snapshot missing fields added later still reads (with their defaults).
    minimal = {"id": "x", "name": "X", "levels": [{"delay_s": 0, "targets": []}]}
    assert policy_from_dict(minimal) == Policy("x", "X", (level(0),))


def test_a_good_policy_has_no_problems() -> None:
    assert validate_estate(people()) == []


def test_every_bad_field_is_reported_with_its_path() -> None:
    bad = Policy(
        "Not A Slug",
        " ",
        (
            level(0),
            replace(level(0, member(ANA)), delay=timedelta(minutes=-5)),
            level(5, replace(member(ANA), members=(BOB,)), team(" ")),
        ),
        repeat=10,
        ack_timeout=timedelta(0),
        repeat_after=timedelta(seconds=-1),
    )
    found = {(p.path, p.message) for p in problems(bad)}
    at = "escalation_policies[0]."
    assert {
        (f"{at}id", "expected a slug (lowercase letters, digits, '-'), got 'Not A Slug'"),
        (f"{at}name", "must not be empty"),
        (f"{at}repeat", "must be from 0 to 9 extra loops, got 10"),
        (f"{at}ack_timeout", "must be positive (leave it out to turn it off)"),
        (f"{at}repeat_after", "must be positive"),
        (f"{at}levels[0].targets", "a level needs at least one target"),
        (f"{at}levels[1].delay", "must not be negative"),
        (f"{at}levels[2].targets[0].members", "only a round robin takes a list of members"),
        (f"{at}levels[2].targets[1]", "name the team"),
    } <= found


def test_a_policy_without_levels_is_refused() -> None:
    assert Problem(
        "escalation_policies[0].levels", "a policy needs at least one level"
    ) in problems(policy(key="empty"))


def test_unknown_references_are_reported_where_they_are() -> None:
    dangling = policy(
        level(0, member("nobody@example.com"), team("ghosts"), schedule("void")),
        level(5, round_robin("phantom"), round_robin("list", (ANA, "stranger@example.com"))),
        key="dangling",
        services=("nope",),
        teams=("nada",),
    )
    at = "escalation_policies[0]."
    assert problems(dangling) == [
        Problem(f"{at}levels[0].targets[0]", "unknown member 'nobody@example.com'"),
        Problem(f"{at}levels[0].targets[1]", "unknown team 'ghosts'"),
        Problem(f"{at}levels[0].targets[2]", "unknown schedule 'void'"),
        Problem(f"{at}levels[1].targets[0]", "unknown team 'phantom'"),
        Problem(f"{at}levels[1].targets[1].members[1]", "unknown member 'stranger@example.com'"),
        Problem(f"{at}services[0]", "unknown service 'nope'"),
        Problem(f"{at}teams[0]", "unknown team 'nada'"),
    ]


def test_duplicate_keys_and_doubly_claimed_services_are_refused() -> None:
    other = policy(level(0, member(BOB)), key="payments-default", services=("ledger",))
    third = policy(
        level(0, member(CAT)), key="third", services=("ledger", "payments-api"), teams=("payments",)
    )
    found = problems(GOOD, other, third)
    assert (
        Problem(
            "escalation_policies[1].id",
            "duplicate id 'payments-default' (also escalation_policies[0])",
        )
        in found
    )
    claims = [p for p in found if "default" in p.message and "already" in p.message]
    assert [p.path for p in claims] == [
        "escalation_policies[2].services[0]",  # ledger: already policy [1]'s
        "escalation_policies[2].services[1]",  # payments-api: already policy [0]'s
        "escalation_policies[2].teams[0]",
    ]
    assert "'payments-default' as its default" in claims[0].message


def test_levels_that_can_come_up_empty_are_warnings_not_errors() -> None:
    hollow = policy(
        level(0, schedule("nobody"), team("empty")),
        level(5, team("empty"), member(ANA)),  # Ana is always there: not empty
        level(10, round_robin("empty")),
        key="hollow",
    )
    # A schedule without layers is itself refused, but a stored one may be read from an older
    # log: the warning still says why the level is empty.
    estate = replace(people(), schedules=(PRIMARY, NOBODY), escalation_policies=(hollow,))
    assert [p.path for p in validate_estate(estate)] == ["schedules[1].layers"]
    warnings = escalation_warnings(estate)
    assert [w.path for w in warnings] == [
        "escalation_policies[0].levels[0]",
        "escalation_policies[0].levels[2]",
    ]
    assert "schedule 'nobody' has nobody in it" in warnings[0].message
    assert "targets[1]: team 'empty' has no members" in warnings[0].message


def test_members_teams_schedules_and_services_named_by_a_policy_cannot_be_deleted() -> None:
    estate = people()
    policy_name = "escalation policy payments-default"
    assert policy_name in referrers(estate, EntityKind.MEMBER, ANA)
    assert policy_name in referrers(estate, EntityKind.MEMBER, CAT)  # in the explicit round robin
    assert policy_name in referrers(estate, EntityKind.TEAM, "sre")  # round robin over a team
    assert policy_name in referrers(estate, EntityKind.TEAM, "payments")
    assert policy_name in referrers(estate, EntityKind.SCHEDULE, "primary")
    assert f"{policy_name} (default for)" in referrers(estate, EntityKind.SERVICE, "payments-api")
    assert referrers(estate, EntityKind.SCHEDULE, "nobody") == []
    assert referrers(estate, EntityKind.SERVICE, "ledger") == []
    assert GOOD.levels[1].targets[2].kind is TargetKind.ROUND_ROBIN
