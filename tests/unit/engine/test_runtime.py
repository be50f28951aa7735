"""The engine's loop driven by a fake clock: clock jumps, caps, staleness, batching, shutdown.

The sleep function is injected (``VirtualTime``) and moves the clock instead of waiting, and a
fake probe stands in for the network, so hours of engine time pass in milliseconds. The store
is real.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from pathlib import Path

from console.core.clock import FakeClock
from console.core.endpoints import Endpoint, HeartbeatTarget, TcpTarget
from console.core.events import EventType
from console.engine.runtime import MAX_WAIT_S, Engine
from console.engine.scheduler import RESUME_SPREAD_S, Limits
from console.probes.base import ProbeOutcome
from console.store import entities, events, samples
from console.store.db import Store
from console.store.lock import engine_running

from tests.unit.engine.support import (
    FakeProbe,
    VirtualTime,
    endpoint,
    heartbeat_setting,
    open_store,
    sample_values,
    state_events,
)

START = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
HOUR = 3600.0


def _tcp(key: str, interval: float = 10.0) -> Endpoint:
    return endpoint(key, TcpTarget(f"{key}.example.net", 22), interval_s=interval)


def _engine(
    store: Store, clock: FakeClock, probe: FakeProbe, sleep: VirtualTime, **kw: object
) -> Engine:
    return Engine(
        store,
        clock,
        receiver_port=None,
        probe=probe,
        sleep=sleep,
        rng=random.Random(7),
        **kw,  # type: ignore[arg-type]
    )


def _run(engine: Engine, stop: asyncio.Event) -> None:
    asyncio.run(engine.run(stop))


def test_a_forward_clock_jump_records_a_gap_and_resumes_soon_without_a_burst(
    tmp_path: Path,
) -> None:
    clock = FakeClock(START)
    store = open_store(tmp_path / "s.db", clock)
    keys = ["alpha", "beta", "gamma"]
    for key in keys:
        entities.save(store, _tcp(key, interval=60.0))
    entities.save(store, endpoint("cron", HeartbeatTarget(300), interval_s=60))
    stop = asyncio.Event()
    probe = FakeProbe(clock)
    engine: Engine

    def beat() -> None:
        engine.record_heartbeat("cron")

    # A laptop suspended for an hour: the monotonic clock stands still, the wall clock moves.
    jump_at = 330.0
    script = {float(t): beat for t in range(30, 330, 60)}
    script[jump_at] = lambda: clock.jump_wall(HOUR)
    sleep = VirtualTime(clock, stop, until=jump_at + 100.0, at=script)
    engine = _engine(store, clock, probe, sleep)
    _run(engine, stop)

    for key in keys:
        runs = probe.times(key)
        before = [t for t in runs if t < jump_at]
        resumed = [t for t in runs if jump_at <= t < jump_at + RESUME_SPREAD_S]
        after = [t for t in runs if t >= jump_at]
        assert len(before) == 6, runs
        # Re-polled within seconds of the jump, once: no replay of the hour's missed checks.
        assert len(resumed) == 1, runs
        assert len(after) <= 3, runs
    db = store.read()
    jump_wall = START.timestamp() + jump_at
    series = samples.find_series(db, "alpha", "up")
    assert series is not None
    gaps = samples.gaps_in(db, series, 0, 2**53)
    assert len(gaps) == 1 and gaps[0].series is None
    assert abs(gaps[0].start_ms / 1000 - jump_wall) <= MAX_WAIT_S
    assert abs(gaps[0].end_ms / 1000 - (jump_wall + HOUR)) <= MAX_WAIT_S
    gap_events = list(events.iter_events(db, types=[EventType.DATA_GAP]))
    assert len(gap_events) == 1
    assert abs(gap_events[0].payload["skew_s"] - HOUR) < 1
    assert gap_events[0].payload["reason"].startswith("no data for 1 h")
    # Nothing blamed on the sources: no STALE metric, no heartbeat silence after the jump.
    assert state_events(store) == []


def test_a_backward_clock_jump_records_no_gap_but_says_so(tmp_path: Path) -> None:
    clock = FakeClock(START)
    store = open_store(tmp_path / "s.db", clock)
    entities.save(store, _tcp("alpha"))
    stop = asyncio.Event()
    probe = FakeProbe(clock)
    sleep = VirtualTime(clock, stop, until=60.0, at={30.0: lambda: clock.jump_wall(-HOUR)})
    _run(_engine(store, clock, probe, sleep), stop)

    db = store.read()
    gap_events = list(events.iter_events(db, types=[EventType.DATA_GAP]))
    assert len(gap_events) == 1
    assert gap_events[0].payload["reason"].startswith("the clock went back 1 h")
    series = samples.find_series(db, "alpha", "up")
    assert series is not None
    assert samples.gaps_in(db, series, 0, 2**53) == ()
    assert len(probe.times("alpha")) <= 7


def test_the_loop_never_spins_while_checks_wait_for_a_free_slot(tmp_path: Path) -> None:
    clock = FakeClock(START)
    store = open_store(tmp_path / "s.db", clock)
    for key in ("alpha", "beta", "gamma"):
        entities.save(store, _tcp(key, interval=1.0))
    stop = asyncio.Event()
    probe = FakeProbe(clock)
    probe.hang = {"alpha", "beta", "gamma"}  # whichever starts holds the only slot for good
    sleep = VirtualTime(clock, stop, until=20.0)
    _run(_engine(store, clock, probe, sleep, limits=Limits(global_cap=1)), stop)

    assert len(probe.calls) == 1
    # About one turn per MAX_WAIT_S (plus the start): waiting, not polling in a tight loop.
    assert sleep.turns <= 20.0 / MAX_WAIT_S + 5
    assert sleep.zero_sleeps <= 2


def test_an_endpoint_starved_of_slots_turns_stale_and_shutdown_cancels_a_hung_check(
    tmp_path: Path,
) -> None:
    clock = FakeClock(START)
    store = open_store(tmp_path / "s.db", clock)
    entities.save(store, _tcp("alpha"))
    entities.save(store, _tcp("beta"))
    stop = asyncio.Event()
    probe = FakeProbe(clock)
    probe.hang = {"alpha", "beta"}
    sleep = VirtualTime(clock, stop, until=60.0)
    _run(_engine(store, clock, probe, sleep, limits=Limits(global_cap=1)), stop)

    started = {key for key, _, _ in probe.calls}
    assert len(started) == 1
    (starved,) = {"alpha", "beta"} - started
    changes = state_events(store, f"endpoint:{starved}")
    assert changes, "the starved endpoint never turned STALE"
    stale = changes[0].payload
    assert stale["to"] == "stale" and stale["type"] == "hard"
    assert stale["reason"].startswith("no data for")
    assert stale["endpoint"] == starved and stale["metric_key"] is None
    # The hung check was cancelled at shutdown, and the lock released.
    assert not engine_running(store.path)


def test_failures_back_off_and_confirm_a_hard_state_with_an_event_in_words(tmp_path: Path) -> None:
    clock = FakeClock(START)
    store = open_store(tmp_path / "s.db", clock)
    entities.save(store, _tcp("alpha", interval=10.0))
    stop = asyncio.Event()
    probe = FakeProbe(clock, ProbeOutcome.DOWN)
    sleep = VirtualTime(clock, stop, until=120.0)
    engine = _engine(store, clock, probe, sleep)
    _run(engine, stop)

    runs = probe.times("alpha")
    gaps = [b - a for a, b in zip(runs, runs[1:], strict=False)]
    assert gaps[:3] == sorted(gaps[:3]) and gaps[2] > gaps[0], f"no backoff: {gaps}"
    changes = [e.payload for e in state_events(store, "endpoint:alpha")]
    assert [(c["to"], c["type"]) for c in changes] == [("critical", "soft"), ("critical", "hard")]
    assert changes[1]["reason"] == "fake down; 3 checks in a row"
    assert changes[1]["service"] == "web"
    assert sample_values(store, "alpha", "up") == [0.0] * len(runs)
    (report,) = engine.reports()
    assert report.state.value == "critical" and report.reason == "fake down"
    beat = heartbeat_setting(store)
    assert beat["state"] == "stopped" and beat["endpoints"] == 1
    started_events = list(events.iter_events(store.read(), types=[EventType.ENGINE_STARTED]))
    stopped_events = list(events.iter_events(store.read(), types=[EventType.ENGINE_STOPPED]))
    assert len(started_events) == len(stopped_events) == 1


def test_heartbeat_silence_beyond_grace_is_critical_at_once_and_a_beat_recovers(
    tmp_path: Path,
) -> None:
    clock = FakeClock(START)
    store = open_store(tmp_path / "s.db", clock)
    entities.save(store, endpoint("cron", HeartbeatTarget(300), interval_s=60))
    stop = asyncio.Event()
    probe = FakeProbe(clock)
    engine: Engine

    def beat() -> None:
        engine.record_heartbeat("cron")

    sleep = VirtualTime(clock, stop, until=800.0, at={100.0: beat, 700.0: beat})
    engine = _engine(store, clock, probe, sleep)
    _run(engine, stop)

    assert probe.calls == []  # heartbeats are received, never polled
    changes = [e.payload for e in state_events(store, "endpoint:cron")]
    assert [(c["from"], c["to"], c["type"]) for c in changes] == [
        ("ok", "critical", "hard"),
        ("critical", "ok", "hard"),
    ]
    silent = changes[0]
    assert silent["metric"] == "heartbeat"
    assert (
        silent["reason"].startswith("no heartbeat for 5 min")
        and "(grace 5 min)" in silent["reason"]
    )
    went_silent = datetime.fromisoformat(silent["at"].replace("Z", "+00:00")).timestamp()
    assert 400.0 < went_silent - START.timestamp() <= 401.5
    assert sample_values(store, "cron", "heartbeat") == [1.0, 1.0]
