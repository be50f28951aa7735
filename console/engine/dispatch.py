"""From an endpoint and its resolved credential to the right probe call, and back to facts.

Credentials are named by ``Endpoint.credential``: a keyring entry, or ``file:/path`` for a token
file that only its owner can read (headless machines without a keyring). The stored value says
how it is sent:

- ``basic:USER:PASSWORD``: HTTP basic auth;
- ``header:NAME:VALUE``: one request header (an API key), http endpoints only;
- ``bearer:TOKEN`` or any other value: a bearer token (heartbeats compare it, too).

A Nagios plugin gets the whole value in the environment variable ``ONCALL_CONSOLE_CREDENTIAL``
(never on its command line, which every user of the machine can read).

Probes keep nothing between checks; what a scrape (counter readings for rates) or a log file
(where reading stopped) needs from the previous check is kept here, per endpoint.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

import aiohttp

from console import __version__
from console.core.checks import CheckState, nagios_state
from console.core.clock import Clock
from console.core.endpoints import (
    Endpoint,
    HttpTarget,
    LogfileTarget,
    NagiosTarget,
    ProbeKind,
    PrometheusTarget,
    ScrapeTarget,
    TcpTarget,
)
from console.core.units import format_duration
from console.engine.scheduler import Limits
from console.probes.base import ProbeOutcome, ProbeResult, Stopwatch
from console.probes.http import BasicAuth, HttpMethod, HttpProbeConfig, probe_http
from console.probes.logfile import LogfileProbeConfig, LogFollowState, probe_logfile
from console.probes.nagios import NagiosProbeConfig, probe_nagios
from console.probes.prometheus import HttpAccess, PrometheusProbeConfig, probe_prometheus
from console.probes.scrape import MetricSelector, ScrapeProbeConfig, ScrapeState, probe_scrape
from console.probes.tcp import probe_tcp
from console.secrets import SecretsError, read_token_file

CREDENTIAL_ENV = "ONCALL_CONSOLE_CREDENTIAL"
TOKEN_FILE_PREFIX = "file:"
#: A resolved credential is reused this long, so a busy engine does not query the keyring for
#: every check; a changed secret is picked up within this time.
CREDENTIAL_TTL_S = 10.0
#: A check is abandoned this long after its own timeout (the probes keep their deadlines;
#: this only guards against one that does not).
TIMEOUT_GRACE_S = 2.0
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_QUANTILE = re.compile(r"histogram_quantile\(\s*([0-9.eE+-]+)\s*,")


class CredentialKind(Enum):
    """How a credential is sent."""

    BEARER = "bearer"
    BASIC = "basic"
    HEADER = "header"


@dataclass(frozen=True, slots=True)
class Credential:
    """A resolved credential: what a probe sends (its values never appear in a repr).

    Attributes:
        kind: How it is sent.
        secret: The token, password or header value.
        user: The basic auth login, or the header's name.
        raw: The whole stored value (what a Nagios plugin receives).
    """

    kind: CredentialKind
    secret: str = field(repr=False)
    user: str = ""
    raw: str = field(default="", repr=False)

    @classmethod
    def parse(cls, raw: str) -> Credential:
        """Read a stored value (see the module docstring for the forms).

        Raises:
            ValueError: A ``basic:`` or ``header:`` value without its separator; the message
                never quotes the value.
        """
        prefix, _, rest = raw.partition(":")
        if prefix in ("basic", "header"):
            user, sep, secret = rest.partition(":")
            if not sep or not user:
                raise ValueError(f"a {prefix} credential is written {prefix}:NAME:VALUE")
            kind = CredentialKind.BASIC if prefix == "basic" else CredentialKind.HEADER
            return cls(kind, secret, user.strip() if prefix == "header" else user, raw)
        if prefix == "bearer":
            return cls(CredentialKind.BEARER, rest, raw=raw)
        return cls(CredentialKind.BEARER, raw, raw=raw)


class SecretSource(Protocol):
    """Where named secrets come from (``console.secrets.SecretStore``)."""

    def get(self, name: str) -> str | None:
        """The value stored under name, or None."""
        ...


class CredentialUnavailable(Exception):
    """A credential could not be resolved; ``reason`` says why (never the value)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"credential {name} unavailable: {reason}")
        self.name = name
        self.reason = reason


