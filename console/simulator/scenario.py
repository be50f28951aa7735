"""The demo's scenario: incidents pinned around an anchor moment, so a demo has trouble *now*.

The seeded schedule decides what goes wrong when, so whether anything is wrong at the moment a
demo starts is luck, and screenshots of an all-green estate show nothing. A demo store records
the moment it was first filled (its anchor, T); the scenario pins three incidents to it, on top
of the schedule, for every consumer of that store alike (its history, the replay of its recent
states, the live simulator), so they agree however long after T the store is reopened:

* a disk filling up on a PostgreSQL host (one the schedule leaves alone then): from T - 3 h it
  climbs towards about 97 %, passes the critical 90 % about 45 minutes before T (CRITICAL from
  about T - 42 min, once the threshold's two minutes have passed) and is cleaned up five hours
  after T;
* a latency spike on a customer-facing service from T - 10 min to T + 50 min, sized from the
  model's own history to sit between its daily deviation band's warning (2 sigma) and critical
  (3 sigma) edges and below its static critical level: a WARNING;
* an outage of a tier-3 service from T - 25 min to T + 95 min: its health endpoint answers 503.

The thresholds the spike is sized against mirror resources/demo/estate.yaml (the simulator may
not import the configuration; a test keeps the two in step). Everything is a function of the
seed and the anchor: the same pair always gives the same incidents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from console.core.deviation import (
    BandMethod,
    Baseline,
    DeviationConfig,
    Seasonality,
    Side,
    compute_baseline,
)
from console.simulator.catalogue import DEMO_CATALOGUE, Catalogue, Metric, SeriesKey, disk_key
from console.simulator.incidents import Effect, EffectOp, Incident, IncidentKind
from console.simulator.model import DEFAULT_SEED, EstateModel
from console.simulator.noise import FloatArray

MINUTE = 60.0
HOUR = 3600.0
DAY = 86_400.0

#: The disks that may fill, in order of preference (the first the schedule leaves alone around
#: the anchor), and the demo estate's critical level for them.
DISK_HOSTS = ("pg-main-2", "pg-main-1", "pg-main-3")
DISK_CRITICAL_PERCENT = 90.0
DISK_START_S = -3 * HOUR
#: When the disk passes the critical level (the threshold's ``for`` of 2 min then fires it).
DISK_CRITICAL_AT_S = -42 * MINUTE
DISK_CLEANED_S = 5 * HOUR
DISK_CLEANUP_S = 15 * MINUTE
#: How quickly the filling slows down (it approaches its final level exponentially).
_DISK_TAU_S = 80 * MINUTE
_DISK_MARGIN = 0.3
#: The schedule must leave the disk alone this long before the fill starts.
_DISK_CALM_BEFORE_S = 3 * HOUR

#: The service whose health endpoint is down, and when.
OUTAGE_SERVICE = "notification-service"
OUTAGE_START_S = -25 * MINUTE
OUTAGE_END_S = 95 * MINUTE
_OUTAGE_ERRORS = 0.95
_OUTAGE_KNOCK_ON = 0.12

SPIKE_START_S = -10 * MINUTE
SPIKE_END_S = 50 * MINUTE
_SPIKE_RAMP_IN_S = 2 * MINUTE
_SPIKE_RAMP_OUT_S = 3 * MINUTE
#: The spike's level is worked out this often and joined by straight lines.
_SPIKE_STEP_S = 5 * MINUTE
#: How far the spike pulls p95 towards its level: what is left of the usual jitter is small
#: enough (about 1 %) that the value stays between the band's warning and critical edges.
_SPIKE_PULL = 0.9
#: A candidate's warning zone must be at least this share of its centre to be chosen.
_MIN_ZONE = 0.05
#: The spike stays this far below the static critical level.
_CRITICAL_MARGIN = 0.92
_SPIKE_CPU_POINTS = 12.0
#: No scheduled incident on the spike's service may come this close to it.
_QUIET_AROUND_S = 30 * MINUTE

# How the demo history is written (console.engine.backfill.history_times): one sample a minute
# for the last day before the anchor, one every five minutes before it. The spike is sized
# against the same samples the judges' bands are built from.
_FINE_STEP_S = 60.0
_COARSE_STEP_S = 300.0


def _p95_band(min_deviation: float) -> DeviationConfig:
    # The p95 band of every demo service (resources/demo/estate.yaml).
    return DeviationConfig(
        method=BandMethod.MEAN_SIGMA,
        k=3.0,
        warning_k=2.0,
        side=Side.ABOVE,
        seasonality=Seasonality.DAILY,
        seasons=5,
        min_deviation=min_deviation,
        for_seconds=120.0,
    )


#: Moments and the p95 values a spike should show then.
_Levels = tuple[list[float], list[float]]


@dataclass(frozen=True, slots=True)
class SpikeTarget:
    """A service the latency spike may hit, with its p95 thresholds as the demo estate has them.

    Attributes:
        service: The service id.
        band: Its p95 deviation band.
        critical: Its p95 static critical level, milliseconds.
    """

    service: str
    band: DeviationConfig
    critical: float

    @property
    def series(self) -> SeriesKey:
        """The p95 latency series."""
        return SeriesKey(Metric.LATENCY_P95, self.service)


#: In order of preference: the first whose band leaves room for a WARNING at the anchor and
#: that the schedule leaves alone around it takes the spike.
SPIKE_TARGETS = (
    SpikeTarget("checkout-web", _p95_band(45.0), 930.0),
    SpikeTarget("auth-service", _p95_band(20.0), 360.0),
    SpikeTarget("fraud-scoring", _p95_band(25.0), 525.0),
    SpikeTarget("api-gateway", _p95_band(15.0), 255.0),
    SpikeTarget("docs-portal", _p95_band(15.0), 285.0),
)


def demo_scenario(anchor: float, seed: int = DEFAULT_SEED) -> tuple[Incident, ...]:
    """The incidents pinned to a demo store's anchor (Unix seconds), in order of start.

    Args:
        anchor: When the demo store was first filled.
        seed: The estate's seed (the spike is sized from its history).
    """
    plain = EstateModel(seed, DEMO_CATALOGUE)
    pinned = (disk_fill(plain, anchor), latency_spike(plain, anchor), outage(plain, anchor))
    return tuple(sorted(pinned, key=lambda incident: incident.start))


def scenario_model(anchor: float, seed: int = DEFAULT_SEED) -> EstateModel:
    """The demo estate with the scenario anchored at ``anchor`` pinned on top of its schedule."""
    return EstateModel(seed, DEMO_CATALOGUE, pinned=demo_scenario(anchor, seed))


# -- the disk --------------------------------------------------------------------------------


def disk_fill(plain: EstateModel, anchor: float) -> Incident:
    """The disk filling up: critical from about 40 minutes before the anchor, for hours after.

    The used space is pulled towards a final level along a curve that flattens as it goes; the
    level is chosen so the disk crosses the critical line at ``DISK_CRITICAL_AT_S`` and stays
    above it until the cleanup, whatever the disk's usual level at that moment of the week.
    """
    start, crossing = anchor + DISK_START_S, anchor + DISK_CRITICAL_AT_S
    cleaned, end = anchor + DISK_CLEANED_S, anchor + DISK_CLEANED_S + DISK_CLEANUP_S
    disks = [d for host in DISK_HOSTS for d in plain.catalogue.disks if d.host == host]
    # A scheduled fill of the same disk would add to this one (and bring the crossing forward)
    # or, just before it, make it look like the same disk filling twice.
    calm = [d for d in disks if _untouched(plain, disk_key(d), start - _DISK_CALM_BEFORE_S, end)]
    free = [d for d in disks if _untouched(plain, disk_key(d), start, end)]
    disk = (calm or free or disks)[0]
    key = disk_key(disk)
    shape = np.linspace(start, cleaned, 1 + round((cleaned - start) / (5 * MINUTE)))
    rise = _saturating(shape, start, cleaned)
    # The value is usual * (1 - pull) + level * pull: the lowest level that keeps it above the
    # line from the crossing to the cleanup, whatever the disk does meanwhile (a weekly
    # compaction may fall in it).
    times = np.append(crossing, shape[shape > crossing])
    usual = plain.values(key, times)
    pull = np.interp(times, shape, rise)
    line = DISK_CRITICAL_PERCENT + _DISK_MARGIN
    level = float(np.max((line - usual * (1.0 - pull)) / pull))
    knots = (*zip(shape.tolist(), rise.tolist(), strict=True), (end, 0.0))
    return Incident(
        IncidentKind.DISK_FILL,
        disk.service,
        start,
        cleaned,
        end,
        level - float(usual[0]),
        (Effect(key, EffectOp.TOWARDS, min(level, 99.0)),),
        knots=knots,
    )


def _untouched(plain: EstateModel, key: SeriesKey, start: float, end: float) -> bool:
    """Whether no scheduled incident bends the series around [start, end)."""
    near = plain.incidents_between(start - _QUIET_AROUND_S, end + _QUIET_AROUND_S)
    return not any(effect.series == key for incident in near for effect in incident.effects)


def _saturating(times: FloatArray, start: float, end: float) -> FloatArray:
    """0 at start rising to 1 at end, fast at first and slower later (1 - exp(-t / tau))."""
    full = 1.0 - math.exp(-(end - start) / _DISK_TAU_S)
    return (1.0 - np.exp(-np.clip(times - start, 0.0, None) / _DISK_TAU_S)) / full


# -- the latency spike ----------------------------------------------------------------------


def latency_spike(plain: EstateModel, anchor: float) -> Incident:
    """A latency spike at WARNING level on the first suitable of ``SPIKE_TARGETS``.

    Suitable: the schedule leaves the service alone around the spike, and its band leaves a
    comfortable zone between the warning and critical edges all along. The spike's level
    follows the middle of that zone as the band moves with the time of day.
    """
    start, end = anchor + SPIKE_START_S, anchor + SPIKE_END_S
    moments = _multiples(start, end + _SPIKE_STEP_S, _SPIKE_STEP_S).tolist()
    best: tuple[float, SpikeTarget, list[float]] | None = None
    for target in SPIKE_TARGETS:
        zones = [warning_zone(plain, target, at, anchor) for at in moments]
        if any(zone is None for zone in zones):
            continue
        known = [zone for zone in zones if zone is not None]
        width = min((high - low) / low for low, high in known)
        middles = [(low + high) / 2 for low, high in known]
        if _quiet(plain, target.service, start, end) and width >= _MIN_ZONE:
            return _spike(plain, target, (start, end), (moments, middles))
        if best is None or width > best[0]:
            best = (width, target, middles)
    if best is None:
        # No band has room for a WARNING: just below the static critical level, then.
        target = SPIKE_TARGETS[0]
        highest = [_CRITICAL_MARGIN * target.critical] * len(moments)
        return _spike(plain, target, (start, end), (moments, highest))
    return _spike(plain, best[1], (start, end), (moments, best[2]))


def warning_zone(
    plain: EstateModel, target: SpikeTarget, at: float, anchor: float
) -> tuple[float, float] | None:
    """The p95 values judged WARNING at ``at``: beyond the warning edge, within critical.

    The band is built as the judges build it, from the history a demo store anchored at
    ``anchor`` holds; None when it is still warming up or has no room between its edges.
    """
    band = target.band
    times = _pooled_times(at, anchor, band)
    values = plain.values(target.series, times)
    baseline = compute_baseline(list(zip(times.tolist(), values.tolist(), strict=True)), at, band)
    if not isinstance(baseline, Baseline):
        return None
    warning_k = band.warning_k if band.warning_k is not None else band.k
    low = baseline.centre + max(warning_k * baseline.spread, band.min_deviation)
    high = baseline.centre + max(band.k * baseline.spread, band.min_deviation)
    high = min(high, _CRITICAL_MARGIN * target.critical)
    return (low, high) if high > low else None


def _pooled_times(at: float, anchor: float, band: DeviationConfig) -> FloatArray:
    """The history moments a seasonal band pools at ``at``, on the demo history's grid."""
    fine_from = math.ceil((anchor - DAY) / _FINE_STEP_S) * _FINE_STEP_S
    parts: list[FloatArray] = []
    for n in range(1, band.seasons + 1):
        low = at - n * band.seasonality.period - band.tolerance
        high = at - n * band.seasonality.period + band.tolerance
        fine = _multiples(max(low, fine_from), high, _FINE_STEP_S)
        coarse = _multiples(low, min(high, fine_from - 1e-3), _COARSE_STEP_S)
        parts.extend((coarse, fine))
    return np.concatenate(parts)


