"""Metric samples: series ids, batched ingest, rollups, gaps, retention and chart queries.

Layout, and why (figures measured on this machine, 2 cores):

* ``series`` gives each (endpoint, metric, canonical labels JSON) a small integer id;
  :func:`series_id` caches ids per Store so the polling hot path never queries.
* Ingest appends to ``sample_inbox``, keyed (ts, series) WITHOUT ROWID. A batch of 1,000
  samples from 1,000 series written straight into the chart-friendly (series, ts) key touches
  about 1,000 leaf pages, and every one goes to the WAL at commit: about 67k rows/s against
  530k for time-ordered keys. The inbox keeps :func:`write_samples` a bare ``executemany``.
* :func:`roll_up` (about once a minute) takes completed minutes from the inbox and, in
  short transactions (bounded in rows), merges them into ``rollup_1m`` and ``rollup_1h`` and
  moves the rows into ``samples`` (series, ts) in key order: one visit per leaf page per
  minute instead of one per sample. Rollups are computed here, not per sample at ingest,
  which would put two read-modify-writes on every insert.
* Everything below the ``rolled`` mark is in ``samples`` and the rollups, everything above
  it still in the inbox: a query reads the rolled part by primary key and aggregates the
  small inbox tail on the fly.
* A late sample (its minute already rolled) is re-rolled correctly: its minute is queued in
  ``rollup_dirty`` and recomputed from ``samples``, then its hour from ``rollup_1m``. When
  the minute's raw samples have already been pruned, the late sample is merged into the
  rollups instead (a re-sent duplicate of a pruned sample would then count twice).
* :func:`prune` deletes at most ``budget_rows`` rows per table per call, each table in its
  own short transaction, walking series ids by index seeks (no full scans). It never
  deletes raw samples that a queued re-roll still needs.
* Gaps (missing data after a sleep or a clock jump) are explicit rows, for one series or
  for all, returned with every query so charts can draw breaks.

Timestamps are integer milliseconds since the epoch, UTC. A NaN value is stored as NULL:
it comes back as NaN from raw queries and rollups ignore it.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum, StrEnum
from itertools import islice
from typing import Any
from weakref import WeakKeyDictionary

from sqlite_utils import Database

from console.store.db import Store

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
#: Rows per ingest transaction.
DEFAULT_BATCH = 1_000
#: About a chart's width in pixels: 24 h of minutes fits, 7 days of minutes does not.
DEFAULT_MAX_POINTS = 1_500
#: Most time rolled up per transaction...
ROLLUP_CHUNK_MS = DAY_MS
#: ...and about the most rows (about 0.1 s of work), whatever the number of series.
ROLLUP_CHUNK_ROWS = 20_000
#: Late minutes re-rolled per transaction.
REROLL_BATCH = 500
#: Rows deleted per table per prune call, by default.
DEFAULT_PRUNE_BUDGET = 5_000
_NO_MARK = -(2**62)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Resolution(Enum):
    """The data a query returns: raw samples or one of the rollups."""

    RAW = "raw"
    MINUTE = "1m"
    HOUR = "1h"

    @property
    def bucket_ms(self) -> int:
        """The bucket width in milliseconds (0 for raw samples)."""
        return {"raw": 0, "1m": MINUTE_MS, "1h": HOUR_MS}[self.value]


class _Mark(StrEnum):
    """Progress marks kept in ``sample_marks`` (all in milliseconds)."""

    ROLLED = "rolled_1m"  # every sample below is rolled up (into rollup_1m) and out of the inbox
    RAW_PRUNED = "pruned_raw"  # raw rows below may have been deleted
    RAW_CLEAN = "clean_raw"  # every raw row below has been deleted
    MINUTE_PRUNED = "pruned_1m"
    MINUTE_CLEAN = "clean_1m"
    HOUR_PRUNED = "pruned_1h"
    HOUR_CLEAN = "clean_1h"


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long each kind of data is kept, in milliseconds. Gaps live as long as hours."""

    raw_ms: int = 48 * HOUR_MS
    minute_ms: int = 30 * DAY_MS
    hour_ms: int = 400 * DAY_MS

    def __post_init__(self) -> None:
        # A late sample's hour is re-rolled from minutes: they must outlive raw data.
        if not 0 < self.raw_ms <= self.minute_ms - HOUR_MS < self.hour_ms:
            raise ValueError("retention must grow: raw + 1 h <= 1-minute rollups < hourly")


