"""Deviation bands: how far a value strays from its own recent or seasonal normal.

A *baseline* summarises history: a centre and a spread, by one of two methods:

- MEAN_SIGMA: mean and sample standard deviation (for roughly normal series);
- MEDIAN_MAD: median and MAD x 1.4826 (robust: a few wild values do not move it; the scale
  makes the spread comparable with sigma for normal data).

The history is either a rolling window (the last `window` seconds) or, with a seasonality, the
samples at the same time of day (or week) in the previous `seasons` periods, within +/-
`tolerance` seconds of now - 1 period, now - 2 periods, and so on, pooled: a value normal at
night can be abnormal at noon. Seasons follow UTC days (a local daily pattern moves by an hour
across a daylight-saving change; the tolerance absorbs part of that).

The *band* is centre +/- max(k x spread, min_deviation): `min_deviation` (in the metric's unit)
keeps a flat series (spread 0) from alarming on tiny noise. A value beyond the band on the
configured `side` breaches it. No judgement is made while warming up: fewer than `min_samples`
samples in the baseline, or history spanning less than `min_span` seconds. NaN and infinite
samples are ignored everywhere.

Cost per judgement, with n samples in the baseline: rolling windows are kept incrementally by
`SampleWindow` (O(n) memmove plus O(log n) per new sample; mean/sigma in O(1), median/MAD in
O(log n)); seasonal baselines pool their slots and cost O(m log m) for m pooled samples.
Measured on this machine, a whole `MetricEvaluator.observe` with a 1 h mean/sigma band costs
about 40 us (55 us for median/MAD), the same for 360 or 3,600 samples in the window.
`compute_baseline` is the plain version over a list of samples, with the same results.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from console.core.checks import CheckState
from console.core.errors import Problem, ValidationError
from console.core.stats import RollingStats, mean_stdev, median_mad
from console.core.thresholds import Levels, LevelState, step_level


class BandMethod(Enum):
    """How a baseline's centre and spread are estimated."""

    MEAN_SIGMA = "mean_sigma"
    MEDIAN_MAD = "median_mad"

    @property
    def centre_name(self) -> str:
        """The centre's name for sentences: mean or median."""
        return "mean" if self is BandMethod.MEAN_SIGMA else "median"

    @property
    def spread_name(self) -> str:
        """The unit distances are counted in: sigma, or MAD (the scaled MAD)."""
        return "sigma" if self is BandMethod.MEAN_SIGMA else "MAD"


class Seasonality(Enum):
    """Whether the baseline is the recent past or the same time in previous periods."""

    NONE = "none"
    DAILY = "daily"
    WEEKLY = "weekly"

    @property
    def period(self) -> float:
        """The period in seconds (0 for NONE)."""
        return _PERIODS[self]


_PERIODS = {Seasonality.NONE: 0.0, Seasonality.DAILY: 86400.0, Seasonality.WEEKLY: 604800.0}


class Side(Enum):
    """Which deviations count: above the band, below it, or both (the band stays symmetric)."""

    ABOVE = "above"
    BELOW = "below"
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class DeviationConfig:
    """How one metric's deviation band is built and judged.

    Attributes:
        method: MEAN_SIGMA or MEDIAN_MAD.
        k: The critical band's half-width in spreads (sigma or scaled MAD).
        warning_k: A narrower warning band's half-width (below `k`), or None for none.
        window: Seconds of history in a rolling baseline (unused with a seasonality).
        side: Which deviations count.
        min_samples: Warm-up: samples the baseline needs before any judgement (at least 2).
        min_span: Warm-up: seconds of history needed before any judgement.
        min_deviation: The band's smallest half-width, in the metric's unit.
        seasonality: NONE for a rolling window; DAILY or WEEKLY for a seasonal baseline.
        seasons: How many previous periods a seasonal baseline pools.
        tolerance: Seconds either side of the same time in each previous period.
        for_seconds: How long the band must be breached without a break before it fires.
        keep_firing_for: How long a firing band keeps firing after its breach ended.
    """

    method: BandMethod = BandMethod.MEAN_SIGMA
    k: float = 3.0
    warning_k: float | None = None
    window: float = 3600.0
    side: Side = Side.BOTH
    min_samples: int = 20
    min_span: float = 600.0
    min_deviation: float = 0.0
    seasonality: Seasonality = Seasonality.NONE
    seasons: int = 4
    tolerance: float = 900.0
    for_seconds: float = 0.0
    keep_firing_for: float = 0.0

    def __post_init__(self) -> None:
        problems = _config_problems(self)
        if problems:
            raise ValidationError(problems)

    @property
    def retention(self) -> float:
        """Seconds of history the baseline can look back to."""
        if self.seasonality is Seasonality.NONE:
            return self.window
        return self.seasons * self.seasonality.period + self.tolerance


