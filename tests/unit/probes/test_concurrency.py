"""One slow target must not delay the others: probes share one loop and one session."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import aiohttp
from console.core.clock import SystemClock
from console.probes.base import ProbeOutcome, ProbeResult
from console.probes.http import HttpProbeConfig, probe_http
from console.probes.nagios import NagiosProbeConfig, probe_nagios
from console.probes.tcp import probe_tcp

from tests.unit.probes.support import LiveServer, process_alive, run_async, with_session

CLOCK = SystemClock()
HANG_TIMEOUT_S = 2.0


def test_twenty_probes_where_one_hangs(http_server: LiveServer, tcp_listener: int) -> None:
    async def scenario(
        session: aiohttp.ClientSession,
    ) -> tuple[list[ProbeResult], ProbeResult, float, bool]:
        hanging = asyncio.create_task(
            probe_http(
                session, HttpProbeConfig(http_server.url("/hang"), timeout_s=HANG_TIMEOUT_S), CLOCK
            )
        )
        others = [
            *(
                probe_http(session, HttpProbeConfig(http_server.url("/ok"), keyword="hello"), CLOCK)
                for _ in range(12)
            ),
            *(probe_tcp("127.0.0.1", tcp_listener, 2, CLOCK) for _ in range(4)),
            *(
                probe_nagios(
                    NagiosProbeConfig(["/usr/lib/nagios/plugins/check_dummy", "0", "fine"]), CLOCK
                )
                for _ in range(3)
            ),
        ]
        start = time.monotonic()
        done = await asyncio.gather(*others)
        elapsed = time.monotonic() - start
        still_hanging = not hanging.done()
        return done, await hanging, elapsed, still_hanging

    done, hung, elapsed, still_hanging = with_session(scenario)
    assert len(done) == 19
    assert all(result.ok_state is ProbeOutcome.UP for result in done), [r.reason for r in done]
    # The 19 finished while the hanging check was still waiting for its deadline.
    assert still_hanging
    assert elapsed < HANG_TIMEOUT_S
    assert max(result.duration_s for result in done) < HANG_TIMEOUT_S
    assert hung.reason == f"timeout after {HANG_TIMEOUT_S:g} s"
    assert hung.duration_s >= HANG_TIMEOUT_S


def test_a_hanging_plugin_does_not_delay_http_checks(
    http_server: LiveServer, tmp_path: Path
) -> None:
    hang = tmp_path / "check_hang"
    hang.write_text("#!/bin/sh\nsleep 60\n", encoding="utf-8")
    hang.chmod(0o755)

    async def scenario(session: aiohttp.ClientSession) -> tuple[ProbeResult, list[ProbeResult]]:
        plugin = asyncio.create_task(
            probe_nagios(NagiosProbeConfig([str(hang)], timeout_s=HANG_TIMEOUT_S), CLOCK)
        )
        checks = await asyncio.gather(
            *(
                probe_http(session, HttpProbeConfig(http_server.url("/ok")), CLOCK)
                for _ in range(19)
            )
        )
        assert not plugin.done()
        return await plugin, checks

    plugin, checks = with_session(scenario)
    assert plugin.reason == f"plugin timed out after {HANG_TIMEOUT_S:g} s"
    assert all(check.ok_state is ProbeOutcome.UP for check in checks)
    assert max(check.duration_s for check in checks) < HANG_TIMEOUT_S


def test_a_cancelled_plugin_check_kills_the_plugin(tmp_path: Path) -> None:
    started = tmp_path / "started"
    os.mkfifo(started)
    hang = tmp_path / "check_hang"
    hang.write_text(f"#!/bin/sh\necho $$ > {started}\nexec sleep 60\n", encoding="utf-8")
    hang.chmod(0o755)

    async def scenario() -> int:
        task = asyncio.create_task(probe_nagios(NagiosProbeConfig([str(hang)]), CLOCK))
        # Opening a FIFO for reading blocks until the plugin opens it to write its pid.
        pid = int(await asyncio.get_running_loop().run_in_executor(None, started.read_text))
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return pid
        raise AssertionError("the cancelled check finished instead")

    pid = run_async(scenario())
    assert not process_alive(pid)
