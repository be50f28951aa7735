"""Writing an estate as canonical YAML: same estate, same bytes.

Entities are sorted by key and fields come in a fixed order; empty and default fields are
left out; multi-line text is written as literal blocks. Lists whose order means something
(team members, steps, dependencies, tags) keep their order.
"""

from __future__ import annotations

from typing import Any

import yaml

from console.config.alerting_emitter import alerting_doc, silence_doc
from console.config.delivery_schema import delivery_doc
from console.config.escalation_schema import escalation_section
from console.config.schedule_schema import schedule_sections
from console.config.schema import VERSION
from console.core import codec
from console.core.deviation import DeviationConfig
from console.core.endpoints import Endpoint, HttpTarget, MetricSpec
from console.core.models import (
    SEVERITY_ORDER,
    Estate,
    Member,
    PriorityMatrix,
    Runbook,
    RunbookStep,
    Service,
    SharedResource,
    Team,
)
from console.core.thresholds import Range, StaticThresholds

Doc = dict[str, Any]


class _Dumper(yaml.SafeDumper):
    """Block style with list items indented under their key, as people write them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        # The loader refuses anchors and aliases, so a value met twice (one date object in
        # two layers) is written out in full each time.
        return True


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # PyYAML falls back to a quoted style by itself when a literal block cannot hold the text.
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def _compact(fields: Doc) -> Doc:
    """The fields that say something: no None, empty text, empty lists or false flags."""
    return {k: v for k, v in fields.items() if not _is_empty(v)}


def _is_empty(value: object) -> bool:
    # Identity for False: 0 == False, and a zero is a value worth writing.
    return value is None or value is False or (isinstance(value, str | list | dict) and not value)


def _member(m: Member) -> Doc:
    return _compact(
        {
            "email": m.email,
            "name": m.name,
            "timezone": m.timezone,
            "discipline": m.discipline.value,
            "phone": m.phone,
            "chat": {c.network: c.handle for c in sorted(m.chat, key=lambda c: c.network)},
        }
    )


def _team(t: Team) -> Doc:
    return _compact(
        {
            "id": t.key,
            "name": t.name,
            "discipline": t.discipline.value,
            "lead": t.lead,
            "bridge": t.bridge_url,
            "notes": t.notes,
            "members": [{"email": ms.member, "role": ms.role.value} for ms in t.members],
        }
    )


def _service(s: Service) -> Doc:
    return _compact(
        {
            "id": s.key,
            "name": s.name,
            "team": s.team,
            "tier": int(s.tier),
            "description": s.description,
            "tags": list(s.tags),
            "depends_on": list(s.depends_on),
        }
    )


def _step(s: RunbookStep) -> Doc:
    return _compact(
        {
            "title": s.title,
            "body": s.body,
            "expected_minutes": s.expected_minutes,
            "destroys_evidence": s.destroys_evidence,
        }
    )


def _runbook(r: Runbook) -> Doc:
    return _compact(
        {
            "id": r.key,
            "title": r.title,
            "scenario": r.scenario,
            "services": list(r.services),
            "steps": [_step(s) for s in r.steps],
        }
    )


def _resource(r: SharedResource) -> Doc:
    return _compact(
        {
            "id": r.key,
            "name": r.name,
            "kind": r.kind.value,
            "description": r.description,
            "who_may_use": list(r.who_may_use),
            "how_to_obtain": r.how_to_obtain,
            "secret_ref": r.secret_ref,
        }
    )


def _number(value: float) -> float | int:
    """Whole numbers as integers: `interval: 30`, not `interval: 30.0`; both read back equal."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _without(fields: Doc, defaults: Doc) -> Doc:
    """The fields that differ from their defaults (and are not None)."""
    out: Doc = {}
    for key, value in fields.items():
        if value is None or (key in defaults and value == defaults[key]):
            continue
        out[key] = _number(value) if isinstance(value, float) else value
    return out


