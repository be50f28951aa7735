"""The ``alerting`` and ``silences`` sections: inbound-alert routes, incident settings, silences.

As in the rest of the schema, a broken value is reported where it is and replaced by a
placeholder so that reading goes on; a matcher's regular expression that does not compile is
reported at the character it fails on when the text is on one line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from yaml.nodes import Node, ScalarNode

from console.config.errors import ConfigProblem
from console.config.matchers import MatcherSyntaxError, parse_matcher, services_matcher
from console.config.nodes import (
    FLOAT_TAG,
    INT_TAG,
    STR_TAG,
    Entry,
    Reader,
    child,
    describe,
    is_null,
    position,
    suggest,
)
from console.core.alerting_config import AlertingConfig
from console.core.enums import ImpactTier, Severity
from console.core.incident_policy import IncidentSettings
from console.core.routing import Matcher, MatchOp, Route, RoutingTable
from console.core.signals import SignalSource
from console.core.silences import OneOffWindow, Silence, Weekday, WeeklyWindow, Window

ALERTING_FIELDS = ("routes", "default_team", "incidents")
INCIDENT_FIELDS = (
    "quiet_period",
    "reopen_within",
    "unknown_severity",
    "unknown_alert_severity",
    "default_tier",
    "auto_resolve",
)
AUTO_RESOLVE_FIELDS = (*(s.value for s in SignalSource), "services")
SILENCE_FIELDS = ("id", "reason", "created_by", "services", "matchers", "once", "weekly")
WINDOWS = ("once", "weekly")
DAYS = tuple(d.value for d in Weekday)
#: The longest quiet period or reopen window: 30 days.
MAX_PERIOD_S = 30 * 86400
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_TIERS = range(1, len(ImpactTier) + 1)
_TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?")
_INSTANT_HELP = "an RFC 3339 time with a UTC offset, such as 2026-12-05T22:00:00+01:00"
_TIME_HELP = 'a time of day HH:MM (00:00 to 23:59), such as "02:00"'
_NOWHEN = OneOffWindow(datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 1, 2, tzinfo=UTC))


# -- alerting ------------------------------------------------------------------------------------


def read_alerting(r: Reader, node: Node | None, services: Collection[str]) -> AlertingConfig | None:
    """Read the ``alerting`` section; None when the file leaves it out (or it is empty).

    ``services`` are the declared service ids (per-service settings must name one of them).
    """
    if node is None or is_null(node):
        return None
    e = r.entry(node, "alerting", "the alerting section", (), ALERTING_FIELDS)
    if e is None:
        return None
    routes = tuple(_route(r, n, p) for p, n in e.items("routes", "routes"))
    default = _nonblank(r, e, "default_team")
    return AlertingConfig(RoutingTable(routes, default), _settings(r, e, services))


def _nonblank(r: Reader, e: Entry, name: str) -> str | None:
    value = e.optional_text(name)
    if value is not None and not value.strip():
        r.fail(e.values[name], child(e.path, name), "must not be empty")
        return None
    return value


def _route(r: Reader, node: Node, path: str) -> Route:
    e = r.entry(node, path, "a route", ("team",), ("name", "matchers"))
    if e is None:
        return Route(r.placeholder(path))
    team = e.text("team")
    if not team.strip():
        r.fail(e.values["team"], child(path, "team"), "must not be empty")
        team = r.placeholder(child(path, "team"))
    return Route(team, _matchers(r, e), _nonblank(r, e, "name"))


def _matchers(r: Reader, e: Entry) -> tuple[Matcher, ...]:
    node = e.node("matchers")
    if node is None:
        return ()
    path = child(e.path, "matchers")
    items = r.sequence(node, path, "label matchers (severity=critical, service=~pay.*)")
    return tuple(_matcher(r, item, f"{path}[{i}]") for i, item in enumerate(items))


def _matcher(r: Reader, node: Node, path: str) -> Matcher:
    text = r.string(node, path)
    if text is not None:
        try:
            return parse_matcher(text)
        except MatcherSyntaxError as exc:
            line, column = _position_in(node, exc.offset)
            r.problems.append(ConfigProblem(r.source, line, column, path, exc.message))
    return _placeholder(r, path)


def _placeholder(r: Reader, path: str) -> Matcher:
    """A matcher no other can equal, standing in for a broken one (``path`` is broken)."""
    return Matcher(r.placeholder(path), MatchOp.EQUAL, "")


def _position_in(node: Node, offset: int) -> tuple[int, int]:
    """Line and column of the character ``offset`` into a scalar's value, where that is known.

    Known for a scalar on one line whose text up to there is written as is: plain, or quoted
    with no escape before it. Otherwise, the scalar's own position.
    """
    line, column = position(node)
    if not isinstance(node, ScalarNode) or node.end_mark is None or node.start_mark is None:
        return line, column
    if node.start_mark.line != node.end_mark.line:
        return line, column
    before = str(node.value)[:offset]
    if not node.style:
        return line, column + offset
    # A quote opens the scalar; before the offset there must be nothing written escaped.
    escaped = {"'": "'", '"': '"\\'}.get(node.style)
    if escaped is None or any(c in escaped for c in before) or not before.isprintable():
        return line, column
    return line, column + 1 + offset


# -- incident settings ---------------------------------------------------------------------------


def _settings(r: Reader, alerting: Entry, known: Collection[str]) -> IncidentSettings:
    base = IncidentSettings()
    node = alerting.node("incidents")
    if node is None:
        return base
    e = r.entry(node, "alerting.incidents", "the incident settings", (), INCIDENT_FIELDS)
    if e is None:
        return base
    quiet, reopen = _period(r, e, "quiet_period"), _period(r, e, "reopen_within")
    tier = e.integer("default_tier", _TIERS)
    sources, services = _auto_resolve(r, e, known)
    return IncidentSettings(
        quiet_period=base.quiet_period if quiet is None else quiet,
        reopen_within=base.reopen_within if reopen is None else reopen,
        unknown_severity=e.choice("unknown_severity", Severity, "severity")
        or base.unknown_severity,
        unknown_label_severity=e.choice("unknown_alert_severity", Severity, "severity")
        or base.unknown_label_severity,
        default_tier=base.default_tier if tier is None else ImpactTier(tier),
        auto_resolve={**base.auto_resolve, **sources},
        auto_resolve_services=services,
    )


def _period(r: Reader, e: Entry, name: str) -> timedelta | None:
    value = e.number(name)
    if value is None:
        return None
    if not 0 <= value <= MAX_PERIOD_S:
        r.fail(
            e.values[name],
            child(e.path, name),
            f"must be from 0 to {MAX_PERIOD_S} seconds (30 days), got {e.values[name].value}",
        )
        return None
    return timedelta(seconds=value)


def _auto_resolve(
    r: Reader, e: Entry, known: Collection[str]
) -> tuple[dict[SignalSource, bool], dict[str, bool]]:
    node = e.node("auto_resolve")
    if node is None:
        return {}, {}
    a = r.entry(node, child(e.path, "auto_resolve"), "auto-resolve", (), AUTO_RESOLVE_FIELDS)
    if a is None:
        return {}, {}
    sources: dict[SignalSource, bool] = {}
    for source in SignalSource:
        value = a.boolean(source.value)
        if value is not None:
            sources[source] = value
    services: dict[str, bool] = {}
    found = a.node("services")
    path = child(a.path, "services")
    mapping = (
        None
        if found is None
        else r.mapping(found, path, "a mapping of service ids to true or false (reports: false)")
    )
    for name, key, item in [] if mapping is None else r.pairs(mapping, path):
        flag = r.boolean(item, child(path, name))
        if name not in known:
            r.fail(key, child(path, name), f"unknown service {name!r}" + suggest(name, known))
        elif flag is not None:
            services[name] = flag
    return sources, services


# -- silences ------------------------------------------------------------------------------------


def read_silences(r: Reader, node: Node | None, services: Collection[str]) -> tuple[Silence, ...]:
    """Read the ``silences`` list; ``services`` are the declared service ids."""
    items = [] if node is None else r.sequence(node, "silences", "silences")
    return tuple(_silence(r, item, f"silences[{i}]", services) for i, item in enumerate(items))


def _silence(r: Reader, node: Node, path: str, known: Collection[str]) -> Silence:
    e = r.entry(node, path, "a silence", ("id",), SILENCE_FIELDS[1:])
    if e is None:
        return Silence(r.placeholder(path), (_placeholder(r, path),), _NOWHEN)
    key = e.text("id")
    if not key.strip():
        r.fail(e.values["id"], child(path, "id"), "must not be empty")
        key = r.placeholder(child(path, "id"))
    names = _services(r, e, known)
    matchers = ((services_matcher(names),) if names else ()) + _matchers(r, e)
    if not matchers:
        if not any(_inside_broken(r, child(path, name)) for name in ("services", "matchers")):
            r.fail(
                node,
                path,
                "a silence needs services or matchers (a silence of every alert is too easy "
                "to leave on by mistake)",
            )
        matchers = (_placeholder(r, path),)
    window = _window(r, e)
    if window is None or _inside_broken(r, path):
        r.broken.add(path)  # what validation would say of a half-read silence is noise
    return Silence(
        key,
        matchers,
        _NOWHEN if window is None else window,
        e.optional_text("reason"),
        e.optional_text("created_by"),
    )


def _inside_broken(r: Reader, path: str) -> bool:
    return any(p == path or p.startswith((f"{path}.", f"{path}[")) for p in r.broken)


def _services(r: Reader, e: Entry, known: Collection[str]) -> tuple[str, ...]:
    node = e.node("services")
    if node is None:
        return ()
    path = child(e.path, "services")
    out: list[str] = []
    for i, item in enumerate(r.sequence(node, path, "service ids")):
        where = f"{path}[{i}]"
        name = r.string(item, where)
        if name is None:
            continue
        if name not in known:
            r.fail(item, where, f"unknown service {name!r}" + suggest(name, known))
        elif name in out:
            r.fail(item, where, f"service {name!r} is listed twice")
        else:
            out.append(name)
    return tuple(out)


def _window(r: Reader, e: Entry) -> Window | None:
    present = [kind for kind in WINDOWS if kind in e.values]
    if len(present) != 1:
        found = " and ".join(present) if present else "none"
        r.report(
            r.nodes[e.path],
            e.path,
            "a silence needs exactly one window, once {starts, ends} or weekly "
            f"{{days, start, end, zone}}; found {found}",
        )
        r.broken.update(child(e.path, kind) for kind in WINDOWS)
        return None
    kind = present[0]
    path = child(e.path, kind)
    if kind == "once":
        return _once(r, e.values[kind], path)
    return _weekly(r, e.values[kind], path)


def _once(r: Reader, node: Node, path: str) -> OneOffWindow | None:
    e = r.entry(node, path, "a one-off window", ("starts", "ends"))
    if e is None:
        return None
    starts, ends = _instant(r, e, "starts"), _instant(r, e, "ends")
    if starts is None or ends is None:
        return None
    if ends <= starts:
        when = "when" if ends == starts else "before"
        r.fail(
            e.values["ends"],
            child(path, "ends"),
            f"the window ends ({e.values['ends'].value}) {when} it starts "
            f"({e.values['starts'].value}); it must end after it starts",
        )
        return None
    return OneOffWindow(starts, ends)


def _instant(r: Reader, e: Entry, name: str) -> datetime | None:
    node = e.node(name)
    if node is None:
        return None
    where = child(e.path, name)
    if not (isinstance(node, ScalarNode) and node.tag in (STR_TAG, TIMESTAMP_TAG)):
        r.fail(node, where, f"expected {_INSTANT_HELP}, got {describe(node)}")
        return None
    text = str(node.value)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        r.fail(node, where, f"expected {_INSTANT_HELP}, got {text!r}")
        return None
    if moment.tzinfo is None:
        r.fail(node, where, f"{text!r} has no UTC offset; add one (Z, +01:00) to name one instant")
        return None
    return moment


def _weekly(r: Reader, node: Node, path: str) -> WeeklyWindow | None:
    e = r.entry(node, path, "a weekly window", ("days", "start", "end", "zone"))
    if e is None:
        return None
    days = _days(r, e)
    start, end = _time_of_day(r, e, "start"), _time_of_day(r, e, "end")
    zone = _zone(r, e)
    if not days or start is None or end is None or zone is None:
        return None
    return WeeklyWindow(days, start, end, zone)


def _days(r: Reader, e: Entry) -> tuple[Weekday, ...] | None:
    """The days, or None when any is broken (an empty list is reported and broken too)."""
    node = e.node("days")
    if node is None:
        return None
    path = child(e.path, "days")
    items = r.sequence(node, path, f"days ({', '.join(DAYS)})")
    if not items:
        if path not in r.broken:
            r.fail(node, path, f"name at least one day ({', '.join(DAYS)})")
        return None
    out: list[Weekday] = []
    ok = True
    for i, item in enumerate(items):
        day = _day(r, item, f"{path}[{i}]")
        if day is None:
            ok = False
        elif day in out:
            r.fail(item, f"{path}[{i}]", f"{day.value!r} is listed twice")
            ok = False
        else:
            out.append(day)
    return tuple(out) if ok else None


def _day(r: Reader, node: Node, path: str) -> Weekday | None:
    if not (isinstance(node, ScalarNode) and node.tag == STR_TAG):
        r.fail(node, path, f"expected a day ({', '.join(DAYS)}), got {describe(node)}")
        return None
    text = str(node.value)
    if text in DAYS:
        return Weekday(text)
    short = text[:3].lower()
    hint = f"; did you mean {short!r}?" if short in DAYS else suggest(text, DAYS)
    r.fail(node, path, f"invalid day {text!r}; allowed: {', '.join(DAYS)}{hint}")
    return None


def _time_of_day(r: Reader, e: Entry, name: str) -> time | None:
    node = e.node(name)
    if node is None:
        return None
    where = child(e.path, name)
    # YAML 1.1 reads an unquoted 12:30 as the number 750 (base 60): take the text as written.
    as_written = isinstance(node, ScalarNode) and (
        node.tag == STR_TAG or (node.tag in (INT_TAG, FLOAT_TAG) and not node.style)
    )
    if not as_written:
        r.fail(node, where, f"expected {_TIME_HELP}, got {describe(node)}")
        return None
    found = _TIME_OF_DAY.fullmatch(str(node.value))
    if found is None:
        r.fail(node, where, f"expected {_TIME_HELP}, got {str(node.value)!r}")
        return None
    return time(int(found[1]), int(found[2]), int(found[3] or 0))


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _zone(r: Reader, e: Entry) -> str | None:
    text = e.optional_text("zone")
    if text is None:
        return None
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        r.fail(
            e.values["zone"],
            child(e.path, "zone"),
            f"unknown time zone {text!r}; expected an IANA name such as Europe/Berlin"
            + suggest(text, _zones()),
        )
        return None
    return text
