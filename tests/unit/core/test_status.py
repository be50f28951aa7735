"""The wall's read model: display states, STALE at the 3-interval boundary, worst-first tiles."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from console.core.checks import CheckState, StateType
from console.core.enums import ImpactTier
from console.core.status import (
    DisplayState,
    MetricStatus,
    ServiceInfo,
    service_tiles,
    stale_cutoff,
    unit_symbol,
    value_text,
    worst_first,
)
from console.core.units import Unit

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def metric(
    service: str = "api",
    endpoint: str = "api-health",
    name: str = "check",
    state: CheckState = CheckState.OK,
    *,
    since: datetime | None = None,
    last_check: datetime | None = None,
    interval_s: float = 30.0,
    flapping: bool = False,
) -> MetricStatus:
    """A status checked 10 s ago unless told otherwise."""
    return MetricStatus(
        endpoint=endpoint,
        endpoint_name=endpoint.title(),
        service=service,
        service_name=service.title(),
        team="web",
        team_name="Web",
        metric_key=None if name == "check" else name,
        metric_name=name,
        unit="",
        state=state,
        state_type=StateType.HARD,
        flapping=flapping,
        since=since if since is not None else ago(600),
        reason=f"{name} is {state.value}",
        value=None,
        last_check=last_check if last_check is not None else ago(10),
        interval_s=interval_s,
    )


def info(key: str, tier: ImpactTier = ImpactTier.TIER_2, name: str | None = None) -> ServiceInfo:
    return ServiceInfo(key, name or key.title(), tier, "web", "Web")


# -- STALE ------------------------------------------------------------------------------------


def test_data_is_stale_only_strictly_after_three_intervals() -> None:
    exactly = metric(last_check=ago(90.0), interval_s=30.0)
    just_after = metric(last_check=ago(90.001), interval_s=30.0)
    assert not exactly.is_stale(NOW)
    assert exactly.display_state(NOW) is DisplayState.OK
    assert just_after.is_stale(NOW)
    assert just_after.display_state(NOW) is DisplayState.STALE
    assert exactly.data_age(NOW) == pytest.approx(90.0)


def test_a_metric_never_checked_or_judged_stale_by_the_engine_is_stale() -> None:
    never = replace(metric(), last_check=None, since=None)
    assert never.is_stale(NOW) and never.display_state(NOW) is DisplayState.STALE
    assert never.data_age(NOW) is None and never.seconds_in_state(NOW) is None
    engine_said = metric(state=CheckState.STALE, last_check=ago(1))
    assert engine_said.display_state(NOW) is DisplayState.STALE


def test_a_bad_value_shows_while_fresh_and_turns_stale_when_it_is_old() -> None:
    critical = metric(state=CheckState.CRITICAL, last_check=ago(89))
    assert critical.display_state(NOW) is DisplayState.CRITICAL
    old = replace(critical, last_check=ago(91))
    assert old.display_state(NOW) is DisplayState.STALE
    warning = metric(state=CheckState.WARNING)
    assert warning.display_state(NOW) is DisplayState.WARNING


# -- flapping -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state", [CheckState.OK, CheckState.UNKNOWN, CheckState.WARNING, CheckState.CRITICAL]
)
def test_a_flapping_metric_shows_flapping_whatever_its_latest_state(state: CheckState) -> None:
    shown = metric(state=state, flapping=True)
    assert shown.display_state(NOW) is DisplayState.FLAPPING
    assert shown.state is state  # the judged state is still known underneath


def test_stale_data_beats_flapping() -> None:
    assert metric(flapping=True, last_check=ago(300)).display_state(NOW) is DisplayState.STALE


def test_display_states_rank_in_the_documented_order() -> None:
    order = [DisplayState.OK, DisplayState.STALE, DisplayState.UNKNOWN, DisplayState.FLAPPING]
    order += [DisplayState.WARNING, DisplayState.CRITICAL]
    assert [s.rank for s in order] == list(range(6))
    assert DisplayState.FLAPPING.label == "FLAPPING"


def test_time_in_state_never_goes_negative() -> None:
    assert metric(since=ago(125)).seconds_in_state(NOW) == pytest.approx(125)
    assert metric(since=NOW + timedelta(seconds=5)).seconds_in_state(NOW) == 0.0


# -- tiles ----------------------------------------------------------------------------------


def test_tiles_come_worst_first_by_display_state() -> None:
    services = [info(k) for k in ("ok", "stale", "unknown", "flapping", "warning", "critical")]
    metrics = [
        metric("ok"),
        metric("stale", last_check=ago(3600)),
        metric("unknown", state=CheckState.UNKNOWN),
        metric("flapping", flapping=True),
        metric("warning", state=CheckState.WARNING),
        metric("critical", state=CheckState.CRITICAL),
    ]
    tiles = service_tiles(services, reversed(metrics), NOW)
    assert [t.service for t in tiles] == [
        "critical",
        "warning",
        "flapping",
        "unknown",
        "stale",
        "ok",
    ]
    assert [t.state.value for t in tiles] == [t.service for t in tiles]


def test_a_tile_shows_its_worst_metric_and_counts_the_bad_ones() -> None:
    metrics = [
        metric(name="check"),
        metric(name="latency", state=CheckState.WARNING, since=ago(60)),
        metric(name="errors", state=CheckState.CRITICAL, since=ago(30)),
        metric(name="queue", last_check=ago(500)),
    ]
    (tile,) = service_tiles([info("api")], metrics, NOW)
    assert tile.state is DisplayState.CRITICAL
    assert tile.worst is metrics[2] and tile.since == ago(30)
    assert (tile.metric_count, tile.bad_count) == (4, 3)
    assert tile.data_age_s == pytest.approx(10)  # the newest result among its metrics
    assert tile.unacknowledged


def test_equal_states_tie_on_tier_then_time_in_state_then_name() -> None:
    services = [
        info("b-late", ImpactTier.TIER_1, "b late"),
        info("tier3", ImpactTier.TIER_3),
        info("a-late", ImpactTier.TIER_1, "A late"),
        info("early", ImpactTier.TIER_1),
    ]
    crit = CheckState.CRITICAL
    metrics = [
        metric("b-late", state=crit, since=ago(60)),
        metric("tier3", state=crit, since=ago(9000)),
        metric("a-late", state=crit, since=ago(60)),
        metric("early", state=crit, since=ago(600)),
    ]
    tiles = service_tiles(services, metrics, NOW)
    # Tier 1 before tier 3 however long; the longest first; then the name, case-blind.
    assert [t.service for t in tiles] == ["early", "a-late", "b-late", "tier3"]


def test_within_a_service_the_longest_standing_of_equal_metrics_is_the_worst() -> None:
    newer = metric(name="latency", state=CheckState.WARNING, since=ago(60))
    older = metric(name="errors", state=CheckState.WARNING, since=ago(600))
    (tile,) = service_tiles([info("api")], [newer, older], NOW)
    assert tile.worst is older
    never = replace(metric(name="queue"), since=None, last_check=None)
    (tile,) = service_tiles([info("api")], [never, metric(name="disk", last_check=ago(99))], NOW)
    assert tile.state is DisplayState.STALE and tile.worst is not never


def test_a_service_without_metrics_is_ok_with_no_data_age() -> None:
    (tile,) = service_tiles([info("quiet")], [metric("elsewhere")], NOW)
    assert tile.state is DisplayState.OK and tile.worst is None and tile.since is None
    assert (tile.metric_count, tile.bad_count, tile.data_age_s) == (0, 0, None)
    assert not tile.unacknowledged


def test_only_a_critical_without_an_acknowledged_incident_holds_its_page() -> None:
    services = [info("api"), info("db"), info("web")]
    metrics = [
        metric("api", state=CheckState.CRITICAL),
        metric("db", state=CheckState.CRITICAL),
        metric("web", state=CheckState.WARNING),
    ]
    tiles = {t.service: t for t in service_tiles(services, metrics, NOW, frozenset({"db"}))}
    assert tiles["api"].unacknowledged
    assert not tiles["db"].unacknowledged
    assert not tiles["web"].unacknowledged


# -- additions --------------------------------------------------------------------------------


def test_worst_first_orders_metrics_like_the_tiles() -> None:
    ok = metric(name="a")
    stale = metric(name="b", last_check=ago(1000))
    warning_new = metric(name="c", state=CheckState.WARNING, since=ago(5))
    warning_old = metric(name="d", state=CheckState.WARNING, since=ago(500))
    never = replace(metric(name="e"), since=None, last_check=None)
    ordered = worst_first([ok, never, warning_new, stale, warning_old], NOW)
    assert [m.metric_name for m in ordered] == ["d", "c", "b", "e", "a"]


def test_every_unit_has_a_symbol() -> None:
    symbols = {unit: unit_symbol(unit) for unit in Unit}
    assert symbols[Unit.NONE] == "" and symbols[Unit.PERCENT] == "%"
    assert symbols[Unit.MILLISECONDS] == "ms" and symbols[Unit.BYTES] == "B"
    assert all(symbols[u] for u in Unit if u is not Unit.NONE)


def test_values_are_written_in_their_unit_and_missing_ones_as_a_dash() -> None:
    latency = replace(metric(name="latency"), value=1234.0, unit=unit_symbol(Unit.MILLISECONDS))
    assert value_text(latency) == "1.23 s"
    disk = replace(metric(name="disk"), value=1536.0, unit=unit_symbol(Unit.BYTES))
    assert value_text(disk) == "1.5 KiB"
    assert value_text(replace(metric(), value=None)) == "-"
    assert value_text(replace(metric(), value=3.0)) == "3"


def test_the_stale_cutoff_is_three_intervals_back() -> None:
    assert stale_cutoff(NOW, 30.0) == ago(90)
    assert stale_cutoff(NOW, 2.5) == ago(7.5)
