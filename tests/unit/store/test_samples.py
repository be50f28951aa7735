"""Metric samples on real SQLite files: ingest, rollups, late data, retention, queries, gaps."""

from __future__ import annotations

import json
import math
import random
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from console.core.clock import FakeClock
from console.store import estate
from console.store.db import Store
from console.store.migrations import known_names
from console.store.samples import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    Gap,
    Resolution,
    RetentionPolicy,
    epoch_ms,
    find_series,
    list_series,
    prune,
    query_series,
    record_gap,
    roll_up,
    series_id,
    write_samples,
)

from tests.fixtures.make_store_fixture import STORES, decode_estate

Key = tuple[int, int]
Bucket = tuple[float, float, float, int]
TABLES = ("samples", "rollup_1m", "rollup_1h", "sample_gaps")


def oracle(truth: dict[Key, float], size: int) -> dict[Key, Bucket]:
    """min, max, sum and count per (series, bucket), computed in plain Python."""
    out: dict[Key, Bucket] = {}
    for (series, ts), value in sorted(truth.items()):
        if math.isnan(value):
            continue
        key = (series, ts - ts % size)
        lo, hi, total, n = out.get(key, (math.inf, -math.inf, 0.0, 0))
        out[key] = (min(lo, value), max(hi, value), total + value, n + 1)
    return out


def stored_rollup(store: Store, table: str) -> dict[Key, Bucket]:
    rows = store.read().execute(
        f"SELECT series, bucket_ms, min_value, max_value, sum_value, value_count FROM {table}"
    )
    return {(s, b): (lo, hi, total, n) for s, b, lo, hi, total, n in rows}


def stored_raw(store: Store) -> dict[Key, float]:
    rows = store.read().execute("SELECT series, ts, value FROM samples")
    return {(s, t): math.nan if v is None else v for s, t, v in rows}


