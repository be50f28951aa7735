"""Real peers for the prometheus, scrape and logfile probe tests, and fixtures that start them.

- `MetricsPage`: a ``/metrics`` page served by prometheus-client's own WSGI server on loopback,
  whose registry a test can swap for a fresh one (a restarted process: counters reset).
- `RawPages`: a plain HTTP server for answers no well-behaved peer gives (malformed pages,
  huge bodies, hanging requests, non-JSON errors), counting what it sent.
- `PrometheusServer`: Debian's ``/usr/bin/prometheus`` on a free loopback port, with a
  temporary TSDB, basic auth on its API, and a 1 s scrape of a `MetricsPage`.

Test modules import the fixtures by name (``prometheus = peers.prometheus``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import aiohttp
import pytest
from console.probes.http import BasicAuth
from console.probes.prometheus import HttpAccess
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import make_wsgi_app
from prometheus_client.registry import Collector

T = TypeVar("T")
PROMETHEUS_BINARY = "/usr/bin/prometheus"
PROMETHEUS_LOGIN = "probe"
PROMETHEUS_PASSWORD = "hunter2-test"
# bcrypt of PROMETHEUS_PASSWORD at cost 4 (Prometheus's web config takes only bcrypt hashes);
# made with crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)).
_PASSWORD_HASH = "$2b$04$NvENnrza8b9V5W7Bag8zpeWBpPR0I2XMyUJJN4QYxLXN4jxJVl.ba"
_WAIT_S = 30.0
_POLL_S = 0.05

# What the page Prometheus scrapes holds; the tests compute their expectations from these.
TEMPERATURES = {"lab": 21.5, "hall": 18.25}
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0)
LATENCY_OBSERVATIONS = (0.05, 0.05, 0.2, 0.2, 0.2, 0.3, 0.4, 0.7, 0.9, 2.5)
# A histogram with bounds at and below zero, where Prometheus's rules for the lowest bucket differ.
OFFSET_BUCKETS = (-1.0, 0.0, 2.0)
OFFSET_OBSERVATIONS = (-3.0, -0.5, -0.5, 0.5, 1.0, 1.5, 5.0)


# ---- running coroutines --------------------------------------------------------------------


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh loop and fail if it left tasks behind."""

    async def checked() -> T:
        result = await main
        leftover = asyncio.all_tasks() - {asyncio.current_task()}
        assert not leftover, f"tasks left running: {leftover}"
        return result

    return asyncio.run(checked())


def with_session(main: Callable[[aiohttp.ClientSession], Coroutine[Any, Any, T]]) -> T:
    """Run main with one ClientSession (the engine shares one), closed afterwards."""

    async def session_main() -> T:
        async with aiohttp.ClientSession() as session:
            return await main(session)

    return run_async(session_main())


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# ---- a /metrics page from prometheus-client --------------------------------------------------


class SwappableRegistry(Collector):
    """Collects from a registry that can be replaced, as a restarted process would."""

    def __init__(self) -> None:
        self.current = CollectorRegistry()

    def collect(self) -> Iterable[Any]:
        """The current registry's metrics."""
        return self.current.collect()


class _QuietWsgiHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
        """Keep request lines out of the test output."""


