"""Incidents in a real SQLite store: signals, actions, the timeline, rebuilds and races."""

from __future__ import annotations

import json
import shutil
import threading
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
from console.core.checks import CheckState
from console.core.clock import FakeClock
from console.core.enums import Discipline, ImpactTier, Priority, Severity
from console.core.errors import ValidationError
from console.core.events import EventType
from console.core.incident_policy import Hold, IncidentSettings, SignalEffect
from console.core.incidents import (
    Incident,
    IncidentNotFound,
    IncidentState,
    ResolveReason,
    TransitionRefused,
)
from console.core.models import Member, Service, Team
from console.core.routing import Matcher, MatchOp, Route, RoutingTable
from console.core.signals import ManualReport, Signal, alert_signal, metric_signal
from console.core.silences import OneOffWindow, Silence, Weekday, WeeklyWindow
from console.store import alerting, entities, events
from console.store import incidents as inc
from console.store.db import Store
from console.store.migrations import known_names

from tests.fixtures.make_store_fixture import STORES, describe_incidents

MINUTE = 60.0


def _estate(store: Store) -> None:
    """Members, three teams and a chain of services: shop -> api -> postgres -> network."""
    for email in ("ada@example.com", "grace@example.com"):
        entities.save(store, Member(email, email.split("@")[0], "UTC", Discipline.OTHER))
    for key in ("infra", "web", "noc"):
        entities.save(store, Team(key, key.title(), Discipline.INFRASTRUCTURE))
    for service in (
        Service("network", "Network", "infra", ImpactTier.TIER_1),
        Service("postgres", "Postgres", "infra", ImpactTier.TIER_1, depends_on=("network",)),
        Service("api", "API", "web", ImpactTier.TIER_2, depends_on=("postgres",)),
        Service("shop", "Shop", "web", ImpactTier.TIER_3, depends_on=("api",)),
    ):
        entities.save(store, service)


@pytest.fixture
def estate_store(store: Store) -> Store:
    _estate(store)
    return store


def metric(
    service: str = "postgres",
    state: CheckState = CheckState.CRITICAL,
    clock: FakeClock | None = None,
    endpoint: str | None = None,
) -> Signal:
    found = metric_signal(
        service=service,
        endpoint=endpoint or f"{service}-port",
        metric_key=None,
        metric_name="check",
        state=state,
        started_at=(clock.now() if clock else FakeClock().now()) - timedelta(minutes=1),
        value=1.0,
        reason="connection refused",
    )
    assert found is not None
    return found


def types(found: list[Any]) -> list[str]:
    return [e.type.value for e in found]


def test_a_metric_signal_opens_an_incident_for_the_service_owner(estate_store: Store) -> None:
    outcome = inc.open_or_update(estate_store, metric("postgres"))
    incident = outcome.incident
    assert outcome.effect is SignalEffect.OPENED and outcome.notify
    assert (incident.ref, incident.team, incident.service) == ("INC-1", "infra", "postgres")
    assert (incident.severity, incident.priority) == (Severity.CRITICAL, Priority.P1)
    assert incident.priority_reason.startswith("tier 1 x critical -> P1")
    assert types(list(outcome.events)) == ["incident.opened"]
    assert outcome.events[0].subject == f"incident:{incident.id}"
    assert inc.get(estate_store.read(), "inc-1") == incident
    second = inc.open_or_update(estate_store, metric("api"))
    assert second.incident.number == 2


def test_repeats_are_counted_without_events_until_a_quiet_period(
    estate_store: Store, clock: FakeClock
) -> None:
    first = inc.open_or_update(estate_store, metric(clock=clock)).incident
    logged = events.last_seq(estate_store.read())
    for _ in range(5):
        clock.advance(MINUTE)
        outcome = inc.open_or_update(estate_store, metric(clock=clock))
        assert outcome.effect is SignalEffect.UPDATED and outcome.events == ()
        assert not outcome.notify
    assert events.last_seq(estate_store.read()) == logged
    stored = inc.get(estate_store.read(), first.id)
    assert (stored.count, stored.last_seen_at) == (6, clock.now())
    clock.advance(15 * MINUTE)
    recurred = inc.open_or_update(estate_store, metric(clock=clock))
    assert recurred.effect is SignalEffect.RECURRED and not recurred.notify
    assert types(list(recurred.events)) == ["incident.recurred"]
    assert recurred.events[0].payload["count"] == 7
    assert (recurred.incident.count, recurred.incident.recurrences) == (7, 1)