def _config_problems(config: DeviationConfig) -> list[Problem]:
    problems = [
        Problem(name, "must be a number above 0")
        for name in ("k", "window", "tolerance")
        if not getattr(config, name) > 0  # also refuses NaN
    ]
    problems += [
        Problem(name, "must be a number of at least 0")
        for name in ("min_span", "min_deviation", "for_seconds", "keep_firing_for")
        if not getattr(config, name) >= 0
    ]
    if config.warning_k is not None and not 0 < config.warning_k < config.k:
        problems.append(Problem("warning_k", "must be above 0 and below k"))
    if config.min_samples < 2:
        problems.append(Problem("min_samples", "must be at least 2"))
    if config.seasons < 1:
        problems.append(Problem("seasons", "must be at least 1"))
    period = config.seasonality.period
    if period and config.tolerance * 2 >= period:
        problems.append(Problem("tolerance", "must be less than half the season's period"))
    if not problems and config.min_span > config.retention:
        problems.append(Problem("min_span", "is longer than the history the baseline keeps"))
    return problems


@dataclass(frozen=True, slots=True)
class Baseline:
    """What normal looks like now.

    Attributes:
        centre: The mean or median.
        spread: The sample standard deviation or the scaled MAD (0 for a flat series).
        method: How they were estimated.
        count: How many samples they summarise.
        seasonality: NONE for a rolling window, else the season pooled.
        window: The rolling window in seconds (0 for a seasonal baseline).
        periods: For a seasonal baseline, how many previous periods had samples.
    """

    centre: float
    spread: float
    method: BandMethod
    count: int
    seasonality: Seasonality = Seasonality.NONE
    window: float = 0.0
    periods: int = 0


@dataclass(frozen=True, slots=True)
class WarmUp:
    """Not enough history to judge yet (a judgement's absence explained)."""

    count: int
    min_samples: int
    span: float
    min_span: float


@dataclass(frozen=True, slots=True)
class Band:
    """The normal range: centre +/- max(k x spread, min_deviation).

    Attributes:
        low: The band's lower edge.
        high: The band's upper edge.
        centre: The baseline's centre.
        spread: The baseline's spread (sigma or scaled MAD).
        method: How centre and spread were estimated.
        k: The half-width in spreads before `min_deviation` was applied.
    """

    low: float
    high: float
    centre: float
    spread: float
    method: BandMethod
    k: float


def make_band(baseline: Baseline, k: float, min_deviation: float = 0.0) -> Band:
    """The band of half-width max(k x spread, min_deviation) around a baseline's centre."""
    half = max(k * baseline.spread, min_deviation)
    centre = baseline.centre
    return Band(centre - half, centre + half, centre, baseline.spread, baseline.method, k)


def distance(value: float, baseline: Baseline) -> float:
    """Signed distance from the centre in spreads; +/-inf off a flat series, 0 on it."""
    offset = value - baseline.centre
    if baseline.spread > 0:
        return offset / baseline.spread
    return 0.0 if offset == 0 else math.copysign(math.inf, offset)


def breaches(band: Band, value: float, side: Side) -> bool:
    """Whether a value lies beyond the band on the side that counts (NaN never does)."""
    above = value > band.high
    below = value < band.low
    if side is Side.ABOVE:
        return above
    if side is Side.BELOW:
        return below
    return above or below


@dataclass(frozen=True, slots=True)
class Judgement:
    """One value against its baseline, before any `for` or keep-firing debounce.

    Attributes:
        state: CRITICAL beyond the band, WARNING beyond the warning band only, else OK.
        distance: Signed distance from the centre in spreads (see `distance`).
        band: The critical band.
        warning_band: The warning band, if configured.
        baseline: The baseline judged against.
    """

    state: CheckState
    distance: float
    band: Band
    warning_band: Band | None
    baseline: Baseline


def judge(value: float, baseline: Baseline, config: DeviationConfig) -> Judgement:
    """Judge one value against a baseline.

    Args:
        value: The value (finite; an infinity is judged as infinitely far).
        baseline: The baseline from history before this value.
        config: The deviation settings.

    Returns:
        The judgement.
    """
    band = make_band(baseline, config.k, config.min_deviation)
    warning_band = None
    if config.warning_k is not None:
        warning_band = make_band(baseline, config.warning_k, config.min_deviation)
    if breaches(band, value, config.side):
        state = CheckState.CRITICAL
    elif warning_band is not None and breaches(warning_band, value, config.side):
        state = CheckState.WARNING
    else:
        state = CheckState.OK
    return Judgement(state, distance(value, baseline), band, warning_band, baseline)


