"""The Policies and Schedules tabs: YAML items checked as you type, saved, previewed, deleted."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from console.core.clock import FakeClock
from console.core.enums import Discipline, ImpactTier, MemberRole
from console.core.escalation import Level, Policy, Target, TargetKind
from console.core.models import Member, Membership, Service, Team
from console.core.schedules import Layer, Schedule, ShiftUnit
from console.core.silences import Weekday
from console.store import entities
from console.store.db import Store
from console.ui.application import Console, application
from console.ui.views.escalation import EscalationPage
from console.ui.views.section_editor import SectionEditor
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from tests.gui.drive import click, go_to, open_tab, stored, wait_stored

pytestmark = pytest.mark.gui

WAIT_MS = 10_000
ANA, BOB = "ana@example.com", "bob@example.com"
T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
OPS = Schedule(
    "ops",
    "Operations",
    "Europe/Berlin",
    (Layer("Primary", (ANA, BOB), 1, ShiftUnit.WEEKS, date(2026, 3, 2), time(9), Weekday.MON),),
)
POLICY = Policy(
    "ops-default",
    "Operations default",
    (
        Level(timedelta(0), (Target(TargetKind.SCHEDULE, "ops"),)),
        Level(timedelta(minutes=10), (Target(TargetKind.TEAM, "ops"),), urgent=True),
    ),
    services=("gateway",),
)


@dataclass
class Running:
    console: Console
    page: EscalationPage
    store: Store


@pytest.fixture
def running(qtbot: QtBot, tmp_path: Path) -> Iterator[Running]:
    path = tmp_path / "store.db"
    with Store.open(path, FakeClock(T0)) as store:
        for email in (ANA, BOB):
            name = email.split("@")[0].title() + " Example"
            entities.save(store, Member(email, name, "Europe/Berlin", Discipline.INFRASTRUCTURE))
        members = (Membership(ANA, MemberRole.LEAD), Membership(BOB, MemberRole.RESPONDER))
        entities.save(store, Team("ops", "Ops", Discipline.INFRASTRUCTURE, members=members))
        entities.save(store, Service("gateway", "Gateway", "ops", ImpactTier.TIER_1))
        entities.save(store, OPS)
        entities.save(store, POLICY)
    con = Console(Store.open(path, FakeClock(T0)), application())
    con.window.resize(1600, 1000)
    con.window.show()
    with qtbot.waitSignal(con.ready, timeout=WAIT_MS):
        con.start()
    go_to(qtbot, con.window, "Escalation")
    page = con.window.current_page()
    assert isinstance(page, EscalationPage)
    yield Running(con, page, con.store)
    con.close()


def problem_texts(editor: SectionEditor) -> list[str]:
    return [editor.problems.item(i).text() for i in range(editor.problems.count())]


def list_row(editor: SectionEditor, key: str) -> int:
    rows = [editor.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(editor.list.count())]
    return rows.index(key)


def click_list_row(qtbot: QtBot, editor: SectionEditor, key: str) -> None:
    rect = editor.list.visualItemRect(editor.list.item(list_row(editor, key)))
    qtbot.mouseClick(editor.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def retype_line_end(qtbot: QtBot, editor: SectionEditor, line: int, column: int, text: str) -> None:
    """Put the cursor at (line, column), select to the end of the line and type over it."""
    editor.text.go_to(line, column)
    qtbot.keyClick(editor.text, Qt.Key.Key_End, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(editor.text, text)


def line_of(editor: SectionEditor, needle: str) -> int:
    lines = editor.text.toPlainText().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


def confirm(qtbot: QtBot, editor: SectionEditor) -> None:
    qtbot.waitUntil(lambda: editor.confirmation is not None and editor.confirmation.isVisible())
    assert editor.confirmation is not None
    button = editor.confirmation.findChild(QWidget, "ConfirmButton")
    assert button is not None
    click(qtbot, button)


def test_a_policy_is_edited_as_text_a_typo_is_shown_at_its_line_and_ctrl_s_saves(
    qtbot: QtBot, running: Running
) -> None:
    page = running.page
    open_tab(qtbot, page.tabs, "Policies")
    editor = page.policies
    qtbot.waitUntil(lambda: editor.key == "ops-default", timeout=WAIT_MS)
    assert editor.list.count() == 1 and "ops-default" in editor.list.item(0).text()
    assert not editor.save_button.isEnabled()  # nothing changed yet
    assert "Level 2, after 10 min: everyone in team ops (urgent)" in editor.description.text()
    line = line_of(editor, "delay: 10 min")
    column = editor.text.toPlainText().splitlines()[line - 1].index("10 min") + 1
    retype_line_end(qtbot, editor, line, column, "15 mni")
    qtbot.waitUntil(lambda: any("'15 mni'" in t for t in problem_texts(editor)), timeout=WAIT_MS)
    assert problem_texts(editor)[0].startswith(f"line {line}, column {column}: levels[1].delay")
    assert not editor.save_button.isEnabled()
    # Clicking the problem puts the cursor on it.
    editor.text.go_to(1, 1)
    row = editor.problems.item(0)
    qtbot.mouseClick(
        editor.problems.viewport(),
        Qt.MouseButton.LeftButton,
        pos=editor.problems.visualItemRect(row).center(),
    )
    cursor = editor.text.textCursor()
    assert (cursor.blockNumber() + 1, cursor.positionInBlock() + 1) == (line, column)
    retype_line_end(qtbot, editor, line, column, "15 min")
    qtbot.waitUntil(lambda: editor.save_button.isEnabled(), timeout=WAIT_MS)
    assert problem_texts(editor) == ["No problems"]
    assert "after 15 min" in editor.description.text()
    qtbot.keyClick(editor.text, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    estate = wait_stored(
        qtbot,
        running.store,
        lambda e: e.escalation_policies[0].levels[1].delay == timedelta(minutes=15),
    )
    assert estate.escalation_policies[0].levels[0] == POLICY.levels[0]
    qtbot.waitUntil(lambda: not editor.dirty and editor.status.text() == "Saved", timeout=WAIT_MS)


def test_a_new_schedule_from_the_template_shows_its_blocks_and_saves(
    qtbot: QtBot, running: Running
) -> None:
    page = running.page
    open_tab(qtbot, page.tabs, "Schedules")
    editor = page.schedules
    qtbot.waitUntil(lambda: editor.key == "ops", timeout=WAIT_MS)
    click(qtbot, editor.new_button)
    assert editor.key is None and editor.title.text() == "New schedule"
    assert editor.check is not None and editor.check.ok, editor.check
    reading = editor.timeline.reading
    assert reading is not None and reading.schedules[0].schedule.key == "new-schedule"
    # The blocks are those of the last paint: wait for the one showing the template.
    qtbot.waitUntil(
        lambda: any(b.text.startswith("New schedule: ") for b in editor.timeline.blocks),
        timeout=WAIT_MS,
    )
    cover = reading.schedules[0]
    assert len(editor.timeline.blocks) == len(cover.shifts) + len(cover.gaps)
    # The template rotates the first two members weekly from today (T0 in the store's clock).
    assert {s.member for s in cover.shifts} == {ANA, BOB}
    assert cover.shifts[0].start == T0 and not cover.gaps
    assert editor.timeline.blocks[0].text.startswith("New schedule: Ana Example\n")
    click(qtbot, editor.save_button)
    estate = wait_stored(qtbot, running.store, lambda e: len(e.schedules) == 2)
    assert {s.key for s in estate.schedules} == {"ops", "new-schedule"}
    qtbot.waitUntil(lambda: editor.list.count() == 2 and editor.key == "new-schedule")


def test_deleting_a_schedule_a_policy_uses_shows_the_conflict(
    qtbot: QtBot, running: Running
) -> None:
    page = running.page
    open_tab(qtbot, page.tabs, "Schedules")
    editor = page.schedules
    qtbot.waitUntil(lambda: editor.key == "ops", timeout=WAIT_MS)
    click(qtbot, editor.delete_button)
    confirm(qtbot, editor)
    qtbot.waitUntil(lambda: editor.banner.isVisible(), timeout=WAIT_MS)
    assert "still used by: escalation policy ops-default" in editor.banner.text()
    assert [s.key for s in stored(running.store).schedules] == ["ops"]
    assert editor.delete_button.isEnabled()


def test_leaving_an_item_with_unsaved_edits_asks_first(qtbot: QtBot, running: Running) -> None:
    page = running.page
    open_tab(qtbot, page.tabs, "Schedules")
    editor = page.schedules
    qtbot.waitUntil(lambda: editor.key == "ops", timeout=WAIT_MS)
    retype_line_end(qtbot, editor, 2, 9, "Ops renamed")
    assert editor.dirty
    click(qtbot, editor.new_button)
    qtbot.waitUntil(lambda: editor.confirmation is not None and editor.confirmation.isVisible())
    assert editor.confirmation is not None
    editor.confirmation.reject()  # Cancel: stay on the edited item
    qtbot.waitUntil(lambda: editor.confirmation is None)
    assert editor.key == "ops" and "Ops renamed" in editor.text.toPlainText()
    # The estate changing under the edit keeps it.
    running.page.estate_model.reload()
    qtbot.waitSignal(running.page.estate_model.changed, timeout=WAIT_MS)
    assert "Ops renamed" in editor.text.toPlainText()
    click(qtbot, editor.new_button)
    confirm(qtbot, editor)
    qtbot.waitUntil(lambda: editor.key is None and editor.title.text() == "New schedule")
    assert "Ops renamed" not in editor.text.toPlainText()
