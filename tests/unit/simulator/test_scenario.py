"""The demo scenario: incidents pinned to an anchor bend the right series at the right times.

The judged states are checked with the real evaluators fed the history a demo store holds
(console.engine.backfill.history_times), at anchors spread over the week: whatever the time of
day, the disk is CRITICAL, the spike a WARNING and the outage's health check DOWN at the anchor.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from console.config.demo import demo_estate
from console.core.checks import CheckState, StateType
from console.core.endpoints import Endpoint, MetricSpec
from console.core.evaluation import Evaluation, MetricEvaluator
from console.core.models import ImpactTier
from console.engine.backfill import history_times
from console.simulator.catalogue import Metric, SeriesKey
from console.simulator.incidents import Incident, IncidentKind
from console.simulator.model import EstateModel, HealthStatus
from console.simulator.scenario import (
    DISK_CRITICAL_PERCENT,
    DISK_HOSTS,
    OUTAGE_SERVICE,
    SPIKE_TARGETS,
    SpikeTarget,
    demo_scenario,
    scenario_model,
    warning_zone,
)

from tests.unit.simulator.support import DAY, MONDAY, local_moment

MINUTE = 60.0
HOUR = 3600.0
#: A Wednesday afternoon, off the minute.
ANCHOR = local_moment(2, 14, 7) + 13.25
#: Anchors every 7 h 13 min from a Saturday on: nights, mornings, weekends, busy afternoons.
ANCHORS = [MONDAY + 5 * DAY + 17.5 + i * (7 * HOUR + 13 * MINUTE) for i in range(10)]
PLAIN = EstateModel()
ENDPOINTS = {endpoint.key: endpoint for endpoint in demo_estate().endpoints}


def _pinned(model: EstateModel, kind: IncidentKind) -> Incident:
    (found,) = [incident for incident in model.pinned if incident.kind is kind]
    return found


def _spike_target(model: EstateModel) -> SpikeTarget:
    service = _pinned(model, IncidentKind.LATENCY_SPIKE).service
    return next(target for target in SPIKE_TARGETS if target.service == service)


def _grid(start: float, end: float, step: float = MINUTE) -> np.ndarray:
    return np.arange(math.ceil(start / step) * step, end, step)


def test_the_scenario_is_a_function_of_seed_and_anchor() -> None:
    first, again = demo_scenario(ANCHOR), demo_scenario(ANCHOR)
    assert first == again
    assert scenario_model(ANCHOR).pinned == first
    assert {incident.kind for incident in first} == {
        IncidentKind.DISK_FILL,
        IncidentKind.LATENCY_SPIKE,
        IncidentKind.OUTAGE,
    }
    later = demo_scenario(ANCHOR + 5 * HOUR)
    assert [i.start - ANCHOR for i in first] == pytest.approx(
        [i.start - ANCHOR - 5 * HOUR for i in later]
    )
    assert demo_scenario(ANCHOR, seed=7) != first, "the spike is sized from the seed's history"


def test_pinned_incidents_join_the_schedule_and_nothing_else_changes() -> None:
    model = scenario_model(ANCHOR)
    window = (ANCHOR - 4 * HOUR, ANCHOR + 6 * HOUR)
    merged = model.incidents_between(*window)
    assert set(merged) == set(PLAIN.incidents_between(*window)) | set(model.pinned)
    assert [i.start for i in merged] == sorted(i.start for i in merged)
    assert set(model.pinned) <= set(model.active_incidents(ANCHOR))
    assert not set(model.pinned) & set(model.active_incidents(ANCHOR - 4 * HOUR))
    # Before the first pinned incident and after the last, the estate is the plain one.
    outside = np.concatenate([_grid(ANCHOR - 9 * HOUR, ANCHOR - 3 * HOUR - 1), [ANCHOR + 6 * HOUR]])
    for key in model.series():
        assert model.values(key, outside).tolist() == PLAIN.values(key, outside).tolist(), key


@pytest.mark.parametrize("anchor", ANCHORS)
def test_the_disk_passes_critical_about_forty_minutes_before_the_anchor(anchor: float) -> None:
    model = scenario_model(anchor)
    fill = _pinned(model, IncidentKind.DISK_FILL)
    key = fill.series
    assert key.labels["host"] in DISK_HOSTS
    # A disk the schedule leaves alone: a scheduled fill would bring the crossing forward.
    scheduled = PLAIN.incidents_between(anchor - 6 * HOUR, anchor + 5.5 * HOUR)
    assert all(effect.series != key for incident in scheduled for effect in incident.effects)
    times = _grid(anchor - 4 * HOUR, anchor + 6 * HOUR)
    used = model.values(key, times)
    critical = times[used > DISK_CRITICAL_PERCENT]
    assert anchor - 50 * MINUTE <= critical[0] <= anchor - 41 * MINUTE
    held = (times >= critical[0]) & (times < anchor + 5 * HOUR)
    assert (used[held] > DISK_CRITICAL_PERCENT).all(), "critical from the crossing for hours"
    assert used.max() < 99.0
    plain = PLAIN.values(key, times)
    untouched = (times < anchor - 3 * HOUR) | (times >= anchor + 5 * HOUR + 15 * MINUTE)
    assert used[untouched].tolist() == plain[untouched].tolist()
    assert model.health_at(fill.service, anchor).status is not HealthStatus.DOWN


@pytest.mark.parametrize("anchor", ANCHORS)
def test_the_spike_sits_between_its_bands_warning_and_critical_edges(anchor: float) -> None:
    model = scenario_model(anchor)
    target = _spike_target(model)
    for at in _grid(anchor - 7 * MINUTE, anchor + 46 * MINUTE, 5 * MINUTE).tolist():
        zone = warning_zone(PLAIN, target, at, anchor)
        assert zone is not None
        value = model.value_at(target.series, at)
        assert zone[0] < value < zone[1] < target.critical, (at - anchor, zone, value)
    before = _grid(anchor - 3 * HOUR, anchor - 10 * MINUTE)
    assert model.values(target.series, before).tolist() == (
        PLAIN.values(target.series, before).tolist()
    )
    assert model.health_at(target.service, anchor).status is HealthStatus.DEGRADED


@pytest.mark.parametrize("anchor", ANCHORS[::3])
def test_the_outage_takes_the_health_endpoint_down_for_two_hours(anchor: float) -> None:
    model = scenario_model(anchor)
    for at in _grid(anchor - 25 * MINUTE, anchor + 95 * MINUTE, 5 * MINUTE).tolist():
        health = model.health_at(OUTAGE_SERVICE, at)
        assert health.status is HealthStatus.DOWN and health.http_status == 503
    for at in (anchor - 26 * MINUTE, anchor + 96 * MINUTE):
        assert model.health_at(OUTAGE_SERVICE, at) == PLAIN.health_at(OUTAGE_SERVICE, at)
    errors = SeriesKey(Metric.ERROR_RATIO, OUTAGE_SERVICE)
    assert model.value_at(errors, anchor) > 0.9


def _metric(endpoint: str, prefix: str) -> tuple[Endpoint, MetricSpec]:
    found = ENDPOINTS[endpoint]
    return found, next(spec for spec in found.metrics if spec.metric.startswith(prefix))


def _judged(
    model: EstateModel, endpoint: str, prefix: str, key: SeriesKey, anchor: float
) -> Evaluation:
    """The evaluation at the anchor, as a demo store's replay judges it (history, then minutes)."""
    owner, spec = _metric(endpoint, prefix)
    replay_from = anchor - 6 * HOUR
    evaluator = MetricEvaluator(spec.config(owner.interval_s), replay_from)
    stored = history_times(anchor - 7 * DAY, anchor)
    stored = stored[stored < replay_from]
    evaluator.backfill(zip(stored.tolist(), model.values(key, stored).tolist(), strict=True))
    replay = _grid(replay_from, anchor)
    values = model.values(key, replay).tolist()
    judged = [evaluator.observe(t, v) for t, v in zip(replay.tolist(), values, strict=True)]
    return judged[-1]


