"""The engine: runs the checks the plan says are due, judges their results and records them.

One asyncio loop (the main loop of ``oncall-console engine``, or a background thread of the
app) does everything but writing: each check is a task with its own deadline, results go
through each endpoint's evaluators, and samples, state-change events, gaps and the engine's
heartbeat setting are buffered and written one transaction per batch on a single writer thread.
The loop sleeps until the next check is due or something wakes it (a finished check, a stop
request), and at most ``MAX_WAIT_S``, so it notices store changes and clock jumps within a
second without ever spinning.

Only one engine runs per store (``console.store.lock``); a second one raises ``EngineLocked``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import aiohttp

from console.core.checks import CheckState
from console.core.clock import Clock, isoformat
from console.core.endpoints import Endpoint, HeartbeatTarget, ProbeKind
from console.core.events import EventType
from console.core.incident_policy import IncidentSettings
from console.core.notices import DeliveryConfig
from console.core.units import format_duration
from console.delivery.channels import Channels
from console.engine.alerts import AlertIntake, InboundAlerts, InboundSettings, inbound_alerts
from console.engine.backfill import warm_up
from console.engine.dispatch import (
    CredentialCache,
    CredentialKind,
    CredentialUnavailable,
    Dispatcher,
    ProbeFn,
    SecretSource,
    client_session,
    execute,
)
from console.engine.escalator import Escalator
from console.engine.incidents import MetricIncidents, OutcomeHook, seed_judge
from console.engine.judge import (
    HEARTBEAT_METRIC,
    EndpointJudge,
    Outcome,
)
from console.engine.maintenance import housekeeping_loop
from console.engine.once import poll_once
from console.engine.receiver import (
    DEFAULT_RECEIVER_HOST,
    DEFAULT_RECEIVER_PORT,
    Receiver,
    Route,
)
from console.engine.recorder import DEFAULT_BATCH_ROWS, Recorder
from console.engine.reports import CheckReport, build_report
from console.engine.scheduler import (
    ClockJump,
    Job,
    Limits,
    Plan,
    detect_jump,
)
from console.engine.transitions import change_events
from console.engine.watch import EndpointLoader, EndpointWatch, enabled_endpoints
from console.probes.base import ProbeOutcome, ProbeResult
from console.store import estate
from console.store.db import Store
from console.store.lock import EngineLock
from console.store.samples import epoch_ms
from console.store.status import ConfirmedState, confirmed_states

log = logging.getLogger(__name__)

#: The settings key of the engine's heartbeat (JSON: pid, host, started, beat, state, ...).
HEARTBEAT_SETTING = "engine.heartbeat"
HEARTBEAT_EVERY_S = 5.0
FLUSH_EVERY_S = 1.0
RELOAD_EVERY_S = 0.5
TICK_EVERY_S = 1.0
#: The longest the loop sleeps without being woken.
MAX_WAIT_S = 0.5
#: The shortest sleep between two turns that were not woken (due times are batched this finely).
MIN_TURN_S = 0.01
#: Allocations between young-generation collections while the engine runs (CPython: 700).
#: Each check allocates hundreds of short-lived objects; at 700 those of checks still in flight
#: are promoted to the oldest generation, whose full collections then walk every endpoint's
#: state: a third of a second with the loop stopped, every few seconds, at 10,000 endpoints.
#: What the engine loads at start is also frozen (``gc.freeze``): full collections skip it.
GC_YOUNG_THRESHOLD = 100_000
#: The alert routes' defaults (``Engine(inbound=None)``: no alert routes).
DEFAULT_INBOUND = InboundSettings()

Sleeper = Callable[[float, asyncio.Event], Awaitable[None]]


async def wait_or_wake(seconds: float, wake: asyncio.Event) -> None:
    """Sleep up to ``seconds``, returning early when ``wake`` is set."""
    if wake.is_set():
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(0.0, seconds)):
            await wake.wait()


@contextlib.contextmanager
def gc_tuned_for_checks(threshold: int = GC_YOUNG_THRESHOLD) -> Iterator[None]:
    """Collect the young generation less often while inside (see GC_YOUNG_THRESHOLD)."""
    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, threshold), *older)
    try:
        yield
    finally:
        gc.set_threshold(young, *older)
        gc.unfreeze()


class Engine:
    """The monitoring engine of one store.

    Args:
        store: The store (endpoints are read from it, samples and events written to it).
        clock: Wall-clock and monotonic time.
        limits: Concurrency caps and backoff ceiling.
        secrets: Where credentials come from (None: only token files).
        receiver_port: The receiver's port (0: any free one, None: no receiver).
        receiver_host: The address the receiver binds.
        load_endpoints: Reads the endpoints (the enabled ones in the store by default).
        probe: Runs one check (the probes, with the engine's HTTP session, by default).
        sleep: Waits between loop turns (tests pass one that moves a fake clock).
        rng: Randomness for spreading and jitter.
        batch_rows: Samples that make a batch worth writing before its second is up.
        lock: Take the store's engine lock (off only for tests of the loop itself).
        on_incident: Called for every incident outcome that should notify people (a new or
            reopened incident, a worse severity, nothing holding it back), from the writer
            thread right after the commit that recorded it; metric breaches and inbound alerts
            alike. It runs off the event loop and holds up the next write while it runs: hand
            the outcome over (a queue, a Qt queued signal) and return.
        inbound: The alert routes' tokens and rate limit (``console.engine.alerts``); None
            serves no alert routes.
        escalate: Run escalation and delivery beside polling (``console.engine.escalator``).
        gc_young: The young-generation threshold while running (process-wide: an engine
            inside the app passes a smaller one, see ``console.ui.engine_host``).
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        limits: Limits | None = None,
        secrets: SecretSource | None = None,
        receiver_port: int | None = DEFAULT_RECEIVER_PORT,
        receiver_host: str = DEFAULT_RECEIVER_HOST,
        load_endpoints: EndpointLoader = enabled_endpoints,
        probe: ProbeFn | None = None,
        sleep: Sleeper = wait_or_wake,
        rng: random.Random | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        lock: bool = True,
        on_incident: OutcomeHook | None = None,
        inbound: InboundSettings | None = DEFAULT_INBOUND,
        escalate: bool = True,
        gc_young: int = GC_YOUNG_THRESHOLD,
    ) -> None:
        self._store = store
        self._clock = clock
        self._limits = limits or Limits()
        self._credentials = CredentialCache(secrets)
        self._secrets = secrets
        self._escalate = escalate
        self._gc_young = gc_young
        #: Escalation and delivery while the engine runs (None before it starts).
        self.escalator: Escalator | None = None
        self._receiver_port = receiver_port
        self._receiver_host = receiver_host
        self._load = load_endpoints
        self._probe_override = probe
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._lock_wanted = lock
        self._recorder = Recorder(store, batch_rows=batch_rows)
        self._recorder.on_incident = on_incident
        self._on_incident = on_incident
        self._incidents = MetricIncidents()
        self._inbound = inbound
        self._intake: AlertIntake | None = None
        #: The alert routes while the receiver serves them.
        self.alerts: InboundAlerts | None = None
        self._watch = EndpointWatch(store)
        self._plan = Plan(self._limits)
        self._endpoints: dict[str, Endpoint] = {}
        self._judges: dict[str, EndpointJudge] = {}
        self._results: dict[str, ProbeResult] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._dispatcher: Dispatcher | None = None
        self._probe: ProbeFn | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._flushing: asyncio.Task[None] | None = None
        self._fingerprint: str | None = None
        self._heartbeats: list[str] = []
        self._wake = asyncio.Event()
        self._stopping = False
        self._waiting_for_slot = False
        self._last_wall = clock.now()
        self._last_mono = clock.monotonic()
        self._next_reload = 0.0
        self.started_at: datetime | None = None
        self.receiver: Receiver | None = None
        #: Set once the engine runs: lock held, receiver bound, endpoints loaded.
        self.ready = asyncio.Event()
        #: Checks started so far (for status displays and tests).
        self.checks_started = 0
        #: Whether more checks are overdue than may run at once, and how many are overdue.
        self.lagging = False
        self.overdue = 0

    # -- public ------------------------------------------------------------------------------

    @property
    def receiver_url(self) -> str | None:
        """The receiver's base URL while it runs."""
        return None if self.receiver is None or self.receiver.port is None else self.receiver.url

    def endpoints(self) -> list[Endpoint]:
        """The endpoints being monitored."""
        return list(self._endpoints.values())

    def due_at(self, key: str) -> float | None:
        """When the endpoint's running or next check is due, in monotonic seconds.

        A probe started by the engine can compare it with the clock to see how late the check
        began (the benchmark's lag figure). None for an endpoint that is not scheduled.
        """
        entry = self._plan.entries.get(key)
        return None if entry is None else entry.due

    def reports(self) -> list[CheckReport]:
        """Where every monitored endpoint stands, by key."""
        return [
            build_report(e, self._judges[k].statuses(), self._results.get(k))
            for k, e in sorted(self._endpoints.items())
            if k in self._judges
        ]

    async def run(self, stop: asyncio.Event) -> None:
        """Monitor until ``stop`` is set, then shut down cleanly.

        Raises:
            EngineLocked: Another engine runs on this store.
            OSError: The receiver's port cannot be bound.
        """
        lock = EngineLock(self._store.path) if self._lock_wanted else None
        if lock is not None:
            lock.acquire(self._clock)
        try:
            with gc_tuned_for_checks(self._gc_young):
                await self._serve(stop)
        finally:
            if lock is not None:
                lock.release()

    # -- the receiver's side -----------------------------------------------------------------

    def heartbeat_endpoint(self, key: str) -> Endpoint | None:
        """The monitored heartbeat endpoint of that key, if any."""
        endpoint = self._endpoints.get(key)
        if endpoint is None or not isinstance(endpoint.target, HeartbeatTarget):
            return None
        return endpoint

    async def heartbeat_token(self, endpoint: Endpoint) -> str | None:
        """The bearer token heartbeats of this endpoint must carry (None: no credential).

        Raises:
            CredentialUnavailable: It cannot be read now, or is not a bearer token.
        """
        if endpoint.credential is None:
            return None
        credential = await self._credentials.credential(endpoint.credential)
        if credential.kind is not CredentialKind.BEARER:
            raise CredentialUnavailable(endpoint.credential, "a heartbeat takes a bearer token")
        return credential.secret

    def record_heartbeat(self, key: str) -> None:
        """Record a heartbeat: a sample of 1, and the endpoint's check is OK again."""
        endpoint, judge = self._endpoints.get(key), self._judges.get(key)
        if endpoint is None or judge is None:
            return
        wall = self._clock.now()
        at_ms = epoch_ms(wall)
        self._recorder.sample(key, HEARTBEAT_METRIC, at_ms, 1.0)
        self._recorder.result(key, at_ms, CheckState.OK, "heartbeat received")
        self._record(endpoint, judge.heartbeat(wall.timestamp()))

    # -- lifecycle ---------------------------------------------------------------------------

    async def _serve(self, stop: asyncio.Event) -> None:
        self._wake = asyncio.Event()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine-writer")
        session = client_session(self._limits)
        try:
            self._dispatcher = Dispatcher(session, self._clock)
            self._probe = self._probe_override or self._dispatcher.run
            await self._start_receiver()
            self._begin()
            stopper = asyncio.create_task(self._wake_on(stop))
            housekeeper = asyncio.create_task(housekeeping_loop(self._store, self._clock, stop))
            escalating = self._start_escalation(session, stop)
            try:
                await self._drive(stop)
            finally:
                stopper.cancel()
                housekeeper.cancel()
                await asyncio.gather(housekeeper, return_exceptions=True)
                if escalating is not None:
                    await asyncio.gather(escalating, return_exceptions=True)
                await self._shutdown()
        finally:
            await self._stop_receiver()
            await session.close()
            self._writer.shutdown(wait=True)

    def _start_escalation(
        self, session: aiohttp.ClientSession, stop: asyncio.Event
    ) -> asyncio.Task[None] | None:
        """Escalate beside polling (``escalate=False``: tests of the loop alone)."""
        if not self._escalate:
            return None
        secrets = self._secrets

        def reader(name: str) -> str | None:
            return None if secrets is None else secrets.get(name)

        def channels(config: DeliveryConfig | None) -> Channels:
            return Channels(config or DeliveryConfig(), session, reader)

        self.escalator = Escalator(self._store, self._clock, channels)
        return asyncio.create_task(self.escalator.run(stop))

    async def _start_receiver(self) -> None:
        if self._receiver_port is None:
            return
        routes: list[Route] = []
        if self._inbound is not None and self._writer is not None:
            self.alerts, self._intake = inbound_alerts(
                self._store,
                self._inbound,
                credentials=self._credentials,
                writer=self._writer,
                clock=self._clock,
                incident_settings=self._incident_settings,
                hook=self._on_incident,
            )
            self._intake.start()
            routes = self.alerts.routes()
        receiver = Receiver(self, host=self._receiver_host, port=self._receiver_port, routes=routes)
        try:
            await receiver.start()
        except BaseException:
            await self._stop_receiver()
            raise
        self.receiver = receiver

    async def _stop_receiver(self) -> None:
        receiver, self.receiver = self.receiver, None
        if receiver is not None:
            await receiver.stop()
        intake, self._intake = self._intake, None
        if intake is not None:
            await intake.close()  # what was accepted is written before the last flush

    def _incident_settings(self) -> IncidentSettings:
        return self._incidents.settings

    def _begin(self) -> None:
        mono, wall = self._clock.monotonic(), self._clock.now()
        self.started_at = wall
        self._last_wall, self._last_mono = wall, mono
        self._reload(mono, force=True)
        self._recorder.event(
            EventType.ENGINE_STARTED, self._engine_subject(), self._identity(), wall
        )
        self._beat(wall, "running")
        # Endpoints, judges and configs live as long as the engine: out of the collector's way.
        gc.collect()
        gc.freeze()
        log.info(
            "engine running on %s: %d endpoints, receiver %s",
            self._store.path,
            len(self._endpoints),
            self.receiver_url or "off",
        )
        self.ready.set()

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    async def _shutdown(self) -> None:
        self._stopping = True
        running = list(self._running.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await self._stop_receiver()  # no heartbeat may arrive after the last flush
        wall = self._clock.now()
        self._recorder.event(
            EventType.ENGINE_STOPPED, self._engine_subject(), self._identity(), wall
        )
        self._beat(wall, "stopped")
        if self._flushing is not None:
            await asyncio.gather(self._flushing, return_exceptions=True)
        await self._flush()
        log.info("engine stopped")

    # -- the loop ----------------------------------------------------------------------------

    async def _drive(self, stop: asyncio.Event) -> None:
        next_flush = next_tick = next_beat = self._clock.monotonic()
        while not stop.is_set():
            self._wake.clear()
            mono, wall = self._clock.monotonic(), self._clock.now()
            self._notice_jump(mono, wall)
            self._reload(mono)
            self._start_due(mono)
            if mono >= next_tick:
                next_tick = mono + TICK_EVERY_S
                self._tick(mono, wall)
            if mono >= next_beat:
                next_beat = mono + HEARTBEAT_EVERY_S
                self._beat(wall, "running")
            if (mono >= next_flush or self._recorder.full) and self._flushing is None:
                next_flush = mono + FLUSH_EVERY_S
                self._flushing = asyncio.create_task(self._flush_then_clear())
            await self._sleep(self._delay(mono), self._wake)

    def _delay(self, taken_at: float) -> float:
        """How long to sleep: until the next due check, at least MIN_TURN_S, at most MAX_WAIT_S.

        A check still due after ``take_due`` waits for a free slot: a finished check wakes the
        loop then, so there is no reason to spin. Due times closer together than MIN_TURN_S
        are taken in one turn: each turn scans the whole plan.
        """
        next_due = self._plan.next_due()
        self._waiting_for_slot = next_due is not None and next_due <= taken_at
        if next_due is None or self._waiting_for_slot:
            return MAX_WAIT_S
        return max(MIN_TURN_S, min(MAX_WAIT_S, next_due - self._clock.monotonic()))

    def _notice_jump(self, mono: float, wall: datetime) -> None:
        jump = detect_jump(self._last_wall, self._last_mono, wall, mono)
        self._last_wall, self._last_mono = wall, mono
        if jump is not None:
            self._recover_from(jump, mono)

    def _recover_from(self, jump: ClockJump, mono: float) -> None:
        """No burst of missed checks: re-poll soon, spread out; the gap is missing data."""
        self._plan.after_jump(mono, self._rng)
        now = jump.wall_after.timestamp()
        for judge in self._judges.values():
            judge.forgive(now)
        before, after = jump.wall_before, jump.wall_after
        if after > before:
            self._recorder.gap(epoch_ms(before), epoch_ms(after))
            words = f"no data for {format_duration((after - before).total_seconds())}"
        else:
            words = f"the clock went back {format_duration((before - after).total_seconds())}"
        reason = f"{words}: the clock jumped (a suspend, or the time was set)"
        payload = {
            "from": isoformat(before),
            "to": isoformat(after),
            "skew_s": jump.skew_s,
            "reason": reason,
        }
        self._recorder.event(EventType.DATA_GAP, self._engine_subject(), payload, after)
        log.warning("%s; checks resume within seconds", reason)

    def _reload(self, mono: float, *, force: bool = False) -> None:
        """Load the endpoints again when the store says they may have changed.

        Decoding thousands of endpoints takes the loop a good part of a second, so a digest of
        the stored endpoints is compared first: the watch's once-a-minute safety net costs a
        query, not a reload, when nothing changed.
        """
        if not force and mono < self._next_reload:
            return
        self._next_reload = mono + RELOAD_EVERY_S
        if self._incidents.refresh(self._store):
            self._recorder.incident_settings = self._incidents.settings
        try:
            if not force and not self._watch.changed(mono):
                return
            self._watch.loaded(mono)
            fingerprint = estate.endpoints_fingerprint(self._store.read())
            if not force and fingerprint == self._fingerprint:
                return
            endpoints = self._load(self._store)
        except Exception:  # a store hiccup must not stop monitoring
            log.exception("could not load the endpoints; monitoring the previous ones")
            return
        self._fingerprint = fingerprint
        # Loading thousands of endpoints takes a while: spread first runs from when it is done.
        self._apply(endpoints, self._clock.monotonic())

    def _apply(self, endpoints: Sequence[Endpoint], mono: float) -> None:
        now = self._clock.now().timestamp()
        wanted = {e.key: e for e in endpoints if e.enabled}
        for key in [k for k in self._judges if k not in wanted]:
            del self._judges[key]
            self._results.pop(key, None)
            self._incidents.forget(key)
            if self._dispatcher is not None:
                self._dispatcher.forget(key)
        confirmed: dict[tuple[str, str | None], ConfirmedState] | None = None
        for key, endpoint in wanted.items():
            judge = self._judges.get(key)
            if judge is None:
                self._judges[key] = judge = EndpointJudge(endpoint, now)
                # Resume where the store says each metric stands, so a restart neither confirms
                # an open incident's breach again nor misses the recovery that resolves it.
                confirmed = self._confirmed() if confirmed is None else confirmed
                seed_judge(judge, confirmed)
            elif judge.endpoint != endpoint:
                judge.update(endpoint, now)
            warm_up(self._store, judge, now)  # new bands judge at once, from stored history
        changed = wanted != self._endpoints
        self._endpoints = wanted
        self._heartbeats = [k for k, e in wanted.items() if isinstance(e.target, HeartbeatTarget)]
        self._plan.sync_jobs(_jobs(wanted.values()), mono, self._rng)
        if changed:
            log.info("monitoring %d endpoints", len(wanted))

    def _confirmed(self) -> dict[tuple[str, str | None], ConfirmedState]:
        try:
            return confirmed_states(self._store.read())
        except Exception:  # a store hiccup: start fresh rather than not at all
            log.exception("could not read the stored metric states; judging afresh")
            return {}

    def _start_due(self, mono: float) -> None:
        entries = self._plan.entries
        for job in self._plan.take_due(mono):
            endpoint = self._endpoints.get(job.key)
            if endpoint is None:  # cannot happen: the plan follows the endpoints
                continue
            # A check that starts late, but within its interval, keeps its place: the next run
            # is due an interval after this one was due. Counted from the start instead, every
            # check held up by the same stall would start together from then on, a bunch that
            # comes back each interval and holds the next checks up in turn.
            due = entries[job.key].due
            anchor = due if mono - due < job.interval_s else mono
            self.checks_started += 1
            task = asyncio.create_task(self._check(endpoint, anchor), name=f"check {job.key}")
            self._running[job.key] = task

    async def _check(self, endpoint: Endpoint, anchor: float) -> None:
        """Run one check; ``anchor`` is the time its next run is counted from."""
        ok = False
        try:
            assert self._probe is not None
            result = await execute(endpoint, self._probe, self._credentials, self._clock)
            ok = result.ok_state is ProbeOutcome.UP
            self._absorb(endpoint, result)
        except Exception:
            log.exception("the check of %s failed (a bug)", endpoint.key)
        finally:
            if self._running.get(endpoint.key) is asyncio.current_task():
                del self._running[endpoint.key]
            if not self._stopping:
                now = self._clock.monotonic()
                self._plan.complete(endpoint.key, ok=ok, started=anchor, now=now, rng=self._rng)
            if self._waiting_for_slot:  # else the loop's timer already points at the next due
                self._wake.set()

    def _absorb(self, endpoint: Endpoint, result: ProbeResult) -> None:
        key = endpoint.key
        at_ms = epoch_ms(result.started_at)
        self._recorder.samples(key, at_ms, result.metrics)
        self._results[key] = result
        judge = self._judges.get(key)
        if judge is not None:
            outcomes = judge.judge(result)
            check = outcomes[0][1]  # the endpoint's own check comes first
            self._recorder.result(key, at_ms, check.result, result.reason, result.duration_s)
            self._record(endpoint, outcomes)

    def _tick(self, mono: float, wall: datetime) -> None:
        """Staleness of overdue endpoints, and heartbeat silence."""
        now = wall.timestamp()
        judges = self._judges
        for key in self._heartbeats:
            judge = judges.get(key)
            if judge is not None:
                self._record(judge.endpoint, judge.silence(now))
        # Every second over every endpoint: only the plan's entries are looked at until one
        # is overdue. Waiting for a due time on purpose (backoff included) is not silence; a
        # check overdue by a whole interval is.
        overdue = [
            key
            for key, entry in self._plan.entries.items()
            if not entry.running and mono - entry.due > entry.job.interval_s
        ]
        if self._note_lagging(len(overdue), wall):
            # More checks overdue than the engine may run at once: the engine is behind, not
            # those endpoints. Judging each STALE and back would record two changes per check
            # and slow a saturated engine further; one event says the engine lags, and views
            # still show old data as STALE by its age.
            return
        for key in overdue:
            judge = judges.get(key)
            if judge is not None:
                self._record(judge.endpoint, judge.tick(now))

    def _note_lagging(self, overdue: int, wall: datetime) -> bool:
        """Whether the engine is behind; records the moments it falls behind and catches up."""
        lagging = overdue > self._plan.limits.global_cap
        self.overdue = overdue
        if lagging != self.lagging:
            self.lagging = lagging
            kind = EventType.ENGINE_LAGGING if lagging else EventType.ENGINE_CAUGHT_UP
            payload = {**self._identity(), "overdue": overdue}
            self._recorder.event(kind, self._engine_subject(), payload, wall)
            log.warning(
                "the engine %s: %d checks overdue by more than their interval",
                "is behind" if lagging else "caught up",
                overdue,
            )
        return lagging

    # -- recording ---------------------------------------------------------------------------

    def _record(self, endpoint: Endpoint, outcomes: Iterable[Outcome]) -> None:
        """Turn state and flapping changes into events and incident operations (next batch)."""
        outcomes = list(outcomes)
        for pending in change_events(endpoint, outcomes):
            self._recorder.event(pending.type, pending.subject, pending.payload, pending.event_time)
        ops = self._incidents.ops(endpoint, outcomes)
        for op in ops:
            self._recorder.incident(op)
        if ops:
            self._wake.set()  # write it now: the recorder counts itself full

    def _beat(self, wall: datetime, state: str) -> None:
        record = {**self._identity(), "beat": isoformat(wall), "state": state}
        self._recorder.setting(HEARTBEAT_SETTING, json.dumps(record, sort_keys=True))

    def _identity(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": None if self.started_at is None else isoformat(self.started_at),
            "receiver": self.receiver_url,
            "endpoints": len(self._endpoints),
            "overdue": self.overdue,
        }

    def _engine_subject(self) -> str:
        return f"engine:{self._store.console_id}"

    async def _flush_then_clear(self) -> None:
        try:
            await self._flush()
        finally:
            self._flushing = None
            if self._recorder.full:  # incidents queued during that write go next
                self._wake.set()

    async def _flush(self) -> None:
        batch = self._recorder.take()
        if not batch:
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer, self._recorder.write, batch)


def _jobs(endpoints: Iterable[Endpoint]) -> list[Job]:
    jobs = []
    for endpoint in endpoints:
        if endpoint.kind is ProbeKind.HEARTBEAT:
            continue  # received, not polled
        try:
            jobs.append(Job(endpoint.key, endpoint.interval_s, endpoint.host, endpoint.jitter_s))
        except ValueError as exc:
            log.warning("not polling %s: %s", endpoint.key, exc)
    return jobs


__all__ = ["HEARTBEAT_SETTING", "MAX_WAIT_S", "Engine", "Sleeper", "poll_once", "wait_or_wake"]
