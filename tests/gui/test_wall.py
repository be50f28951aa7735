"""The NOC wall: readable layout, worst first, rotation, faults, cursor, screens, blanking.

Real parts: tiles come from ``console.core.status.service_tiles`` over MetricStatus records (or
from the real store reader), the engine is a real EngineHost, the store a real file, the screen
saver the X server's own (Xvfb) and a ScreenSaver service on a private D-Bus session bus. Time
is a FakeClock; rotation, ticks and idle timeouts are driven by emitting the timers' signals.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from console.cli.main import build_parser
from console.core.checks import CheckState, StateType
from console.core.clock import FakeClock
from console.core.enums import ImpactTier
from console.core.status import DisplayState, MetricStatus, ServiceInfo, ServiceTile, service_tiles
from console.engine.runtime import HEARTBEAT_SETTING
from console.store import status as store_status
from console.store.db import Store
from console.ui.engine_host import EngineHost, EngineState, EngineStatus, HostState, parse_beat
from console.ui.tasks import TaskRunner
from console.ui.wall import layout
from console.ui.wall.blanking import InhibitState, SaverInhibitor
from console.ui.wall.feed import WallReading
from console.ui.wall.grid import TileGrid
from console.ui.wall.layout import MIN_POINT_SIZE, TileSize
from console.ui.wall.screens import choose_screen
from console.ui.wall.style import STATE_COLOUR
from console.ui.wall.text import clock_text, tile_text
from console.ui.wall.window import WallSettings, WallWindow
from jeepney import HeaderFields, MessageType, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import Proxy, open_dbus_connection
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QFontInfo, QGuiApplication, QMouseEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.services import SessionBus

pytestmark = pytest.mark.gui

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
WAIT_MS = 20_000
COMMAND = Path(sys.executable).parent / "oncall-console"


# -- tiles built from real status records ------------------------------------------------------


def metric(
    service: str,
    state: CheckState,
    now: datetime,
    *,
    value: float | None = 812.0,
    since_s: float = 720.0,
    checked_s: float | None = 5.0,
    flapping: bool = False,
) -> MetricStatus:
    """A judged p95 latency metric of ``service`` as the store would report it at ``now``."""
    return MetricStatus(
        endpoint=f"{service}-metrics",
        endpoint_name=f"{service} metrics",
        service=service,
        service_name=service.title(),
        team="payments",
        team_name="Payments Development",
        metric_key="p95",
        metric_name="p95 latency",
        unit="ms",
        state=state,
        state_type=StateType.HARD,
        flapping=flapping,
        since=now - timedelta(seconds=since_s),
        reason="above the band",
        value=value,
        last_check=None if checked_s is None else now - timedelta(seconds=checked_s),
        interval_s=30.0,
        band_low=120.0,
        band_high=340.0,
        critical=500.0,
    )


def make_tiles(
    states: list[CheckState], now: datetime, acknowledged: frozenset[str] = frozenset()
) -> list[ServiceTile]:
    """One service per state (named svc-00, svc-01...), ordered by the real ordering function."""
    infos = [
        ServiceInfo(f"svc-{i:02}", f"Service {i:02}", ImpactTier.TIER_2, "payments", "Payments")
        for i in range(len(states))
    ]
    metrics = [metric(info.key, state, now) for info, state in zip(infos, states, strict=True)]
    return service_tiles(infos, metrics, now, acknowledged)


def reading(
    tiles: list[ServiceTile], now: datetime, state: EngineState = EngineState.HERE
) -> WallReading:
    return WallReading(EngineStatus(state), tuple(tiles), now)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def wall(qtbot: QtBot, store_path: Path, clock: FakeClock) -> Iterator[WallWindow]:
    """A shown 1920x1080 wall over a real (empty) store; its feed is not started."""
    store = Store.open(store_path, clock)
    runner = TaskRunner()
    window = WallWindow(store, runner, None, clock, WallSettings(rotate_s=15))
    qtbot.addWidget(window)
    window.resize(1920, 1080)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.grid.width() == 1920)  # laid out (under the waiting panel)
    yield window
    window.stop()
    runner.shutdown()
    store.close()


def page_size(wall: WallWindow, now: datetime) -> int:
    """How many tiles a page holds at the minimum text size (shown 500 tiles to find out)."""
    wall.grid.set_tiles(make_tiles([CheckState.OK] * 500, now), now)
    assert wall.grid.grid.point_size == MIN_POINT_SIZE
    return wall.grid.grid.per_page


def bar_colour(grid: TileGrid, index: int) -> str:
    """The colour of tile ``index``'s state bar, read back from the painted grid."""
    image = grid.grab().toImage()
    x, y, w, _h = grid.grid.cells(grid.width(), grid.height())[index]
    ratio = image.devicePixelRatio()
    point = QPointF(x + w * 0.6, y + grid.fonts.bar / 2) * ratio
    return image.pixelColor(point.toPoint()).name().upper()


