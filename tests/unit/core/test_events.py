"""The event envelope: UUIDv7 ids, subjects, and when an event happened versus was recorded."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from console.core.enums import EntityKind
from console.core.events import (
    DELETED,
    SCHEMA_VERSION,
    UPSERTED,
    EventType,
    make_event,
    new_event_id,
    subject_of,
)

NOW = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def test_an_id_is_a_uuid_version_7_with_the_rfc_variant() -> None:
    for _ in range(200):
        parsed = uuid.UUID(new_event_id(NOW))
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122
        assert (parsed.int >> 76) & 0xF == 0x7
        assert (parsed.int >> 62) & 0b11 == 0b10


def test_an_id_starts_with_the_milliseconds() -> None:
    parsed = uuid.UUID(new_event_id(NOW))
    assert parsed.int >> 80 == int(NOW.timestamp() * 1000)


def test_the_random_tail_comes_from_the_given_source() -> None:
    zeros = uuid.UUID(new_event_id(NOW, lambda n: bytes(n)))
    ones = uuid.UUID(new_event_id(NOW, lambda n: b"\xff" * n))
    assert zeros.int & ((1 << 62) - 1) == 0 and (zeros.int >> 64) & 0xFFF == 0
    assert ones.int & ((1 << 62) - 1) == (1 << 62) - 1 and (ones.int >> 64) & 0xFFF == 0xFFF
    assert zeros.version == ones.version == 7


def test_ids_sort_by_time_and_never_repeat() -> None:
    moments = [NOW + timedelta(milliseconds=i) for i in range(0, 3000, 7)]
    ids = [new_event_id(m) for m in moments]
    assert sorted(ids) == ids
    same_moment = {new_event_id(NOW) for _ in range(1000)}
    assert len(same_moment) == 1000


def test_subjects() -> None:
    assert subject_of(EntityKind.TEAM, "noc") == "team:noc"
    assert subject_of("incident", "0193") == "incident:0193"


def test_every_entity_kind_has_an_upsert_and_a_delete_type() -> None:
    assert set(UPSERTED) == set(DELETED) == set(EntityKind)
    assert len(set(UPSERTED.values()) | set(DELETED.values())) == 2 * len(EntityKind)


def test_make_event_fills_the_envelope() -> None:
    earlier = NOW - timedelta(minutes=5)
    event = make_event(
        EventType.TEAM_UPSERTED,
        "team:noc",
        {"key": "noc"},
        actor="ada@example.com",
        origin="console-1",
        now=NOW,
        event_time=earlier,
    )
    assert (event.recorded_time, event.event_time) == (NOW, earlier)
    assert (event.actor, event.origin, event.schema_version) == (
        "ada@example.com",
        "console-1",
        SCHEMA_VERSION,
    )
    assert uuid.UUID(event.id).int >> 80 == int(NOW.timestamp() * 1000)
    plain = make_event(EventType.TEAM_DELETED, "team:noc", {}, actor="a", origin="o", now=NOW)
    assert plain.event_time == plain.recorded_time == NOW
    assert plain.id != event.id