def test_a_higher_severity_is_recorded_with_its_priority_and_notifies(
    estate_store: Store,
) -> None:
    inc.open_or_update(estate_store, metric("api", CheckState.WARNING))
    worse = inc.open_or_update(estate_store, metric("api", CheckState.CRITICAL))
    assert worse.effect is SignalEffect.UPDATED and worse.worse and worse.notify
    change = worse.events[0]
    assert change.type is EventType.INCIDENT_SEVERITY_CHANGED
    assert (change.payload["from"], change.payload["to"]) == ("warning", "critical")
    assert (change.payload["priority_from"], change.payload["priority_to"]) == ("P3", "P2")
    assert worse.incident.priority is Priority.P2
    better = inc.open_or_update(estate_store, metric("api", CheckState.WARNING))
    assert better.events and not better.worse and not better.notify


def test_the_timeline_is_every_event_of_the_incident_in_order(
    estate_store: Store, clock: FakeClock
) -> None:
    inc.open_or_update(estate_store, metric())
    inc.open_or_update(estate_store, metric("api"))  # another incident's events interleave
    estate_store.act_as("ada@example.com")
    clock.advance(MINUTE)
    inc.acknowledge(estate_store, "INC-1")
    inc.acknowledge(estate_store, "INC-2")
    estate_store.act_as("grace@example.com")
    clock.advance(MINUTE)
    inc.mitigate(estate_store, "1", note="failed over")
    clock.advance(MINUTE)
    done = inc.resolve(estate_store, "1", note="replaced the disk")
    timeline = inc.timeline(estate_store.read(), "INC-1")
    assert types(timeline) == [
        "incident.opened",
        "incident.acknowledged",
        "incident.mitigated",
        "incident.resolved",
    ]
    assert [e.actor for e in timeline[1:]] == [
        "ada@example.com",
        "grace@example.com",
        "grace@example.com",
    ]
    assert all(e.subject == f"incident:{done.id}" for e in timeline)
    assert [e.event_time for e in timeline] == sorted(e.event_time for e in timeline)
    assert done.durations.to_resolve == timedelta(minutes=4)
    assert done.resolve_reason is ResolveReason.MANUAL and done.resolved_by == "grace@example.com"


def test_refused_commands_leave_the_log_as_it_was(estate_store: Store) -> None:
    inc.open_or_update(estate_store, metric())
    inc.open_or_update(estate_store, metric("api"))
    inc.resolve(estate_store, "INC-1")
    logged = events.last_seq(estate_store.read())
    with pytest.raises(TransitionRefused, match="already resolved"):
        inc.resolve(estate_store, "INC-1")
    with pytest.raises(TransitionRefused, match="reopen it before acknowledging"):
        inc.acknowledge(estate_store, "INC-1")
    with pytest.raises(IncidentNotFound, match="there is no incident 'INC-9'"):
        inc.acknowledge(estate_store, "INC-9")
    with pytest.raises(ValidationError, match="unknown team"):
        inc.reassign(estate_store, "INC-2", "nobody", reason="x")
    with pytest.raises(ValidationError, match="say why"):
        inc.reassign(estate_store, "INC-2", "noc", reason="")
    assert events.last_seq(estate_store.read()) == logged


def test_merging_sends_later_signals_to_the_survivor(estate_store: Store) -> None:
    inc.open_or_update(estate_store, metric("postgres", endpoint="pg-a"))
    inc.open_or_update(estate_store, metric("postgres", endpoint="pg-b"))
    survivor = inc.merge(estate_store, "INC-2", "INC-1")
    assert survivor.ref == "INC-1" and survivor.is_open
    gone = inc.get(estate_store.read(), "INC-2")
    assert (gone.state, gone.resolve_reason, gone.merged_into) == (
        IncidentState.RESOLVED,
        ResolveReason.MERGED,
        survivor.id,
    )
    assert types(inc.timeline(estate_store.read(), "INC-1"))[-1] == "incident.absorbed"
    again = inc.open_or_update(estate_store, metric("postgres", endpoint="pg-b"))
    assert again.incident.id == survivor.id and again.effect is SignalEffect.UPDATED
    with pytest.raises(TransitionRefused, match="into itself"):
        inc.merge(estate_store, "INC-1", "INC-1")
    with pytest.raises(TransitionRefused, match="only open incidents"):
        inc.merge(estate_store, "INC-2", "INC-1")


def _everything(store: Store) -> list[Incident]:
    return inc.list_incidents(store.read(), states=list(IncidentState))


