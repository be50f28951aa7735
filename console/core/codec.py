"""Records <-> plain JSON-able dicts: the form of event payloads and of stored rows."""

from __future__ import annotations

from typing import Any

from console.core.deviation import BandMethod, DeviationConfig, Seasonality, Side
from console.core.endpoints import (
    Endpoint,
    HeartbeatTarget,
    HttpTarget,
    LogfileTarget,
    MetricSpec,
    NagiosTarget,
    ProbeKind,
    PrometheusTarget,
    ScrapeTarget,
    Target,
    TcpTarget,
)
from console.core.enums import (
    Discipline,
    ImpactTier,
    MemberRole,
    Priority,
    ResourceKind,
)
from console.core.models import (
    SEVERITY_ORDER,
    ChatHandle,
    Member,
    Membership,
    PriorityMatrix,
    Runbook,
    RunbookStep,
    Service,
    SharedResource,
    Team,
)
from console.core.thresholds import Direction, Level, Range, StaticThresholds
from console.core.units import Unit

JSON = dict[str, Any]


def member_to_dict(m: Member) -> JSON:
    """Encode a member."""
    return {
        "email": m.email,
        "name": m.name,
        "timezone": m.timezone,
        "discipline": m.discipline.value,
        "phone": m.phone,
        "chat": {c.network: c.handle for c in m.chat},
    }


def member_from_dict(d: JSON) -> Member:
    """Decode a member."""
    return Member(
        email=d["email"],
        name=d["name"],
        timezone=d["timezone"],
        discipline=Discipline(d["discipline"]),
        phone=d.get("phone"),
        chat=tuple(ChatHandle(k, v) for k, v in (d.get("chat") or {}).items()),
    )


def team_to_dict(t: Team) -> JSON:
    """Encode a team with its memberships."""
    return {
        "id": t.key,
        "name": t.name,
        "discipline": t.discipline.value,
        "lead": t.lead,
        "bridge": t.bridge_url,
        "notes": t.notes,
        "members": [{"email": m.member, "role": m.role.value} for m in t.members],
    }


def team_from_dict(d: JSON) -> Team:
    """Decode a team."""
    return Team(
        key=d["id"],
        name=d["name"],
        discipline=Discipline(d["discipline"]),
        lead=d.get("lead"),
        bridge_url=d.get("bridge"),
        notes=d.get("notes"),
        members=tuple(
            Membership(m["email"], MemberRole(m["role"])) for m in d.get("members") or ()
        ),
    )


def service_to_dict(s: Service) -> JSON:
    """Encode a service."""
    return {
        "id": s.key,
        "name": s.name,
        "team": s.team,
        "tier": int(s.tier),
        "description": s.description,
        "tags": list(s.tags),
        "depends_on": list(s.depends_on),
    }


def service_from_dict(d: JSON) -> Service:
    """Decode a service."""
    return Service(
        key=d["id"],
        name=d["name"],
        team=d["team"],
        tier=ImpactTier(d["tier"]),
        description=d.get("description"),
        tags=tuple(d.get("tags") or ()),
        depends_on=tuple(d.get("depends_on") or ()),
    )


def step_to_dict(s: RunbookStep) -> JSON:
    """Encode a runbook step."""
    return {
        "title": s.title,
        "body": s.body,
        "expected_minutes": s.expected_minutes,
        "destroys_evidence": s.destroys_evidence,
    }


def runbook_to_dict(r: Runbook) -> JSON:
    """Encode a runbook."""
    return {
        "id": r.key,
        "title": r.title,
        "scenario": r.scenario,
        "services": list(r.services),
        "steps": [step_to_dict(s) for s in r.steps],
    }


def runbook_from_dict(d: JSON) -> Runbook:
    """Decode a runbook."""
    return Runbook(
        key=d["id"],
        title=d["title"],
        scenario=d["scenario"],
        services=tuple(d.get("services") or ()),
        steps=tuple(
            RunbookStep(
                title=s["title"],
                body=s["body"],
                expected_minutes=s.get("expected_minutes"),
                destroys_evidence=bool(s.get("destroys_evidence", False)),
            )
            for s in d.get("steps") or ()
        ),
    )


def resource_to_dict(r: SharedResource) -> JSON:
    """Encode a shared resource."""
    return {
        "id": r.key,
        "name": r.name,
        "kind": r.kind.value,
        "description": r.description,
        "who_may_use": list(r.who_may_use),
        "how_to_obtain": r.how_to_obtain,
        "secret_ref": r.secret_ref,
    }


