"""Reasons in words for evaluation results: what a person reads in an event or a notification.

A reason is one sentence without a final full stop, e.g. "p95 latency 812 ms is 4.1 sigma above
its 1 h mean of 230 ms", "disk used 93 % is above the critical threshold 90 %", "probe failed:
connection refused", "no data for 95 s (more than 3 intervals of 30 s)". Judgements of a value
are built from predicates ("is above the critical threshold 90 %") that `about` joins after the
metric's name and value, so two firing rules read as one sentence.
"""

from __future__ import annotations

import math

from console.core.checks import STALE_INTERVALS, CheckState
from console.core.deviation import Band, Baseline, DeviationConfig, Judgement, Seasonality, WarmUp
from console.core.thresholds import Direction, Levels, Range, StaticThresholds
from console.core.units import Unit, format_duration, format_value

_LEVEL_NAMES = {CheckState.CRITICAL: "critical", CheckState.WARNING: "warning"}


def probe_failed(failure: str | None) -> str:
    """Why a probe gave no value: "probe failed: connection refused"."""
    return f"probe failed: {failure}" if failure else "probe failed (no reason given)"


def no_data(silent_for: float, interval: float) -> str:
    """Why a metric is STALE: "no data for 95 s (more than 3 intervals of 30 s)"."""
    return (
        f"no data for {format_duration(silent_for)} "
        f"(more than {STALE_INTERVALS} intervals of {format_duration(interval)})"
    )


def about(name: str, unit: Unit, value: float, predicates: list[str]) -> str:
    """A sentence about a value: "disk used 93 % is above ... and is 4.2 sigma above ..."."""
    return f"{name} {format_value(value, unit)} {' and '.join(predicates)}"


def static_reason(unit: Unit, value: float, config: StaticThresholds, levels: Levels) -> str | None:
    """The predicate saying why a static threshold fires (None when it does not).

    Distinguishes a value beyond the level, one inside the level but not yet past the
    hysteresis, and a level kept firing after the value recovered.
    """
    state = levels.state
    level = config.level(state)
    if level is None:
        return None
    what = _describe_level(config.direction, _LEVEL_NAMES[state], level, unit)
    if config.breaches(level, value):
        return f"is {what}"
    if config.breaches(level, value, firing=True):
        return f"is not yet {_clearing_point(config, level, unit)}"
    keep = format_duration(config.keep_firing_for)
    return f"is no longer {what} but keeps firing for up to {keep}"


def _describe_level(direction: Direction, level_name: str, level: float | Range, unit: Unit) -> str:
    if isinstance(level, Range):
        low, high = format_value(level.low, unit), format_value(level.high, unit)
        return f"outside the {level_name} range {low} to {high}"
    return f"{direction.value} the {level_name} threshold {format_value(level, unit)}"


def _clearing_point(config: StaticThresholds, level: float | Range, unit: Unit) -> str:
    hysteresis = format_value(config.hysteresis, unit)
    if isinstance(level, Range):
        low = format_value(level.low + config.hysteresis, unit)
        high = format_value(level.high - config.hysteresis, unit)
        return f"back inside {low} to {high}, its range narrowed by a hysteresis of {hysteresis}"
    if config.direction is Direction.ABOVE:
        point = format_value(level - config.hysteresis, unit)
        return f"down to {point}, its threshold less a hysteresis of {hysteresis}"
    point = format_value(level + config.hysteresis, unit)
    return f"up to {point}, its threshold plus a hysteresis of {hysteresis}"


def deviation_reason(
    unit: Unit,
    value: float,
    judgement: Judgement,
    levels: Levels,
    config: DeviationConfig,
) -> str | None:
    """The predicate saying why a deviation band fires (None when it does not)."""
    if levels.state is CheckState.OK:
        return None
    baseline = judgement.baseline
    if judgement.state is CheckState.OK:
        keep = format_duration(config.keep_firing_for)
        band = _band_text(judgement.band, unit)
        return f"is back inside {band} but keeps firing for up to {keep}"
    side = "above" if value > baseline.centre else "below"
    norm = f"its {_baseline_text(baseline, unit)}"
    if baseline.spread > 0 and math.isfinite(judgement.distance):
        spreads = f"{abs(judgement.distance):.1f} {baseline.method.spread_name}"
        return f"is {spreads} {side} {norm}"
    offset = format_value(abs(value - baseline.centre), unit)
    text = f"is {offset} {side} {norm}"
    if baseline.spread == 0:
        text += ", which has not varied"
    if config.min_deviation > 0:
        text += f"; the minimum deviation is {format_value(config.min_deviation, unit)}"
    return text


def _baseline_text(baseline: Baseline, unit: Unit) -> str:
    centre = f"{baseline.method.centre_name} of {format_value(baseline.centre, unit)}"
    if baseline.seasonality is Seasonality.NONE:
        return f"{format_duration(baseline.window)} {centre}"
    span, period = (
        ("day", "days") if baseline.seasonality is Seasonality.DAILY else ("week", "weeks")
    )
    last = period if baseline.periods != 1 else span
    count = f"{baseline.periods} " if baseline.periods != 1 else ""
    return f"{centre} at this time of {span} over the last {count}{last}"


def _band_text(band: Band, unit: Unit) -> str:
    return f"its band {format_value(band.low, unit)} to {format_value(band.high, unit)}"


def normal_reason(
    name: str,
    unit: Unit,
    value: float,
    *,
    thresholds: bool,
    band: Band | None,
    warm_up: WarmUp | None,
) -> str:
    """Why a value is fine: "disk used 40 % is within its thresholds and inside its band ..."."""
    parts = []
    if thresholds:
        parts.append("is within its thresholds")
    if band is not None:
        parts.append(f"is inside {_band_text(band, unit)}")
    text = about(name, unit, value, parts or ["is normal"])
    if warm_up is not None:
        text += f"; {warming_up(warm_up)}"
    return text


def warming_up(warm_up: WarmUp) -> str:
    """What a deviation band still lacks before it judges."""
    span = format_duration(warm_up.span)
    needed = format_duration(warm_up.min_span)
    return (
        f"the deviation band is warming up ({warm_up.count} of {warm_up.min_samples} samples, "
        f"{span} of {needed} of history)"
    )


def confirmed(reason: str, count: int, *, recovery: bool) -> str:
    """A reason with the streak that confirmed a HARD change: "...; 3 checks in a row"."""
    if count <= 1:
        return reason
    return f"{reason}; {count} {'OK checks' if recovery else 'checks'} in a row"


def flapping(percent: float, started: bool, threshold: float) -> str:
    """Why the flapping flag changed."""
    change = f"the state changed {percent:.1f} % of the time over the last results"
    if started:
        return f"{change}: flapping started (at or above {threshold:g} %)"
    return f"{change}: flapping stopped (at or below {threshold:g} %)"