def count(store: Store, table: str) -> int:
    return int(store.read().execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def same_buckets(got: dict[Key, Bucket], want: dict[Key, Bucket]) -> None:
    assert got.keys() == want.keys()
    for key, (lo, hi, total, n) in want.items():
        assert got[key][0] == lo and got[key][1] == hi and got[key][3] == n, key
        assert got[key][2] == pytest.approx(total, rel=1e-12), key


def now_ms(clock: FakeClock) -> int:
    return epoch_ms(clock.now())


def query_matches(
    store: Store, sid: int, truth: dict[Key, float], resolution: Resolution, start: int, end: int
) -> None:
    """A rollup query (the rolled part and the inbox tail merged) agrees with the oracle."""
    data = query_series(store.read(), sid, start, end, resolution=resolution)
    want = sorted(
        (b, agg) for (s, b), agg in oracle(truth, resolution.bucket_ms).items() if s == sid
    )
    assert data.timestamps == tuple(b for b, _ in want)
    assert data.mins == tuple(lo for _, (lo, _, _, _) in want)
    assert data.maxs == tuple(hi for _, (_, hi, _, _) in want)
    assert data.counts == tuple(n for _, (_, _, _, n) in want)
    assert data.values == pytest.approx([t / n for _, (_, _, t, n) in want], rel=1e-12)


# -- series ---------------------------------------------------------------------------------


def test_series_ids_are_stable_canonical_and_survive_a_reopen(
    store_path: Path, clock: FakeClock
) -> None:
    with Store.open(store_path, clock) as store:
        up = series_id(store, "api", "up")
        p95 = series_id(store, "api", "latency", {"quantile": "0.95", "route": "/"})
        assert series_id(store, "api", "latency", {"route": "/", "quantile": "0.95"}) == p95
        p50 = series_id(store, "api", "latency", {"quantile": "0.5", "route": "/"})
        assert len({up, p95, p50}) == 3
        assert series_id(store, "api", "up", {}) == up
        with store.transaction() as db:
            assert series_id(db, "api", "up") == up
    with Store.open(store_path, clock) as again:
        assert series_id(again, "api", "latency", {"quantile": "0.95", "route": "/"}) == p95
        assert find_series(again.read(), "api", "latency", {"quantile": "0.5", "route": "/"}) == p50
        assert find_series(again.read(), "api", "nope") is None
        keys = list_series(again.read(), "api")
    assert [(k.id, k.metric, k.labels) for k in keys] == [
        (up, "up", ()),
        (p95, "latency", (("quantile", "0.95"), ("route", "/"))),
        (p50, "latency", (("quantile", "0.5"), ("route", "/"))),
    ]


def test_a_cached_series_id_is_answered_without_a_query(store: Store) -> None:
    sid = series_id(store, "api", "up")
    # Remove the row behind the store's back: only the cache can still answer.
    conn = sqlite3.connect(store.path)
    with conn:
        conn.execute("DELETE FROM series")
    conn.close()
    assert series_id(store, "api", "up") == sid
    assert count(store, "series") == 0, "the cached answer must not have touched SQLite"
    with store.transaction() as db:  # an uncached lookup sees the truth: a new series
        assert series_id(db, "api", "up") == sid + 1  # ids are never reused
    assert count(store, "series") == 1


# -- ingest ---------------------------------------------------------------------------------


def test_samples_read_back_before_and_after_roll_up(store: Store, clock: FakeClock) -> None:
    a, b = series_id(store, "api", "up"), series_id(store, "db", "up")
    t0 = now_ms(clock)
    rows = [(s, t0 + i * 1_000, float(i * s)) for i in range(300) for s in (a, b)]
    assert write_samples(store, iter(rows)) == 600
    expected = [(t, v) for s, t, v in rows if s == a]

    def read_a() -> list[tuple[int, float]]:
        data = query_series(store.read(), a, t0, t0 + 300_000, resolution=Resolution.RAW)
        return list(zip(data.timestamps, data.values, strict=True))

    assert read_a() == expected
    clock.advance(150)  # half of it is rolled and moved, half still in the inbox
    roll_up(store)
    assert 0 < count(store, "samples") < 600 and count(store, "sample_inbox") > 0
    assert read_a() == expected
    clock.advance(600)
    roll_up(store)
    assert count(store, "sample_inbox") == 0
    assert read_a() == expected


def test_each_batch_is_one_transaction(store: Store, clock: FakeClock) -> None:
    sid = series_id(store, "api", "up")
    t0 = now_ms(clock)

    def rows() -> Iterator[tuple[Any, ...]]:
        for i in range(10):
            yield (sid, t0 + i, 1.0)
        yield (sid, t0 + 10)  # a malformed row: its whole batch is refused

    with pytest.raises(sqlite3.ProgrammingError):
        write_samples(store, rows(), batch_size=4)
    data = query_series(store.read(), sid, t0, t0 + 100)
    assert data.timestamps == tuple(t0 + i for i in range(8))  # two whole batches of four


def test_a_duplicate_replaces_the_sample_also_once_rolled_up(
    store: Store, clock: FakeClock
) -> None:
    sid = series_id(store, "api", "latency")
    t0 = now_ms(clock)
    write_samples(store, [(sid, t0, 1.0), (sid, t0 + 1_000, 2.0), (sid, t0, 5.0)])
    clock.advance(120)
    roll_up(store)
    write_samples(store, [(sid, t0 + 1_000, 8.0)])  # its minute is already rolled up
    progress = roll_up(store)
    assert progress.rerolled == 1
    raw = query_series(store.read(), sid, t0, t0 + MINUTE_MS, resolution=Resolution.RAW)
    assert list(zip(raw.timestamps, raw.values, strict=True)) == [(t0, 5.0), (t0 + 1_000, 8.0)]
    for resolution in (Resolution.MINUTE, Resolution.HOUR):
        data = query_series(store.read(), sid, t0, t0 + MINUTE_MS, resolution=resolution)
        assert (data.mins, data.maxs, data.values, data.counts) == ((5.0,), (8.0,), (6.5,), (2,))


def test_nan_is_stored_as_missing_and_left_out_of_rollups(store: Store, clock: FakeClock) -> None:
    sid = series_id(store, "api", "latency")
    t0 = now_ms(clock)
    write_samples(store, [(sid, t0, 3.0), (sid, t0 + 1, math.nan), (sid, t0 + MINUTE_MS, math.nan)])
    clock.advance(180)
    roll_up(store)
    raw = query_series(store.read(), sid, t0, t0 + 2 * MINUTE_MS, resolution=Resolution.RAW)
    assert raw.values[0] == 3.0 and math.isnan(raw.values[1]) and math.isnan(raw.values[2])
    assert raw.counts == (1, 0, 0)
    minutes = query_series(store.read(), sid, t0, t0 + 2 * MINUTE_MS, resolution=Resolution.MINUTE)
    assert (minutes.timestamps, minutes.values, minutes.counts) == ((t0,), (3.0,), (1,))


# -- rollups --------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_rows", [20_000, 37])  # 37: chunks end inside minutes
def test_rollups_match_an_independent_computation(
    store: Store, clock: FakeClock, chunk_rows: int
) -> None:
    rng = random.Random(20260301)
    ids = [series_id(store, "api", f"m{i}") for i in range(3)]
    t0 = now_ms(clock)
    truth: dict[Key, float] = {}
    rerolled = 0
    for step in range(20):  # 10-minute steps over 3 h 20 min
        lo = t0 + step * 10 * MINUTE_MS
        rows = [
            (s, lo + rng.randrange(10 * MINUTE_MS), rng.uniform(-50, 50))
            for s in ids
            for _ in range(40)
        ]
        # Bucket edges: the first and last millisecond of minutes and hours.
        rows += [(ids[0], lo, -1.5), (ids[0], lo + MINUTE_MS - 1, 7.25), (ids[1], lo - 1, 3.0)]
        rows += [(ids[2], lo + 5 * MINUTE_MS, math.nan)]
        if step >= 2:  # late samples for minutes rolled up a while ago, some far back
            rows += [
                (ids[2], lo - rng.randrange(1, 25 * MINUTE_MS), rng.uniform(-9, 9))
                for _ in range(6)
            ]
        if truth:  # re-sent samples with new values
            rows += [(s, t, 99.0 + step) for s, t in rng.sample(sorted(truth), 4)]
        write_samples(store, rows, batch_size=50)
        truth.update({(s, t): v for s, t, v in rows})
        clock.advance(rng.randrange(240, 540))  # the clock lags: some minutes stay unrolled
        progress = roll_up(store, chunk_rows=chunk_rows)
        rerolled += progress.rerolled
        for resolution in (Resolution.MINUTE, Resolution.HOUR):
            query_matches(store, ids[step % 3], truth, resolution, t0 - HOUR_MS, t0 + 4 * HOUR_MS)
    clock.advance(3 * 3600)
    roll_up(store, chunk_rows=chunk_rows)
    assert rerolled > 0, "the scenario must exercise late samples"
    assert count(store, "sample_inbox") == 0 and count(store, "rollup_dirty") == 0
    raw = stored_raw(store)
    assert raw.keys() == truth.keys()
    assert all(v == truth[k] or (math.isnan(v) and math.isnan(truth[k])) for k, v in raw.items())
    same_buckets(stored_rollup(store, "rollup_1m"), oracle(truth, MINUTE_MS))
    same_buckets(stored_rollup(store, "rollup_1h"), oracle(truth, HOUR_MS))


def test_a_sample_on_a_bucket_edge_opens_the_next_bucket(store: Store, clock: FakeClock) -> None:
    sid = series_id(store, "api", "up")
    hour = epoch_ms(datetime(2026, 1, 1, 5, tzinfo=UTC))
    write_samples(store, [(sid, hour - 1, 1.0), (sid, hour, 2.0), (sid, hour + MINUTE_MS, 4.0)])
    clock.advance(6 * 3600)
    roll_up(store)
    minutes = query_series(
        store.read(), sid, hour - 1, hour + HOUR_MS, resolution=Resolution.MINUTE
    )
    assert minutes.timestamps == (hour - MINUTE_MS, hour, hour + MINUTE_MS)
    assert minutes.values == (1.0, 2.0, 4.0)
    hours = query_series(store.read(), sid, hour - 1, hour + HOUR_MS, resolution=Resolution.HOUR)
    assert (hours.timestamps, hours.values, hours.counts) == (
        (hour - HOUR_MS, hour),
        (1.0, 3.0),
        (1, 2),
    )


def test_a_late_sample_whose_raw_minute_was_pruned_is_merged(
    store: Store, clock: FakeClock
) -> None:
    sid = series_id(store, "api", "latency")
    t0 = now_ms(clock)
    write_samples(store, [(sid, t0 + i * 1_000, float(i)) for i in range(60)])
    clock.advance(49 * 3600)
    roll_up(store, chunk_ms=DAY_MS)
    while prune(store):
        pass
    assert count(store, "samples") == 0
    write_samples(store, [(sid, t0 + 500, 1_000.0)])
    roll_up(store)
    for resolution in (Resolution.MINUTE, Resolution.HOUR):
        data = query_series(store.read(), sid, t0, t0 + MINUTE_MS, resolution=resolution)
        assert (data.mins, data.maxs, data.counts) == ((0.0,), (1_000.0,), (61,))
        assert data.values == ((sum(range(60)) + 1_000.0) / 61,)


def test_rolling_up_long_after_pruning_ran_counts_each_sample_once(
    store: Store, clock: FakeClock
) -> None:
    sid = series_id(store, "api", "up")
    t0 = now_ms(clock)
    truth = {(sid, t0 + k * 5 * MINUTE_MS): float(k % 11) for k in range(3 * 288)}
    write_samples(store, [(s, t, v) for (s, t), v in truth.items()])
    clock.advance(3 * 86_400)
    assert prune(store) is False  # nothing rolled yet, so nothing to delete; marks move on
    roll_up(store, chunk_ms=HOUR_MS)
    same_buckets(stored_rollup(store, "rollup_1m"), oracle(truth, MINUTE_MS))
    same_buckets(stored_rollup(store, "rollup_1h"), oracle(truth, HOUR_MS))


def test_roll_up_can_be_bounded_per_call(store: Store, clock: FakeClock) -> None:
    sid = series_id(store, "api", "up")
    t0 = now_ms(clock)
    write_samples(store, [(sid, t0 + i * 10_000, 1.0) for i in range(360)])
    clock.advance(3600)
    first = roll_up(store, max_chunks=2, chunk_ms=5 * MINUTE_MS)
    assert (first.chunks, first.more, first.rolled_until_ms) == (2, True, t0 + 10 * MINUTE_MS)
    assert count(store, "samples") == 60
    rest = roll_up(store, chunk_ms=5 * MINUTE_MS)
    assert (rest.chunks, rest.more, rest.rolled_until_ms) == (10, False, t0 + HOUR_MS)
    assert roll_up(store).chunks == 0


# -- retention ------------------------------------------------------------------------------


def kept_after_retention(store: Store, now: int) -> dict[str, set[Key]]:
    """The keys the default policy keeps: cut-offs in whole minutes (raw) or hours."""
    return {
        "samples": {k for k in stored_raw(store) if k[1] >= _floor(now - 2 * DAY_MS, MINUTE_MS)},
        "rollup_1m": {
            k
            for k in stored_rollup(store, "rollup_1m")
            if k[1] >= _floor(now - 30 * DAY_MS, HOUR_MS)
        },
        "rollup_1h": {
            k
            for k in stored_rollup(store, "rollup_1h")
            if k[1] >= _floor(now - 400 * DAY_MS, HOUR_MS)
        },
    }


def test_retention_removes_only_old_data_in_bounded_steps(store: Store, clock: FakeClock) -> None:
    ids = [series_id(store, "api", f"m{i}") for i in range(3)]
    t0 = now_ms(clock)
    span = 410 * DAY_MS
    rows = [
        (s, t0 + k * 3 * HOUR_MS + s * 7_000, float(k % 13))
        for s in ids
        for k in range(span // (3 * HOUR_MS))
    ]
    dense = [(s, t0 + span - 3 * DAY_MS + k * MINUTE_MS, 1.0) for s in ids for k in range(3 * 1440)]
    write_samples(store, rows + dense)
    record_gap(store, t0 + DAY_MS, t0 + DAY_MS + 60_000)
    recent_gap = record_gap(store, t0 + span - DAY_MS, t0 + span - DAY_MS + 60_000, ids[0])
    clock.advance(span // 1000)
    roll_up(store, chunk_ms=DAY_MS)
    before = {t: count(store, t) for t in TABLES}
    expected = kept_after_retention(store, now_ms(clock))
    assert all(len(keys) < before[t] for t, keys in expected.items()), "old data to prune"

    budget, calls, more = 200, 0, True
    while more:
        counts = {t: count(store, t) for t in TABLES}
        more = prune(store, budget_rows=budget)
        calls += 1
        for table in TABLES:
            assert 0 <= counts[table] - count(store, table) <= budget, table
    assert calls > (before["samples"] - len(expected["samples"])) // budget
    assert set(stored_raw(store)) == expected["samples"]
    assert set(stored_rollup(store, "rollup_1m")) == expected["rollup_1m"]
    assert set(stored_rollup(store, "rollup_1h")) == expected["rollup_1h"]
    assert count(store, "sample_gaps") == 1
    assert prune(store) is False
    now = now_ms(clock)
    assert query_series(store.read(), ids[0], now - 2 * DAY_MS, now).gaps == (recent_gap,)
    # Raw data three days back is gone: the finest complete data is minutes.
    old_hour = query_series(store.read(), ids[0], now - 3 * DAY_MS, now - 3 * DAY_MS + HOUR_MS)
    assert old_hour.resolution is Resolution.MINUTE and len(old_hour.timestamps) == 60


def test_a_retention_policy_must_grow() -> None:
    with pytest.raises(ValueError, match="retention"):
        RetentionPolicy(raw_ms=40 * DAY_MS)


def _floor(ms: int, size: int) -> int:
    return ms - ms % size


# -- queries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    """A store with 30 days and an hour of 10-second samples for one series."""

    store: Store
    series: int
    now: int
    truth: dict[Key, float]


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Month]:
    clock = FakeClock(datetime(2026, 2, 1, tzinfo=UTC))
    t0 = epoch_ms(clock.now())
    with Store.open(tmp_path_factory.mktemp("month") / "store.db", clock) as store:
        sid = series_id(store, "api", "latency_ms", {"quantile": "0.95"})
        noise = series_id(store, "db", "latency_ms")
        clock.advance(30 * 86_400 + 3_600 + 25)  # the current minute stays in the inbox
        now = epoch_ms(clock.now())
        # Quarter steps keep every sum exact, so averages compare exactly.
        truth = {(sid, t): (k % 97 + k % 7 * 0.25) for k, t in enumerate(range(t0, now, 10_000))}
        write_samples(store, [(s, t, v) for (s, t), v in truth.items()])
        write_samples(store, [(noise, t + 3_000, 1.0) for (_, t) in truth])
        roll_up(store, chunk_ms=DAY_MS)
        yield Month(store, sid, now, truth)


def expected_buckets(month: Month, start: int, end: int, size: int) -> list[tuple[int, Bucket]]:
    first, last = _floor(start, size), -(-end // size) * size
    picked = {k: v for k, v in month.truth.items() if first <= k[1] < last}
    return sorted((b, agg) for (_, b), agg in oracle(picked, size).items())


@pytest.mark.parametrize(
    ("minutes", "resolution", "points"),
    [
        (15, Resolution.RAW, 90),
        (60, Resolution.RAW, 360),
        (6 * 60, Resolution.MINUTE, 361),
        (24 * 60, Resolution.MINUTE, 1441),
        (7 * 24 * 60, Resolution.HOUR, 169),
        (30 * 24 * 60, Resolution.HOUR, 721),
    ],
)
def test_each_preset_range_gets_its_resolution_and_exact_points(
    month: Month, minutes: int, resolution: Resolution, points: int
) -> None:
    start, end = month.now - minutes * MINUTE_MS, month.now
    data = query_series(month.store.read(), month.series, start, end)
    assert data.resolution is resolution
    assert len(data.timestamps) == points
    if resolution is Resolution.RAW:
        want = sorted((t, v) for (_, t), v in month.truth.items() if start <= t < end)
        assert list(zip(data.timestamps, data.values, strict=True)) == want
        assert data.mins == data.values == data.maxs and set(data.counts) == {1}
        return
    want_buckets = expected_buckets(month, start, end, resolution.bucket_ms)
    got = zip(data.timestamps, data.mins, data.maxs, data.values, data.counts, strict=True)
    assert list(got) == [(b, lo, hi, total / n, n) for b, (lo, hi, total, n) in want_buckets]


def test_a_requested_resolution_and_max_points_are_honoured(month: Month) -> None:
    start, end = month.now - HOUR_MS, month.now
    db = month.store.read()
    assert (
        query_series(db, month.series, start, end, max_points=100).resolution is Resolution.MINUTE
    )
    assert query_series(db, month.series, start, end, max_points=30).resolution is Resolution.HOUR
    forced = query_series(db, month.series, start, end, resolution=Resolution.HOUR)
    assert forced.timestamps == (_floor(start, HOUR_MS), _floor(end, HOUR_MS))
    week = month.now - 7 * DAY_MS
    everything = query_series(db, month.series, week, month.now, resolution=Resolution.RAW)
    assert len(everything.timestamps) == sum(week <= t < month.now for _, t in month.truth)


def test_a_query_needs_a_range(month: Month) -> None:
    with pytest.raises(ValueError, match="range"):
        query_series(month.store.read(), month.series, month.now, month.now)


# -- gaps -----------------------------------------------------------------------------------


def test_gaps_in_range_come_back_for_their_series(store: Store, clock: FakeClock) -> None:
    a, b = series_id(store, "api", "up"), series_id(store, "db", "up")
    t0 = now_ms(clock)
    write_samples(store, [(s, t0 + i * 10_000, 1.0) for i in range(60) for s in (a, b)])
    everyone = record_gap(store, t0 + 100_000, t0 + 160_000)
    only_a = record_gap(store, t0 + 300_000, t0 + 330_000, series=a)
    record_gap(store, t0 + 900_000, t0 + 960_000)  # outside the range asked for
    with pytest.raises(ValueError, match="end after"):
        record_gap(store, t0, t0)
    assert query_series(store.read(), a, t0, t0 + 600_000).gaps == (everyone, only_a)
    assert query_series(store.read(), b, t0, t0 + 600_000).gaps == (everyone,)
    edge = query_series(store.read(), a, t0 + 160_000, t0 + 300_000)
    assert edge.gaps == ()  # touching a gap's end or start is not overlapping it
    assert only_a == Gap(t0 + 300_000, t0 + 330_000, a)


# -- migration ------------------------------------------------------------------------------


def test_an_m001_store_upgrades_keeping_its_data_and_takes_samples(
    tmp_path: Path, clock: FakeClock
) -> None:
    copy = tmp_path / "store.db"
    shutil.copyfile(STORES / "m001_initial.db", copy)
    described = json.loads((STORES / "m001_initial.json").read_text())
    with Store.open(copy, clock) as store:
        assert estate.load(store.read()) == decode_estate(described["estate"])
        assert list_series(store.read()) == []
        sid = series_id(store, "api", "up")
        t0 = now_ms(clock)
        write_samples(store, [(sid, t0 + i * 1_000, float(i)) for i in range(120)])
        clock.advance(180)
        roll_up(store)
        data = query_series(store.read(), sid, t0, t0 + 120_000, resolution=Resolution.MINUTE)
        assert data.values == (29.5, 89.5)


def _described(name: str) -> dict[str, Any]:
    """What the fixture script recorded beside a fixture store (nothing if it has none)."""
    path = STORES / f"{name}.json"
    described: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    return described


WITH_SAMPLES = [name for name in known_names() if "samples" in _described(name)]


def test_fixtures_from_m002_on_hold_samples() -> None:
    assert list(known_names()[known_names().index("m002_samples") :]) == WITH_SAMPLES


@pytest.mark.parametrize("name", WITH_SAMPLES)
def test_a_fixture_keeps_its_samples(name: str, tmp_path: Path) -> None:
    copy = tmp_path / "store.db"
    shutil.copyfile(STORES / f"{name}.db", copy)
    described = _described(name)["samples"]
    with Store.open(copy, FakeClock()) as store:
        assert {t: count(store, t) for t in described["rows"]} == described["rows"]
        keys = list_series(store.read())
        assert [
            {"id": k.id, "endpoint": k.endpoint, "metric": k.metric, "labels": dict(k.labels)}
            for k in keys
        ] == described["series"]
        for query in described["queries"]:
            requested = None if query["requested"] is None else Resolution(query["requested"])
            data = query_series(
                store.read(),
                query["series"],
                query["start_ms"],
                query["end_ms"],
                resolution=requested,
            )
            assert data.resolution.value == query["resolution"]
            assert list(data.timestamps) == query["timestamps"]
            assert list(data.values) == query["values"]
            assert (list(data.mins), list(data.maxs)) == (query["mins"], query["maxs"])
            assert list(data.counts) == query["counts"]
            assert [[g.start_ms, g.end_ms, g.series] for g in data.gaps] == query["gaps"]
