"""The command line: a thin layer over the same functions the UI calls."""

from __future__ import annotations

import argparse

from console import __version__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="oncall-console", description=__doc__)
    parser.add_argument("--version", action="version", version=f"oncall-console {__version__}")
    return parser


def main(argv: list[str]) -> int:
    """Run one command; returns the exit code."""
    build_parser().parse_args(argv)
    return 0
