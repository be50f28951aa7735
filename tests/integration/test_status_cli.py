"""``oncall-console status`` beside a running engine: real targets, real store, real processes.

The engine polls a real aiohttp server (one path healthy, one failing) and a real TCP
listener with the system clock; while it runs, the command is run as a user runs it, in its
own process, and what it prints is checked against what the engine stored.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from console.core.clock import SystemClock, parse_iso
from console.core.endpoints import HeartbeatTarget, HttpTarget, TcpTarget
from console.core.enums import ImpactTier
from console.core.models import Service
from console.engine.runtime import Engine
from console.store import entities
from console.store.db import Store

from tests.unit.engine.support import (
    endpoint,
    latency_spec,
    open_store,
    sample_values,
    state_events,
    until,
)
from tests.unit.store.conftest import child_env


@asynccontextmanager
async def targets() -> AsyncIterator[tuple[str, int]]:
    """An HTTP server (/ok answers, /fail says 500) and a TCP listener, on 127.0.0.1."""

    async def ok(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def failing(_: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/fail", failing)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()

    async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    listener = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", listener.sockets[0].getsockname()[1]
    finally:
        listener.close()
        await listener.wait_closed()
        await runner.cleanup()


async def status_command(path: Path, *args: str) -> tuple[int, str, str]:
    """Run ``oncall-console --db PATH status ARGS`` in its own process (the loop keeps going)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "console",
        "--db",
        str(path),
        "status",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=child_env(),
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def test_status_prints_what_the_running_engine_judged(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = open_store(path)
    entities.save(store, Service("quiet", "Quiet service", "ops", ImpactTier(4)))
    shown = asyncio.run(_beside_a_running_engine(store, path))
    store.close()

    by_endpoint = {(s["endpoint"], s["metric_key"]): s for s in shown["all"]}
    failing = by_endpoint[("failing", None)]
    assert (failing["state"], failing["state_type"], failing["shown"]) == (
        "critical", "hard", "critical"
    )  # fmt: skip
    assert failing["reason"] == (
        "HTTP 500 Internal Server Error (expected 200-399); 3 checks in a row"
    )
    first_failure = shown["first_failure"]
    assert parse_iso(failing["since"]) == first_failure
    assert parse_iso(failing["last_check"]) > first_failure + timedelta(seconds=3.5)
    assert not failing["stale"] and failing["data_age_s"] < 3 * failing["interval_s"]

    latency = by_endpoint[("healthy", "response_time_ms")]
    assert (latency["state"], latency["shown"], latency["unit"]) == ("ok", "ok", "ms")
    assert latency["value"] in shown["latencies"]  # a sample the engine stored
    assert latency["critical"] == 1000.0 and latency["since"] is not None
    assert by_endpoint[("port", None)]["shown"] == "ok"
    beat = by_endpoint[("beat", None)]  # no heartbeat ever came
    assert (beat["shown"], beat["last_check"], beat["since"]) == ("stale", None, None)
    # Worst first: the CRITICAL check leads, the never-heard heartbeat comes after the bad ones.
    assert shown["all"][0]["endpoint"] == "failing"
    assert [s["shown"] for s in shown["all"]][-1] == "ok"

    assert [(s["endpoint"], s["shown"]) for s in shown["critical"]] == [("failing", "critical")]
    table = shown["table"].splitlines()
    assert table[0].split()[:4] == ["STATE", "SERVICE", "ENDPOINT", "METRIC"]
    assert table[1].split()[:4] == ["CRITICAL", "web", "failing", "check"]
    assert any(line.split()[:3] == ["STALE", "web", "beat"] for line in table)
    assert shown["bad_service"][0] == 2 and "no service 'nowhere'" in shown["bad_service"][1]


async def _beside_a_running_engine(store: Store, path: Path) -> dict[str, Any]:
    async with targets() as (base, tcp_port):
        # 2 s apart: data is STALE after 6 s, far beyond a busy engine's lag and batching.
        for e in (
            endpoint("healthy", HttpTarget(f"{base}/ok"), metrics=(latency_spec(),)),
            endpoint("failing", HttpTarget(f"{base}/fail")),
            endpoint("port", TcpTarget("127.0.0.1", tcp_port)),
            endpoint("beat", HeartbeatTarget(60.0)),
        ):
            entities.save(store, replace(e, interval_s=2.0))
        engine = Engine(store, SystemClock(), receiver_port=None)
        stop = asyncio.Event()
        running = asyncio.create_task(engine.run(stop))
        try:
            await asyncio.wait_for(engine.ready.wait(), 5)

            def confirmed() -> bool:
                changes = state_events(store, "endpoint:failing")
                return any(e.payload["type"] == "hard" for e in changes)

            await until(confirmed, "the failing endpoint's HARD state", timeout=30.0)
            await until(lambda: len(sample_values(store, "healthy", "up")) >= 3, "samples")
            results: dict[str, Any] = {}
            for name, args in (("all", ()), ("critical", ("--state", "critical"))):
                code, out, err = await status_command(path, "--json", *args)
                assert code == 0, err
                results[name] = json.loads(out)
            code, results["table"], _ = await status_command(path, "--service", "web")
            assert code == 0
            code, _, err = await status_command(path, "--service", "nowhere")
            results["bad_service"] = (code, err)
        finally:
            stop.set()
            await running
    first = state_events(store, "endpoint:failing")[0]
    results["first_failure"] = parse_iso(first.payload["at"])
    results["latencies"] = sample_values(store, "healthy", "response_time_ms")
    return results
