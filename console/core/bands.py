"""Deviation bands along a whole series: the band each point is judged against, for charts.

The evaluator judges each new value against a baseline of the samples before it
(`console.core.deviation`): a rolling window, or the same time in previous days or weeks, with
a warm-up before the first judgement. :func:`band_series` walks a stored series the same way
and gives each point that band, so a chart can shade it and mark the points outside.

The statistics are the deviation module's own (`deviation.baseline_from`, `make_band`); this
module only chooses, with numpy, which earlier samples each point's baseline summarises. That
choice is O(log n) per point; the statistics cost O(w) for a window of w samples. A 30-day
chart of 1-minute rollups has 43,200 points, and summarising every one of them would take
about a second, so beyond ``max_evaluations`` points the band is computed exactly at that many
points spread evenly over the series and each point between two of them takes the band of the
one before it (a chart is about 1,500 pixels wide: a band step every pixel or two is all it
can show). Up to ``max_evaluations`` points (a day of 1-minute rollups, 1 h of raw samples at
5 s, ...), every point gets exactly the evaluator's band. Measured here (2 busy cores): 30 days
of 1-minute points in about 20 to 35 ms with a rolling window, 35 to 60 ms with a daily season.

What a band over stored data cannot know: the evaluator saw the raw samples, so a band drawn
over rollups summarises their averages (narrower for mean/sigma than the raw band); and history
before the first point is unknown, so pass ``lookback_s(config)`` seconds of earlier points to
have the band warm at the start of the range. Non-finite values never enter a baseline (as in
`SampleWindow`), but every point, NaN or not, gets the band of the history before it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from console.core.deviation import Baseline, DeviationConfig, baseline_from, make_band

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: Exact band computations per series at most (one per one or two pixel columns of a wide chart).
DEFAULT_MAX_EVALUATIONS = 1_000


@dataclass(frozen=True, slots=True, eq=False)
class BandSeries:
    """A deviation band along a series, aligned with its points.

    Attributes:
        times: The points' times, epoch seconds, in the order given.
        low: The critical band's lower edge per point, NaN where there is no band yet.
        high: Its upper edge per point, NaN where there is none.
        warning_low: The warning band's lower edge (None without a ``warning_k``).
        warning_high: The warning band's upper edge (None without a ``warning_k``).
        evaluated: How many points had their band computed exactly (the rest hold the band of
            the nearest such point before them).
    """

    times: FloatArray
    low: FloatArray
    high: FloatArray
    warning_low: FloatArray | None
    warning_high: FloatArray | None
    evaluated: int

    def __len__(self) -> int:
        return int(self.times.size)

    def at(self, index: int) -> tuple[float, float] | None:
        """The band at one point as (low, high), or None while the baseline warms up."""
        low = float(self.low[index])
        return None if math.isnan(low) else (low, float(self.high[index]))

    def pairs(self) -> list[tuple[float, float] | None]:
        """Every point's band as (low, high), or None while the baseline warms up."""
        return [
            None if math.isnan(low) else (low, high)
            for low, high in zip(self.low.tolist(), self.high.tolist(), strict=True)
        ]


def lookback_s(config: DeviationConfig) -> float:
    """Seconds of history before a range that make the band at its start what it was live."""
    return config.retention


def evaluation_points(count: int, max_evaluations: int = DEFAULT_MAX_EVALUATIONS) -> IntArray:
    """Indices of the points whose band is computed exactly: all, or evenly spread ones.

    The first and the last point are always among them.
    """
    if max_evaluations < 2:
        raise ValueError("max_evaluations must be at least 2")
    if count <= max_evaluations:
        return np.arange(count, dtype=np.intp)
    return np.unique(np.linspace(0, count - 1, max_evaluations).round().astype(np.intp))