# -- layout ------------------------------------------------------------------------------------


def test_a_1080p_wall_pages_500_tiles_at_24_pt_and_fills_each_page(
    qtbot: QtBot, clock: FakeClock
) -> None:
    grid = TileGrid(clock.now())
    qtbot.addWidget(grid)
    grid.resize(1920, 1000)  # the screen less the header
    grid.set_tiles(make_tiles([CheckState.OK] * 500, clock.now()), clock.now())
    shape, fonts = grid.grid, grid.fonts
    assert shape.point_size == MIN_POINT_SIZE, "500 tiles never fit one page: paginate at 24 pt"
    for font in (fonts.body, fonts.strong, fonts.name, fonts.state):
        assert font.pointSizeF() >= 24
        # On this 96 dpi screen 24 pt is 32 px: readable from five metres.
        assert QFontInfo(font).pixelSize() >= 24 * grid.logicalDpiY() / 72 - 0.5
    size = fonts.tile_size()
    # Every tile gets the room its lines need, and no further column or row would fit.
    cells = shape.cells(grid.width(), grid.height())
    assert all(w >= size.min_width and h >= size.height for _x, _y, w, h in cells)
    assert (shape.columns + 1) * size.min_width + (shape.columns + 2) * size.gap > grid.width()
    assert (shape.rows + 1) * size.height + (shape.rows + 2) * size.gap > grid.height()
    assert shape.per_page >= 6
    assert grid.page_count == math.ceil(500 / shape.per_page)
    right = max(x + w for x, _y, w, _h in cells)
    bottom = max(y + h for _x, y, _w, h in cells)
    assert right <= grid.width() and bottom <= grid.height()
    assert len(grid.page_tiles()) == shape.per_page


def test_few_tiles_get_larger_text_and_a_bigger_screen_holds_more() -> None:
    def measure(point_size: float) -> TileSize:  # a tile 20 by 11 "points" big
        return TileSize(min_width=point_size * 20, height=point_size * 11, gap=10)

    few = layout.fit(1920, 1000, 3, measure)
    assert few.point_size > MIN_POINT_SIZE and few.per_page >= 3
    many = layout.fit(1920, 1000, 500, measure)
    big = layout.fit(3840, 2080, 500, measure)
    assert many.point_size == big.point_size == MIN_POINT_SIZE
    assert big.per_page > many.per_page
    # A size below the minimum is never used, even when offered.
    assert layout.fit(1920, 1000, 500, measure, sizes=(12.0, 18.0)).point_size == MIN_POINT_SIZE


# -- worst first, tile words -------------------------------------------------------------------


