"""The simulated estate on loopback: ``/metrics`` and ``/health/<service>`` served from the model.

Everything is read from the model at the injected clock's current time, so a test can move a
FakeClock into a scheduled outage and see the 503 a real probe would see.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import signal
from collections.abc import Callable

from aiohttp import web

from console.core.clock import Clock, SystemClock, isoformat
from console.core.errors import ConsoleError
from console.simulator.exposition import CONTENT_TYPE, page
from console.simulator.model import EstateModel

# `oncall-console demo serve` listens here unless told otherwise.
DEFAULT_PORT = 9797
DEFAULT_HOST = "127.0.0.1"
# A health check never stalls longer than this, however slow the model says the service is.
MAX_HEALTH_DELAY_S = 1.0


#: How many pages the simulated pager keeps.
PAGER_KEEP = 500


class SimulatorError(ConsoleError):
    """The simulated estate cannot start: a non-loopback address or a port already taken."""


class RunningSimulator:
    """A simulated estate listening on loopback.

    Attributes:
        host: The loopback address it is bound to.
        port: The port it is bound to (the free port chosen when asked for port 0).
    """

    def __init__(self, runner: web.AppRunner, host: str, port: int, routes: _Routes) -> None:
        self._runner = runner
        self._routes = routes
        self.host = host
        self.port = port

    @property
    def model(self) -> EstateModel:
        """The model it serves."""
        return self._routes.model

    def use(self, model: EstateModel) -> None:
        """Serve another model from now on (a demo store's scenario, once the store is open)."""
        self._routes.model = model

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:9797``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def pages(self) -> list[dict[str, object]]:
        """What the simulated pager has received."""
        return self._routes.pages

    @property
    def metrics_url(self) -> str:
        """The Prometheus exposition page."""
        return f"{self.url}/metrics"

    def health_url(self, service: str) -> str:
        """The health endpoint of one service."""
        return f"{self.url}/health/{service}"

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        await self._runner.cleanup()


class _Routes:
    """Request handlers reading the model at the clock's time."""

    def __init__(self, model: EstateModel, clock: Clock, delay_scale: float) -> None:
        self.model = model
        self._clock = clock
        self._delay_scale = delay_scale
        #: What the simulated pager received (newest last, the most recent PAGER_KEEP).
        self.pages: list[dict[str, object]] = []

    async def page(self, request: web.Request) -> web.Response:
        """The simulated pager: accepts a JSON page (the demo's generic webhook) and keeps it.

        Answers 200 with the page's number, 400 for a body that is not a JSON object. A page
        sent again with the same Idempotency-Key is acknowledged, not kept twice.
        """
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "expected a JSON object"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "expected a JSON object"}, status=400)
        key = request.headers.get("Idempotency-Key")
        known = next((i for i, p in enumerate(self.pages) if key and p.get("key") == key), None)
        if known is None:
            self.pages.append({"key": key, "at": isoformat(self._clock.now()), "page": body})
            del self.pages[:-PAGER_KEEP]
            known = len(self.pages) - 1
        return web.json_response({"paged": True, "number": known + 1})

    async def pages_seen(self, request: web.Request) -> web.Response:
        """What the pager received, newest last."""
        return web.json_response({"pages": self.pages})

    async def index(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "estate": "oncall-console demo",
                "seed": self.model.seed,
                "metrics": "/metrics",
                "health": [f"/health/{service}" for service in self.model.services()],
            }
        )

    async def metrics(self, request: web.Request) -> web.Response:
        t = self._clock.now().timestamp()
        # A page costs some milliseconds of numpy: keep them off the event loop.
        text = await asyncio.to_thread(page, self.model, t)
        return web.Response(body=text.encode(), headers={"Content-Type": CONTENT_TYPE})

    async def health(self, request: web.Request) -> web.Response:
        service = request.match_info["service"]
        model = self.model
        if service not in model.services():
            return web.json_response({"error": f"no service {service!r} here"}, status=404)
        now = self._clock.now()
        health = model.health_at(service, now.timestamp())
        await asyncio.sleep(min(health.latency_ms / 1000 * self._delay_scale, MAX_HEALTH_DELAY_S))
        body = {
            "service": service,
            "status": health.status.value,
            "latency_ms": round(health.latency_ms, 2),
            "version": health.version,
            "checked_at": isoformat(now),
        }
        return web.json_response(body, status=health.http_status)


