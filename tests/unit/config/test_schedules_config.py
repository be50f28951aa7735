"""The ``schedules`` and ``unavailability`` sections: reading, errors at file:line:col, export."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from console.config.demo import demo_estate
from console.config.emitter import dump
from console.config.errors import ConfigError
from console.config.loader import load_text
from console.core.clock import FakeClock
from console.core.schedules import AbsenceReason, ShiftUnit, Window, gaps, on_call
from console.core.silences import Weekday
from console.store import estate as stored
from console.store.db import Store
from console.store.entities import import_estate

HEAD = """version: 1
members:
  - {email: ana@example.com, name: Ana, timezone: Australia/Sydney, discipline: infrastructure}
  - {email: bob@example.com, name: Bob, timezone: America/New_York, discipline: security}
"""
GOOD = (
    HEAD
    + """schedules:
  - id: ops
    name: Operations
    timezone: Europe/Berlin
    layers:
      - name: Primary
        members: [ana@example.com, bob@example.com]
        shift: 2 weeks
        handoff: 09:30
        handoff_day: tue
        start: 2026-01-01
      - name: Nights
        members: [bob@example.com]
        shift: 12 hours
        handoff: "20:00"
        start: 2026-01-01
        restrictions:
          - {from: 20:00, to: 08:00, days: [fri, sat]}
    overrides:
      - {member: bob@example.com, from: 2026-03-02T07:00, to: "2026-03-03T07:00:00Z", note: swap}
unavailability:
  - {member: ana@example.com, from: 2026-07-01, to: 2026-07-14, reason: leave, note: summer}
  - {member: bob@example.com, from: 2026-07-01T09:00, to: 2026-07-01T17:00, reason: sickness}
"""
)


def test_a_valid_file_reads_into_schedules_and_absences() -> None:
    e = load_text(GOOD, "good.yaml")
    (ops,) = e.schedules
    primary, nights = ops.layers
    assert (primary.shift_length, primary.shift_unit) == (2, ShiftUnit.WEEKS)
    assert (primary.handoff, primary.handoff_day) == (time(9, 30), Weekday.TUE)
    assert primary.start == date(2026, 1, 1)
    assert (nights.shift_length, nights.shift_unit, nights.handoff) == (
        12,
        ShiftUnit.HOURS,
        time(20),
    )
    assert nights.restrictions == (Window(time(20), time(8), (Weekday.FRI, Weekday.SAT)),)
    # A time without an offset is local to the schedule's zone (07:00 CET is 06:00 UTC).
    (swap,) = ops.overrides
    assert (swap.start, swap.end, swap.note) == (
        datetime(2026, 3, 2, 6, tzinfo=UTC),
        datetime(2026, 3, 3, 7, tzinfo=UTC),
        "swap",
    )
    leave, sick = e.unavailability
    # Dates are whole days in the member's own zone, `to` included: Sydney is UTC+10 in July.
    assert (leave.start, leave.end) == (
        datetime(2026, 6, 30, 14, tzinfo=UTC),
        datetime(2026, 7, 14, 14, tzinfo=UTC),
    )
    assert leave.reason is AbsenceReason.LEAVE and leave.note == "summer"
    assert sick.start == datetime(2026, 7, 1, 13, tzinfo=UTC)  # 09:00 in New York (EDT)


BAD = (
    HEAD
    + """schedules:
  - id: ops
    name: Operations
    timezone: Europe/Berlim
    layers:
      - name: Primary
        members: []
        shift: 0 days
        start: 2026-01-01
      - name: Weekly
        members: [ana@example.com, eve@example.com]
        shift: 3 fortnights
        handoff: "9 o'clock"
        handoff_day: monday
        start: someday
        color: blue
    overrides:
      - {member: ana@example.com, from: 2026-03-02T07:00, to: 2026-03-04T07:00}
      - {member: bob@example.com, from: 2026-03-03T07:00, to: 2026-03-05T07:00}
      - {member: bob@example.com, from: 2026-03-09, to: 2026-03-10T07:00}
  - id: empty
    name: Empty
    timezone: UTC
    layers: []