DEFAULT_RETENTION = RetentionPolicy()


@dataclass(frozen=True, slots=True)
class SeriesKey:
    """What a series id stands for."""

    id: int
    endpoint: str
    metric: str
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Gap:
    """Missing data from ``start_ms`` to ``end_ms``, for one series or (None) for all."""

    start_ms: int
    end_ms: int
    series: int | None = None


@dataclass(frozen=True, slots=True)
class SeriesData:
    """A series over a range, at one resolution.

    For rollups, ``timestamps`` are bucket starts, ``values`` the bucket averages and
    ``mins``/``maxs`` the envelope; for raw samples the envelope equals the values and each
    count is 1 (0 for a missing value, NaN).
    """

    series: int
    resolution: Resolution
    start_ms: int
    end_ms: int
    timestamps: tuple[int, ...]
    values: tuple[float, ...]
    mins: tuple[float, ...]
    maxs: tuple[float, ...]
    counts: tuple[int, ...]
    gaps: tuple[Gap, ...]


@dataclass(frozen=True, slots=True)
class RollupProgress:
    """What one :func:`roll_up` call did."""

    rolled_until_ms: int
    chunks: int
    rerolled: int
    more: bool


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch for an aware datetime (exact, no float rounding)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not accepted; use UTC-aware ones")
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _floor(ms: int, size: int) -> int:
    return ms - ms % size


def _now_ms(store: Store, now: datetime | None) -> int:
    return epoch_ms(now if now is not None else store.clock.now())


# -- series ---------------------------------------------------------------------------------

_SeriesCacheKey = tuple[str, str, str]
_SERIES_CACHE: WeakKeyDictionary[Store, dict[_SeriesCacheKey, int]] = WeakKeyDictionary()


