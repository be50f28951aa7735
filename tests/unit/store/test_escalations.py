"""Escalation in the store: policies, the snapshot at opening, next_due_at, turns that persist."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from console.core.clock import FakeClock
from console.core.enums import Discipline, EntityKind, ImpactTier, MemberRole
from console.core.errors import ValidationError
from console.core.escalation import Level, Policy, Target, TargetKind
from console.core.escalator import EscalationError, plan
from console.core.events import EventType
from console.core.incident_policy import Hold
from console.core.incidents import IncidentState, TransitionRefused
from console.core.models import Member, Membership, Service, Team
from console.core.schedules import Layer, Schedule, ShiftUnit
from console.core.signals import ManualReport
from console.core.silences import OneOffWindow, Silence
from console.store import alerting, entities, escalations, estate, events, incidents
from console.store.db import Store
from console.store.errors import StoreConflict
from console.store.migrations import known_names

from tests.fixtures.make_store_fixture import STORES, describe_escalations

ANA, BOB, CAT = "ana@example.com", "bob@example.com", "cat@example.com"
MIN = timedelta(minutes=1)
PRIMARY = Schedule(
    "primary", "Primary", "UTC", (Layer("Day", (BOB,), 1, ShiftUnit.WEEKS, date(2020, 1, 6)),)
)
POLICY = Policy(
    "payments-default",
    "Payments default",
    (
        Level(timedelta(0), (Target(TargetKind.SCHEDULE, "primary"),)),
        Level(10 * MIN, (Target(TargetKind.ROUND_ROBIN, "sre"),), urgent=True),
    ),
    repeat=1,
    ack_timeout=30 * MIN,
    services=("payments-api",),
)


@pytest.fixture
def estate_store(store: Store) -> Store:
    for email in (ANA, BOB, CAT):
        entities.save(store, Member(email, email[:3], "UTC", Discipline.OTHER))
    members = tuple(Membership(e, MemberRole.RESPONDER) for e in (ANA, BOB, CAT))
    entities.save(store, Team("sre", "SRE", Discipline.INFRASTRUCTURE, members=members))
    entities.save(store, Service("payments-api", "Payments", "sre", ImpactTier.TIER_1))
    entities.save(store, Service("ledger", "Ledger", "sre", ImpactTier.TIER_2))
    entities.save(store, PRIMARY)
    entities.save(store, POLICY)
    return store


def report(service: str = "payments-api") -> ManualReport:
    return ManualReport("Payments failing", "service desk", service=service)


def tick(store: Store) -> list[str]:
    """One engine tick as the lead's escalator runs it; returns the recipients, in order."""
    now = store.clock.now()
    db = store.read()
    people = escalations.directory(db, now)
    reached: list[str] = []
    for incident in incidents.due(db, now):
        found = plan(escalations.progress(db, incident.id), incident, people, now)
        escalations.apply_plan(store, incident.id, found)
        people = people.advanced(found.turns)
        reached += [d.recipient for d in found.deliveries]
    return reached


def test_a_policy_is_saved_read_back_and_survives_a_rebuild(estate_store: Store) -> None:
    db = estate_store.read()
    assert escalations.policies(db) == (POLICY,)
    assert estate.load(db).escalation_policies == (POLICY,)
    assert entities.save(estate_store, POLICY) is None  # unchanged: no event
    events.rebuild(estate_store)
    assert escalations.policies(estate_store.read()) == (POLICY,)


def test_a_bad_policy_is_refused_with_paths_relative_to_it(estate_store: Store) -> None:
    bad = replace(POLICY, key="other", levels=(Level(MIN, (Target(TargetKind.TEAM, "x"),)),))
    with pytest.raises(ValidationError) as refused:
        entities.save(estate_store, bad)
    paths = [p.path for p in refused.value.problems]
    assert paths == ["levels[0].targets[0]", "services[0]"]  # unknown team; claimed service


def test_what_a_policy_names_cannot_be_deleted_until_the_policy_is(estate_store: Store) -> None:
    for kind, key in (
        (EntityKind.SCHEDULE, "primary"),
        (EntityKind.TEAM, "sre"),
        (EntityKind.SERVICE, "payments-api"),
    ):
        with pytest.raises(StoreConflict, match="escalation policy payments-default"):
            entities.delete(estate_store, kind, key)
    entities.delete(estate_store, EntityKind.ESCALATION_POLICY, POLICY.key)
    entities.delete(estate_store, EntityKind.SCHEDULE, "primary")
    assert escalations.policies(estate_store.read()) == ()


