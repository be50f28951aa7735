"""Monitored endpoints: what to probe, how often, and how each metric it yields is judged.

An endpoint belongs to a service and has one probe kind with its own typed target. Each
probe result carries named metrics (``response_time_ms``, a perfdata label, a Prometheus
series); a ``MetricSpec`` picks one of them and says how to judge it. Credentials are held by
reference: ``credential`` names a keyring entry, never a secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

from console.core.deviation import DeviationConfig
from console.core.errors import Problem
from console.core.evaluation import MetricConfig
from console.core.thresholds import StaticThresholds
from console.core.units import Unit

MIN_INTERVAL_S = 1.0


class ProbeKind(Enum):
    """How an endpoint is checked."""

    HTTP = "http"
    TCP = "tcp"
    PROMETHEUS = "prometheus"
    SCRAPE = "scrape"
    NAGIOS = "nagios"
    LOGFILE = "logfile"
    HEARTBEAT = "heartbeat"


@dataclass(frozen=True, slots=True)
class HttpTarget:
    """An HTTP(S) request and what a good answer looks like."""

    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    expect_status: tuple[int, ...] = ()
    json_path: str | None = None
    keyword: str | None = None
    regex: str | None = None
    verify_tls: bool = True
    max_redirects: int = 5


@dataclass(frozen=True, slots=True)
class TcpTarget:
    """A TCP port that should accept connections."""

    host: str
    port: int


@dataclass(frozen=True, slots=True)
class PrometheusTarget:
    """An instant PromQL query against a Prometheus HTTP API."""

    url: str
    query: str


@dataclass(frozen=True, slots=True)
class ScrapeTarget:
    """A /metrics page; ``select`` names the metric families to extract (all when empty)."""

    url: str
    select: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NagiosTarget:
    """A Nagios plugin command line (argv, never a shell)."""

    command: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LogfileTarget:
    """A log file followed across rotation; lines matching ``pattern`` are counted."""

    path: str
    pattern: str


@dataclass(frozen=True, slots=True)
class HeartbeatTarget:
    """An outside job calls the console; silence beyond ``grace_s`` is a failure."""

    grace_s: float


Target = (
    HttpTarget
    | TcpTarget
    | PrometheusTarget
    | ScrapeTarget
    | NagiosTarget
    | LogfileTarget
    | HeartbeatTarget
)

TARGET_KIND: dict[type, ProbeKind] = {
    HttpTarget: ProbeKind.HTTP,
    TcpTarget: ProbeKind.TCP,
    PrometheusTarget: ProbeKind.PROMETHEUS,
    ScrapeTarget: ProbeKind.SCRAPE,
    NagiosTarget: ProbeKind.NAGIOS,
    LogfileTarget: ProbeKind.LOGFILE,
    HeartbeatTarget: ProbeKind.HEARTBEAT,
}


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric an endpoint yields and how it is judged.

    Attributes:
        metric: The probe's metric key (``response_time_ms``, ``up``, a perfdata label, a
            Prometheus series name).
        name: What people call it; starts every reason ("p95 latency").
        unit: Its unit.
        thresholds: Static warning/critical levels, or None.
        deviation: A deviation band, or None.
    """

    metric: str
    name: str
    unit: Unit = Unit.NONE
    thresholds: StaticThresholds | None = None
    deviation: DeviationConfig | None = None

    def config(self, interval_s: float) -> MetricConfig:
        """The evaluator's configuration for this metric on an endpoint of that interval."""
        return MetricConfig(
            name=self.name,
            unit=self.unit,
            interval=interval_s,
            thresholds=self.thresholds,
            deviation=self.deviation,
        )


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Something the engine polls (or, for heartbeats, listens for)."""

    key: str
    name: str
    service: str
    target: Target
    interval_s: float = 60.0
    timeout_s: float = 10.0
    jitter_s: float = 0.0
    credential: str | None = None
    enabled: bool = True
    metrics: tuple[MetricSpec, ...] = ()

    @property
    def kind(self) -> ProbeKind:
        """The probe kind, from the target's type."""
        return TARGET_KIND[type(self.target)]

    @property
    def host(self) -> str:
        """The host the per-host concurrency cap counts against."""
        target = self.target
        if isinstance(target, TcpTarget):
            return target.host
        if isinstance(target, HttpTarget | PrometheusTarget | ScrapeTarget):
            return urlsplit(target.url).hostname or ""
        return "localhost"


def validate_endpoint(e: Endpoint, at: str = "") -> list[Problem]:
    """Problems with one endpoint's own fields (the service reference is checked elsewhere)."""
    out: list[Problem] = []
    if e.interval_s < MIN_INTERVAL_S:
        out.append(Problem(f"{at}interval", "must be 1 second or more"))
    if not 0 < e.timeout_s <= max(e.interval_s, 1.0) * 10:
        out.append(Problem(f"{at}timeout", "must be above 0 and at most 10 intervals"))
    if e.jitter_s < 0 or e.jitter_s >= e.interval_s:
        out.append(Problem(f"{at}jitter", "must be 0 or more and below the interval"))
    out += _target_problems(e.target, f"{at}{e.kind.value}.")
    seen: set[str] = set()
    for i, spec in enumerate(e.metrics):
        if spec.metric in seen:
            out.append(Problem(f"{at}metrics[{i}].metric", f"{spec.metric!r} is listed twice"))
        seen.add(spec.metric)
        if not spec.name.strip():
            out.append(Problem(f"{at}metrics[{i}].name", "must not be empty"))
    return out


def _url_problem(path: str, url: str) -> list[Problem]:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return [Problem(path, f"expected an http(s) URL with a host, got {url!r}")]
    if parts.username or parts.password:
        return [Problem(path, "credentials do not belong in a URL: use `credential`")]
    return []


def _target_problems(target: Target, at: str) -> list[Problem]:
    if isinstance(target, HttpTarget | PrometheusTarget | ScrapeTarget):
        out = _url_problem(f"{at}url", target.url)
        if isinstance(target, PrometheusTarget) and not target.query.strip():
            out.append(Problem(f"{at}query", "must not be empty"))
        return out
    if isinstance(target, TcpTarget):
        if not 0 < target.port < 65536:
            return [Problem(f"{at}port", "expected a port number from 1 to 65535")]
        return [] if target.host.strip() else [Problem(f"{at}host", "must not be empty")]
    if isinstance(target, NagiosTarget):
        return [] if target.command else [Problem(f"{at}command", "needs the plugin's path")]
    if isinstance(target, LogfileTarget):
        return [] if target.path.strip() else [Problem(f"{at}path", "must not be empty")]
    if target.grace_s < 1:
        return [Problem(f"{at}grace", "must be 1 second or more")]
    return []
