"""``readiness``: where the teams stand in their ability to respond (exit 1: a tier-1 gap)."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

from console.cli.context import Context
from console.cli.exitcodes import Exit
from console.cli.output import emit_json
from console.core.clock import isoformat
from console.core.readiness import HORIZON, TRAINING_WINDOW, Area, Finding, readiness
from console.store import readiness as stored

HEADINGS = {
    Area.SERVICE: "Services",
    Area.MEMBER: "People nobody can reach",
    Area.POLICY: "Escalation policies",
    Area.TRAINING: "Training",
}


def _days(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 366:
        raise argparse.ArgumentTypeError(f"expected a number of days from 1 to 366, got {text!r}")
    return int(text)


def register(sub: Any) -> None:
    """Add the ``readiness`` command."""
    parser = sub.add_parser(
        "readiness",
        help="what is not ready: cover, runbooks, policies, reachability, training",
        description="Services without team members, a runbook, an escalation policy or on-call "
        "cover over the coming days; members no channel reaches; policy levels that can come up "
        "empty; members never drilled and runbooks not reviewed or drilled lately. Exit 1 when a "
        "tier-1 service has a gap.",
    )
    parser.add_argument(
        "--days", type=_days, default=HORIZON.days, help=f"horizon ({HORIZON.days})"
    )
    parser.add_argument(
        "--training-days",
        type=_days,
        default=TRAINING_WINDOW.days,
        help=f"how recent a review or drill must be ({TRAINING_WINDOW.days})",
    )
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print data as JSON"
    )
    parser.set_defaults(handler=cmd_readiness)


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "area": f.area.value,
        "subject": f.subject,
        "problem": f.problem,
        "tier": None if f.tier is None else int(f.tier),
        "blocking": f.blocking,
    }


def cmd_readiness(ctx: Context) -> int:
    """Print the readiness report."""
    store = ctx.store()
    now = store.clock.now()
    report = readiness(
        stored.inputs(store.read()),
        now,
        horizon=timedelta(days=ctx.args.days),
        training_window=timedelta(days=ctx.args.training_days),
    )
    if ctx.as_json or getattr(ctx.args, "json", False):
        emit_json(
            {
                "at": isoformat(now),
                "horizon_days": ctx.args.days,
                "blocking": len(report.blocking),
                "findings": [_finding(f) for f in report.findings],
            }
        )
    else:
        _print(report.findings, ctx.args.days)
        blocking = len(report.blocking)
        print(
            f"{len(report.findings)} findings; "
            + (f"{blocking} on tier-1 services (not ready)" if blocking else "no tier-1 gap")
        )
    return Exit.PROBLEM_FOUND if report.blocking else Exit.OK


def _print(findings: tuple[Finding, ...], days: int) -> None:
    out = sys.stdout
    for area, heading in HEADINGS.items():
        items = [f for f in findings if f.area is area]
        suffix = f" (next {days} days)" if area is Area.SERVICE else ""
        out.write(f"{heading}{suffix}: {len(items) or 'nothing to report'}\n")
        for f in items:
            tier = f" [tier {int(f.tier)}{', NOT READY' if f.blocking else ''}]" if f.tier else ""
            out.write(f"  {f.subject}{tier}: {f.problem}\n")
        out.write("\n")
