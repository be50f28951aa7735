"""On-call schedules: rotations in layers, overrides on top, absent members taken out.

Instants are aware datetimes compared in UTC; a schedule's IANA zone is used only to place
handoffs. A rotation hands over at a local wall-clock time: handoff ``k`` is the local time
``epoch + k * shift`` (wall-clock arithmetic) turned into an instant, so shifts keep their local
handoff across daylight-saving changes and a one-day shift over the spring change is 23 hours
long. A handoff at a local time the clocks skip happens that much after the jump (02:30 on the
spring-forward night of Europe/Berlin is 03:30 CEST); one the clocks repeat happens the first
time round. Neither ever loses or doubles an instant: consecutive handoffs never go backwards.

Precedence at an instant: an override, then the layers in their listed order (the first layer
wins; later ones are fallbacks). A member who is unavailable then is taken out, so the answer
falls through to the next source, or to nobody (an empty schedule, reported as such).
``on_call`` is arithmetic (no walk over shifts); the timeline queries resolve each interval
between consecutive boundaries (handoffs, window edges, overrides, absences) the same way.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum

from console.core.clock import isoformat
from console.core.rotation import ALL_DAYS as ALL_DAYS
from console.core.rotation import Absences as Absences
from console.core.rotation import Rotation, Spans, step_of
from console.core.rotation import ShiftUnit as ShiftUnit
from console.core.rotation import zone_of as zone_of
from console.core.silences import Weekday


class AbsenceReason(Enum):
    """Why a member cannot be reached for a while."""

    LEAVE = "leave"
    SICKNESS = "sickness"
    OTHER = "other"

    @property
    def phrase(self) -> str:
        """How the reason reads after a name: ``ana on leave``."""
        return {"leave": "on leave", "sickness": "off sick", "other": "unavailable"}[self.value]


class CoverSource(Enum):
    """Where an answer to "who is on call" came from."""

    OVERRIDE = "override"
    LAYER = "layer"
    NOBODY = "nobody"


def _aware_utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{what} must be an aware datetime, got a naive one: {moment!r}")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Window:
    """Local hours a layer covers: from ``start`` to ``end`` on each of ``days``.

    A window whose end is not after its start runs past midnight (22:00 to 06:00); its day is
    the day it starts on.
    """

    start: time
    end: time
    days: tuple[Weekday, ...] = ALL_DAYS

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", tuple(sorted(set(self.days), key=lambda d: d.index)))

    @property
    def wraps(self) -> bool:
        """Whether the window ends on the next day."""
        return self.end <= self.start


@dataclass(frozen=True, slots=True)
class Layer:
    """One rotation: members in turn, each for a shift of ``shift_length`` ``shift_unit``.

    Attributes:
        name: Shown in reasons ("layer Primary").
        members: Emails in rotation order (a member may appear twice).
        shift_length: How many hours, days or weeks a shift lasts.
        shift_unit: Hours, days or weeks.
        start: The rotation's first local date; the layer covers nothing before it.
        handoff: Local time of day of every handoff (of the first, for hourly shifts).
        handoff_day: For weekly shifts, the weekday of the handoff: the rotation starts on the
            first such day on or after ``start``.
        restrictions: Local windows the layer covers; none means around the clock.
    """

    name: str
    members: tuple[str, ...]
    shift_length: int
    shift_unit: ShiftUnit
    start: date
    handoff: time = time(9, 0)
    handoff_day: Weekday | None = None
    restrictions: tuple[Window, ...] = ()


@dataclass(frozen=True, slots=True)
class Override:
    """``member`` is on call from ``start`` to ``end`` whatever the layers say."""

    member: str
    start: datetime
    end: datetime
    note: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _aware_utc(self.start, "an override's start"))
        object.__setattr__(self, "end", _aware_utc(self.end, "an override's end"))

    @property
    def key(self) -> str:
        """A stable id from who and when (the same override always has the same id)."""
        raw = f"{self.member}|{isoformat(self.start)}|{isoformat(self.end)}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Schedule:
    """A named set of layers in one IANA time zone, with overrides on top.

    Overrides keep the order they were given in (so that problems found in them point at the
    right item of a file); their canonical order, by start, is ``sorted_overrides``.
    """

    key: str
    name: str
    zone: str
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()
    # Built on first use and kept: "who is on call" is asked far more often than a schedule
    # changes, and sorting a few hundred overrides would be most of its cost.
    _index: tuple[tuple[Override, ...], Spans] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def sorted_overrides(self) -> tuple[Override, ...]:
        """The overrides by start, then end and member."""
        return self.override_index()[0]

    def override_index(self) -> tuple[tuple[Override, ...], Spans]:
        """The sorted overrides and their spans, for lookups by instant."""
        if self._index is None:
            ordered = tuple(sorted(self.overrides, key=lambda o: (o.start, o.end, o.member)))
            object.__setattr__(self, "_index", (ordered, Spans((o.start, o.end) for o in ordered)))
        assert self._index is not None
        return self._index

    def members(self) -> tuple[str, ...]:
        """Everyone the schedule names, in first-mention order."""
        seen: dict[str, None] = {}
        for layer in self.layers:
            seen.update(dict.fromkeys(layer.members))
        seen.update(dict.fromkeys(o.member for o in self.overrides))
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class Unavailability:
    """A member who cannot be reached from ``start`` to ``end`` (leave, sickness...)."""

    member: str
    start: datetime
    end: datetime
    reason: AbsenceReason
    note: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _aware_utc(self.start, "an absence's start"))
        object.__setattr__(self, "end", _aware_utc(self.end, "an absence's end"))

    @property
    def key(self) -> str:
        """The stable key: the member and when the absence starts."""
        return f"{self.member}/{isoformat(self.start)}"


@dataclass(frozen=True, slots=True)
class Skipped:
    """A member passed over because of an absence, and where they would have covered."""

    member: str
    source: str
    reason: AbsenceReason


@dataclass(frozen=True, slots=True)
class OnCall:
    """Who a schedule has on call at one instant, and why.

    Attributes:
        schedule: The schedule's key.
        at: The instant asked about.
        member: Who is on call; None when nobody is (reported as an empty schedule).
        source: An override, a layer or nobody.
        layer: The covering layer's name (None for an override or nobody).
        skipped: Absent members passed over on the way, in precedence order.
        since: When the covering override or shift began (None for nobody).
        until: When it ends, unless something else interrupts it first.
        shift_id: A stable id of the covering shift or override.
    """

    schedule: str
    at: datetime
    member: str | None
    source: CoverSource
    layer: str | None = None
    skipped: tuple[Skipped, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    shift_id: str | None = None

    @property
    def reason(self) -> str:
        """In words: ``layer Primary``, ``override``, ``Primary: ana on leave -> Secondary``."""
        chain = [f"{s.source}: {s.member} {s.reason.phrase}" for s in self.skipped]
        if self.source is CoverSource.OVERRIDE:
            last = "override"
        elif self.source is CoverSource.LAYER:
            last = str(self.layer) if chain else f"layer {self.layer}"
        else:
            last = "nobody" if chain else "no layer covers this time"
        return " -> ".join([*chain, last])


@dataclass(frozen=True, slots=True)
class Shift:
    """A stretch of the final timeline: one member covering for one source."""

    schedule: str
    member: str
    start: datetime
    end: datetime
    source: CoverSource
    layer: str | None
    shift_id: str

    @property
    def duration(self) -> timedelta:
        """How long the stretch lasts (in real time)."""
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch nobody covers, with the reason at its start."""

    schedule: str
    start: datetime
    end: datetime
    reason: str


