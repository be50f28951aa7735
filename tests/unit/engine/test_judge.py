"""An endpoint's evaluators: its own check, its metrics, heartbeats, silence and updates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from console.core.checks import CheckState, StateType
from console.core.endpoints import HeartbeatTarget, HttpTarget, MetricSpec, NagiosTarget
from console.core.thresholds import StaticThresholds
from console.engine.judge import EndpointJudge
from console.probes.base import ProbeOutcome, ProbeResult

from tests.unit.engine.support import endpoint, latency_spec

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
HTTP = endpoint("shop", HttpTarget("http://shop.example.net/"), metrics=(latency_spec(500.0),))


def _result(seconds: float, outcome: ProbeOutcome, reason: str, **metrics: float) -> ProbeResult:
    return ProbeResult(outcome, metrics, reason, T0 + timedelta(seconds=seconds), 0.01)


def _states(judge: EndpointJudge) -> dict[str | None, tuple[CheckState, StateType]]:
    return {s.key: (s.state, s.state_type) for s in judge.statuses()}


def test_a_down_target_is_critical_for_the_check_and_unknown_for_values_it_could_not_measure() -> (
    None
):
    judge = EndpointJudge(HTTP, T0.timestamp())
    down = _result(1, ProbeOutcome.DOWN, "connection refused by shop.example.net:80", up=0.0)
    outcomes = judge.judge(down)
    assert _states(judge) == {
        None: (CheckState.CRITICAL, StateType.SOFT),
        "response_time_ms": (CheckState.UNKNOWN, StateType.SOFT),
    }
    latency = dict(outcomes)["response_time_ms"]
    assert latency.reason.endswith("connection refused by shop.example.net:80")
    for second in (2, 3):
        outcomes = judge.judge(_result(second, ProbeOutcome.DOWN, "connection refused", up=0.0))
    check = dict(outcomes)[None]
    (change,) = check.changes
    assert (change.from_state, change.to_state, change.state_type) == (
        CheckState.OK,
        CheckState.CRITICAL,
        StateType.HARD,
    )
    assert change.reason == "connection refused; 3 checks in a row"
    assert judge.state() is CheckState.CRITICAL


def test_a_value_beyond_its_threshold_is_judged_while_the_check_itself_is_ok() -> None:
    judge = EndpointJudge(HTTP, T0.timestamp())
    judge.judge(_result(1, ProbeOutcome.UP, "HTTP 200 OK", up=1.0, response_time_ms=812.0))
    states = _states(judge)
    assert states[None] == (CheckState.OK, StateType.HARD)
    assert states["response_time_ms"] == (CheckState.CRITICAL, StateType.SOFT)
    (latency,) = [s for s in judge.statuses() if s.key == "response_time_ms"]
    assert latency.value == 812.0 and "812 ms" in latency.reason


def test_a_metric_missing_from_a_good_answer_is_unknown_with_a_reason() -> None:
    spec = MetricSpec("json_value", "queue depth")
    judge = EndpointJudge(replace(HTTP, metrics=(spec,)), T0.timestamp())
    judge.judge(_result(1, ProbeOutcome.UP, "HTTP 200 OK", up=1.0))
    (status,) = [s for s in judge.statuses() if s.key == "json_value"]
    assert status.state is CheckState.UNKNOWN
    assert "json_value is not in the result (HTTP 200 OK)" in status.reason


def test_a_nagios_check_takes_the_plugin_state_not_the_probe_outcome() -> None:
    nagios = endpoint("disk", NagiosTarget(("/usr/lib/nagios/plugins/check_disk",)))
    judge = EndpointJudge(nagios, T0.timestamp())
    judge.judge(_result(1, ProbeOutcome.UP, "DISK WARNING - free space: 9%", state=1.0))
    assert _states(judge)[None] == (CheckState.WARNING, StateType.SOFT)
    judge.judge(_result(2, ProbeOutcome.UNKNOWN, "plugin timed out after 10 s", state=3.0))
    assert _states(judge)[None] == (CheckState.UNKNOWN, StateType.SOFT)


def test_silence_makes_a_polled_endpoint_stale_unless_forgiven() -> None:
    judge = EndpointJudge(replace(HTTP, interval_s=10.0), T0.timestamp())
    judge.judge(_result(0, ProbeOutcome.UP, "HTTP 200 OK", up=1.0, response_time_ms=20.0))
    assert judge.tick(T0.timestamp() + 30.0) == []  # exactly 3 intervals is not yet stale
    judge.forgive(T0.timestamp() + 25.0)
    assert judge.tick(T0.timestamp() + 40.0) == []  # counted afresh from the forgiven moment
    outcomes = judge.tick(T0.timestamp() + 56.0)
    assert {key for key, _ in outcomes} == {None, "response_time_ms"}
    assert all(e.state is CheckState.STALE and e.state_type is StateType.HARD for _, e in outcomes)


def test_a_heartbeat_is_ok_on_each_beat_and_critical_once_silence_outlasts_the_grace() -> None:
    hb = endpoint(
        "cron", HeartbeatTarget(300), interval_s=60, metrics=(MetricSpec("heartbeat", "beat"),)
    )
    judge = EndpointJudge(hb, T0.timestamp())
    assert judge.tick(T0.timestamp() + 10_000) == []  # heartbeats are not judged by staleness
    assert judge.silence(T0.timestamp() + 300) == []
    (outcome,) = judge.silence(T0.timestamp() + 360)
    key, evaluation = outcome
    assert key is None and evaluation.state_type is StateType.HARD
    assert evaluation.changes[0].reason == "no heartbeat for 6 min (grace 5 min)"
    assert judge.silence(T0.timestamp() + 420) == []  # said once, not every second
    outcomes = judge.heartbeat(T0.timestamp() + 430)
    assert [k for k, _ in outcomes] == [None, "heartbeat"]
    assert _states(judge)[None] == (CheckState.OK, StateType.HARD)
    assert judge.silence(T0.timestamp() + 700) == []  # the grace runs from the last beat


def test_an_update_keeps_the_memory_of_metrics_judged_the_same_way() -> None:
    errors = MetricSpec("status_code", "status", thresholds=StaticThresholds.above(critical=499))
    judge = EndpointJudge(replace(HTTP, metrics=(latency_spec(500.0), errors)), T0.timestamp())
    for second in (1, 2, 3):
        judge.judge(
            _result(second, ProbeOutcome.UP, "ok", up=1.0, response_time_ms=900.0, status_code=503)
        )
    assert _states(judge)["response_time_ms"] == (CheckState.CRITICAL, StateType.HARD)
    tighter = MetricSpec("status_code", "status", thresholds=StaticThresholds.above(critical=399))
    judge.update(replace(HTTP, metrics=(latency_spec(500.0), tighter)), T0.timestamp() + 4)
    states = _states(judge)
    assert states["response_time_ms"] == (CheckState.CRITICAL, StateType.HARD)  # kept
    assert states["status_code"] == (CheckState.OK, StateType.HARD)  # judged afresh
    assert [s.key for s in judge.statuses()] == [None, "response_time_ms", "status_code"]
