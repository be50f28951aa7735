"""Alerting as configuration declares it: the routing table, incident settings, and their rules.

Routes and settings are single values (not keyed entities like teams); silences are keyed
entities. `validate_alerting` checks them against the rest of an estate with index paths
(``alerting.routes[1].team``, ``silences[0]``) that the YAML loader maps back to positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from console.core.errors import Problem
from console.core.incident_policy import IncidentSettings
from console.core.models import Estate
from console.core.routing import RoutingTable
from console.core.silences import Silence


@dataclass(frozen=True, slots=True)
class AlertingConfig:
    """The ``alerting`` section: inbound-alert routes and how signals become incidents.

    Attributes:
        routing: Ordered routes for inbound alerts, and the default team.
        settings: Quiet period, reopen window, severities for UNKNOWN and unknown alert
            severities, the default tier, auto-resolve per source and per service.
    """

    routing: RoutingTable = field(default_factory=RoutingTable)
    settings: IncidentSettings = field(default_factory=IncidentSettings)

    @property
    def is_default(self) -> bool:
        """Whether nothing differs from a store that was never configured."""
        return self == AlertingConfig()


def validate_alerting(estate: Estate) -> list[Problem]:
    """Problems of the alerting section and the silences that need the rest of the estate.

    Unknown teams and services, routes that can never match because an earlier route takes
    every alert they would, and silences that repeat another one. (Silence ids are checked
    with the other sections' ids in ``validate_estate``.)
    """
    out: list[Problem] = []
    if estate.alerting is not None:
        teams = {t.key for t in estate.teams}
        services = {s.key for s in estate.services}
        out += _routing_problems(estate.alerting.routing, teams)
        for key in estate.alerting.settings.auto_resolve_services:
            if key not in services:
                path = f"alerting.incidents.auto_resolve.services.{key}"
                out.append(Problem(path, f"unknown service {key!r}"))
    out += _silence_problems(estate.silences)
    return out


def _routing_problems(table: RoutingTable, teams: set[str]) -> list[Problem]:
    out: list[Problem] = []
    for i, route in enumerate(table.routes):
        if route.team not in teams:
            out.append(Problem(f"alerting.routes[{i}].team", f"unknown team {route.team!r}"))
        mine = set(route.matchers)
        for j, earlier in enumerate(table.routes[:i]):
            if set(earlier.matchers) <= mine:
                what = (
                    "matches every alert"
                    if not earlier.matchers
                    else "has a subset of its matchers"
                )
                out.append(
                    Problem(
                        f"alerting.routes[{i}]",
                        f"this route can never match: route {j + 1} before it {what}, and the "
                        "first match wins; remove it or move it above",
                    )
                )
                break
    if table.default_team is not None and table.default_team not in teams:
        out.append(Problem("alerting.default_team", f"unknown team {table.default_team!r}"))
    return out


def _silence_problems(silences: tuple[Silence, ...]) -> list[Problem]:
    out: list[Problem] = []
    first: dict[tuple[frozenset[object], object], int] = {}
    for i, s in enumerate(silences):
        for name, value in (("reason", s.comment), ("created_by", s.created_by)):
            if value is not None and not value.strip():
                out.append(Problem(f"silences[{i}].{name}", "must not be empty"))
        same = (frozenset(s.matchers), s.window)
        if same in first:
            j = first[same]
            out.append(
                Problem(
                    f"silences[{i}]",
                    f"the same matchers and window as silences[{j}] ({silences[j].key!r}); "
                    "keep one",
                )
            )
        else:
            first[same] = i
    return out
