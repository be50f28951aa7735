"""Writing, revising, searching and deleting a runbook; reading an older version."""

from __future__ import annotations

import pytest
from console.core.models import Estate, Runbook
from console.store.db import Store
from console.ui.application import Console
from console.ui.models.base import KEY_ROLE
from console.ui.views.runbooks import RunbooksPage
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.gui.drive import (
    click,
    click_check_box,
    click_row,
    confirm_delete,
    go_to,
    open_tab,
    replace_text,
    save_with_keyboard,
    select_record,
    type_lines,
    wait_idle,
    wait_stored,
)

pytestmark = pytest.mark.gui


def _page(qtbot: QtBot, console: Console) -> RunbooksPage:
    go_to(qtbot, console.window, "Runbooks")
    page = console.window.current_page()
    assert isinstance(page, RunbooksPage)
    return page


def _shown_keys(page: RunbooksPage) -> list[str]:
    proxy = page.runbooks.proxy
    return [proxy.index(r, 0).data(KEY_ROLE) for r in range(proxy.rowCount())]


def test_write_revise_read_history_and_delete_a_runbook(
    qtbot: QtBot, console: Console, other: Store, demo: Estate
) -> None:
    page = _page(qtbot, console)
    editor = page.runbooks
    service = demo.services[0]
    click(qtbot, editor.new_button)
    qtbot.keyClicks(editor.key_edit, "cert-expiry")
    qtbot.keyClicks(editor.title_edit, "Certificate about to expire")
    qtbot.keyClicks(editor.scenario_edit, "A TLS certificate expires within 7 days.")
    click_check_box(qtbot, editor.services_view, service.name)
    # Step 1 exists already in a new runbook.
    qtbot.keyClicks(editor.step_title_edit, "Find the certificate")
    editor.minutes_spin.setFocus()
    qtbot.keyClick(editor.minutes_spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(editor.minutes_spin, "10")
    type_lines(qtbot, editor.body_edit, "## Locate\n\nRun `openssl x509 -enddate`.")
    assert "Locate" in editor.preview.toPlainText()
    assert "##" not in editor.preview.toPlainText()  # rendered, not echoed
    click(qtbot, editor.add_step_button)
    qtbot.keyClicks(editor.step_title_edit, "Revoke the old key")
    assert not editor.evidence_warning.isVisible()
    click(qtbot, editor.evidence_check)
    assert editor.evidence_warning.isVisible()
    qtbot.keyClicks(editor.body_edit, "Revoke it with the CA.")
    save_with_keyboard(qtbot, console.window)

    estate = wait_stored(qtbot, other, lambda e: any(r.key == "cert-expiry" for r in e.runbooks))
    runbook = next(r for r in estate.runbooks if r.key == "cert-expiry")
    assert runbook.title == "Certificate about to expire"
    assert runbook.services == (service.key,)
    assert [s.title for s in runbook.steps] == ["Find the certificate", "Revoke the old key"]
    assert runbook.steps[0].expected_minutes == 10 and not runbook.steps[0].destroys_evidence
    assert runbook.steps[0].body == "## Locate\n\nRun `openssl x509 -enddate`."
    assert runbook.steps[1].destroys_evidence and runbook.steps[1].expected_minutes is None
    wait_idle(qtbot, editor)

    # Revise: a new title and the steps swapped; the store keeps both versions.
    replace_text(qtbot, editor.title_edit, "TLS certificate expiring")
    click_row(qtbot, editor.steps_view, 1)
    click(qtbot, editor.up_button)
    click(qtbot, editor.save_button)
    estate = wait_stored(
        qtbot, other, lambda e: any(r.title == "TLS certificate expiring" for r in e.runbooks)
    )
    runbook = next(r for r in estate.runbooks if r.key == "cert-expiry")
    assert runbook.steps[0].title == "Revoke the old key"
    wait_idle(qtbot, editor)

    open_tab(qtbot, page.tabs, "History")
    history = page.history
    qtbot.waitUntil(lambda: history.versions.rowCount() == 2)
    assert "TLS certificate expiring" in history.reader.toPlainText()
    click_row(qtbot, history.versions_view, 1)  # the older version
    assert "Certificate about to expire" in history.reader.toPlainText()
    assert "read-only" in history.version_label.text()
    assert history.reader.isReadOnly()

    open_tab(qtbot, page.tabs, "Runbooks")
    select_record(qtbot, editor, "cert-expiry")
    click(qtbot, editor.delete_button)
    confirm_delete(qtbot, editor)
    wait_stored(qtbot, other, lambda e: all(r.key != "cert-expiry" for r in e.runbooks))


def test_search_finds_runbooks_by_their_text(qtbot: QtBot, console: Console, demo: Estate) -> None:
    page = _page(qtbot, console)
    editor = page.runbooks

    def text(r: Runbook) -> str:
        return " ".join([r.title, r.scenario, *(s.title + " " + s.body for s in r.steps)])

    expected = {r.key for r in demo.runbooks if "intrusion" in text(r).lower()}
    assert 0 < len(expected) < len(demo.runbooks)
    qtbot.keyClick(console.window.sidebar, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert editor.filter_edit.hasFocus()
    qtbot.keyClicks(editor.filter_edit, "intrusion")
    qtbot.waitUntil(lambda: set(_shown_keys(page)) == expected)
    assert f"{len(expected)} of {len(demo.runbooks)}" in editor.count_label.text()
    replace_text(qtbot, editor.filter_edit, "nosuchwordanywhere")
    qtbot.waitUntil(lambda: _shown_keys(page) == [])
    replace_text(qtbot, editor.filter_edit, "")
    qtbot.waitUntil(lambda: len(_shown_keys(page)) == len(demo.runbooks))
