"""The tray icon: state by colour and shape, the count painted on it, the incident menu."""

from __future__ import annotations

import pytest
from console.core.enums import Priority
from console.ui.theme import DARK, LIGHT
from console.ui.tray import (
    MENU_LIMIT,
    Tray,
    TrayCallbacks,
    TrayIncident,
    TrayState,
    count_text,
    render,
    start_minimised,
    tray_state,
)
from PySide6.QtGui import QAction, QColor, QImage
from PySide6.QtWidgets import QMainWindow, QMenu
from pytestqt.qtbot import QtBot

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("qapp")]  # fonts need an application

SIZE = 32


def mask(image: QImage) -> set[tuple[int, int]]:
    """The pixels the shape covers (mostly opaque)."""
    return {
        (x, y)
        for y in range(image.height())
        for x in range(image.width())
        if image.pixelColor(x, y).alpha() > 128
    }


def white_pixels(image: QImage) -> int:
    return sum(
        1
        for y in range(image.height())
        for x in range(image.width())
        if image.pixelColor(x, y).lightness() > 240 and image.pixelColor(x, y).alpha() > 200
    )


def rows(pixels: set[tuple[int, int]], y: int) -> int:
    return sum(1 for _, py in pixels if py == y)


def test_each_state_has_its_own_shape() -> None:
    ok, warning, critical = (mask(render(s, 0, SIZE, LIGHT)) for s in TrayState)

    # Pairwise, the shapes cover clearly different pixels.
    for a, b in ((ok, warning), (ok, critical), (warning, critical)):
        assert len(a ^ b) > SIZE * SIZE * 0.05
    # The triangle is narrow at the top and wide at the bottom; the others are symmetric.
    assert rows(warning, 4) < rows(warning, SIZE - 4) / 3
    assert abs(rows(ok, 4) - rows(ok, SIZE - 5)) <= 2
    assert abs(rows(critical, 4) - rows(critical, SIZE - 5)) <= 2
    # An octagon drawn around the same circle covers more: its corners stick out.
    assert len(critical) > len(ok) * 1.03
    assert len(ok - critical) < len(ok) * 0.02


