"""The engine against real targets on loopback, with the system clock, for a few seconds.

A real aiohttp server answers healthy, failing and slow; a real TCP listener accepts; a real
Nagios plugin (``check_dummy`` from monitoring-plugins-basic) says CRITICAL; credentials come
from a real Secret Service (gnome-keyring on a private bus) or a private token file. Waits are
short polls of the store with deadlines, never fixed sleeps.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web
from console.core.clock import SystemClock
from console.core.endpoints import HttpTarget, NagiosTarget, TcpTarget
from console.engine.reports import CheckReport
from console.engine.runtime import Engine, poll_once
from console.secrets import Redactor, SecretStore
from console.store import entities
from console.store.db import Store
from console.store.lock import engine_running
from keyring.backends import fail

from tests.services import SecretService
from tests.unit.engine.support import (
    endpoint,
    heartbeat_setting,
    latency_spec,
    open_store,
    sample_times,
    state_events,
    until,
)

CHECK_DUMMY = Path("/usr/lib/nagios/plugins/check_dummy")
TOKEN = "Zq8-heartbeat-and-api-token"


@asynccontextmanager
async def targets() -> AsyncIterator[tuple[str, int]]:
    """An HTTP server (/ok, /fail, /slow, /private) and a TCP listener on 127.0.0.1."""

    async def ok(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def failing(_: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(5)  # the target is slow: far beyond the check's timeout
        return web.Response(text="late")

    async def private(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.Response(status=401, text="who are you")
        return web.Response(text="welcome")

    app = web.Application()
    for path, handler in (("/ok", ok), ("/fail", failing), ("/slow", slow), ("/private", private)):
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    http_port = int(runner.addresses[0][1])

    async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    listener = await asyncio.start_server(accept, "127.0.0.1", 0)
    tcp_port = int(listener.sockets[0].getsockname()[1])
    try:
        yield f"http://127.0.0.1:{http_port}", tcp_port
    finally:
        listener.close()
        await listener.wait_closed()
        await runner.cleanup()


def test_the_engine_polls_judges_records_and_follows_changes(tmp_path: Path) -> None:
    assert CHECK_DUMMY.exists(), "monitoring-plugins-basic is not installed"
    path = tmp_path / "s.db"
    store = open_store(path)
    asyncio.run(_polls_judges_records_and_follows_changes(store, path))
    assert not engine_running(path)


async def _polls_judges_records_and_follows_changes(store: Store, path: Path) -> None:
    async with targets() as (base, tcp_port):
        for e in (
            endpoint("healthy", HttpTarget(f"{base}/ok"), metrics=(latency_spec(),)),
            endpoint("failing", HttpTarget(f"{base}/fail")),
            endpoint("slow", HttpTarget(f"{base}/slow"), timeout_s=1.5),
            endpoint("port", TcpTarget("127.0.0.1", tcp_port)),
            endpoint("plugin", NagiosTarget((str(CHECK_DUMMY), "2", "queue stuck"))),
        ):
            entities.save(store, e)
        engine = Engine(store, SystemClock(), receiver_port=None)
        stop = asyncio.Event()
        running = asyncio.create_task(engine.run(stop))
        await asyncio.wait_for(engine.ready.wait(), 5)
        assert engine_running(path)

        def hard(key: str) -> bool:
            return any(e.payload["type"] == "hard" for e in state_events(store, f"endpoint:{key}"))

        await until(lambda: hard("failing") and hard("plugin") and hard("slow"), "HARD states")

        # Another process (here another connection) adds an endpoint and changes one.
        with Store.open(path) as other:
            entities.save(other, endpoint("late", TcpTarget("127.0.0.1", tcp_port)))
            entities.save(other, endpoint("failing", HttpTarget(f"{base}/ok")))
            took = await until(
                lambda: any(e.key == "late" for e in engine.endpoints()), "the new endpoint"
            )
        assert took < 2.0
        await until(lambda: len(sample_times(store, "late", "up")) >= 2, "samples of 'late'")
        await until(lambda: _recovered(store, "failing"), "the changed endpoint to recover")
        stop.set()
        await running

    healthy = sample_times(store, "healthy", "response_time_ms")
    assert len(healthy) >= 4
    # The slow endpoint's checks ran into their timeout, one after another; the others kept
    # their 1 s interval all along (plus scheduling lag).
    assert max(b - a for a, b in zip(healthy, healthy[1:], strict=False)) < 2.0
    assert len(sample_times(store, "port", "connect_time_ms")) >= 4
    assert len(sample_times(store, "plugin", "state")) >= 3

    failing = [e.payload for e in state_events(store, "endpoint:failing")]
    assert [(p["from"], p["to"], p["type"]) for p in failing[:2]] == [
        ("ok", "critical", "soft"),
        ("ok", "critical", "hard"),
    ]
    assert failing[1]["reason"] == (
        "HTTP 500 Internal Server Error (expected 200-399); 3 checks in a row"
    )
    assert failing[1]["endpoint"] == "failing" and failing[1]["metric"] == "check"
    plugin = [
        e.payload for e in state_events(store, "endpoint:plugin") if e.payload["type"] == "hard"
    ]
    assert (
        plugin[0]["to"] == "critical"
        and plugin[0]["reason"] == "CRITICAL: queue stuck; 3 checks in a row"
    )
    slow = [e.payload for e in state_events(store, "endpoint:slow") if e.payload["type"] == "hard"]
    assert slow[0]["reason"].startswith("timeout after 1.5 s")
    assert not state_events(store, "endpoint:healthy")
    assert not state_events(store, "endpoint:port")
    beat = heartbeat_setting(store)
    assert beat["state"] == "stopped" and beat["pid"] == os.getpid()


def _recovered(store: Store, key: str) -> bool:
    changes = [e.payload for e in state_events(store, f"endpoint:{key}")]
    return bool(changes) and changes[-1]["to"] == "ok" and changes[-1]["type"] == "hard"


def test_a_second_engine_on_the_same_store_is_refused(tmp_path: Path) -> None:
    from console.store.lock import EngineLocked

    path = tmp_path / "s.db"
    store = open_store(path)

    async def scenario() -> None:
        first = Engine(store, SystemClock(), receiver_port=None)
        stop = asyncio.Event()
        running = asyncio.create_task(first.run(stop))
        await asyncio.wait_for(first.ready.wait(), 5)
        with Store.open(path) as other, pytest.raises(EngineLocked, match="already running"):
            await Engine(other, SystemClock(), receiver_port=None).run(asyncio.Event())
        stop.set()
        await running

    asyncio.run(scenario())
    assert not engine_running(path)


def test_credentials_come_from_the_keyring_and_a_missing_one_affects_only_its_endpoint(
    tmp_path: Path, secret_env: SecretService
) -> None:
    secrets = SecretStore(redactor=Redactor())
    secrets.set("shop-token", f"bearer:{TOKEN}")
    path = tmp_path / "s.db"
    store = open_store(path)

    async def scenario() -> list[CheckReport]:
        async with targets() as (base, _):
            private = endpoint("private", HttpTarget(f"{base}/private"))
            return list(
                await poll_once(
                    store,
                    SystemClock(),
                    secrets=secrets,
                    endpoints=[
                        replace(private, credential="shop-token"),
                        replace(private, key="anonymous"),
                        replace(private, key="unknown-secret", credential="no-such-secret"),
                    ],
                )
            )

    by_key = {r.endpoint: r for r in asyncio.run(scenario())}
    assert by_key["private"].state.value == "ok"
    assert by_key["anonymous"].reason.startswith("HTTP 401 Unauthorized")
    unknown = by_key["unknown-secret"]
    assert unknown.state.value == "unknown"
    assert unknown.reason == (
        "credential no-such-secret unavailable: no secret named 'no-such-secret' in the keyring"
    )
    assert sample_times(store, "private", "status_code")
    store.close()  # folds the write-ahead log into the file
    assert TOKEN.encode() not in path.read_bytes()


def test_without_a_keyring_endpoints_needing_a_secret_are_unknown_and_the_others_run(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    store = open_store(path)
    no_keyring = SecretStore(fail.Keyring(), redactor=Redactor())

    async def scenario() -> None:
        async with targets() as (base, tcp_port):
            entities.save(
                store, endpoint("private", HttpTarget(f"{base}/private"), credential="shop-token")
            )
            entities.save(store, endpoint("port", TcpTarget("127.0.0.1", tcp_port)))
            engine = Engine(store, SystemClock(), secrets=no_keyring, receiver_port=None)
            stop = asyncio.Event()
            running = asyncio.create_task(engine.run(stop))
            await until(
                lambda: (
                    {r.endpoint for r in engine.reports() if r.outcome is not None}
                    == {"private", "port"}
                ),
                "both endpoints checked",
            )
            stop.set()
            await running
            reports = {r.endpoint: r for r in engine.reports()}
            assert reports["port"].state.value == "ok"
            assert reports["private"].state.value == "unknown"
            assert reports["private"].reason.startswith(
                "credential shop-token unavailable: no usable keyring"
            )

    asyncio.run(scenario())
