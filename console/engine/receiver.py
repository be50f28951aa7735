"""The engine's inbound HTTP receiver: heartbeats today, alert routes later.

Bound to 127.0.0.1 by default (``DEFAULT_RECEIVER_PORT`` 8765, configurable, 0 for any free
port), bodies capped at 64 KiB, every route authenticated by a bearer token compared in
constant time. Answers are short words, never a stack trace or a secret:

- ``POST /heartbeat/<endpoint-key>`` with ``Authorization: Bearer <token>``, the token being
  the endpoint's credential (a keyring entry or a token file, see ``console.engine.dispatch``):
  204 recorded; 401 no bearer token; 403 wrong token, or an endpoint without a credential;
  404 no enabled heartbeat endpoint of that key; 413 body over the cap; 503 the credential
  cannot be read now (no keyring).

Later routes (alert webhooks) authenticate with a receiver-wide token: pass them as ``routes``
and check the token with ``authorize``.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from console.core.endpoints import Endpoint
from console.engine.dispatch import CredentialUnavailable

log = logging.getLogger(__name__)

DEFAULT_RECEIVER_HOST = "127.0.0.1"
DEFAULT_RECEIVER_PORT = 8765
MAX_BODY_BYTES = 64 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class HeartbeatSink(Protocol):
    """What the receiver needs from the engine."""

    def heartbeat_endpoint(self, key: str) -> Endpoint | None:
        """The enabled heartbeat endpoint of that key, if any."""
        ...

    async def heartbeat_token(self, endpoint: Endpoint) -> str | None:
        """The endpoint's token (None: it has no credential).

        Raises:
            CredentialUnavailable: The credential cannot be read now.
        """
        ...

    def record_heartbeat(self, key: str) -> None:
        """A valid heartbeat arrived for the endpoint."""
        ...


@dataclass(frozen=True, slots=True)
class Route:
    """An extra route: method, path (aiohttp syntax) and handler."""

    method: str
    path: str
    handler: Handler


def reply(status: int, text: str, **headers: str) -> web.Response:
    """A short plain-text answer."""
    return web.Response(status=status, text=text + "\n", headers=headers)


def bearer_token(request: web.Request) -> str | None:
    """The request's bearer token, if it sent one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def authorize(request: web.Request, expected: str) -> web.Response | None:
    """None when the request carries the expected bearer token, else the 401/403 answer."""
    presented = bearer_token(request)
    if presented is None:
        return reply(401, "bearer token required", **{"WWW-Authenticate": 'Bearer realm="oncall"'})
    if not hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8")):
        return reply(403, "wrong token")
    return None


@web.middleware
async def _short_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure as a short answer: aiohttp's own texts can be long, a traceback leaks."""
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        return reply(413, f"body over the {MAX_BODY_BYTES // 1024} KiB limit")
    except web.HTTPException as exc:
        return reply(exc.status, exc.reason.lower())
    except Exception:
        log.exception("the receiver failed on %s %s", request.method, request.path)
        return reply(500, "internal error")


class Receiver:
    """The aiohttp server; ``start`` binds it, ``stop`` closes it.

    Args:
        sink: The engine side of heartbeats.
        host: The address to bind (loopback by default).
        port: The port (0: any free port; see ``port`` after start).
        max_body_bytes: Larger request bodies are refused with 413.
        routes: Further routes.
    """

    def __init__(
        self,
        sink: HeartbeatSink,
        *,
        host: str = DEFAULT_RECEIVER_HOST,
        port: int = DEFAULT_RECEIVER_PORT,
        max_body_bytes: int = MAX_BODY_BYTES,
        routes: Sequence[Route] = (),
    ) -> None:
        self._sink = sink
        self._host = host
        self._requested_port = port
        self._max_body = max_body_bytes
        self._app = web.Application(client_max_size=max_body_bytes, middlewares=[_short_errors])
        self._app.router.add_post("/heartbeat/{endpoint}", self._heartbeat)
        for route in routes:
            self._app.router.add_route(route.method, route.path, route.handler)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        """The base URL once started."""
        if self.port is None:
            raise RuntimeError("the receiver is not running")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Bind and serve.

        Raises:
            OSError: The port is taken or the address cannot be bound.
        """
        runner = web.AppRunner(self._app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._requested_port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _heartbeat(self, request: web.Request) -> web.StreamResponse:
        key = request.match_info["endpoint"]
        endpoint = self._sink.heartbeat_endpoint(key)
        if endpoint is None:
            return reply(404, "no such heartbeat endpoint")
        if request.content_length is not None and request.content_length > self._max_body:
            return reply(413, f"body over the {self._max_body // 1024} KiB limit")
        if bearer_token(request) is None:
            return authorize(request, "") or reply(401, "bearer token required")
        try:
            expected = await self._sink.heartbeat_token(endpoint)
        except CredentialUnavailable as exc:
            log.warning("heartbeat for %s refused: %s", key, exc)
            return reply(503, "the endpoint's credential cannot be read now")
        if expected is None:
            return reply(403, "this endpoint has no credential; heartbeats need one")
        refused = authorize(request, expected)
        if refused is not None:
            return refused
        await request.read()  # enforces the cap on bodies sent without a length
        self._sink.record_heartbeat(key)
        return web.Response(status=204)
