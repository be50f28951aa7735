"""The settings dialog: sections load and save through the store worker, never the UI thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from console.core.alerting import NOTIFICATION_SETTINGS_KEY, NotificationPrefs
from console.core.enums import Priority
from console.store.db import Store
from console.ui.dialogs.settings import NotificationsSection, SettingsDialog, SettingsSection
from console.ui.tasks import TaskRunner
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

pytestmark = pytest.mark.gui

WAIT_MS = 10_000


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    with Store.open(store_path) as opened:
        yield opened


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[TaskRunner]:
    out = TaskRunner()
    yield out
    out.shutdown()


def opened(qtbot: QtBot, store: Store, runner: TaskRunner, **kw: object) -> SettingsDialog:
    dialog = SettingsDialog(store, runner, **kw)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    if dialog.busy:
        with qtbot.waitSignal(dialog.loaded, timeout=WAIT_MS):
            pass
    return dialog


def notifications(dialog: SettingsDialog) -> NotificationsSection:
    section = dialog.section("Notifications")
    assert isinstance(section, NotificationsSection)
    return section


def test_the_defaults_show_when_nothing_is_stored(
    qtbot: QtBot, store: Store, runner: TaskRunner
) -> None:
    dialog = opened(qtbot, store, runner)

    assert [dialog.sidebar.item(i).text() for i in range(dialog.sidebar.count())] == [
        "Notifications"
    ]
    assert notifications(dialog).values() == NotificationPrefs()


def test_apply_stores_the_edited_preferences(
    qtbot: QtBot, store: Store, runner: TaskRunner, store_path: Path
) -> None:
    dialog = opened(qtbot, store, runner)
    dialog.show()
    section = notifications(dialog)
    section.desktop.setChecked(False)
    section.sounds[Priority.P4].setChecked(False)
    section.sounds[Priority.P5].setChecked(False)
    section.volume.setValue(35)
    section.mute.setValue(5)
    wanted = NotificationPrefs(False, frozenset({Priority.P1, Priority.P2, Priority.P3}), 35, 5)

    with (
        qtbot.waitSignal(section.saved, timeout=WAIT_MS) as saved,
        qtbot.waitSignal(dialog.applied, timeout=WAIT_MS),
    ):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Apply).click()

    assert saved.args == [wanted]
    assert dialog.isVisible()  # Apply saves and stays open
    with Store.open(store_path) as other:
        assert NotificationPrefs.from_json(other.setting(NOTIFICATION_SETTINGS_KEY)) == wanted
    # A new dialog shows what was stored.
    again = opened(qtbot, store, runner)
    assert notifications(again).values() == wanted


def test_ok_saves_then_closes(qtbot: QtBot, store: Store, runner: TaskRunner) -> None:
    dialog = opened(qtbot, store, runner)
    dialog.show()
    notifications(dialog).volume.setValue(10)

    with qtbot.waitSignal(dialog.accepted, timeout=WAIT_MS):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    assert NotificationPrefs.from_json(store.setting(NOTIFICATION_SETTINGS_KEY)).volume == 10


def test_unreadable_stored_settings_are_reported_and_defaults_shown(
    qtbot: QtBot, store: Store, runner: TaskRunner
) -> None:
    store.set_setting(NOTIFICATION_SETTINGS_KEY, '{"volume": 400}')

    dialog = opened(qtbot, store, runner)

    assert "Notifications: the stored settings cannot be read" in dialog.banner.text()
    assert "volume" in dialog.banner.text()
    assert notifications(dialog).values() == NotificationPrefs()


class Probe(SettingsSection[str]):
    """A section that records which thread did its store work."""

    title = "Probe"

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []
        self.shown = ""

    def load(self, store: Store) -> str:
        self.threads.append(threading.current_thread().name)
        return store.setting("probe") or "nothing yet"

    def save(self, store: Store, values: str) -> None:
        self.threads.append(threading.current_thread().name)
        store.set_setting("probe", values)

    def show_values(self, values: str) -> None:
        self.shown = values

    def values(self) -> str:
        return "saved by the probe"


def test_later_sections_plug_in_and_their_store_work_runs_on_the_worker(
    qtbot: QtBot, store: Store, runner: TaskRunner
) -> None:
    probe = Probe()
    dialog = opened(qtbot, store, runner, sections=[NotificationsSection(), probe])
    assert dialog.sidebar.item(1).text() == "Probe"
    assert probe.shown == "nothing yet"
    dialog.sidebar.setCurrentRow(1)
    assert dialog.pages.currentWidget() is probe

    with qtbot.waitSignal(dialog.applied, timeout=WAIT_MS):
        dialog.apply()

    assert store.setting("probe") == "saved by the probe"
    assert probe.threads == ["store-worker", "store-worker"]
    assert threading.current_thread().name != "store-worker"
