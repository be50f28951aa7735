"""Deviation bands: hand-worked bands, warm-up, minimum deviation, sides, seasons, the window."""

from __future__ import annotations

import math
import statistics

import pytest
from console.core.checks import CheckState
from console.core.deviation import (
    Band,
    BandMethod,
    Baseline,
    DeviationConfig,
    SampleWindow,
    Seasonality,
    Side,
    WarmUp,
    compute_baseline,
    distance,
    judge,
    make_band,
    step_deviation,
)
from console.core.errors import ValidationError
from console.core.stats import MAD_SCALE
from console.core.thresholds import Levels
from hypothesis import given, settings
from hypothesis import strategies as st

OK, WARNING, CRITICAL = CheckState.OK, CheckState.WARNING, CheckState.CRITICAL
PROPERTY = settings(deadline=None, max_examples=150, database=None)
DAY = 86400.0
QUICK = DeviationConfig(min_samples=5, min_span=0.0, window=100.0)


def assert_same(got: Baseline | WarmUp, expected: Baseline | WarmUp) -> None:
    """Incremental and plain baselines agree (to rounding: they sum in different orders)."""
    if isinstance(expected, WarmUp):
        assert got == expected
        return
    assert isinstance(got, Baseline)
    assert (got.count, got.method, got.seasonality) == (
        expected.count,
        expected.method,
        expected.seasonality,
    )
    assert got.centre == pytest.approx(expected.centre, rel=1e-12, abs=1e-9)
    assert got.spread == pytest.approx(expected.spread, rel=1e-9, abs=1e-9)


def baseline_of(values: list[float], config: DeviationConfig = QUICK) -> Baseline:
    samples = [(float(i), v) for i, v in enumerate(values)]
    result = compute_baseline(samples, float(len(values)), config)
    assert isinstance(result, Baseline)
    return result


def test_hand_worked_mean_sigma_band() -> None:
    # mean 14, sample stdev sqrt(40 / 4) = sqrt(10) = 3.16227766; k = 3 -> 14 +/- 9.48683298
    baseline = baseline_of([10.0, 12.0, 14.0, 16.0, 18.0])
    band = make_band(baseline, 3.0)
    assert (baseline.centre, baseline.spread, baseline.count) == (14.0, math.sqrt(10), 5)
    assert band.low == pytest.approx(4.51316702, abs=1e-8)
    assert band.high == pytest.approx(23.48683298, abs=1e-8)
    assert band.method is BandMethod.MEAN_SIGMA and band.k == 3.0


def test_hand_worked_median_mad_band_ignores_an_outlier() -> None:
    config = DeviationConfig(method=BandMethod.MEDIAN_MAD, min_samples=5, min_span=0, window=100)
    # median 14; |deviations| 4 2 0 2 86 -> MAD 2 -> scaled 2.9652; band 14 +/- 8.8956
    baseline = baseline_of([10.0, 12.0, 14.0, 16.0, 100.0], config)
    assert (baseline.centre, baseline.spread) == (14.0, 2 * MAD_SCALE)
    band = make_band(baseline, 3.0)
    assert (band.low, band.high) == pytest.approx((5.1044, 22.8956), abs=1e-9)
    # the mean/sigma band over the same values is dragged wide by the outlier
    wide = make_band(baseline_of([10.0, 12.0, 14.0, 16.0, 100.0]), 3.0)
    assert wide.high - wide.low > 10 * (band.high - band.low)


def test_distance_in_spreads_and_sides() -> None:
    baseline = Baseline(centre=100.0, spread=10.0, method=BandMethod.MEAN_SIGMA, count=30)
    assert distance(141.0, baseline) == pytest.approx(4.1)
    assert distance(80.0, baseline) == -2.0
    above_only = DeviationConfig(side=Side.ABOVE)
    below_only = DeviationConfig(side=Side.BELOW)
    both = DeviationConfig()
    assert judge(141.0, baseline, above_only).state is CRITICAL
    assert judge(59.0, baseline, above_only).state is OK
    assert judge(59.0, baseline, below_only).state is CRITICAL
    assert judge(141.0, baseline, below_only).state is OK
    assert judge(59.0, baseline, both).state is CRITICAL
    assert judge(130.0, baseline, both).state is OK  # exactly on the edge is inside


