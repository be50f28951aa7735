"""The http/https probe against a real aiohttp server on loopback."""

from __future__ import annotations

import asyncio
import tracemalloc
from datetime import timedelta

import aiohttp
import pytest
from console.core.clock import FakeClock, SystemClock
from console.probes.base import ProbeOutcome, ProbeResult
from console.probes.http import BasicAuth, HttpMethod, HttpProbeConfig, probe_http

from tests.unit.probes.conftest import TlsTargets
from tests.unit.probes.support import LiveServer, ServerStats, run_async, with_session

CLOCK = FakeClock()


def check(config: HttpProbeConfig, clock: FakeClock | SystemClock = CLOCK) -> ProbeResult:
    return with_session(lambda session: probe_http(session, config, clock))


def get(server: LiveServer, path: str, **options: object) -> ProbeResult:
    return check(HttpProbeConfig(server.url(path), **options))  # type: ignore[arg-type]


# ---- answers -----------------------------------------------------------------------------


def test_a_good_answer(http_server: LiveServer) -> None:
    clock = FakeClock()
    clock.advance(12.5)
    result = check(HttpProbeConfig(http_server.url("/ok"), keyword="hello"), clock)
    assert result.ok_state is ProbeOutcome.UP
    assert result.reason == "HTTP 200 OK"
    assert result.metrics["up"] == 1.0 and result.metrics["status_code"] == 200.0
    # Case matters for a keyword: "HELLO" is not counted.
    assert result.metrics["match_count"] == 2.0
    assert "tls_days_left" not in result.metrics and "json_value" not in result.metrics
    assert result.started_at == clock.now()
    assert result.details["url"] == http_server.url("/ok")


def test_response_time_is_measured_with_the_injected_clock(http_server: LiveServer) -> None:
    result = check(HttpProbeConfig(http_server.url("/ok")), SystemClock())
    assert 0 < result.metrics["response_time_ms"] <= result.duration_s * 1000 < 2000


@pytest.mark.parametrize(("pattern", "count"), [("(?i)hello", 3), (r"\bh\w+", 2), ("nope", 0)])
def test_regex_match_count(http_server: LiveServer, pattern: str, count: int) -> None:
    result = get(http_server, "/ok", regex=pattern)
    assert result.ok_state is ProbeOutcome.UP
    assert result.metrics["match_count"] == count


def test_the_body_is_decoded_with_its_declared_charset(http_server: LiveServer) -> None:
    assert get(http_server, "/latin1", keyword="café").metrics["match_count"] == 2.0


def test_method_headers_and_body_are_sent(http_server: LiveServer) -> None:
    config = HttpProbeConfig(
        http_server.url("/echo"),
        method=HttpMethod.POST,
        headers={"X-Probe": "41.5"},
        body=b"abcdef",
        json_path="length",
    )
    assert check(config).metrics["json_value"] == 6.0
    echoed = check(
        HttpProbeConfig(http_server.url("/echo"), headers={"X-Probe": "41.5"}, json_path="probe")
    )
    assert echoed.metrics["json_value"] == 41.5


def test_keep_alive_reuses_the_connection(http_server: LiveServer) -> None:
    config = HttpProbeConfig(http_server.url("/echo"), json_path="client_port")

    async def twice(session: aiohttp.ClientSession) -> tuple[ProbeResult, ProbeResult]:
        first = await probe_http(session, config, CLOCK)
        return first, await probe_http(session, config, CLOCK)

    first, second = with_session(twice)
    assert first.metrics["json_value"] == second.metrics["json_value"] > 0


def test_an_empty_answer(http_server: LiveServer) -> None:
    result = get(http_server, "/empty")
    assert result.ok_state is ProbeOutcome.UP and result.reason == "HTTP 204 No Content"


# ---- status codes and redirects ----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (500, "HTTP 500 Internal Server Error (expected 200-399)"),
        (503, "HTTP 503 Service Unavailable (expected 200-399)"),
        (404, "HTTP 404 Not Found (expected 200-399)"),
    ],
)
def test_failing_status_codes(http_server: LiveServer, code: int, reason: str) -> None:
    result = get(http_server, f"/status/{code}", json_path="x")
    assert result.ok_state is ProbeOutcome.DOWN
    assert result.reason == reason
    assert result.metrics["up"] == 0.0 and result.metrics["status_code"] == code
    assert "response_time_ms" in result.metrics


def test_expected_status_as_a_set_or_a_range(http_server: LiveServer) -> None:
    assert get(http_server, "/status/503", expect_status=frozenset({503})).metrics["up"] == 1.0
    result = get(http_server, "/status/201", expect_status=frozenset({200, 204}))
    assert result.reason == "HTTP 201 Created (expected 200, 204)"
    teapot = get(http_server, "/status/418", expect_status=range(400, 500))
    assert teapot.ok_state is ProbeOutcome.UP


