"""Careful summary statistics for deviation bands: exact-enough, robust and incremental.

Two flavours with the same answers:

- pure functions (`mean_stdev`, `median`, `median_mad`) over a sequence: O(n) for the mean and
  standard deviation, O(n log n) for the median and MAD (two sorts);
- `RollingStats`, a multiset that gains and loses values as a window slides: adding or removing
  costs an O(log n) search plus an O(n) memmove in a sorted `array` (fast C, about a microsecond
  per thousand values); then the mean and standard deviation are O(1), the median O(1) and the
  MAD O(log n).

The standard deviation is the *sample* standard deviation (n - 1 in the denominator, like
`statistics.stdev`): the window is a sample of the process whose normal range we estimate. One
value has a standard deviation of 0.

Numerical care: sums use `math.fsum`; the variance is a compensated two-pass formula (mean
first, then squared deviations from it, minus the square of the deviations' own sum / n), so
1e9 plus small noise keeps its noise where the textbook sum-of-squares formula returns garbage or
a negative variance. `RollingStats` keeps shifted running sums and a running bound on their
rounding error; when the bound is no longer negligible next to the variance (after a level shift,
for instance) it recomputes exactly from its sorted values.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, insort
from collections.abc import Sequence

MAD_SCALE = 1.4826
"""Scales the median absolute deviation to estimate sigma for normally distributed data."""

_EPS = 2.0**-52
# Squares of deviations beyond these magnitudes leave the float range: rescale first.
_LARGE = 2.0**500
_SMALL = 2.0**-500
# RollingStats recomputes exactly once its rounding-error bound exceeds this relative size.
_TOLERANCE = 1e-11


def mean_stdev(values: Sequence[float]) -> tuple[float, float]:
    """The mean and the sample standard deviation of some finite values.

    Args:
        values: At least one finite value.

    Returns:
        (mean, stdev); the standard deviation of a single value is 0.

    Raises:
        ValueError: For no values.
    """
    count = len(values)
    if count == 0:
        raise ValueError("mean_stdev needs at least one value")
    if min(values) == max(values):
        return values[0], 0.0  # a flat series, exactly (a rounded mean could be an ulp off)
    top = max(map(abs, values))
    if top > _LARGE or 0 < top < _SMALL:
        # A power-of-two scale is exact, so the answer is the same one scaled back.
        exponent = math.frexp(top)[1]
        mean, stdev = mean_stdev([math.ldexp(x, -exponent) for x in values])
        return math.ldexp(mean, exponent), math.ldexp(stdev, exponent)
    mean = math.fsum(values) / count
    deviations = [x - mean for x in values]
    squares = math.fsum(d * d for d in deviations)
    # The deviations from a rounded mean do not sum to exactly 0; this removes their share.
    correction = math.fsum(deviations) ** 2 / count
    return mean, math.sqrt(max(squares - correction, 0.0) / (count - 1))


def median(values: Sequence[float]) -> float:
    """The median (the mean of the two middle values for an even count).

    Raises:
        ValueError: For no values.
    """
    return _sorted_median(sorted(values))


def median_mad(values: Sequence[float]) -> tuple[float, float]:
    """The median and the *scaled* median absolute deviation (MAD x 1.4826) of some values.

    The scaled MAD estimates sigma for normal data, so bands of k scaled MADs are comparable
    with bands of k sigma, while a few wild values do not widen them.

    Raises:
        ValueError: For no values.
    """
    centre = median(values)
    return centre, MAD_SCALE * median([abs(x - centre) for x in values])


def _sorted_median(ordered: Sequence[float]) -> float:
    count = len(ordered)
    if count == 0:
        raise ValueError("median needs at least one value")
    middle = count // 2
    if count % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


class RollingStats:
    """Mean, sample stdev, median and scaled MAD of a multiset that gains and loses values.

    The one mutable helper of the evaluation core: a window that slides over thousands of
    samples cannot afford to recompute everything for each new sample. Only finite values are
    accepted.
    """

    def __init__(self) -> None:
        self._sorted: array[float] = array("d")
        # Running sums of deviations from `_shift` (a recent mean), and bounds on their
        # accumulated rounding error; `_exact` caches a recomputed answer until the next change.
        self._shift = 0.0
        self._sum = 0.0
        self._squares = 0.0
        self._sum_error = 0.0
        self._squares_error = 0.0
        self._exact: tuple[float, float] | None = None

    def __len__(self) -> int:
        return len(self._sorted)

    def add(self, value: float) -> None:
        """Add one finite value (O(log n) search, O(n) memmove).

        Raises:
            ValueError: For NaN or an infinity.
        """
        if not math.isfinite(value):
            raise ValueError(f"RollingStats takes finite values only, not {value}")
        insort(self._sorted, value)
        self._account(value - self._shift, +1.0)

    def remove(self, value: float) -> None:
        """Remove one occurrence of a value added before.

        Raises:
            KeyError: When the value is not in the multiset.
        """
        index = bisect_left(self._sorted, value)
        if index == len(self._sorted) or self._sorted[index] != value:
            raise KeyError(value)
        del self._sorted[index]
        self._account(value - self._shift, -1.0)

    def clear(self) -> None:
        """Forget every value."""
        del self._sorted[:]
        self._shift = self._sum = self._squares = 0.0
        self._sum_error = self._squares_error = 0.0
        self._exact = None

    def _account(self, deviation: float, sign: float) -> None:
        square = deviation * deviation
        self._sum += sign * deviation
        self._squares += sign * square
        # Each update rounds once per running sum (and once for the square): grow the bounds.
        self._sum_error += _EPS * abs(self._sum)
        self._squares_error += _EPS * (abs(self._squares) + square)
        self._exact = None
        if not self._sorted:
            self.clear()

    def mean_stdev(self) -> tuple[float, float]:
        """The mean and sample standard deviation (O(1) unless an exact recompute is due).

        Raises:
            ValueError: When empty.
        """
        count = len(self._sorted)
        if count == 0:
            raise ValueError("no values")
        if self._exact is not None:
            return self._exact
        if self._sorted[0] == self._sorted[-1]:
            return self._sorted[0], 0.0  # a flat series, exactly
        centred = self._sum * self._sum / count
        spread = self._squares - centred
        error = (
            self._squares_error
            + 2 * abs(self._sum) * self._sum_error / count
            + _EPS * (abs(self._squares) + centred)
        )
        if not math.isfinite(spread) or error > _TOLERANCE * spread or spread < _SMALL:
            return self._recompute()  # rounding may matter, or the squares underflowed
        stdev = math.sqrt(spread / (count - 1))
        if self._sum_error > _TOLERANCE * count * stdev:
            return self._recompute()  # the running sum cancelled: the mean may be off
        return self._shift + self._sum / count, stdev

    def _recompute(self) -> tuple[float, float]:
        exact = mean_stdev(self._sorted)
        self._exact = exact
        self._shift = exact[0]
        deviations = [x - self._shift for x in self._sorted]
        try:
            self._sum = math.fsum(deviations)
            self._squares = math.fsum(d * d for d in deviations)
        except OverflowError:
            self._sum = self._squares = math.inf  # beyond 1e154: every query recomputes exactly
        self._sum_error = _EPS * math.sqrt(len(deviations) * self._squares)
        self._squares_error = 3 * _EPS * self._squares
        return exact

    def median(self) -> float:
        """The median, O(1).

        Raises:
            ValueError: When empty.
        """
        return _sorted_median(self._sorted)

    def median_mad(self) -> tuple[float, float]:
        """The median and scaled MAD, O(log n) from the sorted values.

        Raises:
            ValueError: When empty.
        """
        values = self._sorted
        centre = _sorted_median(values)
        count = len(values)
        split = bisect_left(values, centre)
        middle = count // 2
        mad = _kth_deviation(values, centre, split, middle)
        if count % 2 == 0:
            mad = (_kth_deviation(values, centre, split, middle - 1) + mad) / 2
        return centre, MAD_SCALE * mad


def _kth_deviation(ordered: Sequence[float], centre: float, split: int, k: int) -> float:
    """The k-th smallest (0-based) |x - centre| over sorted values, in O(log n).

    Values left of `split` are below the centre: their deviations `centre - x` grow leftwards.
    Values from `split` on are at or above it: `x - centre` grows rightwards. Two sorted runs;
    binary-search how many of the k + 1 smallest come from the left one.
    """
    left_count, right_count = split, len(ordered) - split

    def left(index: int) -> float:
        return centre - ordered[split - 1 - index]

    def right(index: int) -> float:
        return ordered[split + index] - centre

    low, high = max(0, k + 1 - right_count), min(k + 1, left_count)
    while low < high:
        taken = (low + high) // 2
        if left(taken) < right(k - taken):
            low = taken + 1
        else:
            high = taken
    candidates = []
    if low > 0:
        candidates.append(left(low - 1))
    if k + 1 - low > 0:
        candidates.append(right(k - low))
    return max(candidates)