def test_tiles_are_painted_worst_first_with_word_shape_and_colour(
    wall: WallWindow, clock: FakeClock
) -> None:
    now = clock.now()
    states = [CheckState.OK, CheckState.WARNING, CheckState.OK, CheckState.CRITICAL]
    states += [CheckState.UNKNOWN]
    wall.show_reading(reading(make_tiles(states, now), now))
    shown = [t.state for t in wall.grid.page_tiles()]
    assert shown == [
        DisplayState.CRITICAL,
        DisplayState.WARNING,
        DisplayState.UNKNOWN,
        DisplayState.OK,
        DisplayState.OK,
    ]
    texts = wall.grid.page_texts()
    assert [t.state for t in texts] == ["CRITICAL", "WARNING", "UNKNOWN", "OK", "OK"]
    for index, state in enumerate(shown):
        assert bar_colour(wall.grid, index) == STATE_COLOUR[state]
    critical = texts[0]
    assert critical.name == "Service 03"
    assert critical.value == "p95 latency 812 ms"
    assert critical.detail == "band 120–340 ms · crit 500 ms"
    assert critical.time_in_state == "12 min"
    assert critical.team == "Payments"
    assert critical.duty == "NOT ACKNOWLEDGED"
    assert (texts[2].value, texts[2].detail) == ("p95 latency unknown", "above the band")
    assert (texts[3].value, texts[3].detail) == ("1 metric OK", "Tier 2 · high")
    assert wall.grid.accessibleDescription().startswith("Service 03: CRITICAL, p95 latency 812 ms")
    assert not wall.showing_fault


def test_a_failed_check_and_more_bad_metrics_are_said(clock: FakeClock) -> None:
    now = clock.now()
    info = ServiceInfo("shop", "Shop", ImpactTier.TIER_1, "web", "Web")
    check = replace(metric("shop", CheckState.CRITICAL, now, value=None), metric_key=None)
    check = replace(check, metric_name="check", reason="HTTP 503", band_low=None, band_high=None)
    check = replace(check, critical=None, since=now - timedelta(hours=2, minutes=5))
    slow = metric("shop", CheckState.WARNING, now)
    errors = replace(metric("shop", CheckState.WARNING, now), metric_key="errors")
    (tile,) = service_tiles([info], [slow, check, errors], now)
    text = tile_text(tile, now)
    assert (text.state, text.time_in_state) == ("CRITICAL", "2 h 5 min")
    assert (text.value, text.detail) == ("check failed · +2 more", "HTTP 503")


def test_on_call_and_escalation_are_shown_when_known(clock: FakeClock) -> None:
    now = clock.now()
    tile = make_tiles([CheckState.CRITICAL], now)[0]
    known = replace(tile, on_call="Ana Silva", escalation_level=2, unacknowledged=False)
    assert tile_text(known, now).duty == "On call Ana Silva · level 2"
    assert tile_text(replace(known, unacknowledged=True), now).duty == (
        "NOT ACKNOWLEDGED · on call Ana Silva · level 2"
    )


def test_a_stale_tile_says_stale_and_how_old_its_data_is(
    wall: WallWindow, clock: FakeClock
) -> None:
    now = clock.now()
    info = ServiceInfo("db", "PostgreSQL", ImpactTier.TIER_1, "platform", "Platform Engineering")
    silent = metric("db", CheckState.OK, now, value=41.0, checked_s=14 * 60 + 5)
    fresh = make_tiles([CheckState.OK], now)
    tiles = service_tiles([info], [silent], now) + fresh
    wall.show_reading(reading(tiles, now))
    stale = wall.grid.page_texts()[0]
    assert wall.grid.page_tiles()[0].state is DisplayState.STALE
    assert stale.state == "STALE"
    assert stale.value == "NO DATA for 14 min"
    assert stale.detail == "p95 latency last 41 ms"
    # Greyed and hatched: the bar is grey, not a state colour that could pass for fine.
    assert bar_colour(wall.grid, 0) == STATE_COLOUR[DisplayState.STALE]
    # The age keeps growing between reads.
    clock.advance(6 * 60)
    wall.tick()
    assert wall.grid.page_texts()[0].value == "NO DATA for 20 min"


