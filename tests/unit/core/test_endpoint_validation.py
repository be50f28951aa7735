"""Endpoints in the estate: validation, references, codec round trips and import planning."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from console.core import codec
from console.core.deviation import BandMethod, DeviationConfig, Seasonality, Side
from console.core.diff import plan
from console.core.endpoints import (
    Endpoint,
    HeartbeatTarget,
    HttpTarget,
    LogfileTarget,
    MetricSpec,
    NagiosTarget,
    PrometheusTarget,
    ScrapeTarget,
    Target,
    TcpTarget,
)
from console.core.enums import Discipline, EntityKind, ImpactTier
from console.core.errors import Problem
from console.core.events import DELETED, UPSERTED, EventType
from console.core.models import Estate, Service, Team
from console.core.references import SECTION, check_entity, kind_of, referrers
from console.core.thresholds import StaticThresholds
from console.core.units import Unit
from console.core.validation import validate_estate

TEAM = Team("web", "Web", Discipline.DEVELOPMENT)
API = Service("api", "API", "web", ImpactTier.TIER_1)
DB = Service("db", "DB", "web", ImpactTier.TIER_1)
HEALTH = Endpoint(
    "api-health",
    "API health",
    "api",
    HttpTarget(
        "https://api.example.com/health",
        headers=(("X-B", "2"), ("Accept", "application/json")),
        expect_status=(200,),
        regex="ok|fine",
    ),
    interval_s=15.0,
    timeout_s=2.5,
    jitter_s=1.5,
    credential="api-token",
    metrics=(
        MetricSpec(
            "response_time_ms",
            "response time",
            Unit.MILLISECONDS,
            thresholds=StaticThresholds.above(warning=300, critical=900, for_seconds=30),
            deviation=DeviationConfig(
                method=BandMethod.MEDIAN_MAD,
                k=4,
                warning_k=3,
                side=Side.ABOVE,
                seasonality=Seasonality.WEEKLY,
                seasons=2,
                tolerance=600,
                min_deviation=20,
                keep_firing_for=120,
            ),
        ),
        MetricSpec(
            "json_value",
            "queue",
            thresholds=StaticThresholds.outside(warning=(1, 90), critical=(0, 100)),
        ),
    ),
)
DB_PORT = Endpoint("db-port", "DB port", "db", TcpTarget("db1.example.com", 5432))


def estate(*endpoints: Endpoint) -> Estate:
    return Estate(teams=(TEAM,), services=(API, DB), endpoints=endpoints)


def problems(*endpoints: Endpoint) -> list[Problem]:
    return validate_estate(estate(*endpoints))


# ---- validation --------------------------------------------------------------------------------


def test_a_valid_estate_with_endpoints_has_no_problems() -> None:
    assert problems(HEALTH, DB_PORT) == []


def test_key_name_credential_and_metric_key_are_checked() -> None:
    bad = replace(
        DB_PORT,
        key="DB Port",
        name=" ",
        credential="",
        metrics=(MetricSpec("", "empty key"),),
    )
    assert problems(bad) == [
        Problem(
            "endpoints[0].id", "expected a slug (lowercase letters, digits, '-'), got 'DB Port'"
        ),
        Problem("endpoints[0].name", "must not be empty"),
        Problem("endpoints[0].credential", "must name a keyring entry"),
        Problem("endpoints[0].metrics[0].metric", "must not be empty"),
    ]


def test_the_owning_service_must_exist_and_ids_must_be_unique() -> None:
    assert problems(DB_PORT, replace(HEALTH, service="ghost"), replace(HEALTH, name="Again")) == [
        Problem("endpoints[2].id", "duplicate id 'api-health' (also endpoints[1])"),
        Problem("endpoints[1].service", "unknown service 'ghost'"),
    ]


def test_timing_rules_come_from_the_endpoint_record() -> None:
    fast = replace(DB_PORT, interval_s=0.5, timeout_s=0.0, jitter_s=2.0)
    assert [p.path for p in problems(fast)] == [
        "endpoints[0].interval",
        "endpoints[0].timeout",
        "endpoints[0].jitter",
    ]


@pytest.mark.parametrize(
    ("target", "path", "message"),
    [
        (HttpTarget("https://a.example.com", method="get"), "method", "expected an HTTP method"),
        (
            HttpTarget("https://a.example.com", headers=(("Bad Name", "x"),)),
            "headers.Bad Name",
            "not a valid header name",
        ),
        (
            HttpTarget("https://a.example.com", headers=(("X-A", "one\r\nX-B: two"),)),
            "headers.X-A",
            "cannot span lines",
        ),
        (HttpTarget("https://a.example.com", expect_status=(200, 99)), "expect_status[1]", "99"),
        (HttpTarget("https://a.example.com", keyword="ok", regex="ok"), "regex", "not both"),
        (HttpTarget("https://a.example.com", regex="(unclosed"), "regex", "regular expression"),
        (HttpTarget("https://a.example.com", keyword=""), "keyword", "must not be empty"),
        (HttpTarget("https://a.example.com", json_path=" "), "json_path", "must not be empty"),
        (HttpTarget("https://a.example.com", max_redirects=31), "max_redirects", "0 to 30"),
        (HttpTarget("https://user:pw@a.example.com"), "url", "use `credential`"),
        (LogfileTarget("/var/log/a.log", "[a-"), "pattern", "regular expression"),
        (ScrapeTarget("http://h:9100/metrics", ("up", "")), "select[1]", "must not be empty"),
        (NagiosTarget(("",)), "command[0]", "must not be empty"),
        (PrometheusTarget("http://p:9090", " "), "query", "must not be empty"),
        (HeartbeatTarget(0.5), "grace", "1 second or more"),
    ],
)
def test_each_probe_kind_has_its_target_rules(target: Target, path: str, message: str) -> None:
    found = problems(replace(DB_PORT, target=target))
    kind = replace(DB_PORT, target=target).kind.value
    assert [p.path for p in found] == [f"endpoints[0].{kind}.{path}"]
    assert message in found[0].message


# ---- references ----------------------------------------------------------------------------


def test_a_service_with_endpoints_cannot_be_deleted_and_an_endpoint_always_can() -> None:
    known = estate(HEALTH, DB_PORT, replace(DB_PORT, key="db-port-2"))
    assert referrers(known, EntityKind.SERVICE, "db") == ["endpoint db-port", "endpoint db-port-2"]
    assert referrers(known, EntityKind.SERVICE, "api") == ["endpoint api-health"]
    assert referrers(known, EntityKind.ENDPOINT, "db-port") == []


def test_an_edited_endpoint_is_checked_in_context_with_paths_relative_to_it() -> None:
    known = estate(HEALTH, DB_PORT)
    assert kind_of(DB_PORT) is EntityKind.ENDPOINT and SECTION[EntityKind.ENDPOINT] == "endpoints"
    edited = replace(DB_PORT, service="gone", target=TcpTarget("db1", 0))
    assert check_entity(known, edited) == [
        Problem("tcp.port", "expected a port number from 1 to 65535"),
        Problem("service", "unknown service 'gone'"),
    ]
    assert check_entity(known, replace(DB_PORT, key="new-port")) == []


def test_endpoint_events_have_their_own_types() -> None:
    assert UPSERTED[EntityKind.ENDPOINT] is EventType.ENDPOINT_UPSERTED
    assert DELETED[EntityKind.ENDPOINT] is EventType.ENDPOINT_DELETED
    assert EventType("endpoint.upserted") is EventType.ENDPOINT_UPSERTED


# ---- codec ---------------------------------------------------------------------------------


ALL_KINDS = (
    HEALTH,
    DB_PORT,
    Endpoint("prom", "Prom", "api", PrometheusTarget("http://p:9090", 'up{job="x"}')),
    Endpoint("scrape", "Scrape", "api", ScrapeTarget("http://h/metrics", ("b", "a"))),
    Endpoint("nag", "Nag", "db", NagiosTarget(("/bin/check", "-w", "5")), enabled=False),
    Endpoint("log", "Log", "db", LogfileTarget("/var/log/x", "E"), interval_s=5.0),
    Endpoint("beat", "Beat", "db", HeartbeatTarget(90.5)),
)


@pytest.mark.parametrize("endpoint", ALL_KINDS, ids=lambda e: e.kind.value)
def test_codec_round_trips_through_json_with_sorted_keys(endpoint: Endpoint) -> None:
    # Event payloads are stored with sorted keys: nothing may depend on a mapping's order.
    stored = json.loads(json.dumps(codec.endpoint_to_dict(endpoint), sort_keys=True))
    assert codec.endpoint_from_dict(stored) == endpoint
    assert stored["kind"] == endpoint.kind.value


def test_codec_dict_names_fields_as_the_file_does() -> None:
    encoded = codec.endpoint_to_dict(HEALTH)
    assert encoded["target"]["headers"] == [["X-B", "2"], ["Accept", "application/json"]]
    assert (encoded["interval"], encoded["timeout"], encoded["jitter"]) == (15.0, 2.5, 1.5)
    metric = encoded["metrics"][0]
    assert metric["thresholds"]["for"] == 30 and metric["deviation"]["keep_firing_for"] == 120
    assert encoded["metrics"][1]["thresholds"]["warning"] == {"low": 1, "high": 90}
    assert codec.target_to_dict(HeartbeatTarget(90.5)) == {"grace": 90.5}


# ---- planning ------------------------------------------------------------------------------


def test_endpoints_are_created_after_services_and_deleted_before_them() -> None:
    created = plan(Estate(), estate(HEALTH, DB_PORT), prune=False)
    kinds = [c.kind for c in created]
    assert kinds.index(EntityKind.ENDPOINT) > max(
        i for i, k in enumerate(kinds) if k is EntityKind.SERVICE
    )
    pruned = plan(estate(HEALTH, DB_PORT), Estate(teams=(TEAM,)), prune=True)
    assert [(c.verb, c.kind, c.key) for c in pruned] == [
        ("delete", EntityKind.ENDPOINT, "db-port"),
        ("delete", EntityKind.ENDPOINT, "api-health"),
        ("delete", EntityKind.SERVICE, "db"),
        ("delete", EntityKind.SERVICE, "api"),
    ]


def test_an_unchanged_endpoint_plans_nothing_and_an_edit_plans_one_update() -> None:
    assert plan(estate(HEALTH), estate(HEALTH), prune=True) == []
    edited = replace(HEALTH, enabled=False)
    (change,) = plan(estate(HEALTH), estate(edited), prune=True)
    assert (change.verb, change.kind, change.key) == ("update", EntityKind.ENDPOINT, "api-health")
    assert change.before is not None and change.after is not None
    assert (change.before["enabled"], change.after["enabled"]) == (True, False)
