"""The points a chart holds (replaced by a load, grown live, trimmed) and those held in a pause.

Appending to a numpy array copies it; a live chart appends every second, so the buffer keeps
spare capacity (doubling when full) and hands out views of the filled part. Live samples for
a rollup resolution are folded into the current bucket (a running mean), so a 24-hour chart of
1-minute averages does not grow a raw tail.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from console.store.samples import Resolution
from console.ui.charts.data import ChartData, ChartPoint, FloatArray

_MIN_CAPACITY = 1024
#: Trimming moves the kept points, so only trim when at least this share would go.
_TRIM_SHARE = 0.125


class SeriesBuffer:
    """Times, values and band edges in growable arrays (see the module docstring)."""

    def __init__(self, resolution: Resolution = Resolution.RAW) -> None:
        """An empty buffer for data of ``resolution``."""
        self.resolution = resolution
        self._columns = np.full((4, _MIN_CAPACITY), math.nan)
        self._size = 0
        self._bucket_count = 0  # live samples folded into the newest bucket so far

    def __len__(self) -> int:
        return self._size

    @property
    def times(self) -> FloatArray:
        """The times of the points held (a view: do not keep it across changes)."""
        return self._columns[0, : self._size]

    @property
    def values(self) -> FloatArray:
        """The values of the points held (a view)."""
        return self._columns[1, : self._size]

    @property
    def lows(self) -> FloatArray:
        """The band's lower edges (a view; NaN where there is no band)."""
        return self._columns[2, : self._size]

    @property
    def highs(self) -> FloatArray:
        """The band's upper edges (a view; NaN where there is no band)."""
        return self._columns[3, : self._size]

    @property
    def last_time(self) -> float | None:
        """The newest point's time, or None when empty."""
        return float(self._columns[0, self._size - 1]) if self._size else None

    def replace(self, data: ChartData) -> None:
        """Hold exactly ``data`` (and take its resolution)."""
        size = len(data)
        capacity = max(_MIN_CAPACITY, size + size // 4)
        self._columns = np.full((4, capacity), math.nan)
        for row, column in enumerate((data.times, data.values, data.band_low, data.band_high)):
            self._columns[row, :size] = column
        self._size = size
        self._bucket_count = 1
        self.resolution = data.resolution

    def append(self, point: ChartPoint) -> bool:
        """Add a live point; False when it is older than the newest point (it is dropped)."""
        bucket_s = self.resolution.bucket_ms / 1000
        at = math.floor(point.time / bucket_s) * bucket_s if bucket_s else point.time
        last = self.last_time
        if last is not None and at < last:
            return False
        if last is not None and at == last:
            if not bucket_s:
                return False  # a repeated raw sample: the first one stands
            self._fold(point)
            return True
        if self._size == self._columns.shape[1]:
            self._grow()
        self._columns[:, self._size] = _row(at, point.value, point.band_low, point.band_high)
        self._size += 1
        self._bucket_count = 0 if math.isnan(point.value) else 1
        return True

    def _fold(self, point: ChartPoint) -> None:
        i = self._size - 1
        if not math.isnan(point.value):
            self._bucket_count += 1
            mean = self._columns[1, i]
            self._columns[1, i] = (
                point.value
                if math.isnan(mean)
                else mean + (point.value - mean) / self._bucket_count
            )
        self._columns[2:, i] = _row(0.0, 0.0, point.band_low, point.band_high)[2:]

    def _grow(self) -> None:
        wider = np.full((4, self._columns.shape[1] * 2), math.nan)
        wider[:, : self._size] = self._columns[:, : self._size]
        self._columns = wider

    def trim_before(self, moment: float) -> int:
        """Drop points older than ``moment`` once enough of them have piled up; returns how many."""
        cut = int(np.searchsorted(self.times, moment, side="left"))
        if cut == 0 or cut < max(64, self._size * _TRIM_SHARE):
            return 0
        kept = self._size - cut
        self._columns[:, :kept] = self._columns[:, cut : self._size]
        self._columns[:, kept : self._size] = math.nan
        self._size = kept
        return cut

    def nearest(self, moment: float) -> int | None:
        """The index of the point nearest ``moment`` in time, or None when empty."""
        if not self._size:
            return None
        times = self.times
        i = int(np.searchsorted(times, moment))
        if i == 0:
            return 0
        if i == self._size:
            return self._size - 1
        return i if times[i] - moment < moment - times[i - 1] else i - 1

    def snapshot(self) -> ChartData:
        """A copy of what is held, as chart data."""
        return ChartData.build(self.times, self.values, self.lows, self.highs, self.resolution)


def _row(at: float, value: float, low: float | None, high: float | None) -> list[float]:
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return [at, value, math.nan, math.nan]
    return [at, value, low, high]


class HeldPoints:
    """Live points kept while a chart is paused, up to a limit (then the oldest are dropped)."""

    def __init__(self, limit: int) -> None:
        """Keep at most ``limit`` points."""
        self._points: deque[ChartPoint] = deque(maxlen=limit)
        self.overflowed = False

    def __len__(self) -> int:
        return len(self._points)

    def hold(self, point: ChartPoint) -> None:
        """Keep ``point`` (dropping the oldest when full, and remembering that)."""
        if len(self._points) == self._points.maxlen:
            self.overflowed = True
        self._points.append(point)

    def release(self) -> tuple[list[ChartPoint], bool]:
        """The points kept, oldest first, and whether any were dropped; then empty."""
        points, overflowed = list(self._points), self.overflowed
        self._points.clear()
        self.overflowed = False
        return points, overflowed
