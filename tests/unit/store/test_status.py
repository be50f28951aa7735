"""The monitoring read model, on real stores filled by the engine's judges and recorder."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from console.core.checks import CheckState, StateType
from console.core.clock import FakeClock
from console.core.deviation import BandMethod, DeviationConfig
from console.core.endpoints import Endpoint, HeartbeatTarget, HttpTarget, MetricSpec, TcpTarget
from console.core.enums import Discipline, EntityKind, ImpactTier, Severity
from console.core.events import EventType
from console.core.models import Service, Team
from console.core.signals import Signal, SignalSource
from console.core.status import DisplayState, MetricStatus
from console.core.thresholds import StaticThresholds
from console.core.units import Unit
from console.engine.judge import EndpointJudge
from console.engine.recorder import Recorder
from console.engine.transitions import change_events
from console.probes.base import ProbeOutcome, ProbeResult
from console.store import entities, events, incidents, samples, status
from console.store.db import Store
from sqlite_utils import Database

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)

LATENCY = MetricSpec(
    "response_time_ms",
    "latency",
    Unit.MILLISECONDS,
    thresholds=StaticThresholds.above(warning=500.0, critical=1500.0),
)
QUEUE = MetricSpec(
    "queue_depth",
    "queue depth",
    deviation=DeviationConfig(method=BandMethod.MEDIAN_MAD, min_samples=10, min_span=300.0),
)
API = Endpoint(
    "api-health", "API health", "api", HttpTarget("https://api.example.com/health"),
    interval_s=30.0, metrics=(LATENCY, QUEUE),
)  # fmt: skip
DB = Endpoint("db-port", "Database port", "db", TcpTarget("db.example.com", 5432), interval_s=60.0)
BACKUP = Endpoint("backup", "Nightly backup", "db", HeartbeatTarget(7200.0), interval_s=60.0)
OFF = Endpoint("off", "Switched off", "db", TcpTarget("old.example.com", 22), enabled=False)


class Engine:
    """The engine's judging and recording path, driven by hand: judges, then the recorder."""

    def __init__(self, store: Store, clock: FakeClock) -> None:
        self.store = store
        self.clock = clock
        self.recorder = Recorder(store)
        self.judges: dict[str, EndpointJudge] = {}

    def result(self, endpoint: Endpoint, up: bool, metrics: dict[str, float]) -> datetime:
        """Judge one result taken now and queue what the engine would (samples, events, result)."""
        at = self.clock.now()
        judge = self.judges.setdefault(endpoint.key, EndpointJudge(endpoint, at.timestamp()))
        result = ProbeResult(
            ProbeOutcome.UP if up else ProbeOutcome.DOWN,
            {"up": 1.0, **metrics} if up else {"up": 0.0},  # as the http probe answers
            "answered" if up else "connection refused",
            at,
            0.05,
        )
        at_ms = samples.epoch_ms(at)
        self.recorder.samples(endpoint.key, at_ms, result.metrics)
        outcomes = judge.judge(result)
        for pending in change_events(endpoint, outcomes):
            self.recorder.event(pending.type, pending.subject, pending.payload, pending.event_time)
        self.recorder.result(endpoint.key, at_ms, outcomes[0][1].result, result.reason, 0.05)
        return at

    def run(self, endpoint: Endpoint, pattern: str, metrics: dict[str, float]) -> list[datetime]:
        """One result per letter (U up, D down), an interval apart, then a flush."""
        times = []
        for letter in pattern:
            times.append(self.result(endpoint, letter == "U", metrics))
            self.clock.advance(endpoint.interval_s)
        self.flush()
        return times

    def flush(self) -> None:
        self.recorder.write(self.recorder.take())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    with Store.open(tmp_path / "store.db", clock) as opened:
        entities.save(opened, Team("web", "Web", Discipline.DEVELOPMENT))
        entities.save(opened, Team("infra", "Infrastructure", Discipline.INFRASTRUCTURE))
        entities.save(opened, Service("api", "Public API", "web", ImpactTier.TIER_2))
        entities.save(opened, Service("db", "Database", "infra", ImpactTier.TIER_1))
        entities.save(opened, Service("docs", "Docs", "web", ImpactTier.TIER_4))
        for endpoint in (API, DB, BACKUP, OFF):
            entities.save(opened, endpoint)
        yield opened


@pytest.fixture
def engine(store: Store, clock: FakeClock) -> Engine:
    return Engine(store, clock)


