"""What every probe returns, and the wording of failures that several probes share."""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from types import MappingProxyType

from console.core.clock import Clock

# getaddrinfo's "this name has no address" answers, as opposed to a resolver that failed.
_NAME_NOT_FOUND = {
    getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, name)
}


class ProbeOutcome(Enum):
    """A probe's verdict on its target.

    UP: the target answered as expected. DOWN: the target failed (unreachable, timed out,
    refused, an unexpected status, a CRITICAL plugin). UNKNOWN: the probe could not judge
    (the answer could not be read, a plugin failed to run or said UNKNOWN).
    """

    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The outcome of one check.

    Attributes:
        ok_state: The verdict.
        metrics: Measured values by name (e.g. ``up``, ``response_time_ms``).
        reason: One line for people: why the verdict is what it is. Never holds secrets.
        started_at: Wall-clock time the check started (UTC).
        duration_s: How long the check took, by the injected clock's monotonic time.
        details: Extra facts as text (final URL, exit code, notes).
    """

    ok_state: ProbeOutcome
    metrics: Mapping[str, float]
    reason: str
    started_at: datetime
    duration_s: float
    details: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.started_at.tzinfo is None:
            raise ValueError("started_at must be timezone-aware")
        # Read-only copies: a result is a fact, and callers keep it around.
        object.__setattr__(self, "metrics", MappingProxyType(dict(self.metrics)))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))


class Stopwatch:
    """Times one check with the injected clock and builds its result."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.started_at = clock.now()
        self._start = clock.monotonic()

    def elapsed_s(self) -> float:
        """Seconds since the check started."""
        return max(0.0, self._clock.monotonic() - self._start)

    def result(
        self,
        outcome: ProbeOutcome,
        reason: str,
        metrics: Mapping[str, float],
        details: Mapping[str, str] | None = None,
    ) -> ProbeResult:
        """The finished check's result, with the time taken so far."""
        return ProbeResult(
            outcome, metrics, reason, self.started_at, self.elapsed_s(), details or {}
        )


def seconds_text(seconds: float) -> str:
    """A duration as people write it in a reason: ``0.5 s``, ``10 s``."""
    return f"{seconds:g} s"


def connect_failure(exc: OSError, host: str, port: int | None) -> str:
    """Describe why a connection to host:port could not be made."""
    where = host if port is None else f"{host}:{port}"
    if isinstance(exc, socket.gaierror):
        if exc.errno in _NAME_NOT_FOUND:
            return f"DNS failure: name not found: {host}"
        return f"DNS failure for {host}: {exc.strerror or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {where}"
    if isinstance(exc, ConnectionResetError):
        return f"connection reset by {where}"
    return f"cannot connect to {where}: {exc.strerror or exc}"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret value in text by ``***`` (a guard for third-party messages)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
