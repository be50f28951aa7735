"""iCalendar (RFC 5545): shifts out as VEVENTs, overrides in from VEVENTs.

Written by hand, no library: the subset needed is small. Times are written in UTC (``...Z``),
so no VTIMEZONE is needed (a TZID would require one per zone); calendar clients show them in
the reader's own zone. Every shift's UID is derived from the schedule, the shift and its start,
so exporting the same shift again gives the same UID (a calendar updates it, never doubles it).

Reading accepts what calendar programs write: folded lines, parameters, UTC, floating (local to
the schedule's zone) and TZID times with IANA names, all-day dates, DURATION instead of DTEND.
Each VEVENT becomes an override; its member is named by an ATTENDEE's address or by SUMMARY (an
email or a member's name, optionally after "On call:").
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from console.core.errors import Problem
from console.core.schedules import Override, Shift, zone_of

PRODID = "-//oncall-console//on-call schedules//EN"
UID_DOMAIN = "oncall-console"
_LINE_OCTETS = 75


# -- writing -------------------------------------------------------------------------------


def escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11): backslash, semicolon, comma, newline."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line at 75 octets, never inside a UTF-8 character (RFC 5545 3.1)."""
    out: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > _LINE_OCTETS:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def stamp(moment: datetime) -> str:
    """A UTC DATE-TIME value: ``20260302T070000Z``."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def shift_uid(shift: Shift) -> str:
    """The shift's UID: the same schedule, source, member and start give the same UID."""
    raw = f"{shift.schedule}|{shift.shift_id}|{shift.member}|{stamp(shift.start)}"
    return f"{shift.schedule}-{hashlib.sha256(raw.encode()).hexdigest()[:20]}@{UID_DOMAIN}"


@dataclass(frozen=True, slots=True)
class CalendarInfo:
    """What an export says about itself and the people in it."""

    name: str
    #: Display names by email (ATTENDEE's CN, the SUMMARY); unknown emails show as themselves.
    names: Mapping[str, str] = field(default_factory=dict)
    #: Schedule names by key, for the SUMMARY and DESCRIPTION.
    schedules: Mapping[str, str] = field(default_factory=dict)


def _event(shift: Shift, info: CalendarInfo, now: datetime) -> list[str]:
    who = info.names.get(shift.member, shift.member)
    schedule = info.schedules.get(shift.schedule, shift.schedule)
    source = "override" if shift.layer is None else f"layer {shift.layer}"
    cn = who.replace('"', "'")
    return [
        "BEGIN:VEVENT",
        f"UID:{shift_uid(shift)}",
        f"DTSTAMP:{stamp(now)}",
        f"DTSTART:{stamp(shift.start)}",
        f"DTEND:{stamp(shift.end)}",
        f"SUMMARY:{escape(f'On call: {who} ({schedule})')}",
        f"DESCRIPTION:{escape(f'{who} <{shift.member}> is on call for {schedule} ({source}).')}",
        f'ATTENDEE;CN="{cn}";ROLE=REQ-PARTICIPANT:mailto:{shift.member}',
        "CATEGORIES:ON-CALL",
        "TRANSP:OPAQUE",
        "END:VEVENT",
    ]


def calendar(shifts: Iterable[Shift], info: CalendarInfo, now: datetime) -> str:
    """An RFC 5545 calendar with one VEVENT per shift (CRLF line ends, folded lines).

    Args:
        shifts: The stretches to publish (``schedules.shifts(..., whole=True)``).
        info: The calendar's name and display names.
        now: The DTSTAMP of every event (an injected clock's now).
    """
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(info.name)}",
    ]
    for shift in shifts:
        lines += _event(shift, info, now)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


# -- reading -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Property:
    """One content line: name, parameters (upper-cased names) and raw value."""

    name: str
    params: Mapping[str, str]
    value: str
    line: int


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import found: the overrides and, for events it could not use, why."""

    overrides: tuple[Override, ...]
    problems: tuple[Problem, ...]
    skipped: int = 0


_PARAM = re.compile(r';([A-Za-z0-9-]+)=("[^"]*"|[^";:,]*(?:,(?:"[^"]*"|[^";:,]*))*)')
_NAME = re.compile(r"^[A-Za-z0-9-]+")
_DURATION = re.compile(r"^([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def unfold(text: str) -> list[tuple[int, str]]:
    """Content lines with the number of the physical line each starts on (RFC 5545 3.1)."""
    out: list[tuple[int, str]] = []
    for number, raw in enumerate(re.split(r"\r\n|\n|\r", text), start=1):
        if raw[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + raw[1:])
        elif raw:
            out.append((number, raw))
    return out


def parse_line(number: int, line: str) -> Property | None:
    """Split ``NAME;PARAM=value:VALUE``; None when the line is not a content line."""
    match = _NAME.match(line)
    if match is None:
        return None
    rest, params = line[match.end() :], {}
    while rest.startswith(";"):
        param = _PARAM.match(rest)
        if param is None:
            return None
        params[param[1].upper()] = param[2].strip('"')
        rest = rest[param.end() :]
    if not rest.startswith(":"):
        return None
    return Property(match[0].upper(), params, rest[1:], number)


def unescape(value: str) -> str:
    """Inverse of :func:`escape`."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def events(text: str) -> list[list[Property]]:
    """The properties of each VEVENT, its BEGIN line first (nested VALARMs left out)."""
    out: list[list[Property]] = []
    open_: list[str] = []
    current: list[Property] | None = None
    level = 0
    for number, line in unfold(text):
        prop = parse_line(number, line)
        if prop is None:
            continue
        if prop.name == "BEGIN":
            open_.append(prop.value.upper())
            if current is None and open_[-1] == "VEVENT":
                current, level = [prop], len(open_)
        elif prop.name == "END":
            if current is not None and len(open_) == level and prop.value.upper() == "VEVENT":
                out.append(current)
                current = None
            if open_:
                open_.pop()
        elif current is not None and len(open_) == level:
            current.append(prop)
    return out


