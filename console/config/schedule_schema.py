"""The ``schedules`` and ``unavailability`` sections: reading them, and writing them canonically.

    schedules:
      - id: noc
        name: NOC follow the sun
        timezone: Europe/Lisbon
        layers:                      # the first layer wins; later ones are fallbacks
          - name: Lisbon
            members: [ana.silva@example.com, beatriz.costa@example.com]
            shift: 1 week            # N hours, days or weeks
            handoff: "07:00"         # local time of day in the schedule's zone
            handoff_day: mon         # weekly shifts only
            start: 2026-01-05        # the rotation's first local date
            restrictions:            # optional: the local hours this layer covers
              - {from: "07:00", to: "15:00", days: [mon, tue, wed, thu, fri]}
        overrides:
          - {member: ..., from: 2026-03-02T07:00, to: 2026-03-03T07:00, note: swap}
    unavailability:
      - {member: ..., from: 2026-07-01, to: 2026-07-14, reason: leave}

Times without an offset are local: an override's in the schedule's zone, an absence's in the
member's. An absence given as dates covers whole local days, ``to`` included. As in the rest of
the schema, a broken value becomes a placeholder (its path marked broken) so that every problem
in the file is reported at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from yaml.nodes import Node, ScalarNode

from console.config.nodes import INT_TAG, STR_TAG, Entry, Reader, child, describe
from console.core.models import Member
from console.core.schedule_codec import time_text
from console.core.schedule_rules import is_zone
from console.core.schedules import (
    ALL_DAYS,
    AbsenceReason,
    Layer,
    Override,
    Schedule,
    ShiftUnit,
    Unavailability,
    Window,
)
from console.core.silences import Weekday

Doc = dict[str, Any]
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_SHIFT = re.compile(r"^\s*(-?\d+)\s*([a-z]+)\s*$")
_UNITS = {
    "h": ShiftUnit.HOURS,
    "hour": ShiftUnit.HOURS,
    "hours": ShiftUnit.HOURS,
    "d": ShiftUnit.DAYS,
    "day": ShiftUnit.DAYS,
    "days": ShiftUnit.DAYS,
    "w": ShiftUnit.WEEKS,
    "week": ShiftUnit.WEEKS,
    "weeks": ShiftUnit.WEEKS,
}
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _text(r: Reader, node: Node, path: str, expected: str) -> str | None:
    """The raw text of a scalar YAML may have typed (07:00 is a number, 2026-01-05 a date)."""
    if isinstance(node, ScalarNode) and node.tag in (STR_TAG, INT_TAG, _TIMESTAMP_TAG):
        return str(node.value).strip()
    r.fail(node, path, f"expected {expected}, got {describe(node)}")
    return None


def _time(r: Reader, e: Entry, name: str, default: time | None = None) -> time | None:
    node, path = e.node(name), child(e.path, name)
    if node is None:
        return default
    text = _text(r, node, path, "a local time of day like '09:00'")
    match = None if text is None else _TIME.match(text)
    if match is None:
        if text is not None:
            r.fail(node, path, f"expected a local time of day like '09:00', got {text!r}")
        return default
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def _date(r: Reader, e: Entry, name: str) -> date | None:
    node, path = e.node(name), child(e.path, name)
    if node is None:
        return None
    text = _text(r, node, path, "a date like 2026-01-05")
    try:
        return None if text is None else date.fromisoformat(text)
    except ValueError:
        r.fail(node, path, f"expected a date like 2026-01-05, got {text!r}")
        return None


def _shift(r: Reader, e: Entry) -> tuple[int, ShiftUnit] | None:
    node, path = e.node("shift"), child(e.path, "shift")
    if node is None:
        return None
    expected = "a shift length like '12 hours', '1 day' or '2 weeks'"
    text = _text(r, node, path, expected)
    match = None if text is None else _SHIFT.match(text.lower())
    unit = None if match is None else _UNITS.get(match[2])
    if match is None or unit is None:
        if text is not None:
            r.fail(node, path, f"expected {expected}, got {text!r}")
        return None
    return int(match[1]), unit


def _days(r: Reader, e: Entry) -> tuple[Weekday, ...]:
    node = e.node("days")
    if node is None:
        return ALL_DAYS
    path = child(e.path, "days")
    items = r.sequence(node, path, "weekdays (mon, tue...)")
    days = [r.choice(item, f"{path}[{i}]", Weekday, "weekday") for i, item in enumerate(items)]
    return tuple(d for d in days if d is not None)


def _window(r: Reader, node: Node, path: str) -> Window:
    e = r.entry(node, path, "a restriction window", ("from", "to"), ("days",))
    if e is None:
        return Window(time(0), time(12))
    start, end = _time(r, e, "from"), _time(r, e, "to")
    if start is None or end is None:
        r.broken.add(path)
        return Window(time(0), time(12))
    return Window(start, end, _days(r, e))


def _layer(r: Reader, node: Node, path: str) -> Layer:
    e = r.entry(
        node,
        path,
        "a schedule layer",
        ("name", "members", "shift", "start"),
        ("handoff", "handoff_day", "restrictions"),
    )
    if e is None:
        return Layer(r.placeholder(path), ("-",), 1, ShiftUnit.DAYS, date(2000, 1, 1))
    shift = _shift(r, e) or (1, ShiftUnit.DAYS)
    return Layer(
        name=e.text("name"),
        members=e.texts("members", "member emails"),
        shift_length=shift[0],
        shift_unit=shift[1],
        start=_date(r, e, "start") or date(2000, 1, 1),
        handoff=_time(r, e, "handoff", time(9, 0)) or time(9, 0),
        handoff_day=e.choice("handoff_day", Weekday, "weekday"),
        restrictions=tuple(_window(r, n, p) for p, n in e.items("restrictions", "windows")),
    )


def _moment(
    r: Reader, e: Entry, name: str, zone: ZoneInfo, *, dates: bool, end: bool = False
) -> datetime | None:
    """An instant: ISO 8601 text, local to ``zone`` without an offset; whole days if allowed."""
    node, path = e.node(name), child(e.path, name)
    if node is None:
        return None
    example = "2026-03-02T07:00:00+01:00" + (" or a date" if dates else "")
    text = _text(r, node, path, f"a date and time like {example}")
    if text is None:
        return None
    if _DATE.match(text) and not dates:
        r.fail(node, path, f"give a time as well as the date, like {text}T09:00")
        return None
    try:
        if _DATE.match(text):
            day = date.fromisoformat(text) + timedelta(days=1 if end else 0)
            return datetime.combine(day, time(), tzinfo=zone)
        moment = datetime.fromisoformat(text)
    except ValueError:
        r.fail(node, path, f"expected a date and time like {example}, got {text!r}")
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _zone(name: str | None) -> ZoneInfo:
    # An unknown zone is reported by validation; meanwhile UTC keeps the reading going.
    return ZoneInfo(name) if name and is_zone(name) else ZoneInfo("UTC")


def _override(r: Reader, node: Node, path: str, zone: ZoneInfo) -> Override:
    e = r.entry(node, path, "an override", ("member", "from", "to"), ("note",))
    if e is None:
        return Override(r.placeholder(path), _EPOCH, _EPOCH + timedelta(seconds=1))
    start = _moment(r, e, "from", zone, dates=False)
    end = _moment(r, e, "to", zone, dates=False)
    if start is None or end is None:
        r.broken.add(path)  # its other problems (backwards, overlapping) are not real ones
        start, end = _EPOCH, _EPOCH + timedelta(seconds=1)
    return Override(e.text("member"), start, end, e.optional_text("note") or None)


def read_schedule(r: Reader, node: Node, path: str) -> Schedule:
    """One item of ``schedules`` (a placeholder schedule when it is not a mapping)."""
    e = r.entry(node, path, "a schedule", ("id", "name", "timezone", "layers"), ("overrides",))
    if e is None:
        return Schedule(r.placeholder(path), "-", "UTC", ())
    zone = e.text("timezone")
    local = _zone(zone)
    return Schedule(
        key=e.text("id"),
        name=e.text("name"),
        zone=zone,
        layers=tuple(_layer(r, n, p) for p, n in e.items("layers", "layers")),
        overrides=tuple(_override(r, n, p, local) for p, n in e.items("overrides", "overrides")),
    )


def _absence(r: Reader, node: Node, path: str, zones: dict[str, str]) -> Unavailability:
    e = r.entry(node, path, "an absence", ("member", "from", "to", "reason"), ("note",))
    if e is None:
        return Unavailability(
            r.placeholder(path), _EPOCH, _EPOCH + timedelta(1), AbsenceReason.OTHER
        )
    member = e.text("member")
    zone = _zone(zones.get(member))
    start = _moment(r, e, "from", zone, dates=True)
    end = _moment(r, e, "to", zone, dates=True, end=True)
    if start is None or end is None:
        r.broken.add(path)
        start, end = _EPOCH, _EPOCH + timedelta(days=1)
    reason = e.choice("reason", AbsenceReason, "reason") or AbsenceReason.OTHER
    return Unavailability(member, start, end, reason, e.optional_text("note") or None)


def read_unavailability(
    r: Reader, node: Node | None, members: Sequence[Member]
) -> tuple[Unavailability, ...]:
    """The ``unavailability`` section; dates are read in each member's own time zone."""
    if node is None:
        return ()
    zones = {m.email: m.timezone for m in members}
    items = r.sequence(node, "unavailability", "absences")
    return tuple(_absence(r, item, f"unavailability[{i}]", zones) for i, item in enumerate(items))