def by_key(store: Store) -> dict[tuple[str, str | None], MetricStatus]:
    return {(m.endpoint, m.metric_key): m for m in status.metric_statuses(store.read())}


def state_rows(store: Store) -> list[tuple[Any, ...]]:
    return store.read().execute("SELECT * FROM metric_states ORDER BY 1, 2").fetchall()


# -- what is listed ---------------------------------------------------------------------------


def test_a_store_never_checked_lists_every_check_and_metric_as_stale(store: Store) -> None:
    listed = status.metric_statuses(store.read())
    assert [(m.endpoint, m.metric_key) for m in listed] == [
        ("api-health", None),
        ("api-health", "response_time_ms"),
        ("api-health", "queue_depth"),
        ("backup", None),
        ("db-port", None),
    ]  # the disabled endpoint is not monitored, so not listed
    for m in listed:
        assert (m.state, m.since, m.last_check, m.value, m.reason) == (
            CheckState.STALE, None, None, None, ""
        )  # fmt: skip
        assert m.display_state(T0) is DisplayState.STALE
    latency = listed[1]
    assert (latency.endpoint_name, latency.service_name, latency.team, latency.team_name) == (
        "API health", "Public API", "web", "Web"
    )  # fmt: skip
    assert (latency.metric_name, latency.unit, latency.interval_s) == ("latency", "ms", 30.0)
    assert (latency.warning, latency.critical) == (500.0, 1500.0)
    assert listed[2].warning is None and listed[0].metric_name == "check"
    assert (listed[3].metric_name, listed[3].interval_s) == ("heartbeat", 7200.0)


def test_healthy_results_are_ok_since_the_first_one_with_the_newest_value(
    store: Store, engine: Engine
) -> None:
    times = engine.run(API, "UUU", {"response_time_ms": 120.0, "queue_depth": 4.0})
    engine.run(API, "U", {"response_time_ms": 135.5, "queue_depth": 5.0})
    rows = by_key(store)
    latency = rows[("api-health", "response_time_ms")]
    assert (latency.state, latency.state_type) == (CheckState.OK, StateType.HARD)
    assert latency.since == times[-1]  # the first batch's newest result: the first one stored
    assert latency.value == 135.5
    assert latency.last_check == times[-1] + timedelta(seconds=30)
    assert rows[("api-health", None)].value is None
    assert not state_rows(store)  # nothing changed, so nothing was logged


def test_a_failure_is_soft_then_hard_and_keeps_when_it_began(
    store: Store, engine: Engine, clock: FakeClock
) -> None:
    engine.run(API, "UU", {"response_time_ms": 120.0, "queue_depth": 4.0})
    first_down = engine.run(API, "D", {})[0]
    check = by_key(store)[("api-health", None)]
    assert (check.state, check.state_type, check.since) == (
        CheckState.CRITICAL, StateType.SOFT, first_down
    )  # fmt: skip
    later = engine.run(API, "DD", {})
    rows = by_key(store)
    check = rows[("api-health", None)]
    assert (check.state, check.state_type) == (CheckState.CRITICAL, StateType.HARD)
    assert check.since == first_down  # confirming a state is not a new state
    assert check.last_check == later[-1]
    assert "3 checks in a row" in check.reason
    latency = rows[("api-health", "response_time_ms")]
    assert (latency.state, latency.state_type) == (CheckState.UNKNOWN, StateType.HARD)
    assert latency.value == 120.0  # the newest sample is the last measured one
    assert check.display_state(clock.now()) is DisplayState.CRITICAL

    back = engine.run(API, "U", {"response_time_ms": 99.0, "queue_depth": 4.0})[0]
    check = by_key(store)[("api-health", None)]
    # One good result is a SOFT recovery: OK is shown, not yet confirmed.
    assert (check.state, check.state_type, check.since) == (CheckState.OK, StateType.SOFT, back)
    engine.run(API, "U", {"response_time_ms": 99.0, "queue_depth": 4.0})
    check = by_key(store)[("api-health", None)]
    assert (check.state, check.state_type, check.since) == (CheckState.OK, StateType.HARD, back)


def test_a_soft_problem_that_clears_returns_to_a_confirmed_ok(store: Store, engine: Engine) -> None:
    engine.run(DB, "UDU", {})
    ((_, _, _, state, state_type, hard_state, *_),) = state_rows(store)
    assert (state, state_type, hard_state) == ("ok", "hard", "ok")
    check = by_key(store)[("db-port", None)]
    assert (check.state, check.state_type) == (CheckState.OK, StateType.HARD)


