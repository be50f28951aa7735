"""The scrape probe against a real prometheus-client page, and the quantile math."""

from __future__ import annotations

import math

import pytest
from console.core.clock import FakeClock
from console.probes.base import ProbeOutcome, ProbeResult
from console.probes.exposition import bucket_quantile, parse_page
from console.probes.scrape import (
    LabelMatcher,
    MatchOp,
    MetricSelector,
    ScrapeProbeConfig,
    ScrapeState,
    probe_scrape,
)
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary
from prometheus_client.exposition import generate_latest

from tests.unit.probes import peers
from tests.unit.probes.peers import (
    LATENCY_BUCKETS,
    LATENCY_OBSERVATIONS,
    MetricsPage,
    PrometheusPeer,
    RawPages,
    Reply,
    free_port,
    with_session,
)

prometheus = peers.prometheus
metrics_page = peers.metrics_page
raw_pages = peers.raw_pages


class Scraper:
    """Scrapes one page repeatedly, threading the state through as the engine will."""

    def __init__(self, url: str, *selectors: str | MetricSelector, **options: object) -> None:
        chosen = tuple(
            s if isinstance(s, MetricSelector) else MetricSelector.parse(s) for s in selectors
        )
        self.config = ScrapeProbeConfig(url, chosen, **options)  # type: ignore[arg-type]
        self.clock = FakeClock()
        self.state: ScrapeState | None = None

    def scrape(self, after_s: float = 0.0) -> ProbeResult:
        self.clock.advance(after_s)
        result, self.state = with_session(
            lambda session: probe_scrape(session, self.config, self.clock, self.state)
        )
        return result


def latency(registry: CollectorRegistry, *labels: str) -> Histogram:
    return Histogram(
        "demo_latency_seconds",
        "Request latency.",
        labels,
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )


# ---- gauges and counters ---------------------------------------------------------------------


@pytest.mark.parametrize(("openmetrics", "shown"), [(True, "openmetrics"), (False, "text")])
def test_gauges_are_values(metrics_page: MetricsPage, openmetrics: bool, shown: str) -> None:
    registry = metrics_page.registry.current
    gauge = Gauge("queue_depth", "Jobs waiting.", ["queue"], registry=registry)
    gauge.labels("mail").set(12)
    gauge.labels("print").set(-3.5)
    result = Scraper(metrics_page.url, "queue_depth", openmetrics=openmetrics).scrape()
    assert result.ok_state is ProbeOutcome.UP
    assert dict(result.metrics) == {
        'queue_depth{queue="mail"}': 12.0,
        'queue_depth{queue="print"}': -3.5,
    }
    assert result.details["format"] == shown
    assert result.reason == "2 metrics"


@pytest.mark.parametrize("openmetrics", [True, False])
def test_counters_are_per_second_rates(metrics_page: MetricsPage, openmetrics: bool) -> None:
    jobs = Counter("jobs", "Jobs done.", ["kind"], registry=metrics_page.registry.current)
    jobs.labels("batch").inc(5)
    scraper = Scraper(metrics_page.url, "jobs_total", openmetrics=openmetrics)
    first = scraper.scrape()
    assert first.ok_state is ProbeOutcome.UP
    assert dict(first.metrics) == {}
    assert first.details["rates"] == "rates need a second scrape"
    assert first.reason == "0 metrics (rates need a second scrape)"
    jobs.labels("batch").inc(30)
    assert dict(scraper.scrape(after_s=10).metrics) == {'rate(jobs_total{kind="batch"})': 3.0}
    assert dict(scraper.scrape(after_s=5).metrics) == {'rate(jobs_total{kind="batch"})': 0.0}
    jobs.labels("batch").inc(1)
    assert dict(scraper.scrape(after_s=0.5).metrics) == {'rate(jobs_total{kind="batch"})': 2.0}


