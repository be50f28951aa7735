"""A deterministic model of the demo estate: every metric, health and counter as a function of time.

Pure: no I/O, no state that a call changes. A series' value at a moment is its quiet baseline
(a daily rhythm in the shop's main time zone, a slow drift and hashed noise) bent by whatever
incidents the seeded schedule, and any incidents pinned on top of it (a demo scenario's), have
under way then. The same seed, pins and moment always give the same value, so the live server
and a seven-day backfill agree point for point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np

from console.simulator.catalogue import (
    DEMO_CATALOGUE,
    Catalogue,
    Metric,
    SeriesKey,
    ServiceProfile,
)
from console.simulator.incidents import EffectOp, Incident, IncidentKind, Schedule
from console.simulator.noise import (
    DAY_S,
    FloatArray,
    daily_load,
    smooth,
    stream_key,
    unit_floats,
    white,
)

DEFAULT_SEED = 20260101
MINUTE = 60.0
HOUR = 3600.0

# A service calls itself degraded past any of these.
DEGRADED_ERROR_RATIO = 0.05
DEGRADED_LATENCY_FACTOR = 3.0
DEGRADED_QUEUE_DEPTH = 2_000.0
DEGRADED_DISK_PERCENT = 90.0

# A service notices these in itself (its own slow or failing requests) and says so.
_SELF_REPORTED = frozenset({IncidentKind.LATENCY_SPIKE, IncidentKind.ERROR_BURST})

# The simulated processes have been running since then (2020-09-13): counters start at zero.
_COUNTER_ORIGIN = 1_600_000_000.0
_DAY_OMEGA = 2.0 * math.pi / DAY_S
_WEEK_OMEGA = _DAY_OMEGA / 7.0
# Request rate peaks at 13:00 UTC, on Wednesdays (day 6 after the Thursday of the epoch).
_DAY_PEAK_S = 13 * HOUR
_WEEK_PEAK_S = 6 * DAY_S + 13 * HOUR
_DAY_SWING = 0.7
_WEEK_SWING = 0.15


class HealthStatus(Enum):
    """What a service's health endpoint says about itself."""

    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class Health:
    """One health check answer.

    Attributes:
        service: The service asked.
        status: Up and well, up but struggling, or down.
        http_status: 200 while up, 503 while down.
        latency_ms: How long the check takes to answer.
        version: The release deployed at that moment.
    """

    service: str
    status: HealthStatus
    http_status: int
    latency_ms: float
    version: str

    @property
    def up(self) -> bool:
        """Whether the service answers its health check successfully."""
        return self.status is not HealthStatus.DOWN