def test_data_turns_stale_after_exactly_three_intervals(
    store: Store, engine: Engine, clock: FakeClock
) -> None:
    last = engine.run(DB, "UUU", {})[-1]
    check = by_key(store)[("db-port", None)]
    assert check.display_state(last + timedelta(seconds=180)) is DisplayState.OK
    late = last + timedelta(seconds=180, milliseconds=1)
    assert check.display_state(late) is DisplayState.STALE
    tiles = {t.service: t for t in status.tiles(store.read(), late)}
    assert tiles["db"].state is DisplayState.STALE
    assert tiles["db"].data_age_s == pytest.approx(180.001)


def test_flapping_is_shown_and_cleared_from_the_flapping_events(
    store: Store, engine: Engine, clock: FakeClock
) -> None:
    engine.run(DB, "UD" * 12, {})
    check = by_key(store)[("db-port", None)]
    assert check.flapping and check.display_state(clock.now()) is DisplayState.FLAPPING
    engine.run(DB, "U" * 25, {})
    check = by_key(store)[("db-port", None)]
    assert not check.flapping and check.display_state(clock.now()) is DisplayState.OK
    flaps = list(events.iter_events(store.read(), types=[EventType.METRIC_FLAPPING]))
    assert [e.payload["event"] for e in flaps] == ["started", "stopped"]


def test_the_band_is_the_one_of_the_last_state_change(store: Store, engine: Engine) -> None:
    calm = [{"response_time_ms": 100.0, "queue_depth": 10.0 + i % 3} for i in range(15)]
    for values in calm:
        engine.run(API, "U", values)
    engine.run(API, "U", {"response_time_ms": 100.0, "queue_depth": 90.0})
    queue = by_key(store)[("api-health", "queue_depth")]
    assert queue.state is CheckState.CRITICAL and queue.value == 90.0
    (change,) = [
        e
        for e in events.iter_events(store.read(), types=[EventType.METRIC_STATE_CHANGED])
        if e.payload["metric_key"] == "queue_depth"
    ]
    band = change.payload["band"]
    assert (queue.band_low, queue.band_high) == (band["low"], band["high"])
    assert queue.band_low is not None and queue.band_low < 11.0 < queue.band_high < 90.0


def test_a_heartbeat_counts_its_grace_period_as_its_interval(
    store: Store, clock: FakeClock
) -> None:
    recorder = Recorder(store)
    recorder.result("backup", samples.epoch_ms(clock.now()), CheckState.OK, "heartbeat received")
    recorder.write(recorder.take())
    beat = by_key(store)[("backup", None)]
    assert beat.display_state(clock.now() + timedelta(hours=6)) is DisplayState.OK
    assert beat.display_state(clock.now() + timedelta(hours=6, seconds=1)) is DisplayState.STALE


# -- the log and the tables agree -------------------------------------------------------------


def test_a_rebuild_recreates_exactly_what_the_live_projection_wrote(
    store: Store, engine: Engine
) -> None:
    engine.run(API, "UUDDDUU", {"response_time_ms": 2000.0, "queue_depth": 3.0})
    engine.run(DB, "UD" * 12, {})
    live_rows = state_rows(store)
    live = status.metric_statuses(store.read())
    assert len(live_rows) >= 4
    events.rebuild(store)
    assert state_rows(store) == live_rows
    assert status.metric_statuses(store.read()) == live


def test_deleting_an_endpoint_forgets_its_state_and_result(store: Store, engine: Engine) -> None:
    engine.run(DB, "DDD", {})
    entities.delete(store, EntityKind.ENDPOINT, DB.key)
    db = store.read()
    assert db.execute("SELECT COUNT(*) FROM metric_states").fetchone() == (0,)
    assert db.execute("SELECT COUNT(*) FROM endpoint_results").fetchone() == (0,)
    assert ("db-port", None) not in by_key(store)


def test_a_batch_keeps_the_newest_result_and_a_late_batch_does_not_replace_it(
    store: Store, clock: FakeClock
) -> None:
    recorder = Recorder(store)
    base = samples.epoch_ms(clock.now())
    recorder.result("db-port", base, CheckState.OK, "first")
    recorder.result("db-port", base + 60_000, CheckState.CRITICAL, "newest")
    assert len(recorder.take().results) == 1
    recorder.result("db-port", base + 60_000, CheckState.CRITICAL, "newest")
    recorder.write(recorder.take())
    recorder.result("db-port", base, CheckState.OK, "late")
    recorder.write(recorder.take())
    row = store.read().execute("SELECT at_ms, first_ms, state, reason FROM endpoint_results")
    assert row.fetchall() == [(base + 60_000, base + 60_000, "critical", "newest")]


