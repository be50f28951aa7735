"""The engine inside the app: started when none runs, a headless one used instead, stopped on close.

Real parts only: a real aiohttp target on loopback (on its own thread), the real headless
``oncall-console engine`` as a subprocess, the real simulated estate with --demo, real lock
files and stores. Waits are ``qtbot.waitUntil`` on what the store and the window show.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from console.config.demo import demo_estate
from console.core.clock import FakeClock, SystemClock, isoformat
from console.core.endpoints import HttpTarget
from console.core.events import EventType
from console.engine.runtime import HEARTBEAT_SETTING
from console.store import entities, estate, events
from console.store.db import Store
from console.store.entities import import_estate
from console.store.lock import EngineLock, Holder, engine_running, lock_path, read_holder
from console.ui.application import Console, application
from console.ui.engine_host import (
    Beat,
    EngineHost,
    EngineState,
    HostState,
    describe,
    parse_beat,
)
from pytestqt.qtbot import QtBot

from tests.unit.engine.support import endpoint, open_store, sample_values

pytestmark = pytest.mark.gui

WAIT_MS = 20_000


class Target:
    """An aiohttp server on 127.0.0.1 answering ``/ok``, on a thread with its own loop."""

    def __init__(self) -> None:
        self.port = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="target", daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the target server did not start"

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        async def ok(_: web.Request) -> web.Response:
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_get("/ok", ok)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self.port = int(runner.addresses[0][1])
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    @property
    def url(self) -> str:
        """The healthy page."""
        return f"http://127.0.0.1:{self.port}/ok"

    def close(self) -> None:
        """Stop serving."""
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture
def target() -> Iterator[Target]:
    """A healthy HTTP target on loopback."""
    server = Target()
    yield server
    server.close()


def _console(qtbot: QtBot, store: Store, host: EngineHost | None) -> Console:
    con = Console(store, application(), host)
    con.window.resize(1400, 900)
    con.window.show()
    with qtbot.waitSignal(con.ready, timeout=10_000):
        con.start()
    return con


def _no_keyring() -> None:
    return None


def test_the_app_runs_its_own_engine_when_none_runs_and_stops_it_on_close(
    qtbot: QtBot, tmp_path: Path, target: Target
) -> None:
    path = tmp_path / "s.db"
    with open_store(path) as setup:
        entities.save(setup, endpoint("shop", HttpTarget(target.url)))
    store = Store.open(path)
    host = EngineHost(store, receiver_port=0, secrets=_no_keyring)
    con = _console(qtbot, store, host)
    try:
        label = con.window.engine_label
        qtbot.waitUntil(lambda: host.state is HostState.RUNNING, timeout=WAIT_MS)
        holder = read_holder(path)
        assert engine_running(path) and holder is not None and holder.pid == os.getpid()
        assert host.alive and host.note is None
        reloads: list[None] = []
        con.estate.changed.connect(lambda: reloads.append(None))
        with Store.open(path) as other:

            def samples_at_least(count: int) -> None:
                qtbot.waitUntil(
                    lambda: len(sample_values(other, "shop", "up")) >= count, timeout=WAIT_MS
                )

            samples_at_least(3)
            assert set(sample_values(other, "shop", "up")) == {1.0}
            # The engine commits every second; the estate (no new events) is not reloaded.
            before = len(reloads)
            samples_at_least(len(sample_values(other, "shop", "up")) + 3)
            assert len(reloads) == before, "the estate was reloaded for sample writes"
        qtbot.waitUntil(lambda: label.text() == "Engine: running here", timeout=WAIT_MS)
        assert "inside this window" in label.toolTip()
    finally:
        con.close()
    engines = [t for t in threading.enumerate() if t.name == "engine"]
    assert not engines, "the engine thread is still running after close"
    assert host.state is HostState.STOPPED
    assert not engine_running(path), "the engine lock was not released"
    with Store.open(path) as after:
        beat = parse_beat(after.setting(HEARTBEAT_SETTING))
        assert beat is not None and beat.state == "stopped" and beat.pid == os.getpid()
        kinds = [e.type for e in events.iter_events(after.read(), subject=None)]
        assert kinds.count(EventType.ENGINE_STARTED) == 1
        assert kinds.count(EventType.ENGINE_STOPPED) == 1


def test_the_app_uses_a_running_headless_engine_and_takes_over_when_it_stops(
    qtbot: QtBot, tmp_path: Path, target: Target
) -> None:
    path = tmp_path / "s.db"
    with open_store(path) as setup:
        entities.save(setup, endpoint("shop", HttpTarget(target.url)))
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    headless = subprocess.Popen(
        [sys.executable, "-m", "console", "--db", str(path), "engine", "--port", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        qtbot.waitUntil(lambda: engine_running(path), timeout=WAIT_MS)
        store = Store.open(path)
        host = EngineHost(store, receiver_port=0, secrets=_no_keyring)
        con = _console(qtbot, store, host)
        try:
            label = con.window.engine_label
            qtbot.waitUntil(lambda: host.state is HostState.DEFERRED, timeout=WAIT_MS)
            holder = read_holder(path)
            assert holder is not None and holder.pid == headless.pid
            expected = f"Engine: running (pid {headless.pid})"
            qtbot.waitUntil(lambda: label.text() == expected, timeout=WAIT_MS)
            # The headless engine does the monitoring.
            with Store.open(path) as other:
                qtbot.waitUntil(lambda: bool(sample_values(other, "shop", "up")), timeout=WAIT_MS)

            assert host.state is HostState.DEFERRED, "the app started a second engine"

            # The headless engine stops: the app's own engine takes the store over.
            headless.send_signal(signal.SIGTERM)
            assert headless.wait(20) == 0
            qtbot.waitUntil(lambda: host.state is HostState.RUNNING, timeout=WAIT_MS)
            qtbot.waitUntil(lambda: label.text() == "Engine: running here", timeout=WAIT_MS)
            holder = read_holder(path)
            assert holder is not None and holder.pid == os.getpid()
        finally:
            con.close()
    finally:
        if headless.poll() is None:
            headless.kill()
            headless.wait(10)
        assert headless.stderr is not None
        headless.stderr.close()
    assert not engine_running(path)


def test_a_silent_engine_shows_as_not_responding(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    clock = FakeClock(SystemClock().now())
    store = Store.open(path, clock)
    stuck = EngineLock(path)
    stuck.acquire(clock)  # another engine holds the lock, but its beats stopped 40 s ago
    try:
        beat = {"pid": os.getpid(), "beat": isoformat(clock.now() - timedelta(seconds=40))}
        store.set_setting(HEARTBEAT_SETTING, json.dumps({**beat, "state": "running"}))
        con = _console(qtbot, store, None)
        try:
            label = con.window.engine_label
            expected = "Engine: not responding (last beat 40 s ago)"
            qtbot.waitUntil(lambda: label.text() == expected, timeout=WAIT_MS)
        finally:
            con.close()
    finally:
        stuck.release()


def test_with_demo_the_app_serves_the_simulated_estate_to_its_engine(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = tmp_path / "demo.db"
    store = Store.open(path)
    import_estate(store, demo_estate(), prune=False, source="demo")
    host = EngineHost(store, demo=True, receiver_port=0, secrets=_no_keyring)
    con = _console(qtbot, store, host)
    try:
        qtbot.waitUntil(lambda: host.state is HostState.RUNNING, timeout=WAIT_MS)
        base = host.simulator_url
        assert base is not None and base.startswith("http://127.0.0.1:")
        with Store.open(path) as other:
            aimed = {
                e.key: e.target.url
                for e in estate.endpoints(other.read())
                if isinstance(e.target, HttpTarget)
            }
            assert aimed["payments-api-health"] == f"{base}/health/payments-api"
            with urllib.request.urlopen(f"{base}/health/payments-api", timeout=5) as answer:
                assert json.load(answer)["service"] == "payments-api"
            # Demo endpoints are polled within their first interval's spread (10 s at most).
            qtbot.waitUntil(
                lambda: any(sample_values(other, key, "up") for key in aimed), timeout=WAIT_MS
            )
    finally:
        con.close()
    assert not engine_running(path)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{base}/metrics", timeout=5)


def test_a_screenshot_starts_no_lingering_engine(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    out = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_DATA_HOME": str(tmp_path / "d")}
    command = [sys.executable, "-m", "console", "--db", str(path), "--demo"]
    began = time.monotonic()
    done = subprocess.run(
        [*command, "--screenshot", str(out), "--page", "Teams"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    took = time.monotonic() - began
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 10_000
    assert lock_path(path).exists(), "the app did not try to start its engine"
    assert not engine_running(path)
    assert took < 60, f"the screenshot took {took:.0f} s"


def test_a_taken_receiver_port_leaves_the_engine_running_without_it(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = tmp_path / "s.db"
    store = open_store(path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        host = EngineHost(store, receiver_port=port, secrets=_no_keyring)
        host.start()
        try:
            qtbot.waitUntil(lambda: host.state is HostState.RUNNING, timeout=WAIT_MS)
            assert host.note is not None and f"port {port} is taken" in host.note
            assert host.receiver_url is None
            status = describe(host.state, host.note, True, None, None, store.clock.now())
            assert status.text == "Engine: running here" and "is taken" in status.tooltip
        finally:
            assert host.stop()
    assert not engine_running(path)
    store.close()


def test_describe_says_where_the_engine_stands() -> None:
    now = SystemClock().now()
    fresh = Beat(4321, "box", now - timedelta(seconds=3), "running", "http://127.0.0.1:8765")
    old = Beat(4321, "box", now - timedelta(seconds=95), "running", None)
    gone = Beat(4321, "box", now - timedelta(minutes=5), "stopped", None)
    holder = _holder(4321, now - timedelta(minutes=10))
    assert describe(None, None, True, holder, fresh, now).text == "Engine: running (pid 4321)"
    assert describe(None, None, True, holder, old, now).text == (
        "Engine: not responding (last beat 95 s ago)"
    )
    stopped = describe(None, None, False, None, gone, now)
    assert stopped.state is EngineState.STOPPED and "stopped 5 min ago" in stopped.tooltip
    crashed = describe(None, None, False, None, old, now)
    assert crashed.text == "Engine: stopped" and "last beat 95 s ago" in crashed.tooltip
    assert describe(None, None, False, None, None, now).text == "Engine: stopped"
    assert describe(HostState.RUNNING, None, True, None, None, now).text == "Engine: running here"
    assert describe(HostState.STARTING, None, False, None, None, now).state is EngineState.STARTING
    failed = describe(HostState.FAILED, "the engine failed: boom", False, None, None, now)
    assert failed.text == "Engine: failed" and "boom" in failed.tooltip
    # A holder that has not beaten yet is starting, until it has been silent too long.
    new_holder = _holder(99, now - timedelta(seconds=2))
    assert describe(None, None, True, new_holder, gone, now).text == "Engine: running (pid 99)"
    assert describe(None, None, True, holder, gone, now).state is EngineState.NOT_RESPONDING
    assert parse_beat("not json") is None and parse_beat(None) is None
    assert parse_beat('{"pid": 7, "beat": "garbage"}') == Beat(7, None, None, None, None)


def _holder(pid: int, since: datetime) -> Holder:
    """A lock holder as the lock file names it."""
    return Holder(pid, "box", isoformat(since))
