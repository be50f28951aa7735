"""Backfill: the right number of points, the model's own values, and fast enough for seven days."""

from __future__ import annotations

import itertools
import math
import random
import time
from operator import itemgetter

import pytest
from console.simulator.backfill import backfill, sample_times
from console.simulator.model import EstateModel

from tests.unit.simulator.support import DAY, MONDAY, WEEK

# Seven days at 30 s for every series must be ready within this (about 1.1 M points).
SPEED_BOUND_S = 10.0


def test_seven_days_at_thirty_seconds_for_every_series_is_fast_and_complete() -> None:
    model = EstateModel()
    keys = model.series()
    started = time.perf_counter()
    runs = [
        (key, list(points))
        for key, points in itertools.groupby(
            backfill(model, keys, MONDAY, MONDAY + WEEK, 30.0), key=itemgetter(0)
        )
    ]
    elapsed = time.perf_counter() - started
    print(f"backfill of {len(keys)} series x 7 days at 30 s: {elapsed:.2f} s")
    assert elapsed < SPEED_BOUND_S, f"backfill took {elapsed:.1f} s"
    # Series by series, each once, each with every step of the half-open week.
    assert [key for key, _ in runs] == list(keys)
    for _, points in runs:
        assert len(points) == int(WEEK / 30)
        assert points[0][1] == MONDAY and points[-1][1] == MONDAY + WEEK - 30.0
        assert all(math.isfinite(value) for _, _, value in points)


def test_backfilled_values_are_the_models_values() -> None:
    model = EstateModel()
    points = list(backfill(model, model.series()[::7], MONDAY + DAY, MONDAY + 2 * DAY, 60.0))
    for key, t, value in random.Random(5).sample(points, 200):
        assert value == pytest.approx(model.value_at(key, t), rel=1e-12, abs=1e-12)


def test_sample_times_count_without_float_drift_and_refuse_nonsense() -> None:
    assert sample_times(0.0, 1.0, 0.1).size == 10
    assert sample_times(0.0, 1.05, 0.1).size == 11
    assert sample_times(5.0, 5.0, 1.0).size == 0
    assert list(backfill(EstateModel(), EstateModel().series(), 5.0, 5.0, 1.0)) == []
    with pytest.raises(ValueError, match="positive"):
        sample_times(0.0, 10.0, 0.0)
    with pytest.raises(ValueError, match="before"):
        sample_times(10.0, 0.0, 1.0)