def test_warning_band_inside_the_critical_one() -> None:
    baseline = Baseline(centre=0.0, spread=1.0, method=BandMethod.MEAN_SIGMA, count=30)
    config = DeviationConfig(k=3.0, warning_k=2.0)
    assert [judge(v, baseline, config).state for v in (1.5, 2.5, 3.5, -2.5)] == [
        OK,
        WARNING,
        CRITICAL,
        WARNING,
    ]
    judgement = judge(2.5, baseline, config)
    assert judgement.warning_band == Band(-2.0, 2.0, 0.0, 1.0, BandMethod.MEAN_SIGMA, 2.0)
    assert judgement.band == Band(-3.0, 3.0, 0.0, 1.0, BandMethod.MEAN_SIGMA, 3.0)


def test_a_flat_series_needs_the_minimum_deviation() -> None:
    flat = [100.0] * 30
    strict = baseline_of(flat)
    assert strict.spread == 0.0
    # with no minimum, the tiniest wiggle off a flat series is infinitely many sigmas away
    assert judge(100.0001, strict, QUICK).state is CRITICAL
    assert distance(100.0001, strict) == math.inf
    assert distance(100.0, strict) == 0.0
    tolerant = DeviationConfig(min_samples=5, min_span=0, window=100, min_deviation=0.5)
    band = judge(100.4, strict, tolerant).band
    assert (band.low, band.high) == (99.5, 100.5)
    assert judge(100.4, strict, tolerant).state is OK
    assert judge(99.6, strict, tolerant).state is OK
    assert judge(100.6, strict, tolerant).state is CRITICAL


def test_the_minimum_deviation_only_widens_a_narrow_band() -> None:
    baseline = Baseline(centre=50.0, spread=1.0, method=BandMethod.MEAN_SIGMA, count=30)
    wide = DeviationConfig(min_deviation=2.0)  # 3 sigma = 3 > 2: no effect
    assert (make_band(baseline, 3.0, 2.0).low, make_band(baseline, 3.0, 2.0).high) == (47, 53)
    assert judge(53.5, baseline, wide).state is CRITICAL
    narrow = DeviationConfig(min_deviation=5.0)
    assert judge(53.5, baseline, narrow).state is OK


def test_warm_up_needs_both_samples_and_span() -> None:
    config = DeviationConfig(min_samples=10, min_span=300.0, window=3600.0)
    every_10s = [(10.0 * i, 5.0) for i in range(10)]  # 10 samples spanning 90 s
    early = compute_baseline(every_10s, 100.0, config)
    assert early == WarmUp(count=10, min_samples=10, span=100.0, min_span=300.0)
    sparse = [(100.0 * i, 5.0) for i in range(4)]  # spans 300 s at 400 but only 4 samples
    assert isinstance(compute_baseline(sparse, 400.0, config), WarmUp)
    every_30s = [(30.0 * i, 5.0) for i in range(11)]  # 11 samples, 330 s at t=330
    assert isinstance(compute_baseline(every_30s, 330.0, config), Baseline)


def test_the_rolling_window_only_looks_back_its_length() -> None:
    config = DeviationConfig(min_samples=3, min_span=0, window=60.0)
    samples = [(0.0, 1000.0), (50.0, 1000.0)] + [(100.0 + i, 10.0 + i) for i in range(5)]
    baseline = compute_baseline(samples, 105.0, config)  # window [45, 105]
    assert isinstance(baseline, Baseline)
    assert baseline.count == 6  # 50 s plus the five recent ones; 0 s has left the window
    assert baseline.centre == statistics.mean([1000.0, 10.0, 11.0, 12.0, 13.0, 14.0])


def test_nan_and_infinite_samples_are_ignored() -> None:
    values = [1.0, math.nan, 2.0, math.inf, 3.0, -math.inf, 4.0, 5.0]
    samples = [(float(i), v) for i, v in enumerate(values)]
    baseline = compute_baseline(samples, 10.0, QUICK)
    assert isinstance(baseline, Baseline)
    assert (baseline.count, baseline.centre) == (5, 3.0)
    window = SampleWindow(QUICK)
    for at, value in samples:
        window.add(at, value)
    assert len(window) == 5
    assert_same(window.baseline(10.0), baseline)


def daily_pattern(at: float) -> float:
    """Night (00-06 UTC) about 10, midday (10-14) about 100, ramps between."""
    hour = (at % DAY) / 3600
    noise = 2.0 * math.sin(at / 317.0)  # deterministic wiggle
    if hour < 6 or hour >= 22:
        return 10.0 + noise
    if 10 <= hour < 14:
        return 100.0 + noise
    return 55.0 + noise


SEASONAL = DeviationConfig(
    seasonality=Seasonality.DAILY,
    seasons=4,
    tolerance=1800.0,
    min_samples=20,
    min_span=DAY,
)