@pytest.mark.parametrize("openmetrics", [True, False])
def test_a_counter_reset_gives_no_rate_for_that_interval(
    metrics_page: MetricsPage, openmetrics: bool
) -> None:
    Counter("jobs", "Jobs done.", registry=metrics_page.registry.current).inc(100)
    scraper = Scraper(metrics_page.url, "jobs", openmetrics=openmetrics)
    scraper.scrape()
    # The process restarts: the counter starts again lower than before.
    jobs = Counter("jobs", "Jobs done.", registry=metrics_page.restart())
    jobs.inc(4)
    reset = scraper.scrape(after_s=10)
    assert reset.ok_state is ProbeOutcome.UP
    assert dict(reset.metrics) == {}
    assert reset.details["counter_reset"] == "jobs_total"
    jobs.inc(6)
    assert dict(scraper.scrape(after_s=2).metrics) == {"rate(jobs_total)": 3.0}


def test_a_restart_that_overtook_the_old_value_is_found_by_its_creation_time(
    metrics_page: MetricsPage,
) -> None:
    Counter("jobs", "Jobs done.", registry=metrics_page.registry.current).inc(5)
    scraper = Scraper(metrics_page.url, "jobs_total")
    scraper.scrape()
    Counter("jobs", "Jobs done.", registry=metrics_page.restart()).inc(500)
    result = scraper.scrape(after_s=10)
    # 5 -> 500 looks like growth, but the series was created anew: no rate of 49.5/s.
    assert dict(result.metrics) == {}
    assert result.details["counter_reset"] == "jobs_total"


def test_label_matchers(metrics_page: MetricsPage) -> None:
    requests = Counter(
        "http_requests", "Requests.", ["code", "method"], registry=metrics_page.registry.current
    )
    for code, method in [
        ("200", "GET"),
        ("404", "GET"),
        ("500", "POST"),
        ("503", "GET"),
        ("1500", "GET"),
    ]:
        requests.labels(code, method).inc()
    scraper = Scraper(
        metrics_page.url,
        'http_requests_total{code="404"}',
        'http_requests_total{code=~"5..", method!="POST"}',
        'http_requests_total{code!~"[0-9]{3}"}',
    )
    scraper.scrape()
    requests.labels("404", "GET").inc(10)
    requests.labels("503", "GET").inc(20)
    result = scraper.scrape(after_s=10)
    assert dict(result.metrics) == {
        'rate(http_requests_total{code="404",method="GET"})': 1.0,
        # Anchored: "1500" does not match 5.., and 500 is a POST.
        'rate(http_requests_total{code="503",method="GET"})': 2.0,
        'rate(http_requests_total{code="1500",method="GET"})': 0.0,
    }


def test_a_selector_matching_nothing_is_unknown(metrics_page: MetricsPage) -> None:
    Gauge("disk_used_ratio", "Disk.", ["mount"], registry=metrics_page.registry.current).labels(
        "/"
    ).set(0.5)
    result = Scraper(
        metrics_page.url, "disk_used_ratio", 'disk_used_ratio{mount="/var"}', "no_such_metric"
    ).scrape()
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason == 'not on the page: disk_used_ratio{mount="/var"}, no_such_metric'
    assert dict(result.metrics) == {'disk_used_ratio{mount="/"}': 0.5}


def test_nan_and_infinite_gauges_are_left_out(metrics_page: MetricsPage) -> None:
    gauge = Gauge("ratio", "A ratio.", ["of"], registry=metrics_page.registry.current)
    gauge.labels("a").set(math.nan)
    gauge.labels("b").set(math.inf)
    gauge.labels("c").set(0.25)
    result = Scraper(metrics_page.url, "ratio").scrape()
    assert result.ok_state is ProbeOutcome.UP
    assert dict(result.metrics) == {'ratio{of="c"}': 0.25}
    assert result.details["non_finite"] == 'ratio{of="a"}, ratio{of="b"}'


# ---- histograms and summaries ----------------------------------------------------------------

