"""What a metric chart shows: range presets, queries, series data, live points and readouts.

Plain records and numpy helpers, no Qt, so the data side of a chart can be built on a worker
thread and tested alone. Times are float seconds since the epoch (UTC), the unit pyqtgraph's
date axis expects; a NaN value is a break in the line (missing data or a recorded gap) and a
NaN band edge is a point without a band (the deviation baseline is still warming up).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

import numpy as np
import numpy.typing as npt

from console.core.deviation import Side
from console.core.thresholds import Level, Range, StaticThresholds
from console.core.units import Unit, format_value
from console.store.samples import Resolution

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class _Preset:
    seconds: float
    resolution: Resolution
    label: str
    description: str


class RangePreset(Enum):
    """The time ranges a chart offers, each with the data resolution it reads.

    Raw samples up to 6 h (2,160 points at a 10 s interval); 1-minute rollups beyond
    (1,440 points for a day, 43,200 for 30 days, which is the 1-minute retention). Hourly
    rollups would give 720 points for 30 days, too coarse to see a short spike.
    """

    MIN_15 = "15m"
    HOUR_1 = "1h"
    HOURS_6 = "6h"
    HOURS_24 = "24h"
    DAYS_7 = "7d"
    DAYS_30 = "30d"

    @property
    def seconds(self) -> float:
        """How much time the range shows."""
        return _PRESETS[self].seconds

    @property
    def resolution(self) -> Resolution:
        """The data read for this range: raw samples or a rollup."""
        return _PRESETS[self].resolution

    @property
    def label(self) -> str:
        """The short text on the range button ("15 min")."""
        return _PRESETS[self].label

    @property
    def description(self) -> str:
        """What the range shows, for tooltips and accessible names."""
        return _PRESETS[self].description


_PRESETS = {
    RangePreset.MIN_15: _Preset(900.0, Resolution.RAW, "15 min", "the last 15 minutes"),
    RangePreset.HOUR_1: _Preset(3600.0, Resolution.RAW, "1 h", "the last hour"),
    RangePreset.HOURS_6: _Preset(21600.0, Resolution.RAW, "6 h", "the last 6 hours"),
    RangePreset.HOURS_24: _Preset(86400.0, Resolution.MINUTE, "24 h", "the last 24 hours"),
    RangePreset.DAYS_7: _Preset(604800.0, Resolution.MINUTE, "7 d", "the last 7 days"),
    RangePreset.DAYS_30: _Preset(2592000.0, Resolution.MINUTE, "30 d", "the last 30 days"),
}


@dataclass(frozen=True, slots=True)
class ChartQuery:
    """What a chart asks its source for: one range at one resolution.

    Attributes:
        preset: The range preset that asked.
        start: The range's start, epoch seconds (inclusive).
        end: The range's end, epoch seconds (exclusive).
        resolution: Raw samples or a rollup.
    """

    preset: RangePreset
    start: float
    end: float
    resolution: Resolution

    @classmethod
    def ending(cls, preset: RangePreset, end: float) -> ChartQuery:
        """The query for a preset whose range ends at ``end``."""
        return cls(preset, end - preset.seconds, end, preset.resolution)

    @property
    def start_ms(self) -> int:
        """The start in integer milliseconds (the store's unit)."""
        return math.floor(self.start * 1000)

    @property
    def end_ms(self) -> int:
        """The end in integer milliseconds (the store's unit)."""
        return math.ceil(self.end * 1000)


def _column(items: Sequence[float | None] | FloatArray) -> FloatArray:
    if isinstance(items, np.ndarray):
        return np.array(items, dtype=np.float64)
    return np.array([math.nan if x is None else x for x in items], dtype=np.float64)


@dataclass(frozen=True, slots=True, eq=False)
class ChartData:
    """A series over a range, with its deviation band, as a chart draws it.

    Build it with :meth:`build` (which copies, converts None to NaN and checks the shape);
    the arrays are then read-only. Both band edges are NaN wherever either is missing, so a
    warm-up gap is a gap in the band, never half a band.

    Attributes:
        times: Ascending epoch seconds (bucket starts for rollups).
        values: The values (bucket averages for rollups); NaN breaks the line.
        band_low: The band's lower edge per point; NaN where there is no band.
        band_high: The band's upper edge per point; NaN where there is no band.
        resolution: Raw samples or the rollup the values come from.
    """

    times: FloatArray
    values: FloatArray
    band_low: FloatArray
    band_high: FloatArray
    resolution: Resolution = Resolution.RAW

    def __post_init__(self) -> None:
        shapes = {a.shape for a in (self.times, self.values, self.band_low, self.band_high)}
        if len(shapes) != 1 or self.times.ndim != 1:
            raise ValueError("times, values and band edges must be 1-D and of one length")
        if self.times.size > 1 and bool(np.any(np.diff(self.times) < 0)):
            raise ValueError("times must be in ascending order")

    @classmethod
    def build(
        cls,
        times: Sequence[float] | FloatArray,
        values: Sequence[float | None] | FloatArray,
        band_low: Sequence[float | None] | FloatArray | None = None,
        band_high: Sequence[float | None] | FloatArray | None = None,
        resolution: Resolution = Resolution.RAW,
    ) -> ChartData:
        """Chart data from sequences (None is missing); no band when the edges are None.

        Raises:
            ValueError: When lengths differ, times are not ascending, or one edge is missing.
        """
        t, v = _column(times), _column(values)
        if (band_low is None) != (band_high is None):
            raise ValueError("a band needs both edges")
        if band_low is None or band_high is None:
            low = np.full(t.shape, math.nan)
            high = low.copy()
        else:
            low, high = _column(band_low), _column(band_high)
            if low.shape == high.shape:
                missing = np.isnan(low) | np.isnan(high)
                low[missing] = math.nan
                high[missing] = math.nan
        for array in (t, v, low, high):
            array.setflags(write=False)
        return cls(t, v, low, high, resolution)

    @classmethod
    def empty(cls, resolution: Resolution = Resolution.RAW) -> ChartData:
        """No points."""
        return cls.build((), (), resolution=resolution)

    def __len__(self) -> int:
        return int(self.times.size)

    @property
    def has_band(self) -> bool:
        """Whether any point has a band."""
        return bool(np.any(~np.isnan(self.band_low)))


@dataclass(frozen=True, slots=True)
class ChartPoint:
    """One live sample, with the band it was judged against (None while warming up)."""

    time: float
    value: float
    band_low: float | None = None
    band_high: float | None = None


@dataclass(frozen=True, slots=True)
class IncidentSpan:
    """An incident drawn as a shaded span: from ``start`` to ``end`` (None: still open)."""

    start: float
    end: float | None
    label: str

    @classmethod
    def of(cls, span: IncidentSpan | tuple[float, float | None, str]) -> IncidentSpan:
        """A span from itself or from a ``(start, end, label)`` tuple."""
        return span if isinstance(span, IncidentSpan) else cls(*span)


class PointState(Enum):
    """What one point means, worst first; the word is always shown, never colour alone."""

    CRITICAL = "critical"
    WARNING = "warning"
    ABOVE_BAND = "above band"
    BELOW_BAND = "below band"
    OK = "ok"
    NO_DATA = "no data"

    @property
    def label(self) -> str:
        """The word shown in the readout."""
        return self.value.upper()


def outside_band(
    values: FloatArray, low: FloatArray, high: FloatArray, side: Side = Side.BOTH
) -> tuple[BoolArray, BoolArray]:
    """Masks of the points above and below their band (NaN values or bands are neither)."""
    above = values > high if side is not Side.BELOW else np.zeros(values.shape, dtype=bool)
    below = values < low if side is not Side.ABOVE else np.zeros(values.shape, dtype=bool)
    return above, below


def _breaches(thresholds: StaticThresholds, level: Level | None, value: float) -> bool:
    return level is not None and thresholds.breaches(level, value)


def point_state(
    value: float,
    low: float | None,
    high: float | None,
    thresholds: StaticThresholds | None = None,
    side: Side = Side.BOTH,
) -> PointState:
    """The state of one point: a static level first, then the band, else OK."""
    if math.isnan(value):
        return PointState.NO_DATA
    if thresholds is not None:
        if _breaches(thresholds, thresholds.critical, value):
            return PointState.CRITICAL
        if _breaches(thresholds, thresholds.warning, value):
            return PointState.WARNING
    if high is not None and value > high and side is not Side.BELOW:
        return PointState.ABOVE_BAND
    if low is not None and value < low and side is not Side.ABOVE:
        return PointState.BELOW_BAND
    return PointState.OK


def level_values(level: Level | None) -> tuple[float, ...]:
    """The y positions a threshold level is drawn at (two for an OUTSIDE range)."""
    if level is None:
        return ()
    if isinstance(level, Range):
        return (level.low, level.high)
    return (level,)


def local_time_text(moment: float) -> str:
    """A moment as local date and time to the second, the way the time axis reads."""
    return datetime.fromtimestamp(moment).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True, slots=True)
class Readout:
    """What the crosshair shows for the point nearest the mouse.

    ``banded`` says whether the series has a band at all: a point without a band in a banded
    series is warming up, in an unbanded one there is simply no band.
    """

    time: float
    value: float
    band_low: float | None
    band_high: float | None
    state: PointState
    banded: bool = True

    def text(self, unit: Unit) -> str:
        """One line: local time, value, band (or warm-up) and the state word."""
        value = "no value" if math.isnan(self.value) else format_value(self.value, unit)
        if not self.banded:
            band = "no band"
        elif self.band_low is None or self.band_high is None:
            band = "band: warming up"
        else:
            low, high = format_value(self.band_low, unit), format_value(self.band_high, unit)
            band = f"band {low} to {high}"
        return f"{local_time_text(self.time)}  ·  {value}  ·  {band}  ·  {self.state.label}"