def test_the_header_counts_states_and_warns_when_the_newest_data_is_old(
    wall: WallWindow, clock: FakeClock
) -> None:
    now = clock.now()
    states = [CheckState.CRITICAL, CheckState.OK, CheckState.OK, CheckState.WARNING]
    wall.show_reading(reading(make_tiles(states, now), now))
    assert wall.header.font_body.pointSizeF() >= MIN_POINT_SIZE
    header = wall.header.text()
    assert header.counts == (
        (DisplayState.CRITICAL, 1),
        (DisplayState.WARNING, 1),
        (DisplayState.OK, 2),
    )
    assert header.clock == clock_text(now) + now.astimezone().strftime(":%S")
    assert (header.age, header.age_warns) == ("Data 5 s old", False)
    clock.advance(95)  # no new reading: the newest data is now 100 s old, over 3 intervals of 30 s
    wall.tick()
    header = wall.header.text()
    assert (header.age, header.age_warns) == ("DATA 1 min OLD", True)
    assert header.clock == (now + timedelta(seconds=95)).astimezone().strftime("%H:%M:%S")


def test_only_changes_are_repainted(qtbot: QtBot, wall: WallWindow, clock: FakeClock) -> None:
    now = clock.now()
    tiles = make_tiles([CheckState.CRITICAL, CheckState.OK], now)
    wall.show_reading(reading(tiles, now))
    qtbot.waitUntil(lambda: wall.grid.paint_count > 0)
    QApplication.processEvents()
    painted = wall.grid.paint_count
    # The same data read 2 s later (so 2 s older) and a tick within the same minute: no repaint.
    clock.advance(2)
    later = [replace(t, data_age_s=(t.data_age_s or 0) + 2) for t in tiles]
    assert not wall.grid.set_tiles(later, clock.now())
    wall.tick()
    QApplication.processEvents()
    assert wall.grid.paint_count == painted
    # A minute later the time in state reads differently: one repaint.
    clock.advance(60)
    wall.tick()
    qtbot.waitUntil(lambda: wall.grid.paint_count == painted + 1)


# -- rotation ------------------------------------------------------------------------------------


def test_pages_rotate_and_wrap(wall: WallWindow, clock: FakeClock) -> None:
    now = clock.now()
    per_page = page_size(wall, now)
    wall.show_reading(reading(make_tiles([CheckState.OK] * (per_page * 2 + 1), now), now))
    assert wall.grid.page_count == 3
    assert wall.rotate_timer.interval() == 15_000
    seen = [wall.grid.page]
    for _ in range(3):
        wall.rotate_timer.timeout.emit()
        seen.append(wall.grid.page)
    assert seen == [0, 1, 2, 0]
    assert wall.header.text().page == "Page 1/3"


def test_a_page_with_an_unacknowledged_critical_stays(wall: WallWindow, clock: FakeClock) -> None:
    now = clock.now()
    per_page = page_size(wall, now)
    states = [CheckState.OK] * (per_page * 2) + [CheckState.CRITICAL]
    wall.show_reading(reading(make_tiles(states, now), now))
    assert wall.grid.page_tiles()[0].unacknowledged
    for _ in range(4):
        wall.rotate_timer.timeout.emit()
        assert wall.grid.page == 0
    # Once acknowledged, rotation resumes.
    acknowledged = frozenset({f"svc-{per_page * 2:02}"})
    wall.show_reading(reading(make_tiles(states, now, acknowledged), now))
    critical = [t for t in wall.grid.tiles if t.state is DisplayState.CRITICAL]
    assert critical and not any(t.unacknowledged for t in critical)
    wall.rotate_timer.timeout.emit()
    assert wall.grid.page == 1


def test_a_new_unacknowledged_critical_brings_its_page_on_screen(
    wall: WallWindow, clock: FakeClock
) -> None:
    now = clock.now()
    per_page = page_size(wall, now)
    wall.show_reading(reading(make_tiles([CheckState.OK] * (per_page * 2), now), now))
    wall.rotate_timer.timeout.emit()
    assert wall.grid.page == 1
    states = [CheckState.OK] * (per_page * 2 - 1) + [CheckState.CRITICAL]
    wall.show_reading(reading(make_tiles(states, now), now))
    assert wall.grid.page == 0 and wall.grid.page_tiles()[0].state is DisplayState.CRITICAL