# LATENCY_OBSERVATIONS fall into the buckets 0.1 / 0.25 / 0.5 / 1 / +Inf as 2 / 5 / 7 / 9 / 10
# (cumulative). By hand, interpolating linearly inside the bucket that holds rank q * 10:
#   q=0.10: rank 1 in (0, 0.1] holding 2        -> 0 + 0.1 * 1/2           = 0.05
#   q=0.25: rank 2.5 in (0.1, 0.25] holding 3   -> 0.1 + 0.15 * 0.5/3      = 0.125
#   q=0.50: rank 5 in (0.1, 0.25]               -> 0.1 + 0.15 * 3/3        = 0.25
#   q=0.75: rank 7.5 in (0.5, 1] holding 2      -> 0.5 + 0.5 * 0.5/2       = 0.625
#   q=0.95: rank 9.5 in (1, +Inf]               -> the highest finite bound = 1.0
HAND_WORKED = {0.1: 0.05, 0.25: 0.125, 0.5: 0.25, 0.75: 0.625, 0.95: 1.0}
LATENCY_CUMULATIVE = [(0.1, 2.0), (0.25, 5.0), (0.5, 7.0), (1.0, 9.0), (math.inf, 10.0)]


@pytest.mark.parametrize(("q", "expected"), sorted(HAND_WORKED.items()))
def test_bucket_quantile_by_hand(q: float, expected: float) -> None:
    assert bucket_quantile(q, LATENCY_CUMULATIVE) == pytest.approx(expected, rel=1e-12)
    assert bucket_quantile(q, reversed(LATENCY_CUMULATIVE)) == pytest.approx(expected, rel=1e-12)


def test_bucket_quantile_edges() -> None:
    assert math.isnan(bucket_quantile(0.5, LATENCY_CUMULATIVE[:-1]))  # no +Inf bucket
    assert math.isnan(bucket_quantile(0.5, [(math.inf, 3.0)]))  # one bucket only
    assert math.isnan(bucket_quantile(0.5, [(1.0, 0.0), (math.inf, 0.0)]))  # no observations
    assert math.isnan(bucket_quantile(math.nan, LATENCY_CUMULATIVE))
    assert bucket_quantile(-0.1, LATENCY_CUMULATIVE) == -math.inf
    assert bucket_quantile(1.1, LATENCY_CUMULATIVE) == math.inf
    # The lowest bucket's bound is the answer when it is not above zero.
    assert bucket_quantile(0.1, [(-1.0, 4.0), (0.0, 6.0), (math.inf, 8.0)]) == -1.0
    # Equal bounds are merged (counts added); a falling count is raised to the running maximum.
    assert bucket_quantile(0.75, [(1.0, 1.0), (1.0, 1.0), (2.0, 4.0), (math.inf, 4.0)]) == 1.5
    assert bucket_quantile(
        0.6, [(1.0, 2.0), (2.0, 1.0), (3.0, 4.0), (math.inf, 4.0)]
    ) == pytest.approx(2.2)
    assert math.isnan(bucket_quantile(0.0, [(1.0, 0.0), (2.0, 3.0), (math.inf, 3.0)]))


def cumulative(prometheus_peer: PrometheusPeer, family: str) -> list[tuple[float, float]]:
    """The page's buckets for family, read with the scrape probe's own parser."""
    body = generate_latest(prometheus_peer.page.registry.current)
    (found,) = [f for f in parse_page(body, openmetrics=False) if f.name == family]
    return [(float(s.labels["le"]), s.value) for s in found.samples if s.name.endswith("_bucket")]


@pytest.mark.parametrize("family", ["demo_latency_seconds", "demo_offset"])
def test_bucket_quantile_agrees_with_prometheus(prometheus: PrometheusPeer, family: str) -> None:
    buckets = cumulative(prometheus, family)
    for step in range(-1, 12):
        q = step / 10
        answer = prometheus.server.query(f"histogram_quantile({q}, {family}_bucket)")
        (series,) = answer["data"]["result"]
        expected = float(series["value"][1])
        ours = bucket_quantile(q, buckets)
        assert ours == pytest.approx(expected, rel=1e-12) or (
            math.isnan(ours) and math.isnan(expected)
        ), q