def four_days(step: float = 300.0) -> list[tuple[float, float]]:
    start = 20_000 * DAY  # a UTC midnight
    return [(start + i * step, daily_pattern(start + i * step)) for i in range(int(4 * DAY / step))]


def test_seasonal_band_knows_noon_from_night() -> None:
    history = four_days()
    day5 = 20_004 * DAY
    noon, night = day5 + 12 * 3600, day5 + 3 * 3600
    at_noon = compute_baseline(history, noon, SEASONAL)
    at_night = compute_baseline(history, night, SEASONAL)
    assert isinstance(at_noon, Baseline) and isinstance(at_night, Baseline)
    # +/- 30 min around noon on 4 previous days at 5-min steps: 13 samples a day
    assert (at_noon.count, at_noon.periods, at_noon.seasonality) == (52, 4, Seasonality.DAILY)
    assert at_noon.centre == pytest.approx(100.0, abs=2.0)
    assert at_night.centre == pytest.approx(10.0, abs=2.0)
    # a night-time value is abnormal at noon, and a noon value abnormal at night
    assert judge(10.0, at_noon, SEASONAL).state is CRITICAL
    assert judge(100.0, at_noon, SEASONAL).state is OK
    assert judge(10.0, at_night, SEASONAL).state is OK
    assert judge(100.0, at_night, SEASONAL).state is CRITICAL
    # a plain 24 h window cannot tell: it finds 10 at noon within its wide band
    rolling = DeviationConfig(window=DAY, min_samples=20, min_span=3600)
    flat_baseline = compute_baseline(history, noon, rolling)
    assert isinstance(flat_baseline, Baseline)
    assert judge(10.0, flat_baseline, rolling).state is OK


def test_seasonal_baseline_pools_only_the_same_time_of_day() -> None:
    # samples exactly at now - 1 d and now - 2 d +/- tolerance count; others do not
    now = 10 * DAY
    samples = [
        (now - DAY - 600, 1.0),
        (now - DAY + 600, 3.0),
        (now - 2 * DAY, 5.0),
        (now - DAY - 1200, 1000.0),  # outside the +/- 15 min tolerance
        (now - 3600, 1000.0),  # an hour ago: not the same time of day
    ]
    config = DeviationConfig(
        seasonality=Seasonality.DAILY,
        seasons=2,
        tolerance=900,
        min_samples=3,
        min_span=0,
        method=BandMethod.MEDIAN_MAD,
    )
    baseline = compute_baseline(samples, now, config)
    assert isinstance(baseline, Baseline)
    assert (baseline.count, baseline.centre, baseline.periods) == (3, 3.0, 2)


def test_weekly_seasonality_looks_a_week_back() -> None:
    week = 7 * DAY
    now = 100 * week
    samples = [(now - week + i, 42.0 + i) for i in range(-3, 4)]
    samples += [(now - DAY + i, 1000.0) for i in range(-3, 4)]  # yesterday does not count
    config = DeviationConfig(
        seasonality=Seasonality.WEEKLY, seasons=1, tolerance=60, min_samples=5, min_span=0
    )
    baseline = compute_baseline(samples, now, config)
    assert isinstance(baseline, Baseline)
    assert (baseline.count, baseline.centre) == (7, 42.0)


def test_the_band_levels_follow_for_and_keep_firing() -> None:
    config = DeviationConfig(for_seconds=20.0, keep_firing_for=30.0, warning_k=2.0)
    baseline = Baseline(centre=0.0, spread=1.0, method=BandMethod.MEAN_SIGMA, count=30)
    levels = Levels()
    seen = []
    for at, value in [(0, 5.0), (10, 5.0), (20, 5.0), (30, 0.0), (59, 0.0), (60, 0.0)]:
        levels = step_deviation(levels, config, float(at), judge(value, baseline, config))
        seen.append(levels.state)
    assert seen == [OK, OK, CRITICAL, CRITICAL, CRITICAL, OK]
    # warming up (no judgement) quiets the band
    assert step_deviation(levels, config, 70.0, None) == Levels()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"k": 0}, "k"),
        ({"k": math.nan}, "k"),
        ({"warning_k": 3.0}, "warning_k"),
        ({"window": -1}, "window"),
        ({"min_samples": 1}, "min_samples"),
        ({"min_deviation": -0.1}, "min_deviation"),
        ({"seasons": 0, "seasonality": Seasonality.DAILY}, "seasons"),
        ({"seasonality": Seasonality.DAILY, "tolerance": 43200}, "tolerance"),
        ({"window": 600, "min_span": 601}, "min_span"),
        ({"for_seconds": -1}, "for_seconds"),
    ],
)
def test_impossible_configs_are_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        DeviationConfig(**kwargs)  # type: ignore[arg-type]
    assert any(problem.path == field for problem in caught.value.problems)


