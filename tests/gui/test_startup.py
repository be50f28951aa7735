"""The window first, the demo's history behind it: the real ``--demo`` under Xvfb, and its parts.

The command runs in a subprocess on the test harness's X screen with the startup probe on
(console.ui.startup), which logs the first paint, each text the status bar's engine label
takes, and (from the engine host) when the demo's history is written. Order is asserted, never
a time: machines differ, and the benchmark (tests/benchmarks/bench_startup.py) reports times.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from console.cli.context import Context, import_demo_estate
from console.cli.main import build_parser
from console.config.demo import demo_estate
from console.core.clock import SystemClock
from console.core.events import EventType
from console.engine.backfill import DEMO_HISTORY_SETTING, DEMO_SCENARIO_SETTING, import_demo
from console.engine.replay import DEMO_STATES_SETTING
from console.store import estate, events, samples
from console.store.db import Store
from console.store.lock import lock_path
from console.ui.engine_host import LOADING_TEXT, EngineHost, EngineState, HostState, describe
from console.ui.startup import PROBE_ENV, QUIT_ENV, FirstPaint, QuitAt, StartupProbe
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

pytestmark = pytest.mark.gui

PAYMENTS = "payments-api-metrics"
P95 = 'demo_http_request_latency_p95_ms{service="payments-api"}'
STATUS = re.compile(r"status bar says '(?P<text>[^']*)' after \d+ ms")


def _environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test's own data and config dirs, so the user's store and settings stay out of it."""
    env = {**os.environ, **extra}
    for name in ("DATA", "CONFIG", "STATE", "CACHE"):
        env[f"XDG_{name}_HOME"] = str(tmp_path / name.lower())
    return env


def _console(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _position(lines: list[str], text: str) -> int:
    found = [i for i, line in enumerate(lines) if text in line]
    assert found, f"no {text!r} in:\n" + "\n".join(lines)
    return found[0]


def _week_of_history(store: Store) -> bool:
    """Whether payments' p95 has hourly rollups reaching six days back."""
    db = store.read()
    series = samples.find_series(db, PAYMENTS, P95)
    if series is None:
        return False
    now_ms = samples.epoch_ms(SystemClock().now())
    week = samples.query_series(
        db, series, now_ms - 7 * samples.DAY_MS, now_ms, resolution=samples.Resolution.HOUR
    )
    return bool(week.timestamps) and min(week.timestamps) <= now_ms - 6 * samples.DAY_MS


def test_the_demo_window_is_painted_before_its_history_is_written_and_then_shows_it(
    tmp_path: Path,
) -> None:
    assert os.environ.get("DISPLAY"), "the test harness starts Xvfb and sets DISPLAY"
    path = tmp_path / "demo.db"
    env = _environment(
        tmp_path, QT_QPA_PLATFORM="xcb", **{PROBE_ENV: "1", QUIT_ENV: QuitAt.LOADED.value}
    )
    done = _console("--demo", "--db", str(path), env=env)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "console.startup" in line]
    painted = _position(lines, "first paint after")
    written = _position(lines, "demo history written")
    shown = _position(lines, "the window shows the demo's history")
    assert painted < written < shown
    said = [m["text"] for line in lines if (m := STATUS.search(line))]
    assert said[0] == LOADING_TEXT, said
    assert said[-1] != LOADING_TEXT and said[-1].startswith("Engine: "), said
    with Store.open(path) as store:
        assert store.setting(DEMO_HISTORY_SETTING) is not None
        assert store.setting(DEMO_STATES_SETTING) is not None, "the recent past was not judged"
        assert _week_of_history(store)
        changes = events.iter_events(store.read(), types=[EventType.METRIC_STATE_CHANGED])
        assert next(changes, None) is not None


def test_a_demo_screenshot_has_its_history_written_before_the_window(tmp_path: Path) -> None:
    path, out = tmp_path / "demo.db", tmp_path / "monitoring.png"
    env = _environment(tmp_path, QT_QPA_PLATFORM="offscreen", **{PROBE_ENV: "1"})
    done = _console(
        "--demo", "--db", str(path), "--screenshot", str(out), "--page", "Monitoring", env=env
    )
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 10_000
    # The app's engine host writes no history for a screenshot: the command did, beforehand.
    assert "demo history written" not in done.stderr
    with Store.open(path) as store:
        assert store.setting(DEMO_STATES_SETTING) is not None
        assert _week_of_history(store)


