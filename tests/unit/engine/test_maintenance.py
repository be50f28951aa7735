"""Housekeeping rolls samples up and trims what is past retention, in bounded steps."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from console.core.clock import FakeClock
from console.engine import maintenance
from console.store import samples
from console.store.db import Store

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _raw_count(store: Store) -> int:
    db = store.read()
    return sum(
        int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        for table in ("samples", "sample_inbox")
    )


def test_three_days_of_samples_are_rolled_up_and_raw_data_trimmed_to_48_hours(
    tmp_path: Path,
) -> None:
    clock = FakeClock(NOW)
    store = Store.open(tmp_path / "s.db", clock)
    series = samples.series_id(store, "api-health", "response_time_ms", {})
    now_ms = samples.epoch_ms(NOW)
    step = 10 * samples.MINUTE_MS
    rows = [(series, now_ms - i * step, float(i % 50)) for i in range(1, 3 * 144 + 1)]
    samples.write_samples(store, rows)
    assert _raw_count(store) == len(rows)

    done = asyncio.run(maintenance.housekeep(store, clock))

    assert not done.more and done.rollup_steps >= 1 and done.prune_steps >= 1
    cutoff = now_ms - 48 * samples.HOUR_MS
    kept = [r for r in rows if r[1] >= cutoff]
    # raw data older than 48 h is gone (to the minute), the rest is still there
    assert abs(_raw_count(store) - len(kept)) <= 1
    week = samples.query_series(
        store.read(),
        series,
        now_ms - 3 * samples.DAY_MS,
        now_ms,
        resolution=samples.Resolution.HOUR,
    )
    # every hour of the three days is in the hourly rollups, including the trimmed ones
    assert len(week.timestamps) >= 71 and sum(week.counts) >= len(rows) - 6
    store.close()


def test_the_loop_stops_when_told(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    store = Store.open(tmp_path / "s.db", clock)

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(maintenance.housekeeping_loop(store, clock, stop))
        await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(run())
    store.close()
