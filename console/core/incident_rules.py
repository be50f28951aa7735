"""What may be done to an incident, and the facts each command records.

Every function here checks the rule against the incident as it stands and returns the facts
(events still to be stamped by the store) or raises `TransitionRefused` with a message a person
can act on. The resulting record's timestamps are checked too (started <= detected <=
acknowledged <= mitigated <= resolved), so a command can never record them out of order.

Who did it is ``by`` (the console's actor) in every payload, beside the envelope's actor, so a
payload read alone (an export, a post-mortem) still says who.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from console.core.clock import isoformat
from console.core.enums import Priority
from console.core.errors import Problem, ValidationError
from console.core.events import EventType
from console.core.incidents import (
    Fact,
    Incident,
    IncidentState,
    ResolveReason,
    TransitionRefused,
    WakeReason,
    apply,
)


def human(moment: datetime) -> str:
    """A moment as people read it in messages: 2026-03-01 09:00 UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _fact(incident: Incident, type_: EventType, at: datetime, /, **payload: Any) -> Fact:
    return Fact(incident.id, type_, payload, at)


def _checked(incident: Incident, facts: list[Fact]) -> tuple[Fact, ...]:
    """The facts, once the record they make has its timestamps in order."""
    after = apply(incident, facts)
    assert after is not None
    after.timestamps.validate()
    return tuple(facts)


def _resolved_note(incident: Incident) -> str:
    when = "" if incident.resolved_at is None else f" at {human(incident.resolved_at)}"
    who = f" by {incident.resolved_by}" if incident.resolved_by else ""
    return f"{incident.ref} is already resolved{when}{who}"


def _require_open(incident: Incident, doing: str) -> None:
    if not incident.is_open:
        raise TransitionRefused(f"{_resolved_note(incident)}; reopen it before {doing}")


def _text(value: str | None, field: str, what: str) -> str:
    if value is None or not value.strip():
        raise ValidationError([Problem(field, f"say {what}")])
    return value.strip()


def acknowledge(
    incident: Incident, *, by: str, at: datetime, on_behalf_of: str | None = None
) -> tuple[Fact, ...]:
    """Take a triggered incident: escalation stops, the alarm stops.

    Args:
        incident: The incident.
        by: Who acknowledges at this console.
        at: When.
        on_behalf_of: Who really answered, when ``by`` records it for them (by phone...).
    """
    _require_open(incident, "acknowledging it")
    if incident.state is IncidentState.ACKNOWLEDGED:
        when = "" if incident.acknowledged_at is None else f" at {human(incident.acknowledged_at)}"
        raise TransitionRefused(
            f"{incident.ref} is already acknowledged by {incident.acknowledged_by}{when}"
        )
    payload = {"by": by, "on_behalf_of": on_behalf_of, "at": isoformat(at)}
    return _checked(incident, [_fact(incident, EventType.INCIDENT_ACKNOWLEDGED, at, **payload)])


def unacknowledge(incident: Incident, *, by: str, at: datetime, reason: str) -> tuple[Fact, ...]:
    """Put an acknowledged incident back to triggered (an acknowledgement that timed out).

    A mitigated incident is not re-triggered: its impact has stopped, nobody is to be woken
    for it, and its acknowledgement stays the one that came before the mitigation.
    """
    if incident.state is not IncidentState.ACKNOWLEDGED:
        raise TransitionRefused(f"{incident.ref} is {incident.state.value}, not acknowledged")
    if incident.mitigated_at is not None:
        raise TransitionRefused(
            f"{incident.ref} was mitigated at {human(incident.mitigated_at)}: its impact "
            "stopped, so it is not re-triggered"
        )
    payload = {
        "by": by,
        "at": isoformat(at),
        "reason": reason,
        "acknowledged_by": incident.acknowledged_by,
    }
    return (_fact(incident, EventType.INCIDENT_UNACKNOWLEDGED, at, **payload),)


