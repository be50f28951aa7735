"""Derived tables as projections of the event log: ``project`` applies one event.

The same function serves live writes and a full rebuild, so the tables can always be
recreated from the log alone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from sqlite_utils import Database

from console.core import codec
from console.core.checks import CheckState, StateType
from console.core.clock import isoformat
from console.core.events import Event, EventType
from console.core.flapping import FlapEvent
from console.core.models import SEVERITY_ORDER
from console.store import delivery_rows, escalation_rows, incident_rows, schedule_rows

log = logging.getLogger(__name__)

#: Child tables first, so that deleting in this order never trips a foreign key.
DERIVED_TABLES: tuple[str, ...] = (
    *escalation_rows.TABLES,
    *schedule_rows.TABLES,
    "incident_keys",
    "incidents",
    "silences",
    "alert_routing",
    "metric_states",
    "runbook_search",
    "runbook_services",
    "runbook_versions",
    "runbooks",
    "resources",
    "endpoints",
    "service_deps",
    "memberships",
    "services",
    "teams",
    "members",
    "priority_matrix",
)


def _js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _upsert(db: Database, table: str, pk: str, row: dict[str, Any]) -> None:
    cols = list(row)
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c != pk)
    db.execute(
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) "
        f"ON CONFLICT ({pk}) DO UPDATE SET {updates}",
        [row[c] for c in cols],
    )


def _member(db: Database, event: Event) -> None:
    m = codec.member_from_dict(event.payload["after"])
    _upsert(
        db,
        "members",
        "email",
        {
            "email": m.email,
            "name": m.name,
            "timezone": m.timezone,
            "discipline": m.discipline.value,
            "phone": m.phone,
            "chat": _js({c.network: c.handle for c in m.chat}),
        },
    )


def _team(db: Database, event: Event) -> None:
    t = codec.team_from_dict(event.payload["after"])
    _upsert(
        db,
        "teams",
        "key",
        {
            "key": t.key,
            "name": t.name,
            "discipline": t.discipline.value,
            "lead": t.lead,
            "bridge_url": t.bridge_url,
            "notes": t.notes,
        },
    )
    db.execute("DELETE FROM memberships WHERE team = ?", [t.key])
    for pos, ms in enumerate(t.members):
        db.execute(
            "INSERT INTO memberships (team, member, role, position) VALUES (?, ?, ?, ?)",
            [t.key, ms.member, ms.role.value, pos],
        )


def _service(db: Database, event: Event) -> None:
    s = codec.service_from_dict(event.payload["after"])
    _upsert(
        db,
        "services",
        "key",
        {
            "key": s.key,
            "name": s.name,
            "team": s.team,
            "tier": int(s.tier),
            "description": s.description,
            "tags": _js(list(s.tags)),
        },
    )
    db.execute("DELETE FROM service_deps WHERE service = ?", [s.key])
    for pos, dep in enumerate(s.depends_on):
        db.execute(
            "INSERT INTO service_deps (service, depends_on, position) VALUES (?, ?, ?)",
            [s.key, dep, pos],
        )


def _runbook(db: Database, event: Event) -> None:
    content = event.payload["after"]
    r = codec.runbook_from_dict(content)
    digest = r.content_hash()
    row = db.execute(
        "SELECT COALESCE(MAX(number), 0), "
        "(SELECT content_hash FROM runbook_versions v2 WHERE v2.runbook = ? "
        " ORDER BY number DESC LIMIT 1) FROM runbook_versions WHERE runbook = ?",
        [r.key, r.key],
    ).fetchone()
    number, last_hash = int(row[0]), row[1]
    if last_hash != digest:
        number += 1
        db.execute(
            "INSERT INTO runbook_versions (runbook, number, content_hash, recorded_at, actor, "
            "event_id, content) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                r.key,
                number,
                digest,
                isoformat(event.event_time),
                event.actor,
                event.id,
                _js(content),
            ],
        )
    _upsert(
        db,
        "runbooks",
        "key",
        {
            "key": r.key,
            "title": r.title,
            "scenario": r.scenario,
            "current_version": number,
            "content_hash": digest,
        },
    )
    db.execute("DELETE FROM runbook_services WHERE runbook = ?", [r.key])
    for pos, svc in enumerate(r.services):
        db.execute(
            "INSERT INTO runbook_services (runbook, service, position) VALUES (?, ?, ?)",
            [r.key, svc, pos],
        )
    db.execute("DELETE FROM runbook_search WHERE key = ?", [r.key])
    body = "\n\n".join(f"{s.title}\n{s.body}" for s in r.steps)
    db.execute(
        "INSERT INTO runbook_search (key, title, scenario, body) VALUES (?, ?, ?, ?)",
        [r.key, r.title, r.scenario, body],
    )


def _resource(db: Database, event: Event) -> None:
    r = codec.resource_from_dict(event.payload["after"])
    _upsert(
        db,
        "resources",
        "key",
        {
            "key": r.key,
            "name": r.name,
            "kind": r.kind.value,
            "description": r.description,
            "who_may_use": _js(list(r.who_may_use)),
            "how_to_obtain": r.how_to_obtain,
            "secret_ref": r.secret_ref,
        },
    )


def _endpoint(db: Database, event: Event) -> None:
    spec = event.payload["after"]
    e = codec.endpoint_from_dict(spec)
    _upsert(
        db,
        "endpoints",
        "key",
        {
            "key": e.key,
            "name": e.name,
            "service": e.service,
            "kind": e.kind.value,
            "enabled": int(e.enabled),
            "interval_s": e.interval_s,
            "timeout_s": e.timeout_s,
            "jitter_s": e.jitter_s,
            "credential": e.credential,
            # Re-encoded, not copied: the row always holds today's codec form of the record.
            "spec": _js(codec.endpoint_to_dict(e)),
        },
    )


def _matrix(db: Database, event: Event) -> None:
    matrix = codec.matrix_from_dict(event.payload["after"])
    db.execute("DELETE FROM priority_matrix")
    for tier in range(1, 5):
        for col, sev in enumerate(SEVERITY_ORDER):
            db.execute(
                "INSERT INTO priority_matrix (tier, severity, priority) VALUES (?, ?, ?)",
                [tier, sev.value, matrix.grid[tier - 1][col].value],
            )


def _deleter(table: str, pk: str, extra: tuple[str, ...] = ()) -> Callable[[Database, Event], None]:
    def delete(db: Database, event: Event) -> None:
        key = event.payload["key"]
        for sql in extra:
            db.execute(sql, [key])
        db.execute(f"DELETE FROM {table} WHERE {pk} = ?", [key])

    return delete


# -- the monitoring read model -------------------------------------------------------------

#: ``metric_states.metric_key`` of an endpoint's own check (its events carry None).
CHECK_KEY = ""
_METRIC_EVENTS = (EventType.METRIC_STATE_CHANGED, EventType.METRIC_FLAPPING)


def _metric_state(db: Database, seq: int, event_time: str, payload: dict[str, Any]) -> None:
    """A state change: the latest state, its type, the confirmed state and when it began.

    A SOFT change only moves the latest state; it is confirmed (HARD) when it lands on the
    confirmed state again. A change that only confirms the latest state (SOFT WARNING becoming
    HARD WARNING) keeps ``since``: the metric has been WARNING since it was first seen so.
    """
    endpoint, key = payload["endpoint"], payload["metric_key"] or CHECK_KEY
    to = CheckState(payload["to"])
    hard = StateType(payload["type"]) is StateType.HARD
    row = db.execute(
        "SELECT state, hard_state, since FROM metric_states WHERE endpoint = ? AND metric_key = ?",
        [endpoint, key],
    ).fetchone()
    # A fresh evaluator is a confirmed OK: that is what a first SOFT change departs from.
    old_state, old_hard, since = row if row is not None else (None, CheckState.OK.value, None)
    hard_state = to.value if hard else old_hard
    confirmed = hard or to.value == hard_state
    at = payload["at"]
    band = payload.get("band") or {}
    values = {
        "endpoint": endpoint,
        "metric_key": key,
        "metric": payload["metric"],
        "state": to.value,
        "state_type": (StateType.HARD if confirmed else StateType.SOFT).value,
        "hard_state": hard_state,
        "since": since if old_state == to.value else at,
        "changed_at": at,
        "reason": payload["reason"],
        "value": payload.get("value"),
        "band_low": band.get("low"),
        "band_high": band.get("high"),
        "changed_seq": seq,
    }
    _upsert_state(db, values)


def _metric_flapping(db: Database, seq: int, event_time: str, payload: dict[str, Any]) -> None:
    """A flapping start or stop; the state itself is left as the state changes set it."""
    endpoint, key = payload["endpoint"], payload["metric_key"] or CHECK_KEY
    flapping = FlapEvent(payload["event"]) is FlapEvent.STARTED
    updated = db.execute(
        "UPDATE metric_states SET flapping = ?, flap_percent = ?, changed_seq = ? "
        "WHERE endpoint = ? AND metric_key = ?",
        [int(flapping), payload.get("percent"), seq, endpoint, key],
    ).rowcount
    if not updated:  # flapping needs state changes first; tolerate a log that lacks them
        _upsert_state(
            db,
            {
                "endpoint": endpoint,
                "metric_key": key,
                "metric": payload["metric"],
                "state": CheckState.OK.value,
                "state_type": StateType.HARD.value,
                "hard_state": CheckState.OK.value,
                "flapping": int(flapping),
                "flap_percent": payload.get("percent"),
                "since": event_time,
                "changed_at": event_time,
                "reason": payload.get("reason", ""),
                "changed_seq": seq,
            },
        )


def _upsert_state(db: Database, row: dict[str, Any]) -> None:
    cols = list(row)
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in ("endpoint", "metric_key"))
    db.execute(
        f"INSERT INTO metric_states ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) "
        f"ON CONFLICT (endpoint, metric_key) DO UPDATE SET {updates}",
        [row[c] for c in cols],
    )


_METRIC_PROJECTORS: dict[EventType, Callable[[Database, int, str, dict[str, Any]], None]] = {
    EventType.METRIC_STATE_CHANGED: _metric_state,
    EventType.METRIC_FLAPPING: _metric_flapping,
}


def _project_metric(db: Database, event: Event) -> None:
    row = db.execute("SELECT seq FROM events WHERE id = ?", [event.id]).fetchone()
    seq = 0 if row is None else int(row[0])
    _apply_metric(db, event.type, seq, isoformat(event.event_time), dict(event.payload))


def _apply_metric(
    db: Database, type_: EventType, seq: int, event_time: str, payload: dict[str, Any]
) -> None:
    # A payload this code cannot read is kept in the log but not shown: failing here would lose
    # the engine's whole batch (its samples too) or make the log impossible to rebuild.
    try:
        _METRIC_PROJECTORS[type_](db, seq, event_time, payload)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("event %d (%s) has a payload the status cannot use: %r", seq, type_.value, exc)


def replay_metric_states(db: Database) -> int:
    """Recreate ``metric_states`` from the log alone; returns the events replayed.

    Used by the migration that adds the table (a store that already logged state changes);
    ``events.rebuild`` replays it with everything else through :func:`project`.
    """
    db.execute("DELETE FROM metric_states")
    wanted = [t.value for t in _METRIC_EVENTS]
    rows = db.execute(
        "SELECT seq, type, event_time, payload FROM events WHERE type IN (?, ?) ORDER BY seq",
        wanted,
    ).fetchall()
    for seq, type_, event_time, payload in rows:
        _apply_metric(db, EventType(type_), int(seq), event_time, json.loads(payload))
    return len(rows)


_PROJECTORS: dict[EventType, Callable[[Database, Event], None]] = {
    EventType.MEMBER_UPSERTED: _member,
    EventType.MEMBER_DELETED: _deleter("members", "email"),
    EventType.TEAM_UPSERTED: _team,
    EventType.TEAM_DELETED: _deleter("teams", "key"),
    EventType.SERVICE_UPSERTED: _service,
    EventType.SERVICE_DELETED: _deleter("services", "key"),
    EventType.RUNBOOK_UPSERTED: _runbook,
    EventType.RUNBOOK_DELETED: _deleter(
        "runbooks", "key", ("DELETE FROM runbook_search WHERE key = ?",)
    ),
    EventType.RESOURCE_UPSERTED: _resource,
    EventType.RESOURCE_DELETED: _deleter("resources", "key"),
    EventType.ENDPOINT_UPSERTED: _endpoint,
    EventType.ENDPOINT_DELETED: _deleter(
        "endpoints",
        "key",
        (
            "DELETE FROM metric_states WHERE endpoint = ?",
            # Not derived (the recorder writes it) but meaningless once the endpoint is gone.
            "DELETE FROM endpoint_results WHERE endpoint = ?",
        ),
    ),
    EventType.PRIORITY_MATRIX_SET: _matrix,
    EventType.METRIC_STATE_CHANGED: _project_metric,
    EventType.METRIC_FLAPPING: _project_metric,
}


# -- incidents and alerting configuration --------------------------------------------------


def _silence(db: Database, event: Event) -> None:
    after = event.payload["after"]
    _upsert(
        db,
        "silences",
        "key",
        {
            "key": after["key"],
            "spec": _js(after),
            "created_by": event.actor,
            "updated_at": isoformat(event.event_time),
        },
    )


def _routing(db: Database, event: Event) -> None:
    _upsert(db, "alert_routing", "id", {"id": 1, "spec": _js(event.payload["after"])})


_PROJECTORS.update(
    {
        EventType.SILENCE_UPSERTED: _silence,
        EventType.SILENCE_DELETED: _deleter("silences", "key"),
        EventType.ROUTING_SET: _routing,
    }
)

_PROJECTORS.update(schedule_rows.PROJECTORS)
_PROJECTORS.update(escalation_rows.PROJECTORS)
_PROJECTORS[EventType.DELIVERY_SET] = delivery_rows.project


def project(db: Database, event: Event) -> None:
    """Apply one event to the derived tables (events with no projection are only logged)."""
    projector = _PROJECTORS.get(event.type)
    if projector is not None:
        projector(db, event)
    elif event.subject.startswith("incident:") and event.type.value.startswith("incident."):
        # Every incident.* type, today's and those later versions add: the fold decides.
        incident_rows.project(db, event)