def step_deviation(
    levels: Levels, config: DeviationConfig, at: float, judgement: Judgement | None
) -> Levels:
    """Advance the band's warning and critical levels by one judged sample.

    Args:
        levels: The current level states.
        config: The deviation settings (`for_seconds`, `keep_firing_for`).
        at: The sample's time, epoch seconds.
        judgement: The sample's judgement; None while warming up, which quiets both levels.

    Returns:
        The new level states; their `state` is the band's verdict.
    """
    if judgement is None:
        return Levels()
    warning = LevelState()
    if judgement.warning_band is not None:
        warning = _step(levels.warning, config, at, judgement.state is not CheckState.OK)
    critical = _step(levels.critical, config, at, judgement.state is CheckState.CRITICAL)
    return Levels(warning, critical)


def _step(state: LevelState, config: DeviationConfig, at: float, breached: bool) -> LevelState:
    return step_level(
        state,
        at,
        breached,
        for_seconds=config.for_seconds,
        keep_firing_for=config.keep_firing_for,
    )


def compute_baseline(
    samples: Sequence[tuple[float, float]], now: float, config: DeviationConfig
) -> Baseline | WarmUp:
    """The baseline at `now` from a plain list of (time, value) samples.

    O(n log n) for a rolling window; O(n x seasons + m log m) for a seasonal baseline pooling
    m samples.

    Samples after `now` and non-finite values are ignored; the samples need not be sorted. For
    samples up to `now`, the result equals `SampleWindow.baseline` over the same history.

    Args:
        samples: (epoch seconds, value) pairs.
        now: The moment to judge, epoch seconds.
        config: The deviation settings.

    Returns:
        The baseline, or why there is none yet.
    """
    usable = [(at, value) for at, value in samples if at <= now and math.isfinite(value)]
    oldest = min((at for at, _ in usable), default=None)
    period = config.seasonality.period
    if not period:
        start = now - config.window
        return _summarise([v for at, v in usable if at >= start], oldest, now, config, 0)
    slots = [
        (now - n * period - config.tolerance, now - n * period + config.tolerance)
        for n in range(1, config.seasons + 1)
    ]
    pooled = [[v for at, v in usable if low <= at <= high] for low, high in slots]
    periods = sum(1 for slot in pooled if slot)
    flat = [v for slot in pooled for v in slot]
    return _summarise(flat, oldest, now, config, periods)


def baseline_from(
    values: Sequence[float],
    oldest: float | None,
    now: float,
    config: DeviationConfig,
    periods: int = 0,
) -> Baseline | WarmUp:
    """The baseline of history values already chosen for `now` (the window's, or a season's).

    The step `compute_baseline` and `SampleWindow.baseline` end with, for callers that pick the
    values themselves (``console.core.bands`` draws the band along a whole series).

    Args:
        values: The finite values the baseline summarises.
        oldest: The time of the oldest sample seen so far (the warm-up's history span).
        now: The moment judged, epoch seconds.
        config: The deviation settings.
        periods: For a seasonal baseline, how many previous periods had samples.

    Returns:
        The baseline, or why there is none yet.
    """
    return _summarise(values, oldest, now, config, periods)


def _warm_up(count: int, oldest: float | None, now: float, config: DeviationConfig) -> WarmUp:
    span = 0.0 if oldest is None else max(now - oldest, 0.0)
    return WarmUp(count, config.min_samples, span, config.min_span)


def _is_warm(warm_up: WarmUp) -> bool:
    return warm_up.count >= warm_up.min_samples and warm_up.span >= warm_up.min_span


def _summarise(
    values: Sequence[float], oldest: float | None, now: float, config: DeviationConfig, periods: int
) -> Baseline | WarmUp:
    warm_up = _warm_up(len(values), oldest, now, config)
    if not _is_warm(warm_up):
        return warm_up
    if config.method is BandMethod.MEAN_SIGMA:
        centre, spread = mean_stdev(values)
    else:
        centre, spread = median_mad(values)
    return _baseline(centre, spread, len(values), config, periods)


