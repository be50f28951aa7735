"""Summary statistics against the `statistics` module, including huge offsets, and incrementally.

The oracle is Python's `statistics` module, which computes with exact fractions: `mean`, `stdev`
(the *sample* standard deviation, n - 1, which is what the bands use) and `median`.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter

import pytest
from console.core.stats import MAD_SCALE, RollingStats, mean_stdev, median, median_mad
from hypothesis import given, settings
from hypothesis import strategies as st

PROPERTY = settings(deadline=None, max_examples=300, database=None)

finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
offsets = st.sampled_from([0.0, 1e6, 1e9, 1e12, -1e9])
noise = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)


@st.composite
def offset_series(draw: st.DrawFn) -> list[float]:
    """A large constant plus small noise: where E[x^2] - E[x]^2 cancels catastrophically."""
    base = draw(offsets)
    scale = draw(st.sampled_from([1.0, 1e-3]))
    return [base + scale * x for x in draw(st.lists(noise, min_size=2, max_size=200))]


series = st.one_of(st.lists(finite, min_size=2, max_size=200), offset_series())


def oracle_mad(values: list[float]) -> float:
    centre = statistics.median(values)
    return MAD_SCALE * statistics.median([abs(x - centre) for x in values])


def assert_stdev(got: float, values: list[float]) -> None:
    expected = statistics.stdev(values)
    if expected == 0:
        # all values equal: only the rounding of the mean may leave a trace, far below an ulp
        assert got <= math.ulp(max(abs(x) for x in values))
    else:
        assert got == pytest.approx(expected, rel=1e-9)


def naive_stdev(values: list[float]) -> float:
    """The textbook one-pass formula, for showing why it is not used."""
    n = len(values)
    total, squares = sum(values), sum(x * x for x in values)
    return math.sqrt(max(squares - total * total / n, 0.0) / (n - 1))


def test_hand_worked_mean_stdev_median_mad() -> None:
    values = [10.0, 12.0, 14.0, 16.0, 18.0]
    # mean 14; squared deviations 16 + 4 + 0 + 4 + 16 = 40; 40 / (5 - 1) = 10
    assert mean_stdev(values) == (14.0, math.sqrt(10.0))
    # median 14; |deviations| 4 2 0 2 4 -> median 2; x 1.4826
    assert median_mad(values) == (14.0, 2 * 1.4826)
    assert median([3.0, 1.0, 4.0, 2.0]) == 2.5
    assert mean_stdev([7.0]) == (7.0, 0.0)


def test_huge_offsets_keep_their_noise_where_the_naive_formula_fails() -> None:
    values = [1e9 + x for x in (0.001, 0.002, 0.003, 0.004, 0.005)]
    expected = statistics.stdev(values)  # about 0.00158
    assert mean_stdev(values)[1] == pytest.approx(expected, rel=1e-9)
    # the sums of squares near 1e18 round in steps of 128: the noise is lost (0 or garbage)
    assert naive_stdev(values) != pytest.approx(expected, rel=0.5)


def test_tiny_and_enormous_magnitudes_are_rescaled() -> None:
    tiny = [1e-300, 2e-300, 3e-300]
    assert mean_stdev(tiny)[1] == pytest.approx(statistics.stdev(tiny), rel=1e-9)
    huge = [1e200, 3e200, 2e200]
    mean, stdev = mean_stdev(huge)
    assert mean == pytest.approx(2e200, rel=1e-12)
    assert stdev == pytest.approx(1e200, rel=1e-12)


def test_empty_input_is_refused() -> None:
    with pytest.raises(ValueError):
        mean_stdev([])
    with pytest.raises(ValueError):
        median([])
    with pytest.raises(ValueError):
        RollingStats().mean_stdev()


@PROPERTY
@given(series)
def test_mean_and_stdev_match_statistics(values: list[float]) -> None:
    mean, stdev = mean_stdev(values)
    assert mean == pytest.approx(statistics.mean(values), rel=1e-12, abs=1e-300)
    assert_stdev(stdev, values)


@PROPERTY
@given(series)
def test_median_and_mad_match_statistics(values: list[float]) -> None:
    centre, mad = median_mad(values)
    assert centre == statistics.median(values)
    assert mad == oracle_mad(values)


@st.composite
def operations(draw: st.DrawFn) -> list[tuple[str, float]]:
    """Adds and removes of values drawn from a pool (so removals find their value)."""
    pool = draw(st.one_of(st.lists(finite, min_size=1, max_size=30), offset_series()))
    ops: list[tuple[str, float]] = []
    held: Counter[float] = Counter()
    for _ in range(draw(st.integers(min_value=1, max_value=120))):
        remove: bool = draw(st.booleans()) if held else False
        if remove:
            value = draw(st.sampled_from(sorted(held.elements())))
            held[value] -= 1
            if not held[value]:
                del held[value]
            ops.append(("remove", value))
        else:
            value = draw(st.sampled_from(pool))
            held[value] += 1
            ops.append(("add", value))
    return ops


@PROPERTY
@given(operations())
def test_rolling_stats_agree_with_statistics_after_every_operation(
    ops: list[tuple[str, float]],
) -> None:
    rolling = RollingStats()
    held: list[float] = []
    for op, value in ops:
        if op == "add":
            rolling.add(value)
            held.append(value)
        else:
            rolling.remove(value)
            held.remove(value)
        assert len(rolling) == len(held)
        if not held:
            continue
        assert rolling.median() == statistics.median(held)
        centre, mad = rolling.median_mad()
        assert (centre, mad) == (statistics.median(held), oracle_mad(held))
        mean, stdev = rolling.mean_stdev()
        expected = statistics.mean(held)
        if len(held) == 1:
            assert (mean, stdev) == (held[0], 0.0)
            continue
        # the running mean is as good as the band needs: within an ulp or two of the exact
        # mean, plus a negligible share of the spread (after ±1e12 cancel each other out)
        assert abs(mean - expected) <= 2 * math.ulp(expected) + 1e-9 * statistics.stdev(held)
        assert_stdev(stdev, held)


def test_rolling_stats_survive_a_level_shift() -> None:
    # a long run near 0 then a jump to 1e9 + tiny noise: the running sums' rounding error
    # is far larger than the new variance, so an exact recompute must kick in
    rolling = RollingStats()
    old = [float(i % 7) for i in range(500)]
    new = [1e9 + 1e-4 * (i % 5) for i in range(500)]
    for value in old:
        rolling.add(value)
    for value in new:
        rolling.add(value)
    for value in old:
        rolling.remove(value)
    assert rolling.mean_stdev()[1] == pytest.approx(statistics.stdev(new), rel=1e-9)


def test_rolling_stats_refuse_what_they_cannot_hold() -> None:
    rolling = RollingStats()
    with pytest.raises(ValueError):
        rolling.add(math.nan)
    with pytest.raises(ValueError):
        rolling.add(math.inf)
    rolling.add(1.0)
    with pytest.raises(KeyError):
        rolling.remove(2.0)
    rolling.remove(1.0)
    assert len(rolling) == 0
    rolling.add(5.0)
    assert rolling.mean_stdev() == (5.0, 0.0)
