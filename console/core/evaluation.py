"""Per-metric evaluation: static thresholds, deviation bands, soft/hard states and flapping.

One `MetricEvaluator` per metric turns what the probes report into states and state changes:

- `observe(at, value)` judges a value against the static thresholds (`console.core.thresholds`)
  and the deviation band (`console.core.deviation`); the worse verdict is the result. A value of
  None (or NaN) means the probe failed: the result is UNKNOWN with the failure as its reason,
  never CRITICAL, because nothing is known about the value.
- `report(at, state, reason)` takes a state judged by the source itself (a Nagios plugin's exit
  code, a heartbeat).
- `tick(now)` notices silence: more than 3 intervals without any result is STALE, confirmed at
  once (the silence already lasted three intervals).

Each result then goes through the soft/hard machine (`console.core.checks`) and flap detection
(`console.core.flapping`). The output, an `Evaluation`, carries the current state, its type,
the flapping flag, the band and the `StateChange`s with a reason in words; HARD changes are
what opens and resolves incidents. Flapping is reported, not acted on: the incident layer decides
what a flapping metric may notify.

Time is float seconds since the Unix epoch (UTC), as `datetime.timestamp()` gives it; it is
always passed in, never read from a clock. `moment()` turns it back into an aware datetime.

Everything here is immutable except the evaluator itself, which holds the one mutable piece (the
sample window) next to a frozen `EvaluatorState` that can be saved and restored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from console.core import reasons
from console.core.checks import (
    CheckState,
    CheckStatus,
    SoftHardPolicy,
    StateType,
    Transition,
    is_stale,
    step_check,
    worst,
)
from console.core.clock import isoformat
from console.core.deviation import (
    Band,
    Baseline,
    DeviationConfig,
    Judgement,
    SampleWindow,
    WarmUp,
    judge,
    step_deviation,
)
from console.core.errors import Problem, ValidationError
from console.core.flapping import FlapConfig, FlapEvent, FlapState, step_flap
from console.core.thresholds import Levels, StaticThresholds, step_thresholds
from console.core.units import Unit


def moment(at: float) -> datetime:
    """Epoch seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(at, UTC)


@dataclass(frozen=True, slots=True)
class MetricConfig:
    """How one metric is judged.

    Attributes:
        name: What people call the metric ("p95 latency", "disk used"); starts every reason.
        unit: The unit of its values.
        interval: Seconds between probe runs (from the endpoint); staleness is counted in it.
        thresholds: Static warning/critical levels, or None.
        deviation: A deviation band, or None.
        policy: How many results confirm a problem and a recovery.
        flapping: Flap detection thresholds.
    """

    name: str
    unit: Unit = Unit.NONE
    interval: float = 60.0
    thresholds: StaticThresholds | None = None
    deviation: DeviationConfig | None = None
    policy: SoftHardPolicy = field(default_factory=SoftHardPolicy)
    flapping: FlapConfig = field(default_factory=FlapConfig)

    def __post_init__(self) -> None:
        problems = []
        if not self.name.strip():
            problems.append(Problem("name", "must not be empty"))
        if not self.interval > 0:
            problems.append(Problem("interval", "must be a number of seconds above 0"))
        if problems:
            raise ValidationError(problems)


@dataclass(frozen=True, slots=True)
class StateChange:
    """A metric's state changed: the fact the event log records.

    Attributes:
        metric: The metric's name.
        from_state: The state before (the hard state before, for a HARD change).
        to_state: The state after.
        state_type: HARD when the confirmed state changed (open or resolve incidents on
            these), SOFT when only the latest result's state did.
        at: When, epoch seconds.
        value: The value that caused it (None for a failed probe or silence).
        band: The deviation band at that moment, if there was one.
        reason: Why, in words.
    """

    metric: str
    from_state: CheckState
    to_state: CheckState
    state_type: StateType
    at: float
    value: float | None
    band: Band | None
    reason: str

    def payload(self) -> dict[str, Any]:
        """A JSON-able dict for an event payload (non-finite numbers become None)."""
        return {
            "metric": self.metric,
            "from": self.from_state.value,
            "to": self.to_state.value,
            "type": self.state_type.value,
            "at": isoformat(moment(self.at)),
            "value": _json_number(self.value),
            "band": None if self.band is None else band_payload(self.band),
            "reason": self.reason,
        }


def band_payload(band: Band) -> dict[str, Any]:
    """A band as a JSON-able dict."""
    return {
        "low": _json_number(band.low),
        "high": _json_number(band.high),
        "centre": _json_number(band.centre),
        "spread": _json_number(band.spread),
        "method": band.method.value,
        "k": band.k,
    }


def _json_number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class FlapChange:
    """A metric started or stopped flapping."""

    metric: str
    at: float
    event: FlapEvent
    percent: float
    reason: str


