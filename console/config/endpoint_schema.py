"""The ``endpoints`` section: what to probe, how often, and how each metric is judged.

Like the rest of the schema, a broken value becomes a placeholder (its path marked broken) so
that reading goes on and every problem in the file is reported at once. Thresholds and
deviation bands validate themselves when built; their problems are reported here, at the
field that caused them, under the names the file uses (``for``, not ``for_seconds``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode

from console.config.nodes import FLOAT_TAG, INT_TAG, Entry, Reader, child
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
from console.core.errors import ValidationError
from console.core.thresholds import Direction, Level, Range, StaticThresholds
from console.core.units import Unit, format_number

KINDS: tuple[str, ...] = tuple(k.value for k in ProbeKind)
ENDPOINT_REQUIRED = ("id", "name", "service")
ENDPOINT_OPTIONAL = ("interval", "timeout", "jitter", "credential", "enabled", *KINDS, "metrics")
HTTP_OPTIONAL = (
    "method",
    "headers",
    "body",
    "expect_status",
    "json_path",
    "keyword",
    "regex",
    "verify_tls",
    "max_redirects",
)
THRESHOLD_OPTIONAL = ("warning", "critical", "hysteresis", "for", "keep_firing_for")
DEVIATION_NUMBERS = (
    "k",
    "warning_k",
    "window",
    "min_span",
    "min_deviation",
    "tolerance",
    "for",
    "keep_firing_for",
)
DEVIATION_INTEGERS = ("min_samples", "seasons")
DEVIATION_CHOICES: dict[str, tuple[type[Any], str]] = {
    "method": (BandMethod, "band method"),
    "side": (Side, "side"),
    "seasonality": (Seasonality, "seasonality"),
}
DEVIATION_FIELDS = ("method", *DEVIATION_NUMBERS, "side", *DEVIATION_INTEGERS, "seasonality")
#: Record attribute -> the field name the file uses, where they differ.
FILE_NAMES = {"for_seconds": "for", "grace_s": "grace"}
_ATTRIBUTES = {v: k for k, v in FILE_NAMES.items()}
_DEFAULTS = Endpoint("-", "-", "-", HeartbeatTarget(60.0))
_PLACEHOLDER_TARGET = HeartbeatTarget(60.0)
R = TypeVar("R")


def read_endpoint(r: Reader, node: Node, path: str) -> Endpoint:
    """Read one item of the ``endpoints`` list (a placeholder endpoint when it is broken)."""
    e = r.entry(node, path, "an endpoint", ENDPOINT_REQUIRED, ENDPOINT_OPTIONAL)
    if e is None:
        return Endpoint(r.placeholder(path), "-", "-", _PLACEHOLDER_TARGET)
    enabled = e.boolean("enabled")
    return Endpoint(
        key=e.text("id"),
        name=e.text("name"),
        service=e.text("service"),
        target=_target(r, e),
        # A broken interval must not make the timeout and jitter checks report it again.
        interval_s=_number(e, "interval", _DEFAULTS.interval_s, broken=math.inf),
        timeout_s=_number(e, "timeout", _DEFAULTS.timeout_s),
        jitter_s=_number(e, "jitter", _DEFAULTS.jitter_s),
        credential=e.optional_text("credential"),
        enabled=_DEFAULTS.enabled if enabled is None else enabled,
        metrics=tuple(_metric(r, n, p) for p, n in e.items("metrics", "metrics")),
    )


def _number(e: Entry, name: str, default: float, *, broken: float | None = None) -> float:
    value = e.number(name)
    if value is not None:
        return value
    if broken is not None and child(e.path, name) in e.reader.broken:
        return broken
    return default


def _target(r: Reader, e: Entry) -> Target:
    present = [kind for kind in KINDS if kind in e.values]
    if len(present) != 1:
        found = " and ".join(present) if present else "none"
        r.report(
            r.nodes[e.path],
            e.path,
            f"an endpoint needs exactly one probe kind ({', '.join(KINDS)}); found {found}",
        )
        r.broken.update(child(e.path, kind) for kind in KINDS)
        return _PLACEHOLDER_TARGET
    kind = ProbeKind(present[0])
    return _TARGETS[kind](r, e.values[kind.value], child(e.path, kind.value))


def _http(r: Reader, node: Node, path: str) -> Target:
    e = r.entry(node, path, "an http probe", ("url",), HTTP_OPTIONAL)
    if e is None:
        return HttpTarget(r.placeholder(path))
    default = HttpTarget("-")
    verify_tls = e.boolean("verify_tls")
    max_redirects = e.integer("max_redirects")
    return HttpTarget(
        url=e.text("url"),
        method=e.optional_text("method") or default.method,
        headers=_headers(r, e),
        body=e.optional_text("body"),
        expect_status=_integers(r, e, "expect_status", "HTTP status codes"),
        json_path=e.optional_text("json_path"),
        keyword=e.optional_text("keyword"),
        regex=e.optional_text("regex"),
        verify_tls=default.verify_tls if verify_tls is None else verify_tls,
        max_redirects=default.max_redirects if max_redirects is None else max_redirects,
    )


def _headers(r: Reader, e: Entry) -> tuple[tuple[str, str], ...]:
    node = e.node("headers")
    path = child(e.path, "headers")
    if node is None:
        return ()
    mapping = r.mapping(node, path, "a mapping of header names to values (Accept: text/html)")
    if mapping is None:
        return ()
    out: list[tuple[str, str]] = []
    for name, _key, value in r.pairs(mapping, path):
        text = r.string(value, child(path, name))
        if text is not None:
            out.append((name, text))
    return tuple(out)


def _integers(r: Reader, e: Entry, name: str, what: str) -> tuple[int, ...]:
    node = e.node(name)
    if node is None:
        return ()
    path = child(e.path, name)
    values = (r.integer(n, f"{path}[{i}]") for i, n in enumerate(r.sequence(node, path, what)))
    return tuple(v for v in values if v is not None)


def _tcp(r: Reader, node: Node, path: str) -> Target:
    e = r.entry(node, path, "a tcp probe", ("host", "port"))
    if e is None:
        return TcpTarget(r.placeholder(path), 1)
    port = e.integer("port")
    return TcpTarget(e.text("host"), 1 if port is None else port)


def _prometheus(r: Reader, node: Node, path: str) -> Target:
    e = r.entry(node, path, "a prometheus query", ("url", "query"))
    if e is None:
        return PrometheusTarget(r.placeholder(path), "-")
    return PrometheusTarget(e.text("url"), e.text("query"))


def _scrape(r: Reader, node: Node, path: str) -> Target:
    e = r.entry(node, path, "a scrape of a /metrics page", ("url",), ("select",))
    if e is None:
        return ScrapeTarget(r.placeholder(path))
    return ScrapeTarget(e.text("url"), e.texts("select", "metric selectors"))


def _nagios(r: Reader, node: Node, path: str) -> Target:
    e = r.entry(node, path, "a nagios plugin", ("command",))
    if e is None:
        return NagiosTarget((r.placeholder(path),))
    command = e.node("command")
    if command is None:
        return NagiosTarget((r.placeholder(child(path, "command")),))
    where = child(path, "command")
    items = r.sequence(command, where, "the plugin's path and arguments")
    return NagiosTarget(tuple(_argument(r, n, f"{where}[{i}]") for i, n in enumerate(items)))


def _argument(r: Reader, node: Node, path: str) -> str:
    # Plugin arguments are often numbers (-w 5): take them as written, never as YAML reads them.
    if isinstance(node, ScalarNode) and node.tag in (INT_TAG, FLOAT_TAG):
        return str(node.value)
    value = r.string(node, path)
    return r.placeholder(path) if value is None else value


def _logfile(r: Reader, node: Node, path: str) -> Target:
    e = r.entry(node, path, "a log file", ("path", "pattern"))
    if e is None:
        return LogfileTarget(r.placeholder(path), "-")
    return LogfileTarget(e.text("path"), e.text("pattern"))


def _heartbeat(r: Reader, node: Node, path: str) -> Target:
    e = r.entry(node, path, "a heartbeat", ("grace",))
    if e is None:
        return _PLACEHOLDER_TARGET
    grace = e.number("grace")
    return _PLACEHOLDER_TARGET if grace is None else HeartbeatTarget(grace)


_TARGETS: dict[ProbeKind, Callable[[Reader, Node, str], Target]] = {
    ProbeKind.HTTP: _http,
    ProbeKind.TCP: _tcp,
    ProbeKind.PROMETHEUS: _prometheus,
    ProbeKind.SCRAPE: _scrape,
    ProbeKind.NAGIOS: _nagios,
    ProbeKind.LOGFILE: _logfile,
    ProbeKind.HEARTBEAT: _heartbeat,
}


def _metric(r: Reader, node: Node, path: str) -> MetricSpec:
    e = r.entry(node, path, "a metric", ("metric",), ("name", "unit", "thresholds", "deviation"))
    if e is None:
        return MetricSpec(r.placeholder(path), "-")
    metric = e.text("metric")
    name = e.optional_text("name")
    return MetricSpec(
        metric=metric,
        name=metric if name is None else name,
        unit=e.choice("unit", Unit, "unit") or Unit.NONE,
        thresholds=_thresholds(r, e),
        deviation=_deviation(r, e),
    )


def _build(r: Reader, e: Entry, make: Callable[[], R]) -> R | None:
    """Build a self-validating record; its problems are reported at the fields they name."""
    try:
        return make()
    except ValidationError as exc:
        for problem in exc.problems:
            name = FILE_NAMES.get(problem.path, problem.path)
            node = e.values.get(name)
            path = child(e.path, name) if node is not None else e.path
            r.report(node if node is not None else r.nodes[e.path], path, problem.message)
        r.broken.add(e.path)
        return None


def _any_broken(r: Reader, e: Entry) -> bool:
    """Whether anything inside the record was found broken (then it is not built at all)."""
    inside = (f"{e.path}.", f"{e.path}[")
    return any(path == e.path or path.startswith(inside) for path in r.broken)


def _thresholds(r: Reader, metric: Entry) -> StaticThresholds | None:
    node = metric.node("thresholds")
    if node is None:
        return None
    e = r.entry(
        node, child(metric.path, "thresholds"), "thresholds", ("direction",), THRESHOLD_OPTIONAL
    )
    if e is None:
        return None
    direction = e.choice("direction", Direction, "direction")
    warning, critical = _level(r, e, "warning", direction), _level(r, e, "critical", direction)
    timing = {name: e.number(name) for name in ("hysteresis", "for", "keep_firing_for")}
    if direction is None or _any_broken(r, e):
        return None
    return _build(
        r,
        e,
        lambda: StaticThresholds(
            direction,
            warning,
            critical,
            timing["hysteresis"] or 0.0,
            timing["for"] or 0.0,
            timing["keep_firing_for"] or 0.0,
        ),
    )


def _level(r: Reader, e: Entry, name: str, direction: Direction | None) -> Level | None:
    node = e.node(name)
    if node is None:
        return None
    path = child(e.path, name)
    if direction is Direction.OUTSIDE:
        return _range(r, node, path)
    if isinstance(node, MappingNode):
        shown = "a direction" if direction is None else f"direction {direction.value}"
        r.fail(node, path, f"expected a number for {shown}; a range {{low, high}} is for outside")
        return None
    return r.number(node, path)


def _range(r: Reader, node: Node, path: str) -> Range | None:
    if not isinstance(node, MappingNode):
        r.fail(node, path, "direction outside takes a range for each level: {low: 10, high: 90}")
        return None
    e = r.entry(node, path, "a range", ("low", "high"))
    if e is None:
        return None
    low, high = e.number("low"), e.number("high")
    if low is None or high is None:
        return None
    if low > high:
        r.fail(node, path, f"low ({format_number(low)}) is above high ({format_number(high)})")
        return None
    return Range(low, high)


def _deviation(r: Reader, metric: Entry) -> DeviationConfig | None:
    node = metric.node("deviation")
    if node is None:
        return None
    e = r.entry(node, child(metric.path, "deviation"), "a deviation band", (), DEVIATION_FIELDS)
    if e is None:
        return None
    values: dict[str, Any] = {}
    for name in DEVIATION_NUMBERS:
        values[name] = e.number(name)
    for name in DEVIATION_INTEGERS:
        values[name] = e.integer(name)
    for name, (enum, what) in DEVIATION_CHOICES.items():
        values[name] = e.choice(name, enum, what)
    if _any_broken(r, e):
        return None
    given = {_ATTRIBUTES.get(k, k): v for k, v in values.items() if v is not None}
    return _build(r, e, lambda: DeviationConfig(**given))
