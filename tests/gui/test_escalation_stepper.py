"""The escalation stepper in the incident detail, "Escalate now" and "Acknowledge on behalf of".

The console runs over a real store with a fake clock shared with a second connection (`other`),
through which the test plays the engine: it plans the due steps with the real planner
(`console.core.escalator.plan` + `escalations.apply_plan`, as the engine's tick does) and records
delivery attempts with `escalations.record`. What the page shows is read back from its widgets,
and what its buttons do is read back from the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from console.core.clock import FakeClock
from console.core.escalation import Level, Policy, Target, TargetKind
from console.core.escalation_steps import StepState, view
from console.core.escalator import Delivery, NotificationStatus, issued, plan
from console.core.events import EventType
from console.core.incidents import Incident, IncidentState
from console.core.schedules import Layer, Schedule, ShiftUnit
from console.core.signals import ManualReport
from console.store import entities, escalations
from console.store import incidents as incident_store
from console.store.db import Store
from console.ui.application import Console, application
from console.ui.dialogs.incident_actions import AckOnBehalfDialog
from console.ui.theme import LIGHT
from console.ui.views.incidents import IncidentsPage
from console.ui.widgets.stepper import EscalationStepper
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.gui.drive import WAIT_MS, choose, click, click_row, go_to

pytestmark = pytest.mark.gui

ANA, MARCUS = "ana.silva@example.com", "marcus.johnson@example.com"
LUCAS = "lucas.ferreira@example.com"  # the payments team's first member: round robin's first turn
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = Policy(
    "payments-stepper",
    "Payments stepper",
    (
        Level(
            timedelta(0),
            (Target(TargetKind.MEMBER, ANA), Target(TargetKind.ROUND_ROBIN, "payments")),
        ),
        Level(timedelta(minutes=10), (Target(TargetKind.MEMBER, MARCUS),), urgent=True),
    ),
    repeat=1,
    services=("payments-api",),
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def other(demo_store_path: Path, clock: FakeClock) -> Iterator[Store]:
    """The engine's side: a second connection on the same clock, with the policy saved."""
    with Store.open(demo_store_path, clock) as store:
        entities.save(store, POLICY)
        yield store


@pytest.fixture
def console(
    qtbot: QtBot, other: Store, demo_store_path: Path, clock: FakeClock
) -> Iterator[Console]:
    """The running console on the fake clock (the countdown reads it)."""
    con = Console(Store.open(demo_store_path, clock), application())
    con.window.resize(1600, 1000)
    con.window.show()
    with qtbot.waitSignal(con.ready, timeout=10_000):
        con.start()
    yield con
    con.close()


def tick(store: Store) -> list[Delivery]:
    """One engine tick: plan every due incident and record the plans; returns the deliveries."""
    now = store.clock.now()
    db = store.read()
    people = escalations.directory(db, now)
    sent: list[Delivery] = []
    for incident in incident_store.due(db, now):
        found = plan(escalations.progress(db, incident.id), incident, people, now)
        escalations.apply_plan(store, incident.id, found)
        people = people.advanced(found.turns)
        sent += found.deliveries
    return sent


def _open(store: Store, service: str = "payments-api") -> Incident:
    report = ManualReport("Card payments failing", "service desk", service=service)
    return incident_store.create_manual(store, report).incident


def _page(qtbot: QtBot, console: Console, ref: str) -> IncidentsPage:
    go_to(qtbot, console.window, "Incidents")
    page = console.window.current_page()
    assert isinstance(page, IncidentsPage)
    proxy = page.proxy

    def refs() -> list[str]:
        return [proxy.index(r, 0).data() for r in range(proxy.rowCount())]

    qtbot.waitUntil(lambda: ref in refs(), timeout=WAIT_MS)
    click_row(qtbot, page.table, refs().index(ref))
    qtbot.waitUntil(lambda: (i := page.incident()) is not None and i.ref == ref, timeout=WAIT_MS)
    return page


def _states(stepper: EscalationStepper) -> list[StepState]:
    return [row.step.state for row in stepper.rows]


def _first_level_paged(other: Store) -> Incident:
    """An incident whose first level paged Ana (email sent) and Lucas (email failed)."""
    incident = _open(other)
    ana, lucas = tick(other)
    assert (ana.recipient, lucas.recipient) == (ANA, LUCAS)
    now = other.clock.now()
    escalations.record(
        other,
        incident.id,
        [
            issued(ana, "email", NotificationStatus.PENDING, now),
            issued(ana, "email", NotificationStatus.SENT, now),
            issued(lucas, "email", NotificationStatus.FAILED, now, error="550 mailbox unavailable"),
            issued(lucas, "webhook:payments-chat", NotificationStatus.UNKNOWN, now, resend=True),
        ],
    )
    return incident