def test_more_unacknowledged_criticals_than_a_page_rotate_among_their_pages(
    wall: WallWindow, clock: FakeClock
) -> None:
    now = clock.now()
    per_page = page_size(wall, now)
    states = [CheckState.CRITICAL] * (per_page + 1) + [CheckState.OK] * (per_page * 2)
    wall.show_reading(reading(make_tiles(states, now), now))
    assert wall.grid.page_count == 4
    seen = []
    for _ in range(4):
        wall.rotate_timer.timeout.emit()
        seen.append(wall.grid.page)
    assert seen == [1, 0, 1, 0], "pages without an unacknowledged CRITICAL are skipped"


# -- faults --------------------------------------------------------------------------------------


def test_a_stopped_engine_replaces_the_tiles_with_a_fault(
    qtbot: QtBot, demo_store_path: Path
) -> None:
    store = Store.open(demo_store_path)
    host = EngineHost(store, receiver_port=None, secrets=lambda: None)
    runner = TaskRunner()
    window = WallWindow(store, runner, host, store.clock, WallSettings(refresh_ms=200))
    qtbot.addWidget(window)
    try:
        window.resize(1600, 900)
        window.show()
        host.start()
        qtbot.waitUntil(lambda: host.state is HostState.RUNNING, timeout=WAIT_MS)
        window.start(keep_awake=False)
        qtbot.waitUntil(lambda: len(window.grid.tiles) > 0, timeout=WAIT_MS)
        assert not window.showing_fault
        names = {t.name for t in window.grid.tiles}
        assert "Payments API" in names
        assert host.stop()
        qtbot.waitUntil(lambda: window.showing_fault, timeout=WAIT_MS)
        beat = parse_beat(store.setting(HEARTBEAT_SETTING))
        assert beat is not None and beat.state == "stopped" and beat.at is not None
        fault = window.fault_panel.fault
        assert fault.title == f"ENGINE STOPPED since {clock_text(beat.at)}"
        assert fault.body.startswith("Data is not being collected")
        header = window.header.text()
        assert header.counts == () and header.age == "", "no counts from data nobody collects"
        assert window.fault_panel.isVisible() and not window.grid.isVisible()
    finally:
        window.stop()
        host.stop()
        runner.shutdown()
        store.close()


def test_an_unreadable_store_shows_a_fault_and_the_tiles_return_after(
    qtbot: QtBot, demo_store_path: Path, clock: FakeClock
) -> None:
    store = Store.open(demo_store_path, clock)
    runner = TaskRunner()
    # No engine runs here: judge the store as if one did, so only the store read can fail.
    running = EngineStatus(EngineState.ELSEWHERE, 4242)
    window = WallWindow(store, runner, None, clock)
    qtbot.addWidget(window)
    try:
        window.resize(1600, 900)
        window.show()
        with qtbot.waitSignal(window.feed.reading, timeout=WAIT_MS) as got:
            window.feed.refresh()
        good: WallReading = got.args[0]
        window.show_reading(replace(good, status=running))
        assert not window.showing_fault and len(window.grid.tiles) == len(good.tiles) > 0
        # Another program breaks the store: a table every read of the tiles needs is gone.
        with sqlite3.connect(demo_store_path) as conn:
            conn.execute("ALTER TABLE endpoint_results RENAME TO endpoint_results_away")
        with qtbot.waitSignal(window.feed.failed, timeout=WAIT_MS) as failed:
            window.feed.refresh()
        assert "endpoint_results" in failed.args[0]
        assert window.showing_fault
        assert window.fault_panel.fault.title == "STORE UNREADABLE"
        assert "endpoint_results" in window.fault_panel.fault.detail
        with sqlite3.connect(demo_store_path) as conn:
            conn.execute("ALTER TABLE endpoint_results_away RENAME TO endpoint_results")
        with qtbot.waitSignal(window.feed.reading, timeout=WAIT_MS) as again:
            window.feed.refresh()
        window.show_reading(replace(again.args[0], status=running))
        assert not window.showing_fault
    finally:
        window.stop()
        runner.shutdown()
        store.close()


