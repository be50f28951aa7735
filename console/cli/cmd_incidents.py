"""``incidents``: list, show, ack, escalate, mitigate, resolve, reopen, snooze, wake, and more.

The other actions: reassign, merge, priority, create.

The same store functions the desktop console calls, so the CLI works beside a running console:
each action is one short transaction that re-reads the incident, and an action someone else
already took (acknowledged a moment ago elsewhere) is refused with exit code 2 and a message
that says who and when.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from console.cli.context import Context
from console.cli.exitcodes import Exit
from console.cli.output import emit_json, table
from console.core import escalation_steps
from console.core.clock import isoformat, parse_iso
from console.core.enums import Priority, Severity
from console.core.escalation_steps import AckChannel, EscalationView, Step
from console.core.escalator import EscalationError, fold
from console.core.events import Event
from console.core.incident_policy import SignalOutcome
from console.core.incident_rules import human
from console.core.incidents import Incident, IncidentError, IncidentState
from console.core.signals import ManualReport
from console.store import escalations, incidents

Handler = Callable[[Context], int]
_STATES = [s.value for s in IncidentState]
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _duration(text: str) -> timedelta:
    parts = re.findall(r"(\d+)\s*([smhdw])", text.strip().lower())
    if not parts or re.sub(r"[\d\s]+[smhdw]", "", text.strip().lower()):
        raise argparse.ArgumentTypeError(f"expected a duration such as 30m, 2h or 1h30m: {text!r}")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))


def _moment(text: str) -> datetime:
    try:
        return parse_iso(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time with a zone, such as 2026-03-01T09:30:00Z: {text!r}"
        ) from None


def _json_flag(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: without it this default would overwrite a global --json given before the command.
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print data as JSON"
    )


def _action(
    sub: Any, name: str, handler: Handler, text: str, *, ref: bool = True
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text)
    if ref:
        parser.add_argument("ref", metavar="INCIDENT", help="INC-42, 42, or the incident's id")
    parser.set_defaults(handler=handler)
    _json_flag(parser)
    return parser


def register(sub: Any) -> None:
    """Add the ``incidents`` command and its actions."""
    group = sub.add_parser(
        "incidents",
        help="list, show and act on incidents",
        description="Incidents: list and show them, and act on them as the desktop console "
        "does. Actions are recorded as the --as member (else the local identity). An action "
        "the incident's state does not allow (already acknowledged, already resolved), or an "
        "unknown incident, exits with code 2.",
    )
    isub = group.add_subparsers(dest="incidents_command", metavar="ACTION", required=True)
    ls = _action(
        isub, "list", cmd_list, "list incidents (open ones unless --state/--all)", ref=False
    )
    ls.add_argument("--state", dest="states", action="append", choices=_STATES, default=[])
    ls.add_argument("--all", action="store_true", help="every state, resolved included")
    ls.add_argument("--team", help="only this team's")
    ls.add_argument("--priority", choices=[p.value for p in Priority])
    ls.add_argument("--service", help="only this service's")
    ls.add_argument("--limit", type=int, default=None)
    _action(isub, "show", cmd_show, "show an incident and its timeline")
    ack = _action(isub, "ack", cmd_ack, "acknowledge a triggered incident")
    ack.add_argument("--on-behalf-of", metavar="WHO", help="who really answered (by phone...)")
    ack.add_argument(
        "--via",
        choices=[c.value for c in AckChannel],
        help="how they answered (with --on-behalf-of EMAIL: a member's email)",
    )
    _action(
        isub,
        "escalate",
        cmd_escalate,
        "escalate now: the next level of the escalation policy starts at the engine's next tick",
    )
    mit = _action(isub, "mitigate", cmd_mitigate, "record that the impact stopped")
    mit.add_argument("--note", help="what stopped it")
    res = _action(isub, "resolve", cmd_resolve, "resolve an incident")
    res.add_argument("--note", help="what fixed it")
    rop = _action(isub, "reopen", cmd_reopen, "bring a resolved incident back")
    rop.add_argument("--reason", required=True)
    snz = _action(isub, "snooze", cmd_snooze, "hold notifications and escalation back a while")
    when = snz.add_mutually_exclusive_group(required=True)
    when.add_argument("--for", dest="for_", type=_duration, metavar="DURATION", help="30m, 2h")
    when.add_argument("--until", type=_moment, metavar="TIME", help="ISO 8601 with a zone")
    _action(isub, "wake", cmd_wake, "end a snooze now")
    _register_changes(isub)


def _register_changes(isub: Any) -> None:
    """The actions that change who has an incident, its priority, or add one."""
    rea = _action(isub, "reassign", cmd_reassign, "give an incident to another team")
    rea.add_argument("team", help="the team's id")
    rea.add_argument("--reason", required=True, help="why (recorded on the timeline)")
    mrg = _action(isub, "merge", cmd_merge, "merge INCIDENT into another (the same trouble)")
    mrg.add_argument("into", metavar="INTO", help="the incident that stays")
    pri = _action(isub, "priority", cmd_priority, "override the priority the matrix gave")
    pri.add_argument("priority", choices=[p.value for p in Priority])
    pri.add_argument("--reason", required=True, help="why (recorded on the timeline)")
    new = _action(isub, "create", cmd_create, "open an incident from a report", ref=False)
    new.add_argument("--title", required=True, help="what is broken")
    new.add_argument("--reporter", required=True, help="who reported it")
    new.add_argument("--impact", help="the impact as the reporter sees it")
    new.add_argument("--service", help="the affected service's id")
    new.add_argument("--team", help="the team to give it to (default: the service's owner)")
    new.add_argument(
        "--severity", choices=[s.value for s in Severity], default=Severity.WARNING.value
    )
    new.add_argument("--summary", help="anything else")


# -- output -------------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return None if value is None else isoformat(value)


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def incident_dict(i: Incident) -> dict[str, Any]:
    """An incident as JSON-able data (what ``--json`` prints)."""
    d = i.durations
    return {
        "id": i.id,
        "ref": i.ref,
        "number": i.number,
        "title": i.title,
        "summary": i.summary,
        "state": i.state.value,
        "severity": i.severity.value,
        "priority": i.priority.value,
        "priority_reason": i.priority_reason,
        "priority_overridden": i.priority_overridden,
        "source": i.source.value,
        "dedup_key": i.dedup_key,
        "service": i.service,
        "team": i.team,
        "labels": dict(i.labels),
        "reporter": i.reporter,
        "impact": i.impact,
        "started_at": isoformat(i.started_at),
        "detected_at": isoformat(i.detected_at),
        "acknowledged_at": _iso(i.acknowledged_at),
        "acknowledged_by": i.acknowledged_by,
        "mitigated_at": _iso(i.mitigated_at),
        "resolved_at": _iso(i.resolved_at),
        "resolved_by": i.resolved_by,
        "resolve_reason": None if i.resolve_reason is None else i.resolve_reason.value,
        "snoozed_until": _iso(i.snoozed_until),
        "flapping": i.flapping,
        "parent": i.parent,
        "merged_into": i.merged_into,
        "count": i.count,
        "drill": i.drill,
        "last_seen_at": isoformat(i.last_seen_at),
        "durations_s": {
            "to_detect": _seconds(d.to_detect),
            "to_acknowledge": _seconds(d.to_acknowledge),
            "to_mitigate": _seconds(d.to_mitigate),
            "to_resolve": _seconds(d.to_resolve),
        },
    }


def event_dict(e: Event) -> dict[str, Any]:
    """A timeline event as JSON-able data."""
    return {
        "id": e.id,
        "type": e.type.value,
        "event_time": isoformat(e.event_time),
        "recorded_time": isoformat(e.recorded_time),
        "actor": e.actor,
        "origin": e.origin,
        "payload": dict(e.payload),
    }


def _state_word(i: Incident) -> str:
    word = ("DRILL " if i.drill else "") + i.state.value
    if i.snoozed_until is not None:
        word += " (snoozed)"
    return word


def _print_incident(i: Incident) -> None:
    fields: list[tuple[str, Any]] = [
        ("incident", f"{i.ref}  {i.title}"),
        ("state", _state_word(i)),
        ("priority", f"{i.priority.value}  ({i.priority_reason})"),
        ("severity", i.severity.value),
        ("team", i.team or "unassigned"),
        ("service", i.service),
        ("source", f"{i.source.value}  [{i.dedup_key}]"),
        ("reporter", i.reporter),
        ("impact", i.impact),
        ("summary", i.summary),
        ("seen", f"{i.count} time(s), last at {human(i.last_seen_at)}"),
    ]
    for name in ("started", "detected", "acknowledged", "mitigated", "resolved"):
        value = getattr(i.timestamps, name)
        if value is not None:
            fields.append((name, human(value)))
    for name, value in fields:
        if value is not None:
            print(f"{name + ':':<14}{value}")


def _print_escalation(v: EscalationView | None, now: datetime) -> None:
    """The escalation's state: policy, loop, what is due next and when, and every level."""
    if v is None:
        print(f"{'escalation:':<14}no escalation policy applies")
        return
    loop = f", loop {v.loop} of {v.loops}" if v.loops > 1 else ""
    print(f"{'escalation:':<14}policy {v.policy_name} ({v.policy_key}){loop}, {v.phase.value}")
    due = escalation_steps.due_text(v, now)
    if v.next_due_at is not None:
        due += f" (at {human(v.next_due_at)})"
    print(f"{'next:':<14}{due}")
    for step in v.steps:
        _print_step(step)