def test_a_window_opens_its_demo_store_with_the_estate_alone(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    ctx = Context(build_parser().parse_args(["--db", str(path), "--demo"]))
    try:
        store = ctx.store(history=False)
        assert ctx.history is None
        assert {t.key for t in estate.teams(store.read())} == {t.key for t in demo_estate().teams}
        assert store.setting(DEMO_HISTORY_SETTING) is None
        assert samples.list_series(store.read()) == []
    finally:
        ctx.close()


def test_the_quick_demo_import_declares_what_import_demo_does(tmp_path: Path) -> None:
    aimed = "http://127.0.0.1:41234"
    with Store.open(tmp_path / "quick.db") as quick, Store.open(tmp_path / "full.db") as full:
        assert import_demo_estate(quick) == import_demo(full, None)
        assert estate.load(quick.read()) == estate.load(full.read())
        # Endpoints aimed at a simulator keep their targets (an engine may be polling them).
        import_demo(quick, aimed)
        import_demo(full, aimed)
        assert import_demo_estate(quick) == import_demo(full, None)
        kept = estate.load(quick.read())
        assert kept == estate.load(full.read())
        assert any(aimed in str(e.target) for e in kept.endpoints)


def test_closing_while_the_history_is_written_waits_for_it_and_starts_no_engine(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = tmp_path / "demo.db"
    store = Store.open(path)
    try:
        import_demo_estate(store)
        host = EngineHost(store, demo=True, fill_history=True, receiver_port=None)
        host.start()
        assert host.state is HostState.LOADING
        # The history has begun (its scenario is anchored first): closing now must wait.
        qtbot.waitUntil(lambda: store.setting(DEMO_SCENARIO_SETTING) is not None, timeout=30_000)
        assert host.stop()
        assert host.state is HostState.STOPPED
        assert store.setting(DEMO_HISTORY_SETTING) is not None, "closed under the history"
        assert not lock_path(path).exists(), "an engine started after the app was closed"
    finally:
        store.close()


class _Paints(QObject):
    """Notes each paint of the widget it watches, in the order things happen."""

    def __init__(self, order: list[str]) -> None:
        super().__init__()
        self.order = order

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint:
            self.order.append("paint")
        return False


def test_first_paint_work_runs_once_after_the_first_paint(qtbot: QtBot) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    order: list[str] = []
    paints = _Paints(order)
    widget.installEventFilter(paints)
    widget.resize(200, 100)
    widget.show()
    FirstPaint(widget, lambda: order.append("work"))
    assert order.count("work") == 0
    qtbot.waitUntil(lambda: "work" in order)
    widget.update()
    qtbot.waitUntil(lambda: order.count("paint") >= 2)
    assert order.index("paint") < order.index("work")
    assert order.count("work") == 1


def test_first_paint_work_does_not_wait_for_a_hidden_or_unpainted_window(qtbot: QtBot) -> None:
    hidden = QWidget()
    qtbot.addWidget(hidden)
    ran: list[str] = []
    FirstPaint(hidden, lambda: ran.append("hidden"))
    assert ran == [], "the work runs from the event loop, not inside the constructor"
    qtbot.waitUntil(lambda: ran == ["hidden"])
    frozen = QWidget()
    qtbot.addWidget(frozen)
    frozen.setUpdatesEnabled(False)  # shown, but never painted
    frozen.show()
    FirstPaint(frozen, lambda: ran.append("frozen"), timeout_ms=50)
    qtbot.waitUntil(lambda: ran == ["hidden", "frozen"])


def test_the_status_bar_says_the_demo_history_is_loading() -> None:
    status = describe(HostState.LOADING, None, False, None, None, SystemClock().now())
    assert status.text == LOADING_TEXT
    assert status.state is EngineState.STARTING, "the wall waits for it as for a starting engine"
    assert "history" in status.tooltip
    started = describe(HostState.STARTING, None, False, None, None, SystemClock().now())
    assert started.text == "Engine: starting…" and not started.loading


def test_the_probe_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PROBE_ENV, raising=False)
    assert StartupProbe.from_environment(None) is None
    monkeypatch.setenv(PROBE_ENV, "1")
    monkeypatch.delenv(QUIT_ENV, raising=False)
    probe = StartupProbe.from_environment(None)
    assert probe is not None and probe.quit_at is None
    for value, expected in (("paint", QuitAt.PAINT), ("Loaded", QuitAt.LOADED), ("x", None)):
        monkeypatch.setenv(QUIT_ENV, value)
        probe = StartupProbe.from_environment(None)
        assert probe is not None and probe.quit_at is expected
