"""The settings dialog: a list of sections (Notifications first; later issues add theirs).

Each section is a widget that knows how to read its values from the store and write them back;
both happen on the store worker (console.ui.tasks), never on the UI thread. The dialog shows
the sections in a sidebar, loads them all when it opens, and saves them all on Apply/OK,
closing only once every save has reported back. A failure shows in the dialog's banner.

To add a section: subclass `SettingsSection`, implement its four methods, and pass an instance
to `SettingsDialog` (or append it in `default_sections`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, Generic, TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QSlider,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console.core.alerting import (
    MAX_MUTE_MINUTES,
    NOTIFICATION_SETTINGS_KEY,
    REPEATING,
    NotificationPrefs,
)
from console.core.enums import Priority
from console.store.db import Store
from console.ui.tasks import TaskRunner
from console.ui.widgets.common import Banner, section_title

T = TypeVar("T")

_SOUND_NAMES = {
    Priority.P1: "fast two-tone siren",
    Priority.P2: "triple beep",
    Priority.P3: "double chime",
    Priority.P4: "soft chime",
    Priority.P5: "softer chime",
}


class SettingsSection(QWidget, Generic[T]):
    """One page of the settings dialog.

    `load` and `save` run on the store worker; `show_values` and `values` on the UI thread.
    """

    #: The sidebar's name for this section.
    title = "Section"
    #: Emitted (on the UI thread) with the values once they are saved.
    saved = Signal(object)

    def load(self, store: Store) -> T:
        """Read this section's values (worker thread)."""
        raise NotImplementedError

    def save(self, store: Store, values: T) -> None:
        """Write this section's values (worker thread)."""
        raise NotImplementedError

    def show_values(self, values: T) -> None:
        """Put values into the widgets (UI thread)."""
        raise NotImplementedError

    def values(self) -> T:
        """The values the widgets hold now (UI thread)."""
        raise NotImplementedError


class NotificationsSection(SettingsSection[NotificationPrefs]):
    """Desktop notifications on/off, the alarm sound per priority, its volume and mute length."""

    title = "Notifications"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desktop = QCheckBox("Show desktop notifications (with Acknowledge and Open buttons)")
        self.sounds: dict[Priority, QCheckBox] = {}
        for priority in Priority:
            repeat = "repeats until acknowledged" if priority in REPEATING else "plays once"
            text = f"{priority.value}: {_SOUND_NAMES[priority]}, {repeat}"
            self.sounds[priority] = QCheckBox(text)
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume_label = QLabel()
        self.volume.valueChanged.connect(lambda v: self.volume_label.setText(f"{v} %"))
        self.mute = QSpinBox()
        self.mute.setRange(1, MAX_MUTE_MINUTES)
        self.mute.setSuffix(" min")
        self.mute.setMaximumWidth(140)
        self._layout()
        self.show_values(NotificationPrefs())

    def _layout(self) -> None:
        outer = QVBoxLayout(self)
        outer.addWidget(section_title("Desktop"))
        outer.addWidget(self.desktop)
        hint = QLabel("The in-app banner always shows, whatever this says.")
        hint.setObjectName("Muted")
        outer.addWidget(hint)
        outer.addWidget(section_title("Alarm sound"))
        for box in self.sounds.values():
            outer.addWidget(box)
        form = QFormLayout()
        volume = QHBoxLayout()
        volume.addWidget(self.volume, 1)
        volume.addWidget(self.volume_label)
        form.addRow("Volume", volume)
        form.addRow("Mute lasts", self.mute)
        outer.addLayout(form)
        outer.addStretch(1)

    def load(self, store: Store) -> NotificationPrefs:
        """The stored preferences (defaults when none are stored)."""
        return NotificationPrefs.from_json(store.setting(NOTIFICATION_SETTINGS_KEY))

    def save(self, store: Store, values: NotificationPrefs) -> None:
        """Store the preferences."""
        store.set_setting(NOTIFICATION_SETTINGS_KEY, values.to_json())

    def show_values(self, values: NotificationPrefs) -> None:
        """Fill the widgets."""
        self.desktop.setChecked(values.desktop)
        for priority, box in self.sounds.items():
            box.setChecked(values.sounds(priority))
        self.volume.setValue(values.volume)
        self.volume_label.setText(f"{values.volume} %")
        self.mute.setValue(values.mute_minutes)

    def values(self) -> NotificationPrefs:
        """What the widgets say."""
        return NotificationPrefs(
            desktop=self.desktop.isChecked(),
            sound=frozenset(p for p, box in self.sounds.items() if box.isChecked()),
            volume=self.volume.value(),
            mute_minutes=self.mute.value(),
        )


