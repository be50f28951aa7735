"""Writing the ``alerting`` and ``silences`` sections in canonical form.

Routes keep their order (the first match wins); settings equal to their defaults are left out;
a silence's first matcher is written back as ``services`` when that is what it stands for.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, time, timedelta
from typing import Any

from console.config.matchers import format_matcher, split_services
from console.core.alerting_config import AlertingConfig
from console.core.incident_policy import IncidentSettings
from console.core.routing import Route
from console.core.signals import SignalSource
from console.core.silences import OneOffWindow, Silence

Doc = dict[str, Any]


def _seconds(value: timedelta) -> float | int:
    seconds = value.total_seconds()
    return int(seconds) if seconds.is_integer() else seconds


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _time_of_day(value: time) -> str:
    return value.isoformat("seconds" if value.second else "minutes")


def _route(route: Route) -> Doc:
    doc: Doc = {}
    if route.name is not None:
        doc["name"] = route.name
    doc["team"] = route.team
    if route.matchers:
        doc["matchers"] = [format_matcher(m) for m in route.matchers]
    return doc


def _incidents(s: IncidentSettings) -> Doc:
    base = IncidentSettings()
    doc: Doc = {}
    if s.quiet_period != base.quiet_period:
        doc["quiet_period"] = _seconds(s.quiet_period)
    if s.reopen_within != base.reopen_within:
        doc["reopen_within"] = _seconds(s.reopen_within)
    if s.unknown_severity is not base.unknown_severity:
        doc["unknown_severity"] = s.unknown_severity.value
    if s.unknown_label_severity is not base.unknown_label_severity:
        doc["unknown_alert_severity"] = s.unknown_label_severity.value
    if s.default_tier is not base.default_tier:
        doc["default_tier"] = int(s.default_tier)
    auto: Doc = {
        source.value: s.auto_resolve.get(source, False)
        for source in SignalSource
        if s.auto_resolve.get(source, False) != base.auto_resolve[source]
    }
    if s.auto_resolve_services:
        auto["services"] = dict(sorted(s.auto_resolve_services.items()))
    if auto:
        doc["auto_resolve"] = auto
    return doc


def alerting_doc(config: AlertingConfig) -> Doc:
    """The ``alerting`` section (empty when everything is at its default)."""
    doc: Doc = {}
    if config.routing.routes:
        doc["routes"] = [_route(r) for r in config.routing.routes]
    if config.routing.default_team is not None:
        doc["default_team"] = config.routing.default_team
    incidents = _incidents(config.settings)
    if incidents:
        doc["incidents"] = incidents
    return doc


def silence_doc(silence: Silence, services: Collection[str]) -> Doc:
    """One ``silences`` item; ``services`` are the estate's service ids."""
    names, rest = split_services(silence.matchers, services)
    doc: Doc = {"id": silence.key}
    for name, value in (("reason", silence.comment), ("created_by", silence.created_by)):
        if value is not None:
            doc[name] = value
    if names:
        doc["services"] = list(names)
    if rest:
        doc["matchers"] = [format_matcher(m) for m in rest]
    window = silence.window
    if isinstance(window, OneOffWindow):
        doc["once"] = {"starts": _instant(window.start), "ends": _instant(window.end)}
    else:
        doc["weekly"] = {
            "days": [d.value for d in window.days],
            "start": _time_of_day(window.start),
            "end": _time_of_day(window.end),
            "zone": window.zone,
        }
    return doc