def test_redirects_up_to_the_limit_are_followed(http_server: LiveServer) -> None:
    result = get(http_server, "/redirect/5", keyword="hello")
    assert result.ok_state is ProbeOutcome.UP
    assert result.details["redirects"] == "5"
    assert result.details["url"] == http_server.url("/ok")
    assert result.metrics["match_count"] == 2.0


def test_one_redirect_too_many(http_server: LiveServer) -> None:
    result = get(http_server, "/redirect/6")
    assert result.ok_state is ProbeOutcome.DOWN
    assert result.reason == "too many redirects (more than 5)"
    assert result.metrics == {"up": 0.0}


def test_a_redirect_loop(http_server: LiveServer) -> None:
    result = get(http_server, "/loop", max_redirects=3)
    assert (result.ok_state, result.reason) == (
        ProbeOutcome.DOWN,
        "too many redirects (more than 3)",
    )


def test_with_no_redirects_allowed_the_3xx_itself_is_judged(http_server: LiveServer) -> None:
    assert get(http_server, "/redirect/1", max_redirects=0).reason == "HTTP 302 Found"
    result = get(http_server, "/redirect/1", max_redirects=0, expect_status=range(200, 300))
    assert result.reason == "HTTP 302 Found (expected 200-299)"


# ---- slow, huge and malformed answers ----------------------------------------------------


def test_a_server_that_never_answers_times_out(http_server: LiveServer) -> None:
    result = check(HttpProbeConfig(http_server.url("/hang"), timeout_s=0.3), SystemClock())
    assert result.ok_state is ProbeOutcome.DOWN
    assert result.reason == "timeout after 0.3 s"
    assert result.metrics == {"up": 0.0}
    assert 0.3 <= result.duration_s < 1.5


def test_a_trickling_server_cannot_hold_the_check_past_its_deadline(
    http_server: LiveServer,
) -> None:
    # A byte every 20 ms keeps any read timeout happy for 20 s; the deadline must still hold.
    result = check(HttpProbeConfig(http_server.url("/trickle"), timeout_s=0.4), SystemClock())
    assert result.reason == "timeout after 0.4 s"
    assert 0.4 <= result.duration_s < 1.5


def test_a_10_mib_body_is_not_read_past_the_cap(http_server: LiveServer) -> None:
    tracemalloc.start()
    try:
        result = get(http_server, "/big", keyword="x")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason == "HTTP 200 OK, but the body is over the 1 MiB cap"
    assert result.metrics["up"] == 1.0 and "match_count" not in result.metrics
    assert peak < 6 * 1024 * 1024, f"peak {peak} bytes: the body was buffered"


def test_an_endless_body_ends_at_the_cap_not_at_the_timeout(http_server: LiveServer) -> None:
    config = HttpProbeConfig(http_server.url("/endless"), json_path="a", timeout_s=20)
    result = check(config, SystemClock())
    assert result.reason == "HTTP 200 OK, but the body is over the 1 MiB cap"
    assert result.duration_s < 10


def test_a_body_over_the_cap_is_fine_when_nothing_is_read_from_it(
    http_server: LiveServer,
) -> None:
    result = get(http_server, "/big")
    assert result.ok_state is ProbeOutcome.UP
    assert result.details["note"] == "body over the 1 MiB cap; not read"


def test_a_small_cap(http_server: LiveServer, server_stats: ServerStats) -> None:
    result = get(http_server, "/ok", keyword="hello", body_cap_bytes=16)
    assert result.reason == "HTTP 200 OK, but the body is over the 16 bytes cap"
    # The same body fits a cap of exactly its size.
    exact = get(http_server, "/ok", keyword="hello", body_cap_bytes=32)
    assert exact.ok_state is ProbeOutcome.UP


def test_invalid_json(http_server: LiveServer) -> None:
    result = get(http_server, "/json/invalid", json_path="data[0]")
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason == (
        "HTTP 200 OK, but invalid JSON: Expecting ',' delimiter (line 1 column 15)"
    )
    assert result.metrics["up"] == 1.0 and "json_value" not in result.metrics


def test_json_nested_too_deeply_is_a_reason_not_a_crash(http_server: LiveServer) -> None:
    result = get(http_server, "/json/deep", json_path="[0]")
    assert result.reason == "HTTP 200 OK, but invalid JSON: nested too deeply to read"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("data.items[0].value", 42.5),
        ("data.items[1].value", 7.0),
        ("data.items[-3].value", 42.5),
        ("data.ok", 1.0),
    ],
)
def test_json_values(http_server: LiveServer, path: str, value: float) -> None:
    result = get(http_server, "/json", json_path=path)
    assert result.ok_state is ProbeOutcome.UP
    assert result.metrics["json_value"] == value


