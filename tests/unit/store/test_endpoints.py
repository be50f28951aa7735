"""Endpoints in the store: events, the projected table, guarded deletes, rebuilds, imports."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

import pytest
from console.config.demo import demo_estate
from console.core import codec
from console.core.endpoints import (
    Endpoint,
    HttpTarget,
    MetricSpec,
    NagiosTarget,
    ScrapeTarget,
    TcpTarget,
)
from console.core.enums import EntityKind
from console.core.errors import Problem, ValidationError
from console.core.events import EventType
from console.core.models import Estate
from console.core.thresholds import StaticThresholds
from console.core.units import Unit
from console.store import entities, estate, events
from console.store.db import Store
from console.store.errors import StoreConflict

from tests.unit.store import sample

HEALTH = Endpoint(
    "api-health",
    "API health",
    "api",
    HttpTarget("https://api.example.com/health", headers=(("X-Z", "1"), ("Accept", "*/*"))),
    interval_s=30.0,
    timeout_s=4.0,
    jitter_s=2.0,
    credential="api-token",
    metrics=(
        MetricSpec(
            "response_time_ms",
            "response time",
            Unit.MILLISECONDS,
            thresholds=StaticThresholds.above(warning=200, critical=800),
        ),
    ),
)
DISK = Endpoint(
    "db-disk", "DB disk", "db", NagiosTarget(("/bin/check_disk", "-w", "10%")), enabled=False
)


def rows(store: Store) -> list[dict[str, object]]:
    cursor = store.read().execute("SELECT * FROM endpoints ORDER BY key")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def test_a_saved_endpoint_is_an_event_and_a_row_and_reads_back_equal(store: Store) -> None:
    sample.basic(store)
    event = entities.save(store, HEALTH)
    assert event is not None and event.type is EventType.ENDPOINT_UPSERTED
    assert event.subject == "endpoint:api-health" and event.payload["before"] is None
    entities.save(store, DISK)
    assert estate.endpoints(store.read()) == (HEALTH, DISK)
    assert estate.load(store.read()).endpoints == (HEALTH, DISK)
    health, disk = rows(store)
    assert {k: v for k, v in health.items() if k != "spec"} == {
        "key": "api-health",
        "name": "API health",
        "service": "api",
        "kind": "http",
        "enabled": 1,
        "interval_s": 30.0,
        "timeout_s": 4.0,
        "jitter_s": 2.0,
        "credential": "api-token",
    }
    assert json.loads(str(health["spec"])) == codec.endpoint_to_dict(HEALTH)
    assert (disk["kind"], disk["enabled"], disk["credential"]) == ("nagios", 0, None)


def test_an_unchanged_save_records_nothing_and_an_edit_records_before_and_after(
    store: Store,
) -> None:
    sample.basic(store)
    entities.save(store, HEALTH)
    logged = events.last_seq(store.read())
    assert entities.save(store, HEALTH) is None
    assert events.last_seq(store.read()) == logged
    edited = replace(HEALTH, interval_s=10.0, target=TcpTarget("api.example.com", 443))
    event = entities.save(store, edited)
    assert event is not None
    assert (event.payload["before"]["kind"], event.payload["after"]["kind"]) == ("http", "tcp")
    assert estate.endpoints(store.read()) == (edited,)
    assert rows(store)[0]["interval_s"] == 10.0


def test_an_invalid_endpoint_is_refused_with_paths_relative_to_it(store: Store) -> None:
    sample.basic(store)
    logged = events.last_seq(store.read())
    bad = replace(HEALTH, service="ghost", interval_s=0.25, jitter_s=0.0)
    with pytest.raises(ValidationError) as caught:
        entities.save(store, bad)
    assert caught.value.problems == [
        Problem("interval", "must be 1 second or more"),
        Problem("service", "unknown service 'ghost'"),
    ]
    assert events.last_seq(store.read()) == logged and rows(store) == []


def test_a_service_with_endpoints_cannot_be_deleted_until_they_are(store: Store) -> None:
    sample.basic(store)
    entities.save(store, DISK)
    with pytest.raises(StoreConflict, match="endpoint db-disk"):
        entities.delete(store, EntityKind.SERVICE, "db")
    event = entities.delete(store, EntityKind.ENDPOINT, "db-disk")
    assert event.type is EventType.ENDPOINT_DELETED
    assert event.payload["before"] == codec.endpoint_to_dict(DISK)
    assert rows(store) == []
    with pytest.raises(StoreConflict, match="no endpoint 'db-disk'"):
        entities.delete(store, EntityKind.ENDPOINT, "db-disk")


def test_the_table_refuses_rows_the_record_would_refuse(store: Store) -> None:
    sample.basic(store)
    entities.save(store, HEALTH)
    spec = str(rows(store)[0]["spec"])
    insert = (
        "INSERT INTO endpoints (key, name, service, kind, enabled, interval_s, timeout_s, spec) "
        "VALUES (?, 'x', ?, 'tcp', 1, ?, 1, ?)"
    )
    cases = [("a", "ghost", 30, spec), ("b", "api", 0.5, spec), ("c", "api", 30, "{not json")]
    for key, service, interval, text in cases:
        with pytest.raises(sqlite3.IntegrityError), store.transaction() as db:
            db.execute(insert, [key, service, interval, text])
    assert [r["key"] for r in rows(store)] == ["api-health"]


def test_rebuild_replays_endpoints_from_the_log(store: Store) -> None:
    sample.basic(store)
    for item in (HEALTH, DISK, replace(DISK, enabled=True)):
        entities.save(store, item)
    entities.delete(store, EntityKind.ENDPOINT, HEALTH.key)
    before = rows(store)
    assert events.rebuild(store) == events.last_seq(store.read())
    assert rows(store) == before
    assert estate.endpoints(store.read()) == (replace(DISK, enabled=True),)


def test_an_import_with_prune_removes_endpoints_before_their_services(store: Store) -> None:
    sample.basic(store)
    entities.save(store, HEALTH)
    entities.save(store, DISK)
    known = estate.load(store.read())
    keep = Estate(
        members=known.members,
        teams=known.teams,
        services=(sample.service("api"),),  # no longer depends on db
        runbooks=known.runbooks,
        endpoints=(HEALTH,),
    )
    changes = entities.import_estate(store, keep, prune=True, source="test")
    assert [(c.verb, c.kind, c.key) for c in changes] == [
        ("update", EntityKind.SERVICE, "api"),
        ("delete", EntityKind.ENDPOINT, "db-disk"),
        ("delete", EntityKind.SERVICE, "db"),
    ]
    assert estate.endpoints(store.read()) == (HEALTH,)


def test_the_demo_imports_once_and_then_plans_nothing(store: Store) -> None:
    declared = demo_estate("http://127.0.0.1:41234")
    entities.import_estate(store, declared, prune=False, source="demo")
    assert estate.endpoints(store.read()) == declared.sorted().endpoints
    scraped = [e for e in estate.endpoints(store.read()) if isinstance(e.target, ScrapeTarget)]
    assert scraped and all(e.target.url == "http://127.0.0.1:41234/metrics" for e in scraped)
    assert entities.import_estate(store, declared, prune=True, source="demo") == []
