"""Every Qt item model of the UI passes Qt's model tester, filled with real data."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from console.core.enums import MemberRole
from console.core.models import ChatHandle, Estate, Membership, RunbookStep
from console.store import estate as estate_store
from console.ui.application import Console
from console.ui.models.base import KEY_ROLE, RECORD_ROLE, FilterProxy
from console.ui.models.parts import (
    ChatHandlesModel,
    CheckListModel,
    MembershipModel,
    StepsModel,
    VersionsModel,
)
from console.ui.models.records import (
    EstateTableModel,
    members_model,
    resources_model,
    runbooks_model,
    services_model,
    teams_model,
)
from PySide6.QtCore import QObject, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

pytestmark = pytest.mark.gui

FACTORIES: dict[str, Callable[..., EstateTableModel]] = {
    "teams": teams_model,
    "members": members_model,
    "services": services_model,
    "runbooks": runbooks_model,
    "resources": resources_model,
}


@pytest.mark.parametrize("section", sorted(FACTORIES))
def test_estate_table_models_pass_the_model_tester(
    console: Console, qtmodeltester: ModelTester, demo: Estate, section: str
) -> None:
    model = FACTORIES[section](console.estate)
    qtmodeltester.check(model)
    records = getattr(demo, section)
    assert model.rowCount() == len(records) > 0
    keys = {model.index(r, 0).data(KEY_ROLE) for r in range(model.rowCount())}
    assert keys == {getattr(r, "email", None) or r.key for r in records}
    first = model.index(0, 0)
    assert model.data(first, RECORD_ROLE) in records


def test_a_proxy_filtered_by_keys_passes_the_model_tester(
    console: Console, qtmodeltester: ModelTester, demo: Estate
) -> None:
    proxy = FilterProxy()
    proxy.setSourceModel(teams_model(console.estate, proxy))
    keep = {demo.teams[0].key, demo.teams[1].key}
    proxy.set_keys(keep)
    qtmodeltester.check(proxy)
    assert {proxy.index(r, 0).data(KEY_ROLE) for r in range(proxy.rowCount())} == keep
    proxy.set_keys(None)
    proxy.setFilterFixedString(demo.teams[2].name)
    assert [proxy.index(r, 0).data(KEY_ROLE) for r in range(proxy.rowCount())] == [
        demo.teams[2].key
    ]


def test_membership_model(qtmodeltester: ModelTester, demo: Estate) -> None:
    model = MembershipModel()
    team = demo.teams[0]
    model.set_names({m.email: m.name for m in demo.members})
    model.set_memberships(team.members)
    qtmodeltester.check(model)
    role_cell = model.index(0, MembershipModel.ROLE_COLUMN)
    assert model.setData(role_cell, MemberRole.SHADOW.value)
    assert model.memberships()[0] == Membership(team.members[0].member, MemberRole.SHADOW)
    assert not model.setData(role_cell, "not-a-role")
    assert not model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsEditable
    model.add(demo.members[-1].email, MemberRole.LEAD)
    model.remove(0)
    qtmodeltester.check(model)
    assert model.rowCount() == len(team.members)


def test_chat_handles_model(qtmodeltester: ModelTester) -> None:
    model = ChatHandlesModel()
    model.set_handles([ChatHandle("slack", "@ada"), ChatHandle("matrix", "@ada:example.org")])
    qtmodeltester.check(model)
    model.add()
    assert model.setData(model.index(2, 0), "teams")
    assert model.setData(model.index(2, 1), "ada@example.com")
    model.add()  # a blank row is not a handle
    qtmodeltester.check(model)
    assert model.handles()[-1] == ChatHandle("teams", "ada@example.com")
    assert len(model.handles()) == 3


def test_check_list_model(qtmodeltester: ModelTester) -> None:
    model = CheckListModel()
    model.set_items([("a", "Alpha"), ("b", "Beta"), ("c", "Gamma")], ["c"])
    qtmodeltester.check(model)
    assert model.setData(model.index(0), Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
    model.set_checked("c", False)
    model.set_checked("b", True)
    assert model.checked() == ("a", "b")
    assert model.index(1).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked


def test_steps_model(qtmodeltester: ModelTester, demo: Estate) -> None:
    model = StepsModel()
    steps = demo.runbooks[0].steps
    model.set_steps(steps)
    qtmodeltester.check(model)
    moved = model.move(0, 1)
    assert moved == 1 and model.steps()[1] == steps[0]
    model.insert(0, RunbookStep("New", "body"))
    model.update(0, destroys_evidence=True)
    model.remove(len(steps))
    qtmodeltester.check(model)
    assert model.index(0).data() == "New"
    assert model.index(0).data(Qt.ItemDataRole.ToolTipRole) is not None


def test_versions_model(
    qtbot: QtBot, console: Console, qtmodeltester: ModelTester, demo: Estate
) -> None:
    key = demo.runbooks[0].key
    job = console.estate.query(lambda db: estate_store.runbook_versions(db, key))
    with qtbot.waitSignal(job.succeeded) as blocker:
        pass
    versions = blocker.args[0]
    model = VersionsModel()
    model.set_versions(versions)
    qtmodeltester.check(model)
    assert model.rowCount() == len(versions) >= 1
    assert str(model.index(0).data()).startswith(f"Version {versions[-1].number} (current)")


def test_models_do_not_outlive_their_parent() -> None:
    parent = QObject()
    model = ChatHandlesModel(parent)
    assert model.parent() is parent
