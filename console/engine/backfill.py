"""History before the first check: a week of the demo estate, and warming deviation bands.

Two jobs that make a store useful at once rather than after a week of polling:

* :func:`demo_history` writes what the simulated estate's model says every demo endpoint metric
  was over the last seven days: the numbers the simulator serves at those moments, so history
  and live checks join up. One sample a minute for the last day and one every five minutes
  before it (charts past a day show hourly rollups anyway, and a daily seasonal band still
  pools several samples from each earlier day); then the samples are rolled up and retention
  applied, so the store looks like one that ran for a week: raw samples for 48 h, 1-minute and
  hourly rollups behind them. A setting records how far history was written and nothing is
  written at or before a series' newest stored sample, so a second run only tops up the time
  since (and never duplicates, nor interleaves with samples a real engine took).
* :func:`warm_up` loads each new deviation band's history from the store into its evaluator,
  so an engine that starts (or restarts) judges at once, with no warm-up period.

Whatever the seeded schedule says, a demo has trouble under way when it starts: the first fill
records its moment as the store's scenario anchor (a setting), and :func:`demo_model` gives
every consumer (this history, the replay of recent states, the live simulator) the estate with
the scenario's incidents pinned to that anchor (console.simulator.scenario).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from urllib.parse import urlsplit

import numpy as np

from console.config.demo import demo_estate
from console.core.clock import isoformat, parse_iso
from console.core.endpoints import Endpoint, HttpTarget, ScrapeTarget
from console.core.evaluation import moment
from console.core.models import Estate
from console.engine.history import last_sample_at
from console.engine.judge import EndpointJudge
from console.probes.prometheus import series_name
from console.simulator.backfill import sample_times
from console.simulator.catalogue import Metric, SeriesKey
from console.simulator.incidents import IncidentKind
from console.simulator.model import DEFAULT_SEED, EstateModel
from console.simulator.noise import FloatArray
from console.simulator.scenario import scenario_model
from console.store import estate, samples
from console.store.db import Store
from console.store.entities import import_estate

log = logging.getLogger(__name__)

#: The settings key recording how far demo history was written (JSON: until, seed).
DEMO_HISTORY_SETTING = "demo.history"
#: The settings key recording the demo's scenario (JSON: anchor, seed), set by the first fill.
DEMO_SCENARIO_SETTING = "demo.scenario"
HISTORY_DAYS = 7
DAY_S = 86_400.0
#: One sample a minute for the last day...
FINE_STEP_S = 60.0
FINE_SPAN_S = DAY_S
#: ...and one every five minutes before it.
COARSE_STEP_S = 300.0
#: Rows per ingest transaction: big enough to be quick, short enough not to hold others up.
WRITE_BATCH = 50_000
#: Rows per retention pass (the passes repeat until nothing is left to delete).
PRUNE_BUDGET = 100_000
#: Enough points that a band's whole history comes back at its finest complete resolution
#: (5 days of minutes is 7,200; 30 days of minutes 43,200).
WARM_UP_MAX_POINTS = 50_000

#: Values of one series at many moments (NaN: the probe would have measured nothing then).
Source = Callable[[FloatArray], FloatArray]


@dataclass(frozen=True, slots=True)
class HistoryReport:
    """What :func:`demo_history` wrote.

    Attributes:
        series: Endpoint metrics the model could answer for.
        samples: Samples written (0 when history was already complete).
        start: The earliest moment written (None when nothing was).
        end: The moment history now reaches.
        seconds: How long the whole job took, rollups and retention included.
    """

    series: int
    samples: int
    start: datetime | None
    end: datetime
    seconds: float


# -- what the model can answer for ---------------------------------------------------------


def _health_service(target: HttpTarget, services: frozenset[str]) -> str | None:
    """The service whose simulated health endpoint this target asks, if it is one."""
    parts = urlsplit(target.url).path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "health" and parts[1] in services:
        return parts[1]
    return None


def _outages(model: EstateModel, service: str, times: FloatArray) -> FloatArray:
    """True where the service's health check fails (an outage incident is under way)."""
    down = np.zeros(times.shape, dtype=bool)
    if not times.size:
        return down
    for incident in model.incidents_between(float(times[0]), float(times[-1]) + 1e-6):
        if incident.service == service and incident.kind is IncidentKind.OUTAGE:
            down |= (times >= incident.start) & (times < incident.end)
    return down


def health_up(model: EstateModel, service: str, times: FloatArray) -> FloatArray:
    """The health probe's ``up`` metric: 1 while the service answers 200, 0 while it is down."""
    return np.where(_outages(model, service, times), 0.0, 1.0)