class EstateModel:
    """The simulated estate for one seed.

    Args:
        seed: Chooses the noise and the incident schedule; the same seed gives the same estate.
        catalogue: The services, consumer groups and disks to simulate.
        pinned: Incidents that happen whatever the schedule says (a demo scenario's, see
            console.simulator.scenario), merged with the scheduled ones everywhere.
    """

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        catalogue: Catalogue = DEMO_CATALOGUE,
        *,
        pinned: Sequence[Incident] = (),
    ) -> None:
        self._seed = seed
        self._catalogue = catalogue
        self._series = catalogue.series()
        self._schedule = Schedule(seed, catalogue)
        self._pinned = tuple(sorted(pinned, key=_order))
        self._keys: dict[tuple[str, str], int] = {}
        self._by_service = {
            svc.id: tuple(key for key in self._series if key.service == svc.id)
            for svc in catalogue.services
        }

    @property
    def seed(self) -> int:
        """The seed this estate was built from."""
        return self._seed

    @property
    def catalogue(self) -> Catalogue:
        """What is simulated."""
        return self._catalogue

    @property
    def pinned(self) -> tuple[Incident, ...]:
        """The incidents pinned on top of the schedule, in order of start."""
        return self._pinned

    def series(self) -> tuple[SeriesKey, ...]:
        """Every gauge series the estate exposes."""
        return self._series

    def services(self) -> tuple[str, ...]:
        """Every service id, in catalogue order."""
        return tuple(svc.id for svc in self._catalogue.services)

    def value_at(self, series: SeriesKey, t: float) -> float:
        """The value of one series at Unix time t."""
        return float(self.values(series, np.array([t], dtype=np.float64))[0])

    def values(self, series: SeriesKey, times: Sequence[float] | FloatArray) -> FloatArray:
        """The values of one series at many times at once (same numbers as value_at)."""
        stamps = np.asarray(times, dtype=np.float64).reshape(-1)
        if stamps.size == 0:
            return np.zeros(0)
        bent = self._bend(series, stamps, self._baseline(series, stamps))
        return _clip(series.metric, bent)

    def snapshot(self, t: float) -> dict[SeriesKey, float]:
        """Every series at t."""
        return {key: self.value_at(key, t) for key in self._series}

    def incidents_between(self, t0: float, t1: float) -> list[Incident]:
        """Incidents active at some moment of [t0, t1), scheduled or pinned, in order of start."""
        found = self._schedule.between(t0, t1)
        pinned = [
            incident for incident in self._pinned if incident.start < t1 and incident.end > t0
        ]
        if not pinned:
            return found
        return sorted(found + pinned, key=_order)

    def active_incidents(self, t: float) -> list[Incident]:
        """Incidents under way at t, scheduled or pinned."""
        return [incident for incident in self.incidents_between(t, t + 1e-6) if incident.active(t)]

    def requests_total(self, service: str, t: float) -> float:
        """Requests the service has served since its start: a counter that never goes down.

        Its rate follows a smooth daily and weekly rhythm (a closed-form integral, so any two
        moments give a consistent increase) peaking at the service's peak_rps.
        """
        profile = self._catalogue.service(service)
        base_rate = profile.peak_rps / ((1.0 + _DAY_SWING) * (1.0 + _WEEK_SWING))
        served = _rate_integral(t) - _rate_integral(_COUNTER_ORIGIN)
        return max(0.0, base_rate * served)

    def version_at(self, service: str, t: float) -> str:
        """The release deployed at t: the patch level moves with the service's deploys."""
        profile = self._catalogue.service(service)
        cadence_days = 1 + self._key(service, "deploys") % 4
        # Deploys happen at 10:00 UTC.
        days = math.floor((t - 10 * HOUR) / DAY_S)
        return f"{profile.version}.{(days // cadence_days) % 100}"

    def health_at(self, service: str, t: float) -> Health:
        """What the service's health endpoint answers at t.

        Raises:
            KeyError: If the estate has no such service.
        """
        profile = self._catalogue.service(service)
        version = self.version_at(service, t)
        active = [incident for incident in self.active_incidents(t) if incident.service == service]
        if any(incident.kind is IncidentKind.OUTAGE for incident in active):
            # A load balancer answers for the dead backend at once.
            (jitter,) = unit_floats(self._seed, service, "down", math.floor(t), count=1)
            return Health(service, HealthStatus.DOWN, 503, 0.3 + jitter, version)
        now = {key: self.value_at(key, t) for key in self._by_service[service]}
        struggling = any(
            incident.kind in _SELF_REPORTED and incident.envelope(np.array([t]))[0] >= 0.5
            for incident in active
        )
        status = HealthStatus.DEGRADED if struggling or _degraded(profile, now) else HealthStatus.OK
        return Health(service, status, 200, _check_latency(profile, now), version)

    def _key(self, ident: str, stream: str) -> int:
        found = self._keys.get((ident, stream))
        if found is None:
            found = self._keys[(ident, stream)] = stream_key(self._seed, ident, stream)
        return found

    def _drift(self, series: SeriesKey, times: FloatArray, size: float) -> FloatArray:
        """A slow wander of about +/- size: a multi-day wave plus smooth six-hourly noise."""
        period, phase = unit_floats(self._seed, series.ident, "drift", count=2)
        wave = np.sin(2.0 * math.pi * times / ((3.0 + 6.0 * period) * DAY_S) + 2 * math.pi * phase)
        wander = smooth(self._key(series.ident, "drift"), times, 6 * HOUR)
        return 1.0 + size * (0.7 * wave + 0.4 * wander)

    def _noise(self, series: SeriesKey, times: FloatArray, fast: float, slow: float) -> FloatArray:
        """Scrape-to-scrape jitter (10 s buckets) on top of a smooth five-minute wander."""
        jitter = white(self._key(series.ident, "fast"), times, 10.0)
        wander = smooth(self._key(series.ident, "slow"), times, 5 * MINUTE)
        return fast * jitter + slow * wander

    def _baseline(self, series: SeriesKey, times: FloatArray) -> FloatArray:
        if series.metric is Metric.DISK_USED:
            return self._disk(series, times)
        load = daily_load(times)
        if series.metric is Metric.QUEUE_DEPTH:
            depth = self._queue_depth(series)
            shape = (0.25 + 1.5 * load) * self._drift(series, times, 0.1)
            return depth * shape * np.exp(self._noise(series, times, 0.35, 0.2))
        profile = self._catalogue.service(series.service)
        if series.metric is Metric.LATENCY_P95:
            quiet = profile.latency_ms or 1.0
            shape = (1.0 + 0.9 * load) * self._drift(series, times, 0.05)
            return quiet * shape * np.exp(self._noise(series, times, 0.07, 0.05))
        if series.metric is Metric.ERROR_RATIO:
            shape = (1.0 + 0.8 * load) * self._drift(series, times, 0.08)
            return profile.error_ratio * shape * np.exp(self._noise(series, times, 0.3, 0.15))
        busy = profile.cpu_percent + profile.cpu_load * load
        return busy * self._drift(series, times, 0.05) + self._noise(series, times, 2.0, 1.5)

    def _queue_depth(self, series: SeriesKey) -> float:
        group = series.labels.get("group")
        return next(q.depth for q in self._catalogue.queues if q.group == group)

    def _disk(self, series: SeriesKey, times: FloatArray) -> FloatArray:
        """Used space creeps up through the week and drops at the weekly compaction."""
        host = series.labels.get("host")
        level = next(d.used_percent for d in self._catalogue.disks if d.host == host)
        slope, phase = unit_floats(self._seed, series.ident, "growth", count=2)
        per_day = 0.3 + 0.5 * slope
        days_into_week = np.mod(times - phase * 7 * DAY_S, 7 * DAY_S) / DAY_S
        creep = per_day * (days_into_week - 3.5)
        return level + creep + self._noise(series, times, 0.03, 0.1)

    def _bend(self, series: SeriesKey, times: FloatArray, values: FloatArray) -> FloatArray:
        """Apply the incidents that touch this series, the strongest effect of each kind winning."""
        scale = np.ones_like(values)
        add = np.zeros_like(values)
        pull = np.zeros_like(values)
        target = np.zeros_like(values)
        for incident in self.incidents_between(float(times.min()), float(times.max()) + 1e-6):
            effects = [effect for effect in incident.effects if effect.series == series]
            if not effects:
                continue
            envelope = incident.envelope(times)
            for effect in effects:
                amount = effect.amounts(times)
                if effect.op is EffectOp.SCALE:
                    scale = np.maximum(scale, 1.0 + amount * envelope)
                elif effect.op is EffectOp.ADD:
                    add = np.maximum(add, amount * envelope)
                else:
                    target = np.where(envelope > pull, amount, target)
                    pull = np.maximum(pull, envelope)
        bent = values * scale + add
        return bent + (target - bent) * pull


