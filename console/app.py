"""The GUI's composition root: builds the Qt application around an open store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from console.core.errors import ConsoleError


@dataclass(frozen=True, slots=True)
class GuiOptions:
    """What the command line hands the GUI."""

    store_path: Path
    actor: str | None = None
    screenshot: Path | None = None
    page: str | None = None
    size: tuple[int, int] = (1920, 1080)


def run_gui(options: GuiOptions) -> int:
    """Start the window (or render one screenshot) and return the exit code."""
    raise ConsoleError(
        "this build has no desktop window yet; use a subcommand (oncall-console --help)"
    )
