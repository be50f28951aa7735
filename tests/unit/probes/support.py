"""Real targets for probe tests: an aiohttp app served from its own thread, and certificates."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

T = TypeVar("T")
MIB = 1024 * 1024
JSON_DOCUMENT = (
    '{"data": {"items": [{"value": 42.5}, {"value": "7"}, {"value": "seven"}], '
    '"ok": true, "nothing": null, "huge": 1e400}}'
)


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh loop and fail if it left tasks behind."""

    async def checked() -> T:
        result = await main
        leftover = asyncio.all_tasks() - {asyncio.current_task()}
        assert not leftover, f"tasks left running: {leftover}"
        return result

    return asyncio.run(checked())


def with_session(main: Callable[[aiohttp.ClientSession], Coroutine[Any, Any, T]]) -> T:
    """Run main with one shared ClientSession (as the engine will), closed afterwards."""

    async def session_main() -> T:
        async with aiohttp.ClientSession() as session:
            result = await main(session)
        # A TLS transport finishes closing a few loop turns after its session does; closing the
        # loop before that left it for the garbage collector, which warned (an unclosed
        # transport) during whichever later test it happened to run in.
        await asyncio.sleep(0.1)
        return result

    return run_async(session_main())


def process_alive(pid: int) -> bool:
    """Whether pid runs (a zombie waiting for its reaper does not count)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] != "Z"


@dataclass
class ServerStats:
    """What the server saw, for tests that check the client stopped early."""

    big_bytes_sent: int = 0
    big_completed: int = 0


class Target:
    """The target application's routes: well-behaved, slow, failing, huge and malformed."""

    def __init__(self, stats: ServerStats) -> None:
        self.stats = stats

    async def ok(self, request: web.Request) -> web.Response:
        return web.Response(text="hello world, hello probes, HELLO")

    async def status(self, request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="status")

    async def hang(self, request: web.Request) -> web.Response:
        await asyncio.sleep(3600)
        return web.Response(text="too late")

    async def redirect(self, request: web.Request) -> web.Response:
        left = int(request.match_info["left"])
        raise web.HTTPFound("/ok" if left <= 1 else f"/redirect/{left - 1}")

    async def redirect_loop(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def big(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = 10 * MIB
        await response.prepare(request)
        chunk = b"x" * (64 * 1024)
        for _ in range(10 * MIB // len(chunk)):
            await response.write(chunk)
            self.stats.big_bytes_sent += len(chunk)
        self.stats.big_completed += 1
        return response

    async def endless(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        while True:
            await response.write(b"y" * (64 * 1024))

    async def trickle(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = 1000
        await response.prepare(request)
        for _ in range(1000):
            await response.write(b"z")
            await asyncio.sleep(0.02)
        return response

    async def json_document(self, request: web.Request) -> web.Response:
        return web.Response(text=JSON_DOCUMENT, content_type="application/json")

    async def invalid_json(self, request: web.Request) -> web.Response:
        return web.Response(text='{"data": [1, 2', content_type="application/json")

    async def deep_json(self, request: web.Request) -> web.Response:
        return web.Response(text="[" * 200_000 + "]" * 200_000, content_type="application/json")

    async def latin1(self, request: web.Request) -> web.Response:
        body = "café, café, CAFÉ".encode("latin-1")
        return web.Response(body=body, content_type="text/plain", charset="latin-1")

    async def echo(self, request: web.Request) -> web.Response:
        body = await request.read()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        return web.json_response(
            {
                "method": request.method,
                "length": len(body),
                "probe": request.headers.get("X-Probe", ""),
                "client_port": peer[1] if peer else 0,
            }
        )

    async def protected(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") not in ("Bearer t0ps3cret", "Basic YWRhOnB3MTIz"):
            raise web.HTTPUnauthorized(text="who are you")
        return web.Response(text="welcome")

    async def empty(self, request: web.Request) -> web.Response:
        return web.Response(status=204)


def make_app(stats: ServerStats) -> web.Application:
    """The target application, its routes counting into stats."""
    target = Target(stats)
    app = web.Application()
    app.router.add_get("/ok", target.ok)
    app.router.add_get("/status/{code}", target.status)
    app.router.add_get("/hang", target.hang)
    app.router.add_get("/redirect/{left}", target.redirect)
    app.router.add_get("/loop", target.redirect_loop)
    app.router.add_get("/big", target.big)
    app.router.add_get("/endless", target.endless)
    app.router.add_get("/trickle", target.trickle)
    app.router.add_get("/json", target.json_document)
    app.router.add_get("/json/invalid", target.invalid_json)
    app.router.add_get("/json/deep", target.deep_json)
    app.router.add_get("/latin1", target.latin1)
    app.router.add_route("*", "/echo", target.echo)
    app.router.add_get("/protected", target.protected)
    app.router.add_get("/empty", target.empty)
    return app


class LiveServer:
    """Serves an app on 127.0.0.1 from a thread with its own event loop.

    The target lives on another loop than the probes, as it would in production: a route that
    hangs or trickles cannot stall the client's loop, and the probe's deadlines are real.
    """

    def __init__(self, app: web.Application, ssl_context: ssl.SSLContext | None = None) -> None:
        self._app = app
        self._ssl = ssl_context
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="probe-target", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.port = 0

    def url(self, path: str) -> str:
        """The URL of a path on this server."""
        scheme = "https" if self._ssl is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the test server did not start within 10 s")
        if self._error is not None:
            raise RuntimeError("the test server failed to start") from self._error
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        assert not self._thread.is_alive(), "the test server did not stop"

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported by __enter__
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        # handler_cancellation: a client that gives up ends its handler (hang, endless).
        runner = web.AppRunner(self._app, handler_cancellation=True, shutdown_timeout=0.5)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self._ssl)
            await site.start()
            self.port = runner.addresses[0][1]
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._ready.set()
            await self._stop.wait()
        finally:
            await runner.cleanup()


@dataclass(frozen=True)
class Pem:
    """A certificate and its key, written as PEM files."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        """A server-side TLS context presenting this certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


def make_certificate(
    folder: Path,
    name: str,
    not_after: datetime,
    *,
    issuer: Pem | None = None,
    ca: bool = False,
    ip: str | None = "127.0.0.1",
    dns: str | None = None,
    not_before: datetime | None = None,
) -> Pem:
    """Build a certificate (self-signed without an issuer) and write it to folder."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or datetime.now(UTC) - timedelta(days=2))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    names: list[x509.GeneralName] = []
    if ip is not None:
        names.append(x509.IPAddress(ipaddress.ip_address(ip)))
    if dns is not None:
        names.append(x509.DNSName(dns))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    cert_path = folder / f"{name}.crt"
    key_path = folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Pem(cert, key, cert_path, key_path)
