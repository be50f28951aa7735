"""The tcp probe: can a connection be opened, and how long does it take."""

from __future__ import annotations

import asyncio
import contextlib

from console.core.clock import Clock
from console.probes.base import ProbeOutcome, ProbeResult, Stopwatch, connect_failure, seconds_text


async def probe_tcp(host: str, port: int, timeout_s: float, clock: Clock) -> ProbeResult:
    """Open a TCP connection to host:port and close it again.

    Args:
        host: A name or an address.
        port: 1 to 65535.
        timeout_s: The whole check's deadline (name lookup included).
        clock: Times the check (``started_at``, ``duration_s``, ``connect_time_ms``).

    Returns:
        UP with metrics ``up`` = 1 and ``connect_time_ms``; DOWN with ``up`` = 0 and the reason
        (refused, name not found, timeout) when no connection could be made.

    Raises:
        ValueError: For a port or timeout that no check could use (a caller's bug).
    """
    if not 0 < port < 65536:
        raise ValueError(f"port {port} is not between 1 and 65535")
    if timeout_s <= 0:
        raise ValueError("timeout_s must be positive")
    watch = Stopwatch(clock)
    try:
        async with asyncio.timeout(timeout_s):
            _, writer = await asyncio.open_connection(host, port)
    except TimeoutError:
        reason = f"timeout after {seconds_text(timeout_s)} connecting to {host}:{port}"
        return watch.result(ProbeOutcome.DOWN, reason, {"up": 0.0})
    except OSError as exc:
        return watch.result(ProbeOutcome.DOWN, connect_failure(exc, host, port), {"up": 0.0})
    connect_ms = watch.elapsed_s() * 1000
    writer.close()
    # The connection was made: a failure while closing it says nothing about the target.
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    metrics = {"up": 1.0, "connect_time_ms": connect_ms}
    return watch.result(ProbeOutcome.UP, f"connected to {host}:{port}", metrics)
