"""Shared pieces for engine tests: a store with a service to hang endpoints on, and builders."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from console.core.clock import Clock, FakeClock
from console.core.endpoints import Endpoint, MetricSpec, Target
from console.core.enums import Discipline, ImpactTier
from console.core.events import Event, EventType
from console.core.models import Service, Team
from console.core.thresholds import StaticThresholds
from console.core.units import Unit
from console.engine.dispatch import Credential
from console.probes.base import ProbeOutcome, ProbeResult
from console.store import entities, events, samples
from console.store.db import Store

SERVICE = "web"


def open_store(path: Path, clock: Clock | None = None) -> Store:
    """A store with one team and one service (endpoints need a service to belong to)."""
    store = Store.open(path, clock)
    entities.save(store, Team("ops", "Operations", Discipline.INFRASTRUCTURE))
    entities.save(store, Service(SERVICE, "Web shop", "ops", ImpactTier(2)))
    return store


def endpoint(key: str, target: Target, **fields: Any) -> Endpoint:
    """An endpoint of the test service with a 1 s interval unless told otherwise."""
    fields.setdefault("interval_s", 1.0)
    fields.setdefault("timeout_s", 2.0)
    return Endpoint(key, key.replace("-", " ").title(), SERVICE, target, **fields)


def latency_spec(critical_ms: float = 1000.0) -> MetricSpec:
    """Response time with a static critical level."""
    return MetricSpec(
        "response_time_ms",
        "latency",
        Unit.MILLISECONDS,
        thresholds=StaticThresholds.above(critical=critical_ms),
    )


def state_events(store: Store, subject: str | None = None) -> list[Event]:
    """Every metric state change recorded so far (optionally about one subject)."""
    return list(
        events.iter_events(store.read(), subject=subject, types=[EventType.METRIC_STATE_CHANGED])
    )


def sample_values(store: Store, endpoint_key: str, metric: str) -> list[float]:
    """Every raw sample of one series, oldest first (empty when the series does not exist)."""
    db = store.read()
    series = samples.find_series(db, endpoint_key, metric)
    if series is None:
        return []
    data = samples.query_series(
        db, series, 0, 2**53, resolution=samples.Resolution.RAW, max_points=10**9
    )
    return list(data.values)


def heartbeat_setting(store: Store) -> dict[str, Any]:
    """The engine's heartbeat setting, decoded."""
    raw = store.setting("engine.heartbeat")
    assert raw is not None, "the engine wrote no heartbeat setting"
    decoded: dict[str, Any] = json.loads(raw)
    return decoded


class FakeProbe:
    """Stands in for the probes in loop tests: answers at once (or on release), logs calls."""

    def __init__(self, clock: FakeClock, outcome: ProbeOutcome = ProbeOutcome.UP) -> None:
        self.clock = clock
        self.outcome = outcome
        self.calls: list[tuple[str, float, float]] = []  # key, wall epoch s, monotonic
        self.hang: set[str] = set()
        self.release = asyncio.Event()

    async def __call__(self, endpoint: Endpoint, credential: Credential | None) -> ProbeResult:
        now = self.clock.now()
        self.calls.append((endpoint.key, now.timestamp(), self.clock.monotonic()))
        if endpoint.key in self.hang:
            await self.release.wait()
        up = 1.0 if self.outcome is ProbeOutcome.UP else 0.0
        return ProbeResult(self.outcome, {"up": up}, f"fake {self.outcome.value}", now, 0.0)

    def times(self, key: str) -> list[float]:
        """Monotonic start times of one endpoint's checks."""
        return [mono for k, _, mono in self.calls if k == key]


class VirtualTime:
    """A sleep function that moves a FakeClock instead of waiting, and runs a script.

    Args:
        clock: The clock to move.
        stop: Set once the monotonic clock passes ``until``.
        until: Monotonic seconds to run for.
        at: Callbacks by monotonic time, each run once when the clock passes it.
    """

    def __init__(
        self,
        clock: FakeClock,
        stop: asyncio.Event,
        until: float,
        at: dict[float, Callable[[], None]] | None = None,
    ) -> None:
        self.clock = clock
        self.stop = stop
        self.until = until
        self.pending = dict(sorted((at or {}).items()))
        self.turns = 0
        self.zero_sleeps = 0

    async def __call__(self, seconds: float, wake: asyncio.Event) -> None:
        self.turns += 1
        assert self.turns < 100_000, "the loop spins"
        if not wake.is_set():
            self.clock.advance(seconds)
        if seconds <= 0 or wake.is_set():
            self.zero_sleeps += 1
        for when in [w for w in self.pending if w <= self.clock.monotonic()]:
            self.pending.pop(when)()
        if self.clock.monotonic() >= self.until:
            self.stop.set()
        await asyncio.sleep(0)


def sample_times(store: Store, endpoint_key: str, metric: str) -> list[float]:
    """When each raw sample of one series was taken (epoch seconds), oldest first."""
    db = store.read()
    series = samples.find_series(db, endpoint_key, metric)
    if series is None:
        return []
    data = samples.query_series(
        db, series, 0, 2**53, resolution=samples.Resolution.RAW, max_points=10**9
    )
    return [ts / 1000 for ts in data.timestamps]


async def until(predicate: Callable[[], bool], what: str, timeout: float = 15.0) -> float:
    """Poll ``predicate`` every 50 ms until it holds; returns the seconds it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not predicate():
        if loop.time() - start > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)
    return loop.time() - start
