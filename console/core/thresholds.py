"""Static thresholds: above, below or outside a range, with `for`, hysteresis and keep-firing.

A threshold has up to two levels, warning and critical, each followed by its own small state
machine (`LevelState`) over (time, value) samples:

- a level is *breached* by a value beyond it (strictly: with ABOVE 90, 90 itself is fine);
- it *fires* once it has been breached continuously for `for_seconds` (Prometheus `for`); the
  clock starts at the first breaching sample and any non-breaching sample resets it;
- once firing, it clears only when the value is back by `hysteresis` (ABOVE 90 with hysteresis 5
  fires above 90 and clears at 85 or below), so a value hovering around the level does not flap;
- after clearing it may keep firing for `keep_firing_for` seconds more, measured from the first
  sample that no longer breached (Prometheus `keep_firing_for`); a new breach in that time just
  keeps it firing.

The state is CRITICAL while the critical level fires, else WARNING while the warning level
fires, else OK. Times are float epoch seconds. The level machine is shared with deviation bands
(`console.core.deviation`), which supply their own breach test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

from console.core.checks import CheckState
from console.core.errors import Problem, ValidationError


class Direction(Enum):
    """Which values breach a static threshold."""

    ABOVE = "above"
    BELOW = "below"
    OUTSIDE = "outside"


@dataclass(frozen=True, slots=True)
class Range:
    """The normal range of an OUTSIDE threshold: values from `low` to `high` inclusive are fine."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if math.isnan(self.low) or math.isnan(self.high) or self.low > self.high:
            raise ValidationError([Problem("range", f"{self.low} to {self.high} is not a range")])


Level = float | Range
"""A threshold level: a number for ABOVE and BELOW, a `Range` for OUTSIDE."""


@dataclass(frozen=True, slots=True)
class StaticThresholds:
    """Warning and critical levels for one metric.

    Prefer the `above`, `below` and `outside` constructors.

    Attributes:
        direction: Which side of the levels is bad.
        warning: The warning level, or None for none.
        critical: The critical level, or None for none.
        hysteresis: How far back (in the metric's unit) a value must come before a firing level
            clears; 0 clears as soon as the value is no longer beyond the level.
        for_seconds: How long a level must be breached without a break before it fires.
        keep_firing_for: How long a level keeps firing after its breach ended.
    """

    direction: Direction
    warning: Level | None = None
    critical: Level | None = None
    hysteresis: float = 0.0
    for_seconds: float = 0.0
    keep_firing_for: float = 0.0

    def __post_init__(self) -> None:
        problems = _level_problems(self) + _timing_problems(self)
        if problems:
            raise ValidationError(problems)

    @classmethod
    def above(
        cls,
        *,
        warning: float | None = None,
        critical: float | None = None,
        hysteresis: float = 0.0,
        for_seconds: float = 0.0,
        keep_firing_for: float = 0.0,
    ) -> StaticThresholds:
        """Values above the levels are bad (latency, disk usage, error rate)."""
        return cls(Direction.ABOVE, warning, critical, hysteresis, for_seconds, keep_firing_for)

    @classmethod
    def below(
        cls,
        *,
        warning: float | None = None,
        critical: float | None = None,
        hysteresis: float = 0.0,
        for_seconds: float = 0.0,
        keep_firing_for: float = 0.0,
    ) -> StaticThresholds:
        """Values below the levels are bad (free space, days until a certificate expires)."""
        return cls(Direction.BELOW, warning, critical, hysteresis, for_seconds, keep_firing_for)

    @classmethod
    def outside(
        cls,
        *,
        warning: tuple[float, float] | None = None,
        critical: tuple[float, float] | None = None,
        hysteresis: float = 0.0,
        for_seconds: float = 0.0,
        keep_firing_for: float = 0.0,
    ) -> StaticThresholds:
        """Values outside the (low, high) ranges are bad (temperature, queue depth band)."""
        return cls(
            Direction.OUTSIDE,
            None if warning is None else Range(*warning),
            None if critical is None else Range(*critical),
            hysteresis,
            for_seconds,
            keep_firing_for,
        )

    def level(self, state: CheckState) -> Level | None:
        """The level for WARNING or CRITICAL (None for other states or an unset level)."""
        if state is CheckState.CRITICAL:
            return self.critical
        if state is CheckState.WARNING:
            return self.warning
        return None

    def breaches(self, level: Level, value: float, *, firing: bool = False) -> bool:
        """Whether `value` is beyond `level`; with `firing`, beyond it less the hysteresis.

        Args:
            level: One of this threshold's levels.
            value: The sample's value (NaN never breaches).
            firing: Whether the level fires already, which moves its clearing point back by
                `hysteresis`.

        Returns:
            True when the value breaches the level.
        """
        margin = self.hysteresis if firing else 0.0
        if isinstance(level, Range):
            return value < level.low + margin or value > level.high - margin
        if self.direction is Direction.ABOVE:
            return value > level - margin
        return value < level + margin