# -- queries -------------------------------------------------------------------------------


class Resolver:
    """Answers "who is on call" for one schedule; build once to ask many times."""

    def __init__(
        self, schedule: Schedule, unavailable: Iterable[Unavailability] | Absences = ()
    ) -> None:
        """Prepare the schedule's rotations. Raises ValueError for an unknown zone."""
        self.schedule = schedule
        self.zone = zone_of(schedule.zone)
        self.rotations = tuple(Rotation.of(layer, self.zone) for layer in schedule.layers)
        self.absences = Absences.of(unavailable)
        self._sorted, self._overrides = schedule.override_index()

    def override_at(self, at: datetime) -> Override | None:
        """The override covering ``at``; of overlapping ones (invalid), the latest to start."""
        i = self._overrides.find(at)
        return None if i is None else self._sorted[i]

    def at(self, at: datetime) -> OnCall:
        """Who is on call at ``at`` (an aware datetime), and why."""
        at = _aware_utc(at, "the time asked about")
        key = self.schedule.key
        skipped: list[Skipped] = []
        found = self.override_at(at)
        if found is not None:
            away = self.absences.find(found.member, at)
            if away is None:
                return OnCall(
                    key,
                    at,
                    found.member,
                    CoverSource.OVERRIDE,
                    since=found.start,
                    until=found.end,
                    shift_id=f"override:{found.key}",
                )
            skipped.append(Skipped(found.member, "override", away.reason))
        for rotation in self.rotations:
            cover = rotation.cover(at)
            if cover is None:
                continue
            member, k, since, until = cover
            away = self.absences.find(member, at)
            if away is not None:
                skipped.append(Skipped(member, rotation.layer.name, away.reason))
                continue
            return OnCall(
                key,
                at,
                member,
                CoverSource.LAYER,
                layer=rotation.layer.name,
                skipped=tuple(skipped),
                since=since,
                until=until,
                shift_id=f"layer:{rotation.layer.name}:{k}",
            )
        return OnCall(key, at, None, CoverSource.NOBODY, None, tuple(skipped))

    def boundaries(self, start: datetime, end: datetime) -> list[datetime]:
        """Every instant in ``[start, end]`` where the answer may change, sorted."""
        points = {start, end}
        for rotation in self.rotations:
            points.update(rotation.boundaries(start, end))
        overrides = self._sorted
        # Overrides starting after `end` cannot matter.
        for o in overrides[: bisect_left(overrides, end, key=lambda o: o.start)]:
            points.update(t for t in (o.start, o.end) if start < t < end)
        points.update(self.absences.boundaries(start, end))
        return sorted(points)


