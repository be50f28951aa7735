"""The seeded schedule of things going wrong in the simulated estate.

Time is cut into slots of a few hours; each slot hashes (seed, slot, draw) to decide whether an
incident starts in it, of which kind, where, when, for how long and how bad. Nothing is stored
or generated ahead: any window of the schedule can be recomputed from the seed alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np

from console.simulator.catalogue import (
    Catalogue,
    Metric,
    SeriesKey,
    disk_key,
    queue_key,
)
from console.simulator.noise import FloatArray, unit_floats

SLOT_S = 3 * 3600.0
# A slot may hold up to one incident per entry, each with this chance.
_DRAW_CHANCES = (0.9, 0.6)
MINUTE = 60.0
HOUR = 3600.0
MAX_INCIDENT_S = 9.5 * HOUR


class IncidentKind(Enum):
    """What goes wrong."""

    LATENCY_SPIKE = "latency_spike"
    ERROR_BURST = "error_burst"
    OUTAGE = "outage"
    QUEUE_BACKLOG = "queue_backlog"
    DISK_FILL = "disk_fill"


class EffectOp(Enum):
    """How an incident bends a series while its envelope is up."""

    SCALE = "scale"  # value * (1 + amount * envelope)
    ADD = "add"  # value + amount * envelope
    TOWARDS = "towards"  # moved towards amount, all the way at envelope 1


@dataclass(frozen=True, slots=True)
class Effect:
    """One series an incident bends, and how much.

    Attributes:
        series: The series bent.
        op: How it is bent.
        amount: By how much (or towards what), the same all along.
        path: An amount that changes instead: (time, amount) points joined by straight lines,
            held flat beyond the ends (a scenario's latency spike follows its band with it).
    """

    series: SeriesKey
    op: EffectOp
    amount: float
    path: tuple[tuple[float, float], ...] = ()

    def amounts(self, times: FloatArray) -> FloatArray | float:
        """The amount at each time (the constant amount itself when there is no path)."""
        if not self.path:
            return self.amount
        at, amount = zip(*self.path, strict=True)
        found: FloatArray = np.interp(times, at, amount)
        return found


@dataclass(frozen=True, slots=True)
class Incident:
    """One scheduled failure.

    Attributes:
        kind: What goes wrong.
        service: The service at fault.
        start: When it begins (Unix seconds).
        peak: When it is at its worst.
        end: When every effect is gone.
        magnitude: Kind-specific size: a latency factor, an error ratio, messages, percent.
        effects: The series it bends; the first is the primary one.
        rise_power: 0 for a ramp-plateau-ramp shape; otherwise it rises as
            ((t - start) / (peak - start)) ** rise_power and falls linearly to the end.
        knots: A drawn shape instead: (time, level) points, level 0 to 1, joined by straight
            lines and 0 outside them (a scenario's pinned incidents use it; rise_power is then
            ignored).
    """

    kind: IncidentKind
    service: str
    start: float
    peak: float
    end: float
    magnitude: float
    effects: tuple[Effect, ...]
    rise_power: float = 0.0
    knots: tuple[tuple[float, float], ...] = ()

    @property
    def series(self) -> SeriesKey:
        """The primary series: the one that shows the incident most plainly."""
        return self.effects[0].series

    @property
    def duration_s(self) -> float:
        """Seconds from start to end."""
        return self.end - self.start

    def active(self, t: float) -> bool:
        """Whether t falls inside the incident."""
        return self.start <= t < self.end

    def envelope(self, times: FloatArray) -> FloatArray:
        """How far the incident is developed at each time, 0 (absent) to 1 (worst)."""
        if self.knots:
            at, level = zip(*self.knots, strict=True)
            drawn: FloatArray = np.interp(times, at, level, left=0.0, right=0.0)
            return drawn
        if self.rise_power == 0.0:
            ramp_in = min(2 * MINUTE, 0.15 * self.duration_s)
            ramp_out = min(4 * MINUTE, 0.25 * self.duration_s)
            shape = np.minimum((times - self.start) / ramp_in, (self.end - times) / ramp_out)
            return np.clip(shape, 0.0, 1.0)
        rising = np.clip((times - self.start) / (self.peak - self.start), 0.0, 1.0)
        falling = np.clip((self.end - times) / (self.end - self.peak), 0.0, 1.0)
        return np.where(times < self.peak, rising**self.rise_power, falling)

    def describe(self) -> str:
        """The incident in words, e.g. "latency spike on payments-api: p95 x6.1 for 23 min"."""
        minutes = round(self.duration_s / MINUTE)
        what = {
            IncidentKind.LATENCY_SPIKE: f"p95 x{self.magnitude:.1f}",
            IncidentKind.ERROR_BURST: f"errors up to {self.magnitude:.0%}",
            IncidentKind.OUTAGE: "health checks fail (503)",
            IncidentKind.QUEUE_BACKLOG: f"backlog of {self.magnitude:,.0f} messages",
            IncidentKind.DISK_FILL: f"disk grows by {self.magnitude:.0f} points, then cleaned",
        }[self.kind]
        target = self.series.labels.get("host") or self.series.labels.get("group") or ""
        where = f"{self.service} ({target})" if target else self.service
        return f"{self.kind.value.replace('_', ' ')} on {where}: {what} for {minutes} min"


# Relative frequencies of the kinds.
_KIND_WEIGHTS = (
    (IncidentKind.LATENCY_SPIKE, 0.28),
    (IncidentKind.ERROR_BURST, 0.22),
    (IncidentKind.OUTAGE, 0.12),
    (IncidentKind.QUEUE_BACKLOG, 0.20),
    (IncidentKind.DISK_FILL, 0.18),
)


def _between(low: float, high: float, fraction: float) -> float:
    return low + (high - low) * fraction


def _pick(choices: tuple[str, ...] | list[str], fraction: float) -> str:
    return choices[min(int(fraction * len(choices)), len(choices) - 1)]


def _kind(fraction: float) -> IncidentKind:
    total = sum(weight for _, weight in _KIND_WEIGHTS)
    point = fraction * total
    for kind, weight in _KIND_WEIGHTS:
        if point < weight:
            return kind
        point -= weight
    return _KIND_WEIGHTS[-1][0]


class Schedule:
    """The incidents of one seed over one catalogue, computed slot by slot and remembered."""

    def __init__(self, seed: int, catalogue: Catalogue) -> None:
        self._seed = seed
        self._catalogue = catalogue
        self._http = [svc.id for svc in catalogue.services if svc.latency_ms is not None]
        self._all = [svc.id for svc in catalogue.services]
        self._cache: dict[int, tuple[Incident, ...]] = {}

    def between(self, t0: float, t1: float) -> list[Incident]:
        """Incidents that are active at some moment of [t0, t1), in order of start."""
        first = math.floor((t0 - MAX_INCIDENT_S) / SLOT_S)
        last = math.floor(t1 / SLOT_S)
        found = [
            incident
            for slot in range(first, last + 1)
            for incident in self.slot(slot)
            if incident.start < t1 and incident.end > t0
        ]
        return sorted(found, key=lambda incident: (incident.start, incident.kind.value))

    def active(self, t: float) -> list[Incident]:
        """Incidents under way at t."""
        return [incident for incident in self.between(t, t + 1e-6) if incident.active(t)]

    def slot(self, slot: int) -> tuple[Incident, ...]:
        """The incidents starting in one slot."""
        cached = self._cache.get(slot)
        if cached is None:
            if len(self._cache) > 50_000:
                self._cache.clear()
            cached = tuple(
                incident
                for draw, chance in enumerate(_DRAW_CHANCES)
                if (incident := self._draw(slot, draw, chance)) is not None
            )
            self._cache[slot] = cached
        return cached

    def _draw(self, slot: int, draw: int, chance: float) -> Incident | None:
        happens, kind, target, offset, first, second, size = unit_floats(
            self._seed, "incident", slot, draw, count=7
        )
        if happens >= chance:
            return None
        start = slot * SLOT_S + offset * SLOT_S
        builder = {
            IncidentKind.LATENCY_SPIKE: self._latency_spike,
            IncidentKind.ERROR_BURST: self._error_burst,
            IncidentKind.OUTAGE: self._outage,
            IncidentKind.QUEUE_BACKLOG: self._queue_backlog,
            IncidentKind.DISK_FILL: self._disk_fill,
        }[_kind(kind)]
        return builder(start, target, (first, second, size))

    def _latency_spike(self, start: float, target: float, u: tuple[float, ...]) -> Incident:
        service = _pick(self._http, target)
        factor = _between(3.0, 10.0, u[2])
        end = start + _between(10, 40, u[0]) * MINUTE
        effects = (
            Effect(SeriesKey(Metric.LATENCY_P95, service), EffectOp.SCALE, factor - 1.0),
            Effect(SeriesKey(Metric.CPU, service), EffectOp.ADD, _between(25.0, 45.0, u[1])),
            Effect(SeriesKey(Metric.ERROR_RATIO, service), EffectOp.ADD, 0.01),
        )
        return Incident(
            IncidentKind.LATENCY_SPIKE, service, start, (start + end) / 2, end, factor, effects
        )

    def _error_burst(self, start: float, target: float, u: tuple[float, ...]) -> Incident:
        service = _pick(self._all, target)
        ratio = _between(0.04, 0.35, u[2] ** 1.5)
        end = start + _between(6, 30, u[0]) * MINUTE
        effects = (Effect(SeriesKey(Metric.ERROR_RATIO, service), EffectOp.ADD, ratio),)
        return Incident(
            IncidentKind.ERROR_BURST, service, start, (start + end) / 2, end, ratio, effects
        )

    def _outage(self, start: float, target: float, u: tuple[float, ...]) -> Incident:
        service = _pick(self._all, target)
        failing = _between(0.9, 0.99, u[2])
        end = start + _between(4, 20, u[0]) * MINUTE
        effects = [
            Effect(SeriesKey(Metric.ERROR_RATIO, service), EffectOp.TOWARDS, failing),
            Effect(SeriesKey(Metric.CPU, service), EffectOp.TOWARDS, 2.0),
        ]
        if self._catalogue.service(service).latency_ms is not None:
            # Clients wait for their timeouts while nothing answers.
            effects.append(Effect(SeriesKey(Metric.LATENCY_P95, service), EffectOp.SCALE, 5.0))
        knock_on = _between(0.05, 0.25, u[1])
        effects.extend(
            Effect(SeriesKey(Metric.ERROR_RATIO, dependent), EffectOp.ADD, knock_on)
            for dependent in self._catalogue.dependents(service)
        )
        return Incident(
            IncidentKind.OUTAGE, service, start, (start + end) / 2, end, failing, tuple(effects)
        )

    def _queue_backlog(self, start: float, target: float, u: tuple[float, ...]) -> Incident:
        queues = self._catalogue.queues
        queue = queues[min(int(target * len(queues)), len(queues) - 1)]
        backlog = round(_between(4_000, 60_000, u[2] ** 2))
        peak = start + _between(30, 120, u[0]) * MINUTE
        end = peak + _between(20, 60, u[1]) * MINUTE
        effects = (Effect(queue_key(queue), EffectOp.ADD, float(backlog)),)
        return Incident(
            IncidentKind.QUEUE_BACKLOG, queue.service, start, peak, end, backlog, effects, 1.6
        )

    def _disk_fill(self, start: float, target: float, u: tuple[float, ...]) -> Incident:
        disks = self._catalogue.disks
        disk = disks[min(int(target * len(disks)), len(disks) - 1)]
        # Aim for a peak between 91% and 98% of the disk's usual level.
        growth = _between(91.0, 98.0, u[2]) - disk.used_percent
        peak = start + _between(3.0, 9.0, u[0]) * HOUR
        end = peak + _between(5, 15, u[1]) * MINUTE
        effects = (Effect(disk_key(disk), EffectOp.ADD, growth),)
        return Incident(
            IncidentKind.DISK_FILL, disk.service, start, peak, end, growth, effects, 1.4
        )
