"""Incidents from the running engine: breaches open them, recoveries resolve them, restarts don't.

The real engine on a fake clock (``VirtualTime``) with a scripted probe; the store is a real
SQLite file. The hook's calls are what the app would turn into desktop notifications.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.core.checks import CheckState
from console.core.clock import FakeClock
from console.core.endpoints import Endpoint, TcpTarget
from console.core.enums import ImpactTier, Severity
from console.core.events import EventType
from console.core.flapping import FlapConfig, step_flap
from console.core.incident_policy import IncidentSettings, SignalEffect, SignalOutcome
from console.core.incidents import Incident, IncidentState, ResolveReason
from console.core.models import Service
from console.core.signals import Signal, SignalSource, metric_dedup_key
from console.engine.dispatch import Credential
from console.engine.incidents import (
    ClearSignal,
    MarkFlapping,
    MetricIncidents,
    OpenSignal,
    apply_ops,
    seed_judge,
    seeded_flap_state,
)
from console.engine.judge import EndpointJudge
from console.engine.recorder import Recorder
from console.engine.runtime import Engine
from console.probes.base import ProbeOutcome, ProbeResult
from console.store import alerting, entities, events
from console.store import incidents as store_incidents
from console.store.db import Store
from console.store.status import ConfirmedState

from tests.unit.engine.support import SERVICE, VirtualTime, open_store, state_events

START = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
UP, DOWN, UNKNOWN = ProbeOutcome.UP, ProbeOutcome.DOWN, ProbeOutcome.UNKNOWN


class ScriptedProbe:
    """Answers each endpoint with its current outcome, or the next of its script."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.outcome: dict[str, ProbeOutcome] = {}
        self.scripts: dict[str, list[ProbeOutcome]] = {}

    def set(self, key: str, outcome: ProbeOutcome) -> Callable[[], None]:
        """A callback for VirtualTime that switches the endpoint's outcome."""

        def switch() -> None:
            self.outcome[key] = outcome

        return switch

    async def __call__(self, e: Endpoint, credential: Credential | None) -> ProbeResult:
        script = self.scripts.get(e.key)
        outcome = script.pop(0) if script else self.outcome.get(e.key, UP)
        up = 1.0 if outcome is UP else 0.0
        return ProbeResult(outcome, {"up": up}, f"scripted {outcome.value}", self.clock.now(), 0.0)


