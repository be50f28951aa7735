"""Creating and deleting a shared resource; its secret is only a keyring entry name."""

from __future__ import annotations

import pytest
from console.core.enums import ResourceKind
from console.core.models import Estate
from console.store.db import Store
from console.ui.application import Console
from console.ui.views.resources import ResourcesPage
from pytestqt.qtbot import QtBot

from tests.gui.drive import (
    choose,
    click,
    click_check_box,
    confirm_delete,
    go_to,
    select_record,
    wait_idle,
    wait_stored,
)

pytestmark = pytest.mark.gui


def test_create_and_delete_a_shared_resource(
    qtbot: QtBot, console: Console, other: Store, demo: Estate
) -> None:
    go_to(qtbot, console.window, "Resources")
    page = console.window.current_page()
    assert isinstance(page, ResourcesPage)
    editor = page.resources
    team = demo.teams[0]
    click(qtbot, editor.new_button)
    qtbot.keyClicks(editor.key_edit, "vendor-hotline")
    qtbot.keyClicks(editor.name_edit, "Cloud vendor hotline")
    choose(qtbot, editor.kind_combo, "Vendor support")
    click_check_box(qtbot, editor.teams_view, team.name)
    qtbot.keyClicks(editor.obtain_edit, "Call the number on the support contract.")
    qtbot.keyClicks(editor.secret_edit, "oncall-console/vendor-hotline-pin")
    click(qtbot, editor.save_button)
    estate = wait_stored(
        qtbot, other, lambda e: any(r.key == "vendor-hotline" for r in e.resources)
    )
    resource = next(r for r in estate.resources if r.key == "vendor-hotline")
    assert resource.kind is ResourceKind.VENDOR_SUPPORT
    assert resource.who_may_use == (team.key,)
    assert resource.how_to_obtain == "Call the number on the support contract."
    assert resource.secret_ref == "oncall-console/vendor-hotline-pin"
    wait_idle(qtbot, editor)

    select_record(qtbot, editor, "vendor-hotline")
    click(qtbot, editor.delete_button)
    confirm_delete(qtbot, editor)
    wait_stored(qtbot, other, lambda e: all(r.key != "vendor-hotline" for r in e.resources))