def resource_from_dict(d: JSON) -> SharedResource:
    """Decode a shared resource."""
    return SharedResource(
        key=d["id"],
        name=d["name"],
        kind=ResourceKind(d["kind"]),
        description=d.get("description"),
        who_may_use=tuple(d.get("who_may_use") or ()),
        how_to_obtain=d.get("how_to_obtain"),
        secret_ref=d.get("secret_ref"),
    )


def matrix_to_dict(m: PriorityMatrix) -> JSON:
    """Encode the priority matrix as {tier: {severity: priority}}."""
    return {
        str(tier): {sev.value: m.grid[tier - 1][i].value for i, sev in enumerate(SEVERITY_ORDER)}
        for tier in (1, 2, 3, 4)
    }


def matrix_from_dict(d: JSON) -> PriorityMatrix:
    """Decode the priority matrix; cells not given keep their defaults."""
    matrix = PriorityMatrix()
    rows = [list(r) for r in matrix.grid]
    for tier_text, cells in d.items():
        for sev_text, prio in cells.items():
            col = [s.value for s in SEVERITY_ORDER].index(sev_text)
            rows[int(tier_text) - 1][col] = Priority(prio)
    return PriorityMatrix(tuple(tuple(r) for r in rows))


# ---- endpoints ----------------------------------------------------------------------------
# Lists, never mappings, where order matters (headers): event payloads are stored with sorted
# keys, which would reorder a mapping and make the record read back unequal.


def _http_to_dict(t: HttpTarget) -> JSON:
    return {
        "url": t.url,
        "method": t.method,
        "headers": [[name, value] for name, value in t.headers],
        "body": t.body,
        "expect_status": list(t.expect_status),
        "json_path": t.json_path,
        "keyword": t.keyword,
        "regex": t.regex,
        "verify_tls": t.verify_tls,
        "max_redirects": t.max_redirects,
    }


def _http_from_dict(d: JSON) -> HttpTarget:
    return HttpTarget(
        url=d["url"],
        method=d.get("method", "GET"),
        headers=tuple((str(n), str(v)) for n, v in d.get("headers") or ()),
        body=d.get("body"),
        expect_status=tuple(int(s) for s in d.get("expect_status") or ()),
        json_path=d.get("json_path"),
        keyword=d.get("keyword"),
        regex=d.get("regex"),
        verify_tls=bool(d.get("verify_tls", True)),
        max_redirects=int(d.get("max_redirects", 5)),
    )


def target_to_dict(target: Target) -> JSON:
    """Encode a probe target (its kind is stored beside it)."""
    if isinstance(target, HttpTarget):
        return _http_to_dict(target)
    if isinstance(target, TcpTarget):
        return {"host": target.host, "port": target.port}
    if isinstance(target, PrometheusTarget):
        return {"url": target.url, "query": target.query}
    if isinstance(target, ScrapeTarget):
        return {"url": target.url, "select": list(target.select)}
    if isinstance(target, NagiosTarget):
        return {"command": list(target.command)}
    if isinstance(target, LogfileTarget):
        return {"path": target.path, "pattern": target.pattern}
    return {"grace": target.grace_s}


def target_from_dict(kind: ProbeKind, d: JSON) -> Target:
    """Decode a probe target of a given kind."""
    if kind is ProbeKind.HTTP:
        return _http_from_dict(d)
    if kind is ProbeKind.TCP:
        return TcpTarget(d["host"], int(d["port"]))
    if kind is ProbeKind.PROMETHEUS:
        return PrometheusTarget(d["url"], d["query"])
    if kind is ProbeKind.SCRAPE:
        return ScrapeTarget(d["url"], tuple(d.get("select") or ()))
    if kind is ProbeKind.NAGIOS:
        return NagiosTarget(tuple(d["command"]))
    if kind is ProbeKind.LOGFILE:
        return LogfileTarget(d["path"], d["pattern"])
    return HeartbeatTarget(float(d["grace"]))


def _level_to_dict(level: Level | None) -> float | JSON | None:
    if isinstance(level, Range):
        return {"low": level.low, "high": level.high}
    return level


def _level_from_dict(value: float | JSON | None) -> Level | None:
    if isinstance(value, dict):
        return Range(float(value["low"]), float(value["high"]))
    return None if value is None else float(value)


