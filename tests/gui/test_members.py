"""Creating, editing and deleting a member on the Teams page's Members tab."""

from __future__ import annotations

import pytest
from console.core.enums import Discipline
from console.core.models import ChatHandle
from console.store.db import Store
from console.ui.application import Console
from console.ui.views.teams import MemberEditor, TeamsPage
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.gui.drive import (
    choose,
    click,
    confirm_delete,
    focused,
    go_to,
    open_tab,
    replace_text,
    save_with_keyboard,
    select_record,
    tab_and_type,
    wait_idle,
    wait_stored,
)

pytestmark = pytest.mark.gui

EMAIL = "grace.hopper@example.com"


def _members_tab(qtbot: QtBot, console: Console) -> MemberEditor:
    go_to(qtbot, console.window, "Teams")
    page = console.window.current_page()
    assert isinstance(page, TeamsPage)
    open_tab(qtbot, page.tabs, "Members")
    return page.members


def test_create_edit_and_delete_a_member(qtbot: QtBot, console: Console, other: Store) -> None:
    editor = _members_tab(qtbot, console)
    console.window.activateWindow()
    qtbot.keyClick(console.window.sidebar, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert focused() is editor.email_edit and editor.form_title.text() == "New member"
    qtbot.keyClicks(editor.email_edit, EMAIL)
    tab_and_type(qtbot, "Grace Hopper")
    zone = tab_and_type(qtbot, "New_Y")
    assert zone is editor.zone_edit
    # The completer offers matching IANA names; pick one from its list with the keyboard.
    popup = editor.zone_edit.completer().popup()
    qtbot.waitUntil(popup.isVisible)
    assert popup.model().index(0, 0).data() == "America/New_York"
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert editor.zone_edit.text() == "America/New_York"
    choose(qtbot, editor.discipline, "Development")
    qtbot.keyClicks(editor.phone_edit, "+1 212 555 0199")
    click(qtbot, editor.add_chat_button)
    network = focused()
    assert network is not None
    qtbot.keyClicks(network, "slack")
    qtbot.keyClick(network, Qt.Key.Key_Tab)  # commits, then edits the handle cell
    handle = focused()
    assert handle is not None and handle is not network
    qtbot.keyClicks(handle, "@grace")
    qtbot.keyClick(handle, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: editor.chat.handles() == (ChatHandle("slack", "@grace"),))
    save_with_keyboard(qtbot, console.window)

    estate = wait_stored(qtbot, other, lambda e: any(m.email == EMAIL for m in e.members))
    member = next(m for m in estate.members if m.email == EMAIL)
    assert member.name == "Grace Hopper"
    assert member.timezone == "America/New_York"
    assert member.discipline is Discipline.DEVELOPMENT
    assert member.phone == "+1 212 555 0199"
    assert member.chat == (ChatHandle("slack", "@grace"),)
    wait_idle(qtbot, editor)

    replace_text(qtbot, editor.name_edit, "Rear Admiral Grace Hopper")
    replace_text(qtbot, editor.phone_edit, "")
    click(qtbot, editor.save_button)
    estate = wait_stored(
        qtbot, other, lambda e: any(m.name.startswith("Rear Admiral") for m in e.members)
    )
    member = next(m for m in estate.members if m.email == EMAIL)
    assert member.phone is None and member.timezone == "America/New_York"
    wait_idle(qtbot, editor)

    select_record(qtbot, editor, EMAIL)
    click(qtbot, editor.delete_button)
    confirm_delete(qtbot, editor)
    wait_stored(qtbot, other, lambda e: all(m.email != EMAIL for m in e.members))


def test_a_member_in_a_team_is_not_deleted(qtbot: QtBot, console: Console, other: Store) -> None:
    editor = _members_tab(qtbot, console)
    email = console.estate.estate.teams[0].members[0].member
    select_record(qtbot, editor, email)
    assert console.estate.estate.teams[0].name in editor.teams_label.text()
    click(qtbot, editor.delete_button)
    assert editor.confirmation is None
    assert "cannot be deleted" in editor.banner.text()
    assert any(m.email == email for m in wait_stored(qtbot, other, lambda e: True).members)
