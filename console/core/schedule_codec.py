"""Schedules and absences <-> plain JSON-able dicts: event payloads and stored rows.

Instants are written as fixed-width UTC text, local dates and times of day in ISO form;
overrides in their canonical order (by start), so equal schedules encode equal.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from console.core.clock import isoformat, parse_iso
from console.core.schedules import (
    AbsenceReason,
    Layer,
    Override,
    Schedule,
    ShiftUnit,
    Unavailability,
    Window,
)
from console.core.silences import Weekday

JSON = dict[str, Any]


def time_text(value: time) -> str:
    """``09:00``, or ``09:00:30`` when there are seconds."""
    return value.isoformat(timespec="seconds" if value.second else "minutes")


def window_to_dict(w: Window) -> JSON:
    """Encode a restriction window."""
    return {"from": time_text(w.start), "to": time_text(w.end), "days": [d.value for d in w.days]}


def window_from_dict(d: JSON) -> Window:
    """Decode a restriction window."""
    return Window(
        time.fromisoformat(d["from"]),
        time.fromisoformat(d["to"]),
        tuple(Weekday(v) for v in d["days"]),
    )


def layer_to_dict(layer: Layer) -> JSON:
    """Encode a layer."""
    return {
        "name": layer.name,
        "members": list(layer.members),
        "shift_length": layer.shift_length,
        "shift_unit": layer.shift_unit.value,
        "start": layer.start.isoformat(),
        "handoff": time_text(layer.handoff),
        "handoff_day": None if layer.handoff_day is None else layer.handoff_day.value,
        "restrictions": [window_to_dict(w) for w in layer.restrictions],
    }


def layer_from_dict(d: JSON) -> Layer:
    """Decode a layer."""
    day = d.get("handoff_day")
    return Layer(
        name=d["name"],
        members=tuple(d["members"]),
        shift_length=int(d["shift_length"]),
        shift_unit=ShiftUnit(d["shift_unit"]),
        start=date.fromisoformat(d["start"]),
        handoff=time.fromisoformat(d["handoff"]),
        handoff_day=None if day is None else Weekday(day),
        restrictions=tuple(window_from_dict(w) for w in d.get("restrictions") or ()),
    )


def override_to_dict(o: Override) -> JSON:
    """Encode an override."""
    return {
        "member": o.member,
        "start": isoformat(o.start),
        "end": isoformat(o.end),
        "note": o.note,
    }


def override_from_dict(d: JSON) -> Override:
    """Decode an override."""
    return Override(d["member"], parse_iso(d["start"]), parse_iso(d["end"]), d.get("note"))


def schedule_to_dict(s: Schedule) -> JSON:
    """Encode a schedule with its overrides (in canonical order)."""
    return {
        "id": s.key,
        "name": s.name,
        "timezone": s.zone,
        "layers": [layer_to_dict(layer) for layer in s.layers],
        "overrides": [override_to_dict(o) for o in s.sorted_overrides()],
    }


def schedule_from_dict(d: JSON) -> Schedule:
    """Decode a schedule."""
    return Schedule(
        key=d["id"],
        name=d["name"],
        zone=d["timezone"],
        layers=tuple(layer_from_dict(x) for x in d["layers"]),
        overrides=tuple(override_from_dict(x) for x in d.get("overrides") or ()),
    )


def unavailability_to_dict(u: Unavailability) -> JSON:
    """Encode an absence."""
    return {
        "member": u.member,
        "start": isoformat(u.start),
        "end": isoformat(u.end),
        "reason": u.reason.value,
        "note": u.note,
    }


def unavailability_from_dict(d: JSON) -> Unavailability:
    """Decode an absence."""
    return Unavailability(
        d["member"],
        parse_iso(d["start"]),
        parse_iso(d["end"]),
        AbsenceReason(d["reason"]),
        d.get("note"),
    )