def test_retention_covers_the_seasons() -> None:
    assert DeviationConfig(window=1800).retention == 1800
    weekly = DeviationConfig(seasonality=Seasonality.WEEKLY, seasons=2, tolerance=600)
    assert weekly.retention == 2 * 7 * DAY + 600


def test_the_window_inserts_late_samples_and_recovers_from_a_clock_step_back() -> None:
    config = DeviationConfig(window=100.0, min_samples=2, min_span=0)
    window = SampleWindow(config)
    for at in (10.0, 20.0, 40.0):
        window.add(at, at)
    window.baseline(40.0)
    window.add(30.0, 30.0)  # late, inserted in order inside the rolling range
    assert window.samples() == [(10.0, 10.0), (20.0, 20.0), (30.0, 30.0), (40.0, 40.0)]
    assert_same(window.baseline(40.0), compute_baseline(window.samples(), 40.0, config))
    window.add(-500.0, 7.0)  # the clock stepped back by more than the retention
    assert window.samples() == [(-500.0, 7.0)]
    window.add(-490.0, 9.0)
    baseline = window.baseline(-490.0)
    assert isinstance(baseline, Baseline) and baseline.centre == 8.0


def test_the_window_prunes_and_compacts_without_losing_its_place() -> None:
    config = DeviationConfig(window=50.0, min_samples=2, min_span=0)
    window = SampleWindow(config)
    samples = [(float(i), float((i * 7919) % 101)) for i in range(5000)]
    for at, value in samples:
        window.add(at, value)
        if at % 97 == 0:  # query now and then so the rolling range slides in jumps
            assert_same(window.baseline(at), compute_baseline(samples[: int(at) + 1], at, config))
    assert len(window) == 51  # [4949, 4999]
    assert_same(window.baseline(4999.0), compute_baseline(samples, 4999.0, config))


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[float, float]]:
    gaps = draw(st.lists(st.floats(min_value=0.0, max_value=40.0), min_size=1, max_size=120))
    base = draw(st.sampled_from([0.0, 1e9]))
    noise = st.floats(min_value=-50, max_value=50, allow_nan=False)
    values = draw(st.lists(noise, min_size=len(gaps), max_size=len(gaps)))
    times = [sum(gaps[: i + 1]) for i in range(len(gaps))]
    return [(t, base + v) for t, v in zip(times, values, strict=True)]


configs = st.builds(
    DeviationConfig,
    method=st.sampled_from(list(BandMethod)),
    window=st.sampled_from([30.0, 120.0, 600.0]),
    min_samples=st.integers(min_value=2, max_value=8),
    min_span=st.sampled_from([0.0, 25.0]),
)


@PROPERTY
@given(histories(), configs)
def test_the_incremental_window_matches_the_plain_computation(
    samples: list[tuple[float, float]], config: DeviationConfig
) -> None:
    window = SampleWindow(config)
    for index, (at, value) in enumerate(samples):
        assert_same(window.baseline(at), compute_baseline(samples[:index], at, config))
        window.add(at, value)


@PROPERTY
@given(histories(), st.sampled_from(list(BandMethod)))
def test_bands_match_the_statistics_module(
    samples: list[tuple[float, float]], method: BandMethod
) -> None:
    now = samples[-1][0]
    config = DeviationConfig(method=method, window=1e6, min_samples=2, min_span=0)
    baseline = compute_baseline(samples, now, config)
    values = [v for _, v in samples]
    if len(values) < 2:
        assert isinstance(baseline, WarmUp)
        return
    assert isinstance(baseline, Baseline)
    if method is BandMethod.MEAN_SIGMA:
        centre, spread = statistics.mean(values), statistics.stdev(values)
    else:
        centre = statistics.median(values)
        spread = MAD_SCALE * statistics.median([abs(v - centre) for v in values])
    assert baseline.centre == pytest.approx(centre, rel=1e-12)
    assert baseline.spread == pytest.approx(spread, rel=1e-9, abs=1e-6 * math.ulp(centre))
    band = make_band(baseline, 3.0)
    assert band.low == pytest.approx(centre - 3 * spread, rel=1e-9)
    assert band.high == pytest.approx(centre + 3 * spread, rel=1e-9)