def _moment(prop: Property, default_zone: ZoneInfo) -> datetime:
    """A DTSTART/DTEND value as an instant. Raises ValueError when it cannot be read."""
    value = prop.value.strip()
    if prop.params.get("VALUE", "").upper() == "DATE" or re.fullmatch(r"\d{8}", value):
        return datetime.combine(
            date(int(value[:4]), int(value[4:6]), int(value[6:8])), time(), tzinfo=default_zone
        )
    match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)", value)
    if match is None:
        raise ValueError(f"cannot read the time {value!r}")
    year, month, day, hour, minute, second = (int(p) for p in match.groups()[:6])
    if match[7]:
        zone: ZoneInfo = ZoneInfo("UTC")
    elif "TZID" in prop.params:
        zone = zone_of(prop.params["TZID"].lstrip("/"))
    else:
        zone = default_zone
    return datetime(year, month, day, hour, minute, second, tzinfo=zone)


def _duration(value: str) -> timedelta:
    match = _DURATION.match(value.strip().upper())
    if match is None or value.strip().upper() in ("P", "PT"):
        raise ValueError(f"cannot read the duration {value!r}")
    weeks, days, hours, minutes, seconds = (int(g or 0) for g in match.groups()[1:])
    span = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    return -span if match[1] == "-" else span


def _member(props: dict[str, Property], people: Mapping[str, str]) -> str | None:
    """The member an event names: an ATTENDEE address, else SUMMARY (email or name)."""
    by_name = {name.casefold(): email for email, name in people.items()}
    attendee = props.get("ATTENDEE")
    if attendee is not None:
        address = attendee.value.strip()
        address = address[7:] if address.lower().startswith("mailto:") else address
        if address.lower() in {e.lower() for e in people}:
            return next(e for e in people if e.lower() == address.lower())
    summary = props.get("SUMMARY")
    if summary is None:
        return None
    text = unescape(summary.value).strip()
    text = re.sub(r"^on[ -]?call\s*:\s*", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s*\(.*\)\s*$", "", text).strip()
    for email in people:
        if email.lower() == text.lower():
            return email
    return by_name.get(text.casefold())


def _override(
    props: dict[str, Property], people: Mapping[str, str], zone: ZoneInfo
) -> Override | str:
    """The override an event declares, or what is wrong with it."""
    if "RRULE" in props or "RDATE" in props:
        return "repeating events (RRULE) are not supported; export the single occurrences"
    member = _member(props, people)
    if member is None:
        named = props.get("SUMMARY") or props.get("ATTENDEE")
        what = "no ATTENDEE or SUMMARY" if named is None else repr(unescape(named.value))
        return f"names no known member ({what})"
    if "DTSTART" not in props:
        return "has no DTSTART"
    try:
        start = _moment(props["DTSTART"], zone)
        if "DTEND" in props:
            end = _moment(props["DTEND"], zone)
        elif "DURATION" in props:
            end = start + _duration(props["DURATION"].value)
        else:
            return "has neither DTEND nor DURATION"
    except ValueError as exc:
        return str(exc)
    if end <= start:
        return "ends before it starts"
    note = props.get("SUMMARY")
    return Override(member, start, end, None if note is None else unescape(note.value)[:200])


def parse_overrides(text: str, people: Mapping[str, str], zone: str) -> Imported:
    """Every VEVENT of an iCalendar text as an override.

    Args:
        text: The .ics content.
        people: Display names by email: the members an event may name.
        zone: The schedule's zone, for floating times and all-day dates.

    Returns:
        The overrides in file order, the problems (``VEVENT 2 (line 14)``) of events that
        could not be used, and how many cancelled events were skipped.
    """
    local = zone_of(zone)
    found: list[Override] = []
    problems: list[Problem] = []
    skipped = 0
    if "BEGIN:VCALENDAR" not in text.upper():
        return Imported((), (Problem("", "not an iCalendar file (no BEGIN:VCALENDAR)"),))
    for i, event in enumerate(events(text), start=1):
        props = {p.name: p for p in event}
        if props.get("STATUS") is not None and props["STATUS"].value.upper() == "CANCELLED":
            skipped += 1
            continue
        result = _override(props, people, local)
        if isinstance(result, str):
            problems.append(Problem(f"VEVENT {i} (line {event[0].line})", result))
        else:
            found.append(result)
    return Imported(tuple(found), tuple(problems), skipped)