@pytest.mark.parametrize("anchor", ANCHORS[::2])
def test_the_judges_find_a_critical_disk_and_a_warning_spike(anchor: float) -> None:
    model = scenario_model(anchor)
    fill = _pinned(model, IncidentKind.DISK_FILL)
    prefix = f'demo_disk_used_percent{{host="{fill.series.labels["host"]}"'
    disk = _judged(model, "postgres-main-metrics", prefix, fill.series, anchor)
    assert (disk.state, disk.state_type) == (CheckState.CRITICAL, StateType.HARD), disk.reason
    target = _spike_target(model)
    p95 = _judged(
        model, f"{target.service}-metrics", Metric.LATENCY_P95.value, target.series, anchor
    )
    assert (p95.state, p95.state_type) == (CheckState.WARNING, StateType.HARD), p95.reason


def test_the_scenario_mirrors_the_demo_estates_thresholds() -> None:
    for target in SPIKE_TARGETS:
        _, spec = _metric(f"{target.service}-metrics", Metric.LATENCY_P95.value)
        assert spec.deviation == target.band, target.service
        assert spec.thresholds is not None and spec.thresholds.critical == target.critical
    for host in DISK_HOSTS:
        _, disk = _metric("postgres-main-metrics", f'demo_disk_used_percent{{host="{host}"')
        assert disk.thresholds is not None and disk.thresholds.critical == DISK_CRITICAL_PERCENT
    services = {service.key: service for service in demo_estate().services}
    assert services[OUTAGE_SERVICE].tier in {ImpactTier(2), ImpactTier(3)}
    assert f"{OUTAGE_SERVICE}-health" in ENDPOINTS
    assert OUTAGE_SERVICE not in {"postgres-main", *(t.service for t in SPIKE_TARGETS)}
