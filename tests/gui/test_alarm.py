"""The alarm, heard: QSoundEffect into a private PulseAudio null sink, recorded with parec.

The recording's blocks carry the time they arrived, so "silence within a second of the
acknowledgement" is measured, not assumed. The sound files themselves are checked too: made
for this project by packaging/make_sounds.py, distinct per priority, small, 16-bit mono 44.1 kHz.
"""

from __future__ import annotations

import importlib.util
import time
import wave
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from console.core.alerting import AlarmInput, NotificationPrefs
from console.core.enums import Priority
from console.ui.alarm import Alarm, sound_path, sounds_dir
from PySide6.QtMultimedia import QSoundEffect
from pytestqt.qtbot import QtBot

from tests.services import Recording, SoundServer

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
LOUD = 2000  # peak sample value of a block that holds sound (the P1 siren peaks near 20,000)
QUIET = 30  # the null sink's monitor is exactly 0 when nothing plays
WAIT_MS = 10_000


@pytest.fixture
def recording(
    sound_server: SoundServer, monkeypatch: pytest.MonkeyPatch, qtbot: QtBot
) -> Iterator[Recording]:
    """This process's sound goes to the private server, recorded from its monitor."""
    monkeypatch.setenv("PULSE_SERVER", sound_server.server)
    rec = Recording(sound_server)
    try:
        qtbot.waitUntil(lambda: len(rec.blocks()) > 5, timeout=WAIT_MS)
        yield rec
    finally:
        rec.stop()


@pytest.fixture
def alarm(qtbot: QtBot, recording: Recording) -> Iterator[Alarm]:
    out = Alarm(NotificationPrefs(volume=80))
    yield out
    out.shutdown()
    out.deleteLater()


def loud_since(rec: Recording, since: float) -> bool:
    return any(peak > LOUD for _, peak in rec.blocks(since))


def covered_until(rec: Recording, moment: float) -> bool:
    blocks = rec.blocks()
    return bool(blocks) and blocks[-1][0] >= moment


def window_has_sound(rec: Recording, start: float, end: float) -> bool:
    return any(peak > LOUD for at, peak in rec.blocks(start) if at < end)


def sources_playing(alarm: Alarm) -> int:
    return sum(1 for effect in alarm.findChildren(QSoundEffect) if effect.isPlaying())


def test_a_p1_alarm_repeats_until_acknowledged_then_falls_silent_within_a_second(
    qtbot: QtBot, alarm: Alarm, recording: Recording
) -> None:
    start = time.monotonic()
    alarm.update([AlarmInput("inc-1", Priority.P1, acknowledged=False)])
    assert alarm.looping is Priority.P1

    qtbot.waitUntil(lambda: loud_since(recording, start), timeout=WAIT_MS)
    first = next(at for at, peak in recording.blocks(start) if peak > LOUD)
    # The siren file lasts about half a second: sound 1.5 s on means it repeated.
    qtbot.waitUntil(lambda: covered_until(recording, first + 2.0), timeout=WAIT_MS)
    for offset in (0.0, 0.6, 1.2):
        assert window_has_sound(recording, first + offset, first + offset + 0.6)

    acknowledged = time.monotonic()
    alarm.update([AlarmInput("inc-1", Priority.P1, acknowledged=True)])
    assert alarm.looping is None

    qtbot.waitUntil(lambda: covered_until(recording, acknowledged + 2.5), timeout=WAIT_MS)
    late = recording.blocks(acknowledged + 1.0)
    assert late, "the recording stopped"
    assert max(peak for _, peak in late) <= QUIET
    assert not alarm.playing


def test_one_sound_source_however_many_incidents_are_open(qtbot: QtBot, alarm: Alarm) -> None:
    incidents = [
        AlarmInput("a", Priority.P2, False),
        AlarmInput("b", Priority.P1, False),
        AlarmInput("c", Priority.P1, False),
        AlarmInput("d", Priority.P3, False),
    ]
    alarm.update(incidents)
    qtbot.waitUntil(lambda: alarm.playing, timeout=WAIT_MS)
    assert (alarm.looping, sources_playing(alarm)) == (Priority.P1, 1)

    # One P1 acknowledged: the other P1 keeps the siren going.
    incidents[1] = AlarmInput("b", Priority.P1, True)
    alarm.update(incidents)
    assert alarm.looping is Priority.P1
    # Both acknowledged: the P2 beeps take over, still one source.
    incidents[2] = AlarmInput("c", Priority.P1, True)
    alarm.update(incidents)
    qtbot.waitUntil(lambda: sources_playing(alarm) == 1, timeout=WAIT_MS)
    assert alarm.looping is Priority.P2
    assert alarm.findChildren(QSoundEffect)[0].isPlaying() is False  # the siren stopped


