"""Fixtures for probe tests: live HTTP and HTTPS targets, TCP listeners and closed ports."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.probes.support import LiveServer, Pem, ServerStats, make_app, make_certificate


@pytest.fixture(scope="session")
def server_stats() -> ServerStats:
    """Counters kept by the plain HTTP target."""
    return ServerStats()


@pytest.fixture(scope="session")
def http_server(server_stats: ServerStats) -> Iterator[LiveServer]:
    """The plain HTTP target on 127.0.0.1."""
    with LiveServer(make_app(server_stats)) as server:
        yield server


@dataclass(frozen=True)
class TlsTargets:
    """HTTPS targets, each presenting a different certificate, and the CA that signed some."""

    ca: Pem
    not_after: datetime
    good: LiveServer
    self_signed: LiveServer
    expired: LiveServer
    wrong_name: LiveServer


@pytest.fixture(scope="session")
def tls_targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsTargets]:
    """Four HTTPS servers: valid for 30 days, self-signed, expired, and for another name."""
    folder = tmp_path_factory.mktemp("tls")
    # Whole seconds: certificates carry no fractions, so the expected day count is exact.
    not_after = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    ca = make_certificate(folder, "test-ca", not_after + timedelta(days=365), ca=True, ip=None)
    good = make_certificate(folder, "good", not_after, issuer=ca)
    self_signed = make_certificate(folder, "self-signed", not_after)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    expired = make_certificate(
        folder, "expired", yesterday, issuer=ca, not_before=yesterday - timedelta(days=90)
    )
    wrong_name = make_certificate(folder, "wrong-name", not_after, issuer=ca, ip=None, dns="a.test")
    stats = ServerStats()
    with (
        LiveServer(make_app(stats), good.server_context()) as good_server,
        LiveServer(make_app(stats), self_signed.server_context()) as self_signed_server,
        LiveServer(make_app(stats), expired.server_context()) as expired_server,
        LiveServer(make_app(stats), wrong_name.server_context()) as wrong_name_server,
    ):
        yield TlsTargets(
            ca, not_after, good_server, self_signed_server, expired_server, wrong_name_server
        )


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: connecting is refused, and nobody else can take it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def tcp_listener() -> Iterator[int]:
    """A real listening socket; the kernel completes handshakes into its backlog."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


@pytest.fixture
def full_backlog_port() -> Iterator[int]:
    """A listener whose accept queue is full, so the kernel drops new SYNs: connects hang."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(3):
                filler = socket.socket()
                filler.setblocking(False)
                fillers.append(filler)
                # In progress or done, either way it takes a place in the queue.
                filler.connect_ex(("127.0.0.1", port))
            yield port
        finally:
            for filler in fillers:
                filler.close()