unavailability:
  - {member: ana@example.com, from: 2026-07-14, to: 2026-07-01, reason: holiday}
  - {member: zed@example.com, from: 2026-07-01, to: 2026-07-02, reason: other}
"""
)


def test_every_problem_is_reported_at_its_line_and_column() -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(BAD, "bad.yaml")
    got = [(p.line, p.column, p.path, p.message) for p in caught.value.problems]
    expected_lines = {
        (8, 15, "schedules[0].timezone"),
        (11, 18, "schedules[0].layers[0].members"),
        (12, 16, "schedules[0].layers[0].shift"),
        (15, 36, "schedules[0].layers[1].members[1]"),
        (16, 16, "schedules[0].layers[1].shift"),
        (17, 18, "schedules[0].layers[1].handoff"),
        (18, 22, "schedules[0].layers[1].handoff_day"),
        (19, 16, "schedules[0].layers[1].start"),
        (20, 9, "schedules[0].layers[1].color"),
        (23, 9, "schedules[0].overrides[1]"),
        (24, 41, "schedules[0].overrides[2].from"),
        (28, 13, "schedules[1].layers"),
        (30, 53, "unavailability[0].to"),
        (30, 73, "unavailability[0].reason"),
        (31, 14, "unavailability[1].member"),
    }
    assert {(line, col, path) for line, col, path, _ in got} == expected_lines
    messages = {path: message for _, _, path, message in got}
    assert (
        messages["schedules[0].layers[0].members"] == "a layer needs at least one member to rotate"
    )
    assert (
        messages["schedules[0].layers[0].shift"] == "the shift length must be positive, got 0 days"
    )
    assert "did you mean 'mon'?" in messages["schedules[0].layers[1].handoff_day"]
    assert messages["schedules[0].overrides[1]"].startswith("overlaps overrides[0]")
    assert "give a time as well as the date" in messages["schedules[0].overrides[2].from"]
    assert "unknown field 'color'" in messages["schedules[0].layers[1].color"]
    assert str(caught.value.problems[0]).startswith("bad.yaml:8:15: schedules[0].timezone: ")


def _store_round(path: Path, text: str) -> str:
    with Store.open(path, FakeClock()) as store:
        import_estate(store, load_text(text), prune=False, source="test")
        return dump(stored.load(store.read()))


def test_export_import_export_through_the_store_is_byte_identical(tmp_path: Path) -> None:
    first = _store_round(tmp_path / "a.db", GOOD)
    second = _store_round(tmp_path / "b.db", first)
    assert second == first
    assert load_text(first).schedules == load_text(GOOD).schedules
    assert load_text(first).unavailability == load_text(GOOD).unavailability
    # Whole local days are written back as dates, other absences with their offsets.
    assert "    from: 2026-07-01\n    to: 2026-07-14\n" in first
    assert "from: '2026-07-01T09:00:00-04:00'" in first
    assert "shift: 2 weeks" in first and "shift: 12 hours" in first


def test_an_import_without_changes_plans_nothing(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db", FakeClock()) as store:
        declared = load_text(GOOD)
        assert import_estate(store, declared, prune=False, source="a")
        assert import_estate(store, declared, prune=True, source="b", dry_run=True) == []


def test_the_demo_has_a_follow_the_sun_noc_and_a_weekly_security_rotation() -> None:
    demo = demo_estate()
    by_key = {s.key: s for s in demo.schedules}
    assert set(by_key) == {"noc-follow-the-sun", "security"}
    noc = by_key["noc-follow-the-sun"]
    start = datetime(2026, 3, 23, tzinfo=UTC)
    assert gaps(noc, start, start + timedelta(days=30)) == []
    regions = {on_call(noc, start + timedelta(hours=h)).layer for h in (2, 10, 18)}
    assert regions == {"Asia-Pacific", "Europe", "Americas"}
    security = by_key["security"]
    assert all(layer.shift_unit is ShiftUnit.WEEKS for layer in security.layers)
    assert gaps(security, start, start + timedelta(days=30)) == []
