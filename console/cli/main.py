"""Argument parsing, dispatch and the mapping of errors to exit codes."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Callable

from console import __version__
from console.cli import (
    cmd_alerting,
    cmd_config,
    cmd_data,
    cmd_drills,
    cmd_engine,
    cmd_incidents,
    cmd_readiness,
    cmd_schedules,
    cmd_secret,
    cmd_status,
    cmd_store,
)
from console.cli.context import Context
from console.cli.exitcodes import Exit
from console.config.errors import ConfigError
from console.core.errors import ConsoleError, ValidationError
from console.store.errors import StoreConflict, StoreRefused

log = logging.getLogger("console")

EPILOG = """\
exit codes: 0 ok, 1 a check found a problem, 2 bad usage or input,
3 store refused (newer, corrupt, locked, read-only), 4 runtime failure.
Without a subcommand the desktop console starts."""


def _email(value: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise argparse.ArgumentTypeError(f"expected an email address, got {value!r}")
    return value


def _size(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{2,5})x(\d{2,5})", value)
    if not match:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1920x1080, got {value!r}")
    return int(match[1]), int(match[2])


def _screen(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"expected a screen number from 0, got {value!r}")
    return int(value)


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 1 <= seconds <= 3600:
        raise argparse.ArgumentTypeError(f"expected seconds from 1 to 3600, got {value!r}")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    """The parser: global options first, then one subcommand (none starts the GUI)."""
    parser = argparse.ArgumentParser(
        prog="oncall-console",
        description="A desktop console for on-call teams.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"oncall-console {__version__}")
    parser.add_argument("--db", metavar="PATH", help="the store file (default: per-user data dir)")
    parser.add_argument(
        "--as", dest="as_email", metavar="EMAIL", type=_email, help="record actions as this member"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="use the demo estate (a temporary store unless --db is given)",
    )
    parser.add_argument("--json", action="store_true", help="print data as JSON")
    gui = parser.add_argument_group("desktop console (no subcommand)")
    gui.add_argument("--screenshot", metavar="FILE", help="render the window to a PNG and exit")
    gui.add_argument("--page", metavar="NAME", help="the sidebar page to show (e.g. Teams)")
    gui.add_argument(
        "--size", metavar="WxH", type=_size, default=(1920, 1080), help="window size (1920x1080)"
    )
    gui.add_argument(
        "--wall", action="store_true", help="the full-screen NOC wall (F11 toggles full screen)"
    )
    gui.add_argument(
        "--screen", metavar="N", type=_screen, help="the wall's screen, 0-based (default: primary)"
    )
    gui.add_argument(
        "--rotate",
        metavar="SECONDS",
        type=_seconds,
        default=15.0,
        help="seconds each wall page stays before the next (15)",
    )
    gui.add_argument(
        "--minimised",
        "--tray",
        dest="minimised",
        action="store_true",
        help="start in the system tray (a minimised window where the desktop has no tray)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    cmd_config.register(sub)
    cmd_store.register(sub)
    cmd_data.register(sub)
    cmd_secret.register(sub)
    cmd_engine.register(sub)
    cmd_incidents.register(sub)
    cmd_alerting.register(sub)
    cmd_status.register(sub)
    cmd_schedules.register(sub)
    cmd_readiness.register(sub)
    cmd_drills.register(sub)
    return parser


def _run_gui(ctx: Context) -> int:
    from pathlib import Path

    from console.app import GuiOptions, run_gui

    args = ctx.args
    # Preflight and migrate before any window exists. With --demo a window shows itself first
    # and its engine host writes the history behind it; a screenshot must show that history,
    # so its store is filled here.
    ctx.store(history=args.screenshot is not None)
    ctx.release_store()
    options = GuiOptions(
        store_path=ctx.store_path(),
        actor=args.as_email,
        screenshot=Path(args.screenshot) if args.screenshot else None,
        page=args.page,
        size=args.size,
        demo=args.demo,
        wall=args.wall,
        screen=args.screen,
        rotate_s=args.rotate,
        minimised=args.minimised,
        started_at=ctx.started_at,
    )
    return run_gui(options)


def main(argv: list[str], *, started_at: float | None = None) -> int:
    """Run one command; returns the exit code.

    Args:
        argv: The arguments, without the program name.
        started_at: When the process started (``time.perf_counter``), for the startup probe.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[Context], int] = getattr(args, "handler", _run_gui)
    ctx = Context(args, started_at=started_at)
    try:
        return handler(ctx)
    except ConfigError as exc:
        print("\n".join(str(p) for p in exc.problems), file=sys.stderr)
        return Exit.BAD_INPUT
    except ValidationError as exc:
        print("\n".join(f"error: {p}" for p in exc.problems), file=sys.stderr)
        return Exit.BAD_INPUT
    except StoreRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return Exit.STORE_REFUSED
    except StoreConflict as exc:
        print(f"error: {exc}", file=sys.stderr)
        return Exit.BAD_INPUT
    except (ConsoleError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return Exit.RUNTIME_FAILURE
    except KeyboardInterrupt:
        return Exit.RUNTIME_FAILURE
    except Exception:
        log.exception("unexpected failure (a bug: please report it with this traceback)")
        return Exit.RUNTIME_FAILURE
    finally:
        ctx.close()
