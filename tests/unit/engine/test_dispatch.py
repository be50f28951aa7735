"""From endpoint and credential to probe config; credential resolution and its failures."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from console.core.checks import CheckState
from console.core.clock import SystemClock
from console.core.endpoints import (
    HeartbeatTarget,
    HttpTarget,
    LogfileTarget,
    NagiosTarget,
    PrometheusTarget,
    ScrapeTarget,
    TcpTarget,
)
from console.engine.dispatch import (
    CREDENTIAL_ENV,
    Credential,
    CredentialCache,
    CredentialKind,
    CredentialUnavailable,
    Dispatcher,
    build_config,
    check_state,
    client_session,
    execute,
    resolve_secret,
    scrape_selectors,
)
from console.engine.scheduler import Limits
from console.probes.base import ProbeOutcome, ProbeResult
from console.probes.http import HttpProbeConfig
from console.probes.nagios import NagiosProbeConfig
from console.probes.prometheus import PrometheusProbeConfig
from console.probes.scrape import ScrapeProbeConfig
from console.secrets import Redactor, SecretStore
from keyring.backends import fail

from tests.unit.engine.support import endpoint

SECRET = "s3cr3t-Value"


def _token_file(tmp_path: Path, text: str, mode: int) -> Path:
    path = tmp_path / "token"
    path.write_text(text + "\n")
    os.chmod(path, mode)
    return path


@pytest.mark.parametrize(
    ("raw", "kind", "user", "secret"),
    [
        (SECRET, CredentialKind.BEARER, "", SECRET),
        (f"bearer:{SECRET}", CredentialKind.BEARER, "", SECRET),
        (f"basic:ops:{SECRET}:with:colons", CredentialKind.BASIC, "ops", f"{SECRET}:with:colons"),
        (f"header:X-Api-Key:{SECRET}", CredentialKind.HEADER, "X-Api-Key", SECRET),
    ],
)
def test_a_stored_value_says_how_the_credential_is_sent(
    raw: str, kind: CredentialKind, user: str, secret: str
) -> None:
    credential = Credential.parse(raw)
    assert (credential.kind, credential.user, credential.secret, credential.raw) == (
        kind,
        user,
        secret,
        raw,
    )
    assert SECRET not in repr(credential)


def test_a_malformed_stored_value_is_refused_without_quoting_it() -> None:
    with pytest.raises(ValueError, match="basic:NAME:VALUE") as caught:
        Credential.parse(f"basic:{SECRET}")
    assert SECRET not in str(caught.value)


def test_a_private_token_file_is_read_and_a_shared_one_refused(tmp_path: Path) -> None:
    path = _token_file(tmp_path, SECRET, 0o600)
    assert resolve_secret(f"file:{path}", None) == SECRET
    os.chmod(path, 0o644)
    with pytest.raises(CredentialUnavailable) as caught:
        resolve_secret(f"file:{path}", None)
    assert "chmod 600" in caught.value.reason and SECRET not in str(caught.value)
    with pytest.raises(CredentialUnavailable, match="does not exist"):
        resolve_secret(f"file:{tmp_path / 'missing'}", None)


def test_without_a_usable_keyring_a_credential_is_unavailable_with_the_reason() -> None:
    store = SecretStore(fail.Keyring(), redactor=Redactor())
    with pytest.raises(CredentialUnavailable) as caught:
        resolve_secret("shop-api", store)
    assert str(caught.value).startswith("credential shop-api unavailable: no usable keyring")
    with pytest.raises(CredentialUnavailable, match="no secret store is configured"):
        resolve_secret("shop-api", None)


def test_credentials_become_the_probe_settings_of_each_kind() -> None:
    http = endpoint("shop", HttpTarget("https://shop.example.net/health", method="head"))
    config = build_config(http, Credential.parse(f"basic:ops:{SECRET}"))
    assert isinstance(config, HttpProbeConfig)
    assert config.method.value == "HEAD" and config.basic_auth is not None
    assert config.expect_status == range(200, 400) and config.timeout_s == http.timeout_s
    keyed = build_config(http, Credential.parse(f"header:X-Api-Key:{SECRET}"))
    assert isinstance(keyed, HttpProbeConfig) and dict(keyed.secret_headers) == {
        "X-Api-Key": SECRET
    }
    prom = endpoint("prom", PrometheusTarget("http://prom.example.net:9090", "up"))
    prom_config = build_config(prom, Credential.parse(SECRET))
    assert isinstance(prom_config, PrometheusProbeConfig)
    assert prom_config.access.bearer_token == SECRET
    with pytest.raises(ValueError, match="basic or bearer credentials, not a header"):
        build_config(prom, Credential.parse(f"header:X-Api-Key:{SECRET}"))
    plugin = endpoint("disk", NagiosTarget(("/usr/lib/nagios/plugins/check_disk", "-w", "10%")))
    nagios = build_config(plugin, Credential.parse(SECRET))
    assert isinstance(nagios, NagiosProbeConfig)
    assert dict(nagios.env) == {CREDENTIAL_ENV: SECRET}
    assert SECRET not in " ".join(nagios.command)
    tcp = endpoint("ssh", TcpTarget("ssh.example.net", 22))
    assert build_config(tcp, None) == tcp.target
    assert build_config(endpoint("cron", HeartbeatTarget(60)), None) is None


def test_scrape_selectors_come_from_select_or_from_the_metric_keys() -> None:
    listed = scrape_selectors(('http_requests_total{code=~"5.."}',), [])
    assert [s.text() for s in listed] == ['http_requests_total{code=~"5.."}']
    derived = scrape_selectors(
        (),
        [
            'queue_depth{queue="orders"}',
            'rate(http_requests_total{code="500"})',
            "rate(latency_seconds_sum)",
            'histogram_quantile(0.95, rate(latency_seconds_bucket{route="/"}))',
            "histogram_quantile(0.5, rate(latency_seconds_bucket))",
        ],
    )
    assert [(s.name, s.quantiles) for s in derived] == [
        ("queue_depth", ()),
        ("http_requests_total", ()),
        ("latency_seconds", (0.5, 0.95)),
    ]
    with pytest.raises(ValueError, match="needs `select`"):
        scrape_selectors((), [])
    scrape = endpoint("page", ScrapeTarget("http://app.example.net/metrics", ("up",)))
    assert isinstance(build_config(scrape, None), ScrapeProbeConfig)


def test_the_check_state_is_the_plugin_state_or_the_probe_verdict() -> None:
    def result(outcome: ProbeOutcome, **metrics: float) -> ProbeResult:
        return ProbeResult(outcome, metrics, "r", datetime.now(UTC), 0.0)

    http = endpoint("shop", HttpTarget("http://shop.example.net/"))
    plugin = endpoint("disk", NagiosTarget(("check_disk",)))
    assert check_state(http, result(ProbeOutcome.UP)) is CheckState.OK
    assert check_state(http, result(ProbeOutcome.DOWN)) is CheckState.CRITICAL
    assert check_state(http, result(ProbeOutcome.UNKNOWN)) is CheckState.UNKNOWN
    assert check_state(plugin, result(ProbeOutcome.UP, state=1.0)) is CheckState.WARNING
    assert check_state(plugin, result(ProbeOutcome.UNKNOWN, state=3.0)) is CheckState.UNKNOWN


def test_a_check_that_cannot_run_is_unknown_with_its_reason(tmp_path: Path) -> None:
    clock = SystemClock()
    bad_regex = endpoint("logs", LogfileTarget(str(tmp_path / "app.log"), "(unclosed"))
    needs_secret = endpoint("api", TcpTarget("127.0.0.1", 9), credential="api-token")

    async def main() -> tuple[ProbeResult, ProbeResult]:
        async with client_session(Limits()) as session:
            dispatcher = Dispatcher(session, clock)
            cache = CredentialCache(SecretStore(fail.Keyring(), redactor=Redactor()))
            invalid = await execute(bad_regex, dispatcher.run, cache, clock)
            locked_out = await execute(needs_secret, dispatcher.run, cache, clock)
            return invalid, locked_out

    invalid, locked_out = asyncio.run(main())
    assert invalid.ok_state is ProbeOutcome.UNKNOWN
    assert invalid.reason.startswith("invalid configuration: bad regex '(unclosed'")
    assert locked_out.ok_state is ProbeOutcome.UNKNOWN
    assert locked_out.reason.startswith("credential api-token unavailable: no usable keyring")


def test_the_dispatcher_keeps_a_log_file_position_between_checks(tmp_path: Path) -> None:
    log_file = tmp_path / "app.log"
    log_file.write_text("ERROR before the engine started\n")
    logs = endpoint("logs", LogfileTarget(str(log_file), "ERROR"))
    clock = SystemClock()

    async def main() -> list[ProbeResult]:
        async with client_session(Limits()) as session:
            dispatcher = Dispatcher(session, clock)
            first = await dispatcher.run(logs, None)
            with log_file.open("a") as out:
                out.write("INFO fine\nERROR disk full\nERROR disk still full\n")
            second = await dispatcher.run(logs, None)
            dispatcher.forget("logs")
            third = await dispatcher.run(logs, None)  # forgotten: starts at the end again
            return [first, second, third]

    first, second, third = asyncio.run(main())
    assert first.metrics["matches"] == 0  # like tail -f: what was there is skipped
    assert (second.metrics["matches"], second.metrics["lines"]) == (2, 3)
    assert third.metrics["matches"] == 0