@dataclass(frozen=True, slots=True)
class EvaluatorState:
    """The small, saveable part of an evaluator's memory (the sample window is not in it).

    Attributes:
        status: The soft/hard status.
        static: The static threshold's level states.
        deviation: The deviation band's level states.
        flap: The flap detection state.
        last_seen_at: When the newest result (value or failure) arrived, or when evaluation
            started if none has; staleness counts from it.
    """

    status: CheckStatus
    static: Levels
    deviation: Levels
    flap: FlapState
    last_seen_at: float

    @classmethod
    def fresh(cls, started_at: float) -> EvaluatorState:
        """The state of a metric that has seen nothing since `started_at` (HARD OK)."""
        return cls(CheckStatus(), Levels(), Levels(), FlapState(), started_at)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What one result (or one noticed silence) did to a metric.

    Attributes:
        metric: The metric's name.
        at: The result's time, epoch seconds.
        value: The value judged (None for a failure, a source-judged state or silence).
        result: This result's own state, before soft/hard confirmation.
        state: The metric's state now (the latest result's, confirmed or not).
        state_type: Whether `state` is confirmed.
        hard_state: The confirmed state.
        flapping: Whether the metric is flapping.
        flap_percent: Its percent state change.
        band: The deviation band the value was judged against (None without one).
        distance: The value's distance from the band's centre in spreads, if judged.
        reason: Why `result` is what it is, in words.
        changes: The state changes this result caused (at most one today).
        flap_change: A change of the flapping flag, if any.
    """

    metric: str
    at: float
    value: float | None
    result: CheckState
    state: CheckState
    state_type: StateType
    hard_state: CheckState
    flapping: bool
    flap_percent: float
    band: Band | None
    distance: float | None
    reason: str
    changes: tuple[StateChange, ...]
    flap_change: FlapChange | None


@dataclass(frozen=True, slots=True)
class _Verdict:
    """One result before confirmation: its state, reason and the judgement parts behind it."""

    result: CheckState
    reason: str
    value: float | None = None
    static: Levels | None = None
    deviation: Levels | None = None
    judgement: Judgement | None = None


def _state_change(
    metric: str,
    at: float,
    value: float | None,
    band: Band | None,
    transition: Transition,
    reason: str,
) -> StateChange:
    return StateChange(
        metric,
        transition.from_state,
        transition.to_state,
        transition.state_type,
        at,
        value,
        band,
        reason,
    )


class MetricEvaluator:
    """Judges one metric's results over time.

    Args:
        config: How the metric is judged.
        started_at: When evaluation starts (epoch seconds); silence is counted from here until
            the first result.
        state: A saved `EvaluatorState` to resume from instead of a fresh one.
    """

    def __init__(
        self, config: MetricConfig, started_at: float, *, state: EvaluatorState | None = None
    ) -> None:
        self._config = config
        self._state = state if state is not None else EvaluatorState.fresh(started_at)
        self._window = SampleWindow(config.deviation) if config.deviation is not None else None

    @property
    def config(self) -> MetricConfig:
        """How the metric is judged."""
        return self._config

    @property
    def state(self) -> EvaluatorState:
        """The current saveable state."""
        return self._state

    def backfill(self, samples: Iterable[tuple[float, float]]) -> None:
        """Load past (time, value) samples into the deviation history without judging them.

        Use it at start-up with the stored history so the band is meaningful at once.
        """
        if self._window is not None:
            for at, value in samples:
                self._window.add(at, value)

    def observe(self, at: float, value: float | None, *, failure: str | None = None) -> Evaluation:
        """Judge one probe result.

        Args:
            at: When the probe ran, epoch seconds.
            value: The measured value, or None when the probe failed.
            failure: Why the probe failed ("connection refused"), when `value` is None.

        Returns:
            The evaluation, with any state changes.
        """
        if value is None:
            verdict = _Verdict(CheckState.UNKNOWN, reasons.probe_failed(failure))
        elif math.isnan(value):
            verdict = _Verdict(CheckState.UNKNOWN, reasons.probe_failed(failure or "value is NaN"))
        else:
            verdict = self._judge(at, value)
            if self._window is not None:
                self._window.add(at, value)
        return self._conclude(at, verdict, seen=True)

    def report(
        self, at: float, state: CheckState, reason: str, *, value: float | None = None
    ) -> Evaluation:
        """Take a result the source judged itself (a Nagios exit code, a heartbeat).

        Args:
            at: When the result arrived, epoch seconds.
            state: The source's verdict.
            reason: The source's explanation (a plugin's first output line, for instance).
            value: A value to carry along in the evaluation, if any.

        Returns:
            The evaluation, with any state changes.
        """
        return self._conclude(at, _Verdict(state, reason, value), seen=True)

    def tick(self, now: float) -> Evaluation | None:
        """Check for silence: STALE once no result has arrived for more than 3 intervals.

        Call it periodically (the scheduler's loop) with the current wall-clock time.

        Returns:
            The evaluation that made the metric STALE, or None when nothing changed.
        """
        last_seen = self._state.last_seen_at
        interval = self._config.interval
        if self._state.status.state is CheckState.STALE or not is_stale(last_seen, now, interval):
            return None
        reason = reasons.no_data(now - last_seen, interval)
        return self._conclude(now, _Verdict(CheckState.STALE, reason), seen=False)

    def forgive_silence(self, now: float) -> None:
        """Count silence afresh from `now`, without blaming the gap on the source.

        For the engine to call after it was itself not running (a laptop that slept, a wall
        clock that jumped): the missing results are missing data, not STALE sources, and the
        metric has the usual 3 intervals to report again before it turns STALE.
        """
        self._state = replace(self._state, last_seen_at=now)

    def _judge(self, at: float, value: float) -> _Verdict:
        config = self._config
        static = deviation = None
        judgement = None
        warm_up: WarmUp | None = None
        if config.thresholds is not None:
            static = step_thresholds(self._state.static, config.thresholds, at, value)
        # An infinite value is judged by the static thresholds only; the band ignores it.
        if config.deviation is not None and self._window is not None and math.isfinite(value):
            baseline = self._window.baseline(at)
            if isinstance(baseline, Baseline):
                judgement = judge(value, baseline, config.deviation)
            else:
                warm_up = baseline
            deviation = step_deviation(self._state.deviation, config.deviation, at, judgement)
        found = self._problems(value, static, deviation, judgement)
        result = worst(state for state, _ in found)
        if found:
            reason = reasons.about(config.name, config.unit, value, [text for _, text in found])
        else:
            band = None if judgement is None else judgement.band
            reason = reasons.normal_reason(
                config.name,
                config.unit,
                value,
                thresholds=config.thresholds is not None,
                band=band,
                warm_up=warm_up,
            )
        return _Verdict(result, reason, value, static, deviation, judgement)

    def _problems(
        self,
        value: float,
        static: Levels | None,
        deviation: Levels | None,
        judgement: Judgement | None,
    ) -> list[tuple[CheckState, str]]:
        """The firing parts with their reasons, the worst first (static before deviation)."""
        config = self._config
        found = []
        if static is not None and config.thresholds is not None:
            text = reasons.static_reason(config.unit, value, config.thresholds, static)
            if text is not None:
                found.append((static.state, text))
        if deviation is not None and judgement is not None and config.deviation is not None:
            text = reasons.deviation_reason(
                config.unit, value, judgement, deviation, config.deviation
            )
            if text is not None:
                found.append((deviation.state, text))
        found.sort(key=lambda item: -item[0].severity)
        return found

    def _conclude(self, at: float, verdict: _Verdict, *, seen: bool) -> Evaluation:
        config, old = self._config, self._state
        status, transition = step_check(
            old.status,
            verdict.result,
            config.policy,
            immediate=verdict.result is CheckState.STALE,
        )
        flap, flap_event = old.flap, None
        if seen:
            flap, flap_event = step_flap(old.flap, verdict.result, config.flapping)
        self._state = EvaluatorState(
            status,
            old.static if verdict.static is None else verdict.static,
            old.deviation if verdict.deviation is None else verdict.deviation,
            flap,
            at if seen else old.last_seen_at,
        )
        band = None if verdict.judgement is None else verdict.judgement.band
        changes: tuple[StateChange, ...] = ()
        if transition is not None:
            reason = self._confirmed(verdict, transition, old.status)
            changes = (_state_change(config.name, at, verdict.value, band, transition, reason),)
        return Evaluation(
            metric=config.name,
            at=at,
            value=verdict.value,
            result=verdict.result,
            state=status.state,
            state_type=status.state_type,
            hard_state=status.hard_state,
            flapping=flap.flapping,
            flap_percent=flap.percent,
            band=band,
            distance=None if verdict.judgement is None else verdict.judgement.distance,
            reason=verdict.reason,
            changes=changes,
            flap_change=self._flap_change(at, flap, flap_event),
        )

    def _confirmed(self, verdict: _Verdict, transition: Transition, before: CheckStatus) -> str:
        """The change's reason, with the streak that confirmed it when one did."""
        if transition.state_type is not StateType.HARD or verdict.result is CheckState.STALE:
            return verdict.reason
        policy = self._config.policy
        if transition.to_state is CheckState.OK:
            return reasons.confirmed(verdict.reason, policy.successes_to_recover, recovery=True)
        if before.hard_state is CheckState.OK:
            return reasons.confirmed(verdict.reason, policy.failures_to_hard, recovery=False)
        return verdict.reason

    def _flap_change(
        self, at: float, flap: FlapState, event: FlapEvent | None
    ) -> FlapChange | None:
        if event is None:
            return None
        config = self._config.flapping
        started = event is FlapEvent.STARTED
        threshold = config.high if started else config.low
        reason = reasons.flapping(flap.percent, started, threshold)
        return FlapChange(self._config.name, at, event, flap.percent, reason)
