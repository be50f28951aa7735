"""Schedules: rotation arithmetic, precedence, daylight-saving changes, gaps and validation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from console.core.enums import Discipline
from console.core.models import Estate, Member
from console.core.schedule_codec import (
    schedule_from_dict,
    schedule_to_dict,
    unavailability_from_dict,
    unavailability_to_dict,
)
from console.core.schedule_rules import validate_schedule
from console.core.schedules import (
    AbsenceReason,
    Absences,
    CoverSource,
    Layer,
    Override,
    Schedule,
    ShiftUnit,
    Unavailability,
    Window,
    gaps,
    my_shifts,
    on_call,
    shifts,
)
from console.core.silences import Weekday
from console.core.validation import validate_estate
from hypothesis import given, settings
from hypothesis import strategies as st

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
ZONES = {"Europe/Berlin": BERLIN, "America/New_York": NEW_YORK}
ANA, BOB, CAT, DAN = "ana@example.com", "bob@example.com", "cat@example.com", "dan@example.com"


def daily(members: tuple[str, ...] = (ANA, BOB, CAT), **kw: object) -> Layer:
    fields: dict[str, object] = {
        "name": "Primary",
        "members": members,
        "shift_length": 1,
        "shift_unit": ShiftUnit.DAYS,
        "start": date(2026, 1, 1),
        "handoff": time(9, 0),
    }
    fields.update(kw)
    return Layer(**fields)  # type: ignore[arg-type]


def schedule(
    *layers: Layer, zone: str = "Europe/Berlin", overrides: tuple[Override, ...] = ()
) -> Schedule:
    return Schedule("ops", "Operations", zone, layers, overrides)


def local(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)  # type: ignore[misc]


def away(
    member: str, start: datetime, end: datetime, reason: AbsenceReason = AbsenceReason.LEAVE
) -> Unavailability:
    return Unavailability(member, start, end, reason)


# -- rotation arithmetic -------------------------------------------------------------------


def test_a_daily_rotation_hands_over_at_the_local_handoff_in_member_order() -> None:
    s = schedule(daily())
    # 1 Jan 09:00 starts ANA's shift; each later day the next member, wrapping round.
    expected = [ANA, BOB, CAT, ANA, BOB, CAT, ANA]
    got = [on_call(s, local(BERLIN, 2026, 1, 1 + d, 12)).member for d in range(7)]
    assert got == expected
    assert on_call(s, local(BERLIN, 2026, 1, 2, 8, 59)).member == ANA
    assert on_call(s, local(BERLIN, 2026, 1, 2, 9, 0)).member == BOB
    answer = on_call(s, local(BERLIN, 2026, 1, 2, 12))
    assert (answer.since, answer.until) == (
        local(BERLIN, 2026, 1, 2, 9),
        local(BERLIN, 2026, 1, 3, 9),
    )


def test_nothing_is_covered_before_the_rotation_starts() -> None:
    s = schedule(daily(start=date(2026, 5, 1)))
    answer = on_call(s, local(BERLIN, 2026, 5, 1, 8, 59))
    assert answer.member is None and answer.source is CoverSource.NOBODY
    assert answer.reason == "no layer covers this time"
    assert on_call(s, local(BERLIN, 2026, 5, 1, 9)).member == ANA


def test_weekly_shifts_start_on_the_first_handoff_day_on_or_after_the_start() -> None:
    layer = daily(
        (ANA, BOB), shift_unit=ShiftUnit.WEEKS, handoff_day=Weekday.MON, start=date(2026, 1, 1)
    )
    s = schedule(layer)
    # 1 Jan 2026 is a Thursday: the rotation starts on Monday 5 January at 09:00.
    assert on_call(s, local(BERLIN, 2026, 1, 5, 8, 59)).member is None
    assert on_call(s, local(BERLIN, 2026, 1, 5, 9)).member == ANA
    assert on_call(s, local(BERLIN, 2026, 1, 11, 23)).member == ANA
    assert on_call(s, local(BERLIN, 2026, 1, 12, 9)).member == BOB
    assert on_call(s, local(BERLIN, 2026, 1, 19, 9)).member == ANA


def test_hourly_shifts_that_divide_the_day_give_each_member_the_same_hours() -> None:
    layer = daily((ANA, BOB, CAT), shift_length=8, shift_unit=ShiftUnit.HOURS, handoff=time(6))
    s = schedule(layer)
    for day in (10, 11, 12):
        assert on_call(s, local(BERLIN, 2026, 2, day, 7)).member == ANA
        assert on_call(s, local(BERLIN, 2026, 2, day, 15)).member == BOB
        assert on_call(s, local(BERLIN, 2026, 2, day, 23)).member == CAT


def naive_member(layer: Layer, zone: ZoneInfo, at: datetime) -> str | None:
    """An independent oracle: walk every handoff from the first one (slow, obviously right)."""
    first = layer.start
    if layer.shift_unit is ShiftUnit.WEEKS and layer.handoff_day is not None:
        while first.weekday() != layer.handoff_day.index:
            first += timedelta(days=1)
    step = {
        ShiftUnit.HOURS: timedelta(hours=layer.shift_length),
        ShiftUnit.DAYS: timedelta(days=layer.shift_length),
        ShiftUnit.WEEKS: timedelta(weeks=layer.shift_length),
    }[layer.shift_unit]
    wall = datetime.combine(first, layer.handoff)
    k = -1
    while wall.replace(tzinfo=zone).astimezone(UTC) <= at:
        wall += step
        k += 1
    return None if k < 0 else layer.members[k % len(layer.members)]


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(sorted(ZONES)),
    unit=st.sampled_from(list(ShiftUnit)),
    length=st.integers(1, 4),
    handoff=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    day=st.sampled_from(list(Weekday)),
    members=st.integers(1, 5),
    offset=st.integers(-3 * 86400, 300 * 86400),
)
def test_on_call_agrees_with_walking_every_shift(
    zone: str,
    unit: ShiftUnit,
    length: int,
    handoff: time,
    day: Weekday,
    members: int,
    offset: int,
) -> None:
    people = tuple(f"m{i}@example.com" for i in range(members))
    layer = Layer(
        "L",
        people,
        length,
        unit,
        date(2026, 1, 1),
        handoff,
        day if unit is ShiftUnit.WEEKS else None,
    )
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=offset)
    assert on_call(schedule(layer, zone=zone), at).member == naive_member(layer, ZONES[zone], at)


# -- precedence ----------------------------------------------------------------------------


SECONDARY = daily((DAN,), name="Secondary")
NOON = local(BERLIN, 2026, 3, 9, 12)  # a day of BOB's in the Primary rotation


def test_the_first_layer_wins_and_an_override_beats_every_layer() -> None:
    assert on_call(schedule(daily(), SECONDARY), NOON).member == BOB
    assert on_call(schedule(SECONDARY, daily()), NOON).member == DAN
    swap = Override(CAT, NOON - timedelta(hours=1), NOON + timedelta(hours=1), note="swap")
    answer = on_call(schedule(daily(), SECONDARY, overrides=(swap,)), NOON)
    assert (answer.member, answer.source, answer.reason) == (CAT, CoverSource.OVERRIDE, "override")
    assert (answer.since, answer.until) == (swap.start, swap.end)
    after = on_call(schedule(daily(), SECONDARY, overrides=(swap,)), swap.end)
    assert after.member == BOB and after.reason == "layer Primary"


def test_an_unavailable_member_is_taken_out_and_the_schedule_falls_through() -> None:
    s = schedule(daily(), SECONDARY)
    leave = away(BOB, NOON - timedelta(days=2), NOON + timedelta(days=2))
    answer = on_call(s, NOON, [leave])
    assert answer.member == DAN and answer.layer == "Secondary"
    assert answer.reason == "Primary: bob@example.com on leave -> Secondary"
    # The day after, CAT is back on the rotation: nobody passed over.
    assert on_call(s, NOON + timedelta(days=1), [leave]).reason == "layer Primary"


def test_with_everyone_absent_nobody_is_on_call_and_the_reason_says_why() -> None:
    s = schedule(daily(), SECONDARY)
    sick = away(DAN, NOON - timedelta(hours=3), NOON + timedelta(hours=3), AbsenceReason.SICKNESS)
    leave = away(BOB, NOON - timedelta(days=1), NOON + timedelta(days=1))
    answer = on_call(s, NOON, Absences([leave, sick]))
    assert answer.member is None and answer.source is CoverSource.NOBODY
    assert answer.reason == (
        "Primary: bob@example.com on leave -> Secondary: dan@example.com off sick -> nobody"
    )


def test_an_absent_override_member_falls_back_to_the_layers() -> None:
    swap = Override(CAT, NOON - timedelta(hours=1), NOON + timedelta(hours=1))
    s = schedule(daily(), overrides=(swap,))
    answer = on_call(s, NOON, [away(CAT, NOON - timedelta(hours=2), NOON + timedelta(hours=2))])
    assert answer.member == BOB
    assert answer.reason == "override: cat@example.com on leave -> Primary"


def test_overlapping_absences_of_one_member_are_all_seen() -> None:
    long = away(BOB, NOON - timedelta(days=10), NOON + timedelta(days=10))
    short = away(BOB, NOON - timedelta(days=5), NOON - timedelta(days=4), AbsenceReason.SICKNESS)
    absences = Absences([short, long])
    assert absences.find(BOB, NOON) == long
    assert absences.find(BOB, NOON - timedelta(days=4, hours=12)) == short
    assert absences.find(BOB, NOON + timedelta(days=10)) is None
    assert absences.find(ANA, NOON) is None


def test_restricted_layers_cover_only_their_local_windows() -> None:
    office = daily(
        (ANA,), name="Office", restrictions=(Window(time(9), time(17), tuple(Weekday)[:5]),)
    )
    nights = daily((BOB,), name="Nights", restrictions=(Window(time(17), time(9)),))
    s = schedule(office, nights)
    assert on_call(s, local(BERLIN, 2026, 3, 10, 10)).member == ANA  # a Tuesday
    assert on_call(s, local(BERLIN, 2026, 3, 10, 18)).member == BOB
    assert on_call(s, local(BERLIN, 2026, 3, 11, 3)).member == BOB  # the window past midnight
    assert on_call(s, local(BERLIN, 2026, 3, 14, 10)).member is None  # Saturday daytime
    found = gaps(s, local(BERLIN, 2026, 3, 9), local(BERLIN, 2026, 3, 23))
    # Nights cover every evening to the next morning; the office only weekdays: weekend days.
    assert [(g.start, g.end) for g in found] == [
        (local(BERLIN, 2026, 3, 14, 9), local(BERLIN, 2026, 3, 14, 17)),
        (local(BERLIN, 2026, 3, 15, 9), local(BERLIN, 2026, 3, 15, 17)),
        (local(BERLIN, 2026, 3, 21, 9), local(BERLIN, 2026, 3, 21, 17)),
        (local(BERLIN, 2026, 3, 22, 9), local(BERLIN, 2026, 3, 22, 17)),
    ]

    assert {g.reason for g in found} == {"no layer covers this time"}


# -- daylight-saving changes ---------------------------------------------------------------

# (zone, spring change day, autumn change day) in 2026.
CHANGES = [
    ("Europe/Berlin", date(2026, 3, 29), date(2026, 10, 25)),
    ("America/New_York", date(2026, 3, 8), date(2026, 11, 1)),
]


@pytest.mark.parametrize(("zone", "spring", "autumn"), CHANGES)
def test_daily_shifts_keep_their_local_handoff_all_year(
    zone: str, spring: date, autumn: date
) -> None:
    tz = ZONES[zone]
    s = schedule(daily(handoff=time(9)), zone=zone)
    year = shifts(s, datetime(2026, 1, 1, 9, tzinfo=tz), datetime(2027, 1, 1, 9, tzinfo=tz))
    assert len(year) == 365
    assert all(x.start.astimezone(tz).time() == time(9) for x in year)
    lengths = {x.start.astimezone(tz).date(): x.duration for x in year}
    # The shift that spans the spring change is 23 hours long in real time, the autumn one 25.
    assert lengths.pop(spring - timedelta(days=1)) == timedelta(hours=23)
    assert lengths.pop(autumn - timedelta(days=1)) == timedelta(hours=25)
    assert set(lengths.values()) == {timedelta(hours=24)}


@pytest.mark.parametrize(("zone", "spring", "autumn"), CHANGES)
def test_hourly_shifts_keep_their_local_hours_across_the_changes(
    zone: str, spring: date, autumn: date
) -> None:
    tz = ZONES[zone]
    layer = daily((ANA, BOB, CAT), shift_length=8, shift_unit=ShiftUnit.HOURS, handoff=time(0))
    s = schedule(layer, zone=zone)
    for day in (spring, autumn):
        start = datetime.combine(day, time(), tzinfo=tz)
        found = shifts(s, start, datetime.combine(day + timedelta(days=1), time(), tzinfo=tz))
        assert [x.start.astimezone(tz).hour for x in found] == [0, 8, 16]
        assert [x.member for x in found] == [on_call(s, x.start).member for x in found]
    spring_night = shifts(
        s, datetime.combine(spring, time(), tzinfo=tz), datetime.combine(spring, time(8), tzinfo=tz)
    )
    autumn_night = shifts(
        s, datetime.combine(autumn, time(), tzinfo=tz), datetime.combine(autumn, time(8), tzinfo=tz)
    )
    assert spring_night[0].duration == timedelta(hours=7)
    assert autumn_night[0].duration == timedelta(hours=9)


def test_a_handoff_at_a_skipped_local_time_happens_after_the_jump() -> None:
    s = schedule(daily(handoff=time(2, 30)))
    changeover = on_call(s, datetime(2026, 3, 29, 12, tzinfo=UTC))
    # 02:30 does not exist in Berlin on 29 March: the handoff is at 03:30 CEST (01:30 UTC).
    assert changeover.since == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert changeover.until == datetime(2026, 3, 30, 0, 30, tzinfo=UTC)
    # 02:30 happens twice on 25 October: the handoff is the first time round (CEST, 00:30 UTC).
    autumn = on_call(s, datetime(2026, 10, 25, 12, tzinfo=UTC))
    assert autumn.since == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def assert_exact_cover(found: list[object], start: datetime, end: datetime) -> None:
    spans = [(x.start, x.end) for x in found]  # type: ignore[attr-defined]
    assert spans[0][0] == start and spans[-1][1] == end
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))  # no gap, no overlap
    assert all(s < e for s, e in spans)
    assert sum((e - s for s, e in spans), timedelta()) == end - start


@pytest.mark.parametrize("zone", sorted(ZONES))
@pytest.mark.parametrize(
    ("length", "unit", "stretches"),
    # Hourly: the hour the clocks skip has no shift, the repeated one a two-hour shift.
    [(1, ShiftUnit.HOURS, 365 * 24 - 1), (1, ShiftUnit.DAYS, 365), (1, ShiftUnit.WEEKS, 53)],
)
def test_a_whole_year_of_shifts_loses_and_doubles_nothing(
    zone: str, length: int, unit: ShiftUnit, stretches: int
) -> None:
    tz = ZONES[zone]
    layer = daily(
        (ANA, BOB), shift_length=length, shift_unit=unit, handoff=time(0), start=date(2025, 12, 1)
    )
    start, end = datetime(2026, 1, 1, tzinfo=tz), datetime(2027, 1, 1, tzinfo=tz)
    found = shifts(schedule(layer, zone=zone), start, end)
    assert_exact_cover(found, start.astimezone(UTC), end.astimezone(UTC))
    assert len(found) == stretches
    assert all(x.start.astimezone(tz).minute == 0 for x in found)
    if unit is ShiftUnit.HOURS:
        lengths = sorted({x.duration for x in found})
        assert lengths == [timedelta(hours=1), timedelta(hours=2)]


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(sorted(ZONES)),
    unit=st.sampled_from(list(ShiftUnit)),
    length=st.integers(1, 3),
    handoff=st.sampled_from([time(0), time(1, 30), time(2, 30), time(3), time(9), time(23, 15)]),
    first_day=st.integers(0, 364),
    span_days=st.integers(1, 40),
    overrides=st.lists(st.tuples(st.integers(0, 40 * 24), st.integers(1, 72)), max_size=4),
)
def test_the_timeline_covers_any_range_exactly_once(
    zone: str,
    unit: ShiftUnit,
    length: int,
    handoff: time,
    first_day: int,
    span_days: int,
    overrides: list[tuple[int, int]],
) -> None:
    tz = ZONES[zone]
    start = datetime(2026, 1, 1, tzinfo=tz) + timedelta(days=first_day, hours=5)
    end = start + timedelta(days=span_days)
    made: list[Override] = []
    for at_hour, hours in sorted(overrides):
        begin = start + timedelta(hours=at_hour)
        if not made or begin >= made[-1].end:  # overrides of one schedule never overlap
            made.append(Override(DAN, begin, begin + timedelta(hours=hours)))
    layer = daily(shift_length=length, shift_unit=unit, handoff=handoff, start=date(2025, 12, 1))
    s = schedule(layer, zone=zone, overrides=tuple(made))
    found = shifts(s, start, end)
    assert_exact_cover(found, start.astimezone(UTC), end.astimezone(UTC))
    for x in found:
        assert on_call(s, x.start).member == x.member
        assert on_call(s, x.end - timedelta(microseconds=1)).member == x.member
    if unit is not ShiftUnit.HOURS:
        handoffs = [x.start for x in found if x.layer is not None and x.start != start]
        handoffs = [h for h in handoffs if not any(o.end == h for o in made)]
        assert all(h.astimezone(tz).time() in _handoff_times(handoff) for h in handoffs)


def _handoff_times(handoff: time) -> set[time]:
    """The local time a handoff shows: itself, or an hour later when the clocks skip it."""
    return {handoff, (datetime.combine(date(2000, 1, 1), handoff) + timedelta(hours=1)).time()}


# -- timelines, gaps, my shifts ------------------------------------------------------------


def test_overrides_and_absences_split_shifts_into_sources_never_merged_across() -> None:
    swap = Override(CAT, local(BERLIN, 2026, 3, 9, 12), local(BERLIN, 2026, 3, 9, 15))
    s = schedule(daily(), SECONDARY, overrides=(swap,))
    leave = away(BOB, local(BERLIN, 2026, 3, 9, 18), local(BERLIN, 2026, 3, 9, 20))
    found = shifts(s, local(BERLIN, 2026, 3, 9, 9), local(BERLIN, 2026, 3, 10, 9), [leave])
    assert [(x.member, x.start.astimezone(BERLIN).hour, x.layer) for x in found] == [
        (BOB, 9, "Primary"),
        (CAT, 12, None),
        (BOB, 15, "Primary"),
        (DAN, 18, "Secondary"),
        (BOB, 20, "Primary"),
    ]
    assert found[0].shift_id == found[2].shift_id == found[4].shift_id
    assert len({x.shift_id for x in found}) == 3


def test_whole_shifts_do_not_depend_on_where_the_range_starts() -> None:
    s = schedule(daily((ANA, BOB), shift_unit=ShiftUnit.WEEKS, handoff_day=Weekday.MON))
    one = shifts(s, local(BERLIN, 2026, 3, 4), local(BERLIN, 2026, 4, 4), whole=True)
    two = shifts(s, local(BERLIN, 2026, 3, 6, 13), local(BERLIN, 2026, 4, 4), whole=True)
    assert one == two
    assert one[0].start == local(BERLIN, 2026, 3, 2, 9)
    cut = shifts(s, local(BERLIN, 2026, 3, 6, 13), local(BERLIN, 2026, 4, 4))
    assert cut[0].start == local(BERLIN, 2026, 3, 6, 13)


def test_gaps_over_the_coming_weeks_name_their_reason() -> None:
    s = schedule(daily((ANA,)), SECONDARY)
    start = local(BERLIN, 2026, 6, 1)
    holiday = away(ANA, local(BERLIN, 2026, 6, 3), local(BERLIN, 2026, 6, 10))
    sick = away(DAN, local(BERLIN, 2026, 6, 5), local(BERLIN, 2026, 6, 6), AbsenceReason.SICKNESS)
    assert gaps(s, start, start + timedelta(days=14), [holiday]) == []
    (gap,) = gaps(s, start, start + timedelta(days=14), [holiday, sick])
    assert (gap.start, gap.end) == (sick.start, sick.end)
    assert gap.reason.endswith("dan@example.com off sick -> nobody")
    later = gaps(s, start, start + timedelta(days=30), [holiday, sick])
    assert len(later) == 1


def test_my_shifts_collects_a_member_across_schedules() -> None:
    primary = schedule(daily((ANA, BOB)))
    other = replace(
        schedule(daily((CAT, ANA), handoff=time(18)), zone="America/New_York"), key="web"
    )
    start = local(BERLIN, 2026, 3, 1)
    mine = my_shifts(ANA, [primary, other], start, start + timedelta(days=4))
    assert {x.schedule for x in mine} == {"ops", "web"}
    assert all(x.member == ANA for x in mine)
    assert [x.start for x in mine] == sorted(x.start for x in mine)
    assert my_shifts(DAN, [primary, other], start, start + timedelta(days=4)) == []


# -- validation and codec ------------------------------------------------------------------


def problems_of(s: Schedule) -> dict[str, str]:
    return {p.path: p.message for p in validate_schedule(s)}


def test_bad_schedules_are_reported_field_by_field() -> None:
    bad = Schedule(
        "Ops!",
        "",
        "Europe/Atlantis",
        (
            daily(()),
            daily(shift_length=0),
            daily(name="Weekly", shift_length=-1, handoff_day=Weekday.MON),
            daily(name="W", restrictions=(Window(time(9), time(9)),)),
        ),
    )
    found = problems_of(bad)
    assert "expected a slug" in found["id"] and found["name"] == "must not be empty"
    assert "Europe/Atlantis" in found["timezone"]
    assert found["layers[0].members"] == "a layer needs at least one member to rotate"
    assert found["layers[1].shift"] == "the shift length must be positive, got 0 days"
    assert "duplicate layer name 'Primary'" in found["layers[1].name"]
    assert "got -1 days" in found["layers[2].shift"]
    assert found["layers[2].handoff_day"].startswith("only weekly shifts")
    assert "window is empty" in found["layers[3].restrictions[0]"]
    assert problems_of(replace(bad, layers=()))["layers"] == "a schedule needs at least one layer"


def test_overlapping_overrides_are_reported_at_the_later_one() -> None:
    first = Override(ANA, NOON, NOON + timedelta(hours=5))
    touching = Override(BOB, NOON + timedelta(hours=5), NOON + timedelta(hours=6))
    inside = Override(CAT, NOON + timedelta(hours=1), NOON + timedelta(hours=2))
    backwards = Override(DAN, NOON + timedelta(days=3), NOON + timedelta(days=2))
    found = problems_of(schedule(daily(), overrides=(touching, first, inside, backwards)))
    assert set(found) == {"overrides[2]", "overrides[3].to"}
    assert found["overrides[2]"].startswith("overlaps overrides[1] (ana@example.com from")


def test_the_estate_checks_who_schedules_and_absences_name() -> None:
    people = (Member(ANA, "Ana", "Europe/Lisbon", Discipline.OTHER),)
    s = schedule(
        daily((ANA, "ghost@example.com")),
        overrides=(Override(BOB, NOON, NOON + timedelta(hours=1)),),
    )
    absences = (
        away(DAN, NOON, NOON + timedelta(days=1)),
        away(ANA, NOON, NOON - timedelta(days=1)),
        away(ANA, NOON, NOON + timedelta(days=2)),
    )
    problems = {
        p.path: p.message
        for p in validate_estate(Estate(members=people, schedules=(s, s), unavailability=absences))
    }
    assert problems["schedules[0].layers[0].members[1]"] == "unknown member 'ghost@example.com'"
    assert problems["schedules[0].overrides[0].member"] == "unknown member 'bob@example.com'"
    assert problems["schedules[1].id"] == "duplicate id 'ops' (also schedules[0])"
    assert problems["unavailability[0].member"] == "unknown member 'dan@example.com'"
    assert problems["unavailability[1].to"] == "must be after the start (from)"
    assert "already has an absence" in problems["unavailability[2].from"]


def test_an_unknown_zone_or_an_empty_layer_cannot_be_asked() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        on_call(schedule(daily(), zone="Mars/Olympus"), NOON)
    with pytest.raises(ValueError, match="no members"):
        on_call(schedule(daily(())), NOON)
    with pytest.raises(ValueError, match="aware"):
        on_call(schedule(daily()), datetime(2026, 1, 1))


def test_schedules_and_absences_round_trip_through_their_dicts() -> None:
    s = schedule(
        daily(restrictions=(Window(time(22), time(6, 30, 15), (Weekday.SAT, Weekday.FRI)),)),
        daily((DAN,), name="Weekly", shift_unit=ShiftUnit.WEEKS, handoff_day=Weekday.TUE),
        overrides=(
            Override(CAT, NOON + timedelta(days=1), NOON + timedelta(days=2), note="swap"),
            Override(ANA, NOON, NOON + timedelta(hours=3)),
        ),
    )
    back = schedule_from_dict(schedule_to_dict(s))
    assert back.overrides == s.sorted_overrides() and replace(back, overrides=s.overrides) == s
    assert s.layers[0].restrictions[0].days == (Weekday.FRI, Weekday.SAT)
    u = away(ANA, NOON, NOON + timedelta(days=3), AbsenceReason.SICKNESS)
    assert unavailability_from_dict(unavailability_to_dict(u)) == u
    assert u.key == "ana@example.com/2026-03-09T11:00:00.000000Z"
    assert (
        Override(ANA, NOON, NOON + timedelta(hours=1)).key
        == Override(ANA, NOON.astimezone(UTC), (NOON + timedelta(hours=1)).astimezone(NEW_YORK)).key
    )
