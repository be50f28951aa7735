"""Schedules, their overrides and members' absences as projections of the log, and read back.

A schedule's layers are one JSON ``spec`` (always today's codec form); its overrides are rows of
their own, because they come and go one at a time (``schedule.override_added`` and
``..._removed``) while ``schedule.upserted`` carries the whole schedule, overrides included.
Instants are stored as fixed-width UTC text, so text order is time order.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlite_utils import Database

from console.core.clock import isoformat, parse_iso
from console.core.events import Event, EventType
from console.core.schedule_codec import (
    layer_from_dict,
    layer_to_dict,
    override_from_dict,
    schedule_from_dict,
    unavailability_from_dict,
)
from console.core.schedules import AbsenceReason, Override, Schedule, Unavailability

#: Child tables first, so that deleting in this order never trips a foreign key.
TABLES: tuple[str, ...] = ("schedule_overrides", "schedules", "unavailability")


def _js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _insert_override(db: Database, schedule: str, o: Override) -> None:
    db.execute(
        "INSERT INTO schedule_overrides (schedule, id, member, start_at, end_at, note) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (schedule, id) DO UPDATE SET note = excluded.note",
        [schedule, o.key, o.member, isoformat(o.start), isoformat(o.end), o.note],
    )


def _schedule(db: Database, event: Event) -> None:
    s = schedule_from_dict(dict(event.payload["after"]))
    spec = {"layers": [layer_to_dict(layer) for layer in s.layers]}
    db.execute(
        "INSERT INTO schedules (key, name, zone, spec) VALUES (?, ?, ?, ?) ON CONFLICT (key) "
        "DO UPDATE SET name = excluded.name, zone = excluded.zone, spec = excluded.spec",
        [s.key, s.name, s.zone, _js(spec)],
    )
    db.execute("DELETE FROM schedule_overrides WHERE schedule = ?", [s.key])
    for o in s.overrides:
        _insert_override(db, s.key, o)


def _schedule_deleted(db: Database, event: Event) -> None:
    key = event.payload["key"]
    db.execute("DELETE FROM schedule_overrides WHERE schedule = ?", [key])
    db.execute("DELETE FROM schedules WHERE key = ?", [key])


def _override_added(db: Database, event: Event) -> None:
    key = event.payload["schedule"]
    # An override for a schedule deleted meanwhile (a log merged from elsewhere) is only logged.
    if db.execute("SELECT 1 FROM schedules WHERE key = ?", [key]).fetchone() is not None:
        _insert_override(db, key, override_from_dict(dict(event.payload["override"])))


def _override_removed(db: Database, event: Event) -> None:
    db.execute(
        "DELETE FROM schedule_overrides WHERE schedule = ? AND id = ?",
        [event.payload["schedule"], event.payload["id"]],
    )


def _unavailability(db: Database, event: Event) -> None:
    u = unavailability_from_dict(dict(event.payload["after"]))
    db.execute(
        "INSERT INTO unavailability (key, member, start_at, end_at, reason, note) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET member = excluded.member, "
        "start_at = excluded.start_at, end_at = excluded.end_at, reason = excluded.reason, "
        "note = excluded.note",
        [u.key, u.member, isoformat(u.start), isoformat(u.end), u.reason.value, u.note],
    )


def _unavailability_deleted(db: Database, event: Event) -> None:
    db.execute("DELETE FROM unavailability WHERE key = ?", [event.payload["key"]])


PROJECTORS: dict[EventType, Callable[[Database, Event], None]] = {
    EventType.SCHEDULE_UPSERTED: _schedule,
    EventType.SCHEDULE_DELETED: _schedule_deleted,
    EventType.SCHEDULE_OVERRIDE_ADDED: _override_added,
    EventType.SCHEDULE_OVERRIDE_REMOVED: _override_removed,
    EventType.UNAVAILABILITY_UPSERTED: _unavailability,
    EventType.UNAVAILABILITY_DELETED: _unavailability_deleted,
}


# -- reading -------------------------------------------------------------------------------


def _overrides(db: Database, key: str | None = None) -> dict[str, list[Override]]:
    sql = "SELECT schedule, member, start_at, end_at, note FROM schedule_overrides"
    params: list[Any] = []
    if key is not None:
        sql += " WHERE schedule = ?"
        params.append(key)
    out: dict[str, list[Override]] = defaultdict(list)
    for schedule, member, start, end, note in db.execute(
        sql + " ORDER BY schedule, start_at, end_at, member", params
    ).fetchall():
        out[schedule].append(Override(member, parse_iso(start), parse_iso(end), note))
    return out


def schedules(db: Database, key: str | None = None) -> tuple[Schedule, ...]:
    """Every schedule (or the one called ``key``) with its overrides, by key."""
    sql = "SELECT key, name, zone, spec FROM schedules"
    params: list[Any] = []
    if key is not None:
        sql += " WHERE key = ?"
        params.append(key)
    overrides = _overrides(db, key)
    return tuple(
        Schedule(
            key=k,
            name=name,
            zone=zone,
            layers=tuple(layer_from_dict(x) for x in json.loads(spec)["layers"]),
            overrides=tuple(overrides.get(k, ())),
        )
        for k, name, zone, spec in db.execute(sql + " ORDER BY key", params).fetchall()
    )


def unavailability(db: Database) -> tuple[Unavailability, ...]:
    """Every recorded absence, by key (member, then start)."""
    rows = db.execute(
        "SELECT member, start_at, end_at, reason, note FROM unavailability ORDER BY key"
    ).fetchall()
    return tuple(
        Unavailability(member, parse_iso(start), parse_iso(end), AbsenceReason(reason), note)
        for member, start, end, reason, note in rows
    )