def test_the_stepper_shows_levels_recipients_statuses_and_a_live_countdown(
    qtbot: QtBot, console: Console, other: Store, clock: FakeClock
) -> None:
    incident = _first_level_paged(other)
    page = _page(qtbot, console, incident.ref)
    stepper = page.detail.stepper
    qtbot.waitUntil(lambda: len(stepper.rows) == 2, timeout=WAIT_MS)
    assert _states(stepper) == [StepState.CURRENT, StepState.UPCOMING]
    assert [row.word.text() for row in stepper.rows] == ["Now", "Upcoming"]
    first, second = stepper.rows
    assert first.title.text() == "Level 1 · at once · started 09:00 UTC"
    assert second.title.text() == "Level 2 · after 10 min · urgent"
    assert first.targets.text() == "Targets: Ana Silva, round robin (Payments Development)"
    assert second.targets.text() == "Targets: Marcus Johnson"
    assert [p.text() for p in first.people] == ["Ana Silva", "Lucas Ferreira (round robin)"]
    assert second.people == [] and second.attempts == []
    shown = {(a.notified.recipient, a.text()): a.toolTip() for a in first.attempts}
    assert set(shown) == {
        (ANA, "email ✓ sent"),
        (LUCAS, "email ✗ failed"),
        (LUCAS, "webhook payments-chat ↻ re-sent, outcome unknown"),
    }
    assert "550 mailbox unavailable" in shown[(LUCAS, "email ✗ failed")]
    assert stepper.summary.text() == "Policy Payments stepper · loop 1 of 2"

    # The countdown ticks from the clock alone, every second.
    assert stepper.countdown.text() == "Level 2 starts in 10:00"
    assert stepper.timer.isActive()
    clock.advance(75)
    qtbot.waitUntil(lambda: stepper.countdown.text() == "Level 2 starts in 8:45", timeout=3000)
    # The timeline says the same in sentences.
    texts = [e.text for e in page.detail.timeline.entries]
    assert "Emailed Ana Silva: delivered (level 1)." in texts
    assert "Emailed Lucas Ferreira: failed: 550 mailbox unavailable (level 1)." in texts


def test_escalate_now_moves_to_the_next_level_until_the_last_step(
    qtbot: QtBot, console: Console, other: Store
) -> None:
    incident = _first_level_paged(other)
    page = _page(qtbot, console, incident.ref)
    stepper, button = page.detail.stepper, page.detail.buttons["escalate"]
    qtbot.waitUntil(lambda: len(stepper.rows) == 2, timeout=WAIT_MS)
    for loop, level in ((1, 2), (2, 1), (2, 2)):
        qtbot.waitUntil(button.isEnabled, timeout=WAIT_MS)
        click(qtbot, button)
        qtbot.waitUntil(
            lambda: (
                (p := escalations.progress(other.read(), incident.id)) is not None
                and p.jump is not None
            ),
            timeout=WAIT_MS,
        )
        tick(other)  # the engine carries the jump out
        progress = escalations.progress(other.read(), incident.id)
        assert progress is not None
        assert (progress.level, progress.repeat) == (level - 1, loop - 1)
        qtbot.waitUntil(
            lambda level=level: _states(stepper)[level - 1] is StepState.CURRENT, timeout=WAIT_MS
        )
        assert stepper.summary.text() == f"Policy Payments stepper · loop {loop} of 2"
    # At the last level of the last loop there is nothing left to escalate to.
    qtbot.waitUntil(lambda: not button.isEnabled(), timeout=WAIT_MS)
    assert button.toolTip() == f"{incident.ref} is at the last level of its last loop"
    assert _states(stepper) == [StepState.DONE, StepState.CURRENT]
    assert stepper.countdown.text() == "Escalation ends (exhausted) in 10:00"
    jumps = [
        e.payload["by"]
        for e in incident_store.timeline(other.read(), incident.id)
        if e.type is EventType.ESCALATION_ESCALATED_NOW
    ]
    assert jumps == [console.store.actor] * 3


