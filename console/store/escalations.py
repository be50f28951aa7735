"""Escalation in the store: policies, each incident's progress, recording steps, ``next_due_at``.

Policies are saved and deleted like any entity (``entities.save`` / ``entities.delete``). An
incident's escalation lives on its timeline (subject ``incident:<id>``): ``escalation.started``
with the policy's snapshot when the incident opens, then every step and delivery attempt.
``next_due_at`` is a pure function of that timeline (``console.core.escalator.next_due``),
written here whenever it may have changed: after every fact recorded through this module, after
the incident commands that change it (``console.store.incidents`` calls `after_facts`), and for
every open incident after ``db rebuild``.

A reassigned incident keeps escalating by the snapshot it started with: the snapshot is the
policy of record, whoever owns the incident now.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlite_utils import Database

from console.core import incident_rules as rules
from console.core.clock import isoformat
from console.core.errors import Problem, ValidationError
from console.core.escalation import Policy, policy_for
from console.core.escalator import (
    Directory,
    EscalationProgress,
    Plan,
    escalate_now,
    fold,
    next_due,
    start,
)
from console.core.events import Event, EventType, make_event
from console.core.incidents import Fact, Incident, subject
from console.store import escalation_rows, estate
from console.store import incident_rows as rows
from console.store.db import Store
from console.store.events import append, iter_events
from console.store.incident_queries import set_next_due

#: Incident facts after which the next due instant may have moved.
AFFECTS_DUE = frozenset(
    {
        EventType.INCIDENT_ACKNOWLEDGED,
        EventType.INCIDENT_UNACKNOWLEDGED,
        EventType.INCIDENT_MITIGATED,
        EventType.INCIDENT_RESOLVED,
        EventType.INCIDENT_REOPENED,
        EventType.INCIDENT_SNOOZED,
        EventType.INCIDENT_WOKE,
    }
)
#: How far back absences are read for a tick (a catch-up longer than this is not expected).
ABSENCE_HORIZON = timedelta(days=31)


@contextmanager
def _writing(store: Store, db: Database | None) -> Iterator[Database]:
    if db is not None:
        yield db
        return
    with store.transaction() as tx:
        yield tx


def policies(db: Database) -> tuple[Policy, ...]:
    """Every escalation policy, by key."""
    return escalation_rows.policies(db)


def directory(db: Database, now: datetime) -> Directory:
    """What the planner needs to know about people, read once for a tick at ``now``.

    Absences that ended more than `ABSENCE_HORIZON` before ``now`` are left out.
    """
    since = isoformat(now - ABSENCE_HORIZON)
    absences = [u for u in estate.unavailability(db) if isoformat(u.end) > since]
    return Directory.build(
        members=(str(r[0]) for r in db.execute("SELECT email FROM members")),
        teams=estate.teams(db),
        schedules=estate.schedules(db),
        unavailability=absences,
        turns=escalation_rows.turns(db),
    )


def progress(db: Database, incident_id: str) -> EscalationProgress | None:
    """An incident's escalation so far; None when it has none (no policy applied)."""
    return fold(iter_events(db, subject=subject(incident_id)))


def _append(store: Store, db: Database, facts: Iterable[Fact]) -> tuple[Event, ...]:
    now = store.clock.now()
    events = tuple(
        make_event(
            f.type,
            subject(f.incident),
            f.payload,
            actor=store.actor,
            origin=store.console_id,
            now=now,
            event_time=f.at,
        )
        for f in facts
    )
    append(db, events)
    return events


def recompute_due(target: Store | Database, incident_id: str, now: datetime) -> datetime | None:
    """Store the incident's ``next_due_at`` from its timeline; returns it.

    Args:
        target: The store (a transaction of its own) or an open transaction.
        incident_id: The incident.
        now: The current time (the rule does not depend on it; passed on for the record).
    """
    if isinstance(target, Store):
        with target.transaction() as tx:
            return recompute_due(tx, incident_id, now)
    incident = rows.by_id(target, incident_id)
    if incident is None:
        return None
    found = progress(target, incident_id)
    if found is None:
        # No escalation: the column is not escalation's to clear (a tick that plans the
        # incident finds nothing to do and clears it then).
        return incident.next_due_at
    due = next_due(found, incident, now)
    if due != incident.next_due_at:
        set_next_due(target, incident_id, due)
    return due


