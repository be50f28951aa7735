"""Drills in the store: start one from a runbook, end it with its report, list them for readiness.

A drill is opened through the same path as any incident (`incidents.open_or_update`: routing,
the priority matrix, the escalation policy's snapshot), so the engine pages for it like for any
other; ``drill.started`` is recorded in the same transaction. Ending it resolves the incident
(note "drill ended") and records ``drill.ended`` with the report, again in one transaction.
The report itself is computed by `console.core.drills.drill_report` from the timeline.
"""

from __future__ import annotations

from dataclasses import replace

from sqlite_utils import Database

from console.core import drills as core
from console.core import incident_rules as rules
from console.core.drills import DrillError, DrillReport, DrillState
from console.core.errors import Problem, ValidationError
from console.core.events import Event, EventType, new_event_id
from console.core.incidents import Incident, subject
from console.core.readiness import Drill
from console.store import escalations, estate, incidents
from console.store import incident_rows as rows
from console.store.db import Store
from console.store.events import iter_events, record

__all__ = ["drill_report", "drills", "end_drill", "reports", "start_drill"]


def start_drill(store: Store, runbook_key: str, *, service: str | None = None, by: str) -> Incident:
    """Open a drill incident from a runbook's scenario; it pages like a real one.

    Args:
        store: The store.
        runbook_key: The runbook whose scenario is rehearsed.
        service: The service it runs on; None takes the runbook's first service.
        by: Who starts it.

    Returns:
        The drill incident (``drill`` set, critical, titled ``DRILL: <runbook title>``).

    Raises:
        ValidationError: An unknown runbook, a runbook with no service and none given, or an
            unknown service.
    """
    with store.transaction() as tx:
        runbook = next((r for r in estate.runbooks(tx) if r.key == runbook_key), None)
        if runbook is None:
            raise ValidationError([Problem("runbook", f"unknown runbook {runbook_key!r}")])
        known = [s.key for s in estate.services(tx)]
        chosen = core.drill_service(runbook, service, known)
        now = store.clock.now()
        signal = core.drill_signal(runbook, chosen, key=new_event_id(now), now=now, by=by)
        incident = incidents.open_or_update(store, signal, db=tx).incident
        payload = core.started_payload(runbook, chosen, by, incident)
        record(store, EventType.DRILL_STARTED, core.subject(incident.id), payload, db=tx)
        return incident


def _events(db: Database, incident: Incident) -> tuple[list[Event], list[Event]]:
    """The incident's timeline and the drill's own events."""
    timeline = list(iter_events(db, subject=subject(incident.id)))
    return timeline, list(iter_events(db, subject=core.subject(incident.id)))


def drill_report(db: Database, ref: str) -> DrillReport:
    """The report of a drill, running or ended (``ref``: INC-42, 42 or the id).

    Raises:
        IncidentNotFound: No such incident.
        DrillError: The incident is not a drill.
    """
    incident = rows.get(db, ref)
    if not incident.drill:
        raise DrillError(f"{incident.ref} is not a drill")
    return core.drill_report(*_events(db, incident))


def end_drill(store: Store, ref: str, *, by: str) -> DrillReport:
    """End a drill: resolve its incident ("drill ended") and record ``drill.ended``.

    A drill whose incident somebody already resolved by hand is ended all the same (only
    ``drill.ended`` is recorded).

    Returns:
        The report, as recorded in ``drill.ended``.

    Raises:
        IncidentNotFound: No such incident.
        DrillError: It is not a drill, or it has ended already.
    """
    with store.transaction() as tx:
        incident = rows.get(tx, ref)
        if not incident.drill:
            raise DrillError(f"{incident.ref} is not a drill")
        timeline, own = _events(tx, incident)
        done = next((e for e in own if e.type is EventType.DRILL_ENDED), None)
        if done is not None:
            when = rules.human(done.event_time)
            raise DrillError(f"the drill {incident.ref} ended already, at {when}")
        now = store.clock.now()
        if incident.is_open:
            facts = rules.resolve(incident, by=by, at=now, note=core.ENDED_NOTE)
            escalations.record(store, incident.id, facts, db=tx)
            timeline = list(iter_events(tx, subject=subject(incident.id)))
        report = core.drill_report(timeline, own)
        report = replace(report, state=DrillState.ENDED, ended_at=now, ended_by=by)
        payload = core.ended_payload(report, by)
        record(store, EventType.DRILL_ENDED, core.subject(incident.id), payload, db=tx)
        return report


def reports(db: Database) -> tuple[DrillReport, ...]:
    """The report of every drill, oldest first."""
    found = rows.select(db, "i.drill = 1", tail="ORDER BY i.detected_at, i.number")
    return tuple(core.drill_report(*_events(db, incident)) for incident in found)


def drills(db: Database) -> tuple[Drill, ...]:
    """Every drill as readiness counts it: runbook, when, and who took part."""
    return tuple(r.readiness_drill() for r in reports(db))