def test_acknowledge_on_behalf_records_who_answered_and_how(
    qtbot: QtBot, console: Console, other: Store
) -> None:
    incident = _first_level_paged(other)
    page = _page(qtbot, console, incident.ref)
    qtbot.keyClick(page.table, Qt.Key.Key_O)
    dialog = page.dialog
    assert isinstance(dialog, AckOnBehalfDialog)
    # Those the current level reached come first.
    offered = [dialog.member.itemData(i) for i in range(dialog.member.count())]
    assert offered[:2] == [ANA, LUCAS]
    choose(qtbot, dialog.member, "Lucas Ferreira")
    choose(qtbot, dialog.via, "Phone")
    click(qtbot, dialog.ok)
    qtbot.waitUntil(
        lambda: incident_store.get(other.read(), incident.id).state is IncidentState.ACKNOWLEDGED,
        timeout=WAIT_MS,
    )
    (ack,) = [
        e
        for e in incident_store.timeline(other.read(), incident.id)
        if e.type is EventType.INCIDENT_ACKNOWLEDGED
    ]
    assert (ack.payload["on_behalf_of"], ack.payload["via"]) == (LUCAS, "phone")
    assert ack.payload["by"] == console.store.actor
    stepper = page.detail.stepper
    qtbot.waitUntil(lambda: "acknowledged by" in stepper.summary.text(), timeout=WAIT_MS)
    assert [row.word.text() for row in stepper.rows] == ["Answered", "Upcoming"]
    assert not stepper.timer.isActive()  # no acknowledgement timeout: nothing more is due
    assert not page.detail.buttons["behalf"].isEnabled()
    sentence = (
        f"{console.store.actor} acknowledged it on behalf of Lucas Ferreira, who answered by phone."
    )
    qtbot.waitUntil(
        lambda: sentence in [e.text for e in page.detail.timeline.entries], timeout=WAIT_MS
    )


def test_an_incident_without_a_policy_says_so_and_cannot_escalate(
    qtbot: QtBot, console: Console, other: Store
) -> None:
    incident = _open(other, service="api-gateway")
    page = _page(qtbot, console, incident.ref)
    stepper = page.detail.stepper
    assert stepper.summary.text() == "No escalation policy applies to this incident."
    assert stepper.rows == [] and not stepper.countdown.isVisible()
    assert not page.detail.buttons["escalate"].isEnabled()
    assert page.detail.buttons["escalate"].toolTip() == (
        "No escalation policy applies to this incident."
    )


def test_an_empty_level_reads_as_failed_with_nobody_available(
    qtbot: QtBot, other: Store, clock: FakeClock
) -> None:
    # The second level's schedule has nobody on call yet: it reaches nobody, and with no loop
    # left the escalation is exhausted at once.
    later = START.date() + timedelta(days=70)
    entities.save(
        other,
        Schedule(
            "nobody-home",
            "Nobody home",
            "UTC",
            (Layer("Later", (MARCUS,), 1, ShiftUnit.WEEKS, later),),
        ),
    )
    away = Policy(
        "ledger-away",
        "Ledger",
        (Level(timedelta(0), (Target(TargetKind.MEMBER, ANA),)),
         Level(timedelta(minutes=5), (Target(TargetKind.SCHEDULE, "nobody-home"),))),
        services=("ledger-service",),
    )  # fmt: skip
    entities.save(other, away)
    incident = _open(other, service="ledger-service")
    tick(other)
    clock.advance(301)
    tick(other)
    db = other.read()
    found = view(
        escalations.progress(db, incident.id),
        incident_store.get(db, incident.id),
        incident_store.timeline(db, incident.id),
    )
    assert found is not None
    stepper = EscalationStepper(LIGHT, clock.now)
    qtbot.addWidget(stepper)
    stepper.show_view(found, {ANA: "Ana Silva", "nobody-home": "Nobody home"})
    assert _states(stepper) == [StepState.DONE, StepState.EMPTY]
    empty = stepper.rows[1]
    assert (empty.word.text(), empty.targets.text()) == ("Failed", "Targets: schedule Nobody home")
    assert empty.people[0].text().startswith("Nobody available: ")
    assert stepper.summary.text() == "Policy Ledger · escalation exhausted"
    assert stepper.countdown.text() == "Escalation exhausted: every level of every loop was tried"
    assert not stepper.timer.isActive()


def test_the_detail_pane_with_the_stepper_renders_at_1600x1000(
    qtbot: QtBot, console: Console, other: Store, tmp_path: Path
) -> None:
    incident = _first_level_paged(other)
    page = _page(qtbot, console, incident.ref)
    stepper = page.detail.stepper
    qtbot.waitUntil(lambda: len(stepper.rows) == 2, timeout=WAIT_MS)
    console.window.resize(1600, 1000)
    qtbot.wait(50)  # one event-loop turn for the layout
    shot = tmp_path / "incident-stepper.png"
    assert console.window.grab().save(str(shot))
    assert shot.stat().st_size > 20_000
    # The steps are on screen (in the facts column's viewport), not scrolled out of sight.
    for row in stepper.rows:
        assert not row.visibleRegion().isEmpty(), row.step.number
    for name in ("escalate", "behalf"):
        button = page.detail.buttons[name]
        assert not button.visibleRegion().isEmpty() and button.width() >= button.sizeHint().width()
