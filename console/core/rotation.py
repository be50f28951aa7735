"""Rotation arithmetic: where a layer's handoffs fall, and spans looked up by instant.

A rotation hands over at a local wall-clock time: handoff ``k`` is the local time
``epoch + k * shift`` turned into an instant in the schedule's zone, computed directly (no walk
over earlier shifts), so asking about any instant costs the same. See console.core.schedules
for what the handoffs mean across daylight-saving changes.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from console.core.silences import Weekday

if TYPE_CHECKING:  # the records import this module: their names for annotations only
    from console.core.schedules import Layer, Unavailability

ALL_DAYS: tuple[Weekday, ...] = tuple(Weekday)


class ShiftUnit(Enum):
    """What a rotation's shift length counts."""

    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"


class Spans:
    """Spans sorted by start, for "which span holds this instant" in O(log n) when disjoint."""

    def __init__(self, spans: Iterable[tuple[datetime, datetime]]) -> None:
        ordered = sorted(spans)
        self.starts = [s for s, _ in ordered]
        self.ends = [e for _, e in ordered]
        # reach[i]: the latest end among spans 0..i; once it is past, so are all spans before.
        self.reach: list[datetime] = []
        for e in self.ends:
            self.reach.append(e if not self.reach else max(self.reach[-1], e))

    def find(self, at: datetime) -> int | None:
        """The index of the latest-starting span holding ``at``, if any."""
        i = bisect_right(self.starts, at) - 1
        while i >= 0 and self.reach[i] > at:
            if self.ends[i] > at:
                return i
            i -= 1
        return None


# -- absences ------------------------------------------------------------------------------


class Absences:
    """Unavailability indexed by member for lookups by instant (build once, query often)."""

    def __init__(self, items: Iterable[Unavailability] = ()) -> None:
        """Index ``items``; overlapping absences of one member are fine."""
        by_member: dict[str, list[Unavailability]] = defaultdict(list)
        for item in items:
            by_member[item.member].append(item)
        self._items: dict[str, list[Unavailability]] = {}
        self._spans: dict[str, Spans] = {}
        for member, found in by_member.items():
            found.sort(key=lambda u: (u.start, u.end))
            self._items[member] = found
            self._spans[member] = Spans((u.start, u.end) for u in found)

    @classmethod
    def of(cls, items: Iterable[Unavailability] | Absences) -> Absences:
        """``items`` itself when already indexed, else a new index of them."""
        return items if isinstance(items, Absences) else cls(items)

    def find(self, member: str, at: datetime) -> Unavailability | None:
        """The absence (the latest-starting one) keeping ``member`` away at ``at``, if any."""
        spans = self._spans.get(member)
        i = None if spans is None else spans.find(at)
        return None if i is None else self._items[member][i]

    def boundaries(self, start: datetime, end: datetime) -> list[datetime]:
        """Every absence start or end strictly inside ``(start, end)``."""
        out: list[datetime] = []
        for items in self._items.values():
            out += [t for u in items for t in (u.start, u.end) if start < t < end]
        return out


# -- rotation arithmetic -------------------------------------------------------------------


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone called ``name``. Raises ValueError when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive local time (fold 0: see the module docstring)."""
    return local.replace(tzinfo=zone).astimezone(UTC)


_UNIT = {
    ShiftUnit.HOURS: timedelta(hours=1),
    ShiftUnit.DAYS: timedelta(days=1),
    ShiftUnit.WEEKS: timedelta(weeks=1),
}


def step_of(layer: Layer) -> timedelta:
    """The wall-clock length of one of the layer's shifts (24 h for a day, whatever the DST)."""
    return layer.shift_length * _UNIT[layer.shift_unit]


def first_handoff_day(layer: Layer) -> date:
    """The local date of the rotation's first handoff."""
    if layer.shift_unit is ShiftUnit.WEEKS and layer.handoff_day is not None:
        ahead = (layer.handoff_day.index - layer.start.weekday()) % 7
        return layer.start + timedelta(days=ahead)
    return layer.start


@dataclass(frozen=True, slots=True)
class Rotation:
    """A layer's handoffs as arithmetic: handoff ``k`` is at local ``epoch + k * step``."""

    layer: Layer
    zone: ZoneInfo
    epoch: datetime
    step: timedelta

    @classmethod
    def of(cls, layer: Layer, zone: ZoneInfo) -> Rotation:
        """The rotation of ``layer`` in ``zone``. Raises ValueError for a non-positive shift."""
        if layer.shift_length <= 0 or not layer.members:
            raise ValueError(f"layer {layer.name!r} has no members or no positive shift length")
        epoch = datetime.combine(first_handoff_day(layer), layer.handoff)
        return cls(layer, zone, epoch, step_of(layer))

    def handoff(self, k: int) -> datetime:
        """The instant of handoff ``k`` (0 is the rotation's start)."""
        return _instant(self.epoch + k * self.step, self.zone)

    def index(self, at: datetime) -> int:
        """The shift covering ``at`` (negative before the rotation starts), in O(1)."""
        local = at.astimezone(self.zone).replace(tzinfo=None)
        k = (local - self.epoch) // self.step
        # The wall-clock estimate is off by one at most around a daylight-saving change.
        while self.handoff(k) > at:
            k -= 1
        while self.handoff(k + 1) <= at:
            k += 1
        return k

    def member(self, k: int) -> str:
        """Who holds shift ``k``."""
        return self.layer.members[k % len(self.layer.members)]

    def window_at(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The occurrence of a restriction window containing ``at`` (whole day: none given)."""
        if not self.layer.restrictions:
            return (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
        today = at.astimezone(self.zone).date()
        for day in (today, today - timedelta(days=1)):
            for start, end in self._windows_on(day):
                if start <= at < end:
                    return start, end
        return None

    def _windows_on(self, day: date) -> list[tuple[datetime, datetime]]:
        weekday = ALL_DAYS[day.weekday()]
        out: list[tuple[datetime, datetime]] = []
        for w in self.layer.restrictions:
            if weekday in w.days:
                end_day = day + timedelta(days=1) if w.wraps else day
                start = _instant(datetime.combine(day, w.start), self.zone)
                out.append((start, _instant(datetime.combine(end_day, w.end), self.zone)))
        return out

    def cover(self, at: datetime) -> tuple[str, int, datetime, datetime] | None:
        """(member, shift index, since, until) of the shift covering ``at``, if any."""
        k = self.index(at)
        if k < 0:
            return None
        window = self.window_at(at)
        if window is None:
            return None
        since = max(self.handoff(k), window[0])
        until = min(self.handoff(k + 1), window[1])
        return self.member(k), k, since, until

    def boundaries(self, start: datetime, end: datetime) -> list[datetime]:
        """Every handoff and window edge strictly inside ``(start, end)``."""
        out: list[datetime] = []
        k = max(self.index(start), 0)
        while (moment := self.handoff(k)) < end:
            if moment > start:
                out.append(moment)
            k += 1
        if self.layer.restrictions:
            day = start.astimezone(self.zone).date() - timedelta(days=1)
            last = end.astimezone(self.zone).date() + timedelta(days=1)
            while day <= last:
                out += [t for pair in self._windows_on(day) for t in pair if start < t < end]
                day += timedelta(days=1)
        return out
