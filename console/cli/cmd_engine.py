"""``engine`` (monitor headless until a signal), ``poll --once`` and ``demo serve``.

With the global ``--demo``, ``engine`` and ``poll`` first start the simulated estate on a free
loopback port and point the demo endpoints at it, so they work offline. The engine's modules
(and aiohttp) are imported inside the handlers: commands that never monitor start faster.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from console.cli.context import Context
from console.cli.exitcodes import Exit
from console.cli.output import emit_json, table

if TYPE_CHECKING:
    from pathlib import Path

    from console.engine.reports import CheckReport
    from console.engine.runtime import Engine

# Documented defaults (see console.engine.receiver and console.simulator.server).
RECEIVER_PORT = 8765
SIMULATOR_PORT = 9797


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {value!r}")
    return port


def _json_flag(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: without it this default would overwrite a global --json given before the command.
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print data as JSON"
    )


def register(sub: Any) -> None:
    """Add the ``engine``, ``poll`` and ``demo`` commands."""
    engine = sub.add_parser(
        "engine",
        help="run the monitoring engine headless until SIGINT/SIGTERM",
        description="Poll every enabled endpoint, judge the results, record samples and state "
        "changes, and receive heartbeats, until interrupted (SIGINT or SIGTERM: a clean stop, "
        "exit 0). Only one engine runs per store: a second one exits with code 3.",
    )
    engine.add_argument(
        "--port",
        type=_port,
        default=RECEIVER_PORT,
        help=f"the receiver's port (default {RECEIVER_PORT}; 0 picks a free one)",
    )
    engine.add_argument(
        "--bind",
        metavar="ADDRESS",
        default="127.0.0.1",
        help="the address the receiver listens on (default 127.0.0.1: this machine only)",
    )
    engine.add_argument(
        "-v", "--verbose", action="store_true", help="log every confirmed state change"
    )
    engine.set_defaults(handler=cmd_engine)

    poll = sub.add_parser(
        "poll",
        help="run every enabled endpoint once and print the results",
        description="Run every enabled endpoint once (concurrently, within the caps), record "
        "the samples and print each endpoint's state. States are those of one check: nothing "
        "is confirmed (SOFT) and no state-change events are recorded.",
    )
    poll.add_argument("--once", action="store_true", help="one pass (the only mode for now)")
    _json_flag(poll)
    poll.set_defaults(handler=cmd_poll)

    demo = sub.add_parser("demo", help="the simulated demo estate")
    dsub = demo.add_subparsers(dest="demo_command", metavar="ACTION", required=True)
    serve = dsub.add_parser(
        "serve",
        help="serve the simulated estate on loopback until interrupted",
        description="Serve /metrics and /health/<service> of the simulated estate on 127.0.0.1. "
        "With a demo store (--db, --demo, or the default store when it exists) it serves that "
        "store's scenario, continuing its history.",
    )
    serve.add_argument(
        "--port",
        type=_port,
        default=SIMULATOR_PORT,
        help=f"the port (default {SIMULATOR_PORT}; 0 picks a free one)",
    )
    serve.set_defaults(handler=cmd_demo_serve)


@contextlib.asynccontextmanager
async def _demo_estate(ctx: Context) -> AsyncIterator[None]:
    """With --demo: the simulated estate runs the store's scenario; the demo endpoints aim at it."""
    if not ctx.args.demo:
        yield
        return
    from console.engine.backfill import demo_model
    from console.simulator.server import start

    simulator = await start(port=0)
    ctx.simulator_url = simulator.url
    try:
        # The store (filled now, aimed at the simulator) knows its scenario: serve that.
        simulator.use(demo_model(ctx.store()))
        yield
    finally:
        await simulator.stop()


async def _until_signal(run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run until SIGINT or SIGTERM sets the stop event."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
            handled.append(signum)
    try:
        await run(stop)
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)


def cmd_engine(ctx: Context) -> int:
    """Run the engine until interrupted."""
    from console.core.clock import SystemClock
    from console.engine.runtime import Engine
    from console.secrets import SecretStore, install_log_redaction

    install_log_redaction()
    if ctx.args.verbose:
        logging.getLogger("console.engine").setLevel(logging.INFO)

    async def main(stop: asyncio.Event) -> None:
        async with _demo_estate(ctx):
            store = ctx.store()
            engine = Engine(
                store,
                SystemClock(),
                secrets=SecretStore(),
                receiver_port=ctx.args.port,
                receiver_host=ctx.args.bind,
            )
            announce = asyncio.create_task(_announce(engine, store.path))
            try:
                await engine.run(stop)
            finally:
                announce.cancel()
        print("engine stopped", file=sys.stderr, flush=True)

    asyncio.run(_until_signal(main))
    return Exit.OK


async def _announce(engine: Engine, path: Path) -> None:
    await engine.ready.wait()
    receiver = engine.receiver_url or "off"
    print(
        f"engine running on {path}: {len(engine.endpoints())} endpoints, receiver {receiver} "
        "(stop with Ctrl-C or SIGTERM)",
        file=sys.stderr,
        flush=True,
    )


def cmd_poll(ctx: Context) -> int:
    """Run every enabled endpoint once and print the results."""
    if not ctx.args.once:
        print(
            "error: poll runs one pass: give --once (the engine polls continuously)",
            file=sys.stderr,
        )
        return Exit.BAD_INPUT
    from console.core.clock import SystemClock
    from console.engine.runtime import poll_once
    from console.secrets import SecretStore, install_log_redaction

    install_log_redaction()

    async def main() -> list[CheckReport]:
        async with _demo_estate(ctx):
            store = ctx.store()
            return await poll_once(store, SystemClock(), secrets=SecretStore())

    reports = asyncio.run(main())
    if ctx.as_json:
        emit_json([report.to_dict() for report in reports])
    else:
        rows = [
            [r.endpoint, r.kind.value, r.state.value.upper(), _metrics_text(r), r.reason]
            for r in reports
        ]
        table(["endpoint", "kind", "state", "metrics", "reason"], rows)
    return Exit.OK


def _metrics_text(report: CheckReport) -> str:
    from console.core.units import format_number

    shown = [f"{k}={format_number(v)}" for k, v in sorted(report.metrics.items())[:4]]
    more = len(report.metrics) - len(shown)
    return ", ".join(shown) + (f" (+{more})" if more > 0 else "")


def cmd_demo_serve(ctx: Context) -> int:
    """Serve the simulated estate until interrupted."""
    from console.simulator.server import RunningSimulator, serve_forever

    model = None
    if ctx.args.demo or ctx.args.db is not None or ctx.store_path().exists():
        from console.engine.backfill import demo_model

        # A demo store's scenario, so the estate served agrees with that store's history.
        model = demo_model(ctx.store())
        ctx.release_store()

    def ready(simulator: RunningSimulator) -> None:
        print(
            f"simulated estate on {simulator.url} (/metrics, /health/<service>); stop with Ctrl-C",
            file=sys.stderr,
            flush=True,
        )

    serve_forever(ctx.args.port, model=model, on_ready=ready)
    return Exit.OK
