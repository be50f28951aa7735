"""Where an endpoint stands after its latest check: for ``poll --once``, the CLI and the UI."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from console.core.checks import CheckState
from console.core.clock import isoformat
from console.core.endpoints import Endpoint, ProbeKind
from console.engine.judge import MetricStatus
from console.probes.base import ProbeOutcome, ProbeResult


@dataclass(frozen=True, slots=True)
class CheckReport:
    """One endpoint's latest check and the states of its check and metrics.

    Attributes:
        endpoint: The endpoint's key.
        name: Its name.
        kind: Its probe kind.
        service: The service it belongs to.
        state: The worst latest state of its check and metrics.
        reason: Why, in words (the worst part's reason; the probe's when all is well).
        outcome: The probe's verdict (None when nothing ran: a heartbeat endpoint).
        started_at: When the check started (None when nothing ran).
        duration_s: How long it took (None when nothing ran).
        metrics: Every value the probe measured.
        statuses: The endpoint's check first, then each listed metric.
    """

    endpoint: str
    name: str
    kind: ProbeKind
    service: str
    state: CheckState
    reason: str
    outcome: ProbeOutcome | None
    started_at: datetime | None
    duration_s: float | None
    metrics: Mapping[str, float] = field(default_factory=dict)
    statuses: tuple[MetricStatus, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", MappingProxyType(dict(self.metrics)))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (non-finite values become None)."""
        return {
            "endpoint": self.endpoint,
            "name": self.name,
            "kind": self.kind.value,
            "service": self.service,
            "state": self.state.value,
            "reason": self.reason,
            "outcome": None if self.outcome is None else self.outcome.value,
            "started_at": None if self.started_at is None else isoformat(self.started_at),
            "duration_ms": None if self.duration_s is None else round(self.duration_s * 1000, 3),
            "metrics": {key: _number(value) for key, value in self.metrics.items()},
            "judged": [
                {
                    "metric": status.key,
                    "name": status.name,
                    "state": status.state.value,
                    "state_type": status.state_type.value,
                    "hard_state": status.hard_state.value,
                    "value": _number(status.value),
                    "reason": status.reason,
                }
                for status in self.statuses
            ],
        }


def build_report(
    endpoint: Endpoint, statuses: list[MetricStatus], result: ProbeResult | None
) -> CheckReport:
    """The report of an endpoint from its evaluators' statuses and its latest result."""
    worst_status = max(statuses, key=lambda s: s.state.severity, default=None)
    if worst_status is None:
        state, reason = CheckState.UNKNOWN, "not judged"
    elif worst_status.state is CheckState.OK and result is not None:
        state, reason = CheckState.OK, result.reason
    else:
        state, reason = worst_status.state, worst_status.reason
    return CheckReport(
        endpoint=endpoint.key,
        name=endpoint.name,
        kind=endpoint.kind,
        service=endpoint.service,
        state=state,
        reason=reason,
        outcome=None if result is None else result.ok_state,
        started_at=None if result is None else result.started_at,
        duration_s=None if result is None else result.duration_s,
        metrics={} if result is None else result.metrics,
        statuses=tuple(statuses),
    )


def _number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
