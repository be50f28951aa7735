"""Editing a policy or a schedule as its YAML item: problems at the snippet's own lines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from console.config.demo import demo_estate
from console.core.enums import Discipline, ImpactTier, MemberRole
from console.core.escalation import Level, Policy, Target, TargetKind
from console.core.models import Estate, Member, Membership, Service, Team
from console.core.schedules import (
    AbsenceReason,
    Layer,
    Schedule,
    ShiftUnit,
    Unavailability,
)
from console.core.silences import Weekday
from console.ui.models.section_edit import (
    ItemCheck,
    Section,
    check_item,
    describe_policy,
    item_text,
    schedule_preview,
    template,
)

ANA, BOB, CAT = "ana@example.com", "bob@example.com", "cat@example.com"
PRIMARY = Schedule(
    "primary",
    "Payments primary",
    "Europe/Berlin",
    (Layer("Week", (ANA, BOB), 1, ShiftUnit.WEEKS, date(2026, 3, 2), time(9), Weekday.MON),),
)
LEDGER = Policy(
    "ledger-policy",
    "Ledger",
    (Level(timedelta(0), (Target(TargetKind.MEMBER, CAT),)),),
    services=("ledger",),
)
PAYMENTS = Policy(
    "payments-default",
    "Payments default",
    (
        Level(timedelta(0), (Target(TargetKind.SCHEDULE, "primary"),)),
        Level(timedelta(minutes=10), (Target(TargetKind.TEAM, "payments"),), urgent=True),
    ),
    repeat=2,
    services=("payments-api",),
)
ESTATE = Estate(
    members=tuple(
        Member(email, email.split("@")[0].title(), "Europe/Berlin", Discipline.DEVELOPMENT)
        for email in (ANA, BOB, CAT)
    ),
    teams=(
        Team(
            "payments",
            "Payments",
            Discipline.DEVELOPMENT,
            members=(Membership(ANA, MemberRole.LEAD), Membership(BOB, MemberRole.RESPONDER)),
        ),
        Team("empty", "Nobody yet", Discipline.SECURITY),
    ),
    services=(
        Service("payments-api", "Payments API", "payments", ImpactTier.TIER_1),
        Service("ledger", "Ledger", "payments", ImpactTier.TIER_2),
    ),
    schedules=(PRIMARY,),
    escalation_policies=(LEDGER, PAYMENTS),
)

POLICY_TEXT = """\
- id: payments-default
  name: Payments default
  services: [payments-api]
  repeat: 2
  levels:
    - delay: 0 min
      targets: [{schedule: primary}]
    - delay: 10 min
      urgent: true
      targets:
        - {team: payments}