def _multiples(low: float, high: float, step: float) -> FloatArray:
    """Multiples of step in [low, high]."""
    first, last = math.ceil(low / step), math.floor(high / step)
    return step * np.arange(first, last + 1, dtype=np.float64)


def _quiet(plain: EstateModel, service: str, start: float, end: float) -> bool:
    """Whether the schedule leaves the service alone around [start, end)."""
    near = plain.incidents_between(start - _QUIET_AROUND_S, end + _QUIET_AROUND_S)
    return not any(incident.service == service for incident in near)


def _spike(
    plain: EstateModel, target: SpikeTarget, span: tuple[float, float], levels: _Levels
) -> Incident:
    """The spike from span[0] to span[1] holding p95 at about the given (moment, value)s."""
    start, end = span
    moments, values = levels
    # What is left of the usual value (a tenth) is added back: subtract its typical size.
    usual = [
        float(np.mean(plain.values(target.series, _multiples(at - 300.0, at + 300.0, MINUTE))))
        for at in moments
    ]
    path = tuple(
        (at, (value - (1.0 - _SPIKE_PULL) * typical) / _SPIKE_PULL)
        for at, value, typical in zip(moments, values, usual, strict=True)
    )
    effects = (
        Effect(target.series, EffectOp.TOWARDS, path[0][1], path),
        Effect(SeriesKey(Metric.CPU, target.service), EffectOp.ADD, _SPIKE_CPU_POINTS),
    )
    knots = (
        (start, 0.0),
        (start + _SPIKE_RAMP_IN_S, _SPIKE_PULL),
        (end - _SPIKE_RAMP_OUT_S, _SPIKE_PULL),
        (end, 0.0),
    )
    factor = max(values) / max(max(usual), 1.0)
    return Incident(
        IncidentKind.LATENCY_SPIKE,
        target.service,
        start,
        (start + end) / 2,
        end,
        factor,
        effects,
        knots=knots,
    )


# -- the outage ------------------------------------------------------------------------------


def outage(plain: EstateModel, anchor: float) -> Incident:
    """The outage: the health endpoint answers 503 and requests fail, as a scheduled one."""
    catalogue: Catalogue = plain.catalogue
    service = OUTAGE_SERVICE
    effects = [
        Effect(SeriesKey(Metric.ERROR_RATIO, service), EffectOp.TOWARDS, _OUTAGE_ERRORS),
        Effect(SeriesKey(Metric.CPU, service), EffectOp.TOWARDS, 2.0),
    ]
    if catalogue.service(service).latency_ms is not None:
        effects.append(Effect(SeriesKey(Metric.LATENCY_P95, service), EffectOp.SCALE, 5.0))
    effects.extend(
        Effect(SeriesKey(Metric.ERROR_RATIO, dependent), EffectOp.ADD, _OUTAGE_KNOCK_ON)
        for dependent in catalogue.dependents(service)
    )
    start, end = anchor + OUTAGE_START_S, anchor + OUTAGE_END_S
    return Incident(
        IncidentKind.OUTAGE, service, start, (start + end) / 2, end, _OUTAGE_ERRORS, tuple(effects)
    )
