"""One endpoint's evaluators: its own check and every metric it lists, fed from probe results.

Each endpoint has a check of its own (key ``None``): the probe's verdict (UP is OK, DOWN is
CRITICAL, UNKNOWN is UNKNOWN) or, for a Nagios plugin, its exit state, reported as judged by
the source. A heartbeat endpoint's check is the heartbeat itself: each beat is OK, and silence
beyond the grace period is CRITICAL at once (the grace period is the confirmation). Every
``MetricSpec`` has its own evaluator fed the metric's value, or the failure when the probe
could not measure it (UNKNOWN, never CRITICAL).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from console.core.checks import CheckState, CheckStatus, SoftHardPolicy, StateType, worst
from console.core.endpoints import Endpoint, HeartbeatTarget
from console.core.evaluation import Evaluation, MetricConfig, MetricEvaluator
from console.core.flapping import FlapState
from console.core.units import format_duration
from console.engine.dispatch import check_state
from console.probes.base import ProbeOutcome, ProbeResult

CHECK_NAME = "check"
HEARTBEAT_NAME = "heartbeat"
#: The sample a heartbeat records.
HEARTBEAT_METRIC = "heartbeat"
_IMMEDIATE = SoftHardPolicy(failures_to_hard=1, successes_to_recover=1)


@dataclass(frozen=True, slots=True)
class MetricStatus:
    """Where one of an endpoint's evaluators stands.

    Attributes:
        key: The metric key, or None for the endpoint's own check.
        name: What people call it.
        state: The latest result's state.
        state_type: Whether that state is confirmed.
        hard_state: The confirmed state.
        value: The latest value judged, if any.
        reason: Why, in words.
    """

    key: str | None
    name: str
    state: CheckState
    state_type: StateType
    hard_state: CheckState
    value: float | None
    reason: str


Outcome = tuple[str | None, Evaluation]


class EndpointJudge:
    """The evaluators of one endpoint, and what they last concluded.

    Args:
        endpoint: The endpoint.
        started_at: When judging starts (epoch seconds): silence and heartbeat grace count
            from here until the first result.
    """

    def __init__(self, endpoint: Endpoint, started_at: float) -> None:
        self.endpoint = endpoint
        self._check = MetricEvaluator(_check_config(endpoint), started_at)
        self._metrics = {
            spec.metric: MetricEvaluator(spec.config(endpoint.interval_s), started_at)
            for spec in endpoint.metrics
        }
        self._last: dict[str | None, Evaluation] = {}
        self.last_beat = started_at
        # Every evaluator is STALE: ticks change nothing until a result arrives. An engine that
        # cannot keep up ticks thousands of such endpoints every second.
        self._all_stale = False
        # Metrics whose deviation band has not been given the stored history yet.
        self._cold = {k for k, e in self._metrics.items() if e.config.deviation is not None}

    @property
    def is_heartbeat(self) -> bool:
        """Whether results come from heartbeats rather than polling."""
        return isinstance(self.endpoint.target, HeartbeatTarget)

    def update(self, endpoint: Endpoint, now: float) -> None:
        """Follow a changed endpoint, keeping the memory of metrics judged the same way."""
        self.endpoint = endpoint
        self._all_stale = False
        check = _check_config(endpoint)
        if check != self._check.config:
            self._check = MetricEvaluator(check, now)
            self._last.pop(None, None)
        kept: dict[str, MetricEvaluator] = {}
        for spec in endpoint.metrics:
            config = spec.config(endpoint.interval_s)
            old = self._metrics.get(spec.metric)
            if old is not None and old.config == config:
                kept[spec.metric] = old
                continue
            kept[spec.metric] = MetricEvaluator(config, now)
            if config.deviation is not None:
                self._cold.add(spec.metric)
        self._metrics = kept
        self._cold &= kept.keys()
        self._last = {k: v for k, v in self._last.items() if k is None or k in kept}

    def take_cold(self) -> list[tuple[str, float]]:
        """Deviation bands not yet given stored history: (metric, seconds of history it uses).

        Each band is listed once (until the metric's evaluator is replaced by a change).
        """
        cold = sorted(self._cold)
        self._cold.clear()
        return [(key, _history_s(self._metrics[key])) for key in cold]

    def backfill(self, key: str, samples: Iterable[tuple[float, float]]) -> None:
        """Give a metric's deviation band past (time, value) samples, oldest first."""
        evaluator = self._metrics.get(key)
        if evaluator is not None:
            evaluator.backfill(samples)

    def restore(self, key: str | None, status: CheckStatus, flap: FlapState) -> None:
        """Resume one evaluator from a remembered status and flap state (an engine's restart).

        The evaluator is made afresh around them: call this before ``backfill``.
        """
        old = self._check if key is None else self._metrics.get(key)
        if old is None:
            return
        state = replace(old.state, status=status, flap=flap)
        evaluator = MetricEvaluator(old.config, state.last_seen_at, state=state)
        if key is None:
            self._check = evaluator
        else:
            self._metrics[key] = evaluator

    def judge(self, result: ProbeResult) -> list[Outcome]:
        """Feed one probe result to every evaluator; returns what each concluded."""
        self._all_stale = False
        at = result.started_at.timestamp()
        state = check_state(self.endpoint, result)
        out = [self._keep(None, self._check.report(at, state, result.reason))]
        for key, evaluator in self._metrics.items():
            value = result.metrics.get(key)
            failure = result.reason if value is None else None
            if value is None and result.ok_state is ProbeOutcome.UP:
                failure = f"{key} is not in the result ({result.reason})"
            out.append(self._keep(key, evaluator.observe(at, value, failure=failure)))
        return out

    def heartbeat(self, at: float) -> list[Outcome]:
        """A heartbeat arrived: the check is OK and its metrics see the value 1."""
        self._all_stale = False
        self.last_beat = max(self.last_beat, at)
        out = [self._keep(None, self._check.report(at, CheckState.OK, "heartbeat received"))]
        for key, evaluator in self._metrics.items():
            if key == HEARTBEAT_METRIC:
                out.append(self._keep(key, evaluator.observe(at, 1.0)))
        return out

    def silence(self, now: float) -> list[Outcome]:
        """For a heartbeat endpoint: CRITICAL once the silence outlasts the grace period."""
        target = self.endpoint.target
        if not isinstance(target, HeartbeatTarget):
            return []
        silent = now - self.last_beat
        if silent <= target.grace_s or self._check.state.status.state is CheckState.CRITICAL:
            return []
        reason = (
            f"no heartbeat for {format_duration(silent)} (grace {format_duration(target.grace_s)})"
        )
        return [self._keep(None, self._check.report(now, CheckState.CRITICAL, reason))]

    def tick(self, now: float) -> list[Outcome]:
        """Notice silence: STALE after 3 intervals without a result (polled endpoints)."""
        if self._all_stale or self.is_heartbeat:
            return []  # a heartbeat is irregular by nature: silence is judged by its grace period
        out = []
        all_stale = True
        for key, evaluator in self._evaluators():
            evaluation = evaluator.tick(now)
            if evaluation is not None:
                out.append(self._keep(key, evaluation))
            all_stale = all_stale and evaluator.state.status.state is CheckState.STALE
        self._all_stale = all_stale
        return out

    def forgive(self, now: float) -> None:
        """Count silence afresh from now (the engine itself was not running)."""
        self._all_stale = False
        for _, evaluator in self._evaluators():
            evaluator.forgive_silence(now)
        self.last_beat = max(self.last_beat, now)

    def statuses(self) -> list[MetricStatus]:
        """The check first, then the metrics in the endpoint's order."""
        out = []
        for key, evaluator in self._evaluators():
            status = evaluator.state.status
            last = self._last.get(key)
            out.append(
                MetricStatus(
                    key,
                    evaluator.config.name,
                    status.state,
                    status.state_type,
                    status.hard_state,
                    None if last is None else last.value,
                    "no result yet" if last is None else last.reason,
                )
            )
        return out

    def state(self) -> CheckState:
        """The worst latest state of the check and its metrics."""
        return worst(status.state for status in self.statuses())

    def _evaluators(self) -> Iterator[tuple[str | None, MetricEvaluator]]:
        yield None, self._check
        yield from self._metrics.items()

    def _keep(self, key: str | None, evaluation: Evaluation) -> Outcome:
        self._last[key] = evaluation
        return key, evaluation


def _history_s(evaluator: MetricEvaluator) -> float:
    deviation = evaluator.config.deviation
    return 0.0 if deviation is None else deviation.retention


def _check_config(endpoint: Endpoint) -> MetricConfig:
    if isinstance(endpoint.target, HeartbeatTarget):
        return MetricConfig(HEARTBEAT_NAME, interval=endpoint.interval_s, policy=_IMMEDIATE)
    return MetricConfig(CHECK_NAME, interval=endpoint.interval_s)


def changes_of(outcomes: Iterable[Outcome]) -> Iterator[tuple[str | None, Evaluation]]:
    """The outcomes that changed a state or the flapping flag."""
    for key, evaluation in outcomes:
        if evaluation.changes or evaluation.flap_change is not None:
            yield key, evaluation
