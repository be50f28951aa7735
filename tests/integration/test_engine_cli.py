"""``engine``, ``poll --once`` and ``demo serve`` as a user runs them: real processes, signals."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from console.cli import cmd_engine
from console.core.endpoints import TcpTarget
from console.engine.receiver import DEFAULT_RECEIVER_PORT
from console.simulator.server import DEFAULT_PORT as SIMULATOR_DEFAULT_PORT
from console.store import entities
from console.store.db import Store
from console.store.lock import engine_running

from tests.unit.engine.support import endpoint, open_store, sample_times

READY = re.compile(r"engine running on .*: (\d+) endpoints, receiver (\S+)")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment whose per-user folders live in the test's own folder."""
    out = dict(os.environ)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        out[var] = str(tmp_path / var.lower())
    return out


class Running:
    """A console process whose stderr lines are collected as they come."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "console", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.proc.stderr is not None
        threading.Thread(target=self._pump, args=(self.proc.stderr,), daemon=True).start()

    def _pump(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.put(line)

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 30.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None and self.lines.empty():
                raise AssertionError(f"no line like {pattern.pattern!r}; saw {self.seen}")
            try:
                line = self.lines.get(timeout=min(left, 0.2))
            except queue.Empty:
                continue
            self.seen.append(line)
            found = pattern.search(line)
            if found is not None:
                return found

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.proc.send_signal(signum)
        return self.proc.wait(timeout=30)


@contextmanager
def running(env: dict[str, str], *args: str) -> Iterator[Running]:
    proc = Running(env, *args)
    try:
        yield proc
    finally:
        if proc.proc.poll() is None:
            proc.proc.kill()
            proc.proc.wait()
        for stream in (proc.proc.stdout, proc.proc.stderr):
            if stream is not None:
                stream.close()


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_documented_defaults_match_the_code() -> None:
    assert cmd_engine.RECEIVER_PORT == DEFAULT_RECEIVER_PORT == 8765
    assert cmd_engine.SIMULATOR_PORT == SIMULATOR_DEFAULT_PORT


def test_engine_runs_until_sigterm_refuses_a_second_one_and_releases_the_lock(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "s.db"
    with open_store(path) as store:
        entities.save(store, endpoint("port", TcpTarget("127.0.0.1", 9)))
    with running(env, "--db", str(path), "engine", "--port", "0") as first:
        ready = first.wait_for(READY)
        assert ready[1] == "1" and ready[2].startswith("http://127.0.0.1:")
        assert engine_running(path)
        second = run(env, "--db", str(path), "engine", "--port", "0")
        assert second.returncode == 3, second.stderr
        assert "an engine is already running on it (pid" in second.stderr
        assert f"pid {first.proc.pid} " in second.stderr
        with Store.open(path) as store:
            deadline = time.monotonic() + 15
            while not sample_times(store, "port", "up") and time.monotonic() < deadline:
                time.sleep(0.05)
            assert sample_times(store, "port", "up")
        assert first.stop(signal.SIGTERM) == 0
        first.wait_for(re.compile("engine stopped"))
    assert not engine_running(path)
    with Store.open(path) as store:
        beat = json.loads(store.setting("engine.heartbeat") or "{}")
        assert beat["state"] == "stopped"


def test_engine_stops_cleanly_on_sigint_too(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    open_store(path).close()
    with running(env, "--db", str(path), "engine", "--port", "0") as engine:
        engine.wait_for(READY)
        assert engine.stop(signal.SIGINT) == 0
    assert not engine_running(path)


def test_a_taken_receiver_port_is_a_clear_error(env: dict[str, str], tmp_path: Path) -> None:
    import socket

    path = tmp_path / "s.db"
    open_store(path).close()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run(env, "--db", str(path), "engine", "--port", str(port))
    assert proc.returncode == 4
    assert proc.stderr.startswith("error: ") and "address already in use" in proc.stderr.lower()
    assert not engine_running(path)


def test_demo_poll_once_json_runs_every_demo_endpoint_against_the_simulator(
    env: dict[str, str],
) -> None:
    proc = run(env, "--demo", "poll", "--once", "--json")
    assert proc.returncode == 0, proc.stderr
    reports = json.loads(proc.stdout)
    assert len(reports) >= 10
    kinds = {r["kind"] for r in reports}
    assert {"http", "scrape", "tcp"} <= kinds
    for report in reports:
        assert report["state"] in {"ok", "warning", "critical", "unknown"}
        assert report["reason"]
        assert report["judged"][0]["metric"] is None  # the endpoint's own check first
    reached = [r for r in reports if r["outcome"] == "up"]
    assert len(reached) >= len(reports) * 0.8, [r["reason"] for r in reports]
    http = next(r for r in reached if r["kind"] == "http")
    assert http["metrics"]["status_code"] == 200 and http["metrics"]["up"] == 1


def test_poll_prints_a_table_and_needs_once(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with open_store(path) as store:
        entities.save(store, endpoint("closed-port", TcpTarget("127.0.0.1", 9)))
    proc = run(env, "--db", str(path), "poll", "--once")
    assert proc.returncode == 0, proc.stderr
    header, row = proc.stdout.splitlines()
    assert header.split() == ["ENDPOINT", "KIND", "STATE", "METRICS", "REASON"]
    assert row.split()[:3] == ["closed-port", "tcp", "CRITICAL"]
    assert "connection refused by 127.0.0.1:9" in row
    missing = run(env, "--db", str(path), "poll")
    assert missing.returncode == 2 and "--once" in missing.stderr


def test_demo_serve_runs_the_simulated_estate_until_interrupted(env: dict[str, str]) -> None:
    with running(env, "demo", "serve", "--port", "0") as served:
        found = served.wait_for(re.compile(r"simulated estate on (http://127\.0\.0\.1:\d+)"))
        with urllib.request.urlopen(f"{found[1]}/metrics", timeout=10) as page:
            assert page.status == 200
            assert b"# TYPE" in page.read()
        assert served.stop(signal.SIGINT) == 0