def on_call(
    schedule: Schedule, at: datetime, unavailable: Iterable[Unavailability] | Absences = ()
) -> OnCall:
    """Who ``schedule`` has on call at ``at``, and why.

    Args:
        schedule: A valid schedule.
        at: An aware datetime.
        unavailable: Absences (an ``Absences`` index is reused as it is).

    Returns:
        The answer; ``member`` is None when nobody covers ``at``.

    Raises:
        ValueError: For a naive ``at``, an unknown zone or a layer without members or length.
    """
    return Resolver(schedule, unavailable).at(at)


def _pad(schedule: Schedule) -> timedelta:
    """Longer than any one source lasts: how far back a whole shift can start."""
    pad = timedelta(days=2)
    for layer in schedule.layers:
        pad = max(pad, step_of(layer) + timedelta(days=2))
    for o in schedule.overrides:
        pad = max(pad, o.end - o.start + timedelta(days=1))
    return pad


def shifts(
    schedule: Schedule,
    start: datetime,
    end: datetime,
    unavailable: Iterable[Unavailability] | Absences = (),
    *,
    whole: bool = False,
) -> list[Shift]:
    """The final timeline from ``start`` to ``end``: who covers which stretch, in order.

    Each stretch is one member covering for one source (a layer's shift or an override);
    stretches of different sources are never merged, so a handoff always shows.

    Args:
        schedule: A valid schedule.
        start: Aware start (included).
        end: Aware end (excluded).
        unavailable: Absences taken out of the timeline.
        whole: Give the first and last stretches whole instead of cut at ``start`` and
            ``end`` (what a calendar export wants: the same shift, the same times).

    Returns:
        The stretches, sorted by start; uncovered time is left out (see ``gaps``).
    """
    start, end = _aware_utc(start, "the start"), _aware_utc(end, "the end")
    if end <= start:
        return []
    resolver = Resolver(schedule, unavailable)
    lo, hi = (start - _pad(schedule), end + _pad(schedule)) if whole else (start, end)
    points = resolver.boundaries(lo, hi)
    out: list[Shift] = []
    for a, b in zip(points, points[1:], strict=False):
        answer = resolver.at(a)
        if answer.member is None or answer.shift_id is None:
            continue
        last = out[-1] if out else None
        if last and last.end == a and last.shift_id == answer.shift_id:
            out[-1] = replace(last, end=b)  # another source's boundary: still the same stretch
            continue
        layer = answer.layer
        out.append(Shift(schedule.key, answer.member, a, b, answer.source, layer, answer.shift_id))
    return [s for s in out if s.end > start and s.start < end]


def my_shifts(
    member: str,
    schedules: Iterable[Schedule],
    start: datetime,
    end: datetime,
    unavailable: Iterable[Unavailability] | Absences = (),
) -> list[Shift]:
    """Every stretch ``member`` covers in any of ``schedules`` from ``start`` to ``end``."""
    absences = Absences.of(unavailable)
    found = [
        s
        for schedule in schedules
        if member in schedule.members()
        for s in shifts(schedule, start, end, absences)
        if s.member == member
    ]
    return sorted(found, key=lambda s: (s.start, s.schedule))


def gaps(
    schedule: Schedule,
    start: datetime,
    end: datetime,
    unavailable: Iterable[Unavailability] | Absences = (),
) -> list[Gap]:
    """Stretches from ``start`` to ``end`` that nobody covers, each with its reason."""
    start, end = _aware_utc(start, "the start"), _aware_utc(end, "the end")
    resolver = Resolver(schedule, unavailable)
    out: list[Gap] = []
    points = resolver.boundaries(start, end) if end > start else []
    for a, b in zip(points, points[1:], strict=False):
        answer = resolver.at(a)
        if answer.member is not None:
            continue
        if out and out[-1].end == a and out[-1].reason == answer.reason:
            out[-1] = Gap(schedule.key, out[-1].start, b, out[-1].reason)
        else:
            out.append(Gap(schedule.key, a, b, answer.reason))
    return out
