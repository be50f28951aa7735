"""Heartbeats over real HTTP to the engine's receiver: auth, limits and silence."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from console.core.clock import SystemClock
from console.core.endpoints import HeartbeatTarget, TcpTarget
from console.engine.receiver import DEFAULT_RECEIVER_HOST, MAX_BODY_BYTES
from console.engine.runtime import Engine
from console.secrets import Redactor, SecretStore
from console.store import entities
from console.store.db import Store
from keyring.backends import fail

from tests.unit.engine.support import (
    endpoint,
    open_store,
    sample_values,
    state_events,
    until,
)

TOKEN = "hb-7f3c9e-private"


def _token_file(tmp_path: Path) -> Path:
    path = tmp_path / "cron.token"
    path.write_text(TOKEN + "\n")
    os.chmod(path, 0o600)
    return path


def _save_endpoints(store: Store, token_file: Path) -> None:
    cred = f"file:{token_file}"
    for e in (
        endpoint("nightly", HeartbeatTarget(600), interval_s=60, credential=cred),
        endpoint("quiet", HeartbeatTarget(1), credential=cred),
        endpoint("open", HeartbeatTarget(600), interval_s=60),
        endpoint("vaulted", HeartbeatTarget(600), interval_s=60, credential="cron-token"),
        endpoint("port", TcpTarget("127.0.0.1", 9), interval_s=60),
    ):
        entities.save(store, e)


async def _running(store: Store) -> AsyncIterator[tuple[Engine, str]]:
    no_keyring = SecretStore(fail.Keyring(), redactor=Redactor())
    engine = Engine(store, SystemClock(), secrets=no_keyring, receiver_port=0)
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    await asyncio.wait_for(engine.ready.wait(), 5)
    assert engine.receiver_url is not None
    try:
        yield engine, engine.receiver_url
    finally:
        stop.set()
        await task


def test_heartbeat_answers_for_each_kind_of_caller(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    _save_endpoints(store, _token_file(tmp_path))
    good = {"Authorization": f"Bearer {TOKEN}"}

    async def scenario() -> dict[str, tuple[int, str]]:
        answers: dict[str, tuple[int, str]] = {}
        async for _, url in _running(store):
            assert url.startswith(f"http://{DEFAULT_RECEIVER_HOST}:")
            async with aiohttp.ClientSession() as http:

                async def post(name: str, path: str, base: str = url, **kw: object) -> None:
                    async with http.post(f"{base}{path}", **kw) as resp:  # type: ignore[arg-type]
                        answers[name] = (resp.status, (await resp.text()).strip())

                await post("right", "/heartbeat/nightly", headers=good)
                await post("right-with-body", "/heartbeat/nightly", headers=good, data=b"done")
                await post("wrong", "/heartbeat/nightly", headers={"Authorization": "Bearer no"})
                await post("missing", "/heartbeat/nightly")
                await post("basic", "/heartbeat/nightly", headers={"Authorization": "Basic eDp5"})
                await post("unknown", "/heartbeat/no-such-endpoint", headers=good)
                await post("not-a-heartbeat", "/heartbeat/port", headers=good)
                await post("no-credential", "/heartbeat/open", headers=good)
                await post("no-keyring", "/heartbeat/vaulted", headers=good)
                big = b"x" * (MAX_BODY_BYTES + 1)
                await post("huge", "/heartbeat/nightly", headers=good, data=big)

                async def chunks() -> AsyncIterator[bytes]:
                    for _ in range(3):
                        yield b"y" * MAX_BODY_BYTES

                await post("huge-chunked", "/heartbeat/nightly", headers=good, data=chunks())
                async with http.get(f"{url}/heartbeat/nightly", headers=good) as resp:
                    answers["get"] = (resp.status, "")
        return answers

    answers = asyncio.run(scenario())
    assert answers == {
        "right": (204, ""),
        "right-with-body": (204, ""),
        "wrong": (403, "wrong token"),
        "missing": (401, "bearer token required"),
        "basic": (401, "bearer token required"),
        "unknown": (404, "no such heartbeat endpoint"),
        "not-a-heartbeat": (404, "no such heartbeat endpoint"),
        "no-credential": (403, "this endpoint has no credential; heartbeats need one"),
        "no-keyring": (503, "the endpoint's credential cannot be read now"),
        "huge": (413, "body over the 64 KiB limit"),
        "huge-chunked": (413, "body over the 64 KiB limit"),
        "get": (405, ""),
    }
    # Only accepted heartbeats were recorded (two in the same millisecond are one sample).
    assert sample_values(store, "nightly", "heartbeat") in ([1.0], [1.0, 1.0])
    for refused in ("open", "vaulted", "port", "quiet"):
        assert sample_values(store, refused, "heartbeat") == []


def test_silence_beyond_the_grace_is_critical_and_a_heartbeat_recovers(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    _save_endpoints(store, _token_file(tmp_path))

    def changes() -> list[tuple[str, str, str]]:
        return [
            (e.payload["to"], e.payload["type"], e.payload["reason"])
            for e in state_events(store, "endpoint:quiet")
        ]

    async def scenario() -> None:
        async for _, url in _running(store):
            await until(lambda: len(changes()) >= 1, "the silent heartbeat to turn CRITICAL")
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"{url}/heartbeat/quiet", headers={"Authorization": f"Bearer {TOKEN}"}
                ) as resp,
            ):
                assert resp.status == 204
            # With a 1 s grace it soon turns CRITICAL again: only the first two matter.
            await until(lambda: len(changes()) >= 2, "the heartbeat to recover")

    asyncio.run(scenario())
    (to, kind, reason), recovered = changes()[:2]
    assert (to, kind) == ("critical", "hard")
    assert re.fullmatch(r"no heartbeat for [0-9.]+ s \(grace 1 s\)", reason), reason
    assert recovered == ("ok", "hard", "heartbeat received")
    assert TOKEN not in "".join(str(e.payload) for e in state_events(store))


class _NoHeartbeats:
    def heartbeat_endpoint(self, key: str) -> None:
        return None

    async def heartbeat_token(self, endpoint: object) -> str | None:
        raise AssertionError("not asked")

    def record_heartbeat(self, key: str) -> None:
        raise AssertionError("not asked")


def test_later_routes_plug_in_with_a_receiver_wide_token() -> None:
    from aiohttp import web
    from console.engine.receiver import Receiver, Route, authorize

    received: list[bytes] = []

    async def alert(request: web.Request) -> web.StreamResponse:
        refused = authorize(request, "receiver-token")
        if refused is not None:
            return refused
        received.append(await request.read())
        return web.Response(status=202)

    async def scenario() -> list[int]:
        receiver = Receiver(_NoHeartbeats(), port=0, routes=[Route("POST", "/alerts", alert)])
        await receiver.start()
        statuses = []
        try:
            async with aiohttp.ClientSession() as http:
                for token in ("receiver-token", "wrong", None):
                    headers = {"Authorization": f"Bearer {token}"} if token else {}
                    async with http.post(
                        f"{receiver.url}/alerts", headers=headers, data=b"{}"
                    ) as resp:
                        statuses.append(resp.status)
                async with http.post(f"{receiver.url}/heartbeat/x") as resp:
                    statuses.append(resp.status)
        finally:
            await receiver.stop()
        return statuses

    assert asyncio.run(scenario()) == [202, 403, 401, 404]
    assert received == [b"{}"]