@pytest.mark.parametrize(
    ("path", "why"),
    [
        (
            "data.items[5].value",
            "JSON path data.items[5].value not found: data.items has 3 elements, no [5]",
        ),
        ("data.missing", "JSON path data.missing not found: data has no key 'missing'"),
        (
            "data.items.value",
            "JSON path data.items.value not found: data.items is a list, not an object",
        ),
        ("[0]", "JSON path [0] not found: the top level is an object, not a list"),
        (
            "data.items[2].value",
            "the value at JSON path data.items[2].value is 'seven', not a number",
        ),
        ("data.nothing", "the value at JSON path data.nothing is null, not a number"),
        ("data.items", "the value at JSON path data.items is a list, not a number"),
    ],
)
def test_json_path_problems(http_server: LiveServer, path: str, why: str) -> None:
    result = get(http_server, "/json", json_path=path, keyword="value")
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason == f"HTTP 200 OK, but {why}"
    # What could be read still is.
    assert result.metrics["match_count"] == 3.0


def test_json_infinity_is_not_a_value(http_server: LiveServer) -> None:
    result = get(http_server, "/json", json_path="data.huge")
    assert (
        result.reason
        == "HTTP 200 OK, but the value at JSON path data.huge is inf, not a finite number"
    )


def test_garbage_instead_of_http_and_a_dropped_connection() -> None:
    async def scenario() -> tuple[ProbeResult, ProbeResult]:
        async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"SPAM SPAM SPAM\r\n\r\n")
            await writer.drain()
            writer.close()

        async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.close()

        results = []
        for handler in (garbage, hang_up):
            server = await asyncio.start_server(handler, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            async with server, aiohttp.ClientSession() as session:
                config = HttpProbeConfig(f"http://127.0.0.1:{port}/")
                results.append(await probe_http(session, config, CLOCK))
        return results[0], results[1]

    garbage, hung_up = run_async(scenario())
    assert garbage.ok_state is ProbeOutcome.DOWN
    assert garbage.reason.startswith("invalid HTTP response: ")
    assert "SPAM" in garbage.reason
    assert hung_up.ok_state is ProbeOutcome.DOWN
    assert hung_up.reason == "the server closed the connection early"


# ---- unreachable targets -----------------------------------------------------------------


def test_connection_refused(closed_port: int) -> None:
    result = check(HttpProbeConfig(f"http://127.0.0.1:{closed_port}/"))
    assert result.ok_state is ProbeOutcome.DOWN
    assert result.reason == f"connection refused by 127.0.0.1:{closed_port}"
    assert result.metrics == {"up": 0.0}


def test_a_name_that_does_not_exist() -> None:
    # .invalid is reserved (RFC 2606): it never resolves.
    result = check(HttpProbeConfig("http://no-such-target.invalid/health", timeout_s=5))
    assert result.ok_state is ProbeOutcome.DOWN
    assert result.reason == "DNS failure: name not found: no-such-target.invalid"


# ---- TLS ---------------------------------------------------------------------------------


def days_clock(tls_targets: TlsTargets, days: float) -> FakeClock:
    """A clock that many days before the test certificates expire."""
    return FakeClock(tls_targets.not_after - timedelta(days=days))


def test_tls_days_left_with_a_verified_certificate(tls_targets: TlsTargets) -> None:
    config = HttpProbeConfig(
        tls_targets.good.url("/ok"), ca_file=str(tls_targets.ca.cert_path), keyword="hello"
    )
    result = check(config, days_clock(tls_targets, 30))
    assert result.ok_state is ProbeOutcome.UP
    assert result.metrics["tls_days_left"] == 30.0
    assert result.metrics["match_count"] == 2.0
    assert result.details["tls_not_after"] == tls_targets.not_after.isoformat()
    # A small answer releases its connection at once, so the certificate needs a handshake.
    assert result.details["tls_source"] == "handshake"


def test_tls_days_left_from_the_answers_own_connection(tls_targets: TlsTargets) -> None:
    config = HttpProbeConfig(tls_targets.self_signed.url("/big"), verify_tls=False)
    result = check(config, days_clock(tls_targets, 12.5))
    assert result.ok_state is ProbeOutcome.UP
    assert result.metrics["tls_days_left"] == 12.5
    assert result.details["tls_source"] == "connection"


def test_an_expired_certificate_without_verification_has_negative_days(
    tls_targets: TlsTargets,
) -> None:
    result = check(HttpProbeConfig(tls_targets.expired.url("/ok"), verify_tls=False), SystemClock())
    assert result.ok_state is ProbeOutcome.UP
    assert -1.1 < result.metrics["tls_days_left"] < -0.9


@pytest.mark.parametrize(
    ("target", "trust_ca", "why"),
    [
        ("self_signed", False, "self-signed certificate"),
        ("good", False, "unable to get local issuer certificate"),
        ("expired", True, "certificate has expired"),
        ("wrong_name", True, "IP address mismatch, certificate is not valid for '127.0.0.1'."),
    ],
)
def test_certificate_verification_failures(
    tls_targets: TlsTargets, target: str, trust_ca: bool, why: str
) -> None:
    server: LiveServer = getattr(tls_targets, target)
    ca_file = str(tls_targets.ca.cert_path) if trust_ca else None
    result = check(HttpProbeConfig(server.url("/ok"), ca_file=ca_file))
    assert result.ok_state is ProbeOutcome.DOWN
    assert result.reason == f"TLS certificate verify failed: {why}"
    assert result.metrics == {"up": 0.0}


def test_tls_to_a_plain_http_port(http_server: LiveServer) -> None:
    url = http_server.url("/ok").replace("http://", "https://")
    result = check(HttpProbeConfig(url))
    assert result.ok_state is ProbeOutcome.DOWN
    assert result.reason.startswith(f"TLS handshake with 127.0.0.1:{http_server.port} failed: ")


# ---- credentials -------------------------------------------------------------------------

SECRETS = ("t0ps3cret", "pw123", "h34der")


def assert_no_secret(*texts: object) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in str(text)


def test_credentials_are_sent(http_server: LiveServer) -> None:
    url = http_server.url("/protected")
    bearer = check(HttpProbeConfig(url, bearer_token="t0ps3cret"))
    basic = check(HttpProbeConfig(url, basic_auth=BasicAuth("ada", "pw123")))
    nothing = check(HttpProbeConfig(url))
    assert bearer.ok_state is basic.ok_state is ProbeOutcome.UP
    assert nothing.reason == "HTTP 401 Unauthorized (expected 200-399)"


def test_secrets_stay_out_of_reasons_details_and_reprs(
    http_server: LiveServer, closed_port: int
) -> None:
    configs = [
        HttpProbeConfig(
            url,
            headers={"X-Plain": "shown"},
            secret_headers={"X-Api-Key": "h34der"},
            bearer_token="t0ps3cret",
            timeout_s=0.3,
            body=b"pw123",
        )
        for url in (
            http_server.url("/status/401"),
            http_server.url("/hang"),
            f"http://127.0.0.1:{closed_port}/",
            "http://secret-holder.invalid/",
        )
    ]
    configs.append(HttpProbeConfig(http_server.url("/loop"), basic_auth=BasicAuth("ada", "pw123")))
    for config in configs:
        result = check(config)
        assert result.ok_state is ProbeOutcome.DOWN
        assert_no_secret(result, repr(config))
    assert "X-Plain" in repr(configs[0]) and "X-Api-Key" not in repr(configs[0])


def test_a_secret_echoed_by_the_target_is_redacted(http_server: LiveServer) -> None:
    # The echo route reflects X-Probe; a JSON problem would quote the secret back.
    config = HttpProbeConfig(
        http_server.url("/echo"), secret_headers={"X-Probe": "h34der"}, json_path="probe"
    )
    result = check(config)
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason == "HTTP 200 OK, but the value at JSON path probe is '***', not a number"


# ---- configs no check could run ----------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "ftp://example.com/"}, "not an http"),
        ({"url": "http:///path"}, "not an http"),
        ({"url": "https://ada:pw@example.com/"}, "credentials belong in basic_auth"),
        ({"timeout_s": 0}, "timeout_s must be positive"),
        ({"max_redirects": -1}, "max_redirects"),
        ({"body_cap_bytes": 0}, "body_cap_bytes"),
        ({"expect_status": frozenset()}, "expect_status is empty"),
        ({"keyword": "a", "regex": "b"}, "not both"),
        ({"keyword": ""}, "keyword is empty"),
        ({"regex": "(unclosed"}, "missing \\), unterminated subpattern"),
        ({"json_path": "a..b"}, "bad JSON path"),
        ({"bearer_token": "t", "basic_auth": BasicAuth("a", "b")}, "not both"),
        ({"headers": {"X": "a\r\nInjected: 1"}}, "line break"),
    ],
)
def test_unusable_configs_raise(options: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"url": "http://127.0.0.1/", **options}
    with pytest.raises(ValueError, match=message):
        HttpProbeConfig(**arguments)  # type: ignore[arg-type]


def test_a_basic_auth_login_cannot_hold_a_colon() -> None:
    with pytest.raises(ValueError, match="RFC 7617"):
        BasicAuth("ada:lovelace", "pw")
    assert "pw123" not in repr(BasicAuth("ada", "pw123"))