def canonical_labels(labels: Mapping[str, str] | None) -> str:
    """Labels as canonical JSON (sorted keys, no spaces); ``'{}'`` when there are none."""
    if not labels:
        return "{}"
    return json.dumps(dict(labels), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def series_id(
    target: Store | Database,
    endpoint: str,
    metric: str,
    labels: Mapping[str, str] | None = None,
) -> int:
    """The id of a series, created on first use.

    Given a Store, ids are cached in memory for that store, so repeated calls do not touch
    SQLite; a new series is created in its own transaction (do not call this inside a
    transaction you might roll back). Given a writable Database (inside a transaction),
    the lookup runs on it and nothing is cached.
    """
    key = (endpoint, metric, canonical_labels(labels))
    if not isinstance(target, Store):
        return _lookup_or_insert(target.conn, key)
    cache = _SERIES_CACHE.setdefault(target, {})
    found = cache.get(key)
    if found is None:
        with target.transaction() as db:
            found = _lookup_or_insert(db.conn, key)
        cache[key] = found
    return found


def _lookup_or_insert(conn: sqlite3.Connection, key: _SeriesCacheKey) -> int:
    sql = "SELECT id FROM series WHERE endpoint = ? AND metric = ? AND labels = ?"
    row = conn.execute(sql, key).fetchone()
    if row is None:
        conn.execute("INSERT INTO series (endpoint, metric, labels) VALUES (?, ?, ?)", key)
        row = conn.execute(sql, key).fetchone()
    return int(row[0])


def find_series(
    db: Database, endpoint: str, metric: str, labels: Mapping[str, str] | None = None
) -> int | None:
    """The id of an existing series, or None (read-only)."""
    row = db.conn.execute(
        "SELECT id FROM series WHERE endpoint = ? AND metric = ? AND labels = ?",
        (endpoint, metric, canonical_labels(labels)),
    ).fetchone()
    return None if row is None else int(row[0])


def list_series(db: Database, endpoint: str | None = None) -> list[SeriesKey]:
    """Every series (of one endpoint, if given), by id."""
    sql = "SELECT id, endpoint, metric, labels FROM series"
    params: tuple[str, ...] = ()
    if endpoint is not None:
        sql, params = sql + " WHERE endpoint = ?", (endpoint,)
    return [
        SeriesKey(int(i), e, m, tuple(sorted(json.loads(labels).items())))
        for i, e, m, labels in db.conn.execute(sql + " ORDER BY id", params)
    ]


# -- ingest and gaps ------------------------------------------------------------------------

_INSERT = "INSERT OR REPLACE INTO sample_inbox (series, ts, value) VALUES (?, ?, ?)"


def write_samples(
    store: Store, rows: Iterable[tuple[int, int, float]], *, batch_size: int = DEFAULT_BATCH
) -> int:
    """Store (series, ts_ms, value) rows, one transaction per batch; returns the row count.

    A second sample for the same series and millisecond replaces the first, also after the
    first was rolled up (the rollups are then corrected by the next :func:`roll_up`).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    source = iter(rows)
    written = 0
    while batch := list(islice(source, batch_size)):
        with store.transaction() as db:
            db.conn.executemany(_INSERT, batch)
        written += len(batch)
    return written


def record_gap(store: Store, start_ms: int, end_ms: int, series: int | None = None) -> Gap:
    """Record missing data for one series, or for every series when ``series`` is None."""
    if end_ms <= start_ms:
        raise ValueError(f"a gap must end after it starts ({start_ms} >= {end_ms})")
    with store.transaction() as db:
        db.conn.execute(
            "INSERT INTO sample_gaps (series, start_ms, end_ms) VALUES (?, ?, ?)",
            (series, start_ms, end_ms),
        )
    return Gap(start_ms, end_ms, series)


def gaps_in(db: Database, series: int, start_ms: int, end_ms: int) -> tuple[Gap, ...]:
    """Gaps of this series (or of all series) that overlap [start_ms, end_ms)."""
    rows = db.conn.execute(
        "SELECT start_ms, end_ms, series FROM sample_gaps WHERE end_ms > ? AND start_ms < ? "
        "AND (series IS NULL OR series = ?) ORDER BY start_ms, end_ms",
        (start_ms, end_ms, series),
    )
    return tuple(Gap(int(a), int(b), None if s is None else int(s)) for a, b, s in rows)


# -- marks ----------------------------------------------------------------------------------


def _marks(conn: sqlite3.Connection) -> dict[str, int]:
    return {name: int(ms) for name, ms in conn.execute("SELECT name, ms FROM sample_marks")}


def _set_mark(conn: sqlite3.Connection, mark: _Mark, ms: int) -> None:
    conn.execute(
        "INSERT INTO sample_marks (name, ms) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET ms = excluded.ms",
        (mark.value, ms),
    )


# -- rollups --------------------------------------------------------------------------------

# Merges inbox rows into a rollup: fresh rows [m, b), and late rows below p whose raw
# neighbours are gone. Each row is merged exactly once, so buckets may grow across chunks.
_MERGE = """
INSERT INTO {table} (series, bucket_ms, min_value, max_value, sum_value, value_count)
SELECT series, ts / :size * :size, min(value), max(value), sum(value), count(value)
FROM sample_inbox WHERE ts < :p OR (ts >= :m AND ts < :b)
GROUP BY series, ts / :size HAVING count(value) > 0
ON CONFLICT (series, bucket_ms) DO UPDATE SET
    min_value = min(min_value, excluded.min_value),
    max_value = max(max_value, excluded.max_value),
    sum_value = sum_value + excluded.sum_value,
    value_count = value_count + excluded.value_count
"""


def roll_up(
    store: Store,
    now: datetime | None = None,
    *,
    max_chunks: int | None = None,
    chunk_ms: int = ROLLUP_CHUNK_MS,
    chunk_rows: int = ROLLUP_CHUNK_ROWS,
) -> RollupProgress:
    """Roll completed minutes up into the 1-minute and 1-hour rollups, in short transactions.

    Each chunk is one transaction of at most ``chunk_ms`` and about ``chunk_rows`` rows
    (a chunk may end inside a minute: buckets are merged, so
    the rest of that minute simply joins them in the next chunk). Late samples are then
    re-rolled, :data:`REROLL_BATCH` minutes per transaction. ``max_chunks`` bounds the
    work of one call (``more`` in the result says whether completed minutes are left).
    """
    if chunk_ms < 1 or chunk_rows < 1:
        raise ValueError("chunks must be positive")
    if max_chunks is not None and max_chunks < 1:
        raise ValueError("max_chunks must be at least 1")
    target = _floor(_now_ms(store, now), MINUTE_MS)
    chunks = 0
    rolled = _NO_MARK
    while max_chunks is None or chunks < max_chunks:
        with store.transaction() as db:
            rolled, worked = _roll_chunk(db.conn, target, chunk_ms, chunk_rows)
        chunks += worked
        if rolled >= target:
            break
    return RollupProgress(rolled, chunks, _reroll_all(store), more=rolled < target)


def _roll_chunk(
    conn: sqlite3.Connection, target: int, chunk_ms: int, chunk_rows: int
) -> tuple[int, bool]:
    """Roll one chunk (up to ``target``) and any late rows; returns the mark, and if it moved."""
    marks = _marks(conn)
    start = marks.get(_Mark.ROLLED)
    if start is None:
        first = conn.execute("SELECT min(ts) FROM sample_inbox").fetchone()[0]
        start = target if first is None else min(_floor(int(first), MINUTE_MS), target)
        _set_mark(conn, _Mark.ROLLED, start)
    end = max(start, min(target, start + chunk_ms))
    far = conn.execute(
        "SELECT ts FROM sample_inbox WHERE ts >= ? ORDER BY ts LIMIT 1 OFFSET ?",
        (start, chunk_rows),
    ).fetchone()
    if far is not None:  # bound the transaction by rows too (all rows of one ms at least)
        end = min(end, max(start + 1, int(far[0])))
    late = conn.execute("SELECT 1 FROM sample_inbox WHERE ts < ? LIMIT 1", (start,)).fetchone()
    if end == start and late is None:
        return start, False
    # Late rows (below start) under p have lost their raw neighbours to pruning; p <= start
    # so that a row is never both late and fresh, however far pruning ran ahead.
    params = {"p": min(marks.get(_Mark.RAW_PRUNED, _NO_MARK), start), "m": start, "b": end}
    # Late rows whose minute still has all its raw samples: re-roll those minutes afterwards.
    conn.execute(
        "INSERT OR IGNORE INTO rollup_dirty (bucket_ms, series) "
        "SELECT DISTINCT ts / 60000 * 60000, series FROM sample_inbox WHERE ts >= :p AND ts < :m",
        params,
    )
    for table, size in (("rollup_1m", MINUTE_MS), ("rollup_1h", HOUR_MS)):
        conn.execute(_MERGE.format(table=table), {**params, "size": size})
    conn.execute(
        "INSERT OR REPLACE INTO samples (series, ts, value) "
        "SELECT series, ts, value FROM sample_inbox WHERE ts < :b ORDER BY series, ts",
        params,
    )
    conn.execute("DELETE FROM sample_inbox WHERE ts < :b", params)
    _set_mark(conn, _Mark.ROLLED, end)
    return end, end > start


def _reroll_all(store: Store) -> int:
    done = 0
    while True:
        with store.transaction() as db:
            count = _reroll_batch(db.conn)
        done += count
        if count < REROLL_BATCH:
            return done


_REROLL = {
    # A minute from raw samples; its hour from the minutes.
    "rollup_1m": "SELECT series, :b, min(value), max(value), sum(value), count(value) "
    "FROM samples WHERE series = :s AND ts >= :b AND ts < :b + :size "
    "GROUP BY series HAVING count(value) > 0",
    "rollup_1h": "SELECT series, :b, min(min_value), max(max_value), sum(sum_value), "
    "sum(value_count) FROM rollup_1m WHERE series = :s AND bucket_ms >= :b "
    "AND bucket_ms < :b + :size GROUP BY series",
}


def _reroll_batch(conn: sqlite3.Connection) -> int:
    """Recompute up to REROLL_BATCH queued minutes from raw samples, then their hours."""
    queued = conn.execute(
        "SELECT bucket_ms, series FROM rollup_dirty ORDER BY bucket_ms, series LIMIT ?",
        (REROLL_BATCH,),
    ).fetchall()
    minutes = [{"s": s, "b": b, "size": MINUTE_MS} for b, s in queued]
    hours = sorted({(s, _floor(b, HOUR_MS)) for b, s in queued})
    for table, keys in (
        ("rollup_1m", minutes),
        ("rollup_1h", [{"s": s, "b": h, "size": HOUR_MS} for s, h in hours]),
    ):
        for key in keys:
            conn.execute(f"DELETE FROM {table} WHERE series = :s AND bucket_ms = :b", key)
            conn.execute(f"INSERT INTO {table} {_REROLL[table]}", key)
    conn.executemany("DELETE FROM rollup_dirty WHERE bucket_ms = ? AND series = ?", queued)
    return len(queued)


# -- retention ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Level:
    """A series-keyed table that retention trims, with its marks."""

    table: str
    key: str
    align: int
    pruned: _Mark
    clean: _Mark


_LEVELS = (
    _Level("samples", "ts", MINUTE_MS, _Mark.RAW_PRUNED, _Mark.RAW_CLEAN),
    _Level("rollup_1m", "bucket_ms", HOUR_MS, _Mark.MINUTE_PRUNED, _Mark.MINUTE_CLEAN),
    _Level("rollup_1h", "bucket_ms", HOUR_MS, _Mark.HOUR_PRUNED, _Mark.HOUR_CLEAN),
)

# Old rows of every series, walking the distinct series ids by index seeks (no full scan),
# in key order within each series, so the last row kept per series bounds a range delete.
_DOOMED = """
WITH RECURSIVE ids(id) AS (
    SELECT (SELECT series FROM {table} ORDER BY series LIMIT 1)
    UNION ALL
    SELECT (SELECT series FROM {table} WHERE series > ids.id ORDER BY series LIMIT 1)
    FROM ids WHERE ids.id IS NOT NULL
)
SELECT t.series, t.{key} FROM ids CROSS JOIN {table} AS t ON t.series = ids.id
WHERE t.{key} < ? LIMIT ?
"""


def prune(
    store: Store,
    now: datetime | None = None,
    *,
    budget_rows: int = DEFAULT_PRUNE_BUDGET,
    policy: RetentionPolicy = DEFAULT_RETENTION,
) -> bool:
    """Delete data older than the policy, at most ``budget_rows`` rows per table per call.

    Each table is trimmed in its own short transaction, so polling never waits long.
    Cut-offs are whole minutes (raw) or hours (rollups). Returns True when old rows remain
    (call again), False when everything past retention is gone.
    """
    if budget_rows < 1:
        raise ValueError("budget_rows must be at least 1")
    now_ms = _now_ms(store, now)
    ages = (policy.raw_ms, policy.minute_ms, policy.hour_ms)
    more = False
    for level, age in zip(_LEVELS, ages, strict=True):
        with store.transaction() as db:
            more |= _prune_level(db.conn, level, _floor(now_ms - age, level.align), budget_rows)
    with store.transaction() as db:
        more |= _prune_gaps(db.conn, now_ms - policy.hour_ms, budget_rows)
    return more


def _prune_level(conn: sqlite3.Connection, level: _Level, cutoff: int, budget: int) -> bool:
    queued = conn.execute("SELECT min(bucket_ms) FROM rollup_dirty").fetchone()[0]
    if queued is not None:  # a queued re-roll still needs these raw samples and minutes
        cutoff = min(cutoff, _floor(int(queued), level.align))
    marks = _marks(conn)
    if cutoff <= marks.get(level.clean, _NO_MARK):
        return False
    _set_mark(conn, level.pruned, max(cutoff, marks.get(level.pruned, _NO_MARK)))
    doomed = conn.execute(
        _DOOMED.format(table=level.table, key=level.key), (cutoff, budget + 1)
    ).fetchall()
    last: dict[int, int] = {}
    for series, key in doomed[:budget]:
        last[series] = key
    conn.executemany(
        f"DELETE FROM {level.table} WHERE series = ? AND {level.key} <= ?", last.items()
    )
    if len(doomed) > budget:
        return True
    _set_mark(conn, level.clean, cutoff)
    return False


def _prune_gaps(conn: sqlite3.Connection, cutoff: int, budget: int) -> bool:
    conn.execute(
        "DELETE FROM sample_gaps WHERE id IN "
        "(SELECT id FROM sample_gaps WHERE end_ms <= ? ORDER BY end_ms LIMIT ?)",
        (cutoff, budget),
    )
    left = conn.execute("SELECT 1 FROM sample_gaps WHERE end_ms <= ? LIMIT 1", (cutoff,))
    return left.fetchone() is not None


# -- queries --------------------------------------------------------------------------------

# Stored buckets below the rolled mark, plus the inbox tail aggregated on the fly; the hour
# that holds the mark is in both and merges in the outer GROUP BY.
_ROLLUP_QUERY = """
SELECT b, min(lo), max(hi), sum(total), sum(n) FROM (
    SELECT bucket_ms AS b, min_value AS lo, max_value AS hi, sum_value AS total,
        value_count AS n
    FROM {table} WHERE series = :s AND bucket_ms >= :a AND bucket_ms < :e
    UNION ALL
    SELECT ts / :size * :size, value, value, value, 1 FROM sample_inbox
    WHERE ts >= :tail AND ts < :e AND series = :s AND value IS NOT NULL
) GROUP BY b ORDER BY b
"""
_ROLLUP_TABLES = {Resolution.MINUTE: "rollup_1m", Resolution.HOUR: "rollup_1h"}


def query_series(
    db: Database,
    series: int,
    start_ms: int,
    end_ms: int,
    *,
    max_points: int = DEFAULT_MAX_POINTS,
    resolution: Resolution | None = None,
) -> SeriesData:
    """A series over [start_ms, end_ms), with the gaps that overlap it.

    Without ``resolution``, the finest data that is still complete for the range and gives
    at most ``max_points`` points: raw samples, else 1-minute buckets, else hourly ones (even
    when those are more than ``max_points``). Rollup buckets are whole: the first starts at
    or before ``start_ms``, the last before ``end_ms``. All reads see one snapshot.
    """
    if end_ms <= start_ms:
        raise ValueError("a range must end after it starts")
    conn = db.conn
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        chosen, rows = _fetch(conn, series, start_ms, end_ms, max_points, resolution)
        gaps = gaps_in(db, series, start_ms, end_ms)
    finally:
        if own:
            conn.execute("COMMIT")
    return _series_data(series, chosen, start_ms, end_ms, rows, gaps)


def _series_data(
    series: int, chosen: Resolution, start: int, end: int, rows: list[Any], gaps: tuple[Gap, ...]
) -> SeriesData:
    if chosen is Resolution.RAW:
        values = tuple(math.nan if v is None else float(v) for _, v in rows)
        counts = tuple(0 if v is None else 1 for _, v in rows)
        stamps = tuple(int(t) for t, _ in rows)
        return SeriesData(series, chosen, start, end, stamps, values, values, values, counts, gaps)
    columns = list(zip(*rows, strict=True)) or [()] * 5
    stamps, mins, maxs, sums, counts = (tuple(c) for c in columns)
    averages = tuple(total / n for total, n in zip(sums, counts, strict=True))
    return SeriesData(series, chosen, start, end, stamps, averages, mins, maxs, counts, gaps)


def _fetch(
    conn: sqlite3.Connection,
    series: int,
    start: int,
    end: int,
    max_points: int,
    wanted: Resolution | None,
) -> tuple[Resolution, list[Any]]:
    marks = _marks(conn)
    rolled = marks.get(_Mark.ROLLED, _NO_MARK)
    raw_complete = start >= marks.get(_Mark.RAW_PRUNED, _NO_MARK)
    if wanted is Resolution.RAW or (wanted is None and raw_complete):
        limit = -1 if wanted is Resolution.RAW else max_points + 1
        rows = _raw_rows(conn, series, start, end, rolled, limit)
        if wanted is Resolution.RAW or len(rows) <= max_points:
            return Resolution.RAW, rows
    if wanted is None:
        first_minute = _floor(start, MINUTE_MS)
        minutes = -(-(end - first_minute) // MINUTE_MS)
        minutes_complete = first_minute >= marks.get(_Mark.MINUTE_PRUNED, _NO_MARK)
        fits = minutes <= max_points and minutes_complete
        wanted = Resolution.MINUTE if fits else Resolution.HOUR
    size = wanted.bucket_ms
    first = _floor(start, size)
    last = -(-end // size) * size  # whole buckets: the one holding end_ms - 1 included
    params = {"s": series, "a": first, "e": last, "size": size, "tail": max(first, rolled)}
    sql = _ROLLUP_QUERY.format(table=_ROLLUP_TABLES[wanted])
    return wanted, conn.execute(sql, params).fetchall()


def _raw_rows(
    conn: sqlite3.Connection, series: int, start: int, end: int, rolled: int, limit: int
) -> list[Any]:
    """Raw samples in key order: rolled ones from ``samples``, newer ones from the inbox."""
    rows = conn.execute(
        "SELECT ts, value FROM samples WHERE series = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?",
        (series, start, min(end, rolled), limit),
    ).fetchall()
    left = -1 if limit < 0 else limit - len(rows)
    if left:
        rows += conn.execute(
            "SELECT ts, value FROM sample_inbox WHERE ts >= ? AND ts < ? AND series = ? "
            "ORDER BY ts LIMIT ?",
            (max(start, rolled), end, series, left),
        ).fetchall()
    return rows
