"""Alerting wired into the app: real dunst, a real store, a real PulseAudio null sink, the real CLI.

The console runs with its AlertingController over a store holding an open P1 incident. dunst
(on a private bus, under the test run's X display) shows the notification; Acknowledge is
pressed through dunst's own action menu and the incident is read back, acknowledged, through a
second connection to the store. The alarm is recorded from the null sink's monitor, so "stops
within a second of an acknowledgement made from the CLI" is measured against the time the CLI
recorded. Without a notification server the in-app banner takes over, with the reasons.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from console.cli.main import build_parser
from console.core.alerting import NOTIFICATION_SETTINGS_KEY, NotificationPrefs
from console.core.endpoints import Endpoint, TcpTarget
from console.core.enums import Discipline, ImpactTier, Priority, Severity
from console.core.incident_policy import SignalOutcome
from console.core.incidents import Incident, IncidentState
from console.core.models import Service, Team
from console.core.signals import Signal, SignalSource
from console.store import entities
from console.store import incidents as incident_store
from console.store.db import Store
from console.ui.alerting import AlertingController
from console.ui.application import Console, application
from console.ui.dialogs.settings import NotificationsSection
from console.ui.engine_host import EngineHost
from console.ui.views.incidents import IncidentsPage
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from tests.services import Dunst, Recording, SessionBus, SoundServer

pytestmark = pytest.mark.gui

WAIT_MS = 15_000
LOUD = 2000  # a block holding the siren peaks far above this (see test_alarm.py)
QUIET = 30  # the null sink's monitor is 0 when nothing plays
CHECKOUT = "Checkout latency critical"
SEARCH = "Search latency high"


# -- the store ------------------------------------------------------------------------------------


def _signal(store: Store, key: str, title: str, severity: Severity) -> Signal:
    return Signal(
        source=SignalSource.METRIC,
        dedup_key=key,
        title=title,
        severity=severity,
        started_at=store.clock.now() - timedelta(minutes=2),
        service="shop",
        summary="p99 above its threshold for 3 checks",
    )


def _estate(store: Store) -> None:
    entities.save(store, Team("web", "Web", Discipline.DEVELOPMENT))
    entities.save(store, Service("shop", "Shop", "web", ImpactTier.TIER_1))


@pytest.fixture
def p1_store(store_path: Path) -> Path:
    """A store with one open P1 incident (INC-1: tier 1 x critical), closed again."""
    with Store.open(store_path) as store:
        _estate(store)
        opened = incident_store.open_or_update(
            store, _signal(store, "metric:shop/http/latency", CHECKOUT, Severity.CRITICAL)
        )
        assert (opened.incident.ref, opened.incident.priority) == ("INC-1", Priority.P1)
    return store_path


@pytest.fixture
def other(p1_store: Path) -> Iterator[Store]:
    """A second connection to the store: how the test reads what the console did."""
    with Store.open(p1_store) as store:
        yield store


def incident(store: Store, ref: str) -> Incident:
    return incident_store.get(store.read(), ref)


# -- sound: always the private server, so no test is ever heard ----------------------------------


@pytest.fixture(autouse=True)
def private_sound(sound_server: SoundServer, monkeypatch: pytest.MonkeyPatch) -> SoundServer:
    """Every alarm in these tests plays into the private null sink."""
    monkeypatch.setenv("PULSE_SERVER", sound_server.server)
    return sound_server


@pytest.fixture
def recording(private_sound: SoundServer, qtbot: QtBot) -> Iterator[Recording]:
    rec = Recording(private_sound)
    try:
        qtbot.waitUntil(lambda: len(rec.blocks()) > 5, timeout=WAIT_MS)
        yield rec
    finally:
        rec.stop()


def loud_since(rec: Recording, since: float) -> bool:
    return any(peak > LOUD for _, peak in rec.blocks(since))


def covered_until(rec: Recording, moment: float) -> bool:
    blocks = rec.blocks()
    return bool(blocks) and blocks[-1][0] >= moment


# -- the console ----------------------------------------------------------------------------------


@contextmanager
def running(qtbot: QtBot, path: Path) -> Iterator[Console]:
    """The console with alerting on, once its first look at the open incidents is done."""
    con = Console(Store.open(path), application(), alerting=True)
    try:
        assert con.alerting is not None
        con.window.resize(1400, 900)
        con.window.show()
        with qtbot.waitSignal(con.alerting.reviewed, timeout=WAIT_MS):
            con.start()
        yield con
    finally:
        con.close()


def controller(con: Console) -> AlertingController:
    assert con.alerting is not None
    return con.alerting


def summaries(dunst: Dunst) -> list[str]:
    return [shown["DUNST_SUMMARY"] for shown in dunst.shown()]


# -- tests ----------------------------------------------------------------------------------------


def test_acknowledge_pressed_in_dunst_acknowledges_the_incident_in_the_store(
    qtbot: QtBot, dunst_env: Dunst, p1_store: Path, other: Store
) -> None:
    with running(qtbot, p1_store) as con:
        qtbot.waitUntil(lambda: len(dunst_env.shown()) == 1, timeout=WAIT_MS)
        [shown] = dunst_env.shown()
        assert shown["DUNST_SUMMARY"] == f"INC-1 P1: {CHECKOUT}"
        assert shown["DUNST_URGENCY"] == "CRITICAL"
        assert shown["DUNST_BODY"].splitlines() == [
            "New incident · Critical",
            "Service: Shop · Team: Web",
            "p99 above its threshold for 3 checks",
        ]
        assert incident(other, "INC-1").state is IncidentState.TRIGGERED

        menu = dunst_env.choose(label="Acknowledge").splitlines()

        nid = shown["DUNST_ID"]
        assert f"#Acknowledge (INC-1 P1: {CHECKOUT}) [{nid},ack]" in menu
        assert f"#Open (INC-1 P1: {CHECKOUT}) [{nid},open]" in menu
        qtbot.waitUntil(
            lambda: incident(other, "INC-1").state is IncidentState.ACKNOWLEDGED, timeout=WAIT_MS
        )
        # Acknowledged: the notification is withdrawn and the alarm falls silent.
        qtbot.waitUntil(lambda: dunst_env.count() == 0, timeout=WAIT_MS)
        assert controller(con).alarm.looping is None
        assert not controller(con).banner.isVisible()
    [closed] = dunst_env.history()
    assert closed["summary"] == f"INC-1 P1: {CHECKOUT}"


def test_the_alarm_stops_within_a_second_of_an_acknowledgement_from_the_cli(
    qtbot: QtBot, dunst_env: Dunst, recording: Recording, p1_store: Path, other: Store
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    with running(qtbot, p1_store) as con:
        started = time.monotonic()
        qtbot.waitUntil(lambda: loud_since(recording, started), timeout=WAIT_MS)
        assert controller(con).alarm.looping is Priority.P1

        cli = subprocess.Popen(
            [sys.executable, "-m", "console", "--db", str(p1_store), "incidents", "ack", "INC-1"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # The console keeps running (polling, sounding) while the CLI works.
        qtbot.waitUntil(lambda: cli.poll() is not None, timeout=60_000)
        _, err = cli.communicate()
        assert cli.returncode == 0, err
        acknowledged_at = incident(other, "INC-1").acknowledged_at
        assert acknowledged_at is not None
        # The moment the CLI committed, on the recording's (monotonic) clock.
        behind = (datetime.now(UTC) - acknowledged_at).total_seconds()
        acked = time.monotonic() - behind

        qtbot.waitUntil(lambda: controller(con).alarm.looping is None, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: covered_until(recording, acked + 2.0), timeout=WAIT_MS)
    before = [peak for at, peak in recording.blocks(acked - 0.7) if at < acked]
    after = recording.blocks(acked + 1.0)
    assert before and max(before) > LOUD, "the siren was not sounding when the CLI acknowledged"
    assert after and max(peak for _, peak in after) <= QUIET


def test_an_incident_acknowledged_before_the_start_is_not_notified(
    qtbot: QtBot, dunst_env: Dunst, p1_store: Path, other: Store
) -> None:
    incident_store.acknowledge(other, "INC-1")
    search = _signal(other, "metric:shop/http/search", SEARCH, Severity.WARNING)
    assert incident_store.open_or_update(other, search).incident.priority is Priority.P2

    with running(qtbot, p1_store) as con:
        qtbot.waitUntil(lambda: len(dunst_env.shown()) == 1, timeout=WAIT_MS)
        # The acknowledged P1 does not sound either: the P2 it leaves does.
        assert controller(con).alarm.looping is Priority.P2
    # Closing waits for every notification sent, then withdraws them: all are in the history.
    assert [entry["summary"] for entry in dunst_env.history()] == [f"INC-2 P2: {SEARCH}"]
    assert summaries(dunst_env) == [f"INC-2 P2: {SEARCH}"]


def test_without_a_notification_server_the_banner_shows_and_acknowledges(
    qtbot: QtBot, bare_env: SessionBus, p1_store: Path, other: Store
) -> None:
    with running(qtbot, p1_store) as con:
        banner = controller(con).banner
        # The chain fell through to its last link: the banner, with the reasons.
        qtbot.waitUntil(lambda: banner.current is not None, timeout=WAIT_MS)
        assert banner.isVisible()
        shown = banner.current
        assert shown is not None and shown.headline == f"INC-1 P1: {CHECKOUT}"
        assert shown.note is not None and "no notification server" in shown.note
        assert "no notification server" in banner.detail.text()

        qtbot.mouseClick(banner.acknowledge_button, Qt.MouseButton.LeftButton)

        qtbot.waitUntil(
            lambda: incident(other, "INC-1").state is IncidentState.ACKNOWLEDGED, timeout=WAIT_MS
        )
        qtbot.waitUntil(lambda: not banner.isVisible(), timeout=WAIT_MS)
        assert banner.current is None


def test_open_pressed_in_dunst_shows_the_incident_on_the_incidents_page(
    qtbot: QtBot, dunst_env: Dunst, p1_store: Path, other: Store
) -> None:
    with running(qtbot, p1_store) as con:
        con.window.show_page("Teams")
        qtbot.waitUntil(lambda: len(dunst_env.shown()) == 1, timeout=WAIT_MS)

        dunst_env.choose(label="Open")

        page = con.window.page("Incidents")
        assert isinstance(page, IncidentsPage)
        wanted = incident(other, "INC-1").id
        qtbot.waitUntil(lambda: con.window.current_page() is page, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: page.selected == wanted, timeout=WAIT_MS)
        shown = page.incident
        qtbot.waitUntil(lambda: (i := shown()) is not None and i.id == wanted, timeout=WAIT_MS)
        # Open is not an acknowledgement.
        assert incident(other, "INC-1").state is IncidentState.TRIGGERED


def test_desktop_notifications_turned_off_leave_the_banner_and_no_popup(
    qtbot: QtBot, dunst_env: Dunst, p1_store: Path, other: Store
) -> None:
    other.set_setting(NOTIFICATION_SETTINGS_KEY, NotificationPrefs(desktop=False).to_json())

    with running(qtbot, p1_store) as con:
        banner = controller(con).banner
        assert banner.isVisible()
        shown = banner.current
        assert shown is not None and shown.number == "INC-1"
        assert shown.note is not None and "off" in shown.note
        assert controller(con).alarm.looping is Priority.P1  # the sound is a separate switch
    assert (dunst_env.count(), dunst_env.history(), dunst_env.shown()) == (0, [], [])


def test_preferences_saved_in_the_settings_dialog_apply_at_once(
    qtbot: QtBot, dunst_env: Dunst, p1_store: Path, other: Store
) -> None:
    with running(qtbot, p1_store) as con:
        alarm = controller(con).alarm
        assert alarm.looping is Priority.P1

        con.window.settings_action.trigger()

        dialog = con.settings_dialog
        assert dialog is not None
        if dialog.busy:
            with qtbot.waitSignal(dialog.loaded, timeout=WAIT_MS):
                pass
        section = dialog.section("Notifications")
        assert isinstance(section, NotificationsSection)
        section.sounds[Priority.P1].setChecked(False)
        with qtbot.waitSignal(dialog.applied, timeout=WAIT_MS):
            dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

        assert not alarm.prefs.sounds(Priority.P1)
        assert alarm.looping is None
        qtbot.waitUntil(lambda: con.settings_dialog is None, timeout=WAIT_MS)
    stored = NotificationPrefs.from_json(other.setting(NOTIFICATION_SETTINGS_KEY))
    assert not stored.sounds(Priority.P1)


def test_an_incident_opened_by_the_in_app_engine_arrives_through_its_hook(
    qtbot: QtBot, dunst_env: Dunst, store_path: Path
) -> None:
    # A bound socket that does not listen: every check of the port is refused.
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))
    target = TcpTarget("127.0.0.1", refused.getsockname()[1])
    with Store.open(store_path) as setup:
        _estate(setup)
        port = Endpoint("shop-port", "Port", "shop", target, interval_s=1, timeout_s=1)
        entities.save(setup, port)
    store = Store.open(store_path)
    host = EngineHost(store, receiver_port=None, secrets=lambda: None)
    con = Console(store, application(), host, alerting=True)
    try:
        alerting = controller(con)
        assert host.on_incident is not None
        with qtbot.waitSignal(alerting.engine_incident, timeout=60_000) as hooked:
            con.start()
        [outcome] = hooked.args
        assert isinstance(outcome, SignalOutcome) and outcome.notify
        assert outcome.incident.ref == "INC-1"
        qtbot.waitUntil(lambda: len(dunst_env.shown()) == 1, timeout=WAIT_MS)
        [shown] = dunst_env.shown()
        assert shown["DUNST_SUMMARY"].startswith("INC-1 P")
        assert outcome.incident.title in shown["DUNST_SUMMARY"]
    finally:
        con.close()
        refused.close()


def test_minimised_without_a_tray_starts_as_a_minimised_window(
    qtbot: QtBot, p1_store: Path
) -> None:
    assert build_parser().parse_args(["--tray"]).minimised
    assert build_parser().parse_args(["--minimised"]).minimised
    assert not build_parser().parse_args([]).minimised
    con = Console(Store.open(p1_store), application(), alerting=True)
    try:
        alerting = controller(con)
        assert alerting.tray is None  # the offscreen platform has no system tray

        alerting.show_at_start(minimised=True)

        assert con.window.isMinimized()
        with qtbot.waitSignal(alerting.reviewed, timeout=WAIT_MS):
            con.start()
        alerting.callbacks.open_incident(incident(con.store, "INC-1").id)
        assert not con.window.isMinimized() and con.window.isVisible()
        assert con.window.current_page().title == "Incidents"
    finally:
        con.close()


def test_a_screenshot_stays_silent(
    dunst_env: Dunst, recording: Recording, p1_store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "incidents.png"
    env = dict(os.environ) | {"QT_QPA_PLATFORM": "offscreen"}
    started = time.monotonic()

    done = subprocess.run(
        [sys.executable, "-m", "console", "--db", str(p1_store), "--screenshot", str(out),
         "--page", "Incidents", "--size", "1280x800"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 10_000
    assert (dunst_env.count(), dunst_env.history(), dunst_env.shown()) == (0, [], [])
    heard = [peak for at, peak in recording.blocks(started) if at < time.monotonic()]
    assert heard and max(heard) <= QUIET
