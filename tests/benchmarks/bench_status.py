"""The monitoring read model on a big store: what one refresh of the view or the wall costs.

Run: ``.venv/bin/python tests/benchmarks/bench_status.py`` (not part of the test run; building
the store takes 5 to 8 minutes on 2 busy cores). The store holds 5,000 http endpoints with 2
metrics each over 50 services (15,000 series with ``up``), a day of samples every 5 minutes
rolled up plus the last two minutes at 30 s in the inbox, each endpoint's newest result and
state changes for a tenth of the endpoints, all written through the engine's recorder and the
store's own functions. ``metric_statuses``, ``tiles`` and 60 sparklines are then timed on a
reader connection (best and median of several runs, wall and CPU time; the very first read,
which knows nothing yet, apart). Between two timed reads of "new results", the engine's
recorder writes what 5,000 endpoints at 30 s produce in 1.5 s. ``--store PATH`` keeps the
store for reruns (reruns add those results to its inbox, which no roll-up empties here).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.core.checks import CheckState, StateType
from console.core.clock import FakeClock
from console.core.deviation import DeviationConfig
from console.core.endpoints import Endpoint, HttpTarget, MetricSpec
from console.core.enums import Discipline, ImpactTier
from console.core.evaluation import StateChange
from console.core.events import EventType
from console.core.models import Estate, Service, Team
from console.core.thresholds import StaticThresholds
from console.core.units import Unit
from console.engine.recorder import Recorder
from console.store import entities, samples, status
from console.store.db import Store

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
METRICS = ("response_time_ms", "json_value")


def estate(size: int, services: int) -> Estate:
    """``size`` http endpoints with two judged metrics, spread over ``services`` services."""
    specs = (
        MetricSpec(
            "response_time_ms",
            "response time",
            Unit.MILLISECONDS,
            thresholds=StaticThresholds.above(warning=500.0, critical=1500.0),
        ),
        MetricSpec("json_value", "queue depth", deviation=DeviationConfig()),
    )
    return Estate(
        teams=(Team("ops", "Operations", Discipline.INFRASTRUCTURE),),
        services=tuple(
            Service(f"svc{i:03d}", f"Service {i}", "ops", ImpactTier(1 + i % 4))
            for i in range(services)
        ),
        endpoints=tuple(
            Endpoint(
                f"ep{i:05d}",
                f"Endpoint {i}",
                f"svc{i % services:03d}",
                HttpTarget(f"http://127.0.0.2:8080/{i}"),
                interval_s=30.0,
                metrics=specs,
            )
            for i in range(size)
        ),
    )


def fill(store: Store, clock: FakeClock, size: int) -> None:
    """A day of samples, the newest results and some state changes, as the engine writes them."""
    keys = [f"ep{i:05d}" for i in range(size)]
    ids = [samples.series_id(store, k, m) for k in keys for m in ("up", *METRICS)]
    end = samples.epoch_ms(NOW)
    day = [end - samples.DAY_MS + i * 300_000 for i in range(288)]
    for ts in day:
        samples.write_samples(store, [(sid, ts, float(sid % 97)) for sid in ids], batch_size=20_000)
    while samples.roll_up(store, now=NOW).more:
        pass
    recorder = Recorder(store)
    for ts in (end - 90_000, end - 60_000, end - 30_000):
        for key in keys:
            recorder.samples(key, ts, {"up": 1.0, "response_time_ms": 120.0, "json_value": 4.0})
            recorder.result(key, ts, CheckState.OK, "HTTP 200")
        recorder.write(recorder.take())
    for i, key in enumerate(keys[::10]):
        change = StateChange(
            "response time",
            CheckState.OK,
            CheckState.WARNING if i % 2 else CheckState.CRITICAL,
            StateType.HARD,
            (NOW - timedelta(minutes=5 + i % 50)).timestamp(),
            900.0,
            None,
            "response time 900 ms is above 500 ms",
        )
        payload = {
            **change.payload(),
            "endpoint": key,
            "service": "",
            "metric_key": "response_time_ms",
        }
        recorder.event(EventType.METRIC_STATE_CHANGED, f"endpoint:{key}", payload, NOW)
    recorder.write(recorder.take())
    clock.advance(0)


class Ticker:
    """Between two reads, what the engine writes in that time: new results and samples.

    5,000 endpoints at 30 s give about 250 results in 1.5 s (a wall's refresh period), each
    with its samples, in one recorder batch; the odd one changes state.
    """

    def __init__(self, store: Store, size: int, per_tick: int = 250) -> None:
        self.recorder = Recorder(store)
        self.keys = [f"ep{i:05d}" for i in range(size)]
        self.per_tick = per_tick
        self.tick = 0
        newest = store.read().execute("SELECT MAX(at_ms) FROM endpoint_results").fetchone()[0]
        self.ms = int(newest or samples.epoch_ms(NOW))  # a kept store's results are newer

    def __call__(self) -> None:
        self.tick += 1
        self.ms += 1_500
        first = self.tick * self.per_tick % len(self.keys)
        for key in self.keys[first : first + self.per_tick]:
            values = {"up": 1.0, "response_time_ms": 100.0 + self.tick, "json_value": 3.0}
            self.recorder.samples(key, self.ms, values)
            self.recorder.result(key, self.ms, CheckState.OK, "HTTP 200")
        self.recorder.write(self.recorder.take())


def timed(
    label: str, fn: Callable[[], object], runs: int, between: Callable[[], None] | None = None
) -> None:
    """Print one run, then the best and median of ``runs`` more, in milliseconds.

    Wall time and this process's CPU time both: on a shared machine the CPU time is the
    steadier figure (a descheduled read counts in wall time only).
    """
    began = time.perf_counter()
    fn()
    once = (time.perf_counter() - began) * 1000
    wall, cpu = [], []
    for _ in range(runs):
        if between is not None:
            between()
        began, used = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    print(
        f"{label:<34} once {once:7.1f} ms   best {min(wall):7.1f} ms   "
        f"median {statistics.median(wall):7.1f} ms   CPU median {statistics.median(cpu):7.1f} ms"
    )


def main() -> None:
    """Build the store, then time the readers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=5_000)
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--store", type=Path, help="keep the store here, and reuse it when it exists already"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clock = FakeClock(NOW)
        began = time.perf_counter()
        path = args.store or Path(tmp) / "bench.db"
        reuse = path.exists()
        with Store.open(path, clock) as store:
            if not reuse:
                declared = estate(args.endpoints, args.services)
                entities.import_estate(store, declared, prune=False, source="bench_status")
                fill(store, clock, args.endpoints)
                print(f"store built in {time.perf_counter() - began:.0f} s")
            db = store.read()
            began = time.perf_counter()
            count = len(status.metric_statuses(db))
            first = (time.perf_counter() - began) * 1000
            print(f"{args.endpoints:,} endpoints, {count:,} statuses, {args.services} services")
            print(f"{'metric_statuses, first read':<34} {first:7.1f} ms (nothing known yet)")
            ticker = Ticker(store, args.endpoints)
            timed("metric_statuses, nothing new", lambda: status.metric_statuses(db), args.runs)
            timed(
                "metric_statuses, 250 new results",
                lambda: status.metric_statuses(db),
                args.runs,
                ticker,
            )
            timed("tiles, 250 new results", lambda: status.tiles(db, NOW), args.runs, ticker)
            timed("newest_values alone", lambda: status.newest_values(db), args.runs)
            keys = [(f"ep{i:05d}", "response_time_ms") for i in range(60)]
            start = samples.epoch_ms(NOW) - samples.HOUR_MS
            timed(
                "60 sparklines of 1 h",
                lambda: status.sparklines(db, keys, start, samples.epoch_ms(NOW)),
                args.runs,
            )
            start = samples.epoch_ms(NOW) - samples.DAY_MS
            timed(
                "60 sparklines of 24 h",
                lambda: status.sparklines(db, keys, start, samples.epoch_ms(NOW)),
                args.runs,
            )


if __name__ == "__main__":
    main()
