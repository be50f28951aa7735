"""The model: deterministic, seeded, with a daily rhythm, realistic bounds and a sane counter."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from console.simulator.catalogue import DEMO_CATALOGUE, Metric, SeriesKey
from console.simulator.model import EstateModel, HealthStatus, request_rate
from console.simulator.noise import daily_load, utc_offset

from tests.unit.simulator.support import BERLIN, DAY, MONDAY, WEEK, local_moment

SAMPLE_TIMES = [MONDAY + offset for offset in (0.0, 1234.5, 3 * DAY + 37.0, WEEK - 1.0)]


def test_same_seed_and_time_give_the_same_value_in_any_order() -> None:
    first, second = EstateModel(seed=7), EstateModel(seed=7)
    keys = first.series()
    forward = [[first.value_at(key, t) for t in SAMPLE_TIMES] for key in keys]
    backward = [[second.value_at(key, t) for t in reversed(SAMPLE_TIMES)] for key in keys]
    assert forward == [list(reversed(row)) for row in backward]
    assert first.value_at(keys[0], SAMPLE_TIMES[1]) == forward[0][1]


def test_different_seeds_give_different_estates() -> None:
    one, other = EstateModel(seed=1), EstateModel(seed=2)
    differing = [
        key for key in one.series() if one.value_at(key, MONDAY) != other.value_at(key, MONDAY)
    ]
    # Queue depths are whole numbers and may coincide; nearly everything else differs.
    assert len(differing) >= 0.9 * len(one.series())
    assert _starts(one) != _starts(other)


def _starts(model: EstateModel) -> list[float]:
    return [incident.start for incident in model.incidents_between(MONDAY, MONDAY + WEEK)]


def test_values_match_value_at_point_for_point() -> None:
    model = EstateModel()
    times = np.array(SAMPLE_TIMES)
    for key in model.series():
        batch = model.values(key, times)
        single = [model.value_at(key, t) for t in SAMPLE_TIMES]
        assert batch.tolist() == pytest.approx(single, rel=1e-12, abs=1e-12)


def test_main_time_zone_follows_berlin_including_summer_time() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    moments = [start + timedelta(minutes=30 * step) for step in range(3 * 365 * 48)]
    expected = [_berlin_offset(moment) for moment in moments]
    computed = utc_offset(np.array([m.timestamp() for m in moments]))
    assert computed.tolist() == expected


def _berlin_offset(moment: datetime) -> float:
    offset = moment.astimezone(BERLIN).utcoffset()
    assert offset is not None
    return offset.total_seconds()


def _at_local(model: EstateModel, key: SeriesKey, hour: int) -> list[float]:
    return [model.value_at(key, local_moment(day, hour)) for day in range(7)]


def test_latency_peaks_in_business_hours_and_is_low_at_night() -> None:
    model = EstateModel()
    latency = [key for key in model.series() if key.metric is Metric.LATENCY_P95]
    assert latency
    for key in latency:
        noon = statistics.median(_at_local(model, key, 12))
        night = statistics.median(_at_local(model, key, 3))
        assert noon > 1.3 * night, key


def test_weekends_are_quieter_than_weekdays() -> None:
    weekday = np.array([local_moment(day, 12, m) for day in range(5) for m in range(0, 60, 5)])
    weekend = np.array([local_moment(day, 12, m) for day in (5, 6) for m in range(0, 60, 5)])
    assert daily_load(weekend).max() < daily_load(weekday).min()
    model = EstateModel()
    cpu = [key for key in model.series() if key.metric is Metric.CPU]
    busier = sum(
        statistics.median(model.values(key, weekday))
        > statistics.median(model.values(key, weekend))
        for key in cpu
    )
    assert busier >= 0.8 * len(cpu)


def test_values_stay_within_their_physical_bounds_and_are_noisy() -> None:
    model = EstateModel()
    times = MONDAY + 60.0 * np.arange(int(WEEK / 60), dtype=np.float64)
    for key in model.series():
        values = model.values(key, times)
        assert np.isfinite(values).all(), key
        if key.metric is Metric.ERROR_RATIO:
            assert values.min() >= 0.0 and values.max() <= 1.0
        elif key.metric is Metric.CPU:
            assert values.min() >= 0.5 and values.max() <= 100.0
        elif key.metric is Metric.DISK_USED:
            assert values.min() > 20.0 and values.max() <= 99.9
        elif key.metric is Metric.QUEUE_DEPTH:
            assert values.min() >= 0.0 and (values == np.round(values)).all()
        else:
            assert values.min() >= 1.0
        # Real metrics move from one scrape to the next.
        assert np.count_nonzero(np.diff(values)) > 0.5 * values.size, key


def test_disk_usage_drifts_slowly_between_incidents() -> None:
    model = EstateModel()
    key = next(key for key in model.series() if key.metric is Metric.DISK_USED)
    quiet = [
        t
        for t in MONDAY + 600.0 * np.arange(int(WEEK / 600))
        if not any(i.series == key for i in model.incidents_between(t - 3600, t + 1))
    ]
    values = model.values(key, np.array(quiet))
    # A few points of creep and noise, never the tens of points an incident adds.
    assert 0.5 < values.max() - values.min() < 8.0


def test_request_counter_only_grows_at_the_modelled_rate() -> None:
    model = EstateModel()
    times = MONDAY + 30.0 * np.arange(int(WEEK / 30))
    for service in ("payments-api", "edge-cdn"):
        totals = np.array([model.requests_total(service, t) for t in times])
        assert (np.diff(totals) > 0).all()
        profile = DEMO_CATALOGUE.service(service)
        # Over 30 s the increase is the rate at the midpoint, to within curvature.
        middle = [request_rate(profile, t + 15.0) * 30.0 for t in times[:-1:97]]
        assert np.diff(totals)[::97] == pytest.approx(middle, rel=1e-4)
    # The busiest moment (Wednesday 13:00 UTC) runs at the profile's peak rate.
    wednesday = MONDAY + 2 * DAY + 13 * 3600
    peak = DEMO_CATALOGUE.service("payments-api").peak_rps
    assert request_rate(DEMO_CATALOGUE.service("payments-api"), wednesday) == pytest.approx(peak)
    assert request_rate(DEMO_CATALOGUE.service("payments-api"), wednesday - 12 * 3600) < peak / 3


def test_health_is_ok_when_nothing_touches_a_service() -> None:
    model = EstateModel()
    checked = 0
    for t in MONDAY + 3 * 3600 * np.arange(56):
        for service in model.services():
            nearby = model.incidents_between(t - 3600, t + 1)
            if any(e.series.service == service for i in nearby for e in i.effects):
                continue
            health = model.health_at(service, float(t))
            assert health.status is HealthStatus.OK, (service, t)
            assert health.http_status == 200 and health.up
            assert 0.5 < health.latency_ms < 100.0
            checked += 1
    assert checked > 500


def test_version_moves_with_deploys_but_not_within_an_hour() -> None:
    model = EstateModel()
    version = model.version_at("payments-api", MONDAY + 12 * 3600)
    assert version.startswith("7.1.")
    assert model.version_at("payments-api", MONDAY + 12 * 3600 + 1800) == version
    later = {model.version_at("payments-api", MONDAY + day * DAY + 12 * 3600) for day in range(7)}
    assert len(later) >= 2
    assert all(text.isdigit() for text in version.split("."))