def default_sections() -> list[SettingsSection[Any]]:
    """The sections the application's settings dialog shows, in order."""
    return [NotificationsSection()]


class SettingsDialog(QDialog):
    """The settings window.

    Args:
        store: The store the sections read and write (on the worker).
        runner: The store worker.
        sections: The pages, in sidebar order (`default_sections` when None).
        parent: The window it opens over.
    """

    #: Emitted when every section has loaded its values.
    loaded = Signal()
    #: Emitted when every section has saved (after Apply or OK).
    applied = Signal()

    def __init__(
        self,
        store: Store,
        runner: TaskRunner,
        sections: Sequence[SettingsSection[Any]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._store = store
        self._runner = runner
        self.sections = list(sections) if sections is not None else default_sections()
        self._loading = 0
        self._saving = 0
        self._save_failures = 0
        self._close_when_saved = False
        self.sidebar = QListWidget()
        self.pages = QStackedWidget()
        self.banner = Banner()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.Apply
        )
        for section in self.sections:
            self.sidebar.addItem(section.title)
            self.pages.addWidget(section)
        self.sidebar.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.sidebar.setCurrentRow(0)
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)
        apply = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        apply.clicked.connect(self.apply)
        self._layout()
        self._load()

    def _layout(self) -> None:
        body = QHBoxLayout()
        self.sidebar.setFixedWidth(180)
        body.addWidget(self.sidebar)
        body.addWidget(self.pages, 1)
        outer = QVBoxLayout(self)
        outer.addWidget(self.banner)
        outer.addLayout(body, 1)
        outer.addWidget(self.buttons)

    @property
    def busy(self) -> bool:
        """Whether loads or saves are still on their way."""
        return bool(self._loading or self._saving)

    def section(self, title: str) -> SettingsSection[Any]:
        """The section with this sidebar title."""
        return next(s for s in self.sections if s.title == title)

    # -- loading --------------------------------------------------------------------------------

    def _load(self) -> None:
        self._loading = len(self.sections)
        self._set_enabled(False)
        store = self._store
        for section in self.sections:
            self._runner.submit(
                partial(section.load, store),
                partial(self._loaded, section),
                partial(self._load_failed, section),
            )

    def _loaded(self, section: SettingsSection[Any], values: object) -> None:
        section.show_values(values)
        self._load_done()

    def _load_failed(self, section: SettingsSection[Any], exc: BaseException) -> None:
        # The section keeps its defaults; saving would replace what could not be read.
        self.banner.show_message(f"{section.title}: the stored settings cannot be read ({exc})")
        self._load_done()

    def _load_done(self) -> None:
        self._loading -= 1
        if self._loading == 0:
            self._set_enabled(True)
            self.loaded.emit()

    # -- saving ---------------------------------------------------------------------------------

    def apply(self) -> None:
        """Save every section on the worker; `applied` follows once all are stored."""
        if self.busy:
            return
        try:
            pairs = [(section, section.values()) for section in self.sections]
        except ValueError as exc:  # ValidationError included: a value the section refuses
            self.banner.show_message(str(exc))
            self._close_when_saved = False
            return
        self.banner.clear_message()
        self._saving = len(pairs)
        self._save_failures = 0
        self._set_enabled(False)
        for section, values in pairs:
            self._runner.submit(
                partial(section.save, self._store, values),
                partial(self._saved, section, values),
                partial(self._save_failed, section),
            )

    def _ok(self) -> None:
        self._close_when_saved = True
        self.apply()

    def _saved(self, section: SettingsSection[Any], values: object, _result: object) -> None:
        section.saved.emit(values)
        self._save_done()

    def _save_failed(self, section: SettingsSection[Any], exc: BaseException) -> None:
        self._save_failures += 1
        self.banner.show_message(f"{section.title}: could not save ({exc})")
        self._save_done()

    def _save_done(self) -> None:
        self._saving -= 1
        if self._saving:
            return
        self._set_enabled(True)
        close, self._close_when_saved = self._close_when_saved, False
        if self._save_failures:
            return  # the banner says what failed; the dialog stays open to try again
        self.applied.emit()
        if close:
            self.accept()

    def _set_enabled(self, enabled: bool) -> None:
        self.pages.setEnabled(enabled)
        for kind in (QDialogButtonBox.StandardButton.Ok, QDialogButtonBox.StandardButton.Apply):
            self.buttons.button(kind).setEnabled(enabled)
