"""The http probe reads a body whole when its declared length fits the cap, else in chunks.

A compressed body is always read in capped chunks: its declared length says nothing about what
it inflates to.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest
from aiohttp import web
from console.core.clock import FakeClock
from console.probes.base import ProbeOutcome, ProbeResult
from console.probes.http import MIB, HttpProbeConfig, probe_http

from tests.unit.probes.support import LiveServer, with_session

#: 2 MiB of text that gzip shrinks to a few KiB: a small declared length, a big body.
INFLATES = gzip.compress(b'{"n": 1, "pad": "' + b"x" * (2 * MIB) + b'"}')
SMALL = b'{"n": 7, "words": "hello hello"}'


async def _inflating(_: web.Request) -> web.Response:
    return web.Response(
        body=INFLATES, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
    )


async def _small_gzip(_: web.Request) -> web.Response:
    return web.Response(
        body=gzip.compress(SMALL),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )


async def _declared(_: web.Request) -> web.Response:
    return web.Response(body=SMALL, content_type="application/json")


async def _chunked(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    for part in (SMALL[:10], SMALL[10:]):
        await response.write(part)
    await response.write_eof()
    return response


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    app = web.Application()
    app.router.add_get("/inflating", _inflating)
    app.router.add_get("/small-gzip", _small_gzip)
    app.router.add_get("/declared", _declared)
    app.router.add_get("/chunked", _chunked)
    with LiveServer(app) as live:
        yield live


def _check(server: LiveServer, path: str, **options: object) -> ProbeResult:
    config = HttpProbeConfig(server.url(path), **options)  # type: ignore[arg-type]
    return with_session(lambda session: probe_http(session, config, FakeClock()))


def test_a_small_compressed_body_that_inflates_past_the_cap_is_not_read_past_it(
    server: LiveServer,
) -> None:
    assert len(INFLATES) < 64 * 1024  # the declared length alone would pass the cap
    result = _check(server, "/inflating", json_path="n")
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason == "HTTP 200 OK, but the body is over the 1 MiB cap"


@pytest.mark.parametrize("path", ["/declared", "/small-gzip", "/chunked"])
def test_bodies_within_the_cap_are_read_whole_however_they_arrive(
    server: LiveServer, path: str
) -> None:
    result = _check(server, path, json_path="n")
    assert result.ok_state is ProbeOutcome.UP, result.reason
    assert result.metrics["json_value"] == 7.0
    counted = _check(server, path, keyword="hello")
    assert counted.metrics["match_count"] == 2.0


def test_a_declared_length_over_the_cap_is_judged_without_reading_it_all(
    server: LiveServer,
) -> None:
    result = _check(server, "/declared", keyword="hello", body_cap_bytes=len(SMALL) - 1)
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason.endswith(f"over the {len(SMALL) - 1} bytes cap")
    exact = _check(server, "/declared", keyword="hello", body_cap_bytes=len(SMALL))
    assert exact.ok_state is ProbeOutcome.UP
