"""Bands along a series are the bands the evaluator judged each point against."""

from __future__ import annotations

import math

import numpy as np
import pytest
from console.core.bands import (
    DEFAULT_MAX_EVALUATIONS,
    band_edges,
    band_series,
    evaluation_points,
    lookback_s,
)
from console.core.deviation import (
    BandMethod,
    Baseline,
    DeviationConfig,
    SampleWindow,
    Seasonality,
    judge,
)
from console.core.evaluation import MetricConfig, MetricEvaluator

T0 = 1_777_896_000.0


def noisy(count: int, step: float, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """A daily wave with noise and a few spikes, ``step`` seconds apart."""
    rng = np.random.default_rng(seed)
    times = T0 + np.arange(count) * step
    values = 100 + 20 * np.sin(times / 86400 * 2 * math.pi) + rng.normal(0, 4, count)
    values[::97] += 60
    return times, values


def evaluator_bands(
    times: np.ndarray, values: np.ndarray, config: DeviationConfig
) -> list[tuple[float, float] | None]:
    """The band of each finite point as the evaluator itself reports it (None: no band)."""
    evaluator = MetricEvaluator(MetricConfig("queue", interval=60.0, deviation=config), T0)
    out: list[tuple[float, float] | None] = []
    for at, value in zip(times.tolist(), values.tolist(), strict=True):
        band = evaluator.observe(at, value).band
        out.append(None if band is None else (band.low, band.high))
    return out


def assert_same_bands(
    got: list[tuple[float, float] | None], want: list[tuple[float, float] | None]
) -> None:
    assert [g is None for g in got] == [w is None for w in want]
    for g, w in zip(got, want, strict=True):
        if g is not None and w is not None:
            assert g == pytest.approx(w, rel=1e-9, abs=1e-9)


CONFIGS = {
    "mean-sigma, 1 h": DeviationConfig(min_samples=20, min_span=600.0),
    "median-mad, 30 min": DeviationConfig(
        method=BandMethod.MEDIAN_MAD, k=4.0, window=1800.0, min_deviation=2.0
    ),
    "daily, 2 seasons": DeviationConfig(
        seasonality=Seasonality.DAILY, seasons=2, tolerance=1800.0, min_samples=10
    ),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_every_point_gets_the_band_the_evaluator_judged_it_against(name: str) -> None:
    config = CONFIGS[name]
    step = 300.0 if config.seasonality is Seasonality.DAILY else 60.0
    times, values = noisy(1_200, step)
    band = band_series(times, values, config, max_evaluations=1_200)
    assert band.evaluated == len(band) == 1_200
    want = evaluator_bands(times, values, config)
    assert_same_bands(band.pairs(), want)
    # The warm-up really is in it, and so are bands: the comparison is not vacuous.
    assert want[0] is None and sum(w is not None for w in want) > 800


def test_the_warning_band_is_the_judgement_s_warning_band() -> None:
    config = DeviationConfig(method=BandMethod.MEDIAN_MAD, k=3.0, warning_k=2.0, min_samples=15)
    times, values = noisy(400, 30.0, seed=3)
    band = band_series(times, values, config)
    assert band.warning_low is not None and band.warning_high is not None
    window = SampleWindow(config)
    judged = 0
    for i, (at, value) in enumerate(zip(times.tolist(), values.tolist(), strict=True)):
        baseline = window.baseline(at)
        window.add(at, value)
        if not isinstance(baseline, Baseline):
            assert math.isnan(band.warning_low[i])
            continue
        warning = judge(value, baseline, config).warning_band
        assert warning is not None
        assert (band.warning_low[i], band.warning_high[i]) == pytest.approx(
            (warning.low, warning.high), rel=1e-12
        )
        judged += 1
    assert judged > 300
    assert band_series(times, values, DeviationConfig()).warning_low is None


def test_missing_values_stay_out_of_the_baseline_but_still_get_a_band() -> None:
    config = DeviationConfig(min_samples=10, min_span=300.0)
    times, values = noisy(300, 60.0)
    values[50:60] = math.nan
    values[120] = math.inf
    band = band_series(times, values, config)
    want = evaluator_bands(times, values, config)
    finite = np.isfinite(values)
    got = band.pairs()
    assert_same_bands(
        [g for g, keep in zip(got, finite, strict=True) if keep],
        [w for w, keep in zip(want, finite, strict=True) if keep],
    )
    assert all(got[i] is not None for i in range(50, 60))  # the history before them is warm


def test_a_long_series_is_evaluated_at_spread_points_and_held_between_them() -> None:
    config = DeviationConfig(min_samples=20, min_span=600.0)
    times, values = noisy(6_000, 60.0)
    exact = band_series(times, values, config, max_evaluations=6_000)
    held = band_series(times, values, config, max_evaluations=500)
    points = evaluation_points(6_000, 500)
    assert held.evaluated == points.size == 500 and points[0] == 0 and points[-1] == 5_999
    np.testing.assert_array_equal(held.low[points], exact.low[points])
    np.testing.assert_array_equal(held.high[points], exact.high[points])
    for i in (1, 13, 2_500, 5_998):
        before = points[points <= i].max()
        assert held.at(i) == exact.at(int(before))
    assert evaluation_points(10, DEFAULT_MAX_EVALUATIONS).tolist() == list(range(10))


def test_history_before_the_range_makes_the_band_warm_at_its_start() -> None:
    config = DeviationConfig(min_samples=20, min_span=600.0)
    times, values = noisy(600, 60.0)
    start = times[0] + lookback_s(config)
    cold = band_series(times[times >= start], values[times >= start], config)
    warm = band_series(times, values, config)
    assert cold.at(0) is None
    assert warm.at(int(np.searchsorted(times, start))) is not None
    assert lookback_s(config) == config.window
    seasonal = DeviationConfig(seasonality=Seasonality.WEEKLY, seasons=2)
    assert lookback_s(seasonal) == 2 * 604_800 + seasonal.tolerance


def test_band_edges_is_a_chart_band_function() -> None:
    config = DeviationConfig(min_samples=5, min_span=0.0)
    times, values = noisy(50, 10.0)
    low, high = band_edges(times, values, config)
    band = band_series(times, values, config)
    np.testing.assert_array_equal(low, band.low)
    np.testing.assert_array_equal(high, band.high)
    assert np.isnan(low[:5]).all() and not np.isnan(low[5:]).any()
    assert (low[5:] < high[5:]).all()


def test_bad_input_is_refused_and_an_empty_series_has_no_band() -> None:
    config = DeviationConfig()
    with pytest.raises(ValueError, match="backwards"):
        band_series([2.0, 1.0], [1.0, 1.0], config)
    with pytest.raises(ValueError, match="same length"):
        band_series([1.0, 2.0], [1.0], config)
    with pytest.raises(ValueError, match="at least 2"):
        evaluation_points(10, 1)
    empty = band_series([], [], config)
    assert len(empty) == 0 and empty.pairs() == [] and empty.evaluated == 0
