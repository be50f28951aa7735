"""Where a chart looks: its time range, stepped, and its y range, with hysteresis.

Axis relayout is the largest cost of a live chart (DESIGN.md: 24 charts with scrolling time
axes about 87 ms, with fixed ranges about 26 ms), so both ranges move as rarely as they can:
the time range in whole steps of 5 % of the span, the y range only when the visible data
leaves it or shrinks to under half of it. Pure functions of numbers, no Qt.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from console.ui.charts.data import FloatArray

#: The share of the span the time axis jumps by when the data reaches its right edge.
STEP_SHARE = 0.05
#: Points older than the view by more than this share of the span are dropped.
KEEP_SHARE = 0.25
#: Room above and below the data, as a share of its height.
Y_MARGIN = 0.08


def next_view_end(view_end: float | None, newest: float, span: float) -> float | None:
    """The time range's new right edge, or None when it stays where it is.

    The first edge is one step past ``newest``; later, once ``newest`` passes the edge, the
    edge moves by whole steps from where it was, so the ticks keep their places.
    """
    step = span * STEP_SHARE
    if view_end is None:
        return newest + step
    if newest <= view_end:
        return None
    return view_end + step * math.ceil((newest - view_end) / step)


def visible(times: FloatArray, start: float, end: float) -> slice:
    """The points within [start, end], with one more on each side (the line leaves the edge)."""
    first = max(0, int(np.searchsorted(times, start)) - 1)
    return slice(first, int(np.searchsorted(times, end, side="right")) + 1)


def next_y_range(
    shown: Sequence[FloatArray], levels: Sequence[float], current: tuple[float, float] | None
) -> tuple[float, float] | None:
    """The y range for the values and band edges ``shown``, or None to keep ``current``.

    Levels (warning, critical) near the data are included; a far one would flatten the data
    into a line. None also when there is nothing finite to show.
    """
    joined = np.concatenate(shown) if shown else np.empty(0)
    data = joined[np.isfinite(joined)]
    if not data.size:
        return None
    low, high = float(data.min()), float(data.max())
    height = high - low or max(abs(high) * 0.1, 1.0)
    reach = max(height, 0.5 * max(abs(low), abs(high)))
    near = [y for y in levels if low - reach <= y <= high + reach]
    low, high = min([low, *near]), max([high, *near])
    if current is not None and _keeps(current, low, high):
        return None
    pad = (high - low or height) * Y_MARGIN
    return low - pad, high + pad


def _keeps(current: tuple[float, float], low: float, high: float) -> bool:
    """Whether ``current`` holds the data and the data fills at least half of it."""
    bottom, top = current
    return bottom <= low and high <= top and (high - low) * 2 >= top - bottom
