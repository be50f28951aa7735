"""The ``incidents`` table: rows <-> records, the projection of incident events, and lookups.

The table is the fold of each incident's timeline (`console.core.incidents.evolve`), written
by the projection and rebuilt from the log like every derived table. Two things live beside it
on purpose: ``incident_repeats`` (how many times a signal repeated and when it was last seen:
counted, not logged, so that an alert re-sent every minute does not write an event a minute;
`events.rebuild` keeps it because it is not derived) and ``next_due_at`` (escalation's, issue 7:
never written by the projection, recomputed by escalation after a rebuild).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from console.core.clock import isoformat, parse_iso
from console.core.enums import Priority, Severity
from console.core.events import Event, EventType
from console.core.incidents import (
    NUMBER_PREFIX,
    Incident,
    IncidentNotFound,
    IncidentState,
    ResolveReason,
    evolve,
)
from console.core.signals import SignalSource, labels_of

#: Columns the projection owns (``next_due_at`` is escalation's).
_OWNED = (
    "id",
    "number",
    "title",
    "summary",
    "source",
    "dedup_key",
    "service",
    "team",
    "severity",
    "priority",
    "priority_reason",
    "priority_overridden",
    "state",
    "started_at",
    "detected_at",
    "acknowledged_at",
    "acknowledged_by",
    "mitigated_at",
    "resolved_at",
    "resolved_by",
    "resolve_reason",
    "snoozed_until",
    "flapping",
    "parent",
    "merged_into",
    "labels",
    "reporter",
    "impact",
    "recurrences",
    "last_seen_at",
    "updated_at",
    "drill",
)
_SELECT = (
    f"SELECT {', '.join('i.' + c for c in _OWNED)}, i.next_due_at, "
    "r.count AS repeat_count, r.last_seen_at AS repeat_seen "
    "FROM incidents i LEFT JOIN incident_repeats r ON r.incident = i.id"
)
#: Unacknowledged first, then by priority, newest first.
ORDER = (
    "CASE i.state WHEN 'triggered' THEN 0 WHEN 'acknowledged' THEN 1 ELSE 2 END, "
    "i.priority, i.detected_at DESC, i.number DESC"
)
OPEN = "i.state != 'resolved'"
#: Every event type the incident projection folds (the ``incident.*`` family).
INCIDENT_TYPES = tuple(t for t in EventType if t.value.startswith("incident."))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else isoformat(value)


def _moment(value: str | None) -> datetime | None:
    return None if value is None else parse_iso(value)


def to_row(i: Incident) -> dict[str, Any]:
    """The projection's columns of a record."""
    return {
        "id": i.id,
        "number": i.number,
        "title": i.title,
        "summary": i.summary,
        "source": i.source.value,
        "dedup_key": i.dedup_key,
        "service": i.service,
        "team": i.team,
        "severity": i.severity.value,
        "priority": i.priority.value,
        "priority_reason": i.priority_reason,
        "priority_overridden": int(i.priority_overridden),
        "state": i.state.value,
        "started_at": isoformat(i.started_at),
        "detected_at": isoformat(i.detected_at),
        "acknowledged_at": _iso(i.acknowledged_at),
        "acknowledged_by": i.acknowledged_by,
        "mitigated_at": _iso(i.mitigated_at),
        "resolved_at": _iso(i.resolved_at),
        "resolved_by": i.resolved_by,
        "resolve_reason": None if i.resolve_reason is None else i.resolve_reason.value,
        "snoozed_until": _iso(i.snoozed_until),
        "flapping": int(i.flapping),
        "parent": i.parent,
        "merged_into": i.merged_into,
        "labels": json.dumps(dict(i.labels), ensure_ascii=False, sort_keys=True),
        "reporter": i.reporter,
        "impact": i.impact,
        "recurrences": i.recurrences,
        "last_seen_at": isoformat(i.last_seen_at),
        "updated_at": isoformat(i.updated_at),
        "drill": int(i.drill),
    }


def from_row(r: Mapping[str, Any]) -> Incident:
    """A record from a row of ``_SELECT`` (counters merged in when present)."""
    seen = parse_iso(r["last_seen_at"])
    if r.get("repeat_seen") is not None:
        seen = max(seen, parse_iso(r["repeat_seen"]))
    reason = r["resolve_reason"]
    return Incident(
        id=r["id"],
        number=int(r["number"]),
        title=r["title"],
        summary=r["summary"],
        source=SignalSource(r["source"]),
        dedup_key=r["dedup_key"],
        service=r["service"],
        team=r["team"],
        severity=Severity(r["severity"]),
        priority=Priority(r["priority"]),
        priority_reason=r["priority_reason"],
        priority_overridden=bool(r["priority_overridden"]),
        state=IncidentState(r["state"]),
        started_at=parse_iso(r["started_at"]),
        detected_at=parse_iso(r["detected_at"]),
        acknowledged_at=_moment(r["acknowledged_at"]),
        acknowledged_by=r["acknowledged_by"],
        mitigated_at=_moment(r["mitigated_at"]),
        resolved_at=_moment(r["resolved_at"]),
        resolved_by=r["resolved_by"],
        resolve_reason=None if reason is None else ResolveReason(reason),
        snoozed_until=_moment(r["snoozed_until"]),
        flapping=bool(r["flapping"]),
        parent=r["parent"],
        merged_into=r["merged_into"],
        labels=labels_of(json.loads(r["labels"])),
        reporter=r["reporter"],
        impact=r["impact"],
        recurrences=int(r["recurrences"]),
        count=max(1 + int(r["recurrences"]), int(r.get("repeat_count") or 0)),
        last_seen_at=seen,
        updated_at=parse_iso(r["updated_at"]),
        next_due_at=_moment(r.get("next_due_at")),
        drill=bool(r["drill"]),
    )