def record(
    store: Store, incident_id: str, facts: Sequence[Fact], db: Database | None = None
) -> tuple[Event, ...]:
    """Append escalation facts to the incident's timeline and update its ``next_due_at``.

    The projection moves the round-robin turns on; ``incident.*`` facts among them (an
    acknowledgement withdrawn by the timeout) update the incident record too.
    """
    with _writing(store, db) as tx:
        events = _append(store, tx, facts)
        recompute_due(tx, incident_id, store.clock.now())
        return events


def apply_plan(
    store: Store, incident_id: str, plan: Plan, db: Database | None = None
) -> tuple[Event, ...]:
    """Record a plan's facts and store its ``next_due_at`` as it is (no second fold)."""
    with _writing(store, db) as tx:
        events = _append(store, tx, plan.facts)
        set_next_due(tx, incident_id, plan.next_due_at)
        return events


def start_for(store: Store, db: Database, incident: Incident) -> Event | None:
    """Start the incident's escalation with its policy's snapshot (None: no policy applies)."""
    policy = policy_for(policies(db), incident.service, incident.team)
    if policy is None:
        return None
    (event,) = _append(store, db, [start(incident, policy, store.clock.now())])
    recompute_due(db, incident.id, store.clock.now())
    return event


def after_facts(store: Store, db: Database, facts: Iterable[Fact]) -> None:
    """Recompute ``next_due_at`` of the incidents whose recorded facts may have moved it."""
    touched = dict.fromkeys(f.incident for f in facts if f.type in AFFECTS_DUE)
    for incident_id in touched:
        recompute_due(db, incident_id, store.clock.now())


def acknowledge_on_behalf(
    store: Store, ref: str, member: str, via: str, by: str | None = None
) -> Incident:
    """Acknowledge for ``member``, who answered elsewhere (``via``: "phone", "sms"...).

    Raises:
        IncidentNotFound: No such incident.
        TransitionRefused: It is already acknowledged or resolved.
        ValidationError: ``member`` is not a known member, or ``via`` is empty.
    """
    with store.transaction() as db:
        incident = rows.get(db, ref)
        known = {str(r[0]) for r in db.execute("SELECT email FROM members")}
        if member not in known:
            raise ValidationError([Problem("member", f"unknown member {member!r}")])
        if not via.strip():
            raise ValidationError([Problem("via", "say how they answered (phone, sms...)")])
        now = store.clock.now()
        (fact,) = rules.acknowledge(incident, by=by or store.actor, at=now, on_behalf_of=member)
        payload = dict(fact.payload) | {"via": via.strip()}
        _append(store, db, [Fact(fact.incident, fact.type, payload, fact.at)])
        recompute_due(db, incident.id, now)
        found = rows.by_id(db, incident.id)
        assert found is not None
        return found


def escalate(store: Store, ref: str, by: str | None = None) -> Incident:
    """Escalate now: the next level starts at once (at the engine's next tick).

    Raises:
        IncidentNotFound: No such incident.
        EscalationError: It is resolved, has no escalation, or is at its very last step.
    """
    with store.transaction() as db:
        incident = rows.get(db, ref)
        now = store.clock.now()
        facts = escalate_now(progress(db, incident.id), incident, by or store.actor, at=now)
        record(store, incident.id, facts, db=db)
        found = rows.by_id(db, incident.id)
        assert found is not None
        return found


def recompute_all(db: Database, now: datetime) -> int:
    """``next_due_at`` of every open incident from its timeline (after ``db rebuild``)."""
    open_ids = [str(r[0]) for r in db.execute(f"SELECT id FROM incidents i WHERE {rows.OPEN}")]
    for incident_id in open_ids:
        recompute_due(db, incident_id, now)
    return len(open_ids)
