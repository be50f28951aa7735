"""Validation errors appear next to the field they concern, and nothing is written."""

from __future__ import annotations

import pytest
from console.store.db import Store
from console.store.events import last_seq
from console.ui.application import Console
from console.ui.views.runbooks import RunbooksPage
from console.ui.views.teams import TeamsPage
from pytestqt.qtbot import QtBot

from tests.gui.drive import (
    click,
    focused,
    go_to,
    open_tab,
    replace_text,
    select_record,
    stored,
)

pytestmark = pytest.mark.gui


def _teams(qtbot: QtBot, console: Console) -> TeamsPage:
    go_to(qtbot, console.window, "Teams")
    page = console.window.current_page()
    assert isinstance(page, TeamsPage)
    return page


def test_a_bad_member_shows_errors_under_its_fields_and_writes_nothing(
    qtbot: QtBot, console: Console, other: Store
) -> None:
    page = _teams(qtbot, console)
    open_tab(qtbot, page.tabs, "Members")
    editor = page.members
    before = last_seq(other.read())
    click(qtbot, editor.new_button)
    qtbot.keyClicks(editor.email_edit, "not-an-email")
    qtbot.keyClicks(editor.name_edit, "Somebody")
    qtbot.keyClicks(editor.zone_edit, "Mars/Olympus_Mons")
    click(qtbot, editor.save_button)

    email_error = editor.form.error_label("email")
    zone_error = editor.form.error_label("timezone")
    name_error = editor.form.error_label("name")
    assert email_error is not None and zone_error is not None and name_error is not None
    assert email_error.isVisible() and "expected an email address" in email_error.text().lower()
    assert zone_error.isVisible() and "IANA time zone" in zone_error.text()
    assert not name_error.isVisible()
    # Next to the field: the error line sits right under it, in the same column.
    field_box = editor.email_edit.geometry()
    assert email_error.geometry().top() >= field_box.bottom()
    assert abs(email_error.geometry().left() - field_box.left()) <= 2
    assert editor.email_edit.property("invalid") is True
    assert focused() is editor.email_edit
    assert editor.banner.isVisible()
    assert last_seq(other.read()) == before
    assert all(m.email != "not-an-email" for m in stored(other).members)

    # Correcting the fields clears the errors and saves.
    replace_text(qtbot, editor.email_edit, "somebody@example.com")
    replace_text(qtbot, editor.zone_edit, "Europe/Oslo")
    click(qtbot, editor.save_button)
    qtbot.waitUntil(lambda: any(m.email == "somebody@example.com" for m in stored(other).members))
    assert not email_error.isVisible() and not zone_error.isVisible()
    assert editor.email_edit.property("invalid") is False


def test_a_duplicate_id_and_a_bad_bridge_are_refused(
    qtbot: QtBot, console: Console, other: Store
) -> None:
    editor = _teams(qtbot, console).teams
    existing = stored(other).teams[0]
    before = last_seq(other.read())
    click(qtbot, editor.new_button)
    qtbot.keyClicks(editor.key_edit, existing.key)
    qtbot.keyClicks(editor.name_edit, "Impostor")
    qtbot.keyClicks(editor.bridge_edit, "ftp://bridge.example.com")
    click(qtbot, editor.save_button)
    id_error, bridge_error = editor.form.error_label("id"), editor.form.error_label("bridge")
    assert id_error is not None and "already exists" in id_error.text()
    assert bridge_error is not None and "https/tel/sip" in bridge_error.text()
    assert last_seq(other.read()) == before
    assert next(t for t in stored(other).teams if t.key == existing.key) == existing


def test_an_edit_that_empties_a_runbook_step_is_refused(
    qtbot: QtBot, console: Console, other: Store
) -> None:
    go_to(qtbot, console.window, "Runbooks")
    page = console.window.current_page()
    assert isinstance(page, RunbooksPage)
    editor = page.runbooks
    original = stored(other).runbooks[0]
    select_record(qtbot, editor, original.key)
    before = last_seq(other.read())
    replace_text(qtbot, editor.step_title_edit, "")
    replace_text(qtbot, editor.title_edit, "")
    click(qtbot, editor.save_button)
    steps_error = editor.form.error_label("steps")
    title_error = editor.form.error_label("title")
    assert steps_error is not None and title_error is not None
    assert "Step 1, title: must not be empty" in steps_error.text()
    assert "must not be empty" in title_error.text().lower()
    assert last_seq(other.read()) == before
    assert next(r for r in stored(other).runbooks if r.key == original.key) == original