# -- writing -------------------------------------------------------------------------------


def shift_text(length: int, unit: ShiftUnit) -> str:
    """``1 week``, ``12 hours``."""
    word = unit.value if length != 1 else unit.value.removesuffix("s")
    return f"{length} {word}"


def _local_text(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat()


def _window_doc(w: Window) -> Doc:
    doc: Doc = {"from": time_text(w.start), "to": time_text(w.end)}
    if w.days != ALL_DAYS:
        doc["days"] = [d.value for d in w.days]
    return doc


def _layer_doc(layer: Layer) -> Doc:
    doc: Doc = {
        "name": layer.name,
        "members": list(layer.members),
        "shift": shift_text(layer.shift_length, layer.shift_unit),
        "handoff": time_text(layer.handoff),
    }
    if layer.handoff_day is not None:
        doc["handoff_day"] = layer.handoff_day.value
    doc["start"] = layer.start
    if layer.restrictions:
        doc["restrictions"] = [_window_doc(w) for w in layer.restrictions]
    return doc


def schedule_doc(s: Schedule) -> Doc:
    """A schedule as the file writes it; overrides by start, in the schedule's zone."""
    zone = _zone(s.zone)
    doc: Doc = {
        "id": s.key,
        "name": s.name,
        "timezone": s.zone,
        "layers": [_layer_doc(layer) for layer in s.layers],
    }
    overrides = []
    for o in s.sorted_overrides():
        item = {"member": o.member, "from": _local_text(o.start, zone)}
        item["to"] = _local_text(o.end, zone)
        overrides.append(item | ({"note": o.note} if o.note else {}))
    if overrides:
        doc["overrides"] = overrides
    return doc


def _midnight(moment: datetime, zone: ZoneInfo) -> date | None:
    local = moment.astimezone(zone)
    at_midnight = datetime.combine(local.date(), time(), tzinfo=zone)
    return local.date() if at_midnight == moment else None


def absence_doc(u: Unavailability, zones: dict[str, str]) -> Doc:
    """An absence as the file writes it: whole local days as dates (``to`` included)."""
    zone = _zone(zones.get(u.member))
    first, after = _midnight(u.start, zone), _midnight(u.end, zone)
    doc: Doc = {"member": u.member}
    if first is not None and after is not None:
        doc |= {"from": first, "to": after - timedelta(days=1)}
    else:
        doc |= {"from": _local_text(u.start, zone), "to": _local_text(u.end, zone)}
    doc["reason"] = u.reason.value
    return doc | ({"note": u.note} if u.note else {})


def schedule_sections(
    schedules: Sequence[Schedule], absences: Sequence[Unavailability], members: Sequence[Member]
) -> Doc:
    """The two sections for a canonical file (nothing for what is empty), in key order."""
    zones = {m.email: m.timezone for m in members}
    doc: Doc = {}
    if schedules:
        doc["schedules"] = [schedule_doc(s) for s in sorted(schedules, key=lambda s: s.key)]
    if absences:
        ordered = sorted(absences, key=lambda u: u.key)
        doc["unavailability"] = [absence_doc(u, zones) for u in ordered]
    return doc
