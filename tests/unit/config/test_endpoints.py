"""The `endpoints:` section: typed records, canonical export, and every problem at its place."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from console.config.demo import SIMULATOR_PLACEHOLDER, demo_estate
from console.config.emitter import dump
from console.config.errors import ConfigError, ConfigProblem
from console.config.loader import load_text
from console.core.clock import FakeClock
from console.core.deviation import BandMethod, DeviationConfig, Seasonality, Side
from console.core.endpoints import (
    Endpoint,
    HeartbeatTarget,
    HttpTarget,
    LogfileTarget,
    MetricSpec,
    NagiosTarget,
    PrometheusTarget,
    ScrapeTarget,
    TcpTarget,
)
from console.core.thresholds import Direction, StaticThresholds
from console.core.units import Unit
from console.probes.prometheus import series_name
from console.simulator.catalogue import DEMO_CATALOGUE
from console.store import estate as stored
from console.store.db import Store
from console.store.entities import import_estate

# Seven lines: the first endpoint starts on line 8.
BASE = """\
version: 1
teams:
  - {id: web, name: Web, discipline: development}
services:
  - {id: payments-api, name: Payments API, team: web, tier: 1}
  - {id: db, name: Database, team: web, tier: 1}
endpoints:
"""

EXAMPLE = """\
  - id: payments-api-health
    name: Payments API health
    service: payments-api
    interval: 30            # seconds, >= 1
    timeout: 5              # seconds
    jitter: 2               # seconds (optional)
    credential: payments-api-token   # optional keyring entry NAME
    enabled: true           # optional
    http:
      url: https://payments.example.com/health
      method: GET
      headers: {Accept: application/json}
      expect_status: [200, 204]
      json_path: checks.db.latency_ms
      keyword: ok
      verify_tls: true
      max_redirects: 5
    metrics:
      - metric: response_time_ms
        name: response time
        unit: ms
        thresholds: {direction: above, warning: 500, critical: 1500, for: 60, hysteresis: 50,
                     keep_firing_for: 0}
        deviation: {method: mean_sigma, k: 3, warning_k: 2, window: 3600, side: above,
                    min_samples: 20, min_span: 600, min_deviation: 50,
                    seasonality: daily, seasons: 4, tolerance: 900, for: 120, keep_firing_for: 0}
      - metric: up
        thresholds: {direction: outside, warning: {low: 10, high: 90},
                     critical: {low: 0.5, high: 99.5}}
