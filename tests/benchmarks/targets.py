"""Benchmark targets: small JSON health answers on many loopback addresses, in their own process.

Run: ``.venv/bin/python tests/benchmarks/targets.py --hosts 250`` serves every address from
127.0.0.2 to 127.0.0.(hosts + 1) on one port (Linux routes all of 127/8 to ``lo``), prints one
JSON line ``{"port": ..., "hosts": [...], "pid": ...}`` once it listens, and serves until its
stdin closes or it gets SIGTERM/SIGINT. ``bench_engine.py`` starts it as a separate process so
the server has its own core and its CPU is not charged to the client being measured.

The server is a bare asyncio protocol, not a web framework: the point is a target that stays
far from saturation while a client polls it thousands of times a second. It answers every
request (GET or HEAD without a body; keep-alive; pipelined requests in order) with the same
small JSON body, so every check costs the same and the client is what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import sys

BODY = b'{"status":"ok","queue_depth":3,"latency_ms":12.5,"version":"1.4.2"}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: application/json\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n"
    b"Connection: keep-alive\r\n"
    b"\r\n" + BODY
)
_END = b"\r\n\r\n"


class Health(asyncio.Protocol):
    """One connection: each complete request head gets the canned answer."""

    served = 0
    connections = 0

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._pending = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport to answer on."""
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        Health.connections += 1

    def data_received(self, data: bytes) -> None:
        """Answer every request head that is complete so far."""
        buffer = self._pending + data if self._pending else data
        count = buffer.count(_END)
        if count and self._transport is not None:
            self._transport.write(RESPONSE * count)
            Health.served += count
            buffer = buffer[buffer.rfind(_END) + len(_END) :]
        self._pending = buffer


def raise_fd_limit() -> None:
    """Allow as many open sockets as the hard limit does (a connection per host and slot)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def host_addresses(count: int) -> list[str]:
    """127.0.0.2 onwards: ``count`` loopback addresses other than 127.0.0.1."""
    if not 1 <= count <= 253:
        raise ValueError("between 1 and 253 hosts (127.0.0.2 to 127.0.0.254)")
    return [f"127.0.0.{2 + i}" for i in range(count)]


async def listen(hosts: list[str], port: int) -> tuple[list[asyncio.Server], int]:
    """Listen on every host at one port (0: a port free on the first host, then used by all)."""
    loop = asyncio.get_running_loop()
    first = await loop.create_server(Health, hosts[0], port, backlog=4096, reuse_address=True)
    chosen = first.sockets[0].getsockname()[1]
    servers = [first]
    for host in hosts[1:]:
        servers.append(
            await loop.create_server(Health, host, chosen, backlog=4096, reuse_address=True)
        )
    return servers, chosen


async def serve(hosts: list[str], port: int) -> None:
    """Serve until stdin closes or a termination signal arrives."""
    servers, chosen = await listen(hosts, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(json.dumps({"port": chosen, "hosts": hosts, "pid": os.getpid()}), flush=True)

    async def stdin_closed() -> None:
        while await reader.read(4096):
            pass
        stop.set()

    watcher = asyncio.create_task(stdin_closed())
    await stop.wait()
    watcher.cancel()
    for server in servers:
        server.close()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    totals = {"served": Health.served, "connections": Health.connections}
    print(json.dumps(totals), file=sys.stderr, flush=True)


def main() -> None:
    """Parse arguments and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=250, help="loopback addresses to serve")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free one)")
    args = parser.parse_args()
    raise_fd_limit()
    asyncio.run(serve(host_addresses(args.hosts), args.port))


if __name__ == "__main__":
    main()
