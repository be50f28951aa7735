"""What keeps the engine cheap and punctual at thousands of endpoints, and that it stays correct.

The benchmark (``tests/benchmarks/bench_engine.py``) measures the costs; these tests pin the
behaviour behind them: a late check keeps its place in the rotation, the once-a-minute reload
decodes nothing when nothing changed (but still catches a change that left no event), an
endpoint already STALE is not judged again every second, and the collector settings the engine
uses while it runs are put back when it stops.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from console.core import codec
from console.core.checks import CheckState
from console.core.clock import FakeClock
from console.core.endpoints import Endpoint, TcpTarget
from console.core.events import EventType
from console.engine.dispatch import Credential
from console.engine.judge import EndpointJudge
from console.engine.runtime import GC_YOUNG_THRESHOLD, Engine
from console.engine.scheduler import Limits
from console.engine.watch import FULL_RELOAD_S, enabled_endpoints
from console.probes.base import ProbeOutcome, ProbeResult
from console.store import entities, estate, events
from console.store.db import Store

from tests.unit.engine.support import (
    FakeProbe,
    VirtualTime,
    endpoint,
    latency_spec,
    open_store,
    state_events,
)

START = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


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


def test_a_check_that_starts_late_keeps_its_place_in_the_rotation(tmp_path: Path) -> None:
    clock = FakeClock(START)
    store = open_store(tmp_path / "s.db", clock)
    entities.save(store, _tcp("alpha", interval=10.0))
    stop = asyncio.Event()
    fake = FakeProbe(clock)
    engine: Engine
    dues: list[float] = []  # the due time of each check, as its probe starts
    turns: list[float] = []  # when the loop started each check

    async def probe(e: Endpoint, credential: Credential | None) -> ProbeResult:
        due = engine.due_at(e.key)
        assert due is not None
        dues.append(due)
        return await fake(e, credential)

    def stall() -> None:
        clock.advance(0.4)  # the loop was busy: the check due meanwhile starts 0.4 s late

    def plan_the_stall() -> None:
        due = engine.due_at("alpha")
        assert due is not None
        sleep.pending[due + 20.0 - 0.1] = stall
        sleep.pending = dict(sorted(sleep.pending.items()))

    class Turns(VirtualTime):
        async def __call__(self, seconds: float, wake: asyncio.Event) -> None:
            turns.append(clock.monotonic())
            await super().__call__(seconds, wake)

    sleep = Turns(clock, stop, until=60.0, at={0.001: plan_the_stall})
    engine = Engine(
        store, clock, receiver_port=None, probe=probe, sleep=sleep, rng=random.Random(7)
    )
    asyncio.run(engine.run(stop))

    first = dues[0]
    # The third check was started 0.4 s after it was due...
    assert any(abs(t - (first + 20.4)) < 1e-6 for t in turns), turns
    # ...and the rotation kept its step: counted from the due time, not from the late start.
    assert dues[:5] == pytest.approx([first + 10.0 * n for n in range(5)]), dues


def test_the_minute_reload_decodes_only_when_the_stored_endpoints_changed(tmp_path: Path) -> None:
    clock = FakeClock(START)
    store = open_store(tmp_path / "s.db", clock)
    entities.save(store, _tcp("alpha", interval=10.0))
    loads: list[float] = []

    def counting_loader(s: Store) -> Sequence[Endpoint]:
        loads.append(clock.monotonic())
        return enabled_endpoints(s)

    def edit_behind_the_engines_back() -> None:
        # A change that left no event behind (a hand edit of the file): only the safety net
        # can notice it.
        changed = _tcp("alpha", interval=30.0)
        with store.transaction() as db:
            db.execute(
                "UPDATE endpoints SET spec = ? WHERE key = ?",
                [json.dumps(codec.endpoint_to_dict(changed)), "alpha"],
            )

    before = estate.endpoints_fingerprint(store.read())
    edit_at = FULL_RELOAD_S + 20.0
    stop = asyncio.Event()
    probe = FakeProbe(clock)
    until = 3 * FULL_RELOAD_S + 30.0
    sleep = VirtualTime(clock, stop, until=until, at={edit_at: edit_behind_the_engines_back})
    engine = _engine(store, clock, probe, sleep, load_endpoints=counting_loader)
    asyncio.run(engine.run(stop))

    assert estate.endpoints_fingerprint(store.read()) != before
    # Loaded at start, then again only after the edit: the safety net at one minute found
    # the same endpoints and decoded nothing.
    assert len(loads) == 2, loads
    assert 2 * FULL_RELOAD_S <= loads[1] < 2 * FULL_RELOAD_S + 1.0, loads
    (monitored,) = engine.endpoints()
    assert monitored.interval_s == 30.0
    late = [t for t in probe.times("alpha") if t > loads[1] + 1.0]
    gaps = [b - a for a, b in zip(late, late[1:], strict=False)]
    assert gaps and all(abs(g - 30.0) < 1e-6 for g in gaps), gaps


def test_the_fingerprint_follows_what_is_stored(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db", FakeClock(START))
    empty = estate.endpoints_fingerprint(store.read())
    entities.save(store, _tcp("alpha"))
    one = estate.endpoints_fingerprint(store.read())
    entities.save(store, _tcp("alpha"))  # saved again unchanged
    assert estate.endpoints_fingerprint(store.read()) == one != empty
    entities.save(store, _tcp("alpha", interval=20.0))
    assert estate.endpoints_fingerprint(store.read()) not in (one, empty)


def _result(at: float) -> ProbeResult:
    started = datetime.fromtimestamp(at, UTC)
    return ProbeResult(
        ProbeOutcome.UP, {"up": 1.0, "response_time_ms": 12.0}, "fine", started, 0.01
    )


def test_an_endpoint_already_stale_is_not_judged_again_until_a_result_arrives() -> None:
    t0 = START.timestamp()
    target = TcpTarget("alpha.example.net", 22)
    judge = EndpointJudge(endpoint("alpha", target, interval_s=10.0, metrics=(latency_spec(),)), t0)
    judge.judge(_result(t0 + 1))

    went_stale = judge.tick(t0 + 40)
    assert [key for key, _ in went_stale] == [None, "response_time_ms"]
    assert all(e.state is CheckState.STALE for _, e in went_stale)
    assert judge.tick(t0 + 41) == [] and judge.tick(t0 + 500) == []

    back = judge.judge(_result(t0 + 501))
    assert all(e.state is not CheckState.STALE for _, e in back)
    assert judge.tick(t0 + 510) == []  # fresh data: not stale yet
    again = judge.tick(t0 + 540)
    assert [e.state for _, e in again] == [CheckState.STALE, CheckState.STALE]


def test_the_collector_is_tuned_while_the_engine_runs_and_put_back_after(tmp_path: Path) -> None:
    clock = FakeClock(START)
    store = open_store(tmp_path / "s.db", clock)
    entities.save(store, _tcp("alpha", interval=1.0))
    before = gc.get_threshold()
    seen: list[tuple[tuple[int, int, int], int]] = []
    stop = asyncio.Event()
    probe = FakeProbe(clock)

    def look() -> None:
        seen.append((gc.get_threshold(), gc.get_freeze_count()))

    sleep = VirtualTime(clock, stop, until=5.0, at={2.0: look})
    asyncio.run(_engine(store, clock, probe, sleep).run(stop))

    ((during, frozen),) = seen
    assert during[0] == max(before[0], GC_YOUNG_THRESHOLD) and during[1:] == before[1:]
    assert frozen > 0  # what was loaded at start is out of the collector's way
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_an_engine_that_falls_behind_records_that_once_instead_of_endpoints_going_stale(
    tmp_path: Path,
) -> None:
    clock = FakeClock(START)
    store = open_store(tmp_path / "s.db", clock)
    keys = [f"ep{n}" for n in range(8)]
    for key in keys:
        entities.save(store, _tcp(key, interval=1.0))
    stop = asyncio.Event()
    probe = FakeProbe(clock)
    probe.hang = set(keys)  # every check holds its slot until released

    def release() -> None:
        probe.hang.clear()
        probe.release.set()

    sleep = VirtualTime(clock, stop, until=40.0, at={20.0: release})
    engine = _engine(store, clock, probe, sleep, limits=Limits(global_cap=2))
    asyncio.run(engine.run(stop))

    engine_events = [
        e.type
        for e in events.iter_events(
            store.read(),
            subject=None,
            types=[EventType.ENGINE_LAGGING, EventType.ENGINE_CAUGHT_UP],
        )
    ]
    # Two checks hold the only two slots: six wait, more than the engine may run at once.
    assert engine_events == [EventType.ENGINE_LAGGING, EventType.ENGINE_CAUGHT_UP]
    # The waiting endpoints were not judged STALE one by one (and back again).
    stale = [e for e in state_events(store) if e.payload["to"] == CheckState.STALE.value]
    assert stale == []
    # Once released, every endpoint was checked again.
    assert {key for key, _, _ in probe.calls} == set(keys)


def test_a_few_overdue_checks_still_go_stale_when_the_engine_keeps_up(tmp_path: Path) -> None:
    clock = FakeClock(START)
    store = open_store(tmp_path / "s.db", clock)
    for key in ("stuck", "waiting"):  # one host, one check at a time on it
        entities.save(store, endpoint(key, TcpTarget("shared.example.net", 22)))
    entities.save(store, _tcp("fine", interval=1.0))
    stop = asyncio.Event()
    probe = FakeProbe(clock)
    sleep = VirtualTime(clock, stop, until=30.0, at={5.0: lambda: probe.hang.add("stuck")})
    engine = _engine(store, clock, probe, sleep, limits=Limits(global_cap=8, per_host_cap=1))
    asyncio.run(engine.run(stop))

    stale = {
        e.payload["endpoint"]
        for e in state_events(store)
        if e.payload["to"] == CheckState.STALE.value
    }
    # "waiting" cannot get its host's only slot: its data ages, the engine is not behind.
    assert stale == {"waiting"}
    assert not engine.lagging