def _baseline(
    centre: float, spread: float, count: int, config: DeviationConfig, periods: int
) -> Baseline:
    seasonal = config.seasonality is not Seasonality.NONE
    window = 0.0 if seasonal else config.window
    return Baseline(centre, spread, config.method, count, config.seasonality, window, periods)


class SampleWindow:
    """A metric's recent history, time-ordered, kept for one deviation config.

    Mutable on purpose (the evaluator owns one per metric): copying thousands of samples per
    step would cost more than the judgement. Samples are kept in `array('d')` (16 bytes each,
    plus 8 for each one in the rolling window's sorted copy). Samples should come in time
    order; a late sample is inserted where it belongs, and one older than the newest by more
    than the retention means the wall clock stepped back, so the history after it is dropped.
    Non-finite values are ignored.
    """

    def __init__(self, config: DeviationConfig) -> None:
        self._config = config
        self._retention = config.retention
        self._times: array[float] = array("d")
        self._values: array[float] = array("d")
        self._head = 0
        self._first = math.inf  # the earliest sample ever added: the warm-up's history span
        # The rolling statistics cover indices [_low, _high) of the arrays when _valid.
        self._stats = RollingStats()
        self._low = self._high = 0
        self._valid = False

    def __len__(self) -> int:
        return len(self._times) - self._head

    @property
    def config(self) -> DeviationConfig:
        """The deviation settings this window serves."""
        return self._config

    @property
    def first_seen(self) -> float | None:
        """The time of the oldest sample ever added, kept or not (None before the first)."""
        return self._first if len(self) else None

    def samples(self) -> list[tuple[float, float]]:
        """Every sample kept, oldest first."""
        return list(zip(self._times[self._head :], self._values[self._head :], strict=True))

    def add(self, at: float, value: float) -> None:
        """Keep one sample (ignored when the value is NaN or infinite)."""
        if not math.isfinite(value) or not math.isfinite(at):
            return
        self._first = min(self._first, at)
        times = self._times
        if len(self) and at < times[-1]:
            if times[-1] - at > self._retention:
                self._drop_after(at)
            else:
                index = bisect_right(times, at, self._head)
                times.insert(index, at)
                self._values.insert(index, value)
                self._valid = self._valid and index >= self._high
                self._prune()
                return
        times.append(at)
        self._values.append(value)
        self._prune()

    def _drop_after(self, at: float) -> None:
        index = bisect_right(self._times, at, self._head)
        del self._times[index:]
        del self._values[index:]
        self._valid = False

    def _prune(self) -> None:
        head = bisect_left(self._times, self._times[-1] - self._retention, self._head)
        if head > self._low:
            self._valid = False
        self._head = head
        if head > 1024 and head * 2 > len(self._times):
            del self._times[:head]
            del self._values[:head]
            self._low, self._high = max(self._low - head, 0), max(self._high - head, 0)
            self._head = 0

    def rolling(self, now: float) -> RollingStats:
        """Statistics of the samples in [now - window, now], slid incrementally."""
        times, values = self._times, self._values
        low = bisect_left(times, now - self._config.window, self._head)
        high = bisect_right(times, now, self._head)
        stats = self._stats
        if not self._valid or low < self._low or high < self._high or low > self._high:
            stats.clear()
            for index in range(low, high):
                stats.add(values[index])
        else:
            for index in range(self._low, low):
                stats.remove(values[index])
            for index in range(self._high, high):
                stats.add(values[index])
        self._low, self._high, self._valid = low, high, True
        return stats

    def between(self, start: float, end: float) -> list[float]:
        """The values of the samples with start <= time <= end, in O(log n + k)."""
        low = bisect_left(self._times, start, self._head)
        high = bisect_right(self._times, end, self._head)
        return list(self._values[low:high])

    def baseline(self, now: float) -> Baseline | WarmUp:
        """The baseline at `now` from this history (the same result as `compute_baseline`)."""
        config = self._config
        period = config.seasonality.period
        oldest = self.first_seen
        if period:
            slots = [
                self.between(
                    now - n * period - config.tolerance, now - n * period + config.tolerance
                )
                for n in range(1, config.seasons + 1)
            ]
            flat = [value for slot in slots for value in slot]
            return _summarise(flat, oldest, now, config, sum(1 for slot in slots if slot))
        stats = self.rolling(now)
        warm_up = _warm_up(len(stats), oldest, now, config)
        if not _is_warm(warm_up):
            return warm_up
        if config.method is BandMethod.MEAN_SIGMA:
            centre, spread = stats.mean_stdev()
        else:
            centre, spread = stats.median_mad()
        return _baseline(centre, spread, len(stats), config, 0)
