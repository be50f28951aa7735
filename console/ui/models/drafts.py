"""Metric specs as they are being edited: raw field values that may not be valid yet.

A ``StaticThresholds`` or ``DeviationConfig`` refuses to exist in an invalid state, but a form
must hold whatever was typed (an empty level, a warning above the critical one) until Save.
Drafts hold the fields' values; :func:`spec_of` turns a draft into a ``MetricSpec`` and lists
its problems with the paths the form shows them at (``metrics[0].thresholds.warning``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from console.core.deviation import BandMethod, DeviationConfig, Seasonality, Side
from console.core.endpoints import MetricSpec, ProbeKind
from console.core.errors import Problem, ValidationError
from console.core.thresholds import Direction, Level, Range, StaticThresholds
from console.core.units import Unit

_DEFAULT_DEVIATION = DeviationConfig()

KIND = {
    ProbeKind.HTTP: "HTTP(S) request",
    ProbeKind.TCP: "TCP connection",
    ProbeKind.PROMETHEUS: "Prometheus query",
    ProbeKind.SCRAPE: "Scrape a /metrics page",
    ProbeKind.NAGIOS: "Nagios plugin",
    ProbeKind.LOGFILE: "Log file",
    ProbeKind.HEARTBEAT: "Heartbeat",
}

KIND_SHORT = {
    ProbeKind.HTTP: "HTTP",
    ProbeKind.TCP: "TCP",
    ProbeKind.PROMETHEUS: "Prometheus",
    ProbeKind.SCRAPE: "Scrape",
    ProbeKind.NAGIOS: "Nagios",
    ProbeKind.LOGFILE: "Log file",
    ProbeKind.HEARTBEAT: "Heartbeat",
}

UNIT = {
    Unit.NONE: "No unit",
    Unit.MILLISECONDS: "Milliseconds (ms)",
    Unit.SECONDS: "Seconds (s)",
    Unit.PERCENT: "Percent (%)",
    Unit.BYTES: "Bytes",
    Unit.PER_SECOND: "Per second (/s)",
    Unit.DAYS: "Days",
}

UNIT_SHORT = {
    Unit.NONE: "—",
    Unit.MILLISECONDS: "ms",
    Unit.SECONDS: "s",
    Unit.PERCENT: "%",
    Unit.BYTES: "bytes",
    Unit.PER_SECOND: "/s",
    Unit.DAYS: "days",
}

DIRECTION: dict[Direction | None, str] = {
    None: "None",
    Direction.ABOVE: "Above a level",
    Direction.BELOW: "Below a level",
    Direction.OUTSIDE: "Outside a range",
}

METHOD: dict[BandMethod | None, str] = {
    None: "Off",
    BandMethod.MEAN_SIGMA: "Mean ± k·σ",
    BandMethod.MEDIAN_MAD: "Median ± k·MAD",
}

SIDE = {
    Side.BOTH: "Above or below",
    Side.ABOVE: "Above only",
    Side.BELOW: "Below only",
}

SEASONALITY = {
    Seasonality.NONE: "None (rolling window)",
    Seasonality.DAILY: "Daily",
    Seasonality.WEEKLY: "Weekly",
}

#: Metric keys each probe kind yields, with a name and unit to start from.
SUGGESTED_METRICS: dict[ProbeKind, tuple[tuple[str, str, Unit], ...]] = {
    ProbeKind.HTTP: (
        ("up", "up", Unit.NONE),
        ("response_time_ms", "response time", Unit.MILLISECONDS),
        ("status_code", "status code", Unit.NONE),
        ("json_value", "JSON value", Unit.NONE),
        ("match_count", "matches", Unit.NONE),
        ("tls_days_left", "certificate expiry", Unit.DAYS),
    ),
    ProbeKind.TCP: (
        ("up", "up", Unit.NONE),
        ("connect_time_ms", "connect time", Unit.MILLISECONDS),
    ),
    ProbeKind.PROMETHEUS: (),
    ProbeKind.SCRAPE: (),
    ProbeKind.NAGIOS: (("state", "plugin state", Unit.NONE),),
    ProbeKind.LOGFILE: (
        ("matches", "matching lines", Unit.NONE),
        ("lines", "lines", Unit.NONE),
    ),
    ProbeKind.HEARTBEAT: (("heartbeat", "heartbeat", Unit.NONE),),
}


def number_text(value: float | None) -> str:
    """A number as a field shows it: ``300``, ``0.005``; empty for None (no value)."""
    if value is None:
        return ""
    value = float(value)  # a level read from a file may be an int
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def parse_number(text: str) -> float | None:
    """The number typed in a field (None when empty); ValueError when it is not a number."""
    text = text.strip()
    if not text:
        return None
    value = float(text.replace("−", "-"))
    if not math.isfinite(value):
        raise ValueError(text)
    return value


@dataclass(frozen=True, slots=True)
class LevelDraft:
    """A threshold level as typed: one number, or a range's two ends for OUTSIDE."""

    value: str = ""
    low: str = ""
    high: str = ""


@dataclass(frozen=True, slots=True)
class ThresholdDraft:
    """Static thresholds as typed; ``direction`` None means the metric has none."""

    direction: Direction | None = None
    warning: LevelDraft = field(default_factory=LevelDraft)
    critical: LevelDraft = field(default_factory=LevelDraft)
    hysteresis: str = ""
    for_seconds: float = 0.0
    keep_firing_for: float = 0.0


