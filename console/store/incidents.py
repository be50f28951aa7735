"""Incidents in the store: commands that record timeline events, and the queries views read.

Every command runs in one ``store.transaction()`` (``BEGIN IMMEDIATE``): it re-reads the
incident inside the transaction, checks the rule (`console.core.incident_rules`) against what
it read, and appends the events. Two consoles acting on the same incident at once queue on the
write lock; the second re-reads after the first committed and is refused with a message that
says what happened ("INC-7 is already acknowledged by ada@... at 09:02 UTC"), never acting on a
stale view.

Incidents are named by ``ref``: the id, the number (``INC-7`` or ``7``) or an id prefix.
Actions are attributed to ``store.actor`` (the ``--as`` option, else the local identity).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlite_utils import Database

from console.core import incident_rules as rules
from console.core.enums import Priority, Severity
from console.core.errors import Problem, ValidationError
from console.core.events import Event, make_event, new_event_id
from console.core.incident_policy import (
    Hold,
    IncidentSettings,
    SignalEffect,
    SignalOutcome,
    decide_priority,
    group_parent,
    hold_for,
    is_quiet,
    opening,
    recurrence,
    reopens,
    severity_change,
    upstream_levels,
    worse,
)
from console.core.incidents import (
    Fact,
    Incident,
    ResolveReason,
    WakeReason,
    subject,
)
from console.core.models import PriorityMatrix, Service
from console.core.routing import RouteDecision, RoutingTable, decide_team, route_metric
from console.core.signals import ManualReport, Signal, SignalSource
from console.core.silences import Silence, active_silence
from console.store import alerting, escalations, estate
from console.store import incident_rows as rows
from console.store.db import Store
from console.store.events import append
from console.store.incident_queries import (
    acknowledged_services,
    children,
    due,
    list_incidents,
    set_next_due,
    timeline,
    unacknowledged_counts,
)

# The queries, re-exported: this module is the one incidents API.
get = rows.get
find = rows.find
open_for_key = rows.open_for_key

__all__ = [
    "acknowledge",
    "acknowledged_services",
    "children",
    "clear_signal",
    "create_manual",
    "due",
    "find",
    "get",
    "group",
    "list_incidents",
    "mark_flapping",
    "merge",
    "mitigate",
    "open_for_key",
    "open_or_update",
    "open_or_update_many",
    "override_priority",
    "reassign",
    "reopen",
    "resolve",
    "set_next_due",
    "snooze",
    "timeline",
    "unacknowledge",
    "unacknowledged_counts",
    "wake",
]


# -- plumbing ------------------------------------------------------------------------------------


@contextmanager
def _writing(store: Store, db: Database | None) -> Iterator[Database]:
    """The caller's transaction (``db``, e.g. the engine's batch) or a new one."""
    if db is not None:
        yield db
        return
    with store.transaction() as tx:
        yield tx


def _record(store: Store, db: Database, facts: Iterable[Fact]) -> tuple[Event, ...]:
    facts = tuple(facts)
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
    escalations.after_facts(store, db, facts)
    return events


def _moment(store: Store, at: datetime | None) -> datetime:
    """``at`` (when a person says it happened earlier), else now; never in the future."""
    now = store.clock.now()
    if at is None:
        return now
    if at.tzinfo is None:
        raise ValidationError([Problem("at", "give a time zone (or UTC)")])
    if at > now:
        raise ValidationError([Problem("at", "cannot be in the future")])
    return at


def _commit(store: Store, db: Database, incident: Incident, facts: Sequence[Fact]) -> Incident:
    _record(store, db, facts)
    after = rows.by_id(db, incident.id)
    assert after is not None
    return after


# -- signals -------------------------------------------------------------------------------------


@dataclass
class _Inputs:
    """What deciding about signals reads, loaded once per transaction and only when needed."""

    db: Database
    settings: IncidentSettings
    _services: dict[str, Service] | None = None
    _matrix: PriorityMatrix | None = None
    _routing: RoutingTable | None = None
    _silences: tuple[Silence, ...] | None = None
    _teams: set[str] | None = field(default=None)

    @property
    def services(self) -> dict[str, Service]:
        if self._services is None:
            self._services = {s.key: s for s in estate.services(self.db)}
        return self._services

    @property
    def matrix(self) -> PriorityMatrix:
        if self._matrix is None:
            self._matrix = estate.priority_matrix(self.db)
        return self._matrix

    @property
    def routing(self) -> RoutingTable:
        if self._routing is None:
            self._routing = alerting.routing(self.db)
        return self._routing

    @property
    def silences(self) -> tuple[Silence, ...]:
        if self._silences is None:
            self._silences = alerting.silences(self.db)
        return self._silences

    @property
    def teams(self) -> set[str]:
        if self._teams is None:
            self._teams = {str(r[0]) for r in self.db.execute("SELECT key FROM teams")}
        return self._teams

    def priority(self, service: str | None, severity: Severity) -> tuple[Priority, str]:
        known = self.services.get(service) if service is not None else None
        tier = None if known is None else known.tier
        return decide_priority(self.matrix, tier, severity, self.settings.default_tier)

    def silenced_by(self, signal: Signal, now: datetime) -> str | None:
        found = active_silence(self.silences, signal.match_labels, now)
        return None if found is None else found.key


def open_or_update(
    store: Store,
    signal: Signal,
    *,
    settings: IncidentSettings | None = None,
    db: Database | None = None,
) -> SignalOutcome:
    """Turn a signal into an incident: open one, or update, recur or reopen the one it is.

    Args:
        store: The store.
        signal: A metric's confirmed trouble, an inbound alert or a report.
        settings: The incident settings (read from the store when None).
        db: An open transaction to write in (the engine's batch); a new one when None.

    Returns:
        What happened: `SignalOutcome` (``effect``, the incident, the events, whether it got
        worse and whether notifications are held back: ``notify`` says whether to notify).

    Raises:
        ValidationError: A team chosen by hand that does not exist.
    """
    with _writing(store, db) as tx:
        inputs = _Inputs(tx, settings or alerting.settings(tx))
        return _apply(store, inputs, signal)


def open_or_update_many(
    store: Store, signals: Iterable[Signal], *, settings: IncidentSettings | None = None
) -> list[SignalOutcome]:
    """`open_or_update` for many signals in one transaction (a receiver's batch of alerts)."""
    with store.transaction() as tx:
        inputs = _Inputs(tx, settings or alerting.settings(tx))
        return [_apply(store, inputs, s) for s in signals]


def _apply(store: Store, inputs: _Inputs, signal: Signal) -> SignalOutcome:
    now = store.clock.now()
    current = rows.open_for_key(inputs.db, signal.dedup_key)
    if current is not None:
        return _repeat(store, inputs, current, signal, now)
    last = rows.latest_for_key(inputs.db, signal.dedup_key)
    if last is not None and reopens(last, now, inputs.settings):
        return _reopen(store, inputs, last, signal, now)
    return _open(store, inputs, signal, now)


def _route(inputs: _Inputs, signal: Signal) -> RouteDecision:
    service = inputs.services.get(signal.service) if signal.service is not None else None
    if signal.team is not None and signal.team not in inputs.teams:
        raise ValidationError([Problem("team", f"unknown team {signal.team!r}")])
    if signal.source is SignalSource.METRIC and service is not None and signal.team is None:
        return route_metric(service.key, service.team)
    owner = None if service is None else (service.key, service.team)
    return decide_team(signal.match_labels, table=inputs.routing, owner=owner, explicit=signal.team)


def _upstream_parent(inputs: _Inputs, service: str) -> Incident | None:
    """The open upstream incident to group under (only upstream services' incidents are read)."""
    depends_on = {k: s.depends_on for k, s in inputs.services.items()}
    upstream = [s for level in upstream_levels(service, depends_on) for s in level]
    if not upstream:
        return None
    marks = ", ".join("?" for _ in upstream)
    candidates = rows.select(inputs.db, f"i.service IN ({marks}) AND {rows.OPEN}", upstream)
    return group_parent(service, depends_on, candidates)


def _open(store: Store, inputs: _Inputs, signal: Signal, now: datetime) -> SignalOutcome:
    db = inputs.db
    parent = None
    if signal.source is not SignalSource.MANUAL and signal.service is not None:
        # A person's report always reaches its team: reports are never grouped away.
        parent = _upstream_parent(inputs, signal.service)
    # A drill rehearses paging: a silence or maintenance window must not swallow it.
    silenced_by = None if signal.drill else inputs.silenced_by(signal, now)
    fact = opening(
        signal,
        incident_id=new_event_id(now),
        number=rows.next_number(db),
        now=now,
        route=_route(inputs, signal),
        priority=inputs.priority(signal.service, signal.severity),
        parent=parent,
        silenced_by=silenced_by,
    )
    events = _record(store, db, [fact])
    incident = rows.by_id(db, fact.incident)
    assert incident is not None
    hold = hold_for(
        incident, now=now, silenced_by=silenced_by, parent_open=parent is not None, new=True
    )
    # Silenced or grouped under an open upstream incident: nobody is paged for it.
    started = (
        None
        if hold in (Hold.SILENCED, Hold.GROUPED)
        else escalations.start_for(store, db, incident)
    )
    if started is not None:
        events = (*events, started)
        incident = rows.by_id(db, incident.id) or incident
    return SignalOutcome(SignalEffect.OPENED, incident, events, True, hold, silenced_by)


def _severity_fact(inputs: _Inputs, incident: Incident, signal: Signal, at: datetime) -> list[Fact]:
    if signal.severity is incident.severity:
        return []
    priority = inputs.priority(incident.service, signal.severity)
    found = severity_change(incident, signal.severity, at=at, priority=priority)
    return [] if found is None else [found]


def _outcome(
    inputs: _Inputs,
    effect: SignalEffect,
    incident: Incident,
    events: tuple[Event, ...],
    *,
    got_worse: bool,
    signal: Signal,
    now: datetime,
) -> SignalOutcome:
    if not got_worse and effect is SignalEffect.UPDATED:  # the hot path: nobody is notified
        return SignalOutcome(effect, incident, events)
    silenced_by = inputs.silenced_by(signal, now)
    parent = None if incident.parent is None else rows.by_id(inputs.db, incident.parent)
    hold = hold_for(
        incident,
        now=now,
        silenced_by=silenced_by,
        parent_open=parent is not None and parent.is_open,
        new=effect is SignalEffect.REOPENED,
    )
    return SignalOutcome(effect, incident, events, got_worse, hold, silenced_by)


def _repeat(
    store: Store, inputs: _Inputs, current: Incident, signal: Signal, now: datetime
) -> SignalOutcome:
    facts = _severity_fact(inputs, current, signal, now)
    quiet = is_quiet(current, now, inputs.settings)
    if quiet:
        facts.append(recurrence(current, signal, now=now))
    events = _record(store, inputs.db, facts)
    rows.count_repeat(inputs.db, current, now)
    if facts:
        incident = rows.by_id(inputs.db, current.id)
        assert incident is not None
    else:  # the hot path (an alert re-sent every minute): no need to read back what we wrote
        incident = replace(
            current, count=current.count + 1, last_seen_at=max(current.last_seen_at, now)
        )
    effect = SignalEffect.RECURRED if quiet else SignalEffect.UPDATED
    got_worse = bool(facts) and worse(current.severity, signal.severity)
    return _outcome(inputs, effect, incident, events, got_worse=got_worse, signal=signal, now=now)


def _reopen(
    store: Store, inputs: _Inputs, last: Incident, signal: Signal, now: datetime
) -> SignalOutcome:
    facts = list(
        rules.reopen(
            last, by=store.actor, at=now, reason="the signal came back", value=signal.value
        )
    )
    facts += _severity_fact(inputs, last, signal, now)
    events = _record(store, inputs.db, facts)
    rows.count_repeat(inputs.db, last, now)
    incident = rows.by_id(inputs.db, last.id)
    assert incident is not None
    return _outcome(
        inputs, SignalEffect.REOPENED, incident, events, got_worse=True, signal=signal, now=now
    )


def clear_signal(
    store: Store,
    dedup_key: str,
    *,
    settings: IncidentSettings | None = None,
    db: Database | None = None,
) -> Incident | None:
    """A signal recovered: resolve its open incident when its service resolves on recovery.

    A flapping incident is not resolved (the next flap would only reopen it): mark it no longer
    flapping (`mark_flapping`) and clear the signal again once it has settled.

    Returns:
        The incident, resolved (reason auto); None when there was no open incident, or it stays
        open because auto-resolve is off for its source or service, or because it is flapping.
    """
    with _writing(store, db) as tx:
        current = rows.open_for_key(tx, dedup_key)
        if current is None:
            return None
        chosen = settings or alerting.settings(tx)
        if current.flapping or not chosen.auto_resolves(current.source, current.service):
            return None
        now = store.clock.now()
        facts = rules.resolve(
            current, by=store.actor, at=now, reason=ResolveReason.AUTO, note="the signal recovered"
        )
        return _commit(store, tx, current, facts)


def mark_flapping(
    store: Store, dedup_key: str, flapping: bool, *, db: Database | None = None
) -> Incident | None:
    """Mark the open incident of a dedup key flapping (or not); None when there is none."""
    with _writing(store, db) as tx:
        current = rows.open_for_key(tx, dedup_key)
        if current is None:
            return None
        facts = rules.set_flapping(current, at=store.clock.now(), flapping=flapping)
        return _commit(store, tx, current, facts) if facts else current


def create_manual(
    store: Store, report: ManualReport, *, settings: IncidentSettings | None = None
) -> SignalOutcome:
    """Open an incident from a person's report (never deduplicated, never grouped away)."""
    with store.transaction() as tx:
        now = store.clock.now()
        signal = report.signal(new_event_id(now), now)
        if signal.service is not None and signal.service not in {
            s.key for s in estate.services(tx)
        }:
            raise ValidationError([Problem("service", f"unknown service {signal.service!r}")])
        inputs = _Inputs(tx, settings or alerting.settings(tx))
        return _open(store, inputs, signal, now)


# -- what people do ----------------------------------------------------------------------------


def acknowledge(
    store: Store, ref: str, *, on_behalf_of: str | None = None, at: datetime | None = None
) -> Incident:
    """Acknowledge a triggered incident (``on_behalf_of``: who really answered, by phone...).

    Raises:
        IncidentNotFound: No such incident.
        TransitionRefused: It is already acknowledged or resolved (by someone quicker).
    """
    with store.transaction() as db:
        incident = rows.get(db, ref)
        when = _moment(store, at)
        facts = rules.acknowledge(incident, by=store.actor, at=when, on_behalf_of=on_behalf_of)
        return _commit(store, db, incident, facts)


def unacknowledge(store: Store, ref: str, *, reason: str) -> Incident:
    """Put an acknowledged incident back to triggered (escalation's acknowledgement timeout)."""
    with store.transaction() as db:
        incident = rows.get(db, ref)
        now = store.clock.now()
        facts = rules.unacknowledge(incident, by=store.actor, at=now, reason=reason)
        return _commit(store, db, incident, facts)


def mitigate(
    store: Store, ref: str, *, note: str | None = None, at: datetime | None = None
) -> Incident:
    """Record that the impact stopped (acknowledging a triggered incident first)."""
    with store.transaction() as db:
        incident = rows.get(db, ref)
        facts = rules.mitigate(incident, by=store.actor, at=_moment(store, at), note=note)
        return _commit(store, db, incident, facts)


def resolve(
    store: Store, ref: str, *, note: str | None = None, at: datetime | None = None
) -> Incident:
    """Resolve an incident by hand."""
    with store.transaction() as db:
        incident = rows.get(db, ref)
        facts = rules.resolve(incident, by=store.actor, at=_moment(store, at), note=note)
        return _commit(store, db, incident, facts)


def reopen(store: Store, ref: str, *, reason: str) -> Incident:
    """Bring a resolved incident back to triggered."""
    with store.transaction() as db:
        incident = rows.get(db, ref)
        facts = rules.reopen(incident, by=store.actor, at=store.clock.now(), reason=reason)
        return _commit(store, db, incident, facts)


def snooze(store: Store, ref: str, *, until: datetime) -> Incident:
    """Hold notifications and escalation back until ``until``."""
    with store.transaction() as db:
        incident = rows.get(db, ref)
        facts = rules.snooze(incident, by=store.actor, at=store.clock.now(), until=until)
        return _commit(store, db, incident, facts)


def wake(store: Store, ref: str, *, reason: WakeReason = WakeReason.MANUAL) -> Incident:
    """End a snooze (by hand, or escalation noticing that its time came)."""
    with store.transaction() as db:
        incident = rows.get(db, ref)
        facts = rules.wake(incident, by=store.actor, at=store.clock.now(), reason=reason)
        return _commit(store, db, incident, facts)


def reassign(store: Store, ref: str, team: str, *, reason: str) -> Incident:
    """Give an incident to another team (the reason is recorded)."""
    with store.transaction() as db:
        incident = rows.get(db, ref)
        teams = {str(r[0]) for r in db.execute("SELECT key FROM teams")}
        facts = rules.reassign(
            incident, by=store.actor, at=store.clock.now(), to_team=team, reason=reason, teams=teams
        )
        return _commit(store, db, incident, facts)


def override_priority(store: Store, ref: str, priority: Priority, *, reason: str) -> Incident:
    """Set the priority by hand instead of the matrix (the reason is recorded)."""
    with store.transaction() as db:
        incident = rows.get(db, ref)
        now = store.clock.now()
        facts = rules.override_priority(
            incident, by=store.actor, at=now, to=priority, reason=reason
        )
        return _commit(store, db, incident, facts)


def merge(store: Store, ref: str, into: str) -> Incident:
    """Merge incident ``ref`` into ``into``; returns the surviving incident.

    The merged one is resolved (reason merged) and its dedup keys now reach the survivor;
    incidents grouped under it move under the survivor.
    """
    with store.transaction() as db:
        source = rows.get(db, ref)
        target = rows.get(db, into)
        kids = rows.select(db, "i.parent = ?", [source.id])
        facts = rules.merge(source, target, by=store.actor, at=store.clock.now(), children=kids)
        return _commit(store, db, target, facts)


def group(store: Store, ref: str, parent: str | None) -> Incident:
    """Group an incident under an upstream one (``parent`` None: ungroup it)."""
    with store.transaction() as db:
        child = rows.get(db, ref)
        upstream = None if parent is None else rows.get(db, parent)
        parent_of = {i.id: i.parent for i in rows.select(db, "i.parent IS NOT NULL")}
        facts = rules.group(
            child, upstream, by=store.actor, at=store.clock.now(), parent_of=parent_of
        )
        return _commit(store, db, child, facts)
