"""When each endpoint runs next: intervals with jitter, caps, backoff and clock jumps.

The plan is a pure data structure advanced by functions of (plan, monotonic now); the async
driver in ``runtime`` only asks it what is due and reports completions. So every rule here is
tested with a fake clock and no sleeping.

Rules:
- an endpoint first runs at a random offset within its interval (spreading a fresh start);
- after each run the next is due one interval (plus jitter) after the run STARTED, and never in
  the past: missed runs are skipped, not replayed in a burst;
- consecutive failures stretch the interval exponentially up to ``max_backoff_s``;
- at most ``global_cap`` checks run at once, and at most ``per_host_cap`` against one host; a due
  endpoint whose host is busy waits without taking a global slot;
- a clock jump (the wall clock moved differently from the monotonic clock, as after a suspend,
  where Linux's monotonic clock stands still) reschedules everything soon, spread out, and is
  reported so the gap can be recorded as missing data.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

DEFAULT_GLOBAL_CAP = 64
DEFAULT_PER_HOST_CAP = 4
#: Failures stretch the interval up to this (or 10 intervals, whichever is longer).
DEFAULT_MAX_BACKOFF_S = 300.0
#: How far the wall clock may drift from the monotonic one between two looks before it counts
#: as a jump (NTP slews far less than this).
JUMP_TOLERANCE_S = 5.0
#: After a jump, endpoints run again within this many seconds (or their interval if shorter).
RESUME_SPREAD_S = 10.0


@dataclass(frozen=True, slots=True)
class Job:
    """What the scheduler needs to know about one endpoint."""

    key: str
    interval_s: float
    host: str
    jitter_s: float = 0.0

    def __post_init__(self) -> None:
        if self.interval_s < 1:
            raise ValueError(f"{self.key}: the interval must be 1 s or more")
        if self.jitter_s < 0:
            raise ValueError(f"{self.key}: jitter cannot be negative")


@dataclass(frozen=True, slots=True)
class Entry:
    """A job's place in the plan."""

    job: Job
    due: float
    failures: int = 0
    running: bool = False


@dataclass(frozen=True, slots=True)
class Limits:
    """Concurrency caps and backoff ceiling."""

    global_cap: int = DEFAULT_GLOBAL_CAP
    per_host_cap: int = DEFAULT_PER_HOST_CAP
    max_backoff_s: float = DEFAULT_MAX_BACKOFF_S


@dataclass(frozen=True, slots=True)
class Plan:
    """Every job's next due time (monotonic seconds) and state."""

    entries: Mapping[str, Entry] = field(default_factory=lambda: MappingProxyType({}))
    limits: Limits = field(default_factory=Limits)

    def running_count(self) -> int:
        """How many checks are running now."""
        return sum(1 for e in self.entries.values() if e.running)

    def next_due(self) -> float | None:
        """The earliest due time among jobs not running (None: nothing to wait for)."""
        waiting = [e.due for e in self.entries.values() if not e.running]
        return min(waiting) if waiting else None


def _with(plan: Plan, changes: Mapping[str, Entry | None]) -> Plan:
    entries = dict(plan.entries)
    for key, entry in changes.items():
        if entry is None:
            entries.pop(key, None)
        else:
            entries[key] = entry
    return replace(plan, entries=MappingProxyType(entries))


def _jitter(job: Job, rng: random.Random) -> float:
    return rng.uniform(-job.jitter_s, job.jitter_s) if job.jitter_s else 0.0


def sync_jobs(plan: Plan, jobs: Iterable[Job], now: float, rng: random.Random) -> Plan:
    """Add new jobs (spread over their first interval), update changed ones, drop removed ones."""
    wanted = {job.key: job for job in jobs}
    changes: dict[str, Entry | None] = {k: None for k in plan.entries if k not in wanted}
    for key, job in wanted.items():
        entry = plan.entries.get(key)
        if entry is None:
            changes[key] = Entry(job, now + rng.uniform(0, min(job.interval_s, RESUME_SPREAD_S)))
        elif entry.job != job:
            due = min(entry.due, now + job.interval_s)
            changes[key] = replace(entry, job=job, due=due)
    return _with(plan, changes)


def take_due(plan: Plan, now: float) -> tuple[Plan, list[Job]]:
    """Mark due jobs as running, within the caps; the most overdue go first."""
    limits = plan.limits
    per_host: dict[str, int] = {}
    for e in plan.entries.values():
        if e.running:
            per_host[e.job.host] = per_host.get(e.job.host, 0) + 1
    free = limits.global_cap - sum(per_host.values())
    due = sorted(
        (e for e in plan.entries.values() if not e.running and e.due <= now),
        key=lambda e: (e.due, e.job.key),
    )
    started: list[Job] = []
    changes: dict[str, Entry | None] = {}
    for entry in due:
        if free <= 0:
            break
        host = entry.job.host
        if per_host.get(host, 0) >= limits.per_host_cap:
            continue
        per_host[host] = per_host.get(host, 0) + 1
        free -= 1
        changes[entry.job.key] = replace(entry, running=True)
        started.append(entry.job)
    return _with(plan, changes), started


def backoff_interval(job: Job, failures: int, limits: Limits) -> float:
    """The interval to wait after ``failures`` consecutive failures (0: the normal interval)."""
    if failures <= 1:
        return job.interval_s
    ceiling = max(limits.max_backoff_s, job.interval_s * 10)
    return min(job.interval_s * 2.0 ** (failures - 1), ceiling)


def complete(
    plan: Plan, key: str, *, ok: bool, started: float, now: float, rng: random.Random
) -> Plan:
    """Record a finished check and schedule the next one (never in the past, no burst)."""
    entry = plan.entries.get(key)
    if entry is None:  # removed while it ran
        return plan
    failures = 0 if ok else entry.failures + 1
    wait = backoff_interval(entry.job, failures, plan.limits) + _jitter(entry.job, rng)
    due = max(started + wait, now + 0.001)
    return _with(plan, {key: Entry(entry.job, due, failures, running=False)})


@dataclass(frozen=True, slots=True)
class ClockJump:
    """A discontinuity between wall and monotonic time: the data between is missing."""

    wall_before: datetime
    wall_after: datetime
    skew_s: float


def detect_jump(
    last_wall: datetime, last_mono: float, wall: datetime, mono: float
) -> ClockJump | None:
    """A jump when wall time moved more than the tolerance away from monotonic time."""
    skew = (wall - last_wall).total_seconds() - (mono - last_mono)
    if abs(skew) <= JUMP_TOLERANCE_S:
        return None
    return ClockJump(last_wall, wall, skew)


def after_jump(plan: Plan, now: float, rng: random.Random) -> Plan:
    """Reschedule every waiting job soon, spread out (no burst, no long silence)."""
    changes: dict[str, Entry | None] = {}
    for key, entry in plan.entries.items():
        if not entry.running:
            spread = min(entry.job.interval_s, RESUME_SPREAD_S)
            changes[key] = replace(entry, due=now + rng.uniform(0, spread))
    return _with(plan, changes)