def test_an_incident_opens_with_the_snapshot_and_is_due_at_once(
    estate_store: Store, clock: FakeClock
) -> None:
    outcome = incidents.create_manual(estate_store, report())
    types = [e.type for e in outcome.events]
    assert types == [EventType.INCIDENT_OPENED, EventType.ESCALATION_STARTED]
    started = outcome.events[1].payload
    assert started["policy_key"] == POLICY.key and started["policy"]["repeat"] == 1
    assert outcome.incident.next_due_at == clock.now()
    assert [i.id for i in incidents.due(estate_store.read(), clock.now())] == [outcome.incident.id]

    # A service without a policy of its own (nor its team's): no escalation, never due.
    other = incidents.create_manual(estate_store, report("ledger"))
    assert [e.type for e in other.events] == [EventType.INCIDENT_OPENED]
    assert other.incident.next_due_at is None
    assert escalations.progress(estate_store.read(), other.incident.id) is None


def test_a_later_policy_edit_does_not_change_a_running_escalation(
    estate_store: Store, clock: FakeClock
) -> None:
    opened = incidents.create_manual(estate_store, report()).incident
    edited = replace(POLICY, levels=POLICY.levels[:1], repeat=0)
    assert entities.save(estate_store, edited) is not None
    progress = escalations.progress(estate_store.read(), opened.id)
    assert progress is not None and progress.policy == POLICY
    assert tick(estate_store) == [BOB]
    clock.advance(600)
    assert tick(estate_store) == [ANA]  # level 1 of the snapshot, which the edit removed


def test_round_robin_turns_persist_across_incidents_and_a_reopened_store(
    estate_store: Store, clock: FakeClock
) -> None:
    for _ in range(2):
        incidents.create_manual(estate_store, report())
    assert tick(estate_store) == [BOB, BOB]  # level 0: the schedule
    clock.advance(600)
    assert tick(estate_store) == [ANA, BOB]  # level 1: one member per incident, in turn
    assert _level_one_recipients(estate_store) == [ANA, BOB]

    path = estate_store.path
    estate_store.close()
    with Store.open(path, clock) as reopened:
        incidents.create_manual(reopened, report())
        tick(reopened)
        clock.advance(600)
        tick(reopened)
        assert _level_one_recipients(reopened) == [ANA, BOB, CAT]
        turns = reopened.read().execute("SELECT * FROM round_robin_turns").fetchall()
        events.rebuild(reopened)
        assert reopened.read().execute("SELECT * FROM round_robin_turns").fetchall() == turns


def _level_one_recipients(store: Store) -> list[str]:
    out: list[str] = []
    for event in events.iter_events(store.read(), types=[EventType.ESCALATION_LEVEL_STARTED]):
        if event.payload["level"] == 1:
            out += [r["member"] for r in event.payload["recipients"]]
    return out


def test_people_actions_move_next_due_at(estate_store: Store, clock: FakeClock) -> None:
    opened = incidents.create_manual(estate_store, report()).incident
    tick(estate_store)
    ref = opened.ref

    def due() -> object:
        found = incidents.get(estate_store.read(), ref)
        return found.next_due_at

    assert due() == clock.now() + 10 * MIN
    incidents.snooze(estate_store, ref, until=clock.now() + 60 * MIN)
    assert due() == clock.now() + 70 * MIN
    clock.advance(120)
    incidents.wake(estate_store, ref)
    assert due() == clock.now() + 10 * MIN  # the two minutes snoozed did not count
    incidents.acknowledge(estate_store, ref)
    assert due() == clock.now() + 30 * MIN  # the acknowledgement timeout
    entities.save(estate_store, Team("web", "Web", Discipline.DEVELOPMENT))
    incidents.reassign(estate_store, ref, "web", reason="it is the front end")
    assert due() == clock.now() + 30 * MIN  # the snapshot stays: same policy, same timeout
    incidents.resolve(estate_store, ref)
    assert due() is None
    incidents.reopen(estate_store, ref, reason="it is back")
    assert due() == clock.now()


