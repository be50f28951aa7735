"""The event log: append-only, unique time-ordered ids, a full envelope, rebuildable tables."""

from __future__ import annotations

import getpass
import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from console.core.clock import FakeClock
from console.core.enums import EntityKind, ImpactTier, Priority, Severity
from console.core.events import SCHEMA_VERSION, EventType, make_event
from console.core.models import PriorityMatrix, RunbookStep
from console.store import entities, estate, events
from console.store.db import Store

from tests.unit.store import sample


def test_the_log_refuses_updates_and_deletes(store: Store) -> None:
    sample.basic(store)
    before = list(events.iter_events(store.read()))
    for sql in ("UPDATE events SET actor = 'mallory'", "DELETE FROM events WHERE seq = 1"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"), store.transaction() as db:
            db.execute(sql)
    assert list(events.iter_events(store.read())) == before


def test_a_failed_transaction_leaves_no_event(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as db:
        events.record(store, EventType.CONFIG_IMPORTED, "config:import", {"n": 1}, db=db)
        raise RuntimeError("the import failed half-way")
    assert events.last_seq(store.read()) == 0


def test_ids_are_unique_and_ordered_by_time(store: Store, clock: FakeClock) -> None:
    for i in range(200):
        if i % 3 == 0:  # several events share a millisecond, the others follow each other
            clock.advance(0.002)
        events.record(store, EventType.CONFIG_IMPORTED, "config:import", {"i": i})
    log = list(events.iter_events(store.read()))
    ids = [e.id for e in log]
    assert len(set(ids)) == len(ids) == 200
    millis = [e.id.replace("-", "")[:12] for e in log]
    assert millis == sorted(millis)
    assert len(set(millis)) == 67
    assert [e.payload["i"] for e in log] == list(range(200))


def test_the_envelope_records_who_where_and_when(
    store: Store, clock: FakeClock, store_path: Path
) -> None:
    clock.advance(90)
    first = events.record(store, EventType.CONFIG_IMPORTED, "config:import", {"a": 1})
    assert first.actor == f"local:{getpass.getuser()}"
    store.set_setting("identity", "ada@example.com")
    second = events.record(store, EventType.CONFIG_IMPORTED, "config:import", {"a": 2})
    store.act_as("grace@example.com")  # the --as option wins over the identity setting
    third = events.record(store, EventType.CONFIG_IMPORTED, "config:import", {"a": 3})
    store.act_as(None)
    fourth = events.record(store, EventType.CONFIG_IMPORTED, "config:import", {"a": 4})
    assert [e.actor for e in (second, third, fourth)] == [
        "ada@example.com",
        "grace@example.com",
        "ada@example.com",
    ]
    stored = list(events.iter_events(store.read()))
    assert stored == [first, second, third, fourth]
    for event in stored:
        assert event.origin == store.console_id
        assert event.schema_version == SCHEMA_VERSION
        assert event.recorded_time == event.event_time == clock.now()
    console_id = store.console_id
    store.close()
    with Store.open(store_path, clock) as again:
        assert again.console_id == console_id
        assert again.actor == "ada@example.com"


def test_an_event_keeps_an_event_time_earlier_than_its_recording(
    store: Store, clock: FakeClock
) -> None:
    happened = clock.now() - timedelta(minutes=7, microseconds=250)
    event = make_event(
        EventType.CONFIG_IMPORTED,
        "config:import",
        {"text": "ünïcode ✓", "nested": {"list": [1, 2.5, None, True]}},
        actor="ada@example.com",
        origin=store.console_id,
        now=clock.now(),
        event_time=happened,
    )
    with store.transaction() as db:
        events.append(db, [event])
    (stored,) = events.iter_events(store.read())
    assert stored == event
    assert stored.event_time == happened < stored.recorded_time


def test_reading_the_log_filters_by_subject_type_and_position(store: Store) -> None:
    sample.basic(store)
    db = store.read()
    everything = list(events.iter_events(db))
    assert events.last_seq(db) == len(everything) == 5
    assert [e.subject for e in events.iter_events(db, subject="service:api")] == ["service:api"]
    assert [e.type for e in events.iter_events(db, types=[EventType.TEAM_UPSERTED])] == [
        EventType.TEAM_UPSERTED
    ]
    assert list(events.iter_events(db, after_seq=3)) == everything[3:]
    assert list(events.iter_events(db, limit=2)) == everything[:2]


def test_rebuilding_from_the_log_gives_the_same_estate(store: Store, clock: FakeClock) -> None:
    sample.basic(store)
    for i in range(30):
        clock.advance(30)
        entities.save(store, sample.member(f"user{i}@example.com", f"User {i}"))
        entities.save(store, sample.service(f"svc-{i}", "infra", "db"))
        if i % 4 == 0:
            entities.save(
                store, sample.runbook("restart", f"Restart the web tier, attempt {i}.", "api")
            )
    for i in range(0, 30, 3):
        entities.delete(store, EntityKind.SERVICE, f"svc-{i}")
        entities.delete(store, EntityKind.MEMBER, f"user{i}@example.com")
    entities.save(store, sample.runbook("gone", "Soon deleted.", "db"))
    entities.delete(store, EntityKind.RUNBOOK, "gone")
    team = sample.team("infra", "ada@example.com", "user1@example.com", lead="ada@example.com")
    entities.save(store, team)
    matrix = PriorityMatrix().with_cell(ImpactTier.TIER_3, Severity.CRITICAL, Priority.P1)
    entities.set_priority_matrix(store, matrix)
    matrix = matrix.with_cell(ImpactTier.TIER_4, Severity.INFO, Priority.P3)
    entities.set_priority_matrix(store, matrix)
    runbook = sample.runbook("restart", "Restart.", "api")
    extra = RunbookStep("Check", "Look at the graphs.")
    entities.save(store, replace(runbook, steps=(*runbook.steps, extra)))

    db = store.read()
    before = estate.load(db)
    versions = {r.key: estate.runbook_versions(db, r.key) for r in before.runbooks}
    versions["gone"] = estate.runbook_versions(db, "gone")
    logged = events.last_seq(db)

    assert events.rebuild(store) == logged
    db = store.read()
    assert estate.load(db) == before
    assert {key: estate.runbook_versions(db, key) for key in versions} == versions
    assert len(versions["restart"]) == 10
    assert estate.priority_matrix(db) == matrix
    assert estate.search_runbooks(db, "graphs") == ("restart",)