"""


def edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def check_policy(text: str, original: str | None = "payments-default") -> ItemCheck:
    return check_item(Section.POLICIES, text, ESTATE, original)


def only_problem(check: ItemCheck) -> tuple[int, int, str, str]:
    assert check.record is None
    assert len(check.problems) == 1, check.problems
    p = check.problems[0]
    return p.line, p.column, p.path, p.message


def test_a_valid_policy_gives_back_its_record_and_no_problems() -> None:
    check = check_policy(POLICY_TEXT)
    assert check.problems == ()
    assert check.ok
    assert check.record == PAYMENTS


def test_an_unknown_field_is_reported_at_its_own_line_and_column() -> None:
    check = check_policy(edit(POLICY_TEXT, "    - delay: 10 min", "    - delya: 10 min"))
    assert check.record is None
    # Line 8 of the snippet, at the key after "    - "; the level then lacks its delay too.
    assert [(p.line, p.column) for p in check.problems] == [(8, 7), (8, 7)]
    assert check.problems[0].path == "levels[1].delya"
    assert "did you mean 'delay'" in check.problems[0].message
    assert "missing required field 'delay'" in check.problems[1].message


def test_a_bad_duration_points_at_the_value() -> None:
    line, column, path, message = only_problem(
        check_policy(edit(POLICY_TEXT, "delay: 10 min", "delay: 10 minz"))
    )
    assert (line, column, path) == (8, 14, "levels[1].delay")
    assert "10 minz" in message


def test_an_unknown_team_points_at_the_target() -> None:
    line, column, path, message = only_problem(
        check_policy(edit(POLICY_TEXT, "{team: payments}", "{team: paymnets}"))
    )
    assert (line, column, path) == (11, 11, "levels[1].targets[0]")
    assert message == "unknown team 'paymnets'"


def test_a_level_without_targets_is_reported_at_that_level() -> None:
    line, _column, path, message = only_problem(
        check_policy(edit(POLICY_TEXT, "targets: [{schedule: primary}]", "targets: []"))
    )
    assert (line, path) == (7, "levels[0].targets")
    assert "at least one target" in message


def test_a_yaml_syntax_error_is_reported_inside_the_snippet() -> None:
    check = check_policy(edit(POLICY_TEXT, "[{schedule: primary}]", "[{schedule: primary}"))
    assert check.record is None and check.problems
    first = check.problems[0]
    assert 7 <= first.line <= POLICY_TEXT.count("\n")
    assert first.message.startswith("YAML syntax error")
    assert str(first).startswith(f"line {first.line}, column {first.column}: ")


def test_text_that_is_not_a_list_item_says_how_an_item_starts() -> None:
    line, column, _path, message = only_problem(check_policy("# a comment\nid: x\nname: y\n"))
    assert (line, column) == (2, 1)
    assert "'- '" in message
    assert only_problem(check_policy("  \n"))[3].startswith("write the item here")


def test_two_items_in_one_editor_are_refused() -> None:
    second = item_text(Section.POLICIES, Policy("other", "Other", PAYMENTS.levels))
    line, _column, _path, message = only_problem(check_policy(POLICY_TEXT + second))
    assert line == 1 and "exactly one item" in message and "has 2" in message


def test_a_service_claimed_by_another_stored_policy_is_reported_at_the_claim() -> None:
    text = edit(POLICY_TEXT, "services: [payments-api]", "services: [payments-api, ledger]")
    line, column, path, message = only_problem(check_policy(text))
    assert (line, column, path) == (3, 28, "services[1]")
    assert "'ledger-policy'" in message


def test_a_new_item_may_not_take_a_stored_id() -> None:
    new = edit(POLICY_TEXT, "  services: [payments-api]\n", "")
    line, _column, path, message = only_problem(check_policy(new, original=None))
    assert (line, path) == (1, "id")
    assert message == "duplicate id 'payments-default' (also the stored policy 'payments-default')"


def test_the_id_of_a_stored_item_cannot_change_here() -> None:
    line, column, path, message = only_problem(
        check_policy(edit(POLICY_TEXT, "id: payments-default", "id: payments-main"))
    )
    assert (line, column, path) == (1, 7, "id")
    assert "'payments-default'" in message


def test_a_level_that_can_come_up_empty_is_a_warning_at_its_line() -> None:
    check = check_policy(edit(POLICY_TEXT, "{team: payments}", "{team: empty}"))
    assert check.ok and check.record is not None
    assert [(w.line, w.path) for w in check.warnings] == [(8, "levels[1]")]
    assert "team 'empty' has no members" in check.warnings[0].message


def test_a_problem_outside_the_snippet_is_reported_as_elsewhere() -> None:
    broken = Team(
        "ghosts", "Ghosts", Discipline.SECURITY, members=(Membership("x@y.z", MemberRole.LEAD),)
    )
    estate = Estate(
        members=ESTATE.members,
        teams=(*ESTATE.teams, broken),
        services=ESTATE.services,
        schedules=ESTATE.schedules,
        escalation_policies=ESTATE.escalation_policies,
    )
    check = check_item(Section.POLICIES, POLICY_TEXT, estate, "payments-default")
    assert check.record is None
    (problem,) = check.problems
    assert problem.elsewhere and problem.path.startswith("teams[")
    assert str(problem) == f"elsewhere: {problem.path}: unknown member 'x@y.z'"


SCHEDULE_TEXT = """\
- id: primary
  name: Payments primary
  timezone: Europe/Berlin
  layers:
    - name: Week
      members: [ana@example.com, bob@example.com]
      shift: 1 week
      handoff: "09:00"
      handoff_day: mon
      start: 2026-03-02
  overrides:
    - {member: cat@example.com, from: "2026-03-03T09:00", to: "2026-03-04T09:00"}
    - {member: bob@example.com, from: "2026-03-05T09:00", to: "2026-03-06T09:00"}
