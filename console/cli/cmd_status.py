"""``status``: every monitored metric's state, worst first, as a table or JSON.

The same read model the monitoring view and the wall show (``console.store.status``), read
once: state as displayed (STALE when the data is older than 3 intervals, FLAPPING when it
flaps), the newest value, how long the state has lasted and when the last result came.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from console.cli.context import Context
from console.cli.exitcodes import Exit
from console.cli.output import emit_json, table
from console.core.checks import StateType
from console.core.clock import isoformat
from console.core.status import DisplayState, MetricStatus, value_text, worst_first
from console.core.units import format_duration
from console.store import status


def register(sub: Any) -> None:
    """Add the ``status`` command."""
    parser = sub.add_parser(
        "status",
        help="every monitored metric's state, worst first",
        description="Every enabled endpoint's own check and metrics, worst first: the state "
        "shown (STALE after 3 intervals without a result), value, time in state, last check.",
    )
    # SUPPRESS: a default here would overwrite a global --json given before the command.
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print data as JSON"
    )
    parser.add_argument("--service", metavar="KEY", help="only this service's metrics")
    parser.add_argument(
        "--state",
        choices=[s.value for s in DisplayState],
        help="only metrics shown in this state",
    )
    parser.set_defaults(handler=cmd_status)


def cmd_status(ctx: Context) -> int:
    """Print the metric statuses (exit 2 for a service that does not exist)."""
    store = ctx.store()
    db = store.read()
    service = ctx.args.service
    if service is not None and service not in {s.key for s in status.service_infos(db)}:
        print(f"error: there is no service {service!r}", file=sys.stderr)
        return Exit.BAD_INPUT
    now = store.clock.now()
    shown = worst_first(status.metric_statuses(db), now)
    if service is not None:
        shown = [m for m in shown if m.service == service]
    if ctx.args.state is not None:
        wanted = DisplayState(ctx.args.state)
        shown = [m for m in shown if m.display_state(now) is wanted]
    if ctx.as_json or getattr(ctx.args, "json", False):
        emit_json([as_dict(m, now) for m in shown])
    else:
        table(
            ["state", "service", "endpoint", "metric", "value", "in state", "last check", "reason"],
            [_row(m, now) for m in shown],
        )
    return Exit.OK


def _ago(seconds: float | None) -> str | None:
    return None if seconds is None else f"{format_duration(round(seconds))} ago"


def _row(m: MetricStatus, now: datetime) -> list[Any]:
    lasted = m.seconds_in_state(now)
    state = m.display_state(now).label
    if m.state_type is StateType.SOFT and not m.is_stale(now):
        state += " (soft)"
    return [
        state,
        m.service,
        m.endpoint,
        m.metric_name,
        value_text(m),
        None if lasted is None else format_duration(round(lasted)),
        _ago(m.data_age(now)),
        m.reason or None,
    ]


def as_dict(m: MetricStatus, now: datetime) -> dict[str, Any]:
    """One status as JSON-able data, with what it shows at ``now``."""
    return {
        "endpoint": m.endpoint,
        "endpoint_name": m.endpoint_name,
        "service": m.service,
        "service_name": m.service_name,
        "team": m.team,
        "team_name": m.team_name,
        "metric_key": m.metric_key,
        "metric": m.metric_name,
        "unit": m.unit,
        "shown": m.display_state(now).value,
        "state": m.state.value,
        "state_type": m.state_type.value,
        "flapping": m.flapping,
        "since": None if m.since is None else isoformat(m.since),
        "seconds_in_state": m.seconds_in_state(now),
        "value": m.value,
        "last_check": None if m.last_check is None else isoformat(m.last_check),
        "data_age_s": m.data_age(now),
        "stale": m.is_stale(now),
        "interval_s": m.interval_s,
        "reason": m.reason,
        "band_low": m.band_low,
        "band_high": m.band_high,
        "warning": m.warning,
        "critical": m.critical,
    }
