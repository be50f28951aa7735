"""The main window: pages, keyboard navigation, focus order, status bar, quitting."""

from __future__ import annotations

import pytest
from console.core.models import Estate
from console.ui.application import Console
from console.ui.views.placeholder import PlaceholderPage
from console.ui.views.teams import TeamsPage
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from tests.gui.drive import focused, go_to

pytestmark = pytest.mark.gui

PAGES = [
    "Incidents",
    "Monitoring",
    "Endpoints",
    "Teams",
    "Services",
    "Runbooks",
    "Resources",
    "Escalation",
    "Post-mortems",
    "Reports",
]


def test_the_sidebar_lists_every_page_and_ctrl_digits_switch_to_them(
    qtbot: QtBot, console: Console
) -> None:
    window = console.window
    assert window.page_names() == PAGES
    for number, name in enumerate(PAGES, start=1):
        digit = number % 10  # Ctrl+1 to Ctrl+9, then Ctrl+0 for the tenth page
        qtbot.keyClick(
            window.sidebar, Qt.Key(Qt.Key.Key_0 + digit), Qt.KeyboardModifier.ControlModifier
        )
        assert window.current_page().title == name
        assert window.sidebar.currentItem().text() == name
    go_to(qtbot, window, "Teams")
    assert window.show_page("post-MORTEMS") and window.current_page().title == "Post-mortems"
    assert not window.show_page("Nowhere")


def test_pages_not_built_yet_say_so(qtbot: QtBot, console: Console) -> None:
    for name in ("Post-mortems",):
        go_to(qtbot, console.window, name)
        page = console.window.current_page()
        assert isinstance(page, PlaceholderPage)
        texts = " ".join(label.text() for label in page.findChildren(QLabel) if label.isVisible())
        assert "not built yet" in texts
        assert page.current_editor() is None
        assert not console.window.new_action.isEnabled()


def test_tab_walks_the_team_form_in_reading_order(qtbot: QtBot, console: Console) -> None:
    go_to(qtbot, console.window, "Teams")
    page = console.window.current_page()
    assert isinstance(page, TeamsPage)
    editor = page.teams
    console.window.activateWindow()
    editor.filter_edit.setFocus()
    expected = [
        editor.new_button,
        editor.table,
        editor.key_edit,
        editor.name_edit,
        editor.discipline,
        editor.lead,
        editor.bridge_edit,
        editor.notes_edit,
        editor.members_view,
        editor.member_picker,
        editor.role_picker,
        editor.add_member_button,
        editor.remove_member_button,
        editor.save_button,
    ]
    for widget in expected:
        current = focused()
        assert current is not None
        qtbot.keyClick(current, Qt.Key.Key_Tab)
        if not widget.isEnabled():  # disabled buttons are skipped, as they should be
            continue
        assert focused() is widget, f"Tab went to {focused()!r}, expected {widget!r}"


def test_status_bar_shows_store_identity_and_engine(
    qtbot: QtBot, console: Console, demo: Estate
) -> None:
    window = console.window
    assert str(console.store.path) in window.store_label.text()
    qtbot.waitUntil(lambda: window.identity_label.text() != "Identity: …")
    assert console.store.actor in window.identity_label.text()
    # No engine host in this console and no engine on the store (read on the worker).
    qtbot.waitUntil(lambda: window.engine_label.text() == "Engine: stopped")


def test_ctrl_f_focuses_the_filter_and_filters(
    qtbot: QtBot, console: Console, demo: Estate
) -> None:
    go_to(qtbot, console.window, "Teams")
    page = console.window.current_page()
    assert isinstance(page, TeamsPage)
    console.window.activateWindow()
    qtbot.keyClick(console.window.sidebar, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert focused() is page.teams.filter_edit
    team = demo.teams[1]
    qtbot.keyClicks(page.teams.filter_edit, team.name)
    assert page.teams.proxy.rowCount() == 1
    assert page.teams.proxy.index(0, 0).data() == team.name


def test_ctrl_q_closes_the_window(qtbot: QtBot, console: Console) -> None:
    window = console.window
    assert window.isVisible()
    qtbot.keyClick(window.sidebar, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isVisible())