def test_histogram_rates_and_quantiles_over_the_interval(metrics_page: MetricsPage) -> None:
    histogram = latency(metrics_page.registry.current, "route")
    # Old observations, before the interval: a quantile over the interval must ignore them.
    for _ in range(100):
        histogram.labels("/api").observe(3.0)
    histogram.labels("/health").observe(0.01)
    selector = MetricSelector.parse('demo_latency_seconds{route="/api"}', HAND_WORKED)
    scraper = Scraper(metrics_page.url, selector)
    assert dict(scraper.scrape().metrics) == {}
    for observation in LATENCY_OBSERVATIONS:
        histogram.labels("/api").observe(observation)
    result = scraper.scrape(after_s=10)
    assert result.ok_state is ProbeOutcome.UP
    expected = {
        'rate(demo_latency_seconds_sum{route="/api"})': sum(LATENCY_OBSERVATIONS) / 10,
        'rate(demo_latency_seconds_count{route="/api"})': 1.0,
    }
    for q, value in HAND_WORKED.items():
        expected[
            f'histogram_quantile({q:g}, rate(demo_latency_seconds_bucket{{route="/api"}}))'
        ] = value
    assert dict(result.metrics) == pytest.approx(expected, rel=1e-12)
    # A quiet interval has no quantile at all, rather than a made-up one.
    quiet = scraper.scrape(after_s=10)
    assert set(quiet.metrics) == {
        'rate(demo_latency_seconds_sum{route="/api"})',
        'rate(demo_latency_seconds_count{route="/api"})',
    }
    assert "histogram_quantile(0.5" in quiet.details["no_observations"]


def test_summaries(metrics_page: MetricsPage) -> None:
    summary = Summary("payload_bytes", "Payload sizes.", registry=metrics_page.registry.current)
    summary.observe(100)
    scraper = Scraper(metrics_page.url, "payload_bytes")
    scraper.scrape()
    summary.observe(300)
    summary.observe(500)
    result = scraper.scrape(after_s=4)
    assert dict(result.metrics) == {
        "rate(payload_bytes_sum)": 200.0,
        "rate(payload_bytes_count)": 0.5,
    }


# ---- pages that cannot be used ---------------------------------------------------------------


def test_a_malformed_text_page_names_the_line(raw_pages: RawPages) -> None:
    page = '# TYPE up gauge\nup 1\nup{job="x" 2\nother 3\n'
    url = raw_pages.page("/metrics", page)
    scraper = Scraper(url, "up")
    result = scraper.scrape()
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason.startswith("malformed metrics page: line 3: ")
    assert scraper.state is None


def test_a_malformed_openmetrics_page_names_the_line(raw_pages: RawPages) -> None:
    page = "# TYPE up gauge\nup 1\nup 2 3 4 5\n# EOF\n"
    kind = "application/openmetrics-text; version=1.0.0; charset=utf-8"
    url = raw_pages.page("/metrics", page, content_type=kind)
    result = Scraper(url, "up").scrape()
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason.startswith("malformed metrics page: line 3: ")


def test_a_truncated_openmetrics_page_is_malformed(raw_pages: RawPages) -> None:
    kind = "application/openmetrics-text; version=1.0.0; charset=utf-8"
    url = raw_pages.page("/metrics", "# TYPE up gauge\nup 1\n", content_type=kind)
    result = Scraper(url, "up").scrape()
    assert result.reason == "malformed metrics page: line 2: Missing # EOF at end"


