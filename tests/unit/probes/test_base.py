"""The result record and the shared wording of connection failures."""

from __future__ import annotations

import socket
from datetime import datetime

import pytest
from console.core.clock import FakeClock
from console.probes.base import (
    ProbeOutcome,
    ProbeResult,
    Stopwatch,
    connect_failure,
    redact,
    seconds_text,
)


def test_a_result_is_frozen_and_its_mappings_read_only() -> None:
    metrics = {"up": 1.0}
    clock = FakeClock()
    result = ProbeResult(ProbeOutcome.UP, metrics, "fine", clock.now(), 0.1, {"a": "b"})
    metrics["up"] = 0.0
    assert result.metrics == {"up": 1.0}
    with pytest.raises(TypeError):
        result.metrics["up"] = 0.0  # type: ignore[index]
    with pytest.raises(TypeError):
        result.details["a"] = "c"  # type: ignore[index]
    with pytest.raises(AttributeError):
        result.reason = "changed"  # type: ignore[misc]


def test_a_result_needs_an_aware_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ProbeResult(ProbeOutcome.UP, {}, "x", datetime(2026, 1, 1), 0.0)


def test_the_stopwatch_uses_the_injected_clock() -> None:
    clock = FakeClock()
    watch = Stopwatch(clock)
    start = clock.now()
    clock.advance(2.5)
    clock.jump_wall(3600)  # a wall-clock step must not show up as check time
    result = watch.result(ProbeOutcome.DOWN, "slow", {"up": 0.0})
    assert result.started_at == start
    assert result.duration_s == 2.5


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
            "DNS failure: name not found: h",
        ),
        (
            socket.gaierror(socket.EAI_AGAIN, "Temporary failure"),
            "DNS failure for h: Temporary failure",
        ),
        (ConnectionRefusedError(111, "Connection refused"), "connection refused by h:80"),
        (ConnectionResetError(104, "Connection reset"), "connection reset by h:80"),
        (OSError(113, "No route to host"), "cannot connect to h:80: No route to host"),
    ],
)
def test_connect_failures(error: OSError, reason: str) -> None:
    assert connect_failure(error, "h", 80) == reason


def test_redact_and_seconds() -> None:
    assert redact("token abc and abc", ["abc", ""]) == "token *** and ***"
    assert seconds_text(0.5) == "0.5 s" and seconds_text(10.0) == "10 s"
