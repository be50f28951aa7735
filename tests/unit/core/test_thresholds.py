"""Static thresholds: directions, `for`, hysteresis, keep-firing, validation."""

from __future__ import annotations

import math

import pytest
from console.core.checks import CheckState
from console.core.errors import ValidationError
from console.core.thresholds import (
    Direction,
    Levels,
    LevelState,
    Range,
    StaticThresholds,
    step_level,
    step_thresholds,
)
from hypothesis import given, settings
from hypothesis import strategies as st

OK, WARNING, CRITICAL = CheckState.OK, CheckState.WARNING, CheckState.CRITICAL
PROPERTY = settings(deadline=None, max_examples=200, database=None)


def states(config: StaticThresholds, samples: list[tuple[float, float]]) -> list[CheckState]:
    levels = Levels()
    out = []
    for at, value in samples:
        levels = step_thresholds(levels, config, at, value)
        out.append(levels.state)
    return out


def every_10s(*values: float) -> list[tuple[float, float]]:
    return [(10.0 * i, v) for i, v in enumerate(values)]


def test_above_is_strict_and_picks_the_worst_level() -> None:
    config = StaticThresholds.above(warning=80, critical=90)
    got = states(config, every_10s(79, 80, 85, 90, 90.5, 85, 70))
    assert got == [OK, OK, WARNING, WARNING, CRITICAL, WARNING, OK]


def test_below_mirrors_above() -> None:
    config = StaticThresholds.below(warning=20, critical=10)
    assert states(config, every_10s(25, 20, 19.9, 10, 9, 30)) == [
        OK,
        OK,
        WARNING,
        WARNING,
        CRITICAL,
        OK,
    ]


def test_outside_a_range() -> None:
    config = StaticThresholds.outside(warning=(10, 90), critical=(0, 100))
    assert states(config, every_10s(50, 10, 9, 95, 100.5, -0.1, 90)) == [
        OK,
        OK,
        WARNING,
        WARNING,
        CRITICAL,
        CRITICAL,
        OK,
    ]


def test_a_single_level_is_enough() -> None:
    only_critical = StaticThresholds.above(critical=90)
    assert states(only_critical, every_10s(89, 95)) == [OK, CRITICAL]
    only_warning = StaticThresholds.above(warning=80)
    assert states(only_warning, every_10s(89, 95)) == [WARNING, WARNING]


def test_for_needs_the_breach_to_last_its_whole_duration() -> None:
    config = StaticThresholds.above(critical=90, for_seconds=60)
    # breach starts at t=0: still pending at 59 s, fires at exactly 60 s
    samples = [(0.0, 95.0), (30.0, 95.0), (59.0, 95.0), (60.0, 95.0)]
    assert states(config, samples) == [OK, OK, OK, CRITICAL]


def test_one_good_sample_restarts_the_for_clock() -> None:
    config = StaticThresholds.above(critical=90, for_seconds=60)
    samples = [(0.0, 95.0), (40.0, 80.0), (50.0, 95.0), (100.0, 95.0), (110.0, 95.0)]
    # the clock restarts at 50: 100 - 50 = 50 s is too short, 110 - 50 = 60 s fires
    assert states(config, samples) == [OK, OK, OK, OK, CRITICAL]


def test_for_applies_to_each_level_on_its_own_clock() -> None:
    config = StaticThresholds.above(warning=80, critical=90, for_seconds=30)
    samples = [(0.0, 85.0), (20.0, 95.0), (30.0, 95.0), (50.0, 95.0)]
    # warning breached since 0 fires at 30; critical breached since 20 fires at 50
    assert states(config, samples) == [OK, OK, WARNING, CRITICAL]


def test_hysteresis_above() -> None:
    config = StaticThresholds.above(critical=90, hysteresis=5)
    got = states(config, every_10s(91, 89, 85.5, 85, 88, 90.1))
    # fires above 90, holds while above 85, clears at 85, needs > 90 again to fire
    assert got == [CRITICAL, CRITICAL, CRITICAL, OK, OK, CRITICAL]


def test_hysteresis_below_steps_down_through_warning() -> None:
    config = StaticThresholds.below(warning=20, critical=10, hysteresis=2)
    got = states(config, every_10s(15, 9, 11, 12, 21, 22))
    # 11 < 10 + 2 holds critical; at 12 critical clears but warning (firing, 12 < 22) holds
    assert got == [WARNING, CRITICAL, CRITICAL, WARNING, WARNING, OK]


def test_hysteresis_outside_narrows_the_range_to_clear() -> None:
    config = StaticThresholds.outside(warning=(10, 90), critical=(0, 100), hysteresis=5)
    got = states(config, every_10s(50, 95, 101, 97, 95, 86, 85, -1))
    assert got == [OK, WARNING, CRITICAL, CRITICAL, WARNING, WARNING, OK, CRITICAL]


def test_keep_firing_for_counts_from_the_first_good_sample() -> None:
    config = StaticThresholds.above(critical=90, keep_firing_for=120)
    samples = [(0.0, 95.0), (10.0, 80.0), (129.0, 80.0), (130.0, 80.0)]
    assert states(config, samples) == [CRITICAL, CRITICAL, CRITICAL, OK]


def test_a_breach_while_kept_firing_starts_the_keep_period_again() -> None:
    config = StaticThresholds.above(critical=90, keep_firing_for=120)
    samples = [(0.0, 95.0), (10.0, 80.0), (100.0, 95.0), (110.0, 80.0), (229.0, 80.0)]
    samples.append((230.0, 80.0))
    assert states(config, samples) == [CRITICAL] * 5 + [OK]


