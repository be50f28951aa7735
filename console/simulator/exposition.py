"""The Prometheus text exposition format (version 0.0.4) of the simulated estate's metrics."""

from __future__ import annotations

import math
from collections.abc import Mapping

from console.simulator.catalogue import REQUESTS_TOTAL, Metric, SeriesKey
from console.simulator.model import EstateModel

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_REQUESTS_HELP = "Requests the service has served since it started."


def escape_label(value: str) -> str:
    """A label value as the text format quotes it: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    """A sample value: shortest round-tripping decimal, or NaN / +Inf / -Inf."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _sample(name: str, labels: Mapping[str, str], value: float) -> str:
    inner = ",".join(f'{key}="{escape_label(text)}"' for key, text in labels.items())
    return f"{name}{{{inner}}} {format_value(value)}" if inner else f"{name} {format_value(value)}"


def render(gauges: Mapping[SeriesKey, float], requests: Mapping[str, float]) -> str:
    """The exposition page: one gauge family per metric, then the requests counter.

    Args:
        gauges: Series and their current values; families appear in Metric order.
        requests: Service id -> requests served so far (the ``demo_requests_total`` counter).
    """
    lines: list[str] = []
    for metric in Metric:
        samples = [(key, value) for key, value in gauges.items() if key.metric is metric]
        if not samples:
            continue
        lines.append(f"# HELP {metric.value} {_escape_help(metric.help)}")
        lines.append(f"# TYPE {metric.value} gauge")
        lines.extend(_sample(metric.value, key.labels, value) for key, value in samples)
    if requests:
        lines.append(f"# HELP {REQUESTS_TOTAL} {_REQUESTS_HELP}")
        lines.append(f"# TYPE {REQUESTS_TOTAL} counter")
        lines.extend(
            _sample(REQUESTS_TOTAL, {"service": service}, total)
            for service, total in requests.items()
        )
    return "\n".join(lines) + "\n"


def page(model: EstateModel, t: float) -> str:
    """The whole /metrics page of the model at Unix time t."""
    requests = {service: model.requests_total(service, t) for service in model.services()}
    return render(model.snapshot(t), requests)
