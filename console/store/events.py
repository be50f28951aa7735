"""The append-only event log: write (with its projection, in the same transaction) and read."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlite_utils import Database

from console.core.clock import isoformat, parse_iso
from console.core.events import Event, EventType, make_event
from console.store.db import Store
from console.store.projections import DERIVED_TABLES, project

_COLUMNS = "id, type, subject, event_time, recorded_time, actor, origin, schema_version, payload"


def record(
    store: Store,
    type_: EventType,
    subject: str,
    payload: Mapping[str, Any],
    *,
    db: Database | None = None,
) -> Event:
    """Create an event stamped with the store's actor, console id and clock, and append it."""
    event = make_event(
        type_, subject, payload, actor=store.actor, origin=store.console_id, now=store.clock.now()
    )
    if db is None:
        with store.transaction() as tx:
            append(tx, [event])
    else:
        append(db, [event])
    return event


def append(db: Database, events: Iterable[Event]) -> None:
    """Insert events and apply their projections; call inside ``Store.transaction()``."""
    for event in events:
        db.execute(
            f"INSERT INTO events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                event.id,
                event.type.value,
                event.subject,
                isoformat(event.event_time),
                isoformat(event.recorded_time),
                event.actor,
                event.origin,
                event.schema_version,
                json.dumps(event.payload, ensure_ascii=False, sort_keys=True),
            ],
        )
        project(db, event)


def _decode(row: tuple[Any, ...]) -> Event:
    return Event(
        id=row[0],
        type=EventType(row[1]),
        subject=row[2],
        event_time=parse_iso(row[3]),
        recorded_time=parse_iso(row[4]),
        actor=row[5],
        origin=row[6],
        schema_version=int(row[7]),
        payload=json.loads(row[8]),
    )


def iter_events(
    db: Database,
    *,
    subject: str | None = None,
    types: Iterable[EventType] = (),
    after_seq: int = 0,
    limit: int | None = None,
) -> Iterator[Event]:
    """Events in the order they were recorded here, optionally filtered."""
    where = ["seq > ?"]
    params: list[Any] = [after_seq]
    if subject is not None:
        where.append("subject = ?")
        params.append(subject)
    wanted = [t.value for t in types]
    if wanted:
        where.append(f"type IN ({', '.join('?' for _ in wanted)})")
        params += wanted
    sql = f"SELECT {_COLUMNS} FROM events WHERE {' AND '.join(where)} ORDER BY seq"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    for row in db.execute(sql, params).fetchall():
        yield _decode(row)


def last_seq(db: Database) -> int:
    """The sequence number of the newest event (0 for an empty log)."""
    return int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])


def rebuild(store: Store) -> int:
    """Throw away every derived table and replay the whole log; returns the events replayed."""
    with store.transaction() as db:
        for table in DERIVED_TABLES:
            db.execute(f"DELETE FROM {table}")
        count = 0
        for row in db.execute(f"SELECT {_COLUMNS} FROM events ORDER BY seq").fetchall():
            project(db, _decode(row))
            count += 1
        # next_due_at is not derived by a projection: escalation computes it from the timeline.
        from console.store.escalations import recompute_all  # it imports this module

        recompute_all(db, store.clock.now())
    return count
