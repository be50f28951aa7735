"""iCalendar: the export read back by the `icalendar` library, imports of what calendars write."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
from console.core.ical import CalendarInfo, calendar, fold, parse_overrides, shift_uid
from console.core.schedules import Layer, Override, Schedule, ShiftUnit, shifts
from console.core.silences import Weekday

BERLIN = ZoneInfo("Europe/Berlin")
PEOPLE = {
    "ana@example.com": "Ana Silva",
    "bob@example.com": "Bob Ødegård",
    "cat@example.com": "Cat; the, Admin",
}
NOW = datetime(2026, 3, 20, 8, 15, tzinfo=UTC)
SCHEDULE = Schedule(
    "security",
    "Security, weekly",
    "Europe/Berlin",
    (
        Layer(
            "Primary",
            tuple(PEOPLE),
            1,
            ShiftUnit.WEEKS,
            date(2026, 1, 5),
            time(9),
            Weekday.MON,
        ),
    ),
    (
        Override(
            "cat@example.com",
            datetime(2026, 3, 24, 8, tzinfo=UTC),
            datetime(2026, 3, 25, 8, tzinfo=UTC),
        ),
    ),
)


def exported(start: datetime, days: int = 28) -> tuple[str, list[object]]:
    found = shifts(SCHEDULE, start, start + timedelta(days=days), whole=True)
    text = calendar(
        found, CalendarInfo("Security on call", PEOPLE, {"security": SCHEDULE.name}), NOW
    )
    return text, list(found)


def test_the_export_is_a_calendar_the_icalendar_library_reads_event_by_event() -> None:
    text, found = exported(datetime(2026, 3, 18, tzinfo=UTC))
    parsed = icalendar.Calendar.from_ical(text)
    assert str(parsed["VERSION"]) == "2.0" and "oncall-console" in str(parsed["PRODID"])
    events = list(parsed.walk("VEVENT"))
    assert len(events) == len(found) >= 5
    for event, shift in zip(events, found, strict=True):
        assert event.decoded("DTSTART") == shift.start  # type: ignore[attr-defined]
        assert event.decoded("DTEND") == shift.end  # type: ignore[attr-defined]
        assert event.decoded("DTSTAMP") == NOW
        assert str(event["UID"]) == shift_uid(shift)  # type: ignore[arg-type]
        assert str(event["ATTENDEE"]) == f"mailto:{shift.member}"  # type: ignore[attr-defined]
        name = PEOPLE[shift.member]  # type: ignore[attr-defined]
        assert str(event["SUMMARY"]) == f"On call: {name} (Security, weekly)"
        assert event["ATTENDEE"].params["CN"] == name
    # The override splits a weekly shift: the week before it, the override, the rest of the week.
    starts = [e.decoded("DTSTART") for e in events]
    assert datetime(2026, 3, 24, 8, tzinfo=UTC) in starts
    assert datetime(2026, 3, 23, 8, tzinfo=UTC) in starts  # 09:00 CET on a Monday


def test_lines_end_in_crlf_and_fold_at_75_octets_without_splitting_characters() -> None:
    text, _ = exported(datetime(2026, 3, 18, tzinfo=UTC))
    assert text.endswith("END:VCALENDAR\r\n") and "\n" not in text.replace("\r\n", "")
    assert max(len(line.encode()) for line in text.split("\r\n")) <= 75
    long = "SUMMARY:" + "ø" * 100
    folded = fold(long)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == long


def test_uids_are_stable_whatever_range_is_exported() -> None:
    first, _ = exported(datetime(2026, 3, 18, tzinfo=UTC), days=28)
    later, _ = exported(datetime(2026, 3, 19, 13, tzinfo=UTC), days=10)

    def uids(text: str) -> dict[str, object]:
        return {
            str(e["UID"]): e.decoded("DTSTART")
            for e in icalendar.Calendar.from_ical(text).walk("VEVENT")
        }

    shared = set(uids(first)) & set(uids(later))
    assert len(shared) == len(uids(later)) >= 3
    assert all(uids(first)[u] == uids(later)[u] for u in shared)


GOOGLE = """BEGIN:VCALENDAR\r
PRODID:-//Google Inc//Google Calendar 70.9054//EN\r
VERSION:2.0\r
BEGIN:VTIMEZONE\r
TZID:Europe/Berlin\r
BEGIN:STANDARD\r
DTSTART:19701025T030000\r
TZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r
END:STANDARD\r
END:VTIMEZONE\r
BEGIN:VEVENT\r
DTSTART;TZID=Europe/Berlin:20260328T180000\r
DTEND;TZID=Europe/Berlin:20260329T180000\r
UID:swap-1@google.com\r
SUMMARY:On call: Bob Ødegård\r
BEGIN:VALARM\r
ACTION:DISPLAY\r
DESCRIPTION:This is an event reminder\r
TRIGGER:-P0DT0H30M0S\r
END:VALARM\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART:20260401T070000Z\r
DURATION:PT12H\r
UID:swap-2@example.com\r
ATTENDEE;CN="Someone, else";RSVP=TRUE:mailto:ANA@example.com\r
SUMMARY:cover for the conference, see the long note that folds over a line \r
 and goes on\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART;VALUE=DATE:20260405\r
