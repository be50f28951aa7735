"""The GUI's composition root: builds the Qt application around an open store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class GuiOptions:
    """What the command line hands the GUI."""

    store_path: Path
    actor: str | None = None
    screenshot: Path | None = None
    page: str | None = None
    size: tuple[int, int] = (1920, 1080)
    #: Serve the simulated demo estate for the app's engine (the global --demo).
    demo: bool = False
    #: Show the NOC wall instead of the main window (--wall), on this screen (--screen N).
    wall: bool = False
    screen: int | None = None
    #: Seconds each wall page stays (--rotate).
    rotate_s: float = 15.0
    #: Start in the system tray, or minimised where there is none (--minimised).
    minimised: bool = False
    #: When the process started (``time.perf_counter``), for the startup probe.
    started_at: float | None = None


def run_gui(options: GuiOptions) -> int:
    """Start the window (or render one screenshot) and return the exit code."""
    from console.ui.application import run

    return run(options)