def test_keep_firing_holds_critical_over_warning() -> None:
    config = StaticThresholds.above(warning=80, critical=90, keep_firing_for=60)
    samples = [(0.0, 95.0), (10.0, 85.0), (69.0, 85.0), (70.0, 85.0), (80.0, 50.0)]
    assert states(config, samples) == [CRITICAL, CRITICAL, CRITICAL, WARNING, WARNING]


def test_nan_says_nothing_and_infinity_is_a_value() -> None:
    config = StaticThresholds.above(critical=90, for_seconds=20)
    levels = step_thresholds(Levels(), config, 0.0, 95.0)
    assert step_thresholds(levels, config, 10.0, math.nan) is levels
    assert step_thresholds(levels, config, 20.0, math.inf).state is CRITICAL
    below = StaticThresholds.below(critical=1)
    assert step_thresholds(Levels(), below, 0.0, -math.inf).state is CRITICAL


def test_the_level_machine_alone() -> None:
    quiet = LevelState()
    assert step_level(quiet, 5.0, True) == LevelState(True, 5.0, None)
    pending = step_level(quiet, 5.0, True, for_seconds=10)
    assert pending == LevelState(False, 5.0, None)
    kept = step_level(LevelState(True, 5.0, None), 20.0, False, keep_firing_for=30)
    assert kept == LevelState(True, None, 20.0)
    assert step_level(kept, 50.0, False, keep_firing_for=30) == quiet


def test_levels_accessor() -> None:
    config = StaticThresholds.outside(warning=(1, 2), critical=(0, 3))
    assert config.direction is Direction.OUTSIDE
    assert config.level(CRITICAL) == Range(0, 3)
    assert config.level(WARNING) == Range(1, 2)
    assert config.level(OK) is None


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: StaticThresholds.above(), "critical"),
        (lambda: StaticThresholds.above(warning=95, critical=90), "warning"),
        (lambda: StaticThresholds.below(warning=5, critical=10), "warning"),
        (lambda: StaticThresholds.outside(warning=(0, 100), critical=(10, 90)), "warning"),
        (lambda: StaticThresholds(Direction.OUTSIDE, critical=90), "critical"),
        (lambda: StaticThresholds(Direction.ABOVE, critical=Range(0, 1)), "critical"),
        (lambda: StaticThresholds.above(critical=math.nan), "critical"),
        (lambda: StaticThresholds.above(critical=90, hysteresis=-1), "hysteresis"),
        (lambda: StaticThresholds.above(critical=90, for_seconds=math.nan), "for_seconds"),
        (lambda: StaticThresholds.above(critical=90, keep_firing_for=-5), "keep_firing_for"),
        (lambda: StaticThresholds.outside(critical=(0, 10), hysteresis=6), "hysteresis"),
        (lambda: Range(5, 1), "range"),
    ],
)
def test_impossible_thresholds_are_refused(make: object, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make()  # type: ignore[operator]
    assert any(problem.path == field for problem in caught.value.problems)


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@st.composite
def timed_values(draw: st.DrawFn) -> list[tuple[float, float]]:
    gaps = draw(st.lists(st.floats(min_value=0.5, max_value=50), min_size=1, max_size=40))
    values = draw(st.lists(finite, min_size=len(gaps), max_size=len(gaps)))
    times = [sum(gaps[: i + 1]) for i in range(len(gaps))]
    return list(zip(times, values, strict=True))


@PROPERTY
@given(samples=timed_values(), level=finite)
def test_without_debounce_the_state_is_the_plain_comparison(
    samples: list[tuple[float, float]], level: float
) -> None:
    config = StaticThresholds.above(critical=level)
    expected = [CRITICAL if value > level else OK for _, value in samples]
    assert states(config, samples) == expected


@PROPERTY
@given(samples=timed_values(), level=finite, hold=st.floats(min_value=0, max_value=200))
def test_for_fires_exactly_when_a_breach_has_lasted_long_enough(
    samples: list[tuple[float, float]], level: float, hold: float
) -> None:
    # Oracle, looking back from each sample: fires iff some earlier sample at least `hold`
    # seconds before it starts an unbroken run of breaches that reaches it.
    config = StaticThresholds.above(critical=level, for_seconds=hold)
    expected = []
    for j, (now, _) in enumerate(samples):
        fires = any(
            now - samples[i][0] >= hold and all(v > level for _, v in samples[i : j + 1])
            for i in range(j + 1)
        )
        expected.append(CRITICAL if fires else OK)
    assert states(config, samples) == expected


@PROPERTY
@given(samples=timed_values(), level=finite, margin=st.floats(min_value=0.01, max_value=1e3))
def test_hysteresis_never_adds_state_changes(
    samples: list[tuple[float, float]], level: float, margin: float
) -> None:
    def changes(got: list[CheckState]) -> int:
        return sum(1 for a, b in zip(got, got[1:], strict=False) if a is not b)

    plain = states(StaticThresholds.above(critical=level), samples)
    damped = states(StaticThresholds.above(critical=level, hysteresis=margin), samples)
    assert changes(damped) <= changes(plain)
    # it can only hold a breach longer, never raise one earlier
    assert all(d is CRITICAL for p, d in zip(plain, damped, strict=True) if p is CRITICAL)