DTEND;VALUE=DATE:20260406\r
SUMMARY:cat@example.com\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART:20260410T090000\r
DTEND:20260410T170000\r
SUMMARY:Cat\\; the\\, Admin\r
STATUS:CONFIRMED\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART:20260411T090000Z\r
DTEND:20260411T100000Z\r
SUMMARY:Ana Silva\r
STATUS:CANCELLED\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_events_from_a_calendar_program_become_overrides() -> None:
    found = parse_overrides(GOOGLE, PEOPLE, "Europe/Berlin")
    assert found.problems == () and found.skipped == 1
    got = [(o.member, o.start, o.end) for o in found.overrides]
    assert got == [
        # Across the spring change: 18:00 CET to 18:00 CEST is 23 hours.
        (
            "bob@example.com",
            datetime(2026, 3, 28, 17, tzinfo=UTC),
            datetime(2026, 3, 29, 16, tzinfo=UTC),
        ),
        (
            "ana@example.com",
            datetime(2026, 4, 1, 7, tzinfo=UTC),
            datetime(2026, 4, 1, 19, tzinfo=UTC),
        ),
        # An all-day date and a floating time are local to the schedule's zone.
        (
            "cat@example.com",
            datetime(2026, 4, 4, 22, tzinfo=UTC),
            datetime(2026, 4, 5, 22, tzinfo=UTC),
        ),
        (
            "cat@example.com",
            datetime(2026, 4, 10, 7, tzinfo=UTC),
            datetime(2026, 4, 10, 15, tzinfo=UTC),
        ),
    ]
    assert found.overrides[1].note is not None and found.overrides[1].note.endswith("and goes on")


def test_our_own_export_imports_back_as_the_same_stretches() -> None:
    text, exported_shifts = exported(datetime(2026, 3, 18, tzinfo=UTC))
    back = parse_overrides(text, PEOPLE, "UTC")
    assert back.problems == ()
    assert [(o.member, o.start, o.end) for o in back.overrides] == [
        (s.member, s.start, s.end)
        for s in exported_shifts  # type: ignore[attr-defined]
    ]


def test_events_that_cannot_be_used_are_each_reported_with_their_line() -> None:
    bad = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "BEGIN:VEVENT",
            "DTSTART:20260401T070000Z",
            "DTEND:20260401T080000Z",
            "SUMMARY:Somebody Unknown",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "DTSTART;TZID=W. Europe Standard Time:20260401T070000",
            "DTEND;TZID=W. Europe Standard Time:20260401T080000",
            "SUMMARY:Ana Silva",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "DTSTART:20260401T070000Z",
            "DTEND:20260401T060000Z",
            "SUMMARY:Ana Silva",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "DTSTART:20260401T070000Z",
            "DURATION:PT1H",
            "RRULE:FREQ=WEEKLY",
            "SUMMARY:Ana Silva",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "SUMMARY:Ana Silva",
            "END:VEVENT",
            "END:VCALENDAR",
        ]
    )
    found = parse_overrides(bad, PEOPLE, "Europe/Berlin")
    assert found.overrides == ()
    assert [(p.path, p.message) for p in found.problems] == [
        ("VEVENT 1 (line 3)", "names no known member ('Somebody Unknown')"),
        ("VEVENT 2 (line 8)", "unknown time zone 'W. Europe Standard Time'"),
        ("VEVENT 3 (line 13)", "ends before it starts"),
        (
            "VEVENT 4 (line 18)",
            "repeating events (RRULE) are not supported; export the single occurrences",
        ),
        ("VEVENT 5 (line 24)", "has no DTSTART"),
    ]
    assert (
        parse_overrides("hello", PEOPLE, "UTC").problems[0].message.startswith("not an iCalendar")
    )