def test_a_mute_silences_the_alarm_and_ends_by_itself(
    qtbot: QtBot, alarm: Alarm, recording: Recording
) -> None:
    alarm.update([AlarmInput("a", Priority.P2, False)])
    qtbot.waitUntil(lambda: alarm.playing, timeout=WAIT_MS)

    muted_at = time.monotonic()
    with qtbot.waitSignal(alarm.changed, timeout=WAIT_MS):
        alarm.mute(timedelta(seconds=1.5))
    assert alarm.muted and alarm.muted_until is not None
    assert not alarm.playing
    # The same incidents polled again while muted: still quiet.
    alarm.update([AlarmInput("a", Priority.P2, False)])

    with qtbot.waitSignal(alarm.changed, timeout=WAIT_MS):
        pass  # the mute's own timer ends it
    unmuted_at = time.monotonic()
    assert not alarm.muted
    assert alarm.looping is Priority.P2
    quiet = [peak for at, peak in recording.blocks(muted_at + 0.5) if at < unmuted_at]
    assert quiet and max(quiet) <= QUIET
    qtbot.waitUntil(lambda: loud_since(recording, unmuted_at), timeout=WAIT_MS)


def test_lower_priorities_chime_once(qtbot: QtBot, alarm: Alarm, recording: Recording) -> None:
    start = time.monotonic()
    alarm.update([AlarmInput("a", Priority.P3, False)])
    assert alarm.looping is None

    qtbot.waitUntil(lambda: loud_since(recording, start), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not alarm.playing, timeout=WAIT_MS)
    # Polled again with the same incident: no second chime.
    alarm.update([AlarmInput("a", Priority.P3, False)])
    ended = time.monotonic()
    qtbot.waitUntil(lambda: covered_until(recording, ended + 1.5), timeout=WAIT_MS)
    assert max(peak for _, peak in recording.blocks(ended + 0.3)) <= QUIET


def test_volume_and_per_priority_switches_apply(
    qtbot: QtBot, alarm: Alarm, recording: Recording
) -> None:
    alarm.set_prefs(NotificationPrefs(volume=100))
    start = time.monotonic()
    alarm.update([AlarmInput("a", Priority.P1, False)])
    qtbot.waitUntil(lambda: covered_until(recording, start + 1.5), timeout=WAIT_MS)
    full = max(peak for _, peak in recording.blocks(start))

    alarm.set_prefs(NotificationPrefs(volume=25))
    softer = time.monotonic()
    qtbot.waitUntil(lambda: covered_until(recording, softer + 1.5), timeout=WAIT_MS)
    quarter = max(peak for _, peak in recording.blocks(softer + 0.3))
    assert full > LOUD
    assert LOUD / 4 < quarter < full * 0.5

    alarm.set_prefs(NotificationPrefs(sound=frozenset({Priority.P2, Priority.P3})))
    assert alarm.looping is None
    qtbot.waitUntil(lambda: not alarm.playing, timeout=WAIT_MS)


# -- the files ----------------------------------------------------------------------------------


def make_sounds() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_sounds", ROOT / "packaging" / "make_sounds.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read(path: Path) -> tuple[tuple[int, int, int], np.ndarray]:
    with wave.open(str(path), "rb") as wav:
        params = (wav.getnchannels(), wav.getsampwidth(), wav.getframerate())
        return params, np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")


def test_the_sounds_are_found_beside_the_package() -> None:
    assert sounds_dir() == ROOT / "resources" / "sounds"
    assert [sound_path(p).name for p in Priority] == [f"p{n}.wav" for n in range(1, 6)]


def test_each_priority_has_its_own_small_16_bit_mono_sound() -> None:
    decoded = {}
    for priority in Priority:
        path = sound_path(priority)
        params, samples = read(path)
        assert params == (1, 2, 44_100)
        assert 20 * 1024 < path.stat().st_size < 80 * 1024
        assert 0.3 < len(samples) / 44_100 < 1.0
        decoded[priority] = samples
    assert len({samples.tobytes() for samples in decoded.values()}) == 5
    # Louder for the more urgent: P1 and P2 loudest, P5 softest.
    peaks = [int(np.abs(decoded[p].astype(np.int32)).max()) for p in Priority]
    assert peaks == sorted(peaks, reverse=True)


def test_the_committed_sounds_are_what_the_script_makes(tmp_path: Path) -> None:
    assert make_sounds().main(["--out", str(tmp_path)]) == 0
    for priority in Priority:
        _, made = read(tmp_path / sound_path(priority).name)
        _, shipped = read(sound_path(priority))
        assert made.shape == shipped.shape
        # Rounding may differ by one step between numpy builds; nothing more.
        assert int(np.abs(made.astype(np.int32) - shipped.astype(np.int32)).max()) <= 1
