"""``drill``: start a drill from a runbook's scenario, end it, read its report, list drills.

A drill is a real incident marked DRILL: routed, escalated and delivered (every message says
DRILL first) so the teams rehearse the scenario end to end; it is kept out of response metrics.
Ending it records the report (time to acknowledge, who was reached at which level through which
channel), which the readiness report reads for its training findings.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

from console.cli.cmd_incidents import incident_dict
from console.cli.context import Context
from console.cli.exitcodes import Exit
from console.cli.output import emit_json, table
from console.core.drills import DrillError, DrillReport, report_lines
from console.core.incident_rules import human
from console.core.incidents import IncidentError
from console.core.timeline_text import duration_words
from console.store import drills, escalations

Handler = Callable[[Context], int]


def _json_flag(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: without it this default would overwrite a global --json given before the command.
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print data as JSON"
    )


def _action(sub: Any, name: str, handler: Handler, text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text)
    parser.set_defaults(handler=handler)
    _json_flag(parser)
    return parser


def register(sub: Any) -> None:
    """Add the ``drill`` command and its actions."""
    group = sub.add_parser(
        "drill",
        help="rehearse a runbook's scenario: a DRILL incident that pages for real",
        description="Drills: a simulated incident from a runbook's scenario, marked DRILL "
        "everywhere, that goes through routing, escalation and delivery for real. Ending it "
        "records a report for the readiness page. An unknown runbook, service or incident, or "
        "an incident that is not a drill, exits with code 2.",
    )
    dsub = group.add_subparsers(dest="drill_command", metavar="ACTION", required=True)
    start = _action(dsub, "start", cmd_start, "start a drill from a runbook's scenario")
    start.add_argument("scenario", metavar="SCENARIO", help="the runbook's id")
    start.add_argument(
        "--service", metavar="KEY", help="the service it runs on (default: the runbook's first)"
    )
    end = _action(dsub, "end", cmd_end, "end a drill (resolve it) and record its report")
    end.add_argument("ref", metavar="INCIDENT", help="INC-42, 42, or the incident's id")
    rep = _action(dsub, "report", cmd_report, "a drill's report, running or ended")
    rep.add_argument("ref", metavar="INCIDENT", help="INC-42, 42, or the incident's id")
    _action(dsub, "list", cmd_list, "every drill, oldest first")


def _refusals(handler: Handler) -> Handler:
    """Print a refusal (not a drill, already ended, no such incident) with exit code 2."""

    @wraps(handler)
    def run(ctx: Context) -> int:
        try:
            return handler(ctx)
        except (IncidentError, DrillError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return Exit.BAD_INPUT

    return run


@_refusals
def cmd_start(ctx: Context) -> int:
    """Start a drill."""
    store = ctx.store()
    incident = drills.start_drill(
        store, ctx.args.scenario, service=ctx.args.service, by=store.actor
    )
    escalating = escalations.progress(store.read(), incident.id) is not None
    if ctx.as_json:
        emit_json({**incident_dict(incident), "escalating": escalating})
        return Exit.OK
    team = incident.team or "unassigned"
    print(f"{incident.ref} opened as a drill: {incident.title}")
    print(
        f"  runbook {ctx.args.scenario}, service {incident.service}, team {team}, "
        f"{incident.priority.value}: it pages like a real incident, marked DRILL."
    )
    if not escalating:
        print("  no escalation policy applies: nobody is paged away from the consoles.")
    print(f"  end it with: oncall-console drill end {incident.ref}")
    return Exit.OK


def _print_report(report: DrillReport) -> None:
    for line in report_lines(report):
        print(line)


@_refusals
def cmd_end(ctx: Context) -> int:
    """End a drill and print its report."""
    store = ctx.store()
    report = drills.end_drill(store, ctx.args.ref, by=store.actor)
    if ctx.as_json:
        emit_json(report.to_dict())
    else:
        _print_report(report)
    return Exit.OK


@_refusals
def cmd_report(ctx: Context) -> int:
    """Print a drill's report."""
    report = drills.drill_report(ctx.store().read(), ctx.args.ref)
    if ctx.as_json:
        emit_json(report.to_dict())
    else:
        _print_report(report)
    return Exit.OK


@_refusals
def cmd_list(ctx: Context) -> int:
    """List every drill."""
    found = drills.reports(ctx.store().read())
    if ctx.as_json:
        emit_json([r.to_dict() for r in found])
        return Exit.OK
    rows = []
    for r in found:
        took = r.time_to_acknowledge
        rows.append(
            [
                r.ref,
                r.state.value,
                r.runbook,
                r.service,
                human(r.started_at),
                "never" if took is None else duration_words(took),
                list(r.reached),
            ]
        )
    table(["id", "state", "runbook", "service", "started", "ack after", "reached"], rows)
    return Exit.OK