class Hook:
    """The incident hook: records each outcome, and what a reader saw when it was called."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.outcomes: list[SignalOutcome] = []
        self.visible: list[bool] = []
        self.threads: set[str] = set()

    def __call__(self, outcome: SignalOutcome) -> None:
        self.outcomes.append(outcome)
        self.threads.add(threading.current_thread().name)
        # Called after the commit: a reader on this thread already sees the incident.
        found = store_incidents.find(self.store.read(), outcome.incident.id)
        self.visible.append(found is not None)


def _tcp(key: str, service: str = SERVICE) -> Endpoint:
    target = TcpTarget(f"{key}.example.net", 22)
    return Endpoint(key, key.replace("-", " ").title(), service, target, interval_s=1.0)


def _run(
    store: Store,
    clock: FakeClock,
    probe: ScriptedProbe,
    hook: Hook,
    until: float,
    at: dict[float, Callable[[], None]] | None = None,
) -> Engine:
    stop = asyncio.Event()
    start = clock.monotonic()
    script = {start + t: f for t, f in (at or {}).items()}
    sleep = VirtualTime(clock, stop, until=start + until, at=script)
    engine = Engine(
        store,
        clock,
        receiver_port=None,
        probe=probe,
        sleep=sleep,
        rng=random.Random(3),
        on_incident=hook,
    )
    asyncio.run(engine.run(stop))
    return engine


def _incidents(store: Store) -> list[Incident]:
    return store_incidents.list_incidents(store.read(), states=list(IncidentState))


def _timeline(store: Store, incident: Incident) -> list[EventType]:
    return [e.type for e in store_incidents.timeline(store.read(), incident.id)]


def _hard(store: Store, key: str) -> list[str]:
    return [
        e.payload["to"]
        for e in state_events(store, f"endpoint:{key}")
        if e.payload["type"] == "hard"
    ]


def test_a_breach_opens_one_incident_that_the_recovery_resolves(tmp_path: Path) -> None:
    clock = FakeClock(START)
    store = open_store(tmp_path / "s.db", clock)
    entities.save(store, _tcp("api"))
    probe, hook = ScriptedProbe(clock), Hook(store)

    _run(store, clock, probe, hook, 40.0, {5.0: probe.set("api", DOWN), 20.0: probe.set("api", UP)})

    (incident,) = _incidents(store)
    assert incident.state is IncidentState.RESOLVED
    assert incident.resolve_reason is ResolveReason.AUTO
    assert incident.source is SignalSource.METRIC
    assert incident.dedup_key == metric_dedup_key(SERVICE, "api", None)
    assert incident.severity is Severity.CRITICAL and incident.team == "ops"
    # Started at the first bad sample; detected when three in a row confirmed it.
    assert incident.detected_at - incident.started_at >= timedelta(seconds=1.5)
    assert timedelta(seconds=4) <= incident.started_at - START <= timedelta(seconds=7)
    assert _timeline(store, incident) == [EventType.INCIDENT_OPENED, EventType.INCIDENT_RESOLVED]
    assert _hard(store, "api") == ["critical", "ok"]
    # Notified once, after the commit, from the writer thread.
    assert [o.effect for o in hook.outcomes] == [SignalEffect.OPENED]
    assert hook.visible == [True]
    assert hook.threads and all(t.startswith("engine-writer") for t in hook.threads)


def test_a_flapping_metric_keeps_one_incident_and_counts_its_repeats(tmp_path: Path) -> None:
    clock = FakeClock(START)
    store = open_store(tmp_path / "s.db", clock)
    entities.save(store, _tcp("api"))
    probe, hook = ScriptedProbe(clock), Hook(store)
    # Three bad results confirm CRITICAL, one good one is only a soft recovery: the hard state
    # stays CRITICAL while the results change often enough to flap. Then two good results in a
    # row confirm recoveries (held back: it flaps) and three bad ones confirm CRITICAL again.
    flap = [DOWN, DOWN, DOWN, UP] * 6
    bounce = [DOWN, DOWN, DOWN, UP, UP] * 4
    probe.scripts["api"] = [UP] * 3 + flap + bounce

    _run(store, clock, probe, hook, 150.0)

    (incident,) = _incidents(store)
    hard = _hard(store, "api")
    assert hard.count("critical") >= 4 and hard.count("ok") >= 4, hard
    flapping = [
        e.payload["event"]
        for e in events.iter_events(store.read(), types=[EventType.METRIC_FLAPPING])
    ]
    assert flapping == ["started", "stopped"]
    # Each re-confirmed CRITICAL was counted on the one incident, without a timeline event.
    assert incident.count == hard.count("critical")
    assert _timeline(store, incident) == [
        EventType.INCIDENT_OPENED,
        EventType.INCIDENT_FLAPPING,
        EventType.INCIDENT_FLAPPING,
        EventType.INCIDENT_RESOLVED,
    ]
    # Resolved once it settled: the recovery held back while it flapped came through.
    assert incident.state is IncidentState.RESOLVED and not incident.flapping
    assert [o.effect for o in hook.outcomes] == [SignalEffect.OPENED]


def test_a_restart_neither_reopens_nor_renotifies_and_still_resolves(tmp_path: Path) -> None:
    clock = FakeClock(START)
    store = open_store(tmp_path / "s.db", clock)
    entities.save(store, _tcp("api"))
    probe, first = ScriptedProbe(clock), Hook(store)
    _run(store, clock, probe, first, 20.0, {3.0: probe.set("api", DOWN)})
    (incident,) = _incidents(store)
    store_incidents.acknowledge(store, incident.ref)
    changes_before = len(state_events(store, "endpoint:api"))

    clock.advance(30.0)  # the engine was down for half a minute; the endpoint still is
    second = Hook(store)
    _run(store, clock, probe, second, 40.0, {20.0: probe.set("api", UP)})

    (after,) = _incidents(store)
    assert after.id == incident.id
    assert after.count == 1  # the breach it already knew was not confirmed again
    assert second.outcomes == []  # nothing replayed: it was acknowledged before the restart
    hard_after = [
        e.payload["to"]
        for e in state_events(store, "endpoint:api")[changes_before:]
        if e.payload["type"] == "hard"
    ]
    assert hard_after == ["ok"]  # the recovery, judged from the remembered CRITICAL
    assert after.state is IncidentState.RESOLVED
    assert after.resolve_reason is ResolveReason.AUTO
    assert len(first.outcomes) == 1


def test_a_downstream_incident_is_grouped_under_its_upstreams(tmp_path: Path) -> None:
    clock = FakeClock(START)
    store = open_store(tmp_path / "s.db", clock)
    entities.save(store, Service("db", "Orders DB", "ops", ImpactTier(1)))
    entities.save(store, Service(SERVICE, "Web shop", "ops", ImpactTier(2), depends_on=("db",)))
    entities.save(store, _tcp("db-port", "db"))
    entities.save(store, _tcp("web-port", SERVICE))
    probe, hook = ScriptedProbe(clock), Hook(store)

    _run(
        store,
        clock,
        probe,
        hook,
        20.0,
        {3.0: probe.set("db-port", DOWN), 8.0: probe.set("web-port", DOWN)},
    )

    by_service = {i.service: i for i in _incidents(store)}
    upstream, downstream = by_service["db"], by_service[SERVICE]
    assert upstream.parent is None
    assert downstream.parent == upstream.id
    # The upstream pages; the downstream is recorded but held back.
    assert [o.incident.id for o in hook.outcomes] == [upstream.id]


def test_unknown_follows_the_settings_read_again_while_running(tmp_path: Path) -> None:
    clock = FakeClock(START)
    store = open_store(tmp_path / "s.db", clock)
    entities.save(store, _tcp("api"))
    probe, hook = ScriptedProbe(clock), Hook(store)

    def configure() -> None:
        alerting.save_settings(store, IncidentSettings(unknown_severity=Severity.CRITICAL))

    _run(store, clock, probe, hook, 15.0, {2.0: configure, 5.0: probe.set("api", UNKNOWN)})

    (incident,) = _incidents(store)
    assert _hard(store, "api") == ["unknown"]
    assert incident.severity is Severity.CRITICAL  # the default would have been warning
    assert incident.title.endswith("is UNKNOWN")


# -- the pieces --------------------------------------------------------------------------------


def test_stale_opens_nothing_and_a_hard_change_carries_its_first_bad_sample() -> None:
    t0 = START.timestamp()
    api = _tcp("api")
    judge = EndpointJudge(api, t0)
    mapping = MetricIncidents()

    def feed(at: float, outcome: ProbeOutcome) -> list[object]:
        found = ProbeResult(outcome, {}, outcome.value, datetime.fromtimestamp(t0 + at, UTC), 0.0)
        return list(mapping.ops(api, judge.judge(found)))

    assert feed(1, UP) == []
    assert mapping.ops(api, judge.tick(t0 + 10)) == []  # STALE is shown, it does not page
    assert judge.statuses()[0].hard_state is CheckState.STALE
    dedup = metric_dedup_key(SERVICE, "api", None)
    assert feed(11, UP) + feed(12, UP) == [ClearSignal(dedup)]  # back from STALE: no incident
    assert feed(13, DOWN) + feed(14, DOWN) == []  # SOFT: not confirmed yet
    (opened,) = feed(15, DOWN)
    assert isinstance(opened, OpenSignal)
    assert opened.signal.severity is Severity.CRITICAL and opened.signal.dedup_key == dedup
    assert opened.signal.started_at.timestamp() == t0 + 13  # the first bad sample
    assert feed(16, UP) + feed(17, UP) == [ClearSignal(dedup)]


def test_a_seeded_flap_state_keeps_flapping_while_it_flaps_and_stops_once_settled() -> None:
    config = FlapConfig()
    seeded = seeded_flap_state(CheckState.CRITICAL, 42.0)
    assert seeded.flapping and 42.0 <= seeded.percent < 50.0
    assert seeded.history[-1] is CheckState.CRITICAL

    state = seeded
    for result in [CheckState.OK, CheckState.CRITICAL] * 10:
        state, event = step_flap(state, result, config)
        assert event is None and state.flapping
    settled, stopped_after = seeded, None
    for n in range(1, 30):
        settled, event = step_flap(settled, CheckState.CRITICAL, config)
        if event is not None:
            stopped_after = n
            break
    assert stopped_after is not None and stopped_after > 3, stopped_after
    assert not settled.flapping


def test_a_new_judge_resumes_the_stored_confirmed_states() -> None:
    t0 = START.timestamp()
    api = _tcp("api")
    judge = EndpointJudge(api, t0)
    confirmed = {
        ("api", None): ConfirmedState(CheckState.CRITICAL, True, 0.0),
        ("other", None): ConfirmedState(CheckState.WARNING, False, 0.0),
    }
    assert seed_judge(judge, confirmed) == 1
    (status,) = judge.statuses()
    assert status.hard_state is CheckState.CRITICAL
    mapping = MetricIncidents()

    def feed(at: float, outcome: ProbeOutcome) -> list[object]:
        found = ProbeResult(outcome, {}, outcome.value, datetime.fromtimestamp(t0 + at, UTC), 0.0)
        return list(mapping.ops(api, judge.judge(found)))

    dedup = metric_dedup_key(SERVICE, "api", None)
    assert feed(1, DOWN) == []  # the CRITICAL it remembers: nothing new
    # It was flapping: still so while it flaps, and its recovery waits until it settles.
    ops = [op for t in range(2, 40) for op in feed(t, UP)]
    assert ops == [ClearSignal(dedup), MarkFlapping(dedup, False), ClearSignal(dedup)]


def _signal(key: str, team: str | None = None) -> Signal:
    return Signal(
        SignalSource.ALERT,
        key,
        f"trouble {key}",
        Severity.WARNING,
        START,
        service=SERVICE,
        team=team,
    )


def test_one_failing_operation_is_rolled_back_alone(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db", FakeClock(START))
    ops = [
        OpenSignal(_signal("alert:a")),
        OpenSignal(_signal("alert:bad", team="no-such-team")),
        OpenSignal(_signal("alert:b")),
        MarkFlapping("alert:a", True),
        ClearSignal("alert:b"),
    ]
    applied = apply_ops(store, ops)

    assert applied.failed == 1
    assert [o.incident.dedup_key for o in applied.outcomes] == ["alert:a", "alert:b"]
    assert [i.dedup_key for i in applied.resolved] == ["alert:b"]
    stored = {i.dedup_key: i for i in _incidents(store)}
    assert set(stored) == {"alert:a", "alert:b"}
    assert stored["alert:a"].flapping and stored["alert:b"].state is IncidentState.RESOLVED


def test_the_state_change_and_its_incident_commit_in_one_transaction(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db", FakeClock(START))
    recorder = Recorder(store)
    recorder.sample("api", "up", int(START.timestamp() * 1000), 0.0)
    payload = {
        "metric": "check",
        "from": "ok",
        "to": "critical",
        "type": "hard",
        "at": "2026-05-04T12:00:00.000000Z",
        "value": None,
        "band": None,
        "reason": "down",
        "endpoint": "api",
        "service": SERVICE,
        "metric_key": None,
    }
    recorder.event(EventType.METRIC_STATE_CHANGED, "endpoint:api", payload, START)
    recorder.incident(OpenSignal(_signal("metric:web/api/check")))
    recorder.incident(OpenSignal(_signal("alert:x", team="no-such-team")))  # fails alone
    statements: list[str] = []
    with store.transaction() as db:
        db.conn.set_trace_callback(statements.append)
    statements.clear()  # the COMMIT of the transaction above
    try:
        recorder.write(recorder.take())
    finally:
        traced = list(statements)
        with store.transaction() as db:
            db.conn.set_trace_callback(None)

    statements = traced
    commits = [i for i, s in enumerate(statements) if s.strip().upper() == "COMMIT"]
    begins = [i for i, s in enumerate(statements) if s.strip().upper().startswith("BEGIN")]
    assert len(begins) == 1 and len(commits) == 1, statements
    incident_writes = [i for i, s in enumerate(statements) if "INTO incidents" in s]
    state_writes = [i for i, s in enumerate(statements) if "metric_states" in s]
    assert incident_writes and state_writes
    assert begins[0] < min(state_writes) < min(incident_writes) < max(incident_writes) < commits[0]
    (incident,) = _incidents(store)
    assert incident.dedup_key == "metric:web/api/check"
    assert recorder.written_samples == 1 and recorder.written_events == 1
