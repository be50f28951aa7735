"""Starting a drill from the Runbooks page: asked first, then a DRILL incident in the store."""

from __future__ import annotations

import pytest
from console.store import incidents
from console.store.db import Store
from console.ui.application import Console
from console.ui.views.runbooks import RunbooksPage
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from tests.gui.drive import WAIT_MS, click, go_to, select_record

pytestmark = pytest.mark.gui

RUNBOOK = "failing-upstream-api"


def drills_in(store: Store) -> list[str]:
    return [i.title for i in incidents.list_incidents(store.read()) if i.drill]


def test_a_drill_starts_from_the_selected_runbook_after_confirming(
    qtbot: QtBot, console: Console, other: Store
) -> None:
    go_to(qtbot, console.window, "Runbooks")
    page = console.window.current_page()
    assert isinstance(page, RunbooksPage)
    editor = page.runbooks
    select_record(qtbot, editor, RUNBOOK)
    assert editor.drill_button.isEnabled()
    # Cancel first: nothing happens.
    click(qtbot, editor.drill_button)
    box = editor.drill_confirmation
    assert isinstance(box, QMessageBox) and "DRILL" in box.informativeText()
    box.reject()
    qtbot.waitUntil(lambda: editor.drill_confirmation is None, timeout=WAIT_MS)
    assert drills_in(other) == []
    # Then start it.
    click(qtbot, editor.drill_button)
    box = editor.drill_confirmation
    assert box is not None
    start = next(b for b in box.buttons() if b.objectName() == "ConfirmButton")
    with qtbot.waitSignal(editor.message, timeout=WAIT_MS) as said:
        start.click()
    assert said.args is not None and said.args[0].startswith("Drill INC-")
    title = editor.title_edit.text()
    assert drills_in(other) == [f"DRILL: {title}"]
    # A form with unsaved edits cannot start one (the drill uses the stored runbook).
    editor.title_edit.setFocus()
    qtbot.keyClicks(editor.title_edit, " (edited)")
    assert not editor.drill_button.isEnabled()