def select(
    db: Database, where: str = "1", params: Iterable[Any] = (), *, tail: str = ""
) -> list[Incident]:
    """Incidents matching a WHERE clause over ``i`` (incidents) and ``r`` (repeats)."""
    cursor = db.execute(f"{_SELECT} WHERE {where} {tail}", list(params))
    names = [d[0] for d in cursor.description]
    return [from_row(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def by_id(db: Database, incident_id: str) -> Incident | None:
    """One incident by its id."""
    found = select(db, "i.id = ?", [incident_id])
    return found[0] if found else None


def find(db: Database, ref: str) -> Incident | None:
    """An incident by its id, its number (``INC-42``, ``inc-42`` or ``42``) or an id prefix.

    Raises:
        IncidentNotFound: When a number or prefix names more than one incident (numbers can
            repeat once logs from other consoles are merged in).
    """
    text = ref.strip()
    digits = text[len(NUMBER_PREFIX) :] if text.upper().startswith(NUMBER_PREFIX) else text
    if digits.isdigit():
        found = select(db, "i.number = ?", [int(digits)], tail="ORDER BY i.detected_at")
    else:
        exact = by_id(db, text)
        if exact is not None:
            return exact
        found = [] if len(text) < 8 else select(db, "i.id LIKE ? || '%'", [text.lower()])
    if len(found) > 1:
        listed = ", ".join(i.id for i in found)
        raise IncidentNotFound(f"{ref!r} names several incidents ({listed}): use the full id")
    return found[0] if found else None


def get(db: Database, ref: str) -> Incident:
    """Like `find`, but a missing incident raises IncidentNotFound."""
    found = find(db, ref)
    if found is None:
        raise IncidentNotFound(f"there is no incident {ref!r}")
    return found


def open_for_key(db: Database, dedup_key: str) -> Incident | None:
    """The open incident a dedup key lands on (its own, or one that absorbed it)."""
    found = select(
        db,
        f"i.id IN (SELECT incident FROM incident_keys WHERE dedup_key = ?) AND {OPEN}",
        [dedup_key],
        tail="ORDER BY i.detected_at DESC LIMIT 1",
    )
    return found[0] if found else None


def latest_for_key(db: Database, dedup_key: str) -> Incident | None:
    """The most recently detected incident of a dedup key, open or not."""
    found = select(db, "i.dedup_key = ?", [dedup_key], tail="ORDER BY i.detected_at DESC LIMIT 1")
    return found[0] if found else None


def next_number(db: Database) -> int:
    """The next human number: one more than the highest so far (INC-1 first)."""
    return int(db.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM incidents").fetchone()[0])


def count_repeat(db: Database, incident: Incident, at: datetime) -> None:
    """Count one more repeat of the incident's signal, seen at ``at``."""
    db.execute(
        "INSERT INTO incident_repeats (incident, count, last_seen_at) VALUES (?, ?, ?) "
        "ON CONFLICT (incident) DO UPDATE SET count = excluded.count, "
        "last_seen_at = MAX(last_seen_at, excluded.last_seen_at)",
        [incident.id, incident.count + 1, isoformat(at)],
    )


# -- the projection ----------------------------------------------------------------------------


def _raw(db: Database, incident_id: str) -> Incident | None:
    """The record as the fold left it (no counters: the fold must not depend on them)."""
    cursor = db.execute(f"SELECT {', '.join(_OWNED)} FROM incidents WHERE id = ?", [incident_id])
    row = cursor.fetchone()
    if row is None:
        return None
    return from_row(dict(zip([d[0] for d in cursor.description], row, strict=True)))


def _write(db: Database, incident: Incident) -> None:
    row = to_row(incident)
    cols = list(row)
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id")
    db.execute(
        f"INSERT INTO incidents ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) "
        f"ON CONFLICT (id) DO UPDATE SET {updates}",
        [row[c] for c in cols],
    )


def project(db: Database, event: Event) -> None:
    """Fold one ``incident.*`` event into the table (unknown types only touch ``updated_at``)."""
    incident_id = event.subject.partition(":")[2]
    before = _raw(db, incident_id)
    after = evolve(before, event.type, event.payload, event.event_time)
    if after is None:
        return
    if after != before:
        _write(db, after)
    if before is None:
        db.execute(
            "INSERT OR IGNORE INTO incident_keys (dedup_key, incident) VALUES (?, ?)",
            [after.dedup_key, after.id],
        )
    elif event.type is EventType.INCIDENT_ABSORBED:
        # Every key the absorbed incident answered to now lands on this one.
        db.execute(
            "INSERT OR IGNORE INTO incident_keys (dedup_key, incident) "
            "SELECT dedup_key, ? FROM incident_keys WHERE incident = ?",
            [after.id, event.payload["from"]],
        )


def replay(db: Database) -> int:
    """Recreate the incident tables from the log alone; returns the events replayed.

    Used by the migration that adds them; ``events.rebuild`` replays them with everything else.
    """
    from console.store.events import iter_events  # the log module imports the projections

    db.execute("DELETE FROM incident_keys")
    db.execute("DELETE FROM incidents")
    count = 0
    for event in iter_events(db, types=INCIDENT_TYPES):
        if event.subject.startswith("incident:"):
            project(db, event)
            count += 1
    return count