def test_a_failed_or_silent_engine_is_a_fault_too(wall: WallWindow, clock: FakeClock) -> None:
    now = clock.now()
    tiles = make_tiles([CheckState.OK], now)
    wall.show_reading(reading(tiles, now))
    assert not wall.showing_fault
    silent = EngineStatus(EngineState.NOT_RESPONDING, 99, silent_s=600)
    wall.show_reading(WallReading(silent, tuple(tiles), now))
    assert wall.showing_fault
    since = clock_text(now - timedelta(minutes=10))
    assert wall.fault_panel.fault.title == f"ENGINE NOT RESPONDING since {since}"
    wall.show_reading(WallReading(EngineStatus(EngineState.FAILED, detail="boom"), (), now))
    assert wall.fault_panel.fault.title == "ENGINE FAILED"
    assert wall.fault_panel.fault.detail == "boom"


# -- cursor, keys, screens -----------------------------------------------------------------------


def test_the_cursor_hides_when_idle_and_returns_on_movement(wall: WallWindow) -> None:
    wall.start(keep_awake=False)
    assert wall.cursor_timer.isActive() and wall.cursor_timer.isSingleShot()
    assert wall.cursor_timer.interval() == 3_000
    wall.cursor_timer.timeout.emit()
    assert wall.cursor_hidden and wall.cursor().shape() is Qt.CursorShape.BlankCursor
    move = QMouseEvent(
        QMouseEvent.Type.MouseMove,
        QPointF(200, 300),
        QPointF(200, 300),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(wall.grid, move)  # over a tile: the event reaches the wall
    assert not wall.cursor_hidden and wall.cursor().shape() is not Qt.CursorShape.BlankCursor
    assert wall.cursor_timer.isActive()


def test_esc_leaves_only_when_pressed_twice(qtbot: QtBot, wall: WallWindow) -> None:
    wall.start(keep_awake=False)
    qtbot.keyClick(wall, Qt.Key.Key_Escape)
    assert wall.isVisible() and wall.header.text().prompt.startswith("Press Esc again")
    qtbot.keyClick(wall, Qt.Key.Key_A)  # any other key: stay
    assert wall.isVisible() and wall.header.text().prompt == ""
    qtbot.keyClick(wall, Qt.Key.Key_Escape)
    wall.leave_timer.timeout.emit()  # too slow: the first press is forgotten
    assert wall.header.text().prompt == ""
    qtbot.keyClick(wall, Qt.Key.Key_Escape)
    with qtbot.waitSignal(wall.left):
        qtbot.keyClick(wall, Qt.Key.Key_Escape)
    assert not wall.isVisible()


def test_f11_toggles_full_screen(qtbot: QtBot, wall: WallWindow) -> None:
    assert not wall.isFullScreen()
    qtbot.keyClick(wall, Qt.Key.Key_F11)
    qtbot.waitUntil(wall.isFullScreen)
    qtbot.keyClick(wall, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: not wall.isFullScreen())


@dataclass
class FakeScreen:
    label: str

    def name(self) -> str:
        return self.label


def test_choose_screen_prefers_the_one_asked_for_and_falls_back_to_the_primary() -> None:
    left, right, tv = FakeScreen("DP-1"), FakeScreen("HDMI-1"), FakeScreen("HDMI-2")
    screens = [left, right, tv]
    assert choose_screen(screens, None, None, left) is left
    assert choose_screen(screens, 2, None, left) is tv
    assert choose_screen(screens, 7, None, left) is left, "screen 7 does not exist: primary"
    # Once known by name, it is followed wherever it is listed; gone, the primary stands in.
    assert choose_screen([tv, left], 2, "HDMI-2", left) is tv
    assert choose_screen([left, right], 2, "HDMI-2", left) is left
    assert choose_screen(screens, 2, "HDMI-2", left, gone=tv) is left
    # The primary itself being unplugged: the first screen left.
    assert choose_screen(screens, None, None, left, gone=left) is right


def test_the_wall_falls_back_to_the_primary_screen(qtbot: QtBot, store_path: Path) -> None:
    store = Store.open(store_path)
    runner = TaskRunner()
    try:
        screens = QGuiApplication.screens()
        primary = QGuiApplication.primaryScreen()
        missing = WallWindow(store, runner, None, store.clock, screen=len(screens) + 3)
        qtbot.addWidget(missing)
        missing.place()
        assert missing.target_screen() is primary and missing.screen() is primary
        first = WallWindow(store, runner, None, store.clock, screen=0)
        qtbot.addWidget(first)
        first.place()
        assert first.screen() is screens[0]
        # The screen asked for is unplugged: the wall goes to the primary (or the first left).
        fallback = primary if primary is not screens[0] or len(screens) == 1 else screens[1]
        first.place(gone=screens[0])
        assert first.target_screen(gone=screens[0]) is fallback
        first.start(keep_awake=False)
        first.stop()
    finally:
        runner.shutdown()
        store.close()


# -- keeping the screen on -----------------------------------------------------------------------


class Xlib:
    """Just enough libX11 to map a plain window and read a pixel of the screen back."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("X11")
        assert name, "libX11 is installed by packaging/dev.sh (libx11-6)"
        x = ctypes.CDLL(name)
        p, ul, i, ui = ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_uint
        x.XOpenDisplay.restype, x.XOpenDisplay.argtypes = p, [ctypes.c_char_p]
        x.XDefaultRootWindow.restype, x.XDefaultRootWindow.argtypes = ul, [p]
        x.XCreateSimpleWindow.restype = ul
        x.XCreateSimpleWindow.argtypes = [p, ul, i, i, ui, ui, ui, ul, ul]
        x.XMapRaised.argtypes = x.XDestroyWindow.argtypes = [p, ul]
        x.XSync.argtypes = [p, i]
        x.XCloseDisplay.argtypes = [p]
        x.XGetImage.restype, x.XGetImage.argtypes = p, [p, ul, i, i, ui, ui, ul, i]
        x.XGetPixel.restype, x.XGetPixel.argtypes = ul, [p, i, i]
        self.x: Any = x
        self.display = x.XOpenDisplay(None)
        assert self.display, "no X display (the test harness starts Xvfb)"
        self.root = x.XDefaultRootWindow(self.display)
        self.window = x.XCreateSimpleWindow(self.display, self.root, 0, 0, 300, 300, 0, 0, 0x00FF00)
        x.XMapRaised(self.display, self.window)
        x.XSync(self.display, 0)

    def green_on_screen(self) -> bool:
        """Whether the window is visible (the screen saver covers it when active)."""
        image = self.x.XGetImage(self.display, self.root, 20, 20, 1, 1, 0xFFFFFFFF, 2)
        return bool(self.x.XGetPixel(image, 0, 0) == 0x00FF00)

    def close(self) -> None:
        self.x.XDestroyWindow(self.display, self.window)
        self.x.XCloseDisplay(self.display)


def xset(*args: str) -> str:
    return subprocess.run(
        ["xset", *args], capture_output=True, text=True, check=True, timeout=10
    ).stdout


def test_the_x_screen_saver_stays_off_while_the_wall_is_up(
    qtbot: QtBot, wall: WallWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert os.environ.get("DISPLAY"), "the test harness starts Xvfb and sets DISPLAY"
    assert shutil.which("xset"), "xset is installed by packaging/dev.sh (x11-xserver-utils)"
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)  # X11 alone here
    # Our own connection keeps the server from resetting (and forgetting xset) between clients.
    xlib = Xlib()
    try:
        xset("s", "2", "2")
        xset("s", "noblank")  # the saver then covers the screen, which a pixel shows
        assert re.search(r"timeout:\s+2\s", xset("q"))
        qtbot.waitUntil(lambda: not xlib.green_on_screen(), timeout=6_000)  # it does activate
        guard = wall.guard
        guard.x11.timer.setInterval(500)  # the test's timeout is 2 s, not minutes
        wall.start()
        assert guard.active and guard.x11.method == "libX11"
        qtbot.waitUntil(xlib.green_on_screen, timeout=2_000)  # the start reset turned it off
        qtbot.wait(4_000)  # twice the timeout: without the resets it would have come back
        assert xlib.green_on_screen(), "the screen saver came on while the wall was up"
        assert guard.x11.resets >= 6
        assert re.search(r"timeout:\s+2\s", xset("q")), "the user's setting was changed"
        wall.stop()
        assert not guard.active
        qtbot.waitUntil(lambda: not xlib.green_on_screen(), timeout=6_000)  # blanks again
    finally:
        xset("s", "default")
        xlib.close()


class ScreenSaverService:
    """An org.freedesktop.ScreenSaver service on a private bus that records what it is asked."""

    def __init__(self, bus: SessionBus) -> None:
        self.calls: list[tuple[str, str, tuple[Any, ...]]] = []
        self._conn = open_dbus_connection(bus.address)
        Proxy(message_bus, self._conn, timeout=5).RequestName("org.freedesktop.ScreenSaver")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self._conn.receive(timeout=0.2)
            except TimeoutError:
                continue
            header = msg.header
            if header.message_type is not MessageType.method_call:
                continue
            member = header.fields.get(HeaderFields.member)
            signature = header.fields.get(HeaderFields.signature, "")
            self.calls.append((member, signature, tuple(msg.body)))
            if member == "Inhibit":
                self._conn.send(new_method_return(msg, "u", (41,)))
            else:
                self._conn.send(new_method_return(msg))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._conn.close()


def test_the_screen_saver_is_inhibited_over_dbus_and_released(
    qtbot: QtBot, bare_env: SessionBus
) -> None:
    absent = SaverInhibitor()
    absent.start()
    assert absent.wait_settled(10)
    assert absent.state is InhibitState.UNAVAILABLE and "ScreenSaver" in absent.note
    absent.stop()
    service = ScreenSaverService(bare_env)
    try:
        inhibitor = SaverInhibitor()
        inhibitor.start()
        assert inhibitor.wait_settled(10)
        assert inhibitor.state is InhibitState.INHIBITED and inhibitor.cookie == 41
        inhibitor.stop()
        assert inhibitor.state is InhibitState.RELEASED
        qtbot.waitUntil(lambda: len(service.calls) >= 2, timeout=5_000)
        assert service.calls == [
            ("Inhibit", "ss", ("oncall-console", "The NOC wall is on display")),
            ("UnInhibit", "u", (41,)),
        ]
    finally:
        service.close()


# -- the command line ----------------------------------------------------------------------------


def test_the_command_line_takes_wall_screen_and_rotate() -> None:
    args = build_parser().parse_args(["--wall", "--screen", "1", "--rotate", "20"])
    assert (args.wall, args.screen, args.rotate) == (True, 1, 20.0)
    defaults = build_parser().parse_args([])
    assert (defaults.wall, defaults.screen, defaults.rotate) == (False, None, 15.0)
    for bad in (["--screen", "-1"], ["--rotate", "0"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(bad)


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def test_the_command_renders_the_demo_wall_on_a_real_x_screen(tmp_path: Path) -> None:
    assert os.environ.get("DISPLAY"), "the test harness starts Xvfb and sets DISPLAY"
    tesseract = shutil.which("tesseract")
    assert tesseract, "tesseract-ocr is installed by packaging/dev.sh"
    db, out = tmp_path / "demo.db", tmp_path / "wall.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    result = subprocess.run(
        [str(COMMAND), "--demo", "--db", str(db), "--wall", "--screenshot", str(out),
         "--size", "1920x1080"],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    ocr = subprocess.run(
        [tesseract, str(out), "stdout"], capture_output=True, text=True, check=True, timeout=120
    )
    seen = _words(ocr.stdout)
    with Store.open(db) as store:
        tiles = store_status.tiles(store.read(), store.clock.now())
    assert len(tiles) >= 10
    # The first page holds the worst services: at least six of the first eight are read back.
    found = [t.name for t in tiles[:8] if _words(t.name) in seen]
    assert len(found) >= 6, f"only {found} of {[t.name for t in tiles[:8]]} read in:\n{seen}"
    # Every state the demo has is counted in the header, in words.
    for state in {t.state for t in tiles}:
        assert state.label.lower() in seen.split(), f"{state.label} not read in:\n{seen}"
    assert "page 1" in seen
