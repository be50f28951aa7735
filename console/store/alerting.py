"""Alerting configuration in the store: inbound-alert routes, silences and incident settings.

Routes and silences are facts like any configuration (events, then projections), so every
console that syncs the log routes and silences alike, and the timeline of a change says who made
it. The incident settings are this console's preferences (a settings row, not an event).
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from console.core.errors import Problem, ValidationError
from console.core.events import Event, EventType
from console.core.incident_policy import IncidentSettings
from console.core.routing import RoutingTable, routing_from_dict, routing_to_dict
from console.core.silences import Silence, silence_from_dict, silence_to_dict
from console.store.db import Store
from console.store.errors import StoreConflict
from console.store.events import record

SETTINGS_KEY = "incidents.settings"
ROUTING_SUBJECT = "routing:inbound"


def settings(db: Database) -> IncidentSettings:
    """The incident settings (the defaults until some are saved)."""
    row = db.execute("SELECT value FROM settings WHERE key = ?", [SETTINGS_KEY]).fetchone()
    return IncidentSettings() if row is None else IncidentSettings.from_dict(json.loads(row[0]))


def save_settings(store: Store, value: IncidentSettings) -> None:
    """Store the incident settings."""
    store.set_setting(SETTINGS_KEY, json.dumps(value.to_dict(), sort_keys=True))


def routing(db: Database) -> RoutingTable:
    """The inbound-alert routes (none, and no default team, until some are set)."""
    row = db.execute("SELECT spec FROM alert_routing WHERE id = 1").fetchone()
    return RoutingTable() if row is None else routing_from_dict(json.loads(row[0]))


def _known_teams(db: Database) -> set[str]:
    return {str(r[0]) for r in db.execute("SELECT key FROM teams").fetchall()}


def set_routing(store: Store, table: RoutingTable) -> Event | None:
    """Replace the routes; None when nothing changed. Raises ValidationError for unknown teams."""
    with store.transaction() as db:
        known = _known_teams(db)
        problems = [
            Problem(f"routes[{i}].team", f"unknown team {r.team!r}")
            for i, r in enumerate(table.routes)
            if r.team not in known
        ]
        if table.default_team is not None and table.default_team not in known:
            problems.append(Problem("default_team", f"unknown team {table.default_team!r}"))
        if problems:
            raise ValidationError(problems)
        before = routing(db)
        if before == table:
            return None
        payload = {"before": routing_to_dict(before), "after": routing_to_dict(table)}
        return record(store, EventType.ROUTING_SET, ROUTING_SUBJECT, payload, db=db)


def silences(db: Database) -> tuple[Silence, ...]:
    """Every silence, by key (active or not)."""
    rows = db.execute("SELECT spec FROM silences ORDER BY key").fetchall()
    return tuple(silence_from_dict(json.loads(r[0])) for r in rows)


def _silence(db: Database, key: str) -> Silence | None:
    row = db.execute("SELECT spec FROM silences WHERE key = ?", [key]).fetchone()
    return None if row is None else silence_from_dict(json.loads(row[0]))


def save_silence(store: Store, silence: Silence) -> Event | None:
    """Create or change a silence; None when it is unchanged."""
    with store.transaction() as db:
        before = _silence(db, silence.key)
        if before == silence:
            return None
        payload = {
            "key": silence.key,
            "before": None if before is None else silence_to_dict(before),
            "after": silence_to_dict(silence),
        }
        return record(store, EventType.SILENCE_UPSERTED, f"silence:{silence.key}", payload, db=db)


def delete_silence(store: Store, key: str) -> Event:
    """Remove a silence. Raises StoreConflict when there is none by that key."""
    with store.transaction() as db:
        before = _silence(db, key)
        if before is None:
            raise StoreConflict(f"there is no silence {key!r}")
        payload = {"key": key, "before": silence_to_dict(before)}
        return record(store, EventType.SILENCE_DELETED, f"silence:{key}", payload, db=db)