"""


def load(body: str) -> tuple[Endpoint, ...]:
    return load_text(BASE + body, "test.yaml").endpoints


def problems_in(body: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        load_text(BASE + body, "test.yaml")
    return caught.value.problems


def where(problems: list[ConfigProblem]) -> list[tuple[int, int, str]]:
    return [(p.line, p.column, p.path) for p in problems]


def endpoint(kind: str, *fields: str) -> str:
    """One endpoint of the given probe kind line (already indented), on service db."""
    extra = "".join(f"    {f}\n" for f in fields)
    return f"  - id: probe\n    name: Probe\n    service: db\n{extra}    {kind}\n"


# ---- reading ---------------------------------------------------------------------------------


def test_the_documented_example_reads_into_typed_records() -> None:
    (read,) = load(EXAMPLE)
    assert read == Endpoint(
        key="payments-api-health",
        name="Payments API health",
        service="payments-api",
        target=HttpTarget(
            url="https://payments.example.com/health",
            headers=(("Accept", "application/json"),),
            expect_status=(200, 204),
            json_path="checks.db.latency_ms",
            keyword="ok",
        ),
        interval_s=30.0,
        timeout_s=5.0,
        jitter_s=2.0,
        credential="payments-api-token",
        metrics=(
            MetricSpec(
                "response_time_ms",
                "response time",
                Unit.MILLISECONDS,
                thresholds=StaticThresholds.above(
                    warning=500, critical=1500, hysteresis=50, for_seconds=60
                ),
                deviation=DeviationConfig(
                    k=3,
                    warning_k=2,
                    side=Side.ABOVE,
                    min_deviation=50,
                    seasonality=Seasonality.DAILY,
                    for_seconds=120,
                ),
            ),
            MetricSpec(
                "up",
                "up",
                thresholds=StaticThresholds.outside(warning=(10, 90), critical=(0.5, 99.5)),
            ),
        ),
    )
    assert isinstance(read.interval_s, float) and isinstance(read.metrics[1].name, str)


@pytest.mark.parametrize(
    ("line", "target"),
    [
        ("tcp: {host: db1.example.com, port: 5432}", TcpTarget("db1.example.com", 5432)),
        (
            "prometheus: {url: 'http://prometheus:9090', query: 'up{job=\"api\"}'}",
            PrometheusTarget("http://prometheus:9090", 'up{job="api"}'),
        ),
        (
            "scrape: {url: 'http://host:9100/metrics', select: [node_load1]}",
            ScrapeTarget("http://host:9100/metrics", ("node_load1",)),
        ),
        (
            "nagios: {command: [/usr/lib/nagios/plugins/check_load, -w, 5, -c, 10.5]}",
            NagiosTarget(("/usr/lib/nagios/plugins/check_load", "-w", "5", "-c", "10.5")),
        ),
        (
            "logfile: {path: /var/log/app.log, pattern: 'ERROR|FATAL'}",
            LogfileTarget("/var/log/app.log", "ERROR|FATAL"),
        ),
        ("heartbeat: {grace: 300}", HeartbeatTarget(300.0)),
    ],
)
def test_every_probe_kind_reads_into_its_target(line: str, target: object) -> None:
    (read,) = load(endpoint(line))
    assert read.target == target
    # Left out, the timing fields take the record's defaults.
    assert (read.interval_s, read.timeout_s, read.jitter_s, read.enabled) == (60, 10, 0, True)


def test_a_metric_name_defaults_to_its_key_and_an_empty_band_to_the_defaults() -> None:
    (read,) = load(endpoint("heartbeat: {grace: 60}", "metrics: [{metric: up, deviation: {}}]"))
    assert read.metrics == (MetricSpec("up", "up", deviation=DeviationConfig()),)


# ---- canonical export ------------------------------------------------------------------------


def test_canonical_export_leaves_defaults_out_but_writes_false_flags() -> None:
    text = dump(
        load_text(
            BASE
            + endpoint(
                "http: {url: 'https://x.example.com/', method: GET, verify_tls: false}",
                "interval: 60.0",
                "enabled: false",
                "metrics: [{metric: up, name: up, unit: none, deviation: {k: 3.0, window: 3600}}]",
            )
        )
    )
    assert text.endswith(
        "endpoints:\n"
        "  - id: probe\n"
        "    name: Probe\n"
        "    service: db\n"
        "    enabled: false\n"
        "    http:\n"
        "      url: https://x.example.com/\n"
        "      verify_tls: false\n"
        "    metrics:\n"
        "      - metric: up\n"
        "        deviation:\n"
        "          method: mean_sigma\n"
    )


def test_whole_numbers_are_written_as_integers_and_fractions_kept() -> None:
    text = dump(load_text(BASE + EXAMPLE))
    assert "    interval: 30\n" in text and "30.0" not in text
    assert "            low: 0.5\n            high: 99.5\n" in text


def test_export_import_export_is_byte_identical_for_every_probe_kind(tmp_path: Path) -> None:
    body = EXAMPLE + "".join(
        endpoint(line).replace("id: probe", f"id: probe-{i}")
        for i, line in enumerate(
            [
                "tcp: {host: db1.example.com, port: 5432}",
                "prometheus: {url: 'http://p:9090', query: 'sum(rate(x[5m])) > 0.5'}",
                "scrape: {url: 'http://h:9100/metrics', select: ['a{b=\"c\"}', d]}",
                "nagios: {command: [/bin/check, -w, 5, '-c', 'yes']}",
                "logfile: {path: /var/log/a.log, pattern: '^E'}",
                "heartbeat: {grace: 90.5}",
            ]
        )
    )
    declared = load_text(BASE + body)
    first = dump(declared)
    assert load_text(first) == declared.sorted()
    assert dump(load_text(first)) == first
    with Store.open(tmp_path / "s.db", FakeClock()) as store:
        import_estate(store, load_text(first), prune=False, source="test")
        from_store = dump(stored.load(store.read()))
    assert from_store == first


def test_header_order_survives_export_and_the_store(tmp_path: Path) -> None:
    headers = "headers: {X-Zeta: '1', Accept: text/plain, X-Alpha: 'two words'}"
    declared = load_text(BASE + endpoint(f"http: {{url: 'https://a.example.com', {headers}}}"))
    with Store.open(tmp_path / "s.db", FakeClock()) as store:
        import_estate(store, declared, prune=False, source="test")
        (back,) = stored.endpoints(store.read())
    assert isinstance(back.target, HttpTarget)
    assert [name for name, _ in back.target.headers] == ["X-Zeta", "Accept", "X-Alpha"]
    assert dump(load_text(dump(declared))) == dump(declared)


# ---- structural problems ---------------------------------------------------------------------


def test_unknown_fields_are_named_with_the_allowed_ones_and_a_suggestion() -> None:
    problems = problems_in(
        endpoint("http: {url: 'https://a.example.com', methd: GET}", "intervall: 30")
    )
    assert where(problems) == [
        (11, 5, "endpoints[0].intervall"),
        (12, 42, "endpoints[0].http.methd"),
    ]
    assert "unknown field 'intervall' in an endpoint; allowed: id, name, service" in str(
        problems[0]
    )
    assert problems[0].message.endswith("did you mean 'interval'?")
    assert problems[1].message.endswith("did you mean 'method'?")


def test_wrong_types_are_reported_with_hints() -> None:
    problems = problems_in(
        endpoint(
            "tcp: {host: db1, port: '5432'}",
            "interval: '30'",
            "enabled: 'no'",
            "metrics: {metric: up}",
        )
    )
    assert where(problems) == [
        (11, 15, "endpoints[0].interval"),
        (12, 14, "endpoints[0].enabled"),
        (13, 14, "endpoints[0].metrics"),
        (14, 28, "endpoints[0].tcp.port"),
    ]
    assert "expected a number, got a string ('30'); write the number without quotes" in str(
        problems[0]
    )
    assert "expected true or false" in problems[1].message
    assert "expected a list of metrics, got a mapping" in problems[2].message
    assert "expected an integer, got a string ('5432')" in problems[3].message


def test_an_endpoint_without_a_probe_kind_is_reported_at_the_endpoint() -> None:
    (problem,) = problems_in("  - id: lost\n    name: Lost\n    service: db\n")
    assert (problem.line, problem.column, problem.path) == (8, 5, "endpoints[0]")
    assert problem.message == (
        "an endpoint needs exactly one probe kind (http, tcp, prometheus, scrape, nagios, "
        "logfile, heartbeat); found none"
    )


def test_two_probe_kinds_are_one_problem_at_the_endpoint() -> None:
    body = endpoint("tcp: {host: a, port: 1}", "heartbeat: {grace: 0}")
    (problem,) = problems_in(body)
    assert (problem.line, problem.path) == (8, "endpoints[0]")
    # The second kind is not read at all: its bad grace would only add noise.
    assert problem.message.endswith("found tcp and heartbeat")


def test_invalid_enum_values_list_the_allowed_ones() -> None:
    body = endpoint(
        "heartbeat: {grace: 60}",
        "metrics:",
        "  - {metric: a, unit: msec}",
        "  - {metric: b, thresholds: {direction: upward, critical: 1}}",
        "  - {metric: c, deviation: {method: mean-sigma, seasonality: hourly}}",
    )
    problems = problems_in(body)
    assert [p.path for p in problems] == [
        "endpoints[0].metrics[0].unit",
        "endpoints[0].metrics[1].thresholds.direction",
        "endpoints[0].metrics[2].deviation.method",
        "endpoints[0].metrics[2].deviation.seasonality",
    ]
    assert problems[0].message == (
        "invalid unit 'msec'; allowed: none, ms, s, percent, bytes, per_second, days; "
        "did you mean 'ms'?"
    )
    assert "allowed: above, below, outside" in problems[1].message
    assert problems[2].message.endswith(
        "allowed: mean_sigma, median_mad; did you mean 'mean_sigma'?"
    )
    assert "allowed: none, daily, weekly" in problems[3].message
    assert [p.line for p in problems] == [12, 13, 14, 14]


def test_threshold_rules_are_reported_at_the_level_that_breaks_them() -> None:
    body = endpoint(
        "heartbeat: {grace: 60}",
        "metrics:",
        "  - {metric: a, thresholds: {direction: above, warning: 90, critical: 80}}",
        "  - {metric: b, thresholds: {direction: below}}",
        "  - {metric: c, thresholds: {direction: outside, critical: 5}}",
        "  - {metric: d, thresholds: {direction: above, critical: {low: 1, high: 2}}}",
        "  - {metric: e, thresholds: {direction: outside, critical: {low: 9, high: 1}}}",
        "  - {metric: f, thresholds: {direction: above, critical: 1, for: -5}}",
    )
    problems = problems_in(body)
    assert [(p.line, p.path, p.message) for p in problems] == [
        (
            12,
            "endpoints[0].metrics[0].thresholds.warning",
            "must not be above the critical level",
        ),
        (
            13,
            "endpoints[0].metrics[1].thresholds",
            "a threshold needs a warning or a critical level",
        ),
        (
            14,
            "endpoints[0].metrics[2].thresholds.critical",
            "direction outside takes a range for each level: {low: 10, high: 90}",
        ),
        (
            15,
            "endpoints[0].metrics[3].thresholds.critical",
            "expected a number for direction above; a range {low, high} is for outside",
        ),
        (16, "endpoints[0].metrics[4].thresholds.critical", "low (9) is above high (1)"),
        (17, "endpoints[0].metrics[5].thresholds.for", "must be a number of at least 0"),
    ]
    # Each at the offending value itself, not at the start of its line.
    assert problems[0].column == body.splitlines()[4].index("90") + 1


def test_deviation_rules_are_reported_under_the_names_the_file_uses() -> None:
    body = endpoint(
        "heartbeat: {grace: 60}",
        "metrics:",
        "  - {metric: a, deviation: {k: 2, warning_k: 3}}",
        "  - {metric: b, deviation: {seasonality: daily, tolerance: 50000}}",
        "  - {metric: c, deviation: {min_samples: 1, for: -1}}",
        "  - {metric: d, deviation: {window: 300}}",
    )
    problems = problems_in(body)
    assert [(p.line, p.path.rsplit(".", 1)[-1], p.message) for p in problems] == [
        (12, "warning_k", "must be above 0 and below k"),
        (13, "tolerance", "must be less than half the season's period"),
        (14, "min_samples", "must be at least 2"),
        (14, "for", "must be a number of at least 0"),
        (15, "deviation", "is longer than the history the baseline keeps"),
    ]


# ---- the domain's rules, mapped back to positions ----------------------------------------------


def test_ranges_and_references_point_at_the_value() -> None:
    body = (
        "  - id: Bad_Id\n"
        "    name: Probe\n"
        "    service: nowhere\n"
        "    interval: 0.5\n"
        "    tcp: {host: db1, port: 70000}\n"
        "  - id: web\n"
        "    name: Web\n"
        "    service: db\n"
        "    http: {url: 'ftp://a.example.com', expect_status: [200, 700], regex: '(['}\n"
        "  - id: web\n"
        "    name: Web again\n"
        "    service: db\n"
        "    heartbeat: {grace: 0.5}\n"
    )
    problems = problems_in(body)
    assert where(problems) == [
        (8, 9, "endpoints[0].id"),
        (10, 14, "endpoints[0].service"),
        (11, 15, "endpoints[0].interval"),
        (12, 28, "endpoints[0].tcp.port"),
        (16, 17, "endpoints[1].http.url"),
        (16, 61, "endpoints[1].http.expect_status[1]"),
        (16, 74, "endpoints[1].http.regex"),
        (17, 9, "endpoints[2].id"),
        (20, 24, "endpoints[2].heartbeat.grace"),
    ]
    messages = [p.message for p in problems]
    assert "unknown service 'nowhere'" in messages
    assert "must be 1 second or more" in messages
    assert "expected a port number from 1 to 65535" in messages
    assert "700 is not an HTTP status code" in messages
    assert "duplicate id 'web' (also endpoints[1])" in messages


def test_a_broken_interval_does_not_also_blame_the_timeout_and_jitter() -> None:
    (problem,) = problems_in(endpoint("heartbeat: {grace: 60}", "interval: soon", "jitter: 5"))
    assert problem.path == "endpoints[0].interval"


# ---- the demo ----------------------------------------------------------------------------------


def test_demo_endpoints_cover_most_services_and_aim_at_the_placeholder() -> None:
    estate = demo_estate()
    services = {s.key for s in estate.services}
    covered = {e.service for e in estate.endpoints}
    assert covered <= services and len(covered) >= 0.75 * len(services)
    for e in estate.endpoints:
        target = e.target
        if isinstance(target, HttpTarget | ScrapeTarget):
            assert target.url.startswith(SIMULATOR_PLACEHOLDER + "/")
        else:
            assert isinstance(target, TcpTarget) and target.host == "simulator.demo.invalid"


def test_demo_metrics_have_the_agreed_thresholds_and_bands() -> None:
    specs = [m for e in demo_estate().endpoints for m in e.metrics]
    latency = [m for m in specs if m.name == "p95 latency"]
    errors = [m for m in specs if m.name == "error ratio"]
    disks = [m for m in specs if m.name.endswith("disk used")]
    queues = [m for m in specs if m.name.endswith("consumer lag")]
    assert len(latency) >= 10 and len(errors) >= 12 and len(disks) >= 5 and len(queues) >= 4
    for m in latency:
        assert m.deviation is not None and m.unit is Unit.MILLISECONDS
        assert m.deviation.method is BandMethod.MEAN_SIGMA
        assert m.deviation.seasonality is Seasonality.DAILY
    for m in errors:
        assert m.thresholds is not None
        assert (m.thresholds.warning, m.thresholds.critical) == (0.02, 0.05)
    for m in disks:
        assert m.thresholds is not None and m.thresholds.direction is Direction.ABOVE
        assert (m.thresholds.warning, m.thresholds.critical) == (80, 90)
        assert m.unit is Unit.PERCENT
    for m in queues:
        assert m.deviation is not None and m.deviation.method is BandMethod.MEDIAN_MAD


def test_demo_scrape_metrics_are_series_the_simulator_serves() -> None:
    served = {series_name(key.name, key.labels) for key in DEMO_CATALOGUE.series()}
    scraped = [
        m.metric
        for e in demo_estate().endpoints
        if isinstance(e.target, ScrapeTarget)
        for m in e.metrics
    ]
    assert scraped and set(scraped) <= served
    health = {
        e.target.url.rsplit("/", 1)[-1]
        for e in demo_estate().endpoints
        if isinstance(e.target, HttpTarget)
    }
    assert health <= {s.id for s in DEMO_CATALOGUE.services}


def test_demo_estate_aims_every_endpoint_at_a_given_simulator() -> None:
    placeholders = demo_estate()
    aimed = demo_estate("http://127.0.0.1:41234/")
    assert len(aimed.endpoints) == len(placeholders.endpoints)
    for before, after in zip(placeholders.endpoints, aimed.endpoints, strict=True):
        target = after.target
        if isinstance(target, TcpTarget):
            assert (target.host, target.port) == ("127.0.0.1", 41234)
        else:
            assert isinstance(target, HttpTarget | ScrapeTarget)
            assert target.url.startswith("http://127.0.0.1:41234/")
            assert isinstance(before.target, HttpTarget | ScrapeTarget)
            assert target.url.removeprefix("http://127.0.0.1:41234") == (
                before.target.url.removeprefix(SIMULATOR_PLACEHOLDER)
            )
        assert replace(after, target=before.target) == before
    # The simulated pager (the demo's one delivery channel) is aimed there too.
    assert placeholders.delivery is not None and aimed.delivery is not None
    (pager,) = aimed.delivery.webhooks
    assert pager.url == "http://127.0.0.1:41234/pager"
    assert placeholders.delivery.webhooks[0].url == SIMULATOR_PLACEHOLDER + "/pager"
    same = replace(aimed, endpoints=placeholders.endpoints, delivery=placeholders.delivery)
    assert same == placeholders


@pytest.mark.parametrize(
    "base", ["127.0.0.1:41234", "http://127.0.0.1", "http://127.0.0.1:41234/api", "ftp://h:1"]
)
def test_demo_estate_refuses_a_base_that_is_not_a_simulator_address(base: str) -> None:
    with pytest.raises(ValueError, match="simulator's base URL"):
        demo_estate(base)
