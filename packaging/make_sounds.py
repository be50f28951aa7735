"""Synthesises the alarm sounds in resources/sounds/ (one per priority), deterministically.

Run ``python packaging/make_sounds.py`` to (re)write ``p1.wav`` .. ``p5.wav``; the files are
committed, so the application never needs numpy at run time to make them. Each is 16-bit mono
PCM at 44.1 kHz and well under a second long: the alarm loops the P1 and P2 sounds, so the
silence at the end of each file sets the pace of the repeats.

The sounds get quieter and gentler with the priority, so that a responder can tell them apart
without looking: P1 a fast two-tone siren, P2 a triple beep, P3 a falling double chime, P4 one
soft chime, P5 one softer, lower chime.
"""

from __future__ import annotations

import argparse
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

RATE = 44_100
FADE = 0.004  # seconds of fade in/out on every tone, so no edge clicks
OUT_DIR = Path(__file__).resolve().parent.parent / "resources" / "sounds"

Samples = NDArray[np.float64]


def _silence(seconds: float) -> Samples:
    return np.zeros(round(seconds * RATE))


def _tone(freq: float, seconds: float, amp: float) -> Samples:
    """A tone with one soft overtone (easier to hear on small laptop speakers than a sine)."""
    t = np.arange(round(seconds * RATE)) / RATE
    wave_ = np.sin(2 * np.pi * freq * t) + 0.25 * np.sin(2 * np.pi * 2 * freq * t)
    ramp = min(len(t) // 2, round(FADE * RATE))
    envelope = np.ones(len(t))
    envelope[:ramp] = np.linspace(0.0, 1.0, ramp)
    envelope[len(t) - ramp :] = np.linspace(1.0, 0.0, ramp)
    return amp * wave_ * envelope / 1.25


def _chime(freq: float, seconds: float, amp: float, decay: float) -> Samples:
    """A bell-like strike: inharmonic partials that die away exponentially."""
    t = np.arange(round(seconds * RATE)) / RATE
    partials = ((1.0, 1.0), (2.76, 0.35), (5.40, 0.12))
    wave_ = sum(w * np.sin(2 * np.pi * freq * r * t) for r, w in partials)
    attack = round(FADE * RATE)
    envelope = np.exp(-t / decay)
    envelope[:attack] *= np.linspace(0.0, 1.0, attack)
    envelope[-attack:] *= np.linspace(1.0, 0.0, attack)
    return amp * wave_ * envelope / 1.47


def siren() -> Samples:
    """P1: a fast two-tone siren (960/770 Hz, 0.1 s each), loud, with a short breath."""
    tones = [_tone(960.0 if i % 2 == 0 else 770.0, 0.1, 0.85) for i in range(4)]
    return np.concatenate([*tones, _silence(0.12)])


def triple_beep() -> Samples:
    """P2: three short 880 Hz beeps, then a pause before the next round."""
    beep = [_tone(880.0, 0.09, 0.7), _silence(0.06)]
    return np.concatenate([*beep, *beep, *beep, _silence(0.3)])


def double_chime() -> Samples:
    """P3: a falling double chime (E6 then C6)."""
    first = _chime(1318.5, 0.25, 0.55, 0.12)
    second = _chime(1046.5, 0.32, 0.55, 0.15)
    return np.concatenate([first, second])


def soft_chime() -> Samples:
    """P4: one soft chime (G5)."""
    return _chime(784.0, 0.45, 0.35, 0.16)


def softer_chime() -> Samples:
    """P5: one softer, lower chime (D5)."""
    return _chime(587.3, 0.4, 0.22, 0.14)


SOUNDS: dict[str, Callable[[], Samples]] = {
    "p1.wav": siren,
    "p2.wav": triple_beep,
    "p3.wav": double_chime,
    "p4.wav": soft_chime,
    "p5.wav": softer_chime,
}


def pcm16(samples: Samples) -> bytes:
    """Little-endian signed 16-bit PCM of samples in [-1, 1]."""
    clipped = np.clip(samples, -1.0, 1.0)
    return np.round(clipped * 32767).astype("<i2").tobytes()


def write_wav(path: Path, samples: Samples) -> None:
    """Write ``samples`` as a 16-bit mono 44.1 kHz WAV file."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm16(samples))


def main(argv: list[str] | None = None) -> int:
    """Write every sound into the output folder (resources/sounds by default)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="folder to write into")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, make in SOUNDS.items():
        path = args.out / name
        write_wav(path, make())
        print(f"{path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
