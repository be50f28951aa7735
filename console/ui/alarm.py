"""The alarm: one sound source for every open incident, repeating for unacknowledged P1/P2.

`Alarm.update` takes the open incidents (id, priority, acknowledged) whenever the store
changes, asks `console.core.alerting.plan_alarm` what to sound, and does it: a P1/P2 sound
loops until acknowledged or muted, a P3-P5 sound plays once per new incident. The call is
cheap when nothing that matters changed (a set comparison), so the application can feed it
from every ``data_version`` poll: an acknowledgement made anywhere (another window, the CLI, a
notification button) stops the sound on the next poll.

The sounds are resources/sounds/p1.wav .. p5.wav (made by packaging/make_sounds.py), played
with QtMultimedia's QSoundEffect. Effects are created on first use, so a console that never
alarms never opens the audio device.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QLoggingCategory, QObject, QTimer, QUrl, Signal
from PySide6.QtMultimedia import QSoundEffect

import console
from console.core.alerting import AlarmInput, NotificationPrefs, plan_alarm
from console.core.clock import Clock, SystemClock
from console.core.enums import Priority

log = logging.getLogger(__name__)

SOUNDS_DIR = Path("resources") / "sounds"
_INFINITE = QSoundEffect.Loop.Infinite.value


def sounds_dir() -> Path:
    """Where the alarm sounds are: beside the package, or inside a PyInstaller bundle."""
    candidates = [Path(console.__file__).resolve().parent.parent / SOUNDS_DIR]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        candidates.append(Path(bundle) / SOUNDS_DIR)
    return next((path for path in candidates if path.is_dir()), candidates[0])


def sound_path(priority: Priority) -> Path:
    """The sound file of one priority (``p1.wav`` for P1...)."""
    return sounds_dir() / f"{priority.value.lower()}.wav"


def _quiet_backend_probe() -> None:
    # Qt looks for PipeWire before it settles on PulseAudio and warns when the library is
    # absent, which is the normal state of a PulseAudio desktop: not worth a warning.
    QLoggingCategory.setFilterRules("qt.multimedia.symbolsresolver.warning=false")


class Alarm(QObject):
    """The alarm sound.

    Args:
        prefs: Which priorities sound, the volume and the mute length.
        clock: Tells when a mute ends (shown to the user).
        parent: The owning QObject.
    """

    #: Emitted when what is playing or the mute changes.
    changed = Signal()
    #: Emitted with a message when a sound cannot be played (missing file, no audio device).
    failed = Signal(str)

    def __init__(
        self,
        prefs: NotificationPrefs | None = None,
        clock: Clock | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._prefs = prefs or NotificationPrefs()
        self._clock: Clock = clock or SystemClock()
        self._effects: dict[Priority, QSoundEffect] = {}
        self._incidents: tuple[AlarmInput, ...] = ()
        self._key: frozenset[tuple[str, Priority]] | None = None
        self._heard: frozenset[str] = frozenset()
        self._loop: Priority | None = None
        self._muted_until: datetime | None = None
        self._unmute = QTimer(self)
        self._unmute.setSingleShot(True)
        self._unmute.timeout.connect(self.unmute)

    # -- state ----------------------------------------------------------------------------------

    @property
    def prefs(self) -> NotificationPrefs:
        """The preferences in force."""
        return self._prefs

    @property
    def looping(self) -> Priority | None:
        """The priority whose sound repeats now (None when no P1/P2 alarm is on)."""
        return self._loop

    @property
    def playing(self) -> bool:
        """Whether any sound is coming out right now."""
        return any(effect.isPlaying() for effect in self._effects.values())

    @property
    def muted(self) -> bool:
        """Whether the alarm is muted."""
        return self._muted_until is not None

    @property
    def muted_until(self) -> datetime | None:
        """When the mute ends by itself (None when not muted)."""
        return self._muted_until

    # -- inputs ---------------------------------------------------------------------------------

    def update(self, incidents: Iterable[AlarmInput]) -> None:
        """Take the open incidents now and start, switch or stop the sound to match."""
        incidents = tuple(incidents)
        key = frozenset((i.incident_id, i.priority) for i in incidents if not i.acknowledged)
        self._incidents = incidents
        if key == self._key:
            return  # the common case: a poll with nothing new for the alarm
        self._key = key
        self._apply()

    def set_prefs(self, prefs: NotificationPrefs) -> None:
        """Use new preferences (volume, sounds per priority, mute length) from now on."""
        self._prefs = prefs
        for effect in self._effects.values():
            effect.setVolume(prefs.volume / 100)
        self._apply()

    def mute(self, duration: timedelta | None = None) -> None:
        """Silence the alarm for ``duration`` (the preferences' mute length by default)."""
        length = duration or timedelta(minutes=self._prefs.mute_minutes)
        self._muted_until = self._clock.now() + length
        self._unmute.start(max(1, round(length.total_seconds() * 1000)))
        self._stop_all()
        self._apply()
        self.changed.emit()

    def unmute(self) -> None:
        """End a mute now (it also ends by itself); a P1/P2 still open sounds again."""
        self._unmute.stop()
        if self._muted_until is None:
            return
        self._muted_until = None
        self._apply()
        self.changed.emit()

    def shutdown(self) -> None:
        """Stop every sound (the application is closing)."""
        self._unmute.stop()
        self._stop_all()

    # -- the sound ------------------------------------------------------------------------------

    def _apply(self) -> None:
        plan = plan_alarm(self._incidents, self._prefs, self._heard, muted=self.muted)
        self._heard = plan.heard
        before = self._loop
        if plan.loop is not None:
            if plan.loop is not self._loop:
                self._play(plan.loop, looped=True)
        elif plan.chime is not None:
            self._play(plan.chime, looped=False)
        elif self._loop is not None:
            self._stop_all()  # a one-off chime already playing may finish
        self._loop = plan.loop
        if self._loop is not before:
            self.changed.emit()

    def _play(self, priority: Priority, *, looped: bool) -> None:
        effect = self._effect(priority)
        for other, playing in self._effects.items():
            if other is not priority:
                playing.stop()
        if effect is None:
            return
        effect.stop()
        effect.setLoopCount(_INFINITE if looped else 1)
        effect.setVolume(self._prefs.volume / 100)
        effect.play()

    def _stop_all(self) -> None:
        self._loop = None
        for effect in self._effects.values():
            effect.stop()

    def _effect(self, priority: Priority) -> QSoundEffect | None:
        effect = self._effects.get(priority)
        if effect is not None:
            return effect
        path = sound_path(priority)
        if not path.is_file():
            message = f"the alarm sound for {priority.value} is missing: {path}"
            log.error(message)
            self.failed.emit(message)
            return None
        if not self._effects:
            _quiet_backend_probe()
        effect = QSoundEffect(self)
        self._effects[priority] = effect
        effect.statusChanged.connect(lambda: self._check(priority, effect))
        effect.setSource(QUrl.fromLocalFile(str(path)))
        return effect

    def _check(self, priority: Priority, effect: QSoundEffect) -> None:
        if effect.status() is QSoundEffect.Status.Error:
            message = (
                f"cannot play the {priority.value} alarm sound {effect.source().toLocalFile()}"
            )
            log.warning(message)
            self.failed.emit(message)