def health_latency(model: EstateModel, service: str, times: FloatArray) -> FloatArray:
    """The ``latency_ms`` a service's health endpoint reports (NaN while down: no JSON read).

    The vectorised twin of ``EstateModel.health_at(...).latency_ms``, as the server rounds it;
    a test holds the two together.
    """
    profile = model.catalogue.service(service)
    if profile.latency_ms is not None:
        p95 = model.values(SeriesKey(Metric.LATENCY_P95, service), times)
        latency = np.minimum(2.0 + 0.03 * p95, 400.0)
    else:
        latency = 1.0 + model.values(SeriesKey(Metric.CPU, service), times) / 20.0
    # Python's round, as the server's JSON has it (numpy's differs on some halves).
    shown = np.array([round(value, 2) for value in latency.tolist()], dtype=np.float64)
    return np.where(_outages(model, service, times), math.nan, shown)


def demo_sources(
    model: EstateModel, endpoints: Iterable[Endpoint]
) -> dict[tuple[str, str], Source]:
    """Every (endpoint key, metric) of these endpoints the model can give values for.

    Scraped gauges map by their series name (``name{label="value",...}``, labels sorted, as
    the scrape probe names them); a health check's ``up`` and its ``json_value`` (the
    reported ``latency_ms``) come from the service's simulated health. Anything else (a TCP
    check's connect time) has no model and gets no history.
    """
    gauges = {series_name(key.name, key.labels): key for key in model.series()}
    services = frozenset(model.services())
    found: dict[tuple[str, str], Source] = {}
    for endpoint in endpoints:
        target = endpoint.target
        health: dict[str, Source] = {}
        if isinstance(target, HttpTarget):
            service = _health_service(target, services)
            if service is not None:
                health["up"] = partial(health_up, model, service)
                if target.json_path == "latency_ms":
                    health["json_value"] = partial(health_latency, model, service)
        for spec in endpoint.metrics:
            source = health.get(spec.metric)
            if isinstance(target, ScrapeTarget) and spec.metric in gauges:
                source = partial(model.values, gauges[spec.metric])
            if source is not None:
                found[(endpoint.key, spec.metric)] = source
    return found


# -- the demo estate -------------------------------------------------------------------------


def import_demo(store: Store, simulator_url: str | None) -> Estate:
    """Import the demo estate, its endpoints aimed at a simulated estate; returns what was declared.

    Args:
        store: The store to fill.
        simulator_url: The running simulator's base URL; None keeps the targets the store
            already has for the demo endpoints (placeholders for new ones), so that an engine
            monitoring them is not pointed away from its own simulator.
    """
    declared = demo_estate(simulator=simulator_url)
    if simulator_url is None:
        stored = {e.key: e.target for e in estate.endpoints(store.read())}
        endpoints = tuple(
            replace(e, target=stored[e.key]) if e.key in stored else e for e in declared.endpoints
        )
        declared = replace(declared, endpoints=endpoints)
    import_estate(store, declared, prune=False, source="demo")
    return declared


# -- the scenario ----------------------------------------------------------------------------


def demo_model(store: Store) -> EstateModel:
    """The simulated estate as this store knows it: its scenario pinned at its anchor.

    A store without a scenario (not a demo store, or one first filled before scenarios
    existed) gets the plain seeded estate, as its history has it.
    """
    raw = store.setting(DEMO_SCENARIO_SETTING)
    if raw is None:
        return EstateModel()
    try:
        data = json.loads(raw)
        anchor = parse_iso(str(data["anchor"])).timestamp()
        seed = int(data.get("seed", DEFAULT_SEED))
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("ignoring an unreadable %s setting: %r", DEMO_SCENARIO_SETTING, raw)
        return EstateModel()
    return scenario_model(anchor, seed)


def anchor_scenario(store: Store, now: datetime) -> EstateModel:
    """The store's model, anchoring its scenario at ``now`` if the store has never been filled.

    A store with history but no scenario keeps the plain estate: pinning incidents into a past
    already written without them would make its history and its live values disagree.
    """
    fresh = store.setting(DEMO_HISTORY_SETTING) is None
    if fresh and store.setting(DEMO_SCENARIO_SETTING) is None:
        scenario = {"anchor": isoformat(now), "seed": DEFAULT_SEED}
        store.set_setting(DEMO_SCENARIO_SETTING, json.dumps(scenario))
    return demo_model(store)


# -- writing history -------------------------------------------------------------------------


def history_times(start: float, end: float) -> FloatArray:
    """Sample moments in (start, end): every 5 min until a day before end, then every minute.

    Moments are whole multiples of their step, so runs that top history up line up with it.
    """
    fine_from = max(start, end - FINE_SPAN_S)
    coarse = _grid(start, fine_from, COARSE_STEP_S)
    fine = _grid(fine_from, end, FINE_STEP_S)
    times = np.concatenate([coarse, fine])
    return times[times > start]


def _grid(start: float, end: float, step: float) -> FloatArray:
    """Multiples of step from the first at or after start, strictly before end."""
    first = math.ceil(start / step) * step
    return sample_times(first, max(first, end), step)


def _written_until(store: Store) -> float | None:
    raw = store.setting(DEMO_HISTORY_SETTING)
    if raw is None:
        return None
    try:
        return parse_iso(str(json.loads(raw)["until"])).timestamp()
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring an unreadable %s setting: %r", DEMO_HISTORY_SETTING, raw)
        return None


