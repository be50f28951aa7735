"""The demo estate shipped with the application (resources/demo/estate.yaml)."""

from __future__ import annotations

import sys
from pathlib import Path

import console
from console.config.loader import load_file
from console.core.models import Estate

DEMO_FILE = Path("resources") / "demo" / "estate.yaml"


def demo_path() -> Path:
    """Where the demo estate file is: beside the package, or inside a PyInstaller bundle."""
    candidates = [Path(console.__file__).resolve().parent.parent / DEMO_FILE]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        candidates.append(Path(bundle) / DEMO_FILE)
    return next((path for path in candidates if path.is_file()), candidates[0])


def demo_estate() -> Estate:
    """The demo estate, loaded and validated like any configuration file.

    Raises:
        ConfigError: If the file is missing or no longer valid.
    """
    return load_file(demo_path())