def test_a_rebuild_gives_back_exactly_the_live_projection(
    estate_store: Store, clock: FakeClock
) -> None:
    store = estate_store
    window = OneOffWindow(clock.now(), clock.now() + timedelta(hours=1))
    alerting.save_silence(store, Silence.for_service("pg", "postgres", window))
    alerting.set_routing(store, RoutingTable((Route("noc"),), default_team=None))
    inc.open_or_update(store, metric("network"))
    inc.open_or_update(store, metric("api"))
    for _ in range(3):
        clock.advance(MINUTE)
        inc.open_or_update(store, metric("network"))
    clock.advance(20 * MINUTE)
    inc.open_or_update(store, metric("network", CheckState.WARNING))
    inc.create_manual(store, ManualReport("Checkout fails", "service desk", service="shop"))
    inc.acknowledge(store, "INC-1", on_behalf_of="ada@example.com")
    inc.snooze(store, "INC-3", until=clock.now() + timedelta(hours=1))
    inc.override_priority(store, "INC-3", Priority.P1, reason="the CEO is watching")
    inc.reassign(store, "INC-2", "noc", reason="night shift")
    inc.open_or_update(store, metric("shop"))
    inc.merge(store, "INC-4", "INC-3")
    inc.mitigate(store, "INC-1")
    live = _everything(store)
    assert len(live) == 4 and live[0].count == 1
    counted = next(i for i in live if i.ref == "INC-1")
    assert counted.count == 5
    silences, routes = alerting.silences(store.read()), alerting.routing(store.read())

    replayed = events.rebuild(store)

    assert replayed == events.last_seq(store.read())
    assert _everything(store) == live  # counters included: the rebuild keeps them
    assert alerting.silences(store.read()) == silences and alerting.routing(store.read()) == routes
    later = inc.open_or_update(store, metric("postgres", endpoint="shop-port"))
    assert later.incident.number == 5  # numbering goes on after a rebuild


