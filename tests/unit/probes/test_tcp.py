"""The tcp probe against real sockets on loopback."""

from __future__ import annotations

import pytest
from console.core.clock import FakeClock, SystemClock
from console.probes.base import ProbeOutcome
from console.probes.tcp import probe_tcp

from tests.unit.probes.support import run_async


def test_a_listener_is_up(tcp_listener: int) -> None:
    clock = FakeClock()
    result = run_async(probe_tcp("127.0.0.1", tcp_listener, 2, clock))
    assert result.ok_state is ProbeOutcome.UP
    assert result.reason == f"connected to 127.0.0.1:{tcp_listener}"
    assert set(result.metrics) == {"up", "connect_time_ms"}
    assert result.metrics["up"] == 1.0
    assert result.started_at == clock.now()


def test_connect_time_comes_from_the_clock(tcp_listener: int) -> None:
    result = run_async(probe_tcp("localhost", tcp_listener, 2, SystemClock()))
    assert result.ok_state is ProbeOutcome.UP
    assert 0 < result.metrics["connect_time_ms"] <= result.duration_s * 1000 < 2000


def test_a_closed_port_is_refused(closed_port: int) -> None:
    result = run_async(probe_tcp("127.0.0.1", closed_port, 2, FakeClock()))
    assert result.ok_state is ProbeOutcome.DOWN
    assert result.reason == f"connection refused by 127.0.0.1:{closed_port}"
    assert result.metrics == {"up": 0.0}


def test_a_name_that_does_not_exist() -> None:
    result = run_async(probe_tcp("no-such-host.invalid", 22, 5, FakeClock()))
    assert result.ok_state is ProbeOutcome.DOWN
    assert result.reason == "DNS failure: name not found: no-such-host.invalid"


def test_a_connect_that_never_completes_times_out(full_backlog_port: int) -> None:
    result = run_async(probe_tcp("127.0.0.1", full_backlog_port, 0.3, SystemClock()))
    assert result.ok_state is ProbeOutcome.DOWN
    assert result.reason == f"timeout after 0.3 s connecting to 127.0.0.1:{full_backlog_port}"
    assert 0.3 <= result.duration_s < 1.5


@pytest.mark.parametrize(("port", "timeout"), [(0, 1.0), (65536, 1.0), (80, 0.0)])
def test_arguments_no_check_could_use(port: int, timeout: float) -> None:
    with pytest.raises(ValueError):
        run_async(probe_tcp("127.0.0.1", port, timeout, FakeClock()))
