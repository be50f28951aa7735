"""Label matchers and the routes that give an inbound alert its responsible team.

Matchers follow Prometheus Alertmanager: ``name = value``, ``!=``, ``=~`` and ``!~``, where a
regular expression must match the whole label value (it is anchored) and a missing label reads
as the empty string. A route matches when all of its matchers do; routes are tried in order and
the first that matches decides (an alert never pages two teams because two rules were loose).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from console.core.errors import Problem, ValidationError

#: Label values longer than this are compared by their first this-many characters: a regular
#: expression over an unbounded value sent by another system could take unbounded time.
MAX_LABEL_CHARS = 1024


class MatchOp(Enum):
    """How a matcher compares a label's value."""

    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"

    @property
    def is_regex(self) -> bool:
        """Whether the value is a regular expression."""
        return self in (MatchOp.REGEX, MatchOp.NOT_REGEX)


@dataclass(frozen=True, slots=True)
class Matcher:
    """One condition on one label.

    Attributes:
        name: The label's name (``service``, ``severity``, ``team``...).
        op: How the value is compared.
        value: The value, or for the regex operators an anchored regular expression.
    """

    name: str
    op: MatchOp
    value: str
    _pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = []
        if not self.name.strip():
            problems.append(Problem("name", "a matcher needs a label name"))
        pattern = None
        if self.op.is_regex:
            try:
                pattern = re.compile(self.value)
            except re.error as exc:
                problems.append(Problem("value", f"not a valid regular expression: {exc}"))
        if problems:
            raise ValidationError(problems)
        object.__setattr__(self, "_pattern", pattern)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether the labels satisfy this condition (a missing label is the empty string)."""
        value = labels.get(self.name, "")[:MAX_LABEL_CHARS]
        if self.op is MatchOp.EQUAL:
            return value == self.value
        if self.op is MatchOp.NOT_EQUAL:
            return value != self.value
        assert self._pattern is not None
        found = self._pattern.fullmatch(value) is not None
        return found if self.op is MatchOp.REGEX else not found

    def __str__(self) -> str:
        return f"{self.name}{self.op.value}{self.value!r}"

    @classmethod
    def parse(cls, text: str) -> Matcher:
        """Read ``name=value``, ``name!=value``, ``name=~regex`` or ``name!~regex``.

        Raises:
            ValidationError: When the text has no operator or the regex is invalid.
        """
        found = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(=~|!~|!=|=)\s*(.*?)\s*", text)
        if found is None:
            raise ValidationError(
                [Problem("", f"expected name=value, name!=value, name=~re or name!~re: {text!r}")]
            )
        value = found[3]
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        return cls(found[1], MatchOp(found[2]), value)


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """Whether every matcher matches (true for no matchers at all)."""
    return all(m.matches(labels) for m in matchers)


@dataclass(frozen=True, slots=True)
class Route:
    """Alerts whose labels match go to ``team``.

    Attributes:
        team: The responsible team's key.
        matchers: Conditions that must all hold; none means every alert (a catch-all).
        name: What people call the rule, for the timeline ("security alerts").
    """

    team: str
    matchers: tuple[Matcher, ...] = ()
    name: str | None = None

    def __post_init__(self) -> None:
        if not self.team.strip():
            raise ValidationError([Problem("team", "a route needs a team")])

    def describe(self, index: int) -> str:
        """How the timeline names this route: its name, else its position and matchers."""
        if self.name:
            return f"route {self.name!r}"
        conditions = ", ".join(str(m) for m in self.matchers) or "every alert"
        return f"route {index + 1} ({conditions})"


class RouteBasis(Enum):
    """Why an incident went to the team it went to."""

    EXPLICIT = "explicit"  # a person chose the team (a manual report, a reassignment)
    OWNER = "owner"  # the service's owning team
    ROUTE = "route"  # an inbound-alert route matched
    DEFAULT = "default"  # nothing matched: the routing table's default team
    NONE = "none"  # nothing matched and there is no default: unassigned


@dataclass(frozen=True, slots=True)
class RouteDecision:
    """The team an incident goes to, and why (recorded on the incident's timeline).

    Attributes:
        team: The team's key, or None when the incident is unassigned.
        basis: Which rule decided.
        reason: The rule in words: "owner of service 'api'", "route 2 (severity='critical')".
    """

    team: str | None
    basis: RouteBasis
    reason: str


@dataclass(frozen=True, slots=True)
class RoutingTable:
    """Ordered routes for inbound alerts, and the team that takes what none of them match.

    Attributes:
        routes: Tried in order; the first match wins.
        default_team: The team for alerts no route matches (None: they stay unassigned).
    """

    routes: tuple[Route, ...] = ()
    default_team: str | None = None

    def first_match(self, labels: Mapping[str, str]) -> tuple[int, Route] | None:
        """The first route whose matchers all hold, with its position, or None."""
        for index, route in enumerate(self.routes):
            if matches_all(route.matchers, labels):
                return index, route
        return None

    def teams(self) -> set[str]:
        """Every team this table can route to (for reference checks)."""
        found = {r.team for r in self.routes}
        if self.default_team is not None:
            found.add(self.default_team)
        return found


def decide_team(
    labels: Mapping[str, str],
    *,
    table: RoutingTable,
    owner: tuple[str, str] | None = None,
    explicit: str | None = None,
) -> RouteDecision:
    """The team responsible for an inbound alert or a report (metrics use `route_metric`).

    Order: a team chosen by a person; then the routes (first match wins); then, when the
    signal names a known service, that service's owner; then the default team.

    Args:
        labels: The signal's labels (``service`` included when it has one).
        table: The inbound-alert routes.
        owner: ``(service key, owning team)`` when the signal's service is known.
        explicit: A team a person chose.

    Returns:
        The decision; its team is None when nothing matched and there is no default team.
    """
    if explicit is not None:
        return RouteDecision(explicit, RouteBasis.EXPLICIT, f"team {explicit!r} chosen by hand")
    hit = table.first_match(labels)
    if hit is not None:
        index, route = hit
        return RouteDecision(route.team, RouteBasis.ROUTE, route.describe(index))
    if owner is not None:
        service, team = owner
        return RouteDecision(team, RouteBasis.OWNER, f"owner of service {service!r}")
    if table.default_team is not None:
        return RouteDecision(table.default_team, RouteBasis.DEFAULT, "no route matched: default")
    return RouteDecision(None, RouteBasis.NONE, "no route matched and there is no default team")


def route_metric(service: str, team: str) -> RouteDecision:
    """A metric incident always goes to its service's owner (routes are for inbound alerts)."""
    return RouteDecision(team, RouteBasis.OWNER, f"owner of service {service!r}")


# -- plain dicts (event payloads and stored rows) -------------------------------------------


def matcher_to_dict(m: Matcher) -> dict[str, str]:
    """Encode a matcher."""
    return {"name": m.name, "op": m.op.value, "value": m.value}


def matcher_from_dict(d: Mapping[str, Any]) -> Matcher:
    """Decode a matcher."""
    return Matcher(str(d["name"]), MatchOp(d["op"]), str(d["value"]))


def routing_to_dict(table: RoutingTable) -> dict[str, Any]:
    """Encode a routing table."""
    return {
        "routes": [
            {
                "team": r.team,
                "name": r.name,
                "matchers": [matcher_to_dict(m) for m in r.matchers],
            }
            for r in table.routes
        ],
        "default_team": table.default_team,
    }


def routing_from_dict(d: Mapping[str, Any]) -> RoutingTable:
    """Decode a routing table."""
    return RoutingTable(
        routes=tuple(
            Route(
                str(r["team"]),
                tuple(matcher_from_dict(m) for m in r["matchers"]),
                r.get("name"),
            )
            for r in d["routes"]
        ),
        default_team=d.get("default_team"),
    )
