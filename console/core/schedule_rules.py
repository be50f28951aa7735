"""Rules schedules and absences must satisfy, reported as field-path problems.

Paths are index-based like the rest of validation (``schedules[1].layers[0].members``), so the
YAML loader and an editor can point at the exact field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from console.core.clock import isoformat
from console.core.errors import Problem
from console.core.schedules import Layer, Override, Schedule, Unavailability

# The same slug rule as console.core.validation (which imports this module, so it cannot be
# imported from there).
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_ZONES: frozenset[str] | None = None


def is_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows."""
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    if name in _ZONES:
        return True
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _when(moment: datetime) -> str:
    return isoformat(moment).replace(".000000", "")


def _layer_problems(layer: Layer, at: str) -> list[Problem]:
    out: list[Problem] = []
    if not layer.name.strip():
        out.append(Problem(f"{at}name", "must not be empty"))
    if not layer.members:
        out.append(Problem(f"{at}members", "a layer needs at least one member to rotate"))
    for i, member in enumerate(layer.members):
        if not member.strip():
            out.append(Problem(f"{at}members[{i}]", "must not be empty"))
    if layer.shift_length <= 0:
        out.append(
            Problem(
                f"{at}shift",
                f"the shift length must be positive, got {layer.shift_length} "
                f"{layer.shift_unit.value}",
            )
        )
    if layer.handoff_day is not None and layer.shift_unit.value != "weeks":
        out.append(
            Problem(
                f"{at}handoff_day",
                f"only weekly shifts have a handoff day, not {layer.shift_unit.value}",
            )
        )
    for i, window in enumerate(layer.restrictions):
        path = f"{at}restrictions[{i}]"
        if window.start == window.end:
            out.append(
                Problem(
                    path,
                    "the window is empty (from equals to); leave restrictions out to cover all day",
                )
            )
        if not window.days:
            out.append(Problem(f"{path}.days", "a window needs at least one day"))
    return out


def overlapping(overrides: Sequence[Override]) -> list[tuple[int, int]]:
    """Pairs (earlier, later) of indices of overrides that overlap, by start."""
    order = sorted(range(len(overrides)), key=lambda i: (overrides[i].start, overrides[i].end))
    out: list[tuple[int, int]] = []
    reach: int | None = None  # the index of the earlier override that ends last
    for i in order:
        current = overrides[i]
        if reach is not None and overrides[reach].end > current.start:
            out.append((reach, i))
        if reach is None or current.end > overrides[reach].end:
            reach = i
    return out


def override_problems(overrides: Sequence[Override], at: str = "") -> list[Problem]:
    """Empty or backwards overrides, and overlapping ones (reported at the later one)."""
    out: list[Problem] = []
    for i, o in enumerate(overrides):
        if o.end <= o.start:
            out.append(Problem(f"{at}overrides[{i}].to", "must be after the start (from)"))
        if not o.member.strip():
            out.append(Problem(f"{at}overrides[{i}].member", "must not be empty"))
    for first, later in overlapping(overrides):
        o = overrides[first]
        out.append(
            Problem(
                f"{at}overrides[{later}]",
                f"overlaps overrides[{first}] ({o.member} from {_when(o.start)} to "
                f"{_when(o.end)}); overrides of one schedule must not overlap",
            )
        )
    return out


def validate_schedule(schedule: Schedule, at: str = "") -> list[Problem]:
    """Problems with one schedule's own fields (member references need the estate)."""
    out: list[Problem] = []
    if not SLUG.match(schedule.key):
        out.append(
            Problem(
                f"{at}id", f"expected a slug (lowercase letters, digits, '-'), got {schedule.key!r}"
            )
        )
    if not schedule.name.strip():
        out.append(Problem(f"{at}name", "must not be empty"))
    if not is_zone(schedule.zone):
        out.append(
            Problem(
                f"{at}timezone",
                f"expected an IANA time zone (Europe/Berlin), got {schedule.zone!r}",
            )
        )
    if not schedule.layers:
        out.append(Problem(f"{at}layers", "a schedule needs at least one layer"))
    names: dict[str, int] = {}
    for i, layer in enumerate(schedule.layers):
        out += _layer_problems(layer, f"{at}layers[{i}].")
        if layer.name in names:
            out.append(
                Problem(
                    f"{at}layers[{i}].name",
                    f"duplicate layer name {layer.name!r} (also layers[{names[layer.name]}])",
                )
            )
        names.setdefault(layer.name, i)
    return out + override_problems(schedule.overrides, at)


def validate_unavailability(item: Unavailability, at: str = "") -> list[Problem]:
    """Problems with one absence's own fields."""
    if item.end <= item.start:
        return [Problem(f"{at}to", "must be after the start (from)")]
    return []


def _duplicates(section: str, keys: Iterable[str], field: str) -> list[Problem]:
    out: list[Problem] = []
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key in first:
            message = f"duplicate {field} {key!r} (also {section}[{first[key]}])"
            out.append(Problem(f"{section}[{i}].{field}", message))
        first.setdefault(key, i)
    return out


def _member_refs(schedule: Schedule, at: str, emails: set[str]) -> list[Problem]:
    out: list[Problem] = []
    for i, layer in enumerate(schedule.layers):
        out += [
            Problem(f"{at}layers[{i}].members[{j}]", f"unknown member {m!r}")
            for j, m in enumerate(layer.members)
            if m not in emails
        ]
    out += [
        Problem(f"{at}overrides[{j}].member", f"unknown member {o.member!r}")
        for j, o in enumerate(schedule.overrides)
        if o.member not in emails
    ]
    return out


def schedule_problems(
    schedules: Sequence[Schedule], absences: Sequence[Unavailability], emails: set[str]
) -> list[Problem]:
    """Every problem of an estate's schedules and absences, references to members included."""
    out: list[Problem] = []
    for i, schedule in enumerate(schedules):
        out += validate_schedule(schedule, f"schedules[{i}].")
        out += _member_refs(schedule, f"schedules[{i}].", emails)
    out += _duplicates("schedules", (s.key for s in schedules), "id")
    for i, item in enumerate(absences):
        out += validate_unavailability(item, f"unavailability[{i}].")
        if item.member not in emails:
            out.append(Problem(f"unavailability[{i}].member", f"unknown member {item.member!r}"))
    first: dict[str, int] = {}
    for i, item in enumerate(absences):
        j = first.setdefault(item.key, i)
        if j != i:
            message = f"{item.member} already has an absence from then (unavailability[{j}])"
            out.append(Problem(f"unavailability[{i}].from", message))
    return out


def schedule_referrers(
    schedules: Sequence[Schedule], absences: Sequence[Unavailability], email: str
) -> list[str]:
    """What still names a member: schedule layers and overrides, absences."""
    out: list[str] = []
    for s in schedules:
        if any(email in layer.members for layer in s.layers):
            out.append(f"schedule {s.key} (rotation)")
        elif any(o.member == email for o in s.overrides):
            out.append(f"schedule {s.key} (override)")
    count = sum(1 for u in absences if u.member == email)
    if count:
        out.append(f"{count} unavailability record(s)")
    return out
