"""Schedules in the store: events, projections, overrides one at a time, absences, the upgrade."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from console.core.clock import FakeClock
from console.core.enums import Discipline, EntityKind
from console.core.errors import ValidationError
from console.core.events import EventType
from console.core.models import Member
from console.core.schedules import (
    AbsenceReason,
    Layer,
    Override,
    Schedule,
    ShiftUnit,
    Unavailability,
    Window,
    on_call,
)
from console.core.silences import Weekday
from console.store import entities, estate, events, preflight
from console.store.db import Store
from console.store.errors import StoreConflict
from console.store.migrations import known_names
from console.store.schedules import add_overrides, remove_override

from tests.fixtures.make_store_fixture import STORES

ANA, BOB, CAT = "ana@example.com", "bob@example.com", "cat@example.com"
BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
OPS = Schedule(
    "ops",
    "Operations",
    "Europe/Berlin",
    (
        Layer("Primary", (ANA, BOB), 1, ShiftUnit.WEEKS, date(2026, 3, 2), time(9), Weekday.MON),
        Layer(
            "Nights",
            (CAT,),
            1,
            ShiftUnit.DAYS,
            date(2026, 3, 1),
            time(20),
            restrictions=(Window(time(20), time(8)),),
        ),
    ),
    (Override(CAT, T0 + timedelta(days=1), T0 + timedelta(days=2), note="swap"),),
)


def member(email: str) -> Member:
    return Member(email, email.split("@")[0].title(), "Europe/Berlin", Discipline.INFRASTRUCTURE)


@pytest.fixture
def people(store: Store) -> Store:
    for email in (ANA, BOB, CAT):
        entities.save(store, member(email))
    return store


def count(store: Store, table: str) -> int:
    return int(store.read().execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_a_saved_schedule_reads_back_whole_and_survives_a_rebuild(people: Store) -> None:
    event = entities.save(people, OPS)
    assert event is not None and event.type is EventType.SCHEDULE_UPSERTED
    assert event.subject == "schedule:ops" and event.payload["before"] is None
    assert estate.schedules(people.read()) == (OPS,)
    assert estate.load(people.read()).schedules == (OPS,)
    assert entities.save(people, OPS) is None  # unchanged: no event
    assert count(people, "schedule_overrides") == 1
    logged = events.last_seq(people.read())
    assert events.rebuild(people) == logged
    assert estate.schedules(people.read()) == (OPS,)


def test_a_schedule_naming_strangers_or_with_overlapping_overrides_is_refused(
    people: Store,
) -> None:
    stranger = replace(OPS, layers=(replace(OPS.layers[0], members=(ANA, "eve@example.com")),))
    with pytest.raises(ValidationError) as caught:
        entities.save(people, stranger)
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("layers[0].members[1]", "unknown member 'eve@example.com'")
    ]
    clash = Override(ANA, T0 + timedelta(days=1, hours=12), T0 + timedelta(days=3))
    with pytest.raises(ValidationError) as caught:
        entities.save(people, replace(OPS, overrides=(*OPS.overrides, clash)))
    assert [p.path for p in caught.value.problems] == ["overrides[1]"]
    assert count(people, "schedules") == 0


def test_overrides_come_and_go_one_event_at_a_time(people: Store) -> None:
    entities.save(people, OPS)
    later = Override(BOB, T0 + timedelta(days=5), T0 + timedelta(days=6))
    added = add_overrides(people, "ops", [OPS.overrides[0], later])
    assert [e.type for e in added] == [EventType.SCHEDULE_OVERRIDE_ADDED]  # the first was there
    assert add_overrides(people, "ops", [later]) == []
    (stored,) = estate.schedules(people.read(), "ops")
    assert stored.overrides == (OPS.overrides[0], later)
    assert on_call(stored, T0 + timedelta(days=5, hours=1)).member == BOB

    removed = remove_override(people, "ops", later.key)
    assert removed.type is EventType.SCHEDULE_OVERRIDE_REMOVED
    assert estate.schedules(people.read(), "ops")[0].overrides == OPS.overrides
    history = [e.type for e in events.iter_events(people.read(), subject="schedule:ops")]
    assert history == [
        EventType.SCHEDULE_UPSERTED,
        EventType.SCHEDULE_OVERRIDE_ADDED,
        EventType.SCHEDULE_OVERRIDE_REMOVED,
    ]
    events.rebuild(people)
    assert estate.schedules(people.read(), "ops")[0].overrides == OPS.overrides


def test_bad_overrides_are_refused_all_together_and_nothing_is_written(people: Store) -> None:
    entities.save(people, OPS)
    before = events.last_seq(people.read())
    batch = [
        Override(ANA, T0 + timedelta(days=10), T0 + timedelta(days=11)),
        Override(BOB, T0 + timedelta(days=1, hours=6), T0 + timedelta(days=1, hours=8)),
        Override("eve@example.com", T0 + timedelta(days=20), T0 + timedelta(days=21)),
        Override(CAT, T0 + timedelta(days=10, hours=12), T0 + timedelta(days=12)),
    ]
    with pytest.raises(ValidationError) as caught:
        add_overrides(people, "ops", batch)
    found = {p.path: p.message for p in caught.value.problems}
    assert set(found) == {"overrides[1]", "overrides[2].member", "overrides[3]"}
    assert found["overrides[1]"].startswith(f"overlaps the stored override {OPS.overrides[0].key}")
    assert found["overrides[3]"].startswith("overlaps overrides[0] (ana@example.com from")
    assert events.last_seq(people.read()) == before
    with pytest.raises(StoreConflict, match="no schedule 'nope'"):
        add_overrides(people, "nope", batch[:1])
    with pytest.raises(StoreConflict, match="has no override"):
        remove_override(people, "ops", "0123456789abcdef")


def test_members_named_by_schedules_or_absences_cannot_be_deleted(people: Store) -> None:
    entities.save(people, OPS)
    leave = Unavailability(BOB, T0, T0 + timedelta(days=7), AbsenceReason.LEAVE, note="holiday")
    entities.save(people, leave)
    with pytest.raises(StoreConflict, match="schedule ops \\(rotation\\)"):
        entities.delete(people, EntityKind.MEMBER, ANA)
    with pytest.raises(StoreConflict, match="1 unavailability record"):
        entities.delete(people, EntityKind.MEMBER, BOB)
    entities.delete(people, EntityKind.SCHEDULE, "ops")
    assert count(people, "schedule_overrides") == 0
    entities.delete(people, EntityKind.MEMBER, ANA)
    entities.delete(people, EntityKind.UNAVAILABILITY, leave.key)
    entities.delete(people, EntityKind.MEMBER, BOB)
    assert estate.load(people.read()).unavailability == ()


def test_absences_are_stored_in_utc_and_change_the_answer(people: Store) -> None:
    entities.save(people, OPS)
    start = datetime(2026, 3, 2, 0, tzinfo=BERLIN)
    leave = Unavailability(ANA, start, start + timedelta(days=1), AbsenceReason.LEAVE)
    entities.save(people, leave)
    row = people.read().execute("SELECT key, start_at, reason FROM unavailability").fetchone()
    assert row == (
        "ana@example.com/2026-03-01T23:00:00.000000Z",
        "2026-03-01T23:00:00.000000Z",
        "leave",
    )
    (stored,) = estate.unavailability(people.read())
    assert stored == leave and stored.start.tzinfo is UTC
    noon = datetime(2026, 3, 2, 11, tzinfo=UTC)
    (ops,) = estate.schedules(people.read())
    assert on_call(ops, noon).member == ANA
    answer = on_call(ops, noon, estate.unavailability(people.read()))
    assert answer.member is None and answer.reason == "Primary: ana@example.com on leave -> nobody"


def test_a_store_from_before_schedules_upgrades_and_takes_them(tmp_path: Path) -> None:
    copy = tmp_path / "store.db"
    shutil.copyfile(STORES / "m005_incidents.db", copy)
    assert "m006_schedules" not in preflight.check(copy, known_names()).applied
    with Store.open(copy, FakeClock(T0)) as store:
        assert count(store, "schedules") == count(store, "unavailability") == 0
        people = {m.email for m in estate.members(store.read())}
        layer = Layer("Only", tuple(sorted(people)[:2]), 1, ShiftUnit.DAYS, date(2026, 3, 1))
        entities.save(store, Schedule("upgraded", "Upgraded", "UTC", (layer,)))
        logged = events.last_seq(store.read())
        assert events.rebuild(store) == logged
        assert [s.key for s in estate.schedules(store.read())] == ["upgraded"]
    assert preflight.check(copy, known_names()).applied == known_names()
