"""Sample ingest and chart-query costs, against bare sqlite3 doing the same work in one run.

Run: ``.venv/bin/python tests/benchmarks/bench_samples.py`` (not part of the test run).
Targets (issue 4): ingest at least half of a bare ``executemany`` into a WAL table in batches
of 1,000; a 30-day chart query for one metric under 50 ms. Ratios are what to compare across
machines; absolute figures move with the machine's load, so rounds are interleaved and the
median is reported.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.core.clock import FakeClock
from console.store.db import Store
from console.store.samples import (
    DAY_MS,
    MINUTE_MS,
    epoch_ms,
    prune,
    query_series,
    roll_up,
    series_id,
    write_samples,
)

START = datetime(2026, 2, 1, tzinfo=UTC)
INTERVAL_MS = 10_000
BATCH = 1_000
Row = tuple[int, int, float]

PLAIN_TABLE = "CREATE TABLE t (series INTEGER, ts INTEGER, value REAL)"
KEYED_TABLE = (
    "CREATE TABLE t (series INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL, "
    "PRIMARY KEY (series, ts)) WITHOUT ROWID"
)


def engine_rows(count: int, series: int, t0: int) -> list[Row]:
    """Rows the way the engine writes them: every interval, one sample per series."""
    return [
        (i % series + 1, t0 + (i // series) * INTERVAL_MS + i % series, float(i % 1_000))
        for i in range(count)
    ]


def fresh(folder: Path, name: str) -> Path:
    return folder / f"{name}-{time.monotonic_ns()}.db"


def bare(folder: Path, rows: list[Row], table: str) -> float:
    """Rows/s of a bare executemany into a WAL table, a transaction per 1,000 rows."""
    conn = sqlite3.connect(fresh(folder, "bare"), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(table)
    start = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT OR REPLACE INTO t VALUES (?, ?, ?)", rows[i : i + BATCH])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return len(rows) / elapsed


def open_store(folder: Path, series: int) -> Store:
    store = Store.open(fresh(folder, "store"), FakeClock(START))
    for i in range(series):
        series_id(store, f"endpoint-{i}", "latency_ms")
    return store


def ingest(folder: Path, rows: list[Row], series: int) -> float:
    """Rows/s of write_samples."""
    with open_store(folder, series) as store:
        start = time.perf_counter()
        write_samples(store, rows, batch_size=BATCH)
        return len(rows) / (time.perf_counter() - start)


#: Rows between roll_up calls: a minute of 1,000 series at 10 s (the engine rolls up once a
#: minute; with fewer series a call covers several minutes, as after a backfill).
ROLL_EVERY = 6_000


def ingest_and_roll_up(folder: Path, rows: list[Row], series: int) -> tuple[float, float]:
    """Rows/s of write_samples with a roll_up every ROLL_EVERY rows; median roll_up ms."""
    rollups = []
    with open_store(folder, series) as store:
        start = time.perf_counter()
        for i in range(0, len(rows), ROLL_EVERY):
            chunk = rows[i : i + ROLL_EVERY]
            write_samples(store, chunk, batch_size=BATCH)
            began = time.perf_counter()
            roll_up(store, _at(chunk[-1][1] + 1))
            rollups.append(time.perf_counter() - began)
        return len(rows) / (time.perf_counter() - start), statistics.median(rollups) * 1000


def _at(ms: int) -> datetime:
    return START + timedelta(milliseconds=ms - epoch_ms(START))


def ingest_report(folder: Path, count: int, series: int, rounds: int) -> float:
    rows = engine_rows(count, series, epoch_ms(START))
    results: dict[str, list[float]] = {
        "bare plain": [],
        "bare keyed": [],
        "write": [],
        "write+roll": [],
    }
    roll_ms = []
    for _ in range(rounds):  # interleaved, so load on the shared machine hits all alike
        results["bare plain"].append(bare(folder, rows, PLAIN_TABLE))
        results["bare keyed"].append(bare(folder, rows, KEYED_TABLE))
        results["write"].append(ingest(folder, rows, series))
        rate, ms = ingest_and_roll_up(folder, rows, series)
        results["write+roll"].append(rate)
        roll_ms.append(ms)
    med = {name: statistics.median(v) for name, v in results.items()}
    base = med["bare plain"]
    print(f"\ningest, {count:,} rows over {series:,} series, median of {rounds} rounds:")
    print(f"  bare executemany, plain WAL table         {base:>10,.0f} rows/s")
    print(
        f"  bare executemany, (series, ts) key        {med['bare keyed']:>10,.0f} rows/s"
        f"  ({med['bare keyed'] / base:.2f}x)"
    )
    print(
        f"  write_samples                             {med['write']:>10,.0f} rows/s"
        f"  ({med['write'] / base:.2f}x)"
    )
    print(
        f"  write_samples + roll_up every {ROLL_EVERY:,} rows {med['write+roll']:>10,.0f} rows/s"
        f"  ({med['write+roll'] / base:.2f}x; a roll_up call "
        f"{statistics.median(roll_ms):.1f} ms)"
    )
    return float(med["write"] / base)


def backfill(store: Store, series: list[int], t0: int, end: int) -> float:
    """30 days of 10 s samples for every series, written and rolled up; seconds taken."""
    started = time.perf_counter()
    for day in range(t0, end, DAY_MS):
        rows = [
            (sid, ts, float((ts // INTERVAL_MS) % 97 + sid))
            for ts in range(day, min(day + DAY_MS, end), INTERVAL_MS)
            for sid in series
        ]
        write_samples(store, rows, batch_size=BATCH)
        roll_up(store, _at(min(day + DAY_MS, end)), chunk_ms=DAY_MS)
    return time.perf_counter() - started


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def query_report(folder: Path, series_count: int, runs: int) -> float:
    clock = FakeClock(START)
    path = fresh(folder, "month")
    t0 = epoch_ms(START)
    end = t0 + 30 * DAY_MS + 37_000  # the current minute is still in the inbox
    with Store.open(path, clock) as store:
        ids = [series_id(store, f"endpoint-{i}", "latency_ms") for i in range(series_count)]
        seconds = backfill(store, ids, t0, end)
        clock.advance((end - t0) / 1000)
        total = store.read().execute("SELECT count(*) FROM samples").fetchone()[0]
        print(
            f"\nbackfill: 30 days at 10 s for {series_count} series, {total:,} raw rows "
            f"written and rolled up in {seconds:.1f} s"
        )
        pruned = timed(lambda: prune(store, _at(end), budget_rows=5_000), 5)
        print(
            f"  prune step (budget 5,000 rows a table): median {statistics.median(pruned):.1f} ms"
        )
    with Store.open(path, clock) as store:  # reopened: a cold page cache for this connection
        db = store.read()
        first = timed(lambda: query_series(db, ids[0], end - 30 * DAY_MS, end), 1)[0]
        print(f"\nchart queries for one series ({runs} runs each, ms):")
        print(f"  30 d, first query after opening the store: {first:.1f} ms")
        result = 0.0
        for label, span in (
            ("15 min", 15 * MINUTE_MS),
            ("1 h", 60 * MINUTE_MS),
            ("6 h", 6 * 60 * MINUTE_MS),
            ("24 h", DAY_MS),
            ("7 d", 7 * DAY_MS),
            ("30 d", 30 * DAY_MS),
        ):
            data = query_series(db, ids[0], end - span, end)
            times = timed(lambda s=span: query_series(db, ids[0], end - s, end), runs)
            median = statistics.median(times)
            print(
                f"  {label:>6}: {data.resolution.value:>3}, {len(data.timestamps):>5} points, "
                f"median {median:6.2f}, max {max(times):6.2f}"
            )
            result = median
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=240_000, help="rows per ingest round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved ingest rounds")
    parser.add_argument(
        "--series", type=int, nargs="+", default=[1, 100, 1_000], help="series per tick"
    )
    parser.add_argument("--query-series", type=int, default=10, help="series in the 30-day store")
    parser.add_argument("--runs", type=int, default=21, help="runs per query")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ratios = {n: ingest_report(folder, args.rows, n, args.rounds) for n in args.series}
        month = query_report(folder, args.query_series, args.runs)
    print("\ntargets:")
    for n, ratio in ratios.items():
        verdict = "met" if ratio >= 0.5 else "NOT met"
        print(f"  ingest >= 0.5x bare executemany, {n:,} series: {ratio:.2f}x, {verdict}")
    verdict = "met" if month < 50 else "NOT met"
    print(f"  30-day chart query < 50 ms: median {month:.2f} ms, {verdict}")


if __name__ == "__main__":
    main()
