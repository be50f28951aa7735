"""Real peers for delivery tests: aiosmtpd, and an aiohttp app that keeps what webhooks send.

Everything listens on 127.0.0.1 on a port the OS picks, inside the test's own event loop, so a
test starts its server, sends through the real channel, and reads what arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import trustme
from aiohttp import web
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from console.core.enums import Priority, Severity
from console.core.incidents import IncidentState
from console.core.models import ChatHandle
from console.core.notices import Notice, Recipient

AT = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh loop and fail if it left tasks running."""

    async def checked() -> T:
        result = await main
        # Server-side tasks of connections that just closed (a handler, a failed handshake)
        # finish within a few loop turns; only one still running after that is left behind.
        others = asyncio.all_tasks() - {asyncio.current_task()}
        if others:
            _, pending = await asyncio.wait(others, timeout=2)
            assert not pending, f"tasks left running: {pending}"
        return result

    return asyncio.run(checked())


def notice(**changes: Any) -> Notice:
    """A notice for Ana at level 2 of INC-42, with fields overridden by ``changes``."""
    recipient = Recipient(
        "ana.silva@example.com",
        "Ana Silva",
        "+351910000001",
        (ChatHandle("slack", "U024BE7LH"), ChatHandle("matrix", "@ana:example.org")),
    )
    base: dict[str, Any] = {
        "key": "inc-42/2/0/ana.silva@example.com",
        "incident_id": "0190-aaaa",
        "incident_ref": "INC-42",
        "title": "Checkout API <5xx> & timeouts",
        "severity": Severity.CRITICAL,
        "priority": Priority.P1,
        "state": IncidentState.TRIGGERED,
        "service": "checkout-api",
        "team": "payments",
        "level": 2,
        "repeat": 0,
        "urgent": False,
        "drill": False,
        "recipient": recipient,
        "summary": "Error rate 12 % for 10 minutes",
        "at": AT,
    }
    return Notice(**(base | changes))


@dataclass(frozen=True)
class Certs:
    """A throwaway CA and a certificate for 127.0.0.1/localhost signed by it."""

    ca_file: Path
    server: ssl.SSLContext


def make_certs(folder: Path) -> Certs:
    """Certificates made for this test only (trustme), the CA written to a PEM file."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server)
    ca_file = folder / "test-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return Certs(ca_file, server)


# -- SMTP ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    authenticated: bool


@dataclass
class MailServer:
    """What an aiosmtpd server saw: messages, AUTH attempts (login, ok, over TLS), connections."""

    port: int = 0
    rcpt_reply: str | None = None
    messages: list[Mail] = field(default_factory=list)
    logins: list[tuple[str, bool, bool]] = field(default_factory=list)
    connections: int = 0

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        tls = _over_tls(server)
        mail = Mail(
            str(envelope.mail_from),
            list(envelope.rcpt_tos),
            parsed,
            tls,
            session.authenticated is True,
        )
        self.messages.append(mail)
        return "250 Message accepted for delivery"


def _over_tls(server: SMTP) -> bool:
    transport = server.transport
    return transport is not None and transport.get_extra_info("ssl_object") is not None


def authenticator(user: str, password: str, seen: MailServer) -> Callable[..., AuthResult]:
    """An aiosmtpd authenticator accepting one login; every attempt is kept in ``seen``."""

    def check(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == user.encode()
            and data.password == password.encode()
        )
        login = data.login.decode() if isinstance(data, LoginPassword) else "?"
        seen.logins.append((login, ok, _over_tls(server)))
        return AuthResult(success=ok, handled=False)  # aiosmtpd answers 535 itself

    return check


@contextlib.asynccontextmanager
async def smtp_server(
    *,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    login: tuple[str, str] | None = None,
    rcpt_reply: str | None = None,
) -> AsyncIterator[MailServer]:
    """Serve SMTP on 127.0.0.1 until the block ends (STARTTLS, implicit TLS, AUTH as asked)."""
    loop = asyncio.get_running_loop()
    seen = MailServer(rcpt_reply=rcpt_reply)
    kwargs: dict[str, Any] = {"hostname": "mx.test", "loop": loop}
    if starttls is not None:
        kwargs |= {"tls_context": starttls, "require_starttls": True}
    if login is not None:
        kwargs["authenticator"] = authenticator(*login, seen)
        # On an implicit-TLS listener aiosmtpd does not know the connection is encrypted.
        kwargs["auth_require_tls"] = implicit_tls is None

    sessions: list[SMTP] = []

    def protocol() -> SMTP:
        seen.connections += 1
        sessions.append(SMTP(seen, **kwargs))
        return sessions[-1]

    server = await loop.create_server(protocol, "127.0.0.1", 0, ssl=implicit_tls)
    seen.port = server.sockets[0].getsockname()[1]
    try:
        yield seen
    finally:
        server.close()
        await server.wait_closed()
        # Each session's handler task ends a few loop turns after its client hung up.
        tasks = [t for s in sessions if (t := s._handler_coroutine) is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=5)


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A listener that accepts connections and never says a word (a hung mail server)."""
    writers: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port: int = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    return port


# -- HTTP ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One request as the webhook receiver got it."""

    method: str
    path: str
    match: dict[str, str]
    headers: dict[str, str]
    body: bytes


Reply = Callable[[Hit, int], Awaitable[web.StreamResponse]]


@dataclass
class Receiver:
    """An aiohttp app on loopback that keeps every request and answers as ``reply`` says."""

    reply: Reply
    hits: list[Hit] = field(default_factory=list)
    port: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str = "") -> str:
        """The receiver's URL for ``path``."""
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        hit = Hit(
            request.method,
            request.path,
            dict(request.match_info),
            dict(request.headers),
            await request.read(),
        )
        self.hits.append(hit)
        return await self.reply(hit, len(self.hits))


async def ok(hit: Hit, count: int) -> web.StreamResponse:
    """Answer 200 ``ok`` (as Slack does)."""
    return web.Response(text="ok")


def statuses(*codes: int) -> Reply:
    """Answer with these statuses in turn (the last one repeats)."""

    async def reply(hit: Hit, count: int) -> web.StreamResponse:
        code = codes[min(count, len(codes)) - 1]
        return web.Response(status=code, text=f"answer {count}")

    return reply


@contextlib.asynccontextmanager
async def receiver(reply: Reply = ok) -> AsyncIterator[Receiver]:
    """Serve a `Receiver` on 127.0.0.1 until the block ends."""
    seen = Receiver(reply)
    app = web.Application()
    app.router.add_route(
        "PUT", "/_matrix/client/v3/rooms/{room}/send/m.room.message/{txn}", seen.handle
    )
    app.router.add_route("*", "/{tail:.*}", seen.handle)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    seen.port = runner.addresses[0][1]
    try:
        yield seen
    finally:
        seen.release.set()
        await runner.cleanup()