def test_a_page_over_the_cap_is_not_parsed(raw_pages: RawPages) -> None:
    line = b'filler_metric{instance="a-long-label-value-to-fill-the-page"} 1\n'
    body = b"up 1\n" + line * (32 * 1024 * 1024 // len(line))
    url = raw_pages.page("/metrics", body)
    result = Scraper(url, "up").scrape()
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason == "the page is over the 4 MiB cap; not parsed"
    assert raw_pages.sent["/metrics"] < len(body) // 2


def test_a_large_page_under_the_cap_is_parsed(raw_pages: RawPages) -> None:
    lines = "".join(f'filler{{i="{i}"}} {i}\n' for i in range(40_000))
    url = raw_pages.page("/metrics", "# TYPE up gauge\nup 1\n" + lines)
    result = Scraper(url, "up", 'filler{i="39999"}').scrape()
    assert result.ok_state is ProbeOutcome.UP
    assert dict(result.metrics) == {"up": 1.0, 'filler{i="39999"}': 39999.0}
    assert result.details["samples"] == "40001"


def test_an_http_error_is_down_and_keeps_the_state(raw_pages: RawPages) -> None:
    registry = CollectorRegistry()
    jobs = Counter("jobs", "Jobs done.", registry=registry)
    status = {"code": 200}

    def page(_headers: dict[str, str]) -> Reply:
        if status["code"] != 200:
            return Reply(b"maintenance", status=status["code"])
        return Reply(generate_latest(registry))

    scraper = Scraper(raw_pages.route("/metrics", page), "jobs")
    scraper.scrape()
    kept = scraper.state
    status["code"] = 503
    failed = scraper.scrape(after_s=10)
    assert failed.ok_state is ProbeOutcome.DOWN
    assert failed.reason == "HTTP 503 Service Unavailable"
    assert scraper.state is kept
    jobs.inc(40)
    status["code"] = 200
    # The rate spans the whole gap: 40 jobs in 20 s.
    assert dict(scraper.scrape(after_s=10).metrics) == {"rate(jobs_total)": 2.0}


def test_connection_refused_is_down() -> None:
    port = free_port()
    result = Scraper(f"http://127.0.0.1:{port}/metrics", "up").scrape()
    assert result.ok_state is ProbeOutcome.DOWN
    assert result.reason == f"connection refused by 127.0.0.1:{port}"


def test_a_page_that_never_comes_times_out(raw_pages: RawPages) -> None:
    result = Scraper(raw_pages.url("/hang"), "up", timeout_s=0.25).scrape()
    assert result.ok_state is ProbeOutcome.DOWN
    assert result.reason == "timeout after 0.25 s"


# ---- selectors -------------------------------------------------------------------------------


def test_selector_text_round_trips() -> None:
    text = 'http_requests_total{code=~"5..",method!="GET",path="/a \\"b\\" \\\\c",le!~"x"}'
    selector = MetricSelector.parse(text)
    assert selector.name == "http_requests_total"
    assert selector.matchers == (
        LabelMatcher("code", MatchOp.REGEX, "5.."),
        LabelMatcher("method", MatchOp.NOT_EQUAL, "GET"),
        LabelMatcher("path", MatchOp.EQUAL, '/a "b" \\c'),
        LabelMatcher("le", MatchOp.NOT_REGEX, "x"),
    )
    assert selector.text() == text
    assert MetricSelector.parse(" up { } ").text() == "up"


@pytest.mark.parametrize(
    "text", ["", "9lives", 'up{code="5"', "up{code=5}", 'up{code="5",,}', 'up{code=~"("}', "up{} x"]
)
def test_bad_selectors_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        MetricSelector.parse(text)


def test_a_missing_label_matches_the_empty_string() -> None:
    assert LabelMatcher("env", MatchOp.EQUAL, "").matches({"job": "x"})
    assert not LabelMatcher("env", MatchOp.NOT_EQUAL, "").matches({"job": "x"})
    assert LabelMatcher("env", MatchOp.REGEX, "prod|").matches({})


def test_the_state_cannot_be_changed() -> None:
    state = ScrapeState(1.0, {})
    with pytest.raises(TypeError):
        state.counters["x"] = None  # type: ignore[index]