def _columns(
    store: Store,
    sources: dict[tuple[str, str], Source],
    ids: dict[tuple[str, str], int],
    start: float,
    now: datetime,
) -> Iterator[tuple[FloatArray, FloatArray, FloatArray]]:
    """(series ids, times, values) per series, starting after its newest stored sample."""
    end = now.timestamp()
    for pair, source in sources.items():
        newest = last_sample_at(store, pair[0], pair[1], now, end - start)
        times = history_times(start if newest is None else max(start, newest), end)
        values = source(times)
        keep = np.isfinite(values)
        yield np.full(int(keep.sum()), ids[pair], dtype=np.float64), times[keep], values[keep]


def _rows(
    columns: Iterable[tuple[FloatArray, FloatArray, FloatArray]],
) -> list[tuple[int, int, float]]:
    """Rows for ``write_samples`` in time order: the inbox is keyed (ts, series)."""
    parts = list(columns)
    if not parts:
        return []
    ids, times, values = (np.concatenate(column) for column in zip(*parts, strict=True))
    stamps = np.rint(times * 1000).astype(np.int64)
    order = np.lexsort((ids, stamps))
    return list(
        zip(
            ids[order].astype(np.int64).tolist(),
            stamps[order].tolist(),
            values[order].tolist(),
            strict=True,
        )
    )


def demo_history(
    store: Store,
    endpoints: Iterable[Endpoint],
    *,
    model: EstateModel | None = None,
    now: datetime | None = None,
    days: int = HISTORY_DAYS,
) -> HistoryReport:
    """Give the demo endpoints ``days`` of history from the simulated estate's model.

    Idempotent: history already written (the setting) and samples already stored (a real
    engine's) are never written again; a later run tops history up to ``now``.

    Args:
        store: The store to fill.
        endpoints: The demo endpoints (others are fine: only metrics the model knows count).
        model: The simulated estate; by default the store's own (:func:`demo_model`), its
            scenario anchored at ``now`` when the store has never been filled.
        now: Where history ends (the store's clock by default).
        days: How far back history starts on a store that has none.

    Returns:
        What was written and how long it took.
    """
    began = time.perf_counter()
    now = now if now is not None else store.clock.now()
    model = model if model is not None else anchor_scenario(store, now)
    end = now.timestamp()
    sources = demo_sources(model, endpoints)
    earliest = end - days * DAY_S
    until = _written_until(store)
    start = earliest if until is None else max(until, earliest)
    rows: list[tuple[int, int, float]] = []
    if sources and end - start >= FINE_STEP_S:
        with store.transaction() as db:
            ids = {pair: samples.series_id(db, *pair) for pair in sources}
        rows = _rows(_columns(store, sources, ids, start, now))
        samples.write_samples(store, rows, batch_size=WRITE_BATCH)
        store.set_setting(
            DEMO_HISTORY_SETTING, json.dumps({"until": isoformat(now), "seed": model.seed})
        )
        samples.roll_up(store, now)
        while samples.prune(store, now, budget_rows=PRUNE_BUDGET):
            pass
    first = min((ts for _, ts, _ in rows), default=None)
    report = HistoryReport(
        series=len(sources),
        samples=len(rows),
        start=None if first is None else moment(first / 1000),
        end=now,
        seconds=time.perf_counter() - began,
    )
    log.info(
        "demo history: %d samples for %d series in %.2f s",
        report.samples,
        report.series,
        report.seconds,
    )
    return report


# -- warming deviation bands -----------------------------------------------------------------


def stored_history(
    store: Store, endpoint: str, metric: str, end: float, seconds: float
) -> list[tuple[float, float]]:
    """A series' stored (time, value) samples over the ``seconds`` up to ``end``, oldest first.

    The finest data still complete for the range: raw samples where retention kept them all,
    else 1-minute averages (stamped at the minute's start). Read on the calling thread's
    reader connection; empty when the series does not exist.
    """
    db = store.read()
    series = samples.find_series(db, endpoint, metric)
    if series is None:
        return []
    end_ms = math.floor(end * 1000) + 1
    start_ms = end_ms - max(1, math.ceil(seconds * 1000))
    data = samples.query_series(db, series, start_ms, end_ms, max_points=WARM_UP_MAX_POINTS)
    return [
        (ts / 1000, value)
        for ts, value in zip(data.timestamps, data.values, strict=True)
        if math.isfinite(value)
    ]


def warm_up(store: Store, judge: EndpointJudge, now: float) -> int:
    """Load stored history into the judge's deviation bands that have not seen it yet.

    A store that cannot be read leaves that band to warm up the slow way (logged), never
    stopping the engine. Returns how many samples were loaded.
    """
    loaded = 0
    for metric, seconds in judge.take_cold():
        try:
            history = stored_history(store, judge.endpoint.key, metric, now, seconds)
        except Exception:  # a store hiccup must not stop monitoring
            log.exception("could not read the history of %s %s", judge.endpoint.key, metric)
            continue
        judge.backfill(metric, history)
        loaded += len(history)
    return loaded
