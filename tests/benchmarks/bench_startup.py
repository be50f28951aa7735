"""Cold start of ``oncall-console --demo``: process start to the first painted main window.

Runs the real command on the current X display (Xvfb in CI) several times, each a new process
with the startup probe on (``ONCALL_CONSOLE_STARTUP_PROBE=1``, quitting at the first paint),
and compares it with the floor any Qt application pays here, measured in the same run: a bare
PySide6 script that shows an empty QMainWindow and notes its first paint the same way. Runs of
the two alternate, so both see the same machine.

Two figures per run: "from exec" counts from just before the process is started (the
interpreter's own start-up included; the probe's monotonic stamp is compared with this
process's clock), "in-process" from the first line of the entry point; "cpu" is the process's
CPU time by then (all threads), which other load on the machine inflates less than wall time.
Bytecode is cached in a private directory (``PYTHONPYCACHEPREFIX``) after one warm-up run of
each, as an installed application has it.

With ``--history`` it also times how long the window takes to stop saying
"Loading demo history…" (the demo's week of history written and shown).

    xvfb-run -a .venv/bin/python tests/benchmarks/bench_startup.py [--runs 7] [--history]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120
FIRST_PAINT = re.compile(
    r"first paint after (?P<ms>\d+) ms \(cpu (?P<cpu>\d+) ms, monotonic (?P<mono>[\d.]+)\)"
)
SHOWN = re.compile(r"the window shows the demo's history after (?P<ms>\d+) ms")

#: The floor: an empty QMainWindow, its first paint caught the way the console's probe does.
BARE_QT = r"""
import time
STARTED = time.perf_counter()
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setWindowTitle("bare")

class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if watched is window and event.type() == QEvent.Type.Paint:
            window.removeEventFilter(self)
            QTimer.singleShot(0, self.painted)
        return False

    def painted(self):
        ms = (time.perf_counter() - STARTED) * 1000
        cpu = time.process_time() * 1000
        print(f"first paint after {ms:.0f} ms (cpu {cpu:.0f} ms, monotonic {time.monotonic():.6f})",
              file=sys.stderr, flush=True)
        app.quit()

probe = FirstPaint()
window.installEventFilter(probe)
window.resize(1920, 1080)
window.show()
app.exec()
"""


@dataclass(frozen=True, slots=True)
class Run:
    """One process's figures, in milliseconds."""

    from_exec: float
    in_process: float
    cpu: float


def _environment(scratch: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        PYTHONPYCACHEPREFIX=str(scratch / "pycache"),
        XDG_DATA_HOME=str(scratch / "data"),
        XDG_CONFIG_HOME=str(scratch / "config"),
        XDG_STATE_HOME=str(scratch / "state"),
        XDG_CACHE_HOME=str(scratch / "cache"),
        QT_QPA_PLATFORM="xcb",
        ONCALL_CONSOLE_STARTUP_PROBE="1",
        ONCALL_CONSOLE_STARTUP_QUIT="paint",
    )
    return env


def _run(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    began = time.monotonic()
    done = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return began, done.stderr


def first_paint(command: list[str], env: dict[str, str]) -> Run:
    """Start ``command`` and read its first paint from the probe's line."""
    began, stderr = _run(command, env)
    found = FIRST_PAINT.search(stderr)
    if found is None:
        raise SystemExit(f"no first paint reported by {' '.join(command)}:\n{stderr}")
    from_exec = (float(found["mono"]) - began) * 1000
    return Run(from_exec, float(found["ms"]), float(found["cpu"]))


def history_shown(command: list[str], env: dict[str, str]) -> float:
    """Milliseconds until the window stops saying it is loading the demo's history."""
    _, stderr = _run(command, {**env, "ONCALL_CONSOLE_STARTUP_QUIT": "loaded"})
    found = SHOWN.search(stderr)
    if found is None:
        raise SystemExit(f"the window never showed the demo's history:\n{stderr}")
    return float(found["ms"])


def _row(name: str, values: list[float]) -> str:
    return f"{name:<34} {statistics.median(values):>8.0f} {min(values):>8.0f} {max(values):>8.0f}"


def main() -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each (7)")
    parser.add_argument(
        "--history", action="store_true", help="also time the demo's history being shown"
    )
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        print("no DISPLAY: run under Xvfb (xvfb-run -a ...)", file=sys.stderr)
        return 2
    python = sys.executable
    console = [python, "-m", "console", "--demo"]
    bare = [python, "-c", BARE_QT]
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        env = _environment(Path(tmp))
        first_paint(bare, env)  # warm-ups: bytecode compiled and cached, files in the OS cache
        first_paint(console, env)
        runs: dict[str, list[Run]] = {"bare": [], "console": []}
        for _ in range(args.runs):
            runs["bare"].append(first_paint(bare, env))
            runs["console"].append(first_paint(console, env))
        shown = [history_shown(console, env) for _ in range(args.runs)] if args.history else []
    print(f"first paint, ms over {args.runs} runs (DISPLAY={os.environ['DISPLAY']})")
    print(f"{'':<34} {'median':>8} {'best':>8} {'worst':>8}")
    for label, key in (("bare PySide6 QMainWindow", "bare"), ("oncall-console --demo", "console")):
        series = runs[key]
        print(_row(f"{label}: from exec", [r.from_exec for r in series]))
        print(_row(f"{label}: in-process", [r.in_process for r in series]))
        print(_row(f"{label}: cpu", [r.cpu for r in series]))
    extra = [c.from_exec - b.from_exec for b, c in zip(runs["bare"], runs["console"], strict=True)]
    print(_row("console over the bare floor", extra))
    if shown:
        print(_row("demo history shown (in-process)", shown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
