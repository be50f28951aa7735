"""When each endpoint runs next: intervals with jitter, caps, backoff and clock jumps.

The plan holds no clock and does no I/O: it is advanced by calls that pass the monotonic time
in, and the async driver in ``runtime`` only asks it what is due and reports completions. So
every rule here is tested with hand-moved time and no sleeping.

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

import heapq
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
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


class Plan:
    """Every job's next due time (monotonic seconds) and state.

    Mutable on purpose: the engine completes hundreds of checks a second over thousands of
    endpoints, so each operation costs O(log n) (a heap of due times with lazy deletion)
    instead of copying the plan.
    """

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._entries: dict[str, Entry] = {}
        self._heap: list[tuple[float, str]] = []
        self._per_host: dict[str, int] = {}
        self._running = 0

    @property
    def entries(self) -> Mapping[str, Entry]:
        """A read-only view of every job's entry."""
        return MappingProxyType(self._entries)

    def running_count(self) -> int:
        """How many checks are running now."""
        return self._running

    def _put(self, entry: Entry) -> None:
        self._entries[entry.job.key] = entry
        if not entry.running:
            heapq.heappush(self._heap, (entry.due, entry.job.key))

    def _valid(self, due: float, key: str) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or entry.running or entry.due != due:
            return None
        return entry

    def next_due(self) -> float | None:
        """The earliest due time among jobs not running (None: nothing to wait for)."""
        while self._heap:
            due, key = self._heap[0]
            if self._valid(due, key) is not None:
                return due
            heapq.heappop(self._heap)
        return None

    def sync_jobs(self, jobs: Iterable[Job], now: float, rng: random.Random) -> None:
        """Add new jobs (spread over their first interval), update changed ones, drop others."""
        wanted = {job.key: job for job in jobs}
        for key in [k for k in self._entries if k not in wanted]:
            self._drop(key)
        for key, job in wanted.items():
            entry = self._entries.get(key)
            if entry is None:
                first = now + rng.uniform(0, min(job.interval_s, RESUME_SPREAD_S))
                self._put(Entry(job, first))
            elif entry.job != job:
                if entry.running:
                    self._release(entry.job.host)
                    self._hold(job.host)
                due = min(entry.due, now + job.interval_s)
                self._put(replace(entry, job=job, due=due))

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key)
        if entry.running:
            self._release(entry.job.host)

    def _hold(self, host: str) -> None:
        self._per_host[host] = self._per_host.get(host, 0) + 1
        self._running += 1

    def _release(self, host: str) -> None:
        left = self._per_host.get(host, 0) - 1
        if left > 0:
            self._per_host[host] = left
        else:
            self._per_host.pop(host, None)
        self._running -= 1

    def take_due(self, now: float) -> list[Job]:
        """Mark due jobs as running, within the caps; the most overdue go first."""
        started: list[Job] = []
        blocked: list[tuple[float, str]] = []
        while self._heap and self._running < self.limits.global_cap:
            due, key = self._heap[0]
            if due > now:
                break
            heapq.heappop(self._heap)
            entry = self._valid(due, key)
            if entry is None:
                continue
            if self._per_host.get(entry.job.host, 0) >= self.limits.per_host_cap:
                blocked.append((due, key))  # waits for its host without taking a slot
                continue
            self._hold(entry.job.host)
            self._entries[key] = Entry(entry.job, due, entry.failures, running=True)
            started.append(entry.job)
        for item in blocked:
            heapq.heappush(self._heap, item)
        return started

    def complete(
        self, key: str, *, ok: bool, started: float, now: float, rng: random.Random
    ) -> None:
        """Record a finished check and schedule the next one (never in the past, no burst)."""
        entry = self._entries.get(key)
        if entry is None or not entry.running:  # removed (or re-added) while it ran
            return
        self._release(entry.job.host)
        failures = 0 if ok else entry.failures + 1
        wait = backoff_interval(entry.job, failures, self.limits) + _jitter(entry.job, rng)
        self._put(Entry(entry.job, max(started + wait, now + 0.001), failures, running=False))

    def after_jump(self, now: float, rng: random.Random) -> None:
        """Reschedule every waiting job soon, spread out (no burst, no long silence)."""
        waiting = [e for e in self._entries.values() if not e.running]
        self._heap = []
        for entry in waiting:
            spread = min(entry.job.interval_s, RESUME_SPREAD_S)
            self._put(replace(entry, due=now + rng.uniform(0, spread)))
        heapq.heapify(self._heap)


def _jitter(job: Job, rng: random.Random) -> float:
    return rng.uniform(-job.jitter_s, job.jitter_s) if job.jitter_s else 0.0


def backoff_interval(job: Job, failures: int, limits: Limits) -> float:
    """The interval to wait after ``failures`` consecutive failures (0: the normal interval)."""
    if failures <= 1:
        return job.interval_s
    ceiling = max(limits.max_backoff_s, job.interval_s * 10)
    return min(job.interval_s * 2.0 ** (failures - 1), ceiling)


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