def mitigate(
    incident: Incident, *, by: str, at: datetime, note: str | None = None
) -> tuple[Fact, ...]:
    """Record that the impact stopped (the cause is not fixed yet).

    Mitigating a triggered incident acknowledges it first, by the same person at the same
    moment: whoever stopped the impact has seen the incident, and escalation must not keep
    paging people about it.
    """
    _require_open(incident, "mitigating it")
    if incident.mitigated_at is not None:
        raise TransitionRefused(
            f"{incident.ref} was already mitigated at {human(incident.mitigated_at)}"
        )
    facts: list[Fact] = []
    if incident.state is IncidentState.TRIGGERED:
        facts += acknowledge(incident, by=by, at=at)
    payload = {"by": by, "at": isoformat(at), "note": note}
    facts.append(_fact(incident, EventType.INCIDENT_MITIGATED, at, **payload))
    return _checked(incident, facts)


def resolve(
    incident: Incident,
    *,
    by: str,
    at: datetime,
    reason: ResolveReason = ResolveReason.MANUAL,
    note: str | None = None,
) -> tuple[Fact, ...]:
    """Close an incident: the cause is fixed (or the signal recovered, or it was merged)."""
    if not incident.is_open:
        raise TransitionRefused(_resolved_note(incident))
    payload = {"by": by, "at": isoformat(at), "reason": reason.value, "note": note}
    if incident.snoozed_until is not None:
        payload["snoozed_until"] = isoformat(incident.snoozed_until)
    return _checked(incident, [_fact(incident, EventType.INCIDENT_RESOLVED, at, **payload)])


def reopen(
    incident: Incident, *, by: str, at: datetime, reason: str, value: float | None = None
) -> tuple[Fact, ...]:
    """Bring a resolved incident back: it is triggered again and needs a person again."""
    if incident.is_open:
        raise TransitionRefused(f"{incident.ref} is not resolved: it is {incident.state.value}")
    if incident.merged_into is not None:
        raise TransitionRefused(
            f"{incident.ref} was merged into another incident; work on that one instead"
        )
    payload = {
        "by": by,
        "at": isoformat(at),
        "reason": reason,
        "value": value,
        "resolved_at": None if incident.resolved_at is None else isoformat(incident.resolved_at),
    }
    return (_fact(incident, EventType.INCIDENT_REOPENED, at, **payload),)


def snooze(incident: Incident, *, by: str, at: datetime, until: datetime) -> tuple[Fact, ...]:
    """Pause notifications and escalation until ``until``; the state stays as it is."""
    _require_open(incident, "snoozing it")
    if until <= at:
        raise ValidationError([Problem("until", f"snooze until a later time than {human(at)}")])
    before = None if incident.snoozed_until is None else isoformat(incident.snoozed_until)
    payload = {"by": by, "at": isoformat(at), "until": isoformat(until), "before": before}
    return (_fact(incident, EventType.INCIDENT_SNOOZED, at, **payload),)


def wake(
    incident: Incident, *, by: str, at: datetime, reason: WakeReason = WakeReason.MANUAL
) -> tuple[Fact, ...]:
    """End a snooze (by hand, or because its time came)."""
    if incident.snoozed_until is None:
        raise TransitionRefused(f"{incident.ref} is not snoozed")
    payload = {
        "by": by,
        "at": isoformat(at),
        "reason": reason.value,
        "until": isoformat(incident.snoozed_until),
    }
    return (_fact(incident, EventType.INCIDENT_WOKE, at, **payload),)


def reassign(
    incident: Incident,
    *,
    by: str,
    at: datetime,
    to_team: str,
    reason: str,
    teams: Collection[str],
) -> tuple[Fact, ...]:
    """Give the incident to another team.

    Args:
        incident: The incident.
        by: Who reassigns it.
        at: When.
        to_team: The team that takes it.
        reason: Why (recorded: a reassignment is never silent).
        teams: Every team key there is.
    """
    _require_open(incident, "reassigning it")
    why = _text(reason, "reason", "why it is reassigned")
    if to_team not in teams:
        raise ValidationError([Problem("team", f"unknown team {to_team!r}")])
    if to_team == incident.team:
        raise TransitionRefused(f"{incident.ref} is already with team {to_team!r}")
    payload = {"by": by, "from_team": incident.team, "to_team": to_team, "reason": why}
    return (_fact(incident, EventType.INCIDENT_REASSIGNED, at, **payload),)


