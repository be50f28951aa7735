"""Incidents in the core: transitions, timestamps, the fold, priority, routing, silences, groups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from console.core import incident_rules as rules
from console.core.checks import CheckState
from console.core.enums import ImpactTier, Priority, Severity
from console.core.errors import ValidationError
from console.core.events import EventType
from console.core.incident_policy import (
    Hold,
    IncidentSettings,
    decide_priority,
    group_parent,
    hold_for,
    is_quiet,
    opening,
    recurrence,
    reopens,
    severity_change,
    upstream_levels,
)
from console.core.incidents import (
    Fact,
    Incident,
    IncidentError,
    IncidentState,
    ResolveReason,
    Timestamps,
    TransitionRefused,
    apply,
    evolve,
    replay,
)
from console.core.models import PriorityMatrix
from console.core.routing import (
    Matcher,
    MatchOp,
    Route,
    RouteBasis,
    RouteDecision,
    RoutingTable,
    decide_team,
    routing_from_dict,
    routing_to_dict,
)
from console.core.signals import (
    ManualReport,
    Signal,
    SignalSource,
    alert_dedup_key,
    alert_signal,
    labels_fingerprint,
    metric_dedup_key,
    metric_signal,
    severity_for_check,
    severity_from_label,
)
from console.core.silences import (
    OneOffWindow,
    Silence,
    Weekday,
    WeeklyWindow,
    active_silence,
    silence_from_dict,
    silence_to_dict,
)
from hypothesis import given, settings
from hypothesis import strategies as st

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PROPERTY = settings(deadline=None, max_examples=150, database=None)
MINUTE = timedelta(minutes=1)


def signal(
    severity: Severity = Severity.CRITICAL, service: str | None = "db", **extra: Any
) -> Signal:
    fields: dict[str, Any] = {
        "source": SignalSource.METRIC,
        "dedup_key": "metric:db/db-port/check",
        "title": "db: check is CRITICAL",
        "severity": severity,
        "started_at": T0 - MINUTE,
        "service": service,
        **extra,
    }
    return Signal(**fields)


def opened(
    incident_id: str = "i-1",
    number: int = 1,
    *,
    at: datetime = T0,
    sig: Signal | None = None,
    parent: Incident | None = None,
) -> Incident:
    fact = opening(
        sig or signal(),
        incident_id=incident_id,
        number=number,
        now=at,
        route=RouteDecision("infra", RouteBasis.OWNER, "owner of service 'db'"),
        priority=(Priority.P2, "tier 2 x critical -> P2 (priority matrix)"),
        parent=parent,
    )
    incident = apply(None, [fact])
    assert incident is not None
    return incident


def step(incident: Incident, facts: tuple[Fact, ...]) -> Incident:
    after = apply(incident, facts)
    assert after is not None
    return after


# -- opening and the fold ------------------------------------------------------------------------


def test_opening_records_every_field_and_starts_triggered() -> None:
    incident = opened()
    assert incident.state is IncidentState.TRIGGERED
    assert incident.ref == "INC-1"
    assert (incident.team, incident.priority, incident.severity) == (
        "infra",
        Priority.P2,
        Severity.CRITICAL,
    )
    assert incident.started_at == T0 - MINUTE and incident.detected_at == T0
    assert incident.count == 1 and incident.last_seen_at == T0
    assert dict(incident.labels) == {} and not incident.drill
    assert opened(sig=signal(drill=True)).drill  # a rehearsal stays marked as one


def test_a_start_reported_in_the_future_is_clamped_to_the_detection() -> None:
    ahead = signal(started_at=T0 + timedelta(minutes=5))  # a sender whose clock runs ahead
    incident = opened(sig=ahead)
    assert incident.started_at == incident.detected_at == T0
    assert incident.timestamps.problems() == []


def test_the_fold_ignores_types_it_does_not_know_and_never_moves_backwards() -> None:
    incident = opened()
    later = T0 + MINUTE
    # Another family's event on the subject: nothing changes at all.
    assert evolve(incident, EventType.METRIC_FLAPPING, {}, later) == incident
    # An incident.* type the record has no field for: only the time of the latest change.
    absorbed = evolve(incident, EventType.INCIDENT_ABSORBED, {"from": "x"}, later)
    assert absorbed == replace(incident, updated_at=later)
    # An event before its opening (a log merged out of order) has nothing to fold into.
    assert evolve(None, EventType.INCIDENT_ACKNOWLEDGED, {"by": "a"}, later) is None
    # An acknowledgement that reaches us after the resolution does not un-resolve it.
    done = step(incident, rules.resolve(incident, by="ada", at=later))
    late_ack = {"by": "grace", "at": later.isoformat()}
    assert evolve(done, EventType.INCIDENT_ACKNOWLEDGED, late_ack, later).state is (  # type: ignore[union-attr]
        IncidentState.RESOLVED
    )


def test_replay_of_a_timeline_equals_the_record_built_step_by_step() -> None:
    incident = opened()
    facts: list[Fact] = [
        Fact(incident.id, EventType.INCIDENT_OPENED, dict(_opening_payload()), T0),
    ]
    current = incident
    for make in (
        lambda i: rules.acknowledge(i, by="ada", at=T0 + MINUTE),
        lambda i: rules.mitigate(i, by="ada", at=T0 + 2 * MINUTE, note="failed over"),
        lambda i: rules.resolve(i, by="ada", at=T0 + 3 * MINUTE),
    ):
        new = make(current)
        facts += new
        current = step(current, new)
    assert replay((f.type, f.payload, f.at) for f in facts) == current


def _opening_payload() -> dict[str, Any]:
    fact = opening(
        signal(),
        incident_id="i-1",
        number=1,
        now=T0,
        route=RouteDecision("infra", RouteBasis.OWNER, "owner of service 'db'"),
        priority=(Priority.P2, "tier 2 x critical -> P2 (priority matrix)"),
    )
    return dict(fact.payload)


# -- transitions ---------------------------------------------------------------------------------


def test_acknowledge_then_again_is_refused_with_who_and_when() -> None:
    incident = step(opened(), rules.acknowledge(opened(), by="ada@x.org", at=T0 + MINUTE))
    assert incident.state is IncidentState.ACKNOWLEDGED
    assert incident.acknowledged_by == "ada@x.org"
    with pytest.raises(TransitionRefused, match=r"INC-1 is already acknowledged by ada@x.org at"):
        rules.acknowledge(incident, by="grace@x.org", at=T0 + 2 * MINUTE)


def test_acknowledge_on_behalf_records_who_answered() -> None:
    facts = rules.acknowledge(opened(), by="noc@x.org", at=T0 + MINUTE, on_behalf_of="ada@x.org")
    assert facts[0].payload["by"] == "noc@x.org"
    assert step(opened(), facts).acknowledged_by == "ada@x.org"


def test_a_resolved_incident_refuses_acknowledge_mitigate_snooze_and_a_second_resolve() -> None:
    done = step(opened(), rules.resolve(opened(), by="ada", at=T0 + MINUTE))
    assert (done.resolve_reason, done.resolved_by) == (ResolveReason.MANUAL, "ada")
    attempts: list[Callable[[], object]] = [
        lambda: rules.acknowledge(done, by="b", at=T0 + 2 * MINUTE),
        lambda: rules.mitigate(done, by="b", at=T0 + 2 * MINUTE),
        lambda: rules.snooze(done, by="b", at=T0 + 2 * MINUTE, until=T0 + 9 * MINUTE),
        lambda: rules.resolve(done, by="b", at=T0 + 2 * MINUTE),
    ]
    for attempt in attempts:
        with pytest.raises(TransitionRefused, match=r"INC-1 is already resolved at .* by ada"):
            attempt()


def test_mitigating_a_triggered_incident_acknowledges_it_first() -> None:
    facts = rules.mitigate(opened(), by="ada", at=T0 + MINUTE, note="traffic drained")
    assert [f.type for f in facts] == [
        EventType.INCIDENT_ACKNOWLEDGED,
        EventType.INCIDENT_MITIGATED,
    ]
    after = step(opened(), facts)
    assert after.state is IncidentState.ACKNOWLEDGED and after.mitigated_at == T0 + MINUTE
    with pytest.raises(TransitionRefused, match="already mitigated"):
        rules.mitigate(after, by="ada", at=T0 + 2 * MINUTE)


def test_unacknowledge_returns_to_triggered_and_only_from_acknowledged() -> None:
    acked = step(opened(), rules.acknowledge(opened(), by="ada", at=T0 + MINUTE))
    back = step(acked, rules.unacknowledge(acked, by="escalation", at=T0 + 31 * MINUTE, reason="t"))
    assert back.state is IncidentState.TRIGGERED and back.acknowledged_at is None
    with pytest.raises(TransitionRefused, match="not acknowledged"):
        rules.unacknowledge(back, by="escalation", at=T0 + 32 * MINUTE, reason="t")


def test_reopen_clears_the_response_and_refuses_open_or_merged_incidents() -> None:
    done = step(opened(), rules.mitigate(opened(), by="ada", at=T0 + MINUTE))
    done = step(done, rules.resolve(done, by="ada", at=T0 + 2 * MINUTE))
    again = step(done, rules.reopen(done, by="ada", at=T0 + 3 * MINUTE, reason="came back"))
    assert again.state is IncidentState.TRIGGERED
    assert (again.acknowledged_at, again.mitigated_at, again.resolved_at) == (None, None, None)
    with pytest.raises(TransitionRefused, match="not resolved"):
        rules.reopen(again, by="ada", at=T0 + 4 * MINUTE, reason="x")
    merged = replace(done, merged_into="i-9")
    with pytest.raises(TransitionRefused, match="merged"):
        rules.reopen(merged, by="ada", at=T0 + 4 * MINUTE, reason="x")


def test_snooze_is_an_attribute_over_the_state_and_wake_ends_it() -> None:
    acked = step(opened(), rules.acknowledge(opened(), by="ada", at=T0 + MINUTE))
    until = T0 + timedelta(hours=1)
    snoozed = step(acked, rules.snooze(acked, by="ada", at=T0 + 2 * MINUTE, until=until))
    assert snoozed.state is IncidentState.ACKNOWLEDGED
    assert snoozed.is_snoozed(T0 + 30 * MINUTE) and not snoozed.is_snoozed(until)
    with pytest.raises(ValidationError, match="later time"):
        rules.snooze(acked, by="ada", at=T0 + 2 * MINUTE, until=T0)
    awake = step(snoozed, rules.wake(snoozed, by="ada", at=T0 + 3 * MINUTE))
    assert awake.snoozed_until is None and awake.state is IncidentState.ACKNOWLEDGED
    with pytest.raises(TransitionRefused, match="not snoozed"):
        rules.wake(awake, by="ada", at=T0 + 4 * MINUTE)
    resolved = step(snoozed, rules.resolve(snoozed, by="ada", at=T0 + 5 * MINUTE))
    assert resolved.snoozed_until is None


def test_reassign_needs_a_known_other_team_and_a_reason() -> None:
    incident = opened()
    teams = {"infra", "web"}
    moved = step(
        incident,
        rules.reassign(
            incident, by="ada", at=T0, to_team="web", reason="it is the API", teams=teams
        ),
    )
    assert moved.team == "web"
    with pytest.raises(TransitionRefused, match="already with team 'web'"):
        rules.reassign(moved, by="ada", at=T0, to_team="web", reason="again", teams=teams)
    with pytest.raises(ValidationError, match="unknown team 'nope'"):
        rules.reassign(incident, by="ada", at=T0, to_team="nope", reason="x", teams=teams)
    with pytest.raises(ValidationError, match="say why"):
        rules.reassign(incident, by="ada", at=T0, to_team="web", reason=" ", teams=teams)


def test_merge_rules() -> None:
    first, second = opened("i-1", 1), opened("i-2", 2)
    with pytest.raises(TransitionRefused, match="cannot merge INC-1 into itself"):
        rules.merge(first, first, by="ada", at=T0)
    closed = step(second, rules.resolve(second, by="ada", at=T0 + MINUTE))
    with pytest.raises(TransitionRefused, match="cannot merge into INC-2: it is resolved"):
        rules.merge(first, closed, by="ada", at=T0 + MINUTE)
    with pytest.raises(TransitionRefused, match="only open incidents can be merged"):
        rules.merge(closed, first, by="ada", at=T0 + MINUTE)
    facts = rules.merge(first, second, by="ada", at=T0 + MINUTE)
    assert [(f.incident, f.type) for f in facts] == [
        ("i-1", EventType.INCIDENT_MERGED),
        ("i-1", EventType.INCIDENT_RESOLVED),
        ("i-2", EventType.INCIDENT_ABSORBED),
    ]
    gone = step(first, facts)
    assert gone.state is IncidentState.RESOLVED
    assert (gone.resolve_reason, gone.merged_into) == (ResolveReason.MERGED, "i-2")


def test_merge_moves_the_children_of_the_absorbed_incident() -> None:
    root, other = opened("i-1", 1), opened("i-2", 2)
    child = opened("i-3", 3, parent=root)
    target_child = opened("i-4", 4, parent=root)
    facts = rules.merge(root, target_child, by="a", at=T0, children=[child, target_child, other])
    moved = {f.incident: f.payload["parent"] for f in facts if f.type is EventType.INCIDENT_GROUPED}
    # The survivor cannot be grouped under itself: it takes the absorbed one's own parent.
    assert moved == {"i-3": "i-4", "i-4": None}


def test_priority_override_sticks_through_severity_changes() -> None:
    incident = opened()
    with pytest.raises(ValidationError, match="say why"):
        rules.override_priority(incident, by="ada", at=T0, to=Priority.P1, reason="")
    with pytest.raises(TransitionRefused, match="already P2"):
        rules.override_priority(incident, by="ada", at=T0, to=Priority.P2, reason="x")
    forced = step(
        incident,
        rules.override_priority(incident, by="ada", at=T0, to=Priority.P1, reason="CEO demo"),
    )
    assert forced.priority is Priority.P1 and forced.priority_overridden
    assert forced.priority_reason == "set by hand: CEO demo"
    lower = severity_change(forced, Severity.WARNING, at=T0, priority=(Priority.P3, "matrix"))
    assert lower is not None and lower.payload["priority_to"] is None
    assert step(forced, (lower,)).priority is Priority.P1
    free = severity_change(incident, Severity.WARNING, at=T0, priority=(Priority.P3, "matrix"))
    assert free is not None and step(incident, (free,)).priority is Priority.P3
    assert severity_change(incident, Severity.CRITICAL, at=T0, priority=(Priority.P2, "")) is None


def test_grouping_refuses_itself_loops_and_resolved_parents() -> None:
    a, b = opened("i-1", 1), opened("i-2", 2)
    with pytest.raises(TransitionRefused, match="under itself"):
        rules.group(a, a, by="x", at=T0, parent_of={})
    b_under_a = step(b, rules.group(b, a, by="x", at=T0, parent_of={}))
    assert b_under_a.parent == "i-1"
    with pytest.raises(TransitionRefused, match="INC-2 is already grouped under INC-1"):
        rules.group(a, b_under_a, by="x", at=T0, parent_of={"i-2": "i-1"})
    done = step(a, rules.resolve(a, by="x", at=T0 + MINUTE))
    with pytest.raises(TransitionRefused, match="it is resolved"):
        rules.group(b, done, by="x", at=T0 + MINUTE, parent_of={})
    ungrouped = step(b_under_a, rules.group(b_under_a, None, by="x", at=T0, parent_of={}))
    assert ungrouped.parent is None


def test_flapping_is_recorded_only_when_it_changes() -> None:
    incident = opened()
    facts = rules.set_flapping(incident, at=T0, flapping=True)
    flapping = step(incident, facts)
    assert flapping.flapping and rules.set_flapping(flapping, at=T0, flapping=True) == ()


# -- timestamps ----------------------------------------------------------------------------------


def test_timestamps_out_of_order_are_each_reported() -> None:
    stamps = Timestamps(T0, T0 - MINUTE, T0 + 5 * MINUTE, T0 + MINUTE, None)
    problems = stamps.problems()
    assert [p.path for p in problems] == ["detected", "mitigated"]
    assert "detected (2026-03-01T08:59:00.000000Z) is before started" in problems[0].message
    with pytest.raises(ValidationError):
        stamps.validate()


def test_a_command_cannot_record_timestamps_out_of_order() -> None:
    with pytest.raises(ValidationError, match="acknowledged .* is before detected"):
        rules.acknowledge(opened(), by="ada", at=T0 - timedelta(hours=1))
    acked = step(opened(), rules.acknowledge(opened(), by="ada", at=T0 + 10 * MINUTE))
    with pytest.raises(ValidationError, match="resolved .* is before acknowledged"):
        rules.resolve(acked, by="ada", at=T0 + 5 * MINUTE)


def test_durations_are_computed_in_one_place() -> None:
    stamps = Timestamps(T0, T0 + 2 * MINUTE, T0 + 5 * MINUTE, None, T0 + 60 * MINUTE)
    d = stamps.durations
    assert (d.to_detect, d.to_acknowledge) == (2 * MINUTE, 3 * MINUTE)
    # Never mitigated on its own: the impact ended with the resolution.
    assert d.to_mitigate == d.to_resolve == 60 * MINUTE
    mitigated = replace(stamps, mitigated=T0 + 20 * MINUTE).durations
    assert mitigated.to_mitigate == 20 * MINUTE
    open_one = Timestamps(T0, T0).durations
    assert (open_one.to_acknowledge, open_one.to_mitigate, open_one.to_resolve) == (None,) * 3


_COMMANDS = st.lists(
    st.tuples(
        st.sampled_from(
            ["ack", "unack", "mitigate", "resolve", "reopen", "snooze", "wake", "flap"]
        ),
        st.integers(min_value=-3, max_value=30),
    ),
    max_size=25,
)


def _run(incident: Incident, name: str, at: datetime) -> tuple[Fact, ...]:
    by = "ada"
    commands: dict[str, Callable[[], tuple[Fact, ...]]] = {
        "ack": lambda: rules.acknowledge(incident, by=by, at=at),
        "unack": lambda: rules.unacknowledge(incident, by=by, at=at, reason="timeout"),
        "mitigate": lambda: rules.mitigate(incident, by=by, at=at),
        "resolve": lambda: rules.resolve(incident, by=by, at=at),
        "reopen": lambda: rules.reopen(incident, by=by, at=at, reason="back"),
        "snooze": lambda: rules.snooze(incident, by=by, at=at, until=at + 10 * MINUTE),
        "wake": lambda: rules.wake(incident, by=by, at=at),
        "flap": lambda: rules.set_flapping(incident, at=at, flapping=not incident.flapping),
    }
    return commands[name]()


@PROPERTY
@given(_COMMANDS)
def test_any_sequence_of_commands_keeps_the_record_consistent(
    commands: list[tuple[str, int]],
) -> None:
    incident = opened()
    log: list[Fact] = []
    for name, minutes in commands:
        at = T0 + minutes * MINUTE
        try:
            facts = _run(incident, name, at)
        except (IncidentError, ValidationError):
            continue  # refused: the record must be untouched, which the next step relies on
        incident = step(incident, facts)
        log += facts
        assert incident.timestamps.problems() == []
        acked = incident.acknowledged_at is not None
        assert acked == (incident.acknowledged_by is not None)
        if incident.state is IncidentState.TRIGGERED:
            assert not acked and incident.resolved_at is None
        if incident.state is IncidentState.ACKNOWLEDGED:
            assert acked and incident.resolved_at is None
        if incident.state is IncidentState.RESOLVED:
            assert incident.resolved_at is not None and incident.snoozed_until is None
        if incident.mitigated_at is not None:
            assert acked or incident.state is IncidentState.RESOLVED
    assert apply(opened(), log) == incident


# -- severity, priority, dedup keys --------------------------------------------------------------


def test_severity_from_check_states() -> None:
    assert severity_for_check(CheckState.CRITICAL) is Severity.CRITICAL
    assert severity_for_check(CheckState.WARNING) is Severity.WARNING
    assert severity_for_check(CheckState.UNKNOWN) is Severity.WARNING
    assert severity_for_check(CheckState.UNKNOWN, unknown=Severity.CRITICAL) is Severity.CRITICAL
    assert severity_for_check(CheckState.STALE) is None
    assert severity_for_check(CheckState.OK) is None
    stale = metric_signal(
        service="db",
        endpoint="db-port",
        metric_key=None,
        metric_name="check",
        state=CheckState.STALE,
        started_at=T0,
    )
    assert stale is None


def test_severity_from_inbound_labels() -> None:
    assert severity_from_label(" Critical ") is Severity.CRITICAL
    assert severity_from_label("page") is Severity.CRITICAL
    assert severity_from_label("warning") is Severity.WARNING
    assert severity_from_label("info") is Severity.INFO
    assert severity_from_label("bogus") is Severity.WARNING
    assert severity_from_label(None, unknown=Severity.INFO) is Severity.INFO


def test_priority_comes_from_the_matrix_cell_or_the_default_tier() -> None:
    matrix = PriorityMatrix().with_cell(ImpactTier.TIER_2, Severity.CRITICAL, Priority.P1)
    priority, reason = decide_priority(
        matrix, ImpactTier.TIER_2, Severity.CRITICAL, ImpactTier.TIER_3
    )
    assert priority is Priority.P1 and reason.startswith("tier 2 x critical -> P1")
    unknown, why = decide_priority(matrix, None, Severity.WARNING, ImpactTier.TIER_3)
    assert unknown is matrix.priority(ImpactTier.TIER_3, Severity.WARNING)
    assert "tier 3 is assumed" in why


def test_dedup_keys() -> None:
    assert metric_dedup_key("db", "db-port", None) == "metric:db/db-port/check"
    assert metric_dedup_key("db", "db-disk", "/") == "metric:db/db-disk//"
    assert alert_dedup_key("abc123", {"a": "1"}) == "alert:abc123"
    assert alert_dedup_key(None, {"a": "1"}) != alert_dedup_key(None, {"a": "2"})
    key = ManualReport("Payments fail", "service desk").signal("k-1", T0).dedup_key
    assert key == "manual:k-1"


@PROPERTY
@given(st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=6))
def test_a_label_digest_ignores_the_order_of_the_labels(labels: dict[str, str]) -> None:
    backwards = dict(reversed(list(labels.items())))
    assert labels_fingerprint(labels) == labels_fingerprint(backwards)


def test_an_inbound_alert_maps_into_a_signal() -> None:
    sig = alert_signal(
        labels={"alertname": "DiskFull", "severity": "critical", "service": "db"},
        annotations={"summary": "Disk 95% full", "description": "/var on db1"},
        starts_at=T0,
        fingerprint="f00d",
    )
    assert (sig.source, sig.dedup_key, sig.title, sig.summary, sig.service) == (
        SignalSource.ALERT,
        "alert:f00d",
        "Disk 95% full",
        "/var on db1",
        "db",
    )
    assert sig.severity is Severity.CRITICAL and sig.match_labels["alertname"] == "DiskFull"


def test_a_signal_refuses_an_empty_title_and_a_naive_start() -> None:
    with pytest.raises(ValidationError) as caught:
        Signal(SignalSource.ALERT, " ", "", Severity.INFO, datetime(2026, 1, 1))  # noqa: DTZ001
    assert [p.path for p in caught.value.problems] == ["dedup_key", "title", "started_at"]


# -- repeats and reopening -----------------------------------------------------------------------


def test_a_repeat_recurs_only_after_the_quiet_period() -> None:
    incident = opened()
    rules_ = IncidentSettings()
    assert not is_quiet(incident, T0 + 14 * MINUTE, rules_)
    assert is_quiet(incident, T0 + 15 * MINUTE, rules_)
    fact = recurrence(incident, signal(value=97.5), now=T0 + 20 * MINUTE)
    after = step(incident, (fact,))
    assert (after.recurrences, after.count, after.last_seen_at) == (1, 2, T0 + 20 * MINUTE)
    assert fact.payload["value"] == 97.5


def test_only_a_recent_automatic_resolution_is_undone_by_a_new_signal() -> None:
    incident = opened()
    auto = step(
        incident, rules.resolve(incident, by="e", at=T0 + MINUTE, reason=ResolveReason.AUTO)
    )
    manual = step(incident, rules.resolve(incident, by="ada", at=T0 + MINUTE))
    off = IncidentSettings()
    on = IncidentSettings(reopen_within=timedelta(minutes=10))
    assert not reopens(auto, T0 + 2 * MINUTE, off)
    assert reopens(auto, T0 + 2 * MINUTE, on) and not reopens(auto, T0 + 12 * MINUTE, on)
    assert not reopens(manual, T0 + 2 * MINUTE, on)
    flapping = replace(auto, flapping=True)  # a flapping metric stays one incident
    assert reopens(flapping, T0 + 15 * MINUTE, off) and not reopens(flapping, T0 + 17 * MINUTE, off)


def test_settings_round_trip_and_auto_resolve_per_service() -> None:
    chosen = IncidentSettings(
        quiet_period=timedelta(minutes=5),
        unknown_severity=Severity.CRITICAL,
        auto_resolve_services={"payments": False},
    )
    assert IncidentSettings.from_dict(chosen.to_dict()) == chosen
    assert IncidentSettings.from_dict({}) == IncidentSettings()
    assert chosen.auto_resolves(SignalSource.METRIC, "db")
    assert not chosen.auto_resolves(SignalSource.METRIC, "payments")
    assert not chosen.auto_resolves(SignalSource.MANUAL, None)
    with pytest.raises(ValidationError):
        IncidentSettings(quiet_period=-MINUTE)


def test_holds_in_order_of_precedence() -> None:
    incident = opened()
    assert hold_for(incident, now=T0, silenced_by="m", parent_open=True, new=True) is Hold.SILENCED
    child = replace(incident, parent="i-0")
    assert hold_for(child, now=T0, silenced_by=None, parent_open=True, new=True) is Hold.GROUPED
    assert hold_for(child, now=T0, silenced_by=None, parent_open=False, new=True) is None
    snoozed = replace(incident, snoozed_until=T0 + MINUTE)
    assert hold_for(snoozed, now=T0, silenced_by=None, parent_open=False, new=False) is Hold.SNOOZED
    flapping = replace(incident, flapping=True)
    assert hold_for(flapping, now=T0, silenced_by=None, parent_open=False, new=True) is None
    assert (
        hold_for(flapping, now=T0, silenced_by=None, parent_open=False, new=False) is Hold.FLAPPING
    )


# -- routing -------------------------------------------------------------------------------------

TABLE = RoutingTable(
    routes=(
        Route("secops", (Matcher("category", MatchOp.EQUAL, "security"),), name="security"),
        Route("dba", (Matcher("alertname", MatchOp.REGEX, "Postgres.*|Disk.*"),)),
        Route("web", (Matcher("severity", MatchOp.REGEX, "critical|page"),)),
    ),
    default_team="noc",
)


def test_routes_first_match_wins() -> None:
    both = {"category": "security", "alertname": "DiskFull", "severity": "critical"}
    decision = decide_team(both, table=TABLE)
    assert (decision.team, decision.basis, decision.reason) == (
        "secops",
        RouteBasis.ROUTE,
        "route 'security'",
    )
    disk = decide_team({"alertname": "DiskFull", "severity": "critical"}, table=TABLE)
    assert disk.team == "dba" and disk.reason.startswith("route 2 (alertname=~")


def test_regex_matchers_are_anchored_and_missing_labels_are_empty() -> None:
    # "MyDiskFull" contains "Disk" but the anchored regex wants it at the start.
    assert decide_team({"alertname": "MyDiskFull"}, table=TABLE).team == "noc"
    absent = Matcher("env", MatchOp.NOT_EQUAL, "prod")
    assert absent.matches({}) and not Matcher("env", MatchOp.REGEX, ".+").matches({})
    assert Matcher("env", MatchOp.NOT_REGEX, "prod|stage").matches({"env": "dev"})


def test_no_route_falls_back_to_the_named_service_owner_then_the_default() -> None:
    owner = decide_team({"service": "shop"}, table=TABLE, owner=("shop", "web"))
    assert (owner.team, owner.basis) == ("web", RouteBasis.OWNER)
    assert decide_team({}, table=TABLE).basis is RouteBasis.DEFAULT
    nobody = decide_team({}, table=RoutingTable())
    assert (nobody.team, nobody.basis) == (None, RouteBasis.NONE)
    chosen = decide_team({"category": "security"}, table=TABLE, explicit="infra")
    assert (chosen.team, chosen.basis) == ("infra", RouteBasis.EXPLICIT)


def test_matchers_parse_and_refuse_bad_regexes() -> None:
    assert Matcher.parse('severity=~"crit.*"') == Matcher("severity", MatchOp.REGEX, "crit.*")
    assert Matcher.parse("env != prod") == Matcher("env", MatchOp.NOT_EQUAL, "prod")
    with pytest.raises(ValidationError, match="expected name=value"):
        Matcher.parse("no operator")
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        Matcher("a", MatchOp.REGEX, "(")


def test_a_routing_table_round_trips() -> None:
    assert routing_from_dict(routing_to_dict(TABLE)) == TABLE


# -- silences ------------------------------------------------------------------------------------

BERLIN = "Europe/Berlin"


def _active_minutes(window: WeeklyWindow, day_start_utc: datetime, hours: int = 30) -> int:
    return sum(window.active(day_start_utc + i * MINUTE) for i in range(hours * 60))


def test_a_weekly_window_follows_the_local_clock_across_daylight_saving_changes() -> None:
    sunday = WeeklyWindow((Weekday.SUN,), time(2, 0), time(4, 0), BERLIN)
    # Ordinary Sunday (2026-03-22, CET = UTC+1): 02:00-04:00 local is 01:00-03:00 UTC.
    ordinary = datetime(2026, 3, 21, 22, 0, tzinfo=UTC)
    assert _active_minutes(sunday, ordinary) == 120
    assert sunday.active(datetime(2026, 3, 22, 1, 0, tzinfo=UTC))
    assert not sunday.active(datetime(2026, 3, 22, 3, 0, tzinfo=UTC))
    # 2026-03-29 the clocks go from 02:00 to 03:00: only 03:00-04:00 CEST exists (01:00Z-02:00Z).
    spring = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)
    assert _active_minutes(sunday, spring) == 60
    assert sunday.active(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))
    assert not sunday.active(datetime(2026, 3, 29, 0, 59, tzinfo=UTC))
    # 2026-10-25 the clocks go from 03:00 back to 02:00: 02:00-03:00 happens twice.
    autumn = datetime(2026, 10, 24, 21, 0, tzinfo=UTC)
    assert _active_minutes(sunday, autumn) == 180
    assert sunday.active(datetime(2026, 10, 25, 0, 0, tzinfo=UTC))  # 02:00 CEST
    assert sunday.active(datetime(2026, 10, 25, 2, 59, tzinfo=UTC))  # 03:59 CET
    assert not sunday.active(datetime(2026, 10, 25, 3, 0, tzinfo=UTC))


def test_a_window_across_midnight_belongs_to_the_day_it_starts() -> None:
    friday_night = WeeklyWindow((Weekday.FRI,), time(22, 0), time(2, 0), "UTC")
    assert friday_night.active(datetime(2026, 3, 6, 23, 0, tzinfo=UTC))  # Friday
    assert friday_night.active(datetime(2026, 3, 7, 1, 59, tzinfo=UTC))  # early Saturday
    assert not friday_night.active(datetime(2026, 3, 7, 23, 0, tzinfo=UTC))  # Saturday night
    assert not friday_night.active(datetime(2026, 3, 6, 1, 0, tzinfo=UTC))  # early Friday
    whole = WeeklyWindow((Weekday.SAT,), time(0, 0), time(0, 0), "UTC")
    assert _active_minutes(whole, datetime(2026, 3, 7, tzinfo=UTC), hours=48) == 24 * 60


def test_windows_refuse_bad_input() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        WeeklyWindow((Weekday.MON,), time(1), time(2), "Mars/Olympus")
    with pytest.raises(ValidationError, match="at least one day"):
        WeeklyWindow((), time(1), time(2), BERLIN)
    with pytest.raises(ValidationError, match="after the start"):
        OneOffWindow(T0, T0)
    with pytest.raises(ValidationError, match="at least one matcher"):
        Silence("all", (), OneOffWindow(T0, T0 + MINUTE))


def test_a_silence_matches_by_service_or_label_while_its_window_is_active() -> None:
    upgrade = Silence.for_service("db-upgrade", "db", OneOffWindow(T0, T0 + timedelta(hours=2)))
    lab = Silence(
        "lab",
        (Matcher("env", MatchOp.REGEX, "lab|test"),),
        WeeklyWindow(tuple(Weekday), time(0), time(0), BERLIN),
    )
    silences = [upgrade, lab]
    assert active_silence(silences, {"service": "db"}, T0 + MINUTE) is upgrade
    assert active_silence(silences, {"service": "db"}, T0 + timedelta(hours=2)) is None
    assert active_silence(silences, {"service": "api", "env": "lab"}, T0) is lab
    assert active_silence(silences, {"service": "api", "env": "prod"}, T0) is None
    for s in silences:
        assert silence_from_dict(silence_to_dict(s)) == s


# -- grouping ------------------------------------------------------------------------------------

DEPENDS = {
    "shop": ("api", "cdn"),
    "api": ("postgres", "network"),
    "postgres": ("network",),
    "network": (),
    "cdn": (),
    # A loop the validation would refuse; grouping must still end.
    "a": ("b",),
    "b": ("a",),
}


def _on(service: str, incident_id: str, number: int, **extra: Any) -> Incident:
    return replace(opened(incident_id, number), service=service, **extra)


def test_upstream_services_nearest_first_even_with_a_loop() -> None:
    assert upstream_levels("shop", DEPENDS) == [["api", "cdn"], ["postgres", "network"]]
    assert upstream_levels("a", DEPENDS) == [["b"]]


def test_a_downstream_incident_is_grouped_under_the_open_upstream_root() -> None:
    network = _on("network", "n", 1)
    assert group_parent("shop", DEPENDS, [network]) == network  # two hops away
    postgres = _on("postgres", "p", 2, parent="n")
    # The nearest upstream incident is postgres, itself grouped under network: the root wins.
    assert group_parent("api", DEPENDS, [postgres, network]) == network
    cdn = _on("cdn", "c", 3, detected_at=T0 - MINUTE)
    assert group_parent("shop", DEPENDS, [network, cdn]) == cdn  # one hop beats two
    resolved = replace(network, state=IncidentState.RESOLVED)
    assert group_parent("shop", DEPENDS, [resolved]) is None
    assert group_parent("network", DEPENDS, [network]) is None  # its own incident is no parent
    assert group_parent(None, DEPENDS, [network]) is None
    assert group_parent("a", DEPENDS, [_on("b", "b1", 4)]) is not None


def test_a_mitigated_incident_is_not_re_triggered() -> None:
    done = step(opened(), rules.mitigate(opened(), by="ada", at=T0 + MINUTE))
    with pytest.raises(TransitionRefused, match="mitigated .* not re-triggered"):
        rules.unacknowledge(done, by="escalation", at=T0 + 31 * MINUTE, reason="timeout")