"""


def check_schedule(text: str) -> ItemCheck:
    return check_item(Section.SCHEDULES, text, ESTATE, "primary")


def test_a_valid_schedule_reads_its_overrides_in_its_own_zone() -> None:
    check = check_schedule(SCHEDULE_TEXT)
    assert check.problems == ()
    assert isinstance(check.record, Schedule)
    assert check.record.layers == PRIMARY.layers
    assert check.record.overrides[0].start == datetime(2026, 3, 3, 8, tzinfo=UTC)


def test_an_unknown_time_zone_is_reported_at_the_timezone_line() -> None:
    line, column, path, message = only_problem(
        check_schedule(edit(SCHEDULE_TEXT, "Europe/Berlin", "Europe/Berlinn"))
    )
    assert (line, column, path) == (3, 13, "timezone")
    assert "'Europe/Berlinn'" in message


def test_overlapping_overrides_are_reported_at_the_later_one() -> None:
    text = edit(SCHEDULE_TEXT, '"2026-03-05T09:00"', '"2026-03-03T21:00"')
    line, column, path, message = only_problem(check_schedule(text))
    assert (line, column, path) == (13, 7, "overrides[1]")
    assert message.startswith("overlaps overrides[0] (cat@example.com")


def test_a_schedule_member_nobody_knows_is_reported_at_the_member() -> None:
    line, column, path, message = only_problem(
        check_schedule(edit(SCHEDULE_TEXT, "bob@example.com]", "bobby@example.com]"))
    )
    assert (line, column, path) == (6, 34, "layers[0].members[1]")
    assert message == "unknown member 'bobby@example.com'"


def _demo_items() -> list[tuple[Section, Policy | Schedule]]:
    demo = demo_estate()
    items: list[tuple[Section, Policy | Schedule]] = [
        (Section.POLICIES, p) for p in demo.escalation_policies
    ]
    return items + [(Section.SCHEDULES, s) for s in demo.schedules]


@pytest.mark.parametrize(
    ("section", "record"),
    [(Section.POLICIES, PAYMENTS), (Section.POLICIES, LEDGER), (Section.SCHEDULES, PRIMARY)],
)
def test_item_text_reads_back_as_the_same_record(
    section: Section, record: Policy | Schedule
) -> None:
    text = item_text(section, record)
    assert text.startswith(f"- id: {record.key}\n")
    check = check_item(section, text, ESTATE, record.key)
    assert check.problems == ()
    assert check.record == record


def test_item_text_round_trips_every_demo_policy_and_schedule() -> None:
    demo = demo_estate()
    items = _demo_items()
    assert len(items) >= 4
    for section, record in items:
        check = check_item(section, item_text(section, record), demo, record.key)
        assert check.problems == (), (record.key, check.problems)
        assert check.record == record


def test_the_templates_are_valid_items_with_a_free_id() -> None:
    today = date(2026, 3, 2)
    estate = Estate(
        members=ESTATE.members,
        teams=ESTATE.teams,
        services=ESTATE.services,
        schedules=(PRIMARY, Schedule("new-schedule", "Taken", "UTC", PRIMARY.layers)),
        escalation_policies=ESTATE.escalation_policies,
    )
    policy = check_item(Section.POLICIES, template(Section.POLICIES, estate, today), estate)
    assert policy.ok and isinstance(policy.record, Policy)
    assert policy.record.key == "new-policy"
    assert policy.record.levels[0].targets[0] == Target(TargetKind.SCHEDULE, "new-schedule")
    schedule = check_item(Section.SCHEDULES, template(Section.SCHEDULES, estate, today), estate)
    assert schedule.ok and isinstance(schedule.record, Schedule)
    assert schedule.record.key == "new-schedule-2"
    assert schedule.record.layers[0].members == (ANA, BOB)
    assert schedule.record.layers[0].start == today


def test_a_policy_reads_in_words_with_the_services_it_covers() -> None:
    by_team = Policy(
        "team-wide",
        "Team wide",
        LEDGER.levels,
        teams=("payments",),
        ack_timeout=timedelta(minutes=30),
    )
    estate = Estate(
        members=ESTATE.members,
        teams=ESTATE.teams,
        services=ESTATE.services,
        schedules=ESTATE.schedules,
        escalation_policies=(LEDGER, by_team),
    )
    assert describe_policy(PAYMENTS, ESTATE) == [
        "Level 1, at once: whoever Payments primary has on call",
        "Level 2, after 10 min: everyone in team payments (urgent)",
        "Repeats 2 more time(s), 10 min after the last level starts",
        "Used by: payments-api",
    ]
    lines = describe_policy(by_team, estate)
    assert lines[0] == "Level 1, at once: Cat"
    assert "after 30 min" in lines[2]
    # The ledger has its own policy: only the team's other service falls to this one.
    assert lines[-1] == "Used by: payments-api"


def test_the_schedule_preview_is_its_coverage_with_the_stored_absences() -> None:
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    leave = Unavailability(
        BOB, start + timedelta(days=7), start + timedelta(days=14), AbsenceReason.LEAVE
    )
    estate = Estate(members=ESTATE.members, schedules=(PRIMARY,), unavailability=(leave,))
    reading = schedule_preview(PRIMARY, estate, start)
    (cover,) = reading.schedules
    assert cover.schedule == PRIMARY
    assert {s.member for s in cover.shifts} == {ANA}
    assert cover.shifts[0].start == start and cover.shifts[0].end == start + timedelta(days=7)
    assert cover.gaps and cover.gaps[0].start == start + timedelta(days=7)
    assert reading.name(ANA) == "Ana"