class MetricsPage:
    """prometheus-client's WSGI exposition app on 127.0.0.1, served from a thread."""

    def __init__(self) -> None:
        self.registry = SwappableRegistry()
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The listening port."""
        assert self._server is not None
        return self._server.server_port

    @property
    def url(self) -> str:
        """The page's URL."""
        return f"http://127.0.0.1:{self.port}/metrics"

    def restart(self) -> CollectorRegistry:
        """Give the page a fresh, empty registry and return it."""
        self.registry.current = CollectorRegistry()
        return self.registry.current

    def __enter__(self) -> MetricsPage:
        app = make_wsgi_app(self.registry)
        self._server = make_server("127.0.0.1", 0, app, handler_class=_QuietWsgiHandler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(_POLL_S,), name="metrics-page"
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
        assert not self._thread.is_alive(), "the metrics page did not stop"


def fill_demo_page(registry: CollectorRegistry) -> None:
    """Put the fixed demo metrics on a registry."""
    temperature = Gauge(
        "demo_temperature_celsius", "Room temperature.", ["room"], registry=registry
    )
    for room, value in TEMPERATURES.items():
        temperature.labels(room).set(value)
    Counter("demo_jobs", "Jobs done.", ["kind"], registry=registry).labels("batch").inc(7)
    latency = Histogram(
        "demo_latency_seconds", "Request latency.", buckets=LATENCY_BUCKETS, registry=registry
    )
    for observation in LATENCY_OBSERVATIONS:
        latency.observe(observation)
    offset = Histogram("demo_offset", "Signed offsets.", buckets=OFFSET_BUCKETS, registry=registry)
    for observation in OFFSET_OBSERVATIONS:
        offset.observe(observation)


# ---- answers no well-behaved peer gives ------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One canned answer."""

    body: bytes
    content_type: str = "text/plain; version=0.0.4; charset=utf-8"
    status: int = 200


Route = Callable[[dict[str, str]], Reply]


class _QuietServer(ThreadingHTTPServer):
    """Joins its handler threads on close; a client hanging up early is not an error."""

    daemon_threads = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Print real failures only (probes close connections they stop reading)."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class RawPages:
    """A stdlib HTTP server on 127.0.0.1 with routes a test sets; ``/hang`` never answers.

    ``sent`` counts the body bytes each path actually wrote, so a test can check that a client
    stopped reading early.
    """

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.sent: dict[str, int] = {}
        self.requests: dict[str, dict[str, str]] = {}
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def url(self, path: str) -> str:
        """The URL of a path."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}{path}"

    def page(self, path: str, body: bytes | str, **reply: Any) -> str:
        """Serve a fixed body at path; returns its URL."""
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = lambda _headers: Reply(data, **reply)
        return self.url(path)

    def route(self, path: str, answer: Route) -> str:
        """Serve what answer returns for the request's headers; returns the URL."""
        self.routes[path] = answer
        return self.url(path)

    def __enter__(self) -> RawPages:
        pages = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 5  # an idle keep-alive connection ends, so the server can stop

            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                pages._answer(self)

            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                pages._answer(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Keep request lines out of the test output."""

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(_POLL_S,), name="raw-pages"
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None and self._thread is not None
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
        assert not self._thread.is_alive(), "the raw page server did not stop"

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = urllib.parse.urlsplit(handler.path).path
        headers = dict(handler.headers.items())
        self.requests[path] = headers
        if path.startswith("/hang"):
            self.stopping.wait(_WAIT_S)
            handler.close_connection = True
            return
        answer = self.routes.get(path)
        reply = answer(headers) if answer else Reply(b"no such page", status=404)
        handler.send_response(reply.status)
        handler.send_header("Content-Type", reply.content_type)
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        view = memoryview(reply.body)
        try:
            for start in range(0, len(view), 64 * 1024):
                handler.wfile.write(view[start : start + 64 * 1024])
                with self._lock:
                    self.sent[path] = self.sent.get(path, 0) + len(view[start : start + 64 * 1024])
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True


# ---- Debian's prometheus ----------------------------------------------------------------------


class PrometheusServer:
    """A real Prometheus on a free loopback port with a temporary TSDB.

    Its HTTP API wants basic auth (`PROMETHEUS_LOGIN`, `PROMETHEUS_PASSWORD`); it scrapes the
    given target (``host:port``) every second.
    """

    def __init__(self, folder: Path, scrape_target: str | None = None) -> None:
        self.folder = folder
        self.scrape_target = scrape_target
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def access() -> HttpAccess:
        """Credentials that the server accepts."""
        return HttpAccess(basic_auth=BasicAuth(PROMETHEUS_LOGIN, PROMETHEUS_PASSWORD))

    def __enter__(self) -> PrometheusServer:
        if shutil.which(PROMETHEUS_BINARY) is None:
            pytest.skip(f"{PROMETHEUS_BINARY} is not installed (packaging/dev.sh installs it)")
        self._write_config()
        for _ in range(3):  # another process may take the free port before Prometheus does
            self.port = free_port()
            if self._start():
                return self
        raise RuntimeError(f"prometheus did not start: {self._log_tail()}")

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the server and wait until its port is closed."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)
        self._process = None

    def query(self, expression: str) -> dict[str, Any]:
        """Run an instant query with urllib (independently of the probe under test)."""
        data = urllib.parse.urlencode({"query": expression}).encode()
        request = urllib.request.Request(
            f"{self.url}/api/v1/query", data=data, headers=self._auth_header()
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            answer: dict[str, Any] = json.load(response)
            return answer

    def wait_for_series(self, expression: str, count: int) -> None:
        """Poll until the query returns count series (the first scrapes take a few seconds)."""
        deadline = time.monotonic() + _WAIT_S
        while time.monotonic() < deadline:
            if len(self.query(expression)["data"]["result"]) >= count:
                return
            time.sleep(_POLL_S)
        raise RuntimeError(f"prometheus had no {count} series for {expression} in {_WAIT_S} s")

    def _auth_header(self) -> dict[str, str]:
        pair = f"{PROMETHEUS_LOGIN}:{PROMETHEUS_PASSWORD}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}

    def _write_config(self) -> None:
        scrape = ""
        if self.scrape_target is not None:
            scrape = (
                "scrape_configs:\n"
                "  - job_name: page\n"
                "    static_configs:\n"
                f'      - targets: ["{self.scrape_target}"]\n'
            )
        (self.folder / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n" + scrape
        )
        (self.folder / "web.yml").write_text(
            f"basic_auth_users:\n  {PROMETHEUS_LOGIN}: {_PASSWORD_HASH}\n"
        )

    def _start(self) -> bool:
        """Start the process; whether it became ready (False: it exited, e.g. port taken)."""
        log = (self.folder / "prometheus.log").open("ab")
        with log:
            self._process = subprocess.Popen(
                [
                    PROMETHEUS_BINARY,
                    f"--config.file={self.folder / 'prometheus.yml'}",
                    f"--web.config.file={self.folder / 'web.yml'}",
                    f"--storage.tsdb.path={self.folder / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--log.level=warn",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + _WAIT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            if self._ready():
                return True
            time.sleep(_POLL_S)
        self.stop()
        raise RuntimeError(f"prometheus was not ready in {_WAIT_S} s: {self._log_tail()}")

    def _ready(self) -> bool:
        request = urllib.request.Request(f"{self.url}/-/ready", headers=self._auth_header())
        try:
            with urllib.request.urlopen(request, timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def _log_tail(self) -> str:
        path = self.folder / "prometheus.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"


@dataclass(frozen=True)
class PrometheusPeer:
    """The session's Prometheus and the page it scrapes."""

    server: PrometheusServer
    page: MetricsPage

    @property
    def instance(self) -> str:
        """The ``instance`` label Prometheus gives the page's series."""
        return f"127.0.0.1:{self.page.port}"


# ---- fixtures -------------------------------------------------------------------------------


_shared: dict[str, PrometheusPeer] = {}


@pytest.fixture(scope="session")
def prometheus(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> PrometheusPeer:
    """Debian's prometheus scraping the demo page, with every demo series already stored.

    One server for the whole run: each test module that imports this fixture gets its own
    fixture definition, so the server is kept here and stopped when pytest finishes.
    """
    if "peer" not in _shared:
        with contextlib.ExitStack() as stack:
            page = stack.enter_context(MetricsPage())
            fill_demo_page(page.registry.current)
            folder = tmp_path_factory.mktemp("prometheus")
            server = stack.enter_context(PrometheusServer(folder, f"127.0.0.1:{page.port}"))
            server.wait_for_series("demo_temperature_celsius", len(TEMPERATURES))
            server.wait_for_series("demo_latency_seconds_bucket", len(LATENCY_BUCKETS) + 1)
            server.wait_for_series("demo_offset_bucket", len(OFFSET_BUCKETS) + 1)
            request.config.add_cleanup(stack.pop_all().close)
            request.config.add_cleanup(_shared.clear)
        _shared["peer"] = PrometheusPeer(server, page)
    return _shared["peer"]


@pytest.fixture
def metrics_page() -> Iterator[MetricsPage]:
    """An empty prometheus-client page of the test's own."""
    with MetricsPage() as page:
        yield page


@pytest.fixture
def raw_pages() -> Iterator[RawPages]:
    """A server for canned and misbehaving answers."""
    with RawPages() as pages:
        yield pages
