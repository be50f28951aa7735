"""The command line: a thin layer over the same functions the UI calls."""

from __future__ import annotations

from console.cli.main import main

__all__ = ["main"]