_HTTP_DEFAULTS: Doc = {
    **codec.target_to_dict(HttpTarget("-")),
    "headers": {},
    "expect_status": [],
}
_THRESHOLD_DEFAULTS: Doc = {"hysteresis": 0.0, "for": 0.0, "keep_firing_for": 0.0}
# The method is always written, so that a band of all defaults still reads `deviation:`.
_DEVIATION_DEFAULTS: Doc = {
    k: v for k, v in codec.deviation_to_dict(DeviationConfig()).items() if k != "method"
}
_ENDPOINT_DEFAULTS: Doc = {"interval": 60.0, "timeout": 10.0, "jitter": 0.0, "enabled": True}


def _level(level: float | Range | None) -> float | int | Doc | None:
    if isinstance(level, Range):
        return {"low": _number(level.low), "high": _number(level.high)}
    return None if level is None else _number(level)


def _thresholds(t: StaticThresholds) -> Doc:
    fields = codec.thresholds_to_dict(t)
    fields["warning"], fields["critical"] = _level(t.warning), _level(t.critical)
    return _without(fields, _THRESHOLD_DEFAULTS)


def _metric_spec(m: MetricSpec) -> Doc:
    return _without(
        {
            "metric": m.metric,
            "name": m.name,
            "unit": m.unit.value,
            "thresholds": None if m.thresholds is None else _thresholds(m.thresholds),
            "deviation": (
                None
                if m.deviation is None
                else _without(codec.deviation_to_dict(m.deviation), _DEVIATION_DEFAULTS)
            ),
        },
        {"name": m.metric, "unit": "none"},
    )


def _target(e: Endpoint) -> Doc:
    fields = codec.target_to_dict(e.target)
    if isinstance(e.target, HttpTarget):
        fields["headers"] = dict(e.target.headers)
        return _without(fields, _HTTP_DEFAULTS)
    return _without(fields, {"select": []})


def _endpoint(e: Endpoint) -> Doc:
    fields: Doc = {
        "id": e.key,
        "name": e.name,
        "service": e.service,
        "interval": e.interval_s,
        "timeout": e.timeout_s,
        "jitter": e.jitter_s,
        "credential": e.credential,
        "enabled": e.enabled,
        e.kind.value: _target(e),
        "metrics": [_metric_spec(m) for m in e.metrics],
    }
    return _without(fields, {**_ENDPOINT_DEFAULTS, "metrics": []})


def _matrix(m: PriorityMatrix) -> dict[int, dict[str, str]]:
    return {
        tier: {sev.value: m.grid[tier - 1][i].value for i, sev in enumerate(SEVERITY_ORDER)}
        for tier in range(1, len(m.grid) + 1)
    }


def dump(estate: Estate) -> str:
    """The estate as canonical YAML (format version 1).

    The priority matrix is written only when it differs from the defaults.
    """
    e = estate.sorted()
    doc: Doc = {"version": VERSION}
    sections: list[tuple[str, list[Doc]]] = [
        ("members", [_member(m) for m in e.members]),
        ("teams", [_team(t) for t in e.teams]),
        ("services", [_service(s) for s in e.services]),
    ]
    for name, items in sections:
        if items:
            doc[name] = items
    if e.priority_matrix is not None and not e.priority_matrix.is_default:
        doc["priority_matrix"] = _matrix(e.priority_matrix)
    if e.runbooks:
        doc["runbooks"] = [_runbook(r) for r in e.runbooks]
    if e.resources:
        doc["resources"] = [_resource(r) for r in e.resources]
    if e.endpoints:
        doc["endpoints"] = [_endpoint(x) for x in e.endpoints]
    alerting = None if e.alerting is None else alerting_doc(e.alerting)
    if alerting:
        doc["alerting"] = alerting
    if e.silences:
        known = {s.key for s in e.services}
        doc["silences"] = [silence_doc(s, known) for s in e.silences]
    doc |= schedule_sections(e.schedules, e.unavailability, e.members)
    doc |= escalation_section(e.escalation_policies)
    delivery = None if e.delivery is None else delivery_doc(e.delivery)
    if delivery:
        doc["delivery"] = delivery
    return yaml.dump(
        doc,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        indent=2,
        width=1_000_000,
    )