def make_app(model: EstateModel, clock: Clock, delay_scale: float = 1.0) -> web.Application:
    """The aiohttp application of the simulated estate.

    Args:
        model: What to serve.
        clock: Whose time the model is read at.
        delay_scale: Multiplies the health endpoints' simulated latency (0 answers at once).
    """
    return _application(_Routes(model, clock, delay_scale))


def _application(routes: _Routes) -> web.Application:
    app = web.Application()
    app.router.add_get("/", routes.index)
    app.router.add_get("/metrics", routes.metrics)
    app.router.add_get("/health/{service}", routes.health)
    app.router.add_post("/pager", routes.page)
    app.router.add_get("/pager", routes.pages_seen)
    return app


def _loopback(host: str) -> str:
    """The address to bind, refusing anything but loopback: the estate is a local toy."""
    if host == "localhost":
        return DEFAULT_HOST
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise SimulatorError(
            f"the simulated estate listens only on loopback (127.0.0.0/8 or ::1), not {host!r}"
        )
    return str(address)


async def start(
    host: str = DEFAULT_HOST,
    port: int = 0,
    clock: Clock | None = None,
    *,
    model: EstateModel | None = None,
    delay_scale: float = 1.0,
) -> RunningSimulator:
    """Start the simulated estate on the running event loop.

    Args:
        host: A loopback address (or ``localhost``).
        port: The port, or 0 for a free one (read it from the result).
        clock: Time source; the system clock by default.
        model: The estate to serve; the demo estate with the default seed by default.
        delay_scale: Multiplies the health endpoints' simulated latency.

    Returns:
        The running estate; call its ``stop()`` when done.

    Raises:
        SimulatorError: If host is not loopback or the port cannot be bound.
    """
    address = _loopback(host)
    estate = model if model is not None else EstateModel()
    routes = _Routes(estate, clock if clock is not None else SystemClock(), delay_scale)
    runner = web.AppRunner(_application(routes), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, address, port).start()
    except OSError as error:
        await runner.cleanup()
        reason = error.strerror or str(error)
        raise SimulatorError(f"cannot listen on {address} port {port}: {reason}") from error
    bound_port = int(runner.addresses[0][1])
    return RunningSimulator(runner, address, bound_port, routes)


def serve_forever(
    port: int = DEFAULT_PORT,
    *,
    host: str = DEFAULT_HOST,
    model: EstateModel | None = None,
    on_ready: Callable[[RunningSimulator], None] | None = None,
) -> None:
    """Serve the simulated estate until SIGINT or SIGTERM, then stop cleanly.

    Args:
        port: The port (DEFAULT_PORT unless told otherwise; 0 picks a free one).
        host: A loopback address.
        model: The estate to serve; the demo estate with the default seed by default.
        on_ready: Called once listening, e.g. to print the URL.

    Raises:
        SimulatorError: If host is not loopback or the port cannot be bound.
    """
    asyncio.run(_serve(host, port, model, on_ready))


async def _serve(
    host: str,
    port: int,
    model: EstateModel | None,
    on_ready: Callable[[RunningSimulator], None] | None,
) -> None:
    running = await start(host, port, model=model)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Windows' event loops have no signal handlers: Ctrl+C still ends asyncio.run there.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stopping.set)
            handled.append(signum)
    try:
        if on_ready is not None:
            on_ready(running)
        await stopping.wait()
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
        await running.stop()