def test_each_state_has_its_own_colour_from_the_theme() -> None:
    for state, colour in (
        (TrayState.OK, LIGHT.success),
        (TrayState.WARNING, LIGHT.warning),
        (TrayState.CRITICAL, LIGHT.error),
    ):
        image = render(state, 0, SIZE, LIGHT)
        assert image.pixelColor(SIZE // 2, SIZE * 2 // 3).name() == QColor(colour).name()
    dark = render(TrayState.CRITICAL, 0, SIZE, DARK)
    assert dark.pixelColor(SIZE // 2, SIZE * 2 // 3).name() == QColor(DARK.error).name()


@pytest.mark.parametrize("state", list(TrayState))
def test_the_count_is_painted_on_the_icon(state: TrayState) -> None:
    bare = render(state, 0, SIZE, LIGHT)
    three = render(state, 3, SIZE, LIGHT)
    four = render(state, 4, SIZE, LIGHT)

    assert white_pixels(bare) == 0
    assert white_pixels(three) > 10
    assert three != four  # a different number, a different picture
    # The digits sit inside the shape: the outline is the same.
    assert mask(bare) == mask(three)


def test_count_text_caps_at_99() -> None:
    assert [count_text(n) for n in (0, 1, 42, 99, 100, 1234)] == ["", "1", "42", "99", "99+", "99+"]
    assert white_pixels(render(TrayState.CRITICAL, 150, 64, LIGHT)) > 20


def incident(n: int, priority: Priority) -> TrayIncident:
    return TrayIncident(f"id-{n}", f"INC-{n}", f"Incident number {n}", priority)


def test_state_comes_from_the_worst_unacknowledged_priority() -> None:
    assert tray_state([]) is TrayState.OK
    assert tray_state([incident(1, Priority.P4), incident(2, Priority.P3)]) is TrayState.WARNING
    assert tray_state([incident(1, Priority.P4), incident(2, Priority.P2)]) is TrayState.CRITICAL


class Calls:
    def __init__(self) -> None:
        self.log: list[tuple[str, object]] = []

    def callbacks(self, with_open: bool = True) -> TrayCallbacks:
        return TrayCallbacks(
            acknowledge=lambda iid: self.log.append(("ack", iid)),
            show_window=lambda: self.log.append(("show", None)),
            mute=lambda on: self.log.append(("mute", on)),
            quit=lambda: self.log.append(("quit", None)),
            open_incident=(lambda iid: self.log.append(("open", iid))) if with_open else None,
        )


def texts(menu: QMenu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def action(menu: QMenu, text: str) -> QAction:
    return next(a for a in menu.actions() if a.text() == text)


def test_the_menu_lists_the_top_incidents_by_priority_with_acknowledge(qtbot: QtBot) -> None:
    calls = Calls()
    tray = Tray(LIGHT, calls.callbacks())
    incidents = [
        incident(n, p) for n, p in enumerate([Priority.P4, Priority.P1] + [Priority.P3] * 5)
    ]

    tray.update(incidents)

    assert (tray.state, tray.count) == (TrayState.CRITICAL, 7)
    assert tray.icon.toolTip() == "oncall-console: 7 unacknowledged (worst P1)"
    entries = texts(tray.menu)
    assert entries[0] == "7 unacknowledged (worst P1)"
    assert entries[1] == "INC-1  P1  Incident number 1"
    assert entries[2 : MENU_LIMIT + 1] == [
        f"INC-{n}  P3  Incident number {n}" for n in (2, 3, 4, 5)
    ]
    assert entries[MENU_LIMIT + 1 :] == [
        "2 more in the window…",
        "Show window",
        "Mute alarm",
        "Quit",
    ]

    first = tray.menu.actions()[1].menu()
    assert texts(first) == ["Acknowledge", "Open"]
    action(first, "Acknowledge").trigger()
    action(first, "Open").trigger()
    action(tray.menu, "2 more in the window…").trigger()
    assert calls.log == [("ack", "id-1"), ("open", "id-1"), ("show", None)]


def test_the_fixed_actions_call_back(qtbot: QtBot) -> None:
    calls = Calls()
    tray = Tray(LIGHT, calls.callbacks(with_open=False))
    tray.update([incident(1, Priority.P3)])
    assert texts(tray.menu.actions()[1].menu()) == ["Acknowledge"]

    tray.show_action.trigger()
    tray.mute_action.trigger()
    tray.mute_action.trigger()
    tray.quit_action.trigger()
    # The alarm unmuting itself is reflected without calling back.
    tray.set_muted(True)
    assert tray.mute_action.isChecked()

    assert calls.log == [("show", None), ("mute", True), ("mute", False), ("quit", None)]


def test_nothing_unacknowledged_reads_ok(qtbot: QtBot) -> None:
    tray = Tray(LIGHT, Calls().callbacks())
    tray.update([incident(1, Priority.P1)])
    tray.update([])

    assert (tray.state, tray.count) == (TrayState.OK, 0)
    assert texts(tray.menu) == ["no unacknowledged incidents", "Show window", "Mute alarm", "Quit"]
    assert not tray.icon.icon().isNull()


def test_without_a_system_tray_the_window_starts_minimised(qtbot: QtBot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    tray = Tray(LIGHT, Calls().callbacks())

    # The offscreen platform has no system tray, like plain GNOME.
    assert not Tray.available()
    assert start_minimised(window, tray) is False
    assert window.isMinimized()
    assert not tray.icon.isVisible()


def test_no_balloon_without_a_visible_tray(qtbot: QtBot) -> None:
    tray = Tray(LIGHT, Calls().callbacks())
    assert tray.balloon("INC-1 P1: down", "503s", critical=True) is False