def test_acknowledge_on_behalf_records_who_answered_and_how(estate_store: Store) -> None:
    opened = incidents.create_manual(estate_store, report()).incident
    with pytest.raises(ValidationError, match="unknown member"):
        escalations.acknowledge_on_behalf(estate_store, opened.ref, "x@example.com", "phone")
    done = escalations.acknowledge_on_behalf(estate_store, opened.ref, BOB, "phone", by=ANA)
    assert done.state is IncidentState.ACKNOWLEDGED and done.acknowledged_by == BOB
    assert done.next_due_at == done.acknowledged_at + 30 * MIN  # type: ignore[operator]
    timeline = incidents.timeline(estate_store.read(), opened.ref)
    (ack,) = [e for e in timeline if e.type is EventType.INCIDENT_ACKNOWLEDGED]
    assert (ack.payload["by"], ack.payload["on_behalf_of"]) == (ANA, BOB)
    assert ack.payload["via"] == "phone"
    with pytest.raises(TransitionRefused):
        escalations.acknowledge_on_behalf(estate_store, opened.ref, CAT, "phone")


def test_escalate_now_is_due_at_once_and_reaches_the_next_level(
    estate_store: Store, clock: FakeClock
) -> None:
    opened = incidents.create_manual(estate_store, report()).incident
    tick(estate_store)
    clock.advance(60)
    after = escalations.escalate(estate_store, opened.ref, by=BOB)
    assert after.next_due_at == clock.now()
    assert tick(estate_store) == [ANA]
    clock.advance(60)
    escalations.escalate(estate_store, opened.ref)  # into the second loop
    assert tick(estate_store) == [BOB]
    clock.advance(60)
    escalations.escalate(estate_store, opened.ref)
    assert tick(estate_store) == [BOB]  # round robin took the next turn
    with pytest.raises(EscalationError):
        escalations.escalate(estate_store, opened.ref)


def test_a_rebuild_recomputes_next_due_at(estate_store: Store, clock: FakeClock) -> None:
    opened = incidents.create_manual(estate_store, report()).incident
    tick(estate_store)
    before = incidents.get(estate_store.read(), opened.ref).next_due_at
    assert before is not None
    events.rebuild(estate_store)
    assert incidents.get(estate_store.read(), opened.ref).next_due_at == before


def test_a_silenced_incident_pages_nobody(estate_store: Store, clock: FakeClock) -> None:
    window = OneOffWindow(clock.now() - MIN, clock.now() + 60 * MIN)
    alerting.save_silence(estate_store, Silence.for_service("quiet", "payments-api", window))
    outcome = incidents.create_manual(estate_store, report())
    assert outcome.hold is Hold.SILENCED
    assert outcome.incident.next_due_at is None
    assert escalations.progress(estate_store.read(), outcome.incident.id) is None


def test_the_ack_timeout_retrigger_is_recorded_on_the_incident(
    estate_store: Store, clock: FakeClock
) -> None:
    opened = incidents.create_manual(estate_store, report()).incident
    tick(estate_store)
    incidents.acknowledge(estate_store, opened.ref)
    clock.advance(30 * 60)
    assert tick(estate_store) == [BOB]
    now = incidents.get(estate_store.read(), opened.ref)
    assert now.state is IncidentState.TRIGGERED and now.next_due_at == clock.now() + 10 * MIN
    kinds = [e.type.value for e in incidents.timeline(estate_store.read(), opened.ref)][-3:]
    assert kinds == [
        "incident.unacknowledged",
        "escalation.retriggered",
        "escalation.level_started",
    ]


@pytest.mark.parametrize("name", known_names()[known_names().index("m007_escalation") :])
def test_a_fixture_store_resumes_the_escalations_it_recorded(name: str, tmp_path: Path) -> None:
    copy = tmp_path / "store.db"
    shutil.copyfile(STORES / f"{name}.db", copy)
    recorded = json.loads((STORES / f"{name}.json").read_text())["escalations"]
    assert recorded["turns"], "the fixture must have taken round-robin turns"
    assert any(i["level_empty"] or i["retriggers"] for i in recorded["incidents"])
    with Store.open(copy, FakeClock()) as store:
        assert describe_escalations(store) == recorded
        events.rebuild(store)
        assert describe_escalations(store) == recorded
