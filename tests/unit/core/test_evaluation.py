"""The per-metric evaluator: verdicts, soft/hard changes, staleness, flapping and reasons."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from console.core.checks import CheckState, SoftHardPolicy, StateType
from console.core.deviation import BandMethod, DeviationConfig, Seasonality
from console.core.errors import ValidationError
from console.core.evaluation import (
    Evaluation,
    EvaluatorState,
    MetricConfig,
    MetricEvaluator,
    StateChange,
    moment,
)
from console.core.flapping import FlapEvent
from console.core.thresholds import StaticThresholds
from console.core.units import Unit

OK, WARNING, CRITICAL = CheckState.OK, CheckState.WARNING, CheckState.CRITICAL
UNKNOWN, STALE = CheckState.UNKNOWN, CheckState.STALE
SOFT, HARD = StateType.SOFT, StateType.HARD
T0 = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
DAY = 86400.0

DISK = MetricConfig(
    "disk used",
    Unit.PERCENT,
    interval=30,
    thresholds=StaticThresholds.above(warning=80, critical=90),
)


def feed(
    evaluator: MetricEvaluator, values: Sequence[float | None], step: float = 30
) -> list[Evaluation]:
    return [evaluator.observe(T0 + i * step, value) for i, value in enumerate(values)]


def only_change(evaluation: Evaluation) -> StateChange:
    assert len(evaluation.changes) == 1
    return evaluation.changes[0]


def test_a_static_breach_goes_soft_then_hard_after_exactly_three() -> None:
    evaluations = feed(MetricEvaluator(DISK, T0), [50, 93, 93, 93, 93])
    assert evaluations[0].changes == ()
    assert evaluations[0].reason == "disk used 50 % is within its thresholds"
    first = only_change(evaluations[1])
    assert (first.from_state, first.to_state, first.state_type) == (OK, CRITICAL, SOFT)
    assert first.reason == "disk used 93 % is above the critical threshold 90 %"
    assert first.value == 93 and first.at == T0 + 30
    assert evaluations[2].changes == ()
    assert (evaluations[2].state, evaluations[2].state_type) == (CRITICAL, SOFT)
    hard = only_change(evaluations[3])
    assert (hard.from_state, hard.to_state, hard.state_type) == (OK, CRITICAL, HARD)
    assert hard.reason == "disk used 93 % is above the critical threshold 90 %; 3 checks in a row"
    assert evaluations[4].changes == ()
    assert evaluations[4].hard_state is CRITICAL


def test_recovery_is_confirmed_after_two_good_results() -> None:
    evaluations = feed(MetricEvaluator(DISK, T0), [93, 93, 93, 40, 40])
    soft = only_change(evaluations[3])
    assert (soft.from_state, soft.to_state, soft.state_type) == (CRITICAL, OK, SOFT)
    assert evaluations[3].hard_state is CRITICAL
    hard = only_change(evaluations[4])
    assert (hard.from_state, hard.to_state, hard.state_type) == (CRITICAL, OK, HARD)
    assert hard.reason == "disk used 40 % is within its thresholds; 2 OK checks in a row"


def test_a_worse_hard_state_changes_at_once() -> None:
    evaluations = feed(MetricEvaluator(DISK, T0), [85, 85, 85, 95])
    assert only_change(evaluations[2]).to_state is WARNING
    change = only_change(evaluations[3])
    assert (change.from_state, change.to_state, change.state_type) == (WARNING, CRITICAL, HARD)
    assert change.reason == "disk used 95 % is above the critical threshold 90 %"


def test_a_failed_probe_is_unknown_not_critical() -> None:
    evaluator = MetricEvaluator(DISK, T0)
    evaluation = evaluator.observe(T0, None, failure="connection refused")
    assert evaluation.result is UNKNOWN
    assert evaluation.reason == "probe failed: connection refused"
    change = only_change(evaluation)
    assert (change.to_state, change.value, change.band) == (UNKNOWN, None, None)
    assert evaluator.observe(T0 + 1, math.nan).reason == "probe failed: value is NaN"
    assert evaluator.observe(T0 + 2, None).reason == "probe failed (no reason given)"
    assert evaluator.state.status.hard_state is UNKNOWN
    # a failure says nothing about the value: the thresholds' memory is untouched
    assert evaluator.state.static.critical.firing is False


def test_failures_do_not_reset_a_for_clock() -> None:
    config = MetricConfig(
        "disk used",
        Unit.PERCENT,
        thresholds=StaticThresholds.above(critical=90, for_seconds=60),
        policy=SoftHardPolicy(failures_to_hard=1),
    )
    evaluator = MetricEvaluator(config, T0)
    assert evaluator.observe(T0, 95).result is OK  # pending
    assert evaluator.observe(T0 + 30, None).result is UNKNOWN
    assert evaluator.observe(T0 + 60, 95).result is CRITICAL


def test_silence_becomes_stale_after_three_intervals() -> None:
    evaluator = MetricEvaluator(DISK, T0)
    evaluator.observe(T0, 50)
    assert evaluator.tick(T0 + 90) is None  # exactly three intervals: not yet
    stale = evaluator.tick(T0 + 95)
    assert stale is not None
    change = only_change(stale)
    assert (change.from_state, change.to_state, change.state_type) == (OK, STALE, HARD)
    assert change.reason == "no data for 95 s (more than 3 intervals of 30 s)"
    assert evaluator.tick(T0 + 200) is None  # already stale: no repeat
    back = evaluator.observe(T0 + 210, 50)
    assert (back.state, back.state_type, back.hard_state) == (OK, SOFT, STALE)
    assert only_change(evaluator.observe(T0 + 240, 50)).state_type is HARD


def test_a_metric_that_never_reports_goes_stale_from_the_start() -> None:
    evaluator = MetricEvaluator(DISK, T0)
    assert evaluator.tick(T0 + 60) is None
    stale = evaluator.tick(T0 + 91)
    assert stale is not None and stale.state is STALE
    assert stale.reason == "no data for 91 s (more than 3 intervals of 30 s)"


def test_silence_the_engine_caused_can_be_forgiven() -> None:
    evaluator = MetricEvaluator(DISK, T0)
    evaluator.observe(T0, 50)
    woke = T0 + 8 * 3600  # the laptop slept all night
    evaluator.forgive_silence(woke)
    assert evaluator.tick(woke + 60) is None
    late = evaluator.tick(woke + 91)
    assert late is not None and late.reason.startswith("no data for 91 s")


def test_stale_does_not_count_as_a_check_for_flapping() -> None:
    evaluator = MetricEvaluator(DISK, T0)
    evaluator.observe(T0, 50)
    evaluator.tick(T0 + 100)
    assert evaluator.state.flap.history == (OK,)


def test_hysteresis_and_keep_firing_reasons() -> None:
    config = MetricConfig(
        "disk used",
        Unit.PERCENT,
        thresholds=StaticThresholds.above(critical=90, hysteresis=5, keep_firing_for=120),
    )
    evaluator = MetricEvaluator(config, T0)
    evaluator.observe(T0, 93)
    held = evaluator.observe(T0 + 30, 88)
    assert held.result is CRITICAL
    assert held.reason == (
        "disk used 88 % is not yet down to 85 %, its threshold less a hysteresis of 5 %"
    )
    kept = evaluator.observe(T0 + 60, 70)
    assert kept.result is CRITICAL
    assert kept.reason == (
        "disk used 70 % is no longer above the critical threshold 90 % "
        "but keeps firing for up to 2 min"
    )
    assert evaluator.observe(T0 + 180, 70).result is OK


def test_outside_and_below_reasons() -> None:
    temperature = MetricConfig(
        "rack temperature",
        thresholds=StaticThresholds.outside(critical=(15, 30), hysteresis=1),
        policy=SoftHardPolicy(failures_to_hard=1),
    )
    evaluator = MetricEvaluator(temperature, T0)
    assert evaluator.observe(T0, 31).reason == (
        "rack temperature 31 is outside the critical range 15 to 30"
    )
    assert evaluator.observe(T0 + 1, 29.5).reason == (
        "rack temperature 29.5 is not yet back inside 16 to 29, "
        "its range narrowed by a hysteresis of 1"
    )
    certificate = MetricConfig(
        "certificate", Unit.DAYS, thresholds=StaticThresholds.below(warning=14, critical=7)
    )
    assert MetricEvaluator(certificate, T0).observe(T0, 10).reason == (
        "certificate 10 d is below the warning threshold 14 d"
    )


def alternating(centre: float, half: float, count: int) -> list[tuple[float, float]]:
    """`count` samples every 10 s ending at T0, alternating centre -/+ half (mean = centre)."""
    return [(T0 - 10 * (count - i), centre + (half if i % 2 else -half)) for i in range(count)]


LATENCY = MetricConfig(
    "p95 latency",
    Unit.MILLISECONDS,
    interval=10,
    deviation=DeviationConfig(window=3600),
)


def test_the_deviation_reason_reads_like_the_design() -> None:
    # 360 samples alternating 230 -/+ 141.8: mean 230, sample stdev 141.8 x sqrt(360/359)
    # = 141.997; (812 - 230) / 141.997 = 4.099 -> "4.1 sigma"
    evaluator = MetricEvaluator(LATENCY, T0 - 3600)
    evaluator.backfill(alternating(230, 141.8, 360))
    evaluation = evaluator.observe(T0, 812)
    assert evaluation.result is CRITICAL
    assert evaluation.reason == "p95 latency 812 ms is 4.1 sigma above its 1 h mean of 230 ms"
    assert evaluation.distance == pytest.approx(582 / (141.8 * math.sqrt(360 / 359)))
    assert evaluation.band is not None
    assert evaluation.band.centre == pytest.approx(230)
    change = only_change(evaluation)
    assert change.band == evaluation.band and change.state_type is SOFT


def test_below_the_median_in_mads_and_inside_the_band() -> None:
    config = MetricConfig(
        "queue depth",
        interval=10,
        deviation=DeviationConfig(method=BandMethod.MEDIAN_MAD, window=3600, k=3),
    )
    evaluator = MetricEvaluator(config, T0 - 3600)
    evaluator.backfill(alternating(100, 10, 360))  # median 100, MAD 10 -> 14.826
    low = evaluator.observe(T0, 40)
    assert low.reason == "queue depth 40 is 4.0 MAD below its 1 h median of 100"
    normal = evaluator.observe(T0 + 10, 105)
    assert normal.result is OK
    assert normal.reason == "queue depth 105 is inside its band 55.5 to 144"


def test_warm_up_is_reported_and_never_judged() -> None:
    config = MetricConfig(
        "errors",
        Unit.PER_SECOND,
        interval=10,
        deviation=DeviationConfig(min_samples=20, min_span=600),
    )
    evaluator = MetricEvaluator(config, T0)
    results = [evaluator.observe(T0 + 10 * i, 1.0 + (i % 3)) for i in range(5)]
    last = results[-1]
    assert last.band is None and last.distance is None
    assert last.reason == (
        "errors 2/s is normal; the deviation band is warming up "
        "(4 of 20 samples, 40 s of 10 min of history)"
    )
    spike = evaluator.observe(T0 + 50, 1e6)  # wild, but the band is not ready to judge it
    assert spike.result is OK


def test_a_flat_series_only_alarms_beyond_the_minimum_deviation() -> None:
    config = MetricConfig(
        "up",
        interval=10,
        deviation=DeviationConfig(min_deviation=0.5, min_samples=5, min_span=0),
    )
    evaluator = MetricEvaluator(config, T0 - 100)
    evaluator.backfill([(T0 - 10 * i, 1.0) for i in range(1, 11)])
    assert evaluator.observe(T0, 1.4).result is OK
    # now ten 1.0 and one 1.4: mean 11.4 / 11 = 1.0364; squared deviations
    # 10 x 0.0364^2 + 0.3636^2 = 0.14545, / 10 -> sigma 0.1206; 3 sigma = 0.36 < 0.5, so the
    # band is 1.0364 +/- 0.5 and 0 is (0 - 1.0364) / 0.1206 = -8.59 sigma away
    drop = evaluator.observe(T0 + 10, 0.0)
    assert drop.result is CRITICAL
    assert drop.reason == "up 0 is 8.6 sigma below its 1 h mean of 1.04"
    assert drop.band is not None
    assert (drop.band.low, drop.band.high) == pytest.approx((11.4 / 11 - 0.5, 11.4 / 11 + 0.5))


def test_an_infinite_value_is_left_to_the_static_thresholds() -> None:
    config = MetricConfig(
        "p95 latency",
        Unit.MILLISECONDS,
        interval=10,
        thresholds=StaticThresholds.above(critical=900),
        deviation=DeviationConfig(window=3600),
    )
    evaluator = MetricEvaluator(config, T0 - 3600)
    evaluator.backfill(alternating(230, 141.8, 360))
    infinite = evaluator.observe(T0, math.inf)
    assert infinite.result is CRITICAL
    assert infinite.reason == "p95 latency inf ms is above the critical threshold 900 ms"
    assert infinite.band is None
    after = evaluator.observe(T0 + 10, 230)  # the band never saw the infinity
    assert after.band is not None and after.band.centre == pytest.approx(230, abs=1)


def test_a_flat_series_reason() -> None:
    config = MetricConfig(
        "up",
        interval=10,
        deviation=DeviationConfig(min_deviation=0.5, min_samples=5, min_span=0),
    )
    evaluator = MetricEvaluator(config, T0 - 100)
    evaluator.backfill([(T0 - 10 * i, 1.0) for i in range(1, 11)])
    drop = evaluator.observe(T0, 0.0)
    assert drop.result is CRITICAL and drop.distance == -math.inf
    assert drop.reason == (
        "up 0 is 1 below its 1 h mean of 1, which has not varied; the minimum deviation is 0.5"
    )


def test_static_and_deviation_reasons_join_into_one_sentence() -> None:
    config = MetricConfig(
        "p95 latency",
        Unit.MILLISECONDS,
        interval=10,
        thresholds=StaticThresholds.above(warning=600, critical=900),
        deviation=DeviationConfig(window=3600),
    )
    evaluator = MetricEvaluator(config, T0 - 3600)
    evaluator.backfill(alternating(230, 141.8, 360))
    evaluation = evaluator.observe(T0, 812)
    assert evaluation.reason == (
        "p95 latency 812 ms is 4.1 sigma above its 1 h mean of 230 ms "
        "and is above the warning threshold 600 ms"
    )
    assert evaluation.result is CRITICAL  # the worse of CRITICAL (band) and WARNING (static)


def test_seasonal_evaluation_end_to_end() -> None:
    def pattern(at: float) -> float:
        hour = (at % DAY) / 3600
        return (100.0 if 10 <= hour < 14 else 10.0) + math.sin(at / 97.0)

    start = 20_000 * DAY
    history = [(start + 300 * i, pattern(start + 300 * i)) for i in range(4 * 288)]
    config = MetricConfig(
        "requests",
        Unit.PER_SECOND,
        interval=300,
        deviation=DeviationConfig(
            seasonality=Seasonality.DAILY, seasons=4, tolerance=1800, min_span=DAY
        ),
    )
    evaluator = MetricEvaluator(config, start)
    evaluator.backfill(history)
    noon = start + 4 * DAY + 12 * 3600
    quiet_noon = evaluator.observe(noon, 10.0)
    assert quiet_noon.result is CRITICAL
    assert "below its mean of 100/s at this time of day over the last 4 days" in quiet_noon.reason
    night = MetricEvaluator(config, start)
    night.backfill(history)
    assert night.observe(start + 4 * DAY + 3 * 3600, 10.0).result is OK


def test_flapping_starts_and_stops_with_reasons() -> None:
    config = MetricConfig(
        "health",
        thresholds=StaticThresholds.below(critical=1),
        policy=SoftHardPolicy(failures_to_hard=1, successes_to_recover=1),
    )
    evaluator = MetricEvaluator(config, T0)
    values = [1.0, 0.0] * 10 + [1.0] * 25
    evaluations = feed(evaluator, values, step=10)
    started = [e for e in evaluations if e.flap_change and e.flap_change.event is FlapEvent.STARTED]
    stopped = [e for e in evaluations if e.flap_change and e.flap_change.event is FlapEvent.STOPPED]
    assert len(started) == 1 and len(stopped) == 1
    assert started[0].flapping and started[0].flap_percent >= 30
    assert started[0].flap_change is not None
    assert started[0].flap_change.reason.endswith("flapping started (at or above 30 %)")
    assert not stopped[0].flapping and stopped[0].flap_percent <= 20
    assert not evaluations[-1].flapping


def test_a_source_judged_state_goes_through_soft_and_hard() -> None:
    config = MetricConfig("check_disk", interval=60)
    evaluator = MetricEvaluator(config, T0)
    texts = "DISK CRITICAL - free space: / 120 MB (2%)"
    results = [evaluator.report(T0 + 60 * i, CRITICAL, texts) for i in range(3)]
    assert [r.state_type for r in results] == [SOFT, SOFT, HARD]
    assert only_change(results[2]).reason == f"{texts}; 3 checks in a row"


def test_the_state_can_be_saved_and_resumed() -> None:
    first = MetricEvaluator(DISK, T0)
    feed(first, [93, 93])
    saved = first.state
    assert isinstance(saved, EvaluatorState)
    resumed = MetricEvaluator(DISK, T0, state=saved)
    third = resumed.observe(T0 + 60, 93)
    assert only_change(third).state_type is HARD


def test_changes_serialise_for_the_event_log() -> None:
    evaluator = MetricEvaluator(LATENCY, T0 - 3600)
    evaluator.backfill(alternating(230, 141.8, 360))
    change = only_change(evaluator.observe(T0, 812))
    payload = json.loads(json.dumps(change.payload(), allow_nan=False))
    assert payload["metric"] == "p95 latency"
    assert (payload["from"], payload["to"], payload["type"]) == ("ok", "critical", "soft")
    assert payload["at"] == "2026-03-01T00:00:00.000000Z"
    assert payload["band"]["method"] == "mean_sigma"
    assert payload["band"]["centre"] == pytest.approx(230)
    assert payload["reason"].startswith("p95 latency 812 ms")
    stale = evaluator.tick(T0 + 1000)
    assert stale is not None
    assert only_change(stale).payload()["value"] is None
    assert moment(T0) == datetime(2026, 3, 1, tzinfo=UTC)


def test_metric_configs_are_validated() -> None:
    with pytest.raises(ValidationError, match="name"):
        MetricConfig("  ")
    with pytest.raises(ValidationError, match="interval"):
        MetricConfig("x", interval=0)
