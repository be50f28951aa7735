"""Rules every record and the whole estate must satisfy, reported as field-path problems.

Paths are index-based (``services[2].team``) so that a caller holding source positions
(the YAML loader, an editor's fields) can point at the exact place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from console.core.alerting_config import validate_alerting
from console.core.endpoints import (
    Endpoint,
    HttpTarget,
    LogfileTarget,
    NagiosTarget,
    ScrapeTarget,
    validate_endpoint,
)
from console.core.errors import Problem
from console.core.escalation_rules import escalation_problems
from console.core.graph import find_cycle
from console.core.models import Estate, Member, Runbook, Service, SharedResource, Team
from console.core.schedule_rules import schedule_problems

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
BRIDGE_SCHEMES = frozenset({"https", "http", "tel", "sip", "sips"})
HTTP_METHOD = re.compile(r"^[A-Z]{3,10}$")
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
MAX_REDIRECTS = 30
_TIMEZONES: frozenset[str] | None = None


def _is_timezone(name: str) -> bool:
    global _TIMEZONES
    if _TIMEZONES is None:
        _TIMEZONES = frozenset(available_timezones())
    if name in _TIMEZONES:
        return True
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _slug(path: str, value: str) -> list[Problem]:
    if SLUG.match(value):
        return []
    return [Problem(path, f"expected a slug (lowercase letters, digits, '-'), got {value!r}")]


def _text(path: str, value: str) -> list[Problem]:
    return [] if value.strip() else [Problem(path, "must not be empty")]


def validate_member(m: Member, at: str = "") -> list[Problem]:
    """Problems with one member's own fields."""
    out: list[Problem] = []
    if not EMAIL.match(m.email):
        out.append(Problem(f"{at}email", f"expected an email address, got {m.email!r}"))
    out += _text(f"{at}name", m.name)
    if not _is_timezone(m.timezone):
        out.append(
            Problem(
                f"{at}timezone", f"expected an IANA time zone (Europe/Paris), got {m.timezone!r}"
            )
        )
    networks = [c.network for c in m.chat]
    for network in sorted({n for n in networks if networks.count(n) > 1}):
        out.append(Problem(f"{at}chat", f"two handles for the network {network!r}; keep one"))
    if m.phone is not None and not re.fullmatch(r"\+?[0-9 ()./-]{3,32}", m.phone):
        out.append(Problem(f"{at}phone", f"expected a phone number, got {m.phone!r}"))
    return out


def validate_team(t: Team, at: str = "") -> list[Problem]:
    """Problems with one team's own fields (references are checked against the estate)."""
    out = _slug(f"{at}id", t.key) + _text(f"{at}name", t.name)
    if t.bridge_url is not None:
        parts = urlsplit(t.bridge_url)
        if parts.scheme not in BRIDGE_SCHEMES or not (parts.netloc or parts.path):
            out.append(
                Problem(f"{at}bridge", f"expected an https/tel/sip URL, got {t.bridge_url!r}")
            )
    seen: set[str] = set()
    for i, ms in enumerate(t.members):
        if ms.member in seen:
            out.append(Problem(f"{at}members[{i}].email", f"{ms.member} is listed twice"))
        seen.add(ms.member)
    return out


def validate_service(s: Service, at: str = "") -> list[Problem]:
    """Problems with one service's own fields."""
    out = _slug(f"{at}id", s.key) + _text(f"{at}name", s.name)
    if s.key in s.depends_on:
        out.append(Problem(f"{at}depends_on", f"{s.key} cannot depend on itself"))
    for i, tag in enumerate(s.tags):
        out += _text(f"{at}tags[{i}]", tag)
    return out


def validate_runbook(r: Runbook, at: str = "") -> list[Problem]:
    """Problems with one runbook's own fields."""
    out = _slug(f"{at}id", r.key) + _text(f"{at}title", r.title)
    out += _text(f"{at}scenario", r.scenario)
    if not r.steps:
        out.append(Problem(f"{at}steps", "a runbook needs at least one step"))
    for i, step in enumerate(r.steps):
        out += _text(f"{at}steps[{i}].title", step.title)
        out += _text(f"{at}steps[{i}].body", step.body)
        if step.expected_minutes is not None and step.expected_minutes <= 0:
            out.append(Problem(f"{at}steps[{i}].expected_minutes", "must be a positive number"))
    return out


def validate_resource(r: SharedResource, at: str = "") -> list[Problem]:
    """Problems with one shared resource's own fields."""
    out = _slug(f"{at}id", r.key) + _text(f"{at}name", r.name)
    if r.secret_ref is not None and not r.secret_ref.strip():
        out.append(Problem(f"{at}secret_ref", "must name a keyring entry"))
    return out


def validate_endpoint_fields(e: Endpoint, at: str = "") -> list[Problem]:
    """Problems with one endpoint's own fields: its key and name, target and metrics."""
    out = _slug(f"{at}id", e.key) + _text(f"{at}name", e.name)
    out += validate_endpoint(e, at)
    if e.credential is not None and not e.credential.strip():
        out.append(Problem(f"{at}credential", "must name a keyring entry"))
    out += _target_field_problems(e, f"{at}{e.kind.value}.")
    for i, spec in enumerate(e.metrics):
        out += _text(f"{at}metrics[{i}].metric", spec.metric)
    return out


def _pattern(path: str, pattern: str) -> list[Problem]:
    if not pattern:
        return [Problem(path, "must not be empty")]
    try:
        re.compile(pattern)
    except re.error as exc:
        return [Problem(path, f"not a valid regular expression: {exc}")]
    return []