def _order(incident: Incident) -> tuple[float, str]:
    return (incident.start, incident.kind.value)


def _clip(metric: Metric, values: FloatArray) -> FloatArray:
    if metric is Metric.ERROR_RATIO:
        return np.clip(values, 0.0, 1.0)
    if metric is Metric.CPU:
        return np.clip(values, 0.5, 100.0)
    if metric is Metric.DISK_USED:
        return np.clip(values, 0.0, 99.9)
    if metric is Metric.QUEUE_DEPTH:
        return np.floor(np.maximum(values, 0.0) + 0.5)
    return np.maximum(values, 1.0)


def _degraded(profile: ServiceProfile, now: dict[SeriesKey, float]) -> bool:
    for key, value in now.items():
        metric = key.metric
        if (
            (metric is Metric.ERROR_RATIO and value > DEGRADED_ERROR_RATIO)
            or (metric is Metric.QUEUE_DEPTH and value > DEGRADED_QUEUE_DEPTH)
            or (metric is Metric.DISK_USED and value > DEGRADED_DISK_PERCENT)
        ):
            return True
        quiet = profile.latency_ms
        if metric is Metric.LATENCY_P95 and quiet and value > DEGRADED_LATENCY_FACTOR * quiet:
            return True
    return False


def _check_latency(profile: ServiceProfile, now: dict[SeriesKey, float]) -> float:
    """A health check costs a little, more when the service is slow or busy."""
    if profile.latency_ms is not None:
        p95 = now[SeriesKey(Metric.LATENCY_P95, profile.id)]
        return min(2.0 + 0.03 * p95, 400.0)
    return 1.0 + now[SeriesKey(Metric.CPU, profile.id)] / 20.0


def _rate_integral(t: float) -> float:
    """Integral of (1 + a cos(day phase)) * (1 + b cos(week phase)) dt, an antiderivative."""
    day = _DAY_OMEGA * (t - _DAY_PEAK_S)
    week = _WEEK_OMEGA * (t - _WEEK_PEAK_S)
    cross = 0.5 * _DAY_SWING * _WEEK_SWING
    return (
        t
        + _DAY_SWING * math.sin(day) / _DAY_OMEGA
        + _WEEK_SWING * math.sin(week) / _WEEK_OMEGA
        + cross * math.sin(day + week) / (_DAY_OMEGA + _WEEK_OMEGA)
        + cross * math.sin(day - week) / (_DAY_OMEGA - _WEEK_OMEGA)
    )


def request_rate(profile: ServiceProfile, t: float) -> float:
    """Requests per second at t: the derivative of EstateModel.requests_total."""
    base_rate = profile.peak_rps / ((1.0 + _DAY_SWING) * (1.0 + _WEEK_SWING))
    day = math.cos(_DAY_OMEGA * (t - _DAY_PEAK_S))
    week = math.cos(_WEEK_OMEGA * (t - _WEEK_PEAK_S))
    return base_rate * (1.0 + _DAY_SWING * day) * (1.0 + _WEEK_SWING * week)