def test_a_state_change_the_status_cannot_read_is_logged_but_loses_nothing_else(
    store: Store, clock: FakeClock
) -> None:
    recorder = Recorder(store)
    recorder.event(EventType.METRIC_STATE_CHANGED, "endpoint:db-port", {"to": "bogus"}, T0)
    recorder.sample("db-port", "up", samples.epoch_ms(T0), 1.0)
    recorder.write(recorder.take())
    assert recorder.written_samples == 1 and not state_rows(store)


# -- values, tiles, sparklines ----------------------------------------------------------------


def test_newest_values_come_from_the_inbox_or_the_rolled_up_samples(
    store: Store, clock: FakeClock
) -> None:
    old = samples.series_id(store, "db-port", "up")
    fresh = samples.series_id(store, "api-health", "response_time_ms")
    missing = samples.series_id(store, "api-health", "queue_depth")
    start = samples.epoch_ms(clock.now())
    samples.write_samples(store, [(old, start, 1.0), (old, start + 1000, 0.0)])
    samples.write_samples(store, [(missing, start, math.nan)])
    samples.roll_up(store, clock.now() + timedelta(minutes=5))
    samples.write_samples(store, [(fresh, start + 300_000, 7.0), (fresh, start + 330_000, 8.5)])
    labelled = samples.series_id(store, "db-port", "up", {"zone": "a"})
    samples.write_samples(store, [(labelled, start + 400_000, 42.0)])
    values = status.newest_values(store.read())
    assert values == {
        ("db-port", "up"): 0.0,
        ("api-health", "response_time_ms"): 8.5,
        ("api-health", "queue_depth"): None,
    }


def test_tiles_cover_every_service_worst_first(
    store: Store, engine: Engine, clock: FakeClock
) -> None:
    engine.run(DB, "DDD", {})
    engine.run(API, "UUU", {"response_time_ms": 700.0, "queue_depth": 1.0})
    tiles = status.tiles(store.read(), clock.now())
    assert [(t.service, t.state) for t in tiles] == [
        ("db", DisplayState.CRITICAL),
        ("api", DisplayState.WARNING),
        ("docs", DisplayState.OK),
    ]
    db_tile = tiles[0]
    assert db_tile.unacknowledged and db_tile.worst is not None
    assert db_tile.worst.endpoint == "db-port" and db_tile.team_name == "Infrastructure"
    assert db_tile.tier is ImpactTier.TIER_1 and db_tile.bad_count == 2  # the check, the backup
    infos = status.service_infos(store.read())
    assert [(i.key, i.team_name) for i in infos] == [
        ("api", "Web"),
        ("db", "Infrastructure"),
        ("docs", "Web"),
    ]


def _signal(service: str, key: str) -> Signal:
    return Signal(
        source=SignalSource.METRIC,
        dedup_key=key,
        title=f"{service} is down",
        severity=Severity.CRITICAL,
        started_at=T0,
        service=service,
    )


def test_a_service_counts_as_acknowledged_only_when_all_its_open_incidents_are(
    store: Store, engine: Engine, clock: FakeClock
) -> None:
    engine.run(DB, "DDD", {})
    assert status.acknowledged_services(store.read()) == frozenset()
    first = incidents.open_or_update(store, _signal("db", "db-port|check")).incident
    second = incidents.open_or_update(store, _signal("db", "db-backup|age")).incident
    incidents.acknowledge(store, first.id)
    # One of the two still waits for somebody: the wall keeps flagging the service.
    assert status.acknowledged_services(store.read()) == frozenset()
    assert status.tiles(store.read(), clock.now())[0].unacknowledged
    incidents.acknowledge(store, second.id)
    assert status.acknowledged_services(store.read()) == {"db"}
    assert not status.tiles(store.read(), clock.now())[0].unacknowledged
    incidents.resolve(store, first.id)
    incidents.resolve(store, second.id)
    assert status.acknowledged_services(store.read()) == frozenset()