def resolve_secret(name: str, secrets: SecretSource | None) -> str:
    """The value of a credential reference (blocking: keyring calls and file reads).

    Raises:
        CredentialUnavailable: No keyring, no such entry, or a refused token file.
    """
    if name.startswith(TOKEN_FILE_PREFIX):
        try:
            return read_token_file(name[len(TOKEN_FILE_PREFIX) :])
        except SecretsError as exc:
            raise CredentialUnavailable(name, str(exc)) from None
    if secrets is None:
        raise CredentialUnavailable(name, "no secret store is configured for this engine")
    try:
        value = secrets.get(name)
    except SecretsError as exc:
        raise CredentialUnavailable(name, str(exc)) from None
    if value is None:
        raise CredentialUnavailable(name, f"no secret named {name!r} in the keyring")
    return value


class CredentialCache:
    """Resolves credentials off the event loop and keeps them briefly (see CREDENTIAL_TTL_S)."""

    def __init__(self, secrets: SecretSource | None, ttl_s: float = CREDENTIAL_TTL_S) -> None:
        self._secrets = secrets
        self._ttl = ttl_s
        self._values: dict[str, tuple[float, str]] = {}

    async def get(self, name: str) -> str:
        """The credential's value.

        Raises:
            CredentialUnavailable: As ``resolve_secret``.
        """
        now = time.monotonic()
        cached = self._values.get(name)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        value = await asyncio.to_thread(resolve_secret, name, self._secrets)
        self._values[name] = (now, value)
        return value

    async def credential(self, name: str) -> Credential:
        """The credential, parsed.

        Raises:
            CredentialUnavailable: Unresolvable, or a malformed stored value.
        """
        raw = await self.get(name)
        try:
            return Credential.parse(raw)
        except ValueError as exc:
            raise CredentialUnavailable(name, str(exc)) from None


def client_session(limits: Limits) -> aiohttp.ClientSession:
    """The engine's one HTTP session: keep-alive, no cookies, connections within the caps."""
    connector = aiohttp.TCPConnector(
        limit=limits.global_cap, limit_per_host=limits.per_host_cap, keepalive_timeout=30
    )
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        headers={"User-Agent": f"oncall-console/{__version__}"},
        timeout=aiohttp.ClientTimeout(total=None),  # every probe sets its own deadline
    )


def failed_result(clock: Clock, reason: str) -> ProbeResult:
    """An UNKNOWN result for a check that could not run at all."""
    return Stopwatch(clock).result(ProbeOutcome.UNKNOWN, reason, {})


_OUTCOME_STATE = {
    ProbeOutcome.UP: CheckState.OK,
    ProbeOutcome.DOWN: CheckState.CRITICAL,
    ProbeOutcome.UNKNOWN: CheckState.UNKNOWN,
}


def check_state(endpoint: Endpoint, result: ProbeResult) -> CheckState:
    """The endpoint's own check state: a plugin's exit state, else the probe's verdict."""
    if endpoint.kind is ProbeKind.NAGIOS and "state" in result.metrics:
        return nagios_state(int(result.metrics["state"]))
    return _OUTCOME_STATE[result.ok_state]


ProbeFn = Callable[[Endpoint, Credential | None], Awaitable[ProbeResult]]


async def execute(
    endpoint: Endpoint, probe: ProbeFn, credentials: CredentialCache, clock: Clock
) -> ProbeResult:
    """Resolve the endpoint's credential and run its probe, all under the check's deadline."""
    budget = endpoint.timeout_s + TIMEOUT_GRACE_S
    try:
        async with asyncio.timeout(budget):
            credential = None
            if endpoint.credential is not None:
                credential = await credentials.credential(endpoint.credential)
            return await probe(endpoint, credential)
    except CredentialUnavailable as exc:
        return failed_result(clock, str(exc))
    except TimeoutError:
        return failed_result(clock, f"the check did not finish within {format_duration(budget)}")


