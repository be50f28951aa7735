"""What the incident views read: lists, one incident's timeline, counts for the tray and wall."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from console.core.clock import isoformat
from console.core.enums import Priority
from console.core.events import Event
from console.core.incidents import Incident, IncidentState, subject
from console.store import incident_rows as rows
from console.store.events import iter_events


def list_incidents(
    db: Database,
    *,
    states: Iterable[IncidentState] | None = None,
    team: str | None = None,
    priority: Priority | None = None,
    service: str | None = None,
    limit: int | None = None,
) -> list[Incident]:
    """Incidents, unacknowledged first, then by priority, newest first.

    Args:
        db: A connection.
        states: The states to list; None lists the open ones (triggered and acknowledged).
        team: Only this team's.
        priority: Only this priority.
        service: Only this service's.
        limit: At most this many.
    """
    chosen = (
        [IncidentState.TRIGGERED, IncidentState.ACKNOWLEDGED] if states is None else list(states)
    )
    if not chosen:
        return []
    where = [f"i.state IN ({', '.join('?' for _ in chosen)})"]
    params: list[Any] = [s.value for s in chosen]
    for column, value in (("team", team), ("service", service)):
        if value is not None:
            where.append(f"i.{column} = ?")
            params.append(value)
    if priority is not None:
        where.append("i.priority = ?")
        params.append(priority.value)
    tail = f"ORDER BY {rows.ORDER}" + ("" if limit is None else f" LIMIT {int(limit)}")
    return rows.select(db, " AND ".join(where), params, tail=tail)


def timeline(db: Database, ref: str) -> list[Event]:
    """Every event of an incident, in the order it was recorded here (its ``seq``)."""
    incident = rows.get(db, ref)
    return list(iter_events(db, subject=subject(incident.id)))


def children(db: Database, ref: str) -> list[Incident]:
    """The incidents grouped under one, in the list order."""
    incident = rows.get(db, ref)
    return rows.select(db, "i.parent = ?", [incident.id], tail=f"ORDER BY {rows.ORDER}")


def unacknowledged_counts(db: Database, now: datetime | None = None) -> dict[Priority, int]:
    """Triggered incidents per priority (every priority present, 0 when none): the tray badge.

    With ``now``, incidents snoozed past ``now`` are left out (nobody is to be bothered yet).
    """
    sql = "SELECT priority, COUNT(*) FROM incidents WHERE state = ?"
    params: list[Any] = [IncidentState.TRIGGERED.value]
    if now is not None:
        sql += " AND (snoozed_until IS NULL OR snoozed_until <= ?)"
        params.append(isoformat(now))
    counts = dict.fromkeys(Priority, 0)
    for value, count in db.execute(sql + " GROUP BY priority", params).fetchall():
        counts[Priority(value)] = int(count)
    return counts


def acknowledged_services(db: Database) -> frozenset[str]:
    """Services with an acknowledged open incident (the wall stops flagging them)."""
    found = db.execute(
        "SELECT DISTINCT service FROM incidents WHERE state = ? AND service IS NOT NULL",
        [IncidentState.ACKNOWLEDGED.value],
    ).fetchall()
    return frozenset(str(r[0]) for r in found)


def due(db: Database, now: datetime) -> list[Incident]:
    """Open incidents whose ``next_due_at`` has come (escalation's tick reads only these)."""
    return rows.select(
        db,
        f"i.next_due_at IS NOT NULL AND i.next_due_at <= ? AND {rows.OPEN}",
        [isoformat(now)],
        tail="ORDER BY i.next_due_at",
    )


def set_next_due(db: Database, incident_id: str, when: datetime | None) -> None:
    """Store when escalation next needs to look at an incident (call inside a transaction).

    Not an event: it is a pure function of the timeline, the policy, the schedules and the
    clock, recomputed whenever one of them changes (and after ``db rebuild``).
    """
    db.execute(
        "UPDATE incidents SET next_due_at = ? WHERE id = ?",
        [None if when is None else isoformat(when), incident_id],
    )
