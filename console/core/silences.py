"""Silences and maintenance windows: they hold back notifications, never the record.

A silence matches signals by label matchers (``service="db"`` silences one service) during a
window: one-off (two instants) or weekly (days and local times of day in a named IANA zone).
A weekly window follows the local wall clock, as Alertmanager's time intervals do: the instant
is converted to local time and its weekday and time of day are compared. So "Sunday 02:00 to
04:00, Europe/Berlin" covers the local hours that exist that day: one real hour on the Sunday
the clocks go forward (02:00 to 03:00 does not exist), three on the Sunday they go back
(02:00 to 03:00 happens twice), two on every other Sunday.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from console.core.clock import isoformat, parse_iso
from console.core.errors import Problem, ValidationError
from console.core.routing import (
    Matcher,
    MatchOp,
    matcher_from_dict,
    matcher_to_dict,
    matches_all,
)


class Weekday(Enum):
    """A day of the week, Monday first (``datetime.weekday()`` order)."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def index(self) -> int:
        """0 for Monday up to 6 for Sunday."""
        return _DAYS.index(self)

    @classmethod
    def of(cls, moment: datetime) -> Weekday:
        """The weekday of a (local) moment."""
        return _DAYS[moment.weekday()]


_DAYS = tuple(Weekday)


@dataclass(frozen=True, slots=True)
class OneOffWindow:
    """From ``start`` (included) to ``end`` (excluded), aware instants."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        problems = [
            Problem(name, "must have a time zone")
            for name in ("start", "end")
            if getattr(self, name).tzinfo is None
        ]
        if not problems and self.end <= self.start:
            problems.append(Problem("end", "must be after the start"))
        if problems:
            raise ValidationError(problems)

    def active(self, at: datetime) -> bool:
        """Whether ``at`` falls inside the window."""
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """Every week on ``days``, from ``start`` to ``end`` local time in ``zone``.

    An ``end`` at or before ``start`` crosses midnight: the part after midnight belongs to the
    day the window started (Friday 22:00 to 02:00 covers early Saturday). ``start == end``
    means the whole day.
    """

    days: tuple[Weekday, ...]
    start: time
    end: time
    zone: str

    def __post_init__(self) -> None:
        problems = []
        if not self.days:
            problems.append(Problem("days", "name at least one day"))
        object.__setattr__(self, "days", tuple(sorted(set(self.days), key=lambda d: d.index)))
        for name in ("start", "end"):
            if getattr(self, name).tzinfo is not None:
                problems.append(Problem(name, "a local time of day, without a time zone"))
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(Problem("zone", f"unknown time zone {self.zone!r}"))
        if problems:
            raise ValidationError(problems)

    def active(self, at: datetime) -> bool:
        """Whether ``at`` (any aware instant) falls inside this week's window."""
        local = at.astimezone(ZoneInfo(self.zone))
        of_day = local.time().replace(tzinfo=None, fold=0)
        today = Weekday.of(local) in self.days
        if self.start < self.end:
            return today and self.start <= of_day < self.end
        if self.start == self.end:
            return today
        yesterday = _DAYS[(local.weekday() - 1) % 7] in self.days
        return (today and of_day >= self.start) or (yesterday and of_day < self.end)


Window = OneOffWindow | WeeklyWindow


@dataclass(frozen=True, slots=True)
class Silence:
    """Hold back notifications for matching signals while the window is active.

    Attributes:
        key: A stable slug.
        matchers: Conditions on the signal's labels, all of which must hold (at least one: a
            silence of everything is too easy to leave on by mistake).
        window: When it applies.
        comment: Why (shown beside every incident it silenced).
        created_by: Who asked for it, when it was declared (configuration or the CLI).
    """

    key: str
    matchers: tuple[Matcher, ...]
    window: Window
    comment: str | None = None
    created_by: str | None = None

    def __post_init__(self) -> None:
        problems = []
        if not self.key.strip():
            problems.append(Problem("key", "a silence needs a key"))
        if not self.matchers:
            problems.append(Problem("matchers", "name at least one matcher (service=KEY...)"))
        if problems:
            raise ValidationError(problems)

    def silences(self, labels: Mapping[str, str], at: datetime) -> bool:
        """Whether a signal with these labels is silenced at ``at``."""
        return self.window.active(at) and matches_all(self.matchers, labels)

    @classmethod
    def for_service(
        cls, key: str, service: str, window: Window, comment: str | None = None
    ) -> Silence:
        """A maintenance window for one service."""
        return cls(key, (Matcher("service", MatchOp.EQUAL, service),), window, comment)


def active_silence(
    silences: Iterable[Silence], labels: Mapping[str, str], at: datetime
) -> Silence | None:
    """The first silence (by key) that holds back a signal with these labels at ``at``."""
    for silence in sorted(silences, key=lambda s: s.key):
        if silence.silences(labels, at):
            return silence
    return None


# -- plain dicts (event payloads and stored rows) -------------------------------------------


def silence_to_dict(s: Silence) -> dict[str, Any]:
    """Encode a silence."""
    window: dict[str, Any]
    if isinstance(s.window, OneOffWindow):
        window = {"start": isoformat(s.window.start), "end": isoformat(s.window.end)}
    else:
        window = {
            "days": [d.value for d in s.window.days],
            "start": s.window.start.isoformat("minutes"),
            "end": s.window.end.isoformat("minutes"),
            "zone": s.window.zone,
        }
    out: dict[str, Any] = {
        "key": s.key,
        "matchers": [matcher_to_dict(m) for m in s.matchers],
        "window": window,
        "comment": s.comment,
    }
    if s.created_by is not None:  # absent rather than null: older payloads stay identical
        out["created_by"] = s.created_by
    return out


def silence_from_dict(d: Mapping[str, Any]) -> Silence:
    """Decode a silence."""
    w = d["window"]
    window: Window
    if "days" in w:
        window = WeeklyWindow(
            tuple(Weekday(x) for x in w["days"]),
            time.fromisoformat(w["start"]),
            time.fromisoformat(w["end"]),
            str(w["zone"]),
        )
    else:
        window = OneOffWindow(parse_iso(w["start"]), parse_iso(w["end"]))
    return Silence(
        str(d["key"]),
        tuple(matcher_from_dict(m) for m in d["matchers"]),
        window,
        d.get("comment"),
        d.get("created_by"),
    )