@dataclass(slots=True)
class _Memory:
    """What one endpoint's next check needs from its last one."""

    scrape: ScrapeState | None = None
    logfile: LogFollowState | None = None


class Dispatcher:
    """Runs endpoints' checks with the shared session, keeping per-endpoint probe memory.

    Configs are built once per (endpoint, credential) and reused, so a check costs only the
    probe itself. An endpoint whose settings no probe accepts gets an UNKNOWN result naming
    the problem instead of an exception.
    """

    def __init__(self, session: aiohttp.ClientSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock
        self._memory: dict[str, _Memory] = {}
        self._configs: dict[str, tuple[Endpoint, Credential | None, object]] = {}

    def forget(self, key: str) -> None:
        """Drop what is kept for an endpoint that was removed."""
        self._memory.pop(key, None)
        self._configs.pop(key, None)

    async def run(self, endpoint: Endpoint, credential: Credential | None) -> ProbeResult:
        """Run one check of the endpoint (not for heartbeats, which are received)."""
        try:
            config = self._config(endpoint, credential)
        except ValueError as exc:
            return failed_result(self._clock, f"invalid configuration: {exc}")
        clock, session = self._clock, self._session
        if isinstance(config, HttpProbeConfig):
            return await probe_http(session, config, clock)
        if isinstance(config, PrometheusProbeConfig):
            return await probe_prometheus(session, config, clock)
        if isinstance(config, ScrapeProbeConfig):
            memory = self._memory_of(endpoint.key)
            result, memory.scrape = await probe_scrape(session, config, clock, memory.scrape)
            return result
        if isinstance(config, NagiosProbeConfig):
            return await probe_nagios(config, clock)
        if isinstance(config, LogfileProbeConfig):
            memory = self._memory_of(endpoint.key)
            result, memory.logfile = await probe_logfile(config, clock, memory.logfile)
            return result
        if isinstance(config, TcpTarget):
            return await probe_tcp(config.host, config.port, endpoint.timeout_s, clock)
        return failed_result(clock, "heartbeats are received by the engine, not polled")

    def _memory_of(self, key: str) -> _Memory:
        memory = self._memory.get(key)
        if memory is None:
            memory = self._memory[key] = _Memory()
        return memory

    def _config(self, endpoint: Endpoint, credential: Credential | None) -> object:
        cached = self._configs.get(endpoint.key)
        if cached is not None and cached[1] == credential:
            if cached[0] is endpoint:  # comparing a whole endpoint costs more than the rest
                return cached[2]
            if cached[0] == endpoint:  # the same endpoint, reloaded: compare by identity next
                self._configs[endpoint.key] = (endpoint, credential, cached[2])
                return cached[2]
        config = build_config(endpoint, credential)
        self._configs[endpoint.key] = (endpoint, credential, config)
        return config


def build_config(endpoint: Endpoint, credential: Credential | None) -> object:
    """The probe config for an endpoint (a TcpTarget stands for itself, None for heartbeats).

    Raises:
        ValueError: Settings the probe refuses, or a credential it cannot send.
    """
    target = endpoint.target
    if isinstance(target, HttpTarget):
        return _http_config(target, endpoint.timeout_s, credential)
    if isinstance(target, PrometheusTarget):
        access = _access(credential, verify_tls=True, kind="prometheus")
        return PrometheusProbeConfig(
            target.url, target.query, timeout_s=endpoint.timeout_s, access=access
        )
    if isinstance(target, ScrapeTarget):
        selectors = scrape_selectors(target.select, [spec.metric for spec in endpoint.metrics])
        access = _access(credential, verify_tls=True, kind="scrape")
        return ScrapeProbeConfig(target.url, selectors, timeout_s=endpoint.timeout_s, access=access)
    if isinstance(target, NagiosTarget):
        env = {CREDENTIAL_ENV: credential.raw} if credential is not None else {}
        return NagiosProbeConfig(target.command, timeout_s=endpoint.timeout_s, env=env)
    if isinstance(target, LogfileTarget):
        return LogfileProbeConfig(target.path, target.pattern)
    if isinstance(target, TcpTarget):
        return target
    return None


def _http_config(
    target: HttpTarget, timeout_s: float, credential: Credential | None
) -> HttpProbeConfig:
    try:
        method = HttpMethod(target.method.upper())
    except ValueError:
        raise ValueError(f"unsupported HTTP method {target.method!r}") from None
    auth: dict[str, object] = {}
    if credential is not None:
        if credential.kind is CredentialKind.BASIC:
            auth["basic_auth"] = BasicAuth(credential.user, credential.secret)
        elif credential.kind is CredentialKind.HEADER:
            auth["secret_headers"] = {credential.user: credential.secret}
        else:
            auth["bearer_token"] = credential.secret
    return HttpProbeConfig(
        target.url,
        method=method,
        headers=dict(target.headers),
        body=None if target.body is None else target.body.encode("utf-8"),
        timeout_s=timeout_s,
        max_redirects=target.max_redirects,
        expect_status=frozenset(target.expect_status) if target.expect_status else range(200, 400),
        json_path=target.json_path,
        keyword=target.keyword,
        regex=target.regex,
        verify_tls=target.verify_tls,
        **auth,  # type: ignore[arg-type]
    )


def _access(credential: Credential | None, *, verify_tls: bool, kind: str) -> HttpAccess:
    if credential is None:
        return HttpAccess(verify_tls=verify_tls)
    if credential.kind is CredentialKind.BASIC:
        return HttpAccess(verify_tls, basic_auth=BasicAuth(credential.user, credential.secret))
    if credential.kind is CredentialKind.HEADER:
        raise ValueError(f"a {kind} endpoint takes basic or bearer credentials, not a header")
    return HttpAccess(verify_tls, bearer_token=credential.secret)


def scrape_selectors(select: tuple[str, ...], metrics: list[str]) -> tuple[MetricSelector, ...]:
    """The selectors of a scrape: as listed, else the families the endpoint's metrics name.

    A metric key such as ``rate(http_requests_total{code="500"})`` selects the family
    ``http_requests_total``; ``histogram_quantile(0.95, rate(latency_bucket{...}))`` selects
    ``latency`` with the 0.95 quantile.

    Raises:
        ValueError: A malformed selector, or nothing to select.
    """
    if select:
        return tuple(MetricSelector.parse(text) for text in select)
    wanted: dict[str, set[float]] = {}
    for key in metrics:
        name, quantile = _family_of(key)
        if name:
            quantiles = wanted.setdefault(name, set())
            if quantile is not None:
                quantiles.add(quantile)
    if not wanted:
        raise ValueError("a scrape endpoint needs `select` or metrics naming what to extract")
    return tuple(MetricSelector(name, (), tuple(sorted(q))) for name, q in wanted.items())


def _family_of(key: str) -> tuple[str, float | None]:
    quantile_match = _QUANTILE.match(key)
    inner, rate = key, False
    while True:  # peel function calls: rate( ... ), histogram_quantile(q, ...)
        found = re.match(r"\s*([a-z_]+)\((?:\s*[0-9.eE+-]+\s*,)?\s*(.*)\)\s*$", inner, re.DOTALL)
        if found is None:
            break
        rate, inner = rate or found[1] == "rate", found[2]
    name_match = _METRIC_NAME.match(inner.strip())
    if name_match is None:
        return "", None
    name = name_match[0]
    if quantile_match is not None:
        return name.removesuffix("_bucket"), float(quantile_match[1])
    if rate and not name.endswith("_total"):
        # A histogram's or summary's rate(name_sum) and rate(name_count) come from family name.
        for suffix in ("_sum", "_count"):
            if name.endswith(suffix):
                return name.removesuffix(suffix), None
    return name, None
