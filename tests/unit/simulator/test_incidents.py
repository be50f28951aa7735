"""The incident schedule: several kinds a week, each bending its series far out of its normal."""

from __future__ import annotations

import statistics
from collections import Counter

import numpy as np
import pytest
from console.simulator.catalogue import SeriesKey
from console.simulator.incidents import Incident, IncidentKind
from console.simulator.model import DEGRADED_DISK_PERCENT, EstateModel, HealthStatus

from tests.unit.simulator.support import DAY, MONDAY, WEEK

SEEDS = (20260101, 1, 2, 3, 99)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_week_holds_several_incidents_of_different_kinds(seed: int) -> None:
    incidents = EstateModel(seed).incidents_between(MONDAY, MONDAY + WEEK)
    kinds = Counter(incident.kind for incident in incidents)
    assert len(incidents) >= 3
    assert len(kinds) >= 3
    # "Every few hours somewhere": no day goes by without one.
    for day in range(7):
        assert EstateModel(seed).incidents_between(MONDAY + day * DAY, MONDAY + (day + 1) * DAY)


def test_every_kind_occurs_within_a_month_and_often_something_is_wrong() -> None:
    model = EstateModel()
    month = model.incidents_between(MONDAY, MONDAY + 4 * WEEK)
    assert {incident.kind for incident in month} == set(IncidentKind)
    moments = MONDAY + 1800.0 * np.arange(int(4 * WEEK / 1800))
    busy = sum(bool(model.active_incidents(float(t))) for t in moments)
    assert 0.3 < busy / moments.size < 0.95


def test_incidents_have_plausible_durations_and_a_peak_inside() -> None:
    for incident in EstateModel().incidents_between(MONDAY, MONDAY + 2 * WEEK):
        assert incident.start < incident.peak < incident.end
        minutes = incident.duration_s / 60
        low, high = {
            IncidentKind.LATENCY_SPIKE: (10, 40),
            IncidentKind.ERROR_BURST: (6, 30),
            IncidentKind.OUTAGE: (4, 20),
            IncidentKind.QUEUE_BACKLOG: (50, 180),
            IncidentKind.DISK_FILL: (185, 555),
        }[incident.kind]
        assert low <= minutes <= high, incident
        assert incident.service in incident.describe()


def test_windows_are_consistent_and_include_incidents_crossing_their_edges() -> None:
    model = EstateModel()
    whole = model.incidents_between(MONDAY, MONDAY + 2 * DAY)
    halves = model.incidents_between(MONDAY, MONDAY + DAY)
    halves += model.incidents_between(MONDAY + DAY, MONDAY + 2 * DAY)
    assert sorted(set(halves), key=lambda i: (i.start, i.kind.value)) == whole
    long_one = next(i for i in whole if i.kind is IncidentKind.DISK_FILL)
    inside = model.incidents_between(long_one.start + 60, long_one.start + 61)
    assert long_one in inside
    assert long_one in model.active_incidents(long_one.peak)
    assert long_one not in model.active_incidents(long_one.end)
    # A fresh model recomputes the same schedule from the seed alone.
    assert EstateModel().incidents_between(MONDAY + DAY, MONDAY + 2 * DAY) == (
        model.incidents_between(MONDAY + DAY, MONDAY + 2 * DAY)
    )


def _touches(incident: Incident, series: SeriesKey) -> bool:
    return any(effect.series == series for effect in incident.effects)


def _clean_yesterday(model: EstateModel, incident: Incident) -> bool:
    before = incident.peak - DAY
    nearby = model.incidents_between(before - 3600, before + 3600)
    return not any(_touches(other, incident.series) for other in nearby)


def test_during_an_incident_its_series_deviates_far_from_the_same_time_yesterday() -> None:
    model = EstateModel()
    checked: Counter[IncidentKind] = Counter()
    for incident in model.incidents_between(MONDAY + DAY, MONDAY + WEEK):
        if not _clean_yesterday(model, incident):
            continue
        yesterday = incident.peak - DAY + 30.0 * np.arange(-60, 61, dtype=np.float64)
        normal = model.values(incident.series, yesterday)
        sigma = float(np.std(normal))
        now = model.value_at(incident.series, incident.peak)
        assert abs(now - statistics.fmean(normal)) > 3 * sigma, incident.describe()
        # And it is back to normal-ish well after the end, unless something else hit it.
        later = incident.end + 1800
        nearby = model.incidents_between(later - 60, later)
        if not any(_touches(other, incident.series) for other in nearby):
            after = model.value_at(incident.series, later)
            assert abs(after - statistics.fmean(normal)) < abs(now - statistics.fmean(normal)) / 2
        checked[incident.kind] += 1
    assert sum(checked.values()) >= 10
    assert len(checked) >= 4


def test_health_reports_outages_and_the_incidents_a_service_notices() -> None:
    model = EstateModel()
    seen: Counter[IncidentKind] = Counter()
    for incident in model.incidents_between(MONDAY, MONDAY + 2 * WEEK):
        health = model.health_at(incident.service, incident.peak)
        if incident.kind is IncidentKind.OUTAGE:
            assert (health.status, health.http_status, health.up) == (HealthStatus.DOWN, 503, False)
        elif incident.kind in (IncidentKind.LATENCY_SPIKE, IncidentKind.ERROR_BURST):
            assert health.status is not HealthStatus.OK, incident.describe()
        elif incident.kind is IncidentKind.DISK_FILL:
            full = model.value_at(incident.series, incident.peak) > DEGRADED_DISK_PERCENT
            if full:
                assert health.status is not HealthStatus.OK
        seen[incident.kind] += 1
    assert seen[IncidentKind.OUTAGE] >= 2


def test_an_outage_spills_errors_onto_the_services_that_depend_on_it() -> None:
    model = EstateModel()
    outages = [
        incident
        for incident in model.incidents_between(MONDAY, MONDAY + 4 * WEEK)
        if incident.kind is IncidentKind.OUTAGE and len(incident.effects) > 3
    ]
    assert outages
    for outage in outages:
        for effect in outage.effects[3:]:
            before = model.value_at(effect.series, outage.start - 600)
            assert model.value_at(effect.series, outage.peak) > before + 0.04
