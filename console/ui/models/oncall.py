"""What the Escalation page shows of the schedules: who is on call now, and the coming weeks.

:func:`read_coverage` runs on the store worker (it reads SQLite and walks every schedule's
timeline); the page gets a :class:`CoverageReading` back on the UI thread and only draws it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from console.core.schedules import Absences, Gap, OnCall, Schedule, Shift, gaps, on_call, shifts
from console.store.db import Store

#: How far ahead the timeline looks (the readiness horizon of issue 7).
HORIZON_DAYS = 14
#: How often the page rereads (handoffs are minutes apart at best; a minute is plenty).
REFRESH_MS = 30_000


@dataclass(frozen=True, slots=True)
class ScheduleCoverage:
    """One schedule now and over the horizon.

    Attributes:
        schedule: The schedule.
        now: Who it has on call at the reading's time, and why.
        until: When that answer changes (a handoff, an override, an absence), within the
            horizon; None when it holds beyond it.
        next: Who takes over then (None when the answer holds beyond the horizon).
        shifts: Its timeline over the horizon (stretches cut at the horizon's edges).
        gaps: What nobody covers over the horizon, with reasons.
    """

    schedule: Schedule
    now: OnCall
    until: datetime | None
    next: OnCall | None
    shifts: tuple[Shift, ...]
    gaps: tuple[Gap, ...]

    @property
    def uncovered(self) -> timedelta:
        """How long nobody covers over the horizon."""
        return sum((g.end - g.start for g in self.gaps), timedelta())


@dataclass(frozen=True, slots=True)
class CoverageReading:
    """Every schedule's coverage from ``start`` to ``end``, read at ``start``."""

    schedules: tuple[ScheduleCoverage, ...]
    names: Mapping[str, str]
    start: datetime
    end: datetime

    def name(self, email: str | None) -> str:
        """A member's display name (the email when the member is not known)."""
        if email is None:
            return "nobody"
        return self.names.get(email, email)


def coverage(
    schedules: tuple[Schedule, ...],
    absences: Absences,
    names: Mapping[str, str],
    start: datetime,
    days: int = HORIZON_DAYS,
) -> CoverageReading:
    """Each schedule's cover now, next, and over ``days`` days from ``start`` (pure)."""
    end = start + timedelta(days=days)
    out: list[ScheduleCoverage] = []
    for schedule in schedules:
        timeline = tuple(shifts(schedule, start, end, absences))
        holes = tuple(gaps(schedule, start, end, absences))
        # The answer changes where the stretch (or gap) covering `start` ends.
        spans = [(s.start, s.end) for s in timeline] + [(g.start, g.end) for g in holes]
        current = [b for a, b in spans if a <= start < b]
        until = current[0] if current and current[0] < end else None
        out.append(
            ScheduleCoverage(
                schedule,
                on_call(schedule, start, absences),
                until,
                None if until is None else on_call(schedule, until, absences),
                timeline,
                holes,
            )
        )
    return CoverageReading(tuple(out), dict(names), start, end)


def read_coverage(store: Store, days: int = HORIZON_DAYS) -> CoverageReading:
    """Read the schedules, absences and members, and work out their coverage (worker thread)."""
    from console.store import estate

    db = store.read()
    names = {m.email: m.name for m in estate.members(db)}
    absences = Absences(estate.unavailability(db))
    return coverage(estate.schedules(db), absences, names, store.clock.now(), days)
