"""The Incidents page: the list and its filters, the detail pane, and every action through it.

Incidents are opened through the store's own API on a second connection (as the engine would),
and what the page does is read back through that connection too.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from console.core.checks import CheckState
from console.core.enums import Priority, Severity
from console.core.incidents import Incident, IncidentState, ResolveReason
from console.core.models import Estate
from console.core.signals import metric_signal
from console.store import entities
from console.store import incidents as incident_store
from console.store.db import Store
from console.ui.application import Console
from console.ui.dialogs.incident_actions import (
    MergeDialog,
    PriorityDialog,
    ReassignDialog,
    SnoozeDialog,
)
from console.ui.dialogs.incident_report import ReportDialog
from console.ui.models.base import KEY_ROLE
from console.ui.models.incident_feed import StateFilter
from console.ui.views.incidents import IncidentsPage
from console.ui.views.runbooks import RunbooksPage
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QPushButton
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from tests.gui.drive import WAIT_MS, choose, click, click_row, go_to

pytestmark = pytest.mark.gui

COMMAND = Path(sys.executable).parent / "oncall-console"


def _page(qtbot: QtBot, console: Console) -> IncidentsPage:
    go_to(qtbot, console.window, "Incidents")
    page = console.window.current_page()
    assert isinstance(page, IncidentsPage)
    return page


def _open(
    store: Store,
    service: str,
    metric: str,
    state: CheckState = CheckState.CRITICAL,
    minutes_ago: int = 10,
) -> Incident:
    """Open an incident as the engine does for a confirmed (HARD) metric state."""
    sig = metric_signal(
        service=service,
        endpoint=f"{service}-health",
        metric_key=metric,
        metric_name=metric,
        state=state,
        started_at=store.clock.now() - timedelta(minutes=minutes_ago),
        value=2.5,
        reason=f"{metric} above its threshold",
    )
    assert sig is not None
    return incident_store.open_or_update(store, sig).incident


def _stored(store: Store, ref: str) -> Incident:
    return incident_store.get(store.read(), ref)


def _shown(page: IncidentsPage) -> str | None:
    """The id of the incident the detail pane shows."""
    shown = page.incident()
    return None if shown is None else shown.id


def _refs(page: IncidentsPage) -> list[str]:
    proxy = page.proxy
    return [proxy.index(r, 0).data() for r in range(proxy.rowCount())]


def _wait_refs(qtbot: QtBot, page: IncidentsPage, refs: list[str]) -> None:
    qtbot.waitUntil(lambda: _refs(page) == refs, timeout=WAIT_MS)


def _select(qtbot: QtBot, page: IncidentsPage, ref: str) -> Incident:
    qtbot.waitUntil(lambda: ref in _refs(page), timeout=WAIT_MS)
    click_row(qtbot, page.table, _refs(page).index(ref))
    qtbot.waitUntil(
        lambda: (shown := page.incident()) is not None and shown.ref == ref, timeout=WAIT_MS
    )
    shown = page.incident()
    assert shown is not None
    return shown


def _three(other: Store) -> tuple[Incident, Incident, Incident]:
    """INC-1 P1 on the gateway, INC-2 acknowledged on payments, INC-3 a warning on the ledger."""
    first = _open(other, "api-gateway", "latency_p95", minutes_ago=30)
    second = _open(other, "payments-api", "error_rate", minutes_ago=20)
    incident_store.acknowledge(other, second.id)
    third = _open(other, "ledger-service", "lag", CheckState.WARNING, minutes_ago=5)
    return first, second, third


def test_the_models_pass_the_model_tester(
    qtbot: QtBot, console: Console, other: Store, qtmodeltester: ModelTester
) -> None:
    page = _page(qtbot, console)
    _three(other)
    qtbot.waitUntil(lambda: page.model.rowCount() == 3, timeout=WAIT_MS)
    qtmodeltester.check(page.model)
    qtmodeltester.check(page.proxy)
    _select(qtbot, page, "INC-2")
    timeline = page.detail.timeline
    qtbot.waitUntil(lambda: timeline.rowCount() == 2, timeout=WAIT_MS)
    qtmodeltester.check(timeline)
    assert [e.text.split(" ", 1)[1] for e in timeline.entries] == [
        "opened it from a confirmed metric state: “payments-api: error_rate is CRITICAL” "
        "(critical, P1), for team Payments Development.",
        "acknowledged it.",
    ]


def test_unacknowledged_first_and_the_filters_narrow_the_list(
    qtbot: QtBot, console: Console, other: Store
) -> None:
    page = _page(qtbot, console)
    first, second, third = _three(other)
    incident_store.resolve(other, _open(other, "edge-cdn", "hit_ratio").id)
    # Triggered before acknowledged whatever their age; resolved ones are not open.
    _wait_refs(qtbot, page, ["INC-1", "INC-3", "INC-2"])
    state_column = page.model.titles.index("State")
    assert page.proxy.index(2, state_column).data() == "Acknowledged"
    assert page.count_label.text() == "3 incidents, 2 unacknowledged"

    page.set_filter(StateFilter.ACKNOWLEDGED)
    _wait_refs(qtbot, page, ["INC-2"])
    page.set_filter(StateFilter.RESOLVED)
    _wait_refs(qtbot, page, ["INC-4"])
    page.set_filter(StateFilter.ALL)
    _wait_refs(qtbot, page, ["INC-1", "INC-3", "INC-2", "INC-4"])
    page.set_filter(StateFilter.OPEN, team="platform")
    _wait_refs(qtbot, page, ["INC-1"])
    page.set_filter(StateFilter.OPEN, priority=third.priority)
    _wait_refs(qtbot, page, ["INC-3"])
    assert third.priority is not first.priority

    page.set_filter(StateFilter.OPEN)
    _wait_refs(qtbot, page, ["INC-1", "INC-3", "INC-2"])
    qtbot.keyClicks(page.search, "gateway")
    assert _refs(page) == ["INC-1"]
    assert page.count_label.text() == "1 of 3 incidents, 2 unacknowledged"
    page.search.clear()
    assert len(_refs(page)) == 3
    qtbot.keyClicks(page.search, "Payments Development")  # a team's name matches as well
    assert _refs(page) == ["INC-3", "INC-2"]
    assert second.team == third.team == "payments"


def test_priority_and_state_read_in_words_and_shapes_not_colour_alone(
    qtbot: QtBot, console: Console, other: Store
) -> None:
    page = _page(qtbot, console)
    _three(other)
    _wait_refs(qtbot, page, ["INC-1", "INC-3", "INC-2"])
    model, titles = page.proxy, page.model.titles
    priority, state = titles.index("Priority"), titles.index("State")
    words = [(model.index(r, priority).data(), model.index(r, state).data()) for r in range(3)]
    assert words == [("P1", "Triggered"), ("P2", "Triggered"), ("P1", "Acknowledged")]
    spoken = model.index(0, priority).data(Qt.ItemDataRole.AccessibleTextRole)
    assert spoken == "Priority P1 · page now"
    marks = {
        model.index(r, c).data(Qt.ItemDataRole.DecorationRole).cacheKey()
        for r, c in ((0, state), (2, state))
    }
    assert len(marks) == 2  # triggered and acknowledged draw different shapes
    assert page.table.accessibleName() == "Incidents"


def test_the_detail_shows_priority_reason_times_timeline_and_runbooks(
    qtbot: QtBot, console: Console, other: Store, demo: Estate
) -> None:
    page = _page(qtbot, console)
    first, _second, _third = _three(other)
    incident_store.mitigate(other, first.id, note="traffic moved to the standby region")
    shown = _select(qtbot, page, "INC-1")
    detail = page.detail
    assert detail.title_label.text() == "api-gateway: latency_p95 is CRITICAL"
    assert shown.priority_reason in detail.facts["Priority"].text()
    assert detail.facts["Team"].text() == "Platform Engineering"
    acknowledged, note = detail.times["Acknowledged"]
    assert acknowledged.text() != "—" and "to acknowledge" in note.text()
    assert "of impact" in detail.times["Mitigated"][1].text()
    assert detail.times["Resolved"][0].text() == "—"
    texts = [e.text for e in detail.timeline.entries]
    assert texts[-1].endswith(
        "mitigated it: the impact stopped; traffic moved to the standby region."
    )
    books = [r.title for r in demo.runbooks if "api-gateway" in r.services]
    links = [b.text() for b in detail.findChildren(QPushButton, "runbook-link")]
    assert links == books and books
    # Mitigated and acknowledged: only what still makes sense is offered.
    assert not detail.buttons["acknowledge"].isEnabled()
    assert not detail.buttons["mitigate"].isEnabled()
    assert detail.buttons["resolve"].isEnabled()


def test_a_runbook_link_opens_the_runbook_on_the_runbooks_page(
    qtbot: QtBot, console: Console, other: Store, demo: Estate
) -> None:
    page = _page(qtbot, console)
    _three(other)
    _wait_refs(qtbot, page, ["INC-1", "INC-3", "INC-2"])
    _select(qtbot, page, "INC-1")
    link = page.detail.findChildren(QPushButton, "runbook-link")[0]
    runbook = next(r for r in demo.runbooks if r.title == link.text())
    click(qtbot, link)
    shown = console.window.current_page()
    assert isinstance(shown, RunbooksPage)
    assert shown.runbooks.current_key == runbook.key


def test_acknowledge_with_its_key_is_stored(qtbot: QtBot, console: Console, other: Store) -> None:
    page = _page(qtbot, console)
    _three(other)
    _wait_refs(qtbot, page, ["INC-1", "INC-3", "INC-2"])
    _select(qtbot, page, "INC-3")
    qtbot.keyClick(page.table, Qt.Key.Key_A)
    qtbot.waitUntil(
        lambda: _stored(other, "INC-3").state is IncidentState.ACKNOWLEDGED, timeout=WAIT_MS
    )
    assert _stored(other, "INC-3").acknowledged_by == console.store.actor
    assert _stored(other, "INC-1").state is IncidentState.TRIGGERED
    # The list follows: acknowledged after unacknowledged, then by priority (INC-2 is P1).
    _wait_refs(qtbot, page, ["INC-1", "INC-2", "INC-3"])
    qtbot.waitUntil(lambda: page.detail.state_label.text() == "Acknowledged", timeout=WAIT_MS)
    assert _shown(page) == _stored(other, "INC-3").id


def test_mitigate_and_resolve_with_their_keys(qtbot: QtBot, console: Console, other: Store) -> None:
    page = _page(qtbot, console)
    _three(other)
    _wait_refs(qtbot, page, ["INC-1", "INC-3", "INC-2"])
    _select(qtbot, page, "INC-1")
    qtbot.keyClick(page.table, Qt.Key.Key_M)
    qtbot.waitUntil(lambda: _stored(other, "INC-1").mitigated_at is not None, timeout=WAIT_MS)
    assert _stored(other, "INC-1").state is IncidentState.ACKNOWLEDGED
    qtbot.keyClick(page.table, Qt.Key.Key_R)
    qtbot.waitUntil(
        lambda: _stored(other, "INC-1").state is IncidentState.RESOLVED, timeout=WAIT_MS
    )
    assert _stored(other, "INC-1").resolve_reason is ResolveReason.MANUAL
    # Resolved, it leaves the open list, and the pane still shows it as resolved.
    qtbot.waitUntil(lambda: "INC-1" not in _refs(page), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: page.detail.state_label.text() == "Resolved", timeout=WAIT_MS)


def test_a_refused_transition_shows_the_store_s_reason(
    qtbot: QtBot, console: Console, other: Store
) -> None:
    page = _page(qtbot, console)
    _three(other)
    _wait_refs(qtbot, page, ["INC-1", "INC-3", "INC-2"])
    _select(qtbot, page, "INC-1")
    page.feed.stop()  # the page's view goes stale, as between two polls
    incident_store.acknowledge(other, "INC-1")
    assert page.detail.buttons["acknowledge"].isEnabled()
    click(qtbot, page.detail.buttons["acknowledge"])
    banner = page.detail.banner
    qtbot.waitUntil(lambda: banner.isVisible(), timeout=WAIT_MS)
    assert banner.text().startswith(f"INC-1 is already acknowledged by {other.actor} at ")
    status = console.window.statusBar().currentMessage()
    assert status.startswith("Not done (acknowledge): INC-1 is already acknowledged")
    # The page reads the store again after a refusal and shows what happened instead.
    qtbot.waitUntil(lambda: page.detail.state_label.text() == "Acknowledged", timeout=WAIT_MS)
    assert not page.detail.buttons["acknowledge"].isEnabled()


def test_an_acknowledgement_from_the_cli_shows_within_seconds(
    qtbot: QtBot, console: Console, other: Store
) -> None:
    page = _page(qtbot, console)
    _three(other)
    _wait_refs(qtbot, page, ["INC-1", "INC-3", "INC-2"])
    _select(qtbot, page, "INC-1")
    done = subprocess.run(
        [str(COMMAND), "--db", str(other.path), "--as", "grace@example.com", "incidents", "ack",
         "INC-1"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    state_column = page.model.titles.index("State")
    # Acknowledged ones come after the triggered one, the newest first among equal priorities.
    qtbot.waitUntil(lambda: _refs(page) == ["INC-3", "INC-2", "INC-1"], timeout=5000)
    assert page.proxy.index(2, state_column).data() == "Acknowledged"
    qtbot.waitUntil(
        lambda: (
            page.detail.timeline.rowCount() == 2
            and page.detail.timeline.entries[-1].text == "grace@example.com acknowledged it."
        ),
        timeout=5000,
    )


def test_the_report_form_opens_a_manual_incident(
    qtbot: QtBot, console: Console, other: Store
) -> None:
    page = _page(qtbot, console)
    _three(other)
    _wait_refs(qtbot, page, ["INC-1", "INC-3", "INC-2"])
    qtbot.keyClick(page.table, Qt.Key.Key_N)
    qtbot.waitUntil(lambda: isinstance(page.dialog, ReportDialog), timeout=WAIT_MS)
    dialog = page.dialog
    assert isinstance(dialog, ReportDialog)
    assert not dialog.ok.isEnabled()  # what is broken and who says so come first
    qtbot.keyClicks(dialog.title, "Customers in Lyon cannot pay by card")
    qtbot.keyClicks(dialog.reporter, "Service desk, ticket 4711")
    qtbot.keyClicks(dialog.impact, "Every card payment in Lyon fails")
    choose(qtbot, dialog.service, "Payments API")
    choose(qtbot, dialog.severity, "Critical")
    assert dialog.ok.isEnabled()
    click(qtbot, dialog.ok)

    def opened() -> list[Incident]:
        found = incident_store.list_incidents(other.read())
        return [i for i in found if i.title == "Customers in Lyon cannot pay by card"]

    qtbot.waitUntil(lambda: len(opened()) == 1, timeout=WAIT_MS)
    report = opened()[0]
    assert report.reporter == "Service desk, ticket 4711"
    assert report.impact == "Every card payment in Lyon fails"
    assert report.service == "payments-api" and report.team == "payments"
    assert report.severity is Severity.CRITICAL
    qtbot.waitUntil(lambda: _shown(page) == report.id, timeout=WAIT_MS)
    assert page.selected == report.id
    assert page.proxy.index(page.table.currentIndex().row(), 0).data(KEY_ROLE) == report.id


def test_snooze_reassign_priority_and_merge_through_their_dialogs(
    qtbot: QtBot, console: Console, other: Store
) -> None:
    page = _page(qtbot, console)
    _three(other)
    _wait_refs(qtbot, page, ["INC-1", "INC-3", "INC-2"])
    _select(qtbot, page, "INC-3")
    before = other.clock.now()

    qtbot.keyClick(page.table, Qt.Key.Key_S)
    dialog = page.dialog
    assert isinstance(dialog, SnoozeDialog)
    dialog.choices[0].setFocus()
    qtbot.keyClick(dialog.choices[0], Qt.Key.Key_Space)  # 15 minutes
    assert dialog.choice().length == timedelta(minutes=15)
    click(qtbot, dialog.ok)
    qtbot.waitUntil(lambda: _stored(other, "INC-3").snoozed_until is not None, timeout=WAIT_MS)
    until = _stored(other, "INC-3").snoozed_until
    assert until is not None
    assert timedelta(minutes=15) <= until - before < timedelta(minutes=16)

    qtbot.keyClick(page.table, Qt.Key.Key_T)
    reassign = page.dialog
    assert isinstance(reassign, ReassignDialog)
    assert not reassign.ok.isEnabled()  # a reassignment is never silent
    choose(qtbot, reassign.team, "Platform")
    qtbot.keyClicks(reassign.reason, "the ledger's database is ours")
    click(qtbot, reassign.ok)
    qtbot.waitUntil(lambda: _stored(other, "INC-3").team == "platform", timeout=WAIT_MS)

    qtbot.keyClick(page.table, Qt.Key.Key_P)
    priority = page.dialog
    assert isinstance(priority, PriorityDialog)
    choose(qtbot, priority.priority, "P1")
    qtbot.keyClicks(priority.reason, "month-end closing depends on it")
    click(qtbot, priority.ok)
    qtbot.waitUntil(lambda: _stored(other, "INC-3").priority is Priority.P1, timeout=WAIT_MS)
    assert _stored(other, "INC-3").priority_overridden

    qtbot.keyClick(page.table, Qt.Key.Key_G)
    merge = page.dialog
    assert isinstance(merge, MergeDialog)
    choose(qtbot, merge.target, "INC-1")
    click(qtbot, merge.ok)
    qtbot.waitUntil(
        lambda: _stored(other, "INC-3").resolve_reason is ResolveReason.MERGED, timeout=WAIT_MS
    )
    assert _stored(other, "INC-3").merged_into == _stored(other, "INC-1").id
    # The pane keeps showing the merged incident, now resolved, with a link to the survivor.
    merged = f"{console.store.actor} resolved it by merging it: merged into INC-1."
    timeline = page.detail.timeline
    qtbot.waitUntil(lambda: timeline.entries[-1].text == merged, timeout=WAIT_MS)
    links = [b.text() for b in page.detail.findChildren(QPushButton, "incident-link")]
    assert links == ["Merged into INC-1: api-gateway: latency_p95 is CRITICAL"]


class _Opened(QObject):
    """Receives the URLs the desktop would open (Qt's own URL handler hook)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString())


def test_join_bridge_opens_the_team_s_bridge_and_is_disabled_without_one(
    qtbot: QtBot, console: Console, other: Store, demo: Estate
) -> None:
    page = _page(qtbot, console)
    _three(other)
    _wait_refs(qtbot, page, ["INC-1", "INC-3", "INC-2"])
    _select(qtbot, page, "INC-2")  # payments: https://meet.example.com/payments
    bridge = page.detail.bridge_button
    assert bridge.isEnabled()
    opened = _Opened()
    QDesktopServices.setUrlHandler("https", opened, "open")
    try:
        click(qtbot, bridge)
    finally:
        QDesktopServices.unsetUrlHandler("https")
    assert opened.urls == ["https://meet.example.com/payments"]

    payments = next(t for t in demo.teams if t.key == "payments")
    entities.save(other, replace(payments, bridge_url=None))
    qtbot.waitUntil(lambda: not bridge.isEnabled(), timeout=WAIT_MS)
    assert "has no conference bridge" in bridge.toolTip()
    qtbot.keyClick(page.table, Qt.Key.Key_B)  # the key says why instead of doing nothing
    assert console.window.statusBar().currentMessage() == (
        "The incident's team has no conference bridge"
    )
