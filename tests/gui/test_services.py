"""Creating, editing and deleting a service; changing the priority matrix."""

from __future__ import annotations

import pytest
from console.core.enums import ImpactTier, Priority, Severity
from console.core.models import Estate, PriorityMatrix
from console.store.db import Store
from console.ui.application import Console
from console.ui.views.services import ServicesPage
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.gui.drive import (
    choose,
    click,
    click_check_box,
    confirm_delete,
    go_to,
    open_tab,
    replace_text,
    select_record,
    stored,
    wait_idle,
    wait_stored,
)

pytestmark = pytest.mark.gui


def _page(qtbot: QtBot, console: Console) -> ServicesPage:
    go_to(qtbot, console.window, "Services")
    page = console.window.current_page()
    assert isinstance(page, ServicesPage)
    return page


def test_create_edit_and_delete_a_service(
    qtbot: QtBot, console: Console, other: Store, demo: Estate
) -> None:
    editor = _page(qtbot, console).services
    team = demo.teams[0]
    first, second = demo.services[0], demo.services[1]
    click(qtbot, editor.new_button)
    qtbot.keyClicks(editor.key_edit, "search-api")
    qtbot.keyClicks(editor.name_edit, "Search API")
    choose(qtbot, editor.team, team.name)
    choose(qtbot, editor.tier, "Tier 2")
    qtbot.keyClicks(editor.description_edit, "Product search for the shop.")
    qtbot.keyClicks(editor.tags_edit, "search, customer-facing")
    click_check_box(qtbot, editor.dependencies_view, first.name)
    # The keyboard way: select the item, press Space.
    view = editor.dependencies_view
    row = next(
        r for r in range(view.model().rowCount()) if view.model().index(r, 0).data() == second.name
    )
    view.setFocus()
    view.setCurrentIndex(view.model().index(row, 0))
    qtbot.keyClick(view, Qt.Key.Key_Space)
    click(qtbot, editor.save_button)

    estate = wait_stored(qtbot, other, lambda e: any(s.key == "search-api" for s in e.services))
    service = next(s for s in estate.services if s.key == "search-api")
    assert service.name == "Search API"
    assert service.team == team.key
    assert service.tier is ImpactTier.TIER_2
    assert service.description == "Product search for the shop."
    assert service.tags == ("search", "customer-facing")
    assert set(service.depends_on) == {first.key, second.key}
    wait_idle(qtbot, editor)

    choose(qtbot, editor.tier, "Tier 1")
    click_check_box(qtbot, editor.dependencies_view, first.name)  # untick
    replace_text(qtbot, editor.tags_edit, "search")
    click(qtbot, editor.save_button)
    estate = wait_stored(
        qtbot,
        other,
        lambda e: any(s.key == "search-api" and s.tier is ImpactTier.TIER_1 for s in e.services),
    )
    service = next(s for s in estate.services if s.key == "search-api")
    assert service.depends_on == (second.key,) and service.tags == ("search",)
    wait_idle(qtbot, editor)

    select_record(qtbot, editor, "search-api")
    click(qtbot, editor.delete_button)
    confirm_delete(qtbot, editor)
    wait_stored(qtbot, other, lambda e: all(s.key != "search-api" for s in e.services))


def test_change_the_priority_matrix(qtbot: QtBot, console: Console, other: Store) -> None:
    page = _page(qtbot, console)
    open_tab(qtbot, page.tabs, "Priority matrix")
    matrix = page.matrix
    before = stored(other).priority_matrix or PriorityMatrix()
    assert not matrix.save_button.isEnabled()
    cell = matrix.cells[(ImpactTier.TIER_4, 0)]  # tier 4, critical
    choose(qtbot, cell, "P2")
    assert matrix.save_button.isEnabled()
    click(qtbot, matrix.save_button)
    estate = wait_stored(
        qtbot,
        other,
        lambda e: (
            e.priority_matrix is not None
            and e.priority_matrix.priority(ImpactTier.TIER_4, Severity.CRITICAL) is Priority.P2
        ),
    )
    assert estate.priority_matrix == before.with_cell(
        ImpactTier.TIER_4, Severity.CRITICAL, Priority.P2
    )
    qtbot.waitUntil(lambda: not matrix.save_button.isEnabled())