def test_two_consoles_acknowledging_at_once_one_wins_one_is_told(
    estate_store: Store, store_path: Path, clock: FakeClock
) -> None:
    incident = inc.open_or_update(estate_store, metric()).incident
    consoles = [Store.open(store_path, clock), Store.open(store_path, clock)]
    consoles[0].act_as("ada@example.com")
    consoles[1].act_as("grace@example.com")
    start = threading.Barrier(2)
    results: dict[int, Incident | Exception] = {}

    def acknowledge(n: int) -> None:
        start.wait()
        try:
            results[n] = inc.acknowledge(consoles[n], incident.ref)
        except Exception as exc:  # noqa: BLE001 - the test inspects what was raised
            results[n] = exc

    threads = [threading.Thread(target=acknowledge, args=(n,)) for n in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    finally:
        for console in consoles:
            console.close()
    wins = [r for r in results.values() if isinstance(r, Incident)]
    losses = [r for r in results.values() if isinstance(r, Exception)]
    assert len(wins) == 1 and len(losses) == 1, results
    winner = wins[0].acknowledged_by
    assert isinstance(losses[0], TransitionRefused)
    assert f"INC-1 is already acknowledged by {winner}" in str(losses[0])
    timeline = inc.timeline(estate_store.read(), incident.id)
    assert types(timeline).count("incident.acknowledged") == 1


def test_a_downstream_incident_is_grouped_and_held_back(estate_store: Store) -> None:
    root = inc.open_or_update(estate_store, metric("network")).incident
    child = inc.open_or_update(estate_store, metric("shop"))
    assert child.incident.parent == root.id
    assert child.grouped and child.hold is Hold.GROUPED and not child.notify
    assert child.events[0].payload["parent_number"] == 1
    assert [i.ref for i in inc.children(estate_store.read(), "INC-1")] == ["INC-2"]
    report = inc.create_manual(estate_store, ManualReport("Shop down", "desk", service="shop"))
    assert report.incident.parent is None and report.notify  # a person's report is never held
    inc.resolve(estate_store, "INC-1")
    again = inc.open_or_update(estate_store, metric("shop", CheckState.CRITICAL, endpoint="x"))
    assert again.incident.parent is None and again.notify


def test_a_silence_keeps_the_record_but_holds_the_notification(
    estate_store: Store, clock: FakeClock
) -> None:
    window = WeeklyWindow(tuple(Weekday), time(0), time(0), "Europe/Berlin")
    alerting.save_silence(estate_store, Silence.for_service("api-upgrade", "api", window, "v2"))
    silenced = inc.open_or_update(estate_store, metric("api"))
    assert silenced.suppressed and silenced.silenced_by == "api-upgrade" and not silenced.notify
    assert silenced.incident.state is IncidentState.TRIGGERED
    assert silenced.events[0].payload["silenced_by"] == "api-upgrade"
    alerting.delete_silence(estate_store, "api-upgrade")
    worse = inc.open_or_update(estate_store, metric("postgres"))
    assert not worse.suppressed and worse.notify


def test_inbound_alerts_are_routed_first_match_then_owner_then_default(
    estate_store: Store, clock: FakeClock
) -> None:
    table = RoutingTable(
        (
            Route("noc", (Matcher("category", MatchOp.EQUAL, "security"),)),
            Route("infra", (Matcher("alertname", MatchOp.REGEX, "Disk.*"),)),
        ),
        default_team="noc",
    )
    assert alerting.set_routing(estate_store, table) is not None
    assert alerting.set_routing(estate_store, table) is None  # unchanged: no event

    def alert(name: str, **labels: str) -> Signal:
        return alert_signal(
            labels={"alertname": name, **labels}, annotations={}, starts_at=clock.now()
        )

    both = inc.open_or_update(estate_store, alert("DiskFull", category="security"))
    assert both.incident.team == "noc"
    assert both.events[0].payload["route"] == {
        "basis": "route",
        "reason": "route 1 (category='security')",
    }
    assert inc.open_or_update(estate_store, alert("DiskFull")).incident.team == "infra"
    assert inc.open_or_update(estate_store, alert("Slow", service="api")).incident.team == "web"
    assert inc.open_or_update(estate_store, alert("Odd")).incident.team == "noc"
    with pytest.raises(ValidationError, match="unknown team 'ghosts'"):
        alerting.set_routing(estate_store, RoutingTable(default_team="ghosts"))


def test_recovery_resolves_automatically_where_allowed(
    estate_store: Store, clock: FakeClock
) -> None:
    sig = metric("api")
    inc.open_or_update(estate_store, sig)
    clock.advance(MINUTE)
    resolved = inc.clear_signal(estate_store, sig.dedup_key)
    assert resolved is not None and resolved.resolve_reason is ResolveReason.AUTO
    assert inc.clear_signal(estate_store, sig.dedup_key) is None  # nothing open any more
    clock.advance(MINUTE)
    assert inc.open_or_update(estate_store, sig).effect is SignalEffect.OPENED  # reopen is off

    keep = IncidentSettings(auto_resolve_services={"api": False}, reopen_within=timedelta(hours=1))
    assert inc.clear_signal(estate_store, sig.dedup_key, settings=keep) is None
    assert inc.open_for_key(estate_store.read(), sig.dedup_key) is not None
    assert inc.clear_signal(estate_store, sig.dedup_key) is not None
    back = inc.open_or_update(estate_store, sig, settings=keep)
    assert back.effect is SignalEffect.REOPENED and back.notify
    assert back.incident.number == 2 and back.incident.state is IncidentState.TRIGGERED


def test_a_flapping_incident_stays_one_incident(estate_store: Store, clock: FakeClock) -> None:
    sig = metric("api", CheckState.WARNING)
    first = inc.open_or_update(estate_store, sig).incident
    marked = inc.mark_flapping(estate_store, sig.dedup_key, True)
    assert marked is not None and marked.flapping
    assert inc.clear_signal(estate_store, sig.dedup_key) is None  # not resolved while flapping
    again = inc.open_or_update(estate_store, metric("api", CheckState.CRITICAL))
    assert again.worse  # worse, but a flapping signal does not notify again
    assert again.incident.id == first.id and again.hold is Hold.FLAPPING and not again.notify
    assert inc.mark_flapping(estate_store, "metric:none/x/check", True) is None


def test_manual_reports(estate_store: Store) -> None:
    report = ManualReport("Checkout fails", "ana@shop.example", impact="no sales", service="shop")
    first = inc.create_manual(estate_store, report)
    second = inc.create_manual(estate_store, report)
    assert first.incident.id != second.incident.id  # reports never deduplicate
    assert (first.incident.team, first.incident.reporter, first.incident.impact) == (
        "web",
        "ana@shop.example",
        "no sales",
    )
    to_noc = inc.create_manual(estate_store, ManualReport("VPN down", "bob", team="noc"))
    assert to_noc.incident.team == "noc"
    with pytest.raises(ValidationError, match="unknown service 'nope'"):
        inc.create_manual(estate_store, ManualReport("x", "y", service="nope"))
    with pytest.raises(ValidationError, match="unknown team 'nope'"):
        inc.create_manual(estate_store, ManualReport("x", "y", team="nope"))
    clear = inc.clear_signal(estate_store, first.incident.dedup_key)
    assert clear is None  # manual incidents are not resolved by a recovery


def test_lists_put_the_unacknowledged_first_and_count_for_the_tray(
    estate_store: Store, clock: FakeClock
) -> None:
    store = estate_store
    inc.open_or_update(store, metric("shop", CheckState.WARNING))  # P4
    inc.open_or_update(store, metric("network"))  # P1 (the shop's is not grouped: opened first)
    inc.open_or_update(store, metric("api"))  # P2, grouped under network
    inc.acknowledge(store, "INC-2")
    inc.snooze(store, "INC-3", until=clock.now() + timedelta(hours=1))
    db = store.read()
    assert [i.ref for i in inc.list_incidents(db)] == ["INC-3", "INC-1", "INC-2"]
    assert [i.ref for i in inc.list_incidents(db, team="infra")] == ["INC-2"]
    assert [i.ref for i in inc.list_incidents(db, priority=Priority.P4)] == ["INC-1"]
    counts = inc.unacknowledged_counts(db)
    assert (counts[Priority.P1], counts[Priority.P2], counts[Priority.P4]) == (0, 1, 1)
    assert inc.unacknowledged_counts(db, clock.now())[Priority.P2] == 0  # snoozed
    assert inc.acknowledged_services(db) == frozenset({"network"})
    inc.resolve(store, "INC-1")
    assert [i.ref for i in inc.list_incidents(db, states=[IncidentState.RESOLVED])] == ["INC-1"]


def test_a_signal_in_the_callers_transaction_rolls_back_with_it(estate_store: Store) -> None:
    with pytest.raises(RuntimeError), estate_store.transaction() as db:
        inc.open_or_update(estate_store, metric(), db=db)
        raise RuntimeError("the engine's batch failed")
    assert inc.list_incidents(estate_store.read(), states=list(IncidentState)) == []
    outcomes = inc.open_or_update_many(estate_store, [metric(), metric(), metric("api")])
    assert [o.effect for o in outcomes] == [
        SignalEffect.OPENED,
        SignalEffect.UPDATED,
        SignalEffect.OPENED,
    ]
    assert outcomes[2].incident.parent == outcomes[0].incident.id  # grouped within the batch


def test_escalation_reads_only_what_is_due(estate_store: Store, clock: FakeClock) -> None:
    incident = inc.open_or_update(estate_store, metric()).incident
    with estate_store.transaction() as db:
        inc.set_next_due(db, incident.id, clock.now() + timedelta(minutes=5))
    assert inc.due(estate_store.read(), clock.now()) == []
    clock.advance(5 * MINUTE)
    due = inc.due(estate_store.read(), clock.now())
    assert [i.id for i in due] == [incident.id] and due[0].next_due_at is not None
    inc.acknowledge(estate_store, incident.id)  # the projection leaves escalation's column alone
    assert inc.get(estate_store.read(), incident.id).next_due_at == due[0].next_due_at


def test_events_of_other_families_on_an_incident_subject_are_kept_but_not_folded(
    estate_store: Store,
) -> None:
    incident = inc.open_or_update(estate_store, metric()).incident
    events.record(estate_store, EventType.METRIC_FLAPPING, f"incident:{incident.id}", {"x": 1})
    assert inc.get(estate_store.read(), incident.id) == incident
    assert types(inc.timeline(estate_store.read(), incident.id)) == [
        "incident.opened",
        "metric.flapping",
    ]


def _fixtures_from(first: str) -> list[str]:
    names = known_names()
    return list(names[names.index(first) :])


@pytest.mark.parametrize("name", _fixtures_from("m005_incidents"))
def test_a_recorded_store_keeps_its_incidents_through_upgrade_and_rebuild(
    name: str, tmp_path: Path
) -> None:
    copy = tmp_path / "store.db"
    shutil.copyfile(STORES / f"{name}.db", copy)
    expected = json.loads((STORES / f"{name}.json").read_text())["incidents"]
    assert len(expected["incidents"]) >= 5, "the fixture must hold incidents"
    with Store.open(copy, FakeClock()) as store:
        assert describe_incidents(store) == expected
        events.rebuild(store)
        assert describe_incidents(store) == expected


def test_an_older_store_upgrades_with_no_incidents(tmp_path: Path) -> None:
    copy = tmp_path / "store.db"
    shutil.copyfile(STORES / "m004_status.db", copy)
    with Store.open(copy, FakeClock()) as store:
        assert inc.list_incidents(store.read(), states=list(IncidentState)) == []
        assert inc.open_or_update(store, metric("postgres")).incident.ref == "INC-1"