def _print_step(s: Step) -> None:
    urgent = ", urgent" if s.urgent else ""
    targets = ", ".join(escalation_steps.target_words(t, {}) for t in s.targets)
    when = escalation_steps.delay_words(s)
    print(f"  level {s.number}  {s.state.value:<9}{when}{urgent}; targets: {targets}")
    if s.empty_details:
        print(f"    nobody available: {'; '.join(s.empty_details)}")
    for n in s.notified:
        status = "not sent yet" if n.status is None else n.status.value
        if n.resend:
            status += " (re-sent)"
        error = f": {n.error}" if n.error else ""
        print(f"    {n.recipient} via {n.channel or '-'}: {status}{error}")


def _print_outcome(verb: str, i: Incident) -> None:
    print(f"{i.ref} {verb}: {_state_word(i)}, {i.priority.value}, team {i.team or 'unassigned'}")


# -- handlers -------------------------------------------------------------------------------------


def _refusals(handler: Handler) -> Handler:
    """Print an incident command's refusal (exit 2) instead of treating it as a failure."""

    @wraps(handler)
    def run(ctx: Context) -> int:
        try:
            return handler(ctx)
        except (IncidentError, EscalationError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return Exit.BAD_INPUT

    return run


def _done(ctx: Context, verb: str, incident: Incident) -> int:
    if ctx.as_json:
        emit_json(incident_dict(incident))
    else:
        _print_outcome(verb, incident)
    return Exit.OK


@_refusals
def cmd_list(ctx: Context) -> int:
    """List incidents."""
    args = ctx.args
    states = list(IncidentState) if args.all else [IncidentState(s) for s in args.states] or None
    found = incidents.list_incidents(
        ctx.store().read(),
        states=states,
        team=args.team,
        priority=None if args.priority is None else Priority(args.priority),
        service=args.service,
        limit=args.limit,
    )
    if ctx.as_json:
        emit_json([incident_dict(i) for i in found])
        return Exit.OK
    rows = [
        [
            i.ref,
            _state_word(i),
            i.priority.value,
            i.severity.value,
            i.team or "unassigned",
            i.service,
            i.count,
            human(i.detected_at),
            i.title,
        ]
        for i in found
    ]
    table(["id", "state", "pri", "severity", "team", "service", "seen", "detected", "title"], rows)
    return Exit.OK


@_refusals
def cmd_show(ctx: Context) -> int:
    """Show one incident and its timeline."""
    store = ctx.store()
    db = store.read()
    incident = incidents.get(db, ctx.args.ref)
    events = incidents.timeline(db, incident.id)
    escalation = escalation_steps.view(fold(events), incident, events)
    if ctx.as_json:
        emit_json(
            {
                **incident_dict(incident),
                "escalation": None if escalation is None else escalation_steps.as_dict(escalation),
                "timeline": [event_dict(e) for e in events],
            }
        )
        return Exit.OK
    _print_incident(incident)
    _print_escalation(escalation, store.clock.now())
    print("\ntimeline:")
    table(
        ["time", "event", "by"],
        [[human(e.event_time), e.type.value.removeprefix("incident."), e.actor] for e in events],
    )
    return Exit.OK


@_refusals
def cmd_ack(ctx: Context) -> int:
    """Acknowledge (for someone who answered elsewhere, with --on-behalf-of and --via)."""
    args = ctx.args
    if args.via is not None:
        if not args.on_behalf_of:
            print("error: --via needs --on-behalf-of EMAIL (who answered)", file=sys.stderr)
            return Exit.BAD_INPUT
        found = escalations.acknowledge_on_behalf(
            ctx.store(), args.ref, args.on_behalf_of, args.via
        )
        return _done(ctx, f"acknowledged on behalf of {args.on_behalf_of} ({args.via})", found)
    found = incidents.acknowledge(ctx.store(), args.ref, on_behalf_of=args.on_behalf_of)
    return _done(ctx, f"acknowledged by {found.acknowledged_by}", found)


@_refusals
def cmd_escalate(ctx: Context) -> int:
    """Escalate now."""
    found = escalations.escalate(ctx.store(), ctx.args.ref)
    return _done(ctx, "escalated: the next level starts at the engine's next tick", found)


@_refusals
def cmd_mitigate(ctx: Context) -> int:
    """Mitigate."""
    return _done(
        ctx, "mitigated", incidents.mitigate(ctx.store(), ctx.args.ref, note=ctx.args.note)
    )


@_refusals
def cmd_resolve(ctx: Context) -> int:
    """Resolve."""
    return _done(ctx, "resolved", incidents.resolve(ctx.store(), ctx.args.ref, note=ctx.args.note))


@_refusals
def cmd_reopen(ctx: Context) -> int:
    """Reopen."""
    found = incidents.reopen(ctx.store(), ctx.args.ref, reason=ctx.args.reason)
    return _done(ctx, "reopened", found)


@_refusals
def cmd_snooze(ctx: Context) -> int:
    """Snooze for a while or until a time."""
    store = ctx.store()
    until = ctx.args.until or store.clock.now() + ctx.args.for_
    found = incidents.snooze(store, ctx.args.ref, until=until)
    return _done(ctx, f"snoozed until {human(until)}", found)


@_refusals
def cmd_wake(ctx: Context) -> int:
    """End a snooze."""
    return _done(ctx, "woken", incidents.wake(ctx.store(), ctx.args.ref))


@_refusals
def cmd_reassign(ctx: Context) -> int:
    """Reassign to another team."""
    args = ctx.args
    found = incidents.reassign(ctx.store(), args.ref, args.team, reason=args.reason)
    return _done(ctx, "reassigned", found)


@_refusals
def cmd_merge(ctx: Context) -> int:
    """Merge one incident into another."""
    survivor = incidents.merge(ctx.store(), ctx.args.ref, ctx.args.into)
    return _done(ctx, f"absorbed {ctx.args.ref}", survivor)


@_refusals
def cmd_priority(ctx: Context) -> int:
    """Override the priority."""
    args = ctx.args
    found = incidents.override_priority(
        ctx.store(), args.ref, Priority(args.priority), reason=args.reason
    )
    return _done(ctx, "priority set by hand", found)


@_refusals
def cmd_create(ctx: Context) -> int:
    """Open an incident from a report."""
    args = ctx.args
    report = ManualReport(
        title=args.title,
        reporter=args.reporter,
        impact=args.impact,
        service=args.service,
        team=args.team,
        severity=Severity(args.severity),
        summary=args.summary,
    )
    outcome: SignalOutcome = incidents.create_manual(ctx.store(), report)
    return _done(ctx, "opened", outcome.incident)