def test_sparklines_are_downsampled_averages_and_a_check_draws_up(
    store: Store, engine: Engine, clock: FakeClock
) -> None:
    start = clock.now()
    for i in range(120):  # an hour at 30 s: up 1 then 0, latency rising
        engine.result(API, i < 60, {"response_time_ms": float(i), "queue_depth": 1.0})
        clock.advance(30)
    engine.flush()
    since, until = samples.epoch_ms(start), samples.epoch_ms(clock.now())
    keys = [("api-health", None), ("api-health", "response_time_ms"), ("nowhere", "x")]
    lines = status.sparklines(store.read(), keys, since, until, points=12)
    check, latency, nowhere = (lines[k] for k in keys)
    assert nowhere == []
    assert [v for _, v in check] == [1.0] * 6 + [0.0] * 6
    assert len(latency) == 6  # DOWN results measure no latency
    assert latency[0] == (since, pytest.approx(4.5))  # the mean of 0..9 (10 samples a slice)
    assert [v for _, v in latency] == sorted(v for _, v in latency)
    wide = status.sparklines(store.read(), keys[1:2], since, until, points=500)[keys[1]]
    assert [v for _, v in wide] == [float(i) for i in range(60)]
    with pytest.raises(ValueError):
        status.sparklines(store.read(), keys, until, since)


def test_downsample_keeps_a_series_that_fits_and_skips_missing_values() -> None:
    stamps = [0, 10, 20, 30]
    assert status.downsample(stamps, [1.0, math.nan, 3.0, 4.0], 0, 40, 10) == [
        (0, 1.0),
        (20, 3.0),
        (30, 4.0),
    ]
    assert status.downsample(stamps, [1.0, 2.0, 3.0, 4.0], 0, 40, 2) == [(0, 1.5), (20, 3.5)]


# -- repeated reads -----------------------------------------------------------------------------


def fresh_read(path: Path) -> list[MetricStatus]:
    """The statuses as a connection that never read before sees them (nothing remembered)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return status.metric_statuses(Database(conn))
    finally:
        conn.close()


def test_a_connection_that_read_before_sees_what_a_new_one_sees(
    store: Store, engine: Engine, clock: FakeClock
) -> None:
    steps = [
        lambda: engine.run(API, "UUU", {"response_time_ms": 120.0, "queue_depth": 4.0}),
        lambda: engine.run(DB, "DDD", {}),
        lambda: engine.run(API, "U", {"response_time_ms": 130.0, "queue_depth": 6.0}),
        lambda: entities.save(store, replace(API, name="API health (v2)", metrics=(QUEUE,))),
        lambda: engine.run(DB, "UU", {}),
        lambda: entities.save(store, Service("api", "Public API v2", "infra", ImpactTier.TIER_1)),
        lambda: entities.delete(store, EntityKind.ENDPOINT, BACKUP.key),
        lambda: engine.run(DB, "UD" * 12, {}),
    ]
    reader = store.read()
    status.metric_statuses(reader)
    for step in steps:
        step()
        assert status.metric_statuses(reader) == fresh_read(store.path)
    final = {(m.endpoint, m.metric_key): m for m in status.metric_statuses(reader)}
    assert final[("api-health", "queue_depth")].value == 6.0
    assert final[("api-health", None)].endpoint_name == "API health (v2)"
    assert final[("api-health", None)].team_name == "Infrastructure"
    assert ("api-health", "response_time_ms") not in final and ("backup", None) not in final
    assert final[("db-port", None)].flapping


def test_samples_written_without_a_result_show_up_within_a_full_reread(
    store: Store, engine: Engine, clock: FakeClock
) -> None:
    engine.run(API, "U", {"response_time_ms": 120.0, "queue_depth": 4.0})
    reader = store.read()
    status.metric_statuses(reader)
    sid = samples.find_series(store.read(), "api-health", "queue_depth")
    assert sid is not None
    samples.write_samples(store, [(sid, samples.epoch_ms(clock.now()), 77.0)])  # an import
    seen = []
    for _ in range(status.FULL_VALUES_EVERY):
        row = {(m.endpoint, m.metric_key): m for m in status.metric_statuses(reader)}
        seen.append(row[("api-health", "queue_depth")].value)
    assert seen[-1] == 77.0 and seen[0] in (4.0, 77.0)
    # A new series is noticed at once.
    other = samples.series_id(store, "db-port", "up")
    samples.write_samples(store, [(other, samples.epoch_ms(clock.now()), 0.0)])
    assert status.newest_values(reader)[("db-port", "up")] == 0.0
