"""Writing configuration: validated saves, no-op saves, guarded deletes, runbook versions."""

from __future__ import annotations

from dataclasses import replace

import pytest
from console.core.clock import FakeClock
from console.core.enums import EntityKind, ImpactTier, Priority, ResourceKind, Severity
from console.core.errors import Problem, ValidationError
from console.core.events import EventType
from console.core.models import Estate, PriorityMatrix, RunbookStep, SharedResource
from console.store import entities, estate, events
from console.store.db import Store
from console.store.errors import StoreConflict

from tests.unit.store import sample


def count(store: Store) -> int:
    return events.last_seq(store.read())


def test_a_save_records_one_event_with_before_and_after(store: Store) -> None:
    first = entities.save(store, sample.member())
    assert first is not None and first.type is EventType.MEMBER_UPSERTED
    assert first.subject == "member:ada@example.com"
    assert first.payload["before"] is None
    second = entities.save(store, sample.member(name="Ada L."))
    assert second is not None
    assert (second.payload["before"]["name"], second.payload["after"]["name"]) == ("Ada", "Ada L.")
    assert estate.members(store.read()) == (sample.member(name="Ada L."),)


def test_an_unchanged_save_returns_none_and_records_nothing(store: Store) -> None:
    sample.basic(store)
    logged = count(store)
    for item in (
        sample.member(),
        sample.team("infra", "ada@example.com", lead="ada@example.com"),
        sample.service("api", "infra", "db"),
        sample.runbook("restart", "Restart the web tier.", "api"),
    ):
        assert entities.save(store, item) is None
    assert entities.set_priority_matrix(store, PriorityMatrix()) is None
    assert count(store) == logged


def test_a_save_is_validated_with_field_paths(store: Store) -> None:
    sample.basic(store)
    logged = count(store)
    with pytest.raises(ValidationError) as caught:
        entities.save(store, replace(sample.member("not-an-email"), timezone="Mars/Olympus"))
    paths = {p.path for p in caught.value.problems}
    assert paths == {"email", "timezone"}
    with pytest.raises(ValidationError) as caught:
        entities.save(store, sample.service("web", "nobody", "db", "ghost"))
    assert caught.value.problems == [
        Problem("team", "unknown team 'nobody'"),
        Problem("depends_on[1]", "unknown service 'ghost'"),
    ]
    with pytest.raises(ValidationError) as caught:
        entities.save(store, sample.service("db", "infra", "api"))  # api already needs db
    assert [p.path for p in caught.value.problems] == ["depends_on"]
    assert caught.value.problems[0].message == "dependency cycle: api -> db -> api"
    assert count(store) == logged
    assert {s.key for s in estate.services(store.read())} == {"api", "db"}


def test_a_delete_is_refused_while_something_refers_to_it(store: Store) -> None:
    sample.basic(store)
    logged = count(store)
    refusals = {
        (EntityKind.MEMBER, "ada@example.com"): "team infra (lead)",
        (EntityKind.TEAM, "infra"): "service api (owner)",
        (EntityKind.SERVICE, "db"): "service api (depends on it)",
        (EntityKind.SERVICE, "api"): "runbook restart",
    }
    for (kind, key), referrer in refusals.items():
        with pytest.raises(StoreConflict, match="still used by") as caught:
            entities.delete(store, kind, key)
        assert referrer in str(caught.value)
    with pytest.raises(StoreConflict, match="there is no service 'nope'"):
        entities.delete(store, EntityKind.SERVICE, "nope")
    assert count(store) == logged


def test_deleting_in_dependency_order_empties_the_store(store: Store) -> None:
    sample.basic(store)
    for kind, key in (
        (EntityKind.RUNBOOK, "restart"),
        (EntityKind.SERVICE, "api"),
        (EntityKind.SERVICE, "db"),
        (EntityKind.TEAM, "infra"),
        (EntityKind.MEMBER, "ada@example.com"),
    ):
        event = entities.delete(store, kind, key)
        assert event.payload["key"] == key and event.payload["before"] is not None
    assert estate.load(store.read()) == Estate(priority_matrix=PriorityMatrix())


def test_a_changed_runbook_gets_a_new_version_and_keeps_the_old(
    store: Store, clock: FakeClock
) -> None:
    sample.basic(store)
    v1 = sample.runbook("restart", "Restart the web tier.", "api")
    clock.advance(3600)
    v2 = replace(v1, steps=(*v1.steps, RunbookStep("Verify", "Watch the error rate fall.", 5)))
    assert entities.save(store, v2) is not None
    assert entities.save(store, v2) is None
    clock.advance(60)
    v3 = replace(v2, title="Restart the web tier")
    entities.save(store, v3)

    versions = estate.runbook_versions(store.read(), "restart")
    assert [v.number for v in versions] == [1, 2, 3]
    assert [v.runbook for v in versions] == [v1, v2, v3]
    assert [v.content_hash for v in versions] == [r.content_hash() for r in (v1, v2, v3)]
    assert versions[1].recorded_at < versions[2].recorded_at == clock.now()
    assert estate.runbooks(store.read()) == (v3,)

    entities.delete(store, EntityKind.RUNBOOK, "restart")
    assert estate.runbooks(store.read()) == ()
    assert estate.runbook_versions(store.read(), "restart") == versions


