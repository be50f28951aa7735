"""The prometheus probe against Debian's prometheus, and against answers it never gives."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from console.core.clock import FakeClock, SystemClock
from console.probes.base import ProbeOutcome, ProbeResult
from console.probes.http import BasicAuth
from console.probes.prometheus import (
    HttpAccess,
    PrometheusProbeConfig,
    probe_prometheus,
    series_name,
)

from tests.unit.probes import peers
from tests.unit.probes.peers import (
    PROMETHEUS_LOGIN,
    PROMETHEUS_PASSWORD,
    TEMPERATURES,
    PrometheusPeer,
    PrometheusServer,
    RawPages,
    Reply,
    with_session,
)

prometheus = peers.prometheus
raw_pages = peers.raw_pages

CLOCK = FakeClock()


def check(config: PrometheusProbeConfig) -> ProbeResult:
    return with_session(lambda session: probe_prometheus(session, config, CLOCK))


def ask(peer: PrometheusPeer, query: str, **options: object) -> ProbeResult:
    config = PrometheusProbeConfig(
        peer.server.url,
        query,
        access=peer.server.access(),
        **options,  # type: ignore[arg-type]
    )
    return check(config)


def temperature_series(peer: PrometheusPeer, room: str) -> str:
    return f'demo_temperature_celsius{{instance="{peer.instance}",job="page",room="{room}"}}'


# ---- answers from a real server --------------------------------------------------------------


def test_a_vector_gives_one_metric_per_series(prometheus: PrometheusPeer) -> None:
    result = ask(prometheus, "demo_temperature_celsius")
    assert result.ok_state is ProbeOutcome.UP
    assert dict(result.metrics) == {
        temperature_series(prometheus, room): value for room, value in TEMPERATURES.items()
    }
    assert result.reason == "2 series"
    assert result.details["series"] == "2"
    assert result.started_at == CLOCK.now()


def test_an_aggregate_without_labels_is_named_braces(prometheus: PrometheusPeer) -> None:
    result = ask(prometheus, "sum(demo_temperature_celsius)")
    assert result.ok_state is ProbeOutcome.UP
    assert dict(result.metrics) == {"{}": sum(TEMPERATURES.values())}
    assert result.reason == "1 series: {}"


def test_a_scalar(prometheus: PrometheusPeer) -> None:
    result = ask(prometheus, "scalar(max(demo_temperature_celsius)) * 2")
    assert result.ok_state is ProbeOutcome.UP
    assert dict(result.metrics) == {"scalar": 2 * max(TEMPERATURES.values())}
    assert result.reason == f"scalar {2 * max(TEMPERATURES.values()):g}"


def test_the_evaluation_time_is_sent(prometheus: PrometheusPeer) -> None:
    moment = SystemClock().now().replace(microsecond=250_000) - timedelta(minutes=3)
    result = ask(prometheus, "time()", at=moment)
    assert result.metrics["scalar"] == pytest.approx(moment.timestamp(), abs=0.001)
    # A day ago the page did not exist yet: nothing to see then.
    earlier = ask(prometheus, "demo_temperature_celsius", at=moment - timedelta(days=1))
    assert earlier.ok_state is ProbeOutcome.UP
    assert dict(earlier.metrics) == {}
    assert earlier.reason == "the query returned no series"


def test_label_values_are_escaped_in_series_names(prometheus: PrometheusPeer) -> None:
    query = 'label_replace(vector(1), "path", "C:\\\\tmp \\"x\\"", "", "")'
    result = ask(prometheus, query)
    assert dict(result.metrics) == {'{path="C:\\\\tmp \\"x\\""}': 1.0}
    assert series_name("", {"path": 'C:\\tmp "x"'}) in result.metrics


def test_more_series_than_allowed_are_dropped_and_said(prometheus: PrometheusPeer) -> None:
    result = ask(prometheus, "demo_temperature_celsius", max_series=1)
    assert result.ok_state is ProbeOutcome.UP
    # Sorted by name, hall comes before lab.
    assert list(result.metrics) == [temperature_series(prometheus, "hall")]
    assert result.details["dropped"] == "1 series over max_series"
    assert result.reason == "2 series, the first 1 kept"


def test_a_bad_query_gives_prometheus_error_text(prometheus: PrometheusPeer) -> None:
    result = ask(prometheus, "sum(demo_temperature_celsius")
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason.startswith("query failed: bad_data: ")
    assert "parse error" in result.reason
    assert result.details["http_status"] == "400"
    assert dict(result.metrics) == {}


@pytest.mark.parametrize(
    ("query", "kind"),
    [("demo_temperature_celsius[1m]", "matrix"), ('"hello"', "string")],
)
def test_results_that_are_not_numbers_per_series(
    prometheus: PrometheusPeer, query: str, kind: str
) -> None:
    result = ask(prometheus, query)
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason == (
        f"the query returned a {kind}; only instant vectors and scalars become metrics"
    )


def test_infinite_and_nan_values_are_left_out(prometheus: PrometheusPeer) -> None:
    result = ask(prometheus, "demo_temperature_celsius / 0")
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert dict(result.metrics) == {}
    hall, lab = (
        series_name("", {"instance": prometheus.instance, "job": "page", "room": r})
        for r in ("hall", "lab")
    )
    assert result.reason == f"no finite value: {hall}=+Inf, {lab}=+Inf"
    mixed = ask(
        prometheus,
        'demo_temperature_celsius{room="lab"} - demo_temperature_celsius{room="lab"} * 0 / 0'
        ' or demo_temperature_celsius{room="hall"}',
    )
    assert mixed.ok_state is ProbeOutcome.UP
    assert dict(mixed.metrics) == {temperature_series(prometheus, "hall"): TEMPERATURES["hall"]}
    assert (
        mixed.details["non_finite"]
        == f'{{instance="{prometheus.instance}",job="page",room="lab"}}=NaN'
    )


# ---- credentials ---------------------------------------------------------------------------


def test_without_credentials_the_server_refuses(prometheus: PrometheusPeer) -> None:
    result = check(PrometheusProbeConfig(prometheus.server.url, "up"))
    assert result.ok_state is ProbeOutcome.DOWN
    assert result.reason == "HTTP 401 Unauthorized"


def test_a_wrong_password_never_shows(prometheus: PrometheusPeer) -> None:
    wrong = HttpAccess(basic_auth=BasicAuth(PROMETHEUS_LOGIN, PROMETHEUS_PASSWORD + "-wrong"))
    result = check(PrometheusProbeConfig(prometheus.server.url, "up", access=wrong))
    assert result.ok_state is ProbeOutcome.DOWN
    assert result.reason == "HTTP 401 Unauthorized"
    assert PROMETHEUS_PASSWORD not in repr(result)


def test_a_bearer_token_is_sent_and_kept_out_of_reasons(raw_pages: RawPages) -> None:
    def api(headers: dict[str, str]) -> Reply:
        if headers.get("Authorization") == "Bearer s3cr3t-token":
            answer = {"status": "success", "data": {"resultType": "scalar", "result": [1, "5"]}}
            return Reply(json.dumps(answer).encode(), "application/json")
        # A proxy that quotes what it got back at the caller.
        error = f"token rejected: {headers.get('Authorization')}"
        answer = {"status": "error", "errorType": "unauthorized", "error": error}
        return Reply(json.dumps(answer).encode(), "application/json", 403)

    raw_pages.route("/prom/api/v1/query", api)
    base = raw_pages.url("/prom")
    good = check(PrometheusProbeConfig(base, "up", access=HttpAccess(bearer_token="s3cr3t-token")))
    assert good.ok_state is ProbeOutcome.UP and dict(good.metrics) == {"scalar": 5.0}
    bad = check(PrometheusProbeConfig(base, "up", access=HttpAccess(bearer_token="wr0ng-token")))
    assert bad.ok_state is ProbeOutcome.UNKNOWN
    assert bad.reason == "query failed: unauthorized: token rejected: Bearer ***"
    assert raw_pages.requests["/prom/api/v1/query"]["Authorization"] == "Bearer wr0ng-token"


# ---- faults ----------------------------------------------------------------------------------


def test_a_stopped_server_refuses_connections(tmp_path: Path) -> None:
    with PrometheusServer(tmp_path) as server:
        config = PrometheusProbeConfig(server.url, "1 + 1", access=server.access())
        before = check(config)
        assert before.ok_state is ProbeOutcome.UP and dict(before.metrics) == {"scalar": 2.0}
        server.stop()
        after = check(config)
    assert after.ok_state is ProbeOutcome.DOWN
    assert after.reason == f"connection refused by 127.0.0.1:{server.port}"
    assert dict(after.metrics) == {}


def test_a_server_that_never_answers_times_out(raw_pages: RawPages) -> None:
    result = check(PrometheusProbeConfig(raw_pages.url("/hang"), "up", timeout_s=0.3))
    assert result.ok_state is ProbeOutcome.DOWN
    assert result.reason == "timeout after 0.3 s"


def test_a_body_that_is_not_json(raw_pages: RawPages) -> None:
    base = raw_pages.url("/html")
    raw_pages.page("/html/api/v1/query", "<html>login first</html>", content_type="text/html")
    result = check(PrometheusProbeConfig(base, "up"))
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason == (
        "not a Prometheus API answer: invalid JSON (Expecting value at line 1)"
    )


def test_json_that_is_not_an_api_answer(raw_pages: RawPages) -> None:
    raw_pages.page("/other/api/v1/query", '{"hello": "world"}', content_type="application/json")
    result = check(PrometheusProbeConfig(raw_pages.url("/other"), "up"))
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason == "not a Prometheus API answer: no status field"


def test_an_http_error_without_an_api_answer_is_down(raw_pages: RawPages) -> None:
    raw_pages.page(
        "/proxy/api/v1/query", "<h1>upstream gone</h1>", content_type="text/html", status=502
    )
    result = check(PrometheusProbeConfig(raw_pages.url("/proxy"), "up"))
    assert result.ok_state is ProbeOutcome.DOWN
    assert result.reason == "HTTP 502 Bad Gateway"
    assert result.details["http_status"] == "502"


def test_an_answer_over_the_cap_is_not_read(raw_pages: RawPages) -> None:
    # 32 MiB: more than loopback's socket buffers hold, so the count of bytes sent shows
    # whether the probe hung up.
    body = b'{"status": "success", "data": {"resultType": "vector", "result": [' + b" " * (
        32 * 1024 * 1024
    )
    raw_pages.page("/big/api/v1/query", body, content_type="application/json")
    result = check(PrometheusProbeConfig(raw_pages.url("/big"), "up"))
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason == "HTTP 200 OK, but the answer is over the 4 MiB cap"
    assert raw_pages.sent["/big/api/v1/query"] < len(body) // 2
    small_cap = check(PrometheusProbeConfig(raw_pages.url("/big"), "up", body_cap_bytes=65536))
    assert small_cap.reason == "HTTP 200 OK, but the answer is over the 64 KiB cap"


def test_a_large_answer_keeps_max_series(raw_pages: RawPages) -> None:
    series = [{"metric": {"i": f"{i:05}"}, "value": [1, str(i)]} for i in range(40_000)]
    answer = {"status": "success", "data": {"resultType": "vector", "result": series}}
    raw_pages.page("/many/api/v1/query", json.dumps(answer), content_type="application/json")
    result = check(PrometheusProbeConfig(raw_pages.url("/many"), "up"))
    assert result.ok_state is ProbeOutcome.UP
    assert len(result.metrics) == 1000
    assert result.metrics['{i="00999"}'] == 999.0 and '{i="01000"}' not in result.metrics
    assert result.details["dropped"] == "39000 series over max_series"
    assert result.reason == "40000 series, the first 1000 kept"


def test_configs_no_check_could_run_with_are_refused() -> None:
    with pytest.raises(ValueError, match="not an http"):
        PrometheusProbeConfig("ftp://127.0.0.1/", "up")
    with pytest.raises(ValueError, match="credentials belong"):
        PrometheusProbeConfig("http://me:pw@127.0.0.1/", "up")
    with pytest.raises(ValueError, match="empty"):
        PrometheusProbeConfig("http://127.0.0.1/", "  ")
    with pytest.raises(ValueError, match="not both"):
        HttpAccess(basic_auth=BasicAuth("a", "b"), bearer_token="c")
