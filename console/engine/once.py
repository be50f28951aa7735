"""One pass over every enabled endpoint: ``oncall-console poll --once`` and quick checks."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from console.core.checks import CheckState, StateType
from console.core.clock import Clock
from console.core.endpoints import Endpoint, HeartbeatTarget
from console.core.units import format_duration
from console.engine.dispatch import (
    CredentialCache,
    Dispatcher,
    ProbeFn,
    SecretSource,
    client_session,
    execute,
)
from console.engine.history import last_sample_at
from console.engine.judge import HEARTBEAT_METRIC, HEARTBEAT_NAME, EndpointJudge, MetricStatus
from console.engine.recorder import Recorder
from console.engine.reports import CheckReport, build_report
from console.engine.scheduler import Limits
from console.engine.watch import enabled_endpoints
from console.store.db import Store
from console.store.samples import epoch_ms


async def poll_once(
    store: Store,
    clock: Clock,
    *,
    limits: Limits | None = None,
    secrets: SecretSource | None = None,
    endpoints: Sequence[Endpoint] | None = None,
    probe: ProbeFn | None = None,
) -> list[CheckReport]:
    """Run every enabled endpoint once, concurrently within the caps, and record the samples.

    States are those of a single result (SOFT at most: nothing is confirmed by one check), so
    no state-change events are recorded. A heartbeat endpoint is judged by the heartbeats the
    store holds from its grace period.

    Args:
        store: Endpoints are read from it (unless given) and samples written to it.
        clock: Wall-clock and monotonic time.
        limits: The concurrency caps.
        secrets: Where credentials come from.
        endpoints: The endpoints to run instead of the store's enabled ones.
        probe: Runs one check (the probes by default).

    Returns:
        One report per endpoint, by key.
    """
    limits = limits or Limits()
    chosen = tuple(endpoints) if endpoints is not None else enabled_endpoints(store)
    recorder = Recorder(store)
    credentials = CredentialCache(secrets)
    global_slots = asyncio.Semaphore(limits.global_cap)
    host_slots: dict[str, asyncio.Semaphore] = {}

    async def one(endpoint: Endpoint, run: ProbeFn) -> CheckReport:
        if isinstance(endpoint.target, HeartbeatTarget):
            return await _heartbeat_report(store, endpoint, clock)
        judge = EndpointJudge(endpoint, clock.now().timestamp())
        host = host_slots.setdefault(endpoint.host, asyncio.Semaphore(limits.per_host_cap))
        async with global_slots, host:
            result = await execute(endpoint, run, credentials, clock)
        ts = epoch_ms(result.started_at)
        for metric, value in result.metrics.items():
            recorder.sample(endpoint.key, metric, ts, value)
        judge.judge(result)
        return build_report(endpoint, judge.statuses(), result)

    async with client_session(limits) as session:
        run = probe or Dispatcher(session, clock).run
        reports = await asyncio.gather(*(one(e, run) for e in chosen))
    await asyncio.to_thread(recorder.write, recorder.take())
    return sorted(reports, key=lambda r: r.endpoint)


async def _heartbeat_report(store: Store, endpoint: Endpoint, clock: Clock) -> CheckReport:
    """A heartbeat endpoint judged by the heartbeats stored within its grace period."""
    assert isinstance(endpoint.target, HeartbeatTarget)
    grace = endpoint.target.grace_s
    now = clock.now()
    key = endpoint.key
    last = await asyncio.to_thread(last_sample_at, store, key, HEARTBEAT_METRIC, now, grace)
    if last is None:
        state = CheckState.CRITICAL
        within = format_duration(grace)
        reason = f"no heartbeat in the last {within} (grace {within})"
    else:
        state = CheckState.OK
        ago = format_duration(max(0.0, now.timestamp() - last))
        reason = f"last heartbeat {ago} ago (grace {format_duration(grace)})"
    status = MetricStatus(None, HEARTBEAT_NAME, state, StateType.HARD, state, None, reason)
    return build_report(endpoint, [status], None)