def thresholds_to_dict(t: StaticThresholds) -> JSON:
    """Encode static thresholds (a range level is ``{"low": .., "high": ..}``)."""
    return {
        "direction": t.direction.value,
        "warning": _level_to_dict(t.warning),
        "critical": _level_to_dict(t.critical),
        "hysteresis": t.hysteresis,
        "for": t.for_seconds,
        "keep_firing_for": t.keep_firing_for,
    }


def thresholds_from_dict(d: JSON) -> StaticThresholds:
    """Decode static thresholds."""
    return StaticThresholds(
        direction=Direction(d["direction"]),
        warning=_level_from_dict(d.get("warning")),
        critical=_level_from_dict(d.get("critical")),
        hysteresis=float(d.get("hysteresis", 0.0)),
        for_seconds=float(d.get("for", 0.0)),
        keep_firing_for=float(d.get("keep_firing_for", 0.0)),
    )


def deviation_to_dict(c: DeviationConfig) -> JSON:
    """Encode a deviation band's configuration."""
    return {
        "method": c.method.value,
        "k": c.k,
        "warning_k": c.warning_k,
        "window": c.window,
        "side": c.side.value,
        "min_samples": c.min_samples,
        "min_span": c.min_span,
        "min_deviation": c.min_deviation,
        "seasonality": c.seasonality.value,
        "seasons": c.seasons,
        "tolerance": c.tolerance,
        "for": c.for_seconds,
        "keep_firing_for": c.keep_firing_for,
    }


def deviation_from_dict(d: JSON) -> DeviationConfig:
    """Decode a deviation band's configuration; absent fields keep their defaults."""
    default = DeviationConfig()
    warning_k = d.get("warning_k")
    return DeviationConfig(
        method=BandMethod(d.get("method", default.method.value)),
        k=float(d.get("k", default.k)),
        warning_k=None if warning_k is None else float(warning_k),
        window=float(d.get("window", default.window)),
        side=Side(d.get("side", default.side.value)),
        min_samples=int(d.get("min_samples", default.min_samples)),
        min_span=float(d.get("min_span", default.min_span)),
        min_deviation=float(d.get("min_deviation", default.min_deviation)),
        seasonality=Seasonality(d.get("seasonality", default.seasonality.value)),
        seasons=int(d.get("seasons", default.seasons)),
        tolerance=float(d.get("tolerance", default.tolerance)),
        for_seconds=float(d.get("for", default.for_seconds)),
        keep_firing_for=float(d.get("keep_firing_for", default.keep_firing_for)),
    )


def metric_to_dict(m: MetricSpec) -> JSON:
    """Encode one metric an endpoint yields, with how it is judged."""
    return {
        "metric": m.metric,
        "name": m.name,
        "unit": m.unit.value,
        "thresholds": None if m.thresholds is None else thresholds_to_dict(m.thresholds),
        "deviation": None if m.deviation is None else deviation_to_dict(m.deviation),
    }


def metric_from_dict(d: JSON) -> MetricSpec:
    """Decode one metric spec."""
    thresholds, deviation = d.get("thresholds"), d.get("deviation")
    return MetricSpec(
        metric=d["metric"],
        name=d["name"],
        unit=Unit(d.get("unit", Unit.NONE.value)),
        thresholds=None if thresholds is None else thresholds_from_dict(thresholds),
        deviation=None if deviation is None else deviation_from_dict(deviation),
    )


def endpoint_to_dict(e: Endpoint) -> JSON:
    """Encode an endpoint: its fields, ``kind`` and ``target``, and its metrics."""
    return {
        "id": e.key,
        "name": e.name,
        "service": e.service,
        "kind": e.kind.value,
        "target": target_to_dict(e.target),
        "interval": e.interval_s,
        "timeout": e.timeout_s,
        "jitter": e.jitter_s,
        "credential": e.credential,
        "enabled": e.enabled,
        "metrics": [metric_to_dict(m) for m in e.metrics],
    }


def endpoint_from_dict(d: JSON) -> Endpoint:
    """Decode an endpoint."""
    return Endpoint(
        key=d["id"],
        name=d["name"],
        service=d["service"],
        target=target_from_dict(ProbeKind(d["kind"]), d["target"]),
        interval_s=float(d.get("interval", 60.0)),
        timeout_s=float(d.get("timeout", 10.0)),
        jitter_s=float(d.get("jitter", 0.0)),
        credential=d.get("credential"),
        enabled=bool(d.get("enabled", True)),
        metrics=tuple(metric_from_dict(m) for m in d.get("metrics") or ()),
    )