def _level_problems(config: StaticThresholds) -> list[Problem]:
    levels = {"warning": config.warning, "critical": config.critical}
    if all(level is None for level in levels.values()):
        return [Problem("critical", "a threshold needs a warning or a critical level")]
    want_range = config.direction is Direction.OUTSIDE
    problems = []
    for name, level in levels.items():
        if level is None:
            continue
        if isinstance(level, Range) != want_range:
            kind = "a (low, high) range" if want_range else "a number"
            problems.append(Problem(name, f"must be {kind} for {config.direction.value}"))
        elif isinstance(level, float | int) and math.isnan(level):
            problems.append(Problem(name, "must be a number, not NaN"))
        elif isinstance(level, Range) and 2 * config.hysteresis > level.high - level.low:
            problems.append(Problem("hysteresis", f"must be at most half the {name} range"))
    if not problems and config.warning is not None and config.critical is not None:
        problems += _order_problems(config.direction, config.warning, config.critical)
    return problems


def _order_problems(direction: Direction, warning: Level, critical: Level) -> list[Problem]:
    if isinstance(warning, Range) and isinstance(critical, Range):
        inside = critical.low <= warning.low and warning.high <= critical.high
        return [] if inside else [Problem("warning", "must lie inside the critical range")]
    assert isinstance(warning, float | int) and isinstance(critical, float | int)
    if direction is Direction.ABOVE and warning > critical:
        return [Problem("warning", "must not be above the critical level")]
    if direction is Direction.BELOW and warning < critical:
        return [Problem("warning", "must not be below the critical level")]
    return []


def _timing_problems(config: StaticThresholds) -> list[Problem]:
    return [
        Problem(name, "must be a number of at least 0")
        for name in ("hysteresis", "for_seconds", "keep_firing_for")
        if not getattr(config, name) >= 0  # also refuses NaN
    ]


@dataclass(frozen=True, slots=True)
class LevelState:
    """One level's progress through breach, `for`, firing and keep-firing.

    Attributes:
        firing: Whether the level fires.
        breached_since: When the current unbroken breach began (None when not breached).
        cleared_since: While firing on through `keep_firing_for`: the time of the first sample
            that no longer breached.
    """

    firing: bool = False
    breached_since: float | None = None
    cleared_since: float | None = None


def step_level(
    state: LevelState,
    at: float,
    breached: bool,
    *,
    for_seconds: float = 0.0,
    keep_firing_for: float = 0.0,
) -> LevelState:
    """Advance one level by one sample.

    Args:
        state: The level's state.
        at: The sample's time, epoch seconds.
        breached: Whether the sample breaches the level (the caller applies any hysteresis,
            using `state.firing`).
        for_seconds: How long the breach must last before the level fires.
        keep_firing_for: How long a firing level stays firing once its breach has ended.

    Returns:
        The level's new state.
    """
    if breached:
        since = at if state.breached_since is None else state.breached_since
        return LevelState(state.firing or at - since >= for_seconds, since, None)
    if state.firing and keep_firing_for > 0:
        cleared = at if state.cleared_since is None else state.cleared_since
        if at - cleared < keep_firing_for:
            return LevelState(True, None, cleared)
    return _QUIET


_QUIET = LevelState()


@dataclass(frozen=True, slots=True)
class Levels:
    """The warning and critical level states of one threshold (static or deviation)."""

    warning: LevelState = field(default_factory=LevelState)
    critical: LevelState = field(default_factory=LevelState)

    @property
    def state(self) -> CheckState:
        """CRITICAL while the critical level fires, else WARNING while the warning one does."""
        if self.critical.firing:
            return CheckState.CRITICAL
        if self.warning.firing:
            return CheckState.WARNING
        return CheckState.OK


def step_thresholds(levels: Levels, config: StaticThresholds, at: float, value: float) -> Levels:
    """Advance a static threshold by one (time, value) sample.

    Args:
        levels: The threshold's current level states.
        config: The threshold.
        at: The sample's time, epoch seconds; samples come in time order.
        value: The sample's value. NaN says nothing about the value and leaves the state as it
            is; +inf and -inf are judged like any other number.

    Returns:
        The new level states; their `state` is the threshold's verdict.
    """
    if math.isnan(value):
        return levels
    return Levels(
        _step_static(levels.warning, config, config.warning, at, value),
        _step_static(levels.critical, config, config.critical, at, value),
    )


def _step_static(
    state: LevelState, config: StaticThresholds, level: Level | None, at: float, value: float
) -> LevelState:
    if level is None:
        return _QUIET
    breached = config.breaches(level, value, firing=state.firing)
    return step_level(
        state,
        at,
        breached,
        for_seconds=config.for_seconds,
        keep_firing_for=config.keep_firing_for,
    )