def band_series(
    times: Sequence[float] | FloatArray,
    values: Sequence[float] | FloatArray,
    config: DeviationConfig,
    *,
    max_evaluations: int = DEFAULT_MAX_EVALUATIONS,
) -> BandSeries:
    """The band the evaluator judges each point against, from the points before it.

    Args:
        times: Epoch seconds, oldest first (points with equal times keep their order).
        values: The values (NaN for a missing one), aligned with ``times``.
        config: The metric's deviation settings.
        max_evaluations: Beyond this many points, the band is computed at this many and held
            between them (see the module docstring).

    Returns:
        The band per point.

    Raises:
        ValueError: When the arrays differ in length or the times go backwards.
    """
    t = np.asarray(times, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if t.ndim != 1 or t.shape != v.shape:
        raise ValueError("times and values must be 1-D and of the same length")
    if t.size > 1 and bool(np.any(np.diff(t) < 0)):
        raise ValueError("times must not go backwards")
    evaluated = evaluation_points(t.size, max_evaluations)
    usable = np.isfinite(v) & np.isfinite(t)
    # History of point i: the usable points before it (what the evaluator's window holds).
    ones = usable.astype(np.intp)
    before: IntArray = np.cumsum(ones) - ones
    history_t, history_v = t[usable], v[usable]
    edges = _edges_at(history_t, history_v, t[evaluated], before[evaluated], config)
    # Each point takes the band of the latest evaluated point at or before it.
    holder = np.searchsorted(evaluated, np.arange(t.size), side="right") - 1
    low, high, warning_low, warning_high = (column[holder] for column in edges)
    warned = config.warning_k is not None
    return BandSeries(
        t,
        low,
        high,
        warning_low if warned else None,
        warning_high if warned else None,
        int(evaluated.size),
    )


def band_edges(
    times: FloatArray, values: FloatArray, config: DeviationConfig
) -> tuple[FloatArray, FloatArray]:
    """The critical band's (lows, highs) along a series, NaN while warming up.

    The shape a chart's band function has: bind ``config`` (``functools.partial``).
    """
    band = band_series(times, values, config)
    return band.low, band.high


def _edges_at(
    history_t: FloatArray,
    history_v: FloatArray,
    at: FloatArray,
    count: IntArray,
    config: DeviationConfig,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Band edges (low, high, warning low, warning high) at each time in ``at``.

    ``count[j]`` is how many history samples came before the j-th time (its window's end).
    """
    slices = _window_slices(history_t, at, count, config)
    columns = np.full((4, at.size), math.nan)
    oldest = float(history_t[0]) if history_t.size else None
    values = history_v.tolist()
    for j, now in enumerate(at.tolist()):
        chosen: list[float] = []
        for low, high in slices[j]:
            chosen += values[low:high]
        periods = sum(1 for low, high in slices[j] if high > low)
        first = oldest if count[j] > 0 else None
        baseline = baseline_from(chosen, first, now, config, periods)
        if isinstance(baseline, Baseline):
            columns[:, j] = _band_row(baseline, config)
    return columns[0], columns[1], columns[2], columns[3]


def _band_row(baseline: Baseline, config: DeviationConfig) -> tuple[float, float, float, float]:
    band = make_band(baseline, config.k, config.min_deviation)
    if config.warning_k is None:
        return band.low, band.high, math.nan, math.nan
    warning = make_band(baseline, config.warning_k, config.min_deviation)
    return band.low, band.high, warning.low, warning.high


def _window_slices(
    history_t: FloatArray, at: FloatArray, count: IntArray, config: DeviationConfig
) -> list[list[tuple[int, int]]]:
    """Per time, the [start, end) index ranges of the history its baseline pools."""
    period = config.seasonality.period
    if not period:
        start = np.minimum(np.searchsorted(history_t, at - config.window, side="left"), count)
        return [[(a, b)] for a, b in zip(start.tolist(), count.tolist(), strict=True)]
    seasons = []
    for n in range(1, config.seasons + 1):
        centre = at - n * period
        low = np.searchsorted(history_t, centre - config.tolerance, side="left")
        high = np.searchsorted(history_t, centre + config.tolerance, side="right")
        seasons.append((np.minimum(low, count).tolist(), np.minimum(high, count).tolist()))
    return [[(lows[j], highs[j]) for lows, highs in seasons] for j in range(at.size)]