@dataclass(frozen=True, slots=True)
class DeviationDraft:
    """A deviation band as set in the form; ``method`` None means no band."""

    method: BandMethod | None = None
    k: float = _DEFAULT_DEVIATION.k
    warning_k: float | None = None
    window: float = _DEFAULT_DEVIATION.window
    side: Side = _DEFAULT_DEVIATION.side
    seasonality: Seasonality = _DEFAULT_DEVIATION.seasonality
    seasons: int = _DEFAULT_DEVIATION.seasons
    tolerance: float = _DEFAULT_DEVIATION.tolerance
    min_deviation: str = ""
    min_samples: int = _DEFAULT_DEVIATION.min_samples
    min_span: float = _DEFAULT_DEVIATION.min_span
    for_seconds: float = 0.0
    keep_firing_for: float = 0.0


@dataclass(frozen=True, slots=True)
class MetricDraft:
    """One metric of the endpoint being edited."""

    metric: str = ""
    name: str = ""
    unit: Unit = Unit.NONE
    thresholds: ThresholdDraft = field(default_factory=ThresholdDraft)
    deviation: DeviationDraft = field(default_factory=DeviationDraft)

    @property
    def judged_by(self) -> str:
        """What judges it, in words for the metrics table."""
        parts = []
        if self.thresholds.direction is not None:
            parts.append("thresholds")
        if self.deviation.method is not None:
            parts.append("deviation band")
        return " + ".join(parts).capitalize() if parts else "Not judged"


def _level_draft(level: Level | None) -> LevelDraft:
    if isinstance(level, Range):
        return LevelDraft(low=number_text(level.low), high=number_text(level.high))
    return LevelDraft(value=number_text(level))


def draft_of(spec: MetricSpec) -> MetricDraft:
    """The draft showing a stored metric spec (exactly: :func:`spec_of` gives it back)."""
    t, d = spec.thresholds, spec.deviation
    thresholds = ThresholdDraft()
    if t is not None:
        thresholds = ThresholdDraft(
            t.direction,
            _level_draft(t.warning),
            _level_draft(t.critical),
            number_text(t.hysteresis) if t.hysteresis else "",
            t.for_seconds,
            t.keep_firing_for,
        )
    deviation = DeviationDraft()
    if d is not None:
        deviation = DeviationDraft(
            method=d.method,
            k=d.k,
            warning_k=d.warning_k,
            window=d.window,
            side=d.side,
            seasonality=d.seasonality,
            seasons=d.seasons,
            tolerance=d.tolerance,
            min_deviation=number_text(d.min_deviation) if d.min_deviation else "",
            min_samples=d.min_samples,
            min_span=d.min_span,
            for_seconds=d.for_seconds,
            keep_firing_for=d.keep_firing_for,
        )
    return MetricDraft(spec.metric, spec.name, spec.unit, thresholds, deviation)


def _number(text: str, path: str, problems: list[Problem]) -> float | None:
    try:
        return parse_number(text)
    except ValueError:
        problems.append(Problem(path, f"expected a number, got {text.strip()!r}"))
        return None


def _level(level: LevelDraft, outside: bool, path: str, problems: list[Problem]) -> Level | None:
    if not outside:
        return _number(level.value, path, problems)
    found = len(problems)
    low, high = _number(level.low, path, problems), _number(level.high, path, problems)
    if len(problems) > found or (low is None and high is None):
        return None
    if low is None or high is None:
        problems.append(Problem(path, "a range needs both a low and a high end"))
        return None
    if low > high:
        problems.append(Problem(path, f"the low end ({level.low}) is above the high end"))
        return None
    return Range(low, high)


def _thresholds(t: ThresholdDraft, at: str, problems: list[Problem]) -> StaticThresholds | None:
    if t.direction is None:
        return None
    at = f"{at}thresholds."
    found = len(problems)
    outside = t.direction is Direction.OUTSIDE
    warning = _level(t.warning, outside, f"{at}warning", problems)
    critical = _level(t.critical, outside, f"{at}critical", problems)
    hysteresis = _number(t.hysteresis, f"{at}hysteresis", problems)
    if len(problems) > found:
        return None
    try:
        return StaticThresholds(
            t.direction, warning, critical, hysteresis or 0.0, t.for_seconds, t.keep_firing_for
        )
    except ValidationError as exc:
        problems += [Problem(f"{at}{p.path}", p.message) for p in exc.problems]
        return None


def _deviation(d: DeviationDraft, at: str, problems: list[Problem]) -> DeviationConfig | None:
    if d.method is None:
        return None
    at = f"{at}deviation."
    found = len(problems)
    min_deviation = _number(d.min_deviation, f"{at}min_deviation", problems)
    if len(problems) > found:
        return None
    try:
        return DeviationConfig(
            method=d.method,
            k=d.k,
            warning_k=d.warning_k,
            window=d.window,
            side=d.side,
            min_samples=d.min_samples,
            min_span=d.min_span,
            min_deviation=min_deviation or 0.0,
            seasonality=d.seasonality,
            seasons=d.seasons,
            tolerance=d.tolerance,
            for_seconds=d.for_seconds,
            keep_firing_for=d.keep_firing_for,
        )
    except ValidationError as exc:
        problems += [Problem(f"{at}{p.path}", p.message) for p in exc.problems]
        return None


def spec_of(draft: MetricDraft, at: str = "") -> tuple[MetricSpec, list[Problem]]:
    """The metric spec a draft describes, and what is wrong with its thresholds and band.

    Args:
        draft: The metric as edited.
        at: A prefix for problem paths (``metrics[2].``).

    Returns:
        The spec (a part that cannot be built is left out, and its problems say why) and the
        problems, with paths like ``metrics[2].thresholds.warning``.
    """
    problems: list[Problem] = []
    spec = MetricSpec(
        metric=draft.metric.strip(),
        name=draft.name.strip(),
        unit=draft.unit,
        thresholds=_thresholds(draft.thresholds, at, problems),
        deviation=_deviation(draft.deviation, at, problems),
    )
    return spec, problems
