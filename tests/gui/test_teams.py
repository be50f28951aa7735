"""Creating, editing and deleting a team through the Teams page, as a person would."""

from __future__ import annotations

import pytest
from console.core.enums import Discipline, MemberRole
from console.core.models import Estate, Membership, Team
from console.store import entities
from console.store.db import Store
from console.ui.application import Console
from console.ui.views.teams import TeamsPage
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox
from pytestqt.qtbot import QtBot

from tests.gui.drive import (
    choose,
    click,
    click_row,
    confirm_delete,
    focused,
    go_to,
    replace_text,
    save_with_keyboard,
    select_record,
    stored,
    tab_and_type,
    wait_idle,
    wait_stored,
)

pytestmark = pytest.mark.gui


def _teams_page(qtbot: QtBot, console: Console) -> TeamsPage:
    go_to(qtbot, console.window, "Teams")
    page = console.window.current_page()
    assert isinstance(page, TeamsPage)
    return page


def _member(demo: Estate, name: str) -> str:
    return next(m.email for m in demo.members if m.name == name)


def test_create_edit_and_delete_a_team(
    qtbot: QtBot, console: Console, other: Store, demo: Estate
) -> None:
    editor = _teams_page(qtbot, console).teams
    console.window.activateWindow()
    click(qtbot, editor.new_button)
    assert focused() is editor.key_edit
    assert editor.form_title.text() == "New team"
    qtbot.keyClicks(editor.key_edit, "sre")
    tab_and_type(qtbot, "Site Reliability")
    discipline = tab_and_type(qtbot, "Dev")
    assert discipline is editor.discipline and discipline.currentText() == "Development"
    lead = tab_and_type(qtbot, "Katrin")
    assert lead is editor.lead
    bridge = tab_and_type(qtbot, "https://meet.example.com/sre")
    assert bridge is editor.bridge_edit
    choose(qtbot, editor.member_picker, "Katrin Vogel")
    choose(qtbot, editor.role_picker, "Lead")
    click(qtbot, editor.add_member_button)
    choose(qtbot, editor.member_picker, "Daniel Okafor")
    choose(qtbot, editor.role_picker, "Responder")
    click(qtbot, editor.add_member_button)
    assert editor.dirty
    save_with_keyboard(qtbot, console.window)

    katrin, daniel = _member(demo, "Katrin Vogel"), _member(demo, "Daniel Okafor")
    estate = wait_stored(qtbot, other, lambda e: any(t.key == "sre" for t in e.teams))
    team = next(t for t in estate.teams if t.key == "sre")
    assert team.name == "Site Reliability"
    assert team.discipline is Discipline.DEVELOPMENT
    assert team.lead == katrin
    assert team.bridge_url == "https://meet.example.com/sre"
    assert team.members == (
        Membership(katrin, MemberRole.LEAD),
        Membership(daniel, MemberRole.RESPONDER),
    )
    wait_idle(qtbot, editor)
    assert editor.current_key == "sre"
    assert editor.key_edit.isReadOnly()

    # Edit: a new name, and Daniel becomes a shadow through the role column's editor.
    replace_text(qtbot, editor.name_edit, "Site Reliability Engineering")
    click_row(qtbot, editor.members_view, 1, column=2)
    qtbot.keyClick(editor.members_view, Qt.Key.Key_F2)
    role_editor = focused()
    assert isinstance(role_editor, QComboBox)
    qtbot.keyClicks(role_editor, "Shadow")
    qtbot.keyClick(role_editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: editor.memberships.memberships()[1].role is MemberRole.SHADOW)
    click(qtbot, editor.save_button)
    estate = wait_stored(
        qtbot,
        other,
        lambda e: any(t.name == "Site Reliability Engineering" for t in e.teams),
    )
    team = next(t for t in estate.teams if t.key == "sre")
    assert team.role_of(daniel) is MemberRole.SHADOW
    assert team.role_of(katrin) is MemberRole.LEAD
    wait_idle(qtbot, editor)

    # Delete: the Delete key in the list asks first; confirming removes it.
    select_record(qtbot, editor, "sre")
    editor.table.setFocus()
    qtbot.keyClick(editor.table, Qt.Key.Key_Delete)
    confirm_delete(qtbot, editor)
    wait_stored(qtbot, other, lambda e: all(t.key != "sre" for t in e.teams))
    qtbot.waitUntil(lambda: editor.current_key not in (None, "sre"))


def test_a_cancelled_delete_keeps_the_team(
    qtbot: QtBot, console: Console, other: Store, demo: Estate
) -> None:
    editor = _teams_page(qtbot, console).teams
    # A team nothing refers to, written by another connection: the console picks it up.
    key = "qa"
    entities.save(other, Team(key, "Quality Assurance", Discipline.DEVELOPMENT))
    qtbot.waitUntil(lambda: editor.table_model.row_of(key) >= 0, timeout=5000)
    select_record(qtbot, editor, key)
    click(qtbot, editor.delete_button)
    qtbot.waitUntil(lambda: editor.confirmation is not None and editor.confirmation.isVisible())
    assert editor.confirmation is not None
    qtbot.keyClick(editor.confirmation, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: editor.confirmation is None)
    assert any(t.key == key for t in stored(other).teams)
    assert editor.current_key == key


def test_a_team_still_owning_services_is_not_deleted(
    qtbot: QtBot, console: Console, other: Store, demo: Estate
) -> None:
    editor = _teams_page(qtbot, console).teams
    owner = demo.services[0].team
    select_record(qtbot, editor, owner)
    click(qtbot, editor.delete_button)
    assert editor.confirmation is None
    assert editor.banner.isVisible()
    assert "cannot be deleted" in editor.banner.text()
    assert demo.services[0].key in editor.banner.text()
    assert any(t.key == owner for t in stored(other).teams)