def _target_field_problems(e: Endpoint, at: str) -> list[Problem]:
    """What ``validate_endpoint`` leaves out: HTTP details, patterns, empty list items."""
    target = e.target
    if isinstance(target, HttpTarget):
        return _http_problems(target, at)
    if isinstance(target, LogfileTarget):
        return _pattern(f"{at}pattern", target.pattern)
    if isinstance(target, ScrapeTarget):
        return [p for i, s in enumerate(target.select) for p in _text(f"{at}select[{i}]", s)]
    if isinstance(target, NagiosTarget) and target.command:
        return _text(f"{at}command[0]", target.command[0])
    return []


def _http_problems(t: HttpTarget, at: str) -> list[Problem]:
    out: list[Problem] = []
    if not HTTP_METHOD.match(t.method):
        out.append(
            Problem(f"{at}method", f"expected an HTTP method (GET, HEAD...), got {t.method!r}")
        )
    for name, value in t.headers:
        if not HEADER_NAME.match(name):
            out.append(Problem(f"{at}headers.{name}", "not a valid header name"))
        elif "\r" in value or "\n" in value:
            out.append(Problem(f"{at}headers.{name}", "a header value cannot span lines"))
    for i, status in enumerate(t.expect_status):
        if not 100 <= status <= 599:
            out.append(Problem(f"{at}expect_status[{i}]", f"{status} is not an HTTP status code"))
    if t.keyword is not None and t.regex is not None:
        out.append(Problem(f"{at}regex", "give keyword or regex, not both"))
    if t.keyword is not None and not t.keyword:
        out.append(Problem(f"{at}keyword", "must not be empty"))
    if t.regex is not None:
        out += _pattern(f"{at}regex", t.regex)
    if t.json_path is not None and not t.json_path.strip():
        out.append(Problem(f"{at}json_path", "must not be empty"))
    if not 0 <= t.max_redirects <= MAX_REDIRECTS:
        out.append(Problem(f"{at}max_redirects", f"must be from 0 to {MAX_REDIRECTS}"))
    return out


def _duplicates(section: str, keys: Iterable[str], field: str) -> list[Problem]:
    out: list[Problem] = []
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key in first:
            out.append(
                Problem(
                    f"{section}[{i}].{field}",
                    f"duplicate {field} {key!r} (also {section}[{first[key]}])",
                )
            )
        else:
            first[key] = i
    return out


def _refs(path: str, values: Iterable[str], known: set[str], what: str) -> list[Problem]:
    return [
        Problem(f"{path}[{i}]", f"unknown {what} {v!r}")
        for i, v in enumerate(values)
        if v not in known
    ]


def validate_estate(estate: Estate) -> list[Problem]:
    """Every problem in a whole estate: fields, duplicate keys, dangling references, cycles."""
    out: list[Problem] = []
    for i, m in enumerate(estate.members):
        out += validate_member(m, f"members[{i}].")
    for i, t in enumerate(estate.teams):
        out += validate_team(t, f"teams[{i}].")
    for i, s in enumerate(estate.services):
        out += validate_service(s, f"services[{i}].")
    for i, r in enumerate(estate.runbooks):
        out += validate_runbook(r, f"runbooks[{i}].")
    for i, res in enumerate(estate.resources):
        out += validate_resource(res, f"resources[{i}].")
    for i, e in enumerate(estate.endpoints):
        out += validate_endpoint_fields(e, f"endpoints[{i}].")
    out += _duplicates("members", (m.email for m in estate.members), "email")
    out += _duplicates("teams", (t.key for t in estate.teams), "id")
    out += _duplicates("services", (s.key for s in estate.services), "id")
    out += _duplicates("runbooks", (r.key for r in estate.runbooks), "id")
    out += _duplicates("resources", (r.key for r in estate.resources), "id")
    out += _duplicates("endpoints", (e.key for e in estate.endpoints), "id")
    for i, silence in enumerate(estate.silences):
        out += _slug(f"silences[{i}].id", silence.key)
    out += _duplicates("silences", (s.key for s in estate.silences), "id")
    out += _reference_problems(estate)
    emails = {m.email for m in estate.members}
    out += schedule_problems(estate.schedules, estate.unavailability, emails)
    out += escalation_problems(estate)
    out += validate_alerting(estate)
    return out


def _reference_problems(estate: Estate) -> list[Problem]:
    emails = {m.email for m in estate.members}
    teams = {t.key for t in estate.teams}
    services = {s.key for s in estate.services}
    out: list[Problem] = []
    for i, t in enumerate(estate.teams):
        if t.lead is not None and t.lead not in emails:
            out.append(Problem(f"teams[{i}].lead", f"unknown member {t.lead!r}"))
        for j, ms in enumerate(t.members):
            if ms.member not in emails:
                out.append(
                    Problem(f"teams[{i}].members[{j}].email", f"unknown member {ms.member!r}")
                )
    for i, s in enumerate(estate.services):
        if s.team not in teams:
            out.append(Problem(f"services[{i}].team", f"unknown team {s.team!r}"))
        out += _refs(f"services[{i}].depends_on", s.depends_on, services, "service")
    for i, r in enumerate(estate.runbooks):
        out += _refs(f"runbooks[{i}].services", r.services, services, "service")
    for i, res in enumerate(estate.resources):
        out += _refs(f"resources[{i}].who_may_use", res.who_may_use, teams, "team")
    for i, e in enumerate(estate.endpoints):
        if e.service not in services:
            out.append(Problem(f"endpoints[{i}].service", f"unknown service {e.service!r}"))
    graph = {s.key: [d for d in s.depends_on if d in services] for s in estate.services}
    cycle = find_cycle(graph)
    if cycle:
        index = next(i for i, s in enumerate(estate.services) if s.key == cycle[0])
        out.append(
            Problem(
                f"services[{index}].depends_on",
                "dependency cycle: " + " -> ".join([*cycle, cycle[0]]),
            )
        )
    return out