def test_runbooks_are_found_by_words_in_their_steps(store: Store) -> None:
    sample.basic(store)
    entities.save(store, sample.runbook("rotate", "Rotate the certificates with certbot.", "db"))
    db = store.read()
    assert estate.search_runbooks(db, "certbot") == ("rotate",)
    assert estate.search_runbooks(db, "certif") == ("rotate",)  # a prefix is enough
    assert estate.search_runbooks(db, "web tier") == ("restart",)
    assert set(estate.search_runbooks(db, "the")) == {"restart", "rotate"}
    assert estate.search_runbooks(db, 'unknown "quoted') == ()
    assert estate.search_runbooks(db, "   ") == ()
    entities.save(store, sample.runbook("rotate", "Renew the keys by hand.", "db"))
    assert estate.search_runbooks(store.read(), "certbot") == ()
    entities.delete(store, EntityKind.RUNBOOK, "rotate")
    assert estate.search_runbooks(store.read(), "keys") == ()


def test_the_priority_matrix_is_stored_and_replaced(store: Store) -> None:
    assert estate.priority_matrix(store.read()) == PriorityMatrix()
    matrix = PriorityMatrix().with_cell(ImpactTier.TIER_2, Severity.WARNING, Priority.P1)
    event = entities.set_priority_matrix(store, matrix)
    assert event is not None and event.type is EventType.PRIORITY_MATRIX_SET
    assert estate.priority_matrix(store.read()) == matrix
    assert entities.set_priority_matrix(store, matrix) is None


def test_a_resource_round_trips(store: Store) -> None:
    sample.basic(store)
    resource = SharedResource(
        "bridge",
        "Conference bridge",
        ResourceKind.BRIDGE_LINE,
        who_may_use=("infra",),
        secret_ref="bridge/pin",
    )
    entities.save(store, resource)
    assert estate.resources(store.read()) == (resource,)
    with pytest.raises(StoreConflict, match="resource bridge"):
        entities.delete(store, EntityKind.TEAM, "infra")


def test_an_import_plans_applies_and_prunes_in_one_go(store: Store) -> None:
    sample.basic(store)
    declared = Estate(
        members=(sample.member(), sample.member("grace@example.com", "Grace")),
        teams=(sample.team("infra", "ada@example.com", "grace@example.com"),),
        services=(sample.service("db"),),
    )
    logged = count(store)
    planned = entities.import_estate(store, declared, prune=True, source="x.yaml", dry_run=True)
    assert [(c.verb, c.kind, c.key) for c in planned] == [
        ("create", EntityKind.MEMBER, "grace@example.com"),
        ("update", EntityKind.TEAM, "infra"),
        ("delete", EntityKind.RUNBOOK, "restart"),
        ("delete", EntityKind.SERVICE, "api"),
    ]
    assert count(store) == logged  # a dry run only plans
    assert entities.import_estate(store, declared, prune=True, source="x.yaml") == planned
    assert estate.load(store.read()) == replace(declared, priority_matrix=PriorityMatrix())
    (summary,) = events.iter_events(store.read(), types=[EventType.CONFIG_IMPORTED])
    assert dict(summary.payload) == {
        "source": "x.yaml",
        "changes": 4,
        "create": 1,
        "update": 1,
        "delete": 2,
    }
    assert entities.import_estate(store, declared, prune=True, source="x.yaml") == []


def test_an_import_writes_services_after_those_they_depend_on(store: Store) -> None:
    sample.basic(store)  # api depends on db, and the runbook on api
    team = sample.team("infra", "ada@example.com", lead="ada@example.com")
    declared = Estate(
        members=(sample.member(),),
        teams=(team,),
        # Listed dependents first: the store would refuse them in this order.
        services=(
            sample.service("shop", "infra", "web", "cache"),
            sample.service("web", "infra", "cache"),
            sample.service("cache"),
        ),
    )
    entities.import_estate(store, declared, prune=True, source="reversed.yaml")
    expected = replace(declared.sorted(), priority_matrix=PriorityMatrix())
    assert estate.load(store.read()) == expected
    # The log replays event by event, so each event must have been valid on its own.
    events.rebuild(store)
    assert estate.load(store.read()) == expected
