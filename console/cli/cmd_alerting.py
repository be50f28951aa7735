"""``silences list|add|delete`` and ``routes [list]|test``: silences and routing from the CLI.

``silences add`` is the quick one-off silence during an incident (a service or label matchers,
for a while); recurring maintenance windows belong in the configuration file. ``routes test``
answers which team an inbound alert with given labels goes to, and why.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from console.cli.context import Context
from console.cli.exitcodes import Exit
from console.cli.output import emit_json, table
from console.config.alerting_emitter import silence_doc
from console.config.matchers import (
    SYNTAX_HELP,
    MatcherSyntaxError,
    format_matcher,
    parse_matcher,
    services_matcher,
)
from console.config.nodes import suggest
from console.core.clock import parse_iso
from console.core.errors import Problem, ValidationError
from console.core.routing import Matcher, RoutingTable, decide_team
from console.core.silences import OneOffWindow, Silence, Window, active_silence
from console.core.validation import SLUG
from console.store import alerting, estate
from console.store.db import Store

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_LABEL = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*)=(.*)", re.DOTALL)


class Standing(Enum):
    """Where a silence stands now."""

    ACTIVE = "active"  # holding notifications back now
    SCHEDULED = "scheduled"  # starts later, or a weekly window outside its hours
    EXPIRED = "expired"  # a one-off window that has ended


# -- argument types -------------------------------------------------------------------------------


def _duration(text: str) -> timedelta:
    value = text.strip().lower()
    parts = re.findall(r"(\d+)\s*([smhdw])", value)
    if not parts or re.sub(r"[\d\s]+[smhdw]", "", value):
        raise argparse.ArgumentTypeError(f"expected a duration such as 30m, 2h or 1h30m: {text!r}")
    total = timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))
    if total <= timedelta(0):
        raise argparse.ArgumentTypeError(f"a silence must last longer than nothing: {text!r}")
    return total


def _moment(text: str) -> datetime:
    try:
        return parse_iso(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an RFC 3339 time with a zone, such as 2026-03-01T09:30:00Z: {text!r}"
        ) from None


def _matcher(text: str) -> Matcher:
    try:
        return parse_matcher(text)
    except MatcherSyntaxError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _label(text: str) -> tuple[str, str]:
    found = _LABEL.fullmatch(text)
    if found is None:
        raise argparse.ArgumentTypeError(f"expected LABEL=VALUE, got {text!r}")
    return found[1], found[2]


def _json_flag(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: without it this default would overwrite a global --json given before the command.
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print data as JSON"
    )


# -- registration ---------------------------------------------------------------------------------


def register(sub: Any) -> None:
    """Add the ``silences`` and ``routes`` commands."""
    group = sub.add_parser(
        "silences",
        help="list, add and delete silences (notifications held back; incidents still recorded)",
        description="Silences and maintenance windows hold notifications back for matching "
        "incidents; the incidents are still recorded. `add` makes a one-off silence starting "
        "now; recurring windows belong in the configuration file (`silences:`).",
    )
    ssub = group.add_subparsers(dest="silences_command", metavar="ACTION", required=True)
    ls = ssub.add_parser("list", help="active and scheduled silences (--all: ended ones too)")
    ls.add_argument("--all", action="store_true", help="also one-off silences that have ended")
    ls.set_defaults(handler=cmd_silences_list)
    _json_flag(ls)
    add = ssub.add_parser(
        "add",
        help="silence a service or matching alerts for a while",
        description=f"Matchers: {SYNTAX_HELP} (a regular expression matches the whole value). "
        "Several --service and --match options must all hold.",
    )
    add.add_argument("--service", action="append", default=[], metavar="KEY", help="a service id")
    add.add_argument(
        "--match",
        action="append",
        default=[],
        type=_matcher,
        metavar="LABEL=VALUE",
        help="a label matcher: =, !=, =~ or !~ (quote it for the shell)",
    )
    until = add.add_mutually_exclusive_group(required=True)
    until.add_argument("--for", dest="for_", type=_duration, metavar="DURATION", help="30m, 2h")
    until.add_argument("--until", type=_moment, metavar="TIME", help="RFC 3339 with a zone")
    add.add_argument("--from", dest="from_", type=_moment, metavar="TIME", help="default: now")
    add.add_argument("--reason", required=True, help="why (shown beside what it silences)")
    add.add_argument("--id", dest="key", metavar="ID", help="default: the service and the time")
    add.set_defaults(handler=cmd_silences_add)
    _json_flag(add)
    rm = ssub.add_parser("delete", help="end a silence now by deleting it")
    rm.add_argument("key", metavar="ID")
    rm.set_defaults(handler=cmd_silences_delete)
    _json_flag(rm)
    _register_routes(sub)


def _register_routes(sub: Any) -> None:
    group = sub.add_parser(
        "routes",
        help="the inbound-alert routes in order; `routes test LABEL=VALUE...` shows the team",
        description="Inbound alerts go to the first route whose matchers all hold, else to "
        "the owner of the service they name, else to the default team. Metric incidents always "
        "go to the service's owner.",
    )
    group.set_defaults(handler=cmd_routes_list)
    _json_flag(group)
    rsub = group.add_subparsers(dest="routes_command", metavar="ACTION")
    ls = rsub.add_parser("list", help="the routes in the order they are tried (the default)")
    ls.set_defaults(handler=cmd_routes_list)
    _json_flag(ls)
    test = rsub.add_parser(
        "test",
        help="which team an alert with these labels goes to, and which route matched",
        description="Exits 1 when the alert would go to no team at all.",
    )
    test.add_argument("labels", nargs="+", type=_label, metavar="LABEL=VALUE")
    test.set_defaults(handler=cmd_routes_test)
    _json_flag(test)


# -- silences -------------------------------------------------------------------------------------


def standing(silence: Silence, now: datetime) -> Standing:
    """Whether a silence holds notifications back now, will later, or no longer can."""
    if silence.window.active(now):
        return Standing.ACTIVE
    window = silence.window
    if isinstance(window, OneOffWindow) and window.end <= now:
        return Standing.EXPIRED
    return Standing.SCHEDULED


def _when(window: Window) -> str:
    if isinstance(window, OneOffWindow):
        stamp = "%Y-%m-%d %H:%MZ"
        return f"{window.start.astimezone(UTC):{stamp}} -> {window.end.astimezone(UTC):{stamp}}"
    days = ",".join(d.value for d in window.days)
    return f"{days} {window.start:%H:%M}-{window.end:%H:%M} {window.zone}"


def cmd_silences_list(ctx: Context) -> int:
    """Print the silences: id, state, what they match, when, why and who."""
    store = ctx.store()
    db = store.read()
    now = store.clock.now()
    known = {s.key for s in estate.services(db)}
    found = [(s, standing(s, now)) for s in alerting.silences(db)]
    shown = [(s, st) for s, st in found if ctx.args.all or st is not Standing.EXPIRED]
    if ctx.as_json:
        emit_json([{**silence_doc(s, known), "state": st.value} for s, st in shown])
        return Exit.OK
    rows = [
        [
            s.key,
            st.value,
            " ".join(format_matcher(m) for m in s.matchers),
            _when(s.window),
            s.comment,
            s.created_by,
        ]
        for s, st in shown
    ]
    table(["id", "state", "matchers", "window", "reason", "by"], rows)
    return Exit.OK


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-") or "silence"


def _new_key(taken: set[str], matchers: Sequence[Matcher], start: datetime) -> str:
    first = matchers[0]
    base = first.value if first.name == "service" else f"{first.name}-{first.value}"
    key = f"{_slug(base)}-{start.astimezone(UTC):%Y%m%d-%H%M}"
    number = 2
    found = key
    while found in taken:
        found, number = f"{key}-{number}", number + 1
    return found


def _checked(ctx: Context, store: Store) -> tuple[tuple[Matcher, ...], OneOffWindow]:
    """The matchers and window ``silences add`` asks for (ValidationError when they are wrong)."""
    args = ctx.args
    problems: list[Problem] = []
    services = list(dict.fromkeys(args.service))
    known = {s.key for s in estate.services(store.read())}
    for name in services:
        if name not in known:
            problems.append(
                Problem("--service", f"unknown service {name!r}" + suggest(name, known))
            )
    if not services and not args.match:
        problems.append(Problem("", "name what to silence: --service KEY or --match LABEL=VALUE"))
    if not args.reason.strip():
        problems.append(Problem("--reason", "say why: it is shown beside what it silences"))
    if args.key is not None and not SLUG.match(args.key):
        problems.append(
            Problem("--id", f"expected lowercase letters, digits and '-': {args.key!r}")
        )
    start = args.from_ or store.clock.now().replace(microsecond=0)
    end = args.until if args.until is not None else start + args.for_
    if end <= start:
        problems.append(Problem("--until", "the silence must end after it starts"))
    if problems:
        raise ValidationError(problems)
    matchers = ((services_matcher(services),) if services else ()) + tuple(args.match)
    return matchers, OneOffWindow(start, end)


def cmd_silences_add(ctx: Context) -> int:
    """Add a one-off silence (recorded as the --as member, else the local identity)."""
    store = ctx.store()
    matchers, window = _checked(ctx, store)
    with store.transaction() as db:
        taken = {s.key for s in alerting.silences(db)}
        if ctx.args.key in taken:
            raise ValidationError(
                [Problem("--id", f"there is already a silence {ctx.args.key!r}; choose another")]
            )
        key = ctx.args.key or _new_key(taken, matchers, window.start)
        silence = Silence(key, matchers, window, ctx.args.reason.strip(), store.actor)
        alerting.save_silence(store, silence)
    if ctx.as_json:
        known = {s.key for s in estate.services(store.read())}
        state = standing(silence, store.clock.now())
        emit_json({**silence_doc(silence, known), "state": state.value})
    else:
        print(f"silence {key}: {' '.join(format_matcher(m) for m in matchers)}, {_when(window)}")
    return Exit.OK


def cmd_silences_delete(ctx: Context) -> int:
    """Delete a silence (its notifications flow again from the next signal)."""
    alerting.delete_silence(ctx.store(), ctx.args.key)
    if ctx.as_json:
        emit_json({"deleted": ctx.args.key})
    else:
        print(f"deleted silence {ctx.args.key}")
    return Exit.OK


# -- routes ---------------------------------------------------------------------------------------


def _route_rows(routing: RoutingTable) -> list[dict[str, Any]]:
    return [
        {
            "position": i + 1,
            "name": r.name,
            "team": r.team,
            "matchers": [format_matcher(m) for m in r.matchers],
        }
        for i, r in enumerate(routing.routes)
    ]


def cmd_routes_list(ctx: Context) -> int:
    """Print the routes in the order they are tried, then the default team."""
    routing = alerting.routing(ctx.store().read())
    rows = _route_rows(routing)
    if ctx.as_json:
        emit_json({"routes": rows, "default_team": routing.default_team})
        return Exit.OK
    table(
        ["#", "name", "team", "matchers"],
        [
            [r["position"], r["name"], r["team"], " ".join(r["matchers"]) or "(every alert)"]
            for r in rows
        ],
    )
    print(f"then: the named service's owner; else the default team: {routing.default_team or '-'}")
    return Exit.OK


def cmd_routes_test(ctx: Context) -> int:
    """Say which team an alert with the given labels goes to, which route matched, and why."""
    labels: dict[str, str] = {}
    for name, value in ctx.args.labels:
        if name in labels:
            raise ValidationError([Problem(name, f"label {name!r} is given twice")])
        labels[name] = value
    store = ctx.store()
    db = store.read()
    routing = alerting.routing(db)
    services = {s.key: s for s in estate.services(db)}
    service = services.get(labels.get("service", ""))
    owner = None if service is None else (service.key, service.team)
    decision = decide_team(labels, table=routing, owner=owner)
    hit = routing.first_match(labels)
    silence = active_silence(alerting.silences(db), labels, store.clock.now())
    answer = {
        "labels": labels,
        "team": decision.team,
        "basis": decision.basis.value,
        "reason": decision.reason,
        "route": None if hit is None else hit[0] + 1,
        "route_name": None if hit is None else hit[1].name,
        "silenced_by": None if silence is None else silence.key,
    }
    if ctx.as_json:
        emit_json(answer)
    else:
        print(f"team: {decision.team or '(none: the alert would stay unassigned)'}")
        if hit is None:
            print(f"because: {decision.reason}")
        else:
            index, route = hit
            named = "" if route.name is None else f" {route.name!r}"
            conditions = " ".join(format_matcher(m) for m in route.matchers) or "every alert"
            print(f"matched: route {index + 1}{named}: {conditions}")
        if silence is not None:
            print(f"silenced now by: {silence.key} ({silence.comment or 'no reason given'})")
    if decision.team is None:
        print("no route matched and there is no default team", file=sys.stderr)
        return Exit.PROBLEM_FOUND
    return Exit.OK
