"""The Reports page shows the readiness report: the verdict, then findings by area."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from console.core.clock import FakeClock
from console.core.enums import Discipline, ImpactTier, MemberRole
from console.core.escalation import Level, Policy, Target, TargetKind
from console.core.models import Member, Membership, Runbook, RunbookStep, Service, Team
from console.store import entities
from console.store.db import Store
from console.ui.application import Console, application
from console.ui.views.reports import ReportsPage
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from tests.gui.drive import go_to

pytestmark = pytest.mark.gui

WAIT_MS = 10_000
T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
ANA = "ana@example.com"


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    with Store.open(path, FakeClock(T0)) as store:
        entities.save(store, Member(ANA, "Ana Silva", "UTC", Discipline.INFRASTRUCTURE))
        team = Team(
            "ops",
            "Ops",
            Discipline.INFRASTRUCTURE,
            members=(Membership(ANA, MemberRole.RESPONDER),),
        )
        entities.save(store, team)
        entities.save(store, Service("payments", "Payments", "ops", ImpactTier.TIER_1))
    return path


@pytest.fixture
def console(qtbot: QtBot, store_file: Path) -> Iterator[Console]:
    con = Console(Store.open(store_file, FakeClock(T0)), application())
    con.window.resize(1600, 1000)
    con.window.show()
    with qtbot.waitSignal(con.ready, timeout=WAIT_MS):
        con.start()
    yield con
    con.close()


def open_page(qtbot: QtBot, console: Console) -> ReportsPage:
    go_to(qtbot, console.window, "Reports")
    page = console.window.current_page()
    assert isinstance(page, ReportsPage)
    qtbot.waitUntil(lambda: page.report is not None, timeout=WAIT_MS)
    return page


def children(page: ReportsPage, group: int) -> list[tuple[str, str, str]]:
    top = page.tree.topLevelItem(group)
    return [tuple(top.child(i).text(c) for c in range(3)) for i in range(top.childCount())]  # type: ignore[misc]


def test_a_tier_1_service_without_runbook_or_policy_is_not_ready_until_fixed(
    qtbot: QtBot, console: Console
) -> None:
    page = open_page(qtbot, console)
    assert page.verdict.text() == "NOT READY: 1 tier-1 service has a gap in its cover (payments)."
    services = children(page, 0)
    assert ("payments", "no runbook covers it", "tier 1 · NOT READY") in services
    assert ("payments", "no escalation policy applies to it", "tier 1 · NOT READY") in services
    first = page.tree.topLevelItem(0).child(0)
    assert first.foreground(0).color() == QColor(page.theme.error)
    # Nobody is reachable away from the console: no delivery is configured.
    assert children(page, 1) == [
        (ANA, "no email, chat or phone channel reaches them away from this console", "")
    ]
    # Fix the service's cover: a runbook and a policy that pages Ana.
    store = console.store
    step = RunbookStep("Look", "Check the dashboards.")
    runbook = Runbook(
        "payments-down", "Payments down", "5xx", services=("payments",), steps=(step,)
    )
    policy = Policy(
        "payments", "Payments", (Level(timedelta(0), (Target(TargetKind.MEMBER, ANA),)),),
        services=("payments",),
    )  # fmt: skip
    entities.save(store, runbook)
    entities.save(store, policy)
    qtbot.waitUntil(lambda: not page.report or not page.report.blocking, timeout=WAIT_MS)
    assert page.verdict.text().startswith("Tier-1 services are covered;")
    assert children(page, 0) == []