def override_priority(
    incident: Incident, *, by: str, at: datetime, to: Priority, reason: str
) -> tuple[Fact, ...]:
    """Set the priority by hand; the matrix no longer decides it (and the reason is kept)."""
    why = _text(reason, "reason", "why the priority matrix is overridden")
    if to is incident.priority:
        raise TransitionRefused(f"{incident.ref} is already {to.value}")
    payload = {
        "by": by,
        "from": incident.priority.value,
        "to": to.value,
        "reason": why,
        "matrix_reason": incident.priority_reason,
    }
    return (_fact(incident, EventType.INCIDENT_PRIORITY_OVERRIDDEN, at, **payload),)


def set_flapping(incident: Incident, *, at: datetime, flapping: bool) -> tuple[Fact, ...]:
    """Mark or unmark the incident flapping; nothing when it already is as asked."""
    if incident.flapping is flapping or not incident.is_open:
        return ()
    payload = {"flapping": flapping, "at": isoformat(at)}
    return (_fact(incident, EventType.INCIDENT_FLAPPING, at, **payload),)


def _ancestors(start: str | None, parent_of: Mapping[str, str | None]) -> list[str]:
    chain: list[str] = []
    while start is not None and start not in chain:
        chain.append(start)
        start = parent_of.get(start)
    return chain


def group(
    child: Incident,
    parent: Incident | None,
    *,
    by: str,
    at: datetime,
    parent_of: Mapping[str, str | None],
) -> tuple[Fact, ...]:
    """Link ``child`` under ``parent`` (None: unlink it); its notifications are held back.

    Args:
        child: The downstream incident.
        parent: The upstream incident, or None to ungroup.
        by: Who links them.
        at: When.
        parent_of: Each incident's parent, to refuse a loop.
    """
    if parent is None:
        if child.parent is None:
            raise TransitionRefused(f"{child.ref} is not grouped under another incident")
        return (_fact(child, EventType.INCIDENT_GROUPED, at, parent=None, before=child.parent),)
    if parent.id == child.id:
        raise TransitionRefused(f"{child.ref} cannot be grouped under itself")
    if not parent.is_open:
        raise TransitionRefused(f"cannot group under {parent.ref}: it is resolved")
    if child.id in _ancestors(parent.id, parent_of):
        raise TransitionRefused(f"{parent.ref} is already grouped under {child.ref}")
    if child.parent == parent.id:
        raise TransitionRefused(f"{child.ref} is already grouped under {parent.ref}")
    payload = {
        "by": by,
        "parent": parent.id,
        "parent_number": parent.number,
        "before": child.parent,
    }
    return (_fact(child, EventType.INCIDENT_GROUPED, at, **payload),)


def merge(
    source: Incident,
    target: Incident,
    *,
    by: str,
    at: datetime,
    children: Iterable[Incident] = (),
) -> tuple[Fact, ...]:
    """Fold ``source`` into ``target``: the same trouble reported twice.

    ``source`` records ``merged`` then ``resolved`` (reason merged); ``target`` records
    ``absorbed`` (its dedup keys now include the source's, so later signals land on it); open
    incidents grouped under ``source`` are grouped under ``target`` instead.

    Args:
        source: The incident that goes away.
        target: The incident that stays.
        by: Who merges them.
        at: When.
        children: The incidents grouped under ``source``.
    """
    if source.id == target.id:
        raise TransitionRefused(f"cannot merge {source.ref} into itself")
    if not source.is_open:
        raise TransitionRefused(f"{_resolved_note(source)}; only open incidents can be merged")
    if not target.is_open:
        raise TransitionRefused(f"cannot merge into {target.ref}: it is resolved")
    facts = [
        _fact(
            source, EventType.INCIDENT_MERGED, at, by=by, into=target.id, into_number=target.number
        ),
        *resolve(
            source, by=by, at=at, reason=ResolveReason.MERGED, note=f"merged into {target.ref}"
        ),
        _fact(
            target,
            EventType.INCIDENT_ABSORBED,
            at,
            by=by,
            **{"from": source.id},
            from_number=source.number,
            dedup_key=source.dedup_key,
        ),
    ]
    for child in children:
        if not child.is_open or child.parent != source.id:
            continue
        new_parent = source.parent if child.id == target.id else target.id
        payload = {"by": by, "parent": new_parent, "before": source.id, "reason": "merged"}
        facts.append(_fact(child, EventType.INCIDENT_GROUPED, at, **payload))
    return tuple(facts)
