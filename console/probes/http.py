"""The http/https probe: status, response time, a JSON value, match counts, certificate expiry.

Every target failure becomes a result with a reason; only a caller's bug (an invalid config)
raises. The whole check runs under one deadline, so a server that trickles bytes cannot hold it
past ``timeout_s``. The body is read in chunks and reading stops at the cap.
"""

from __future__ import annotations

import asyncio
import base64
import codecs
import json
import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any

import aiohttp
from aiohttp import hdrs
from yarl import URL

from console.core.clock import Clock
from console.probes import tls
from console.probes.base import (
    ProbeOutcome,
    ProbeResult,
    Stopwatch,
    connect_failure,
    redact,
    seconds_text,
)
from console.probes.jsonpath import JsonPath, NotANumber, PathNotFound, as_number

MIB = 1024 * 1024
_CHUNK = 64 * 1024


class HttpMethod(Enum):
    """The request methods a check may use."""

    GET = "GET"
    HEAD = "HEAD"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"
    OPTIONS = "OPTIONS"


@dataclass(frozen=True, slots=True)
class BasicAuth:
    """HTTP basic credentials, resolved by the caller (the password never appears in a repr)."""

    login: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        if ":" in self.login:
            raise ValueError("a basic auth login cannot hold ':' (RFC 7617)")

    def header_value(self) -> str:
        """The Authorization header's value (UTF-8, as RFC 7617 allows)."""
        pair = f"{self.login}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


@dataclass(frozen=True, slots=True)
class HttpProbeConfig:
    """One http/https check.

    Attributes:
        url: http:// or https:// URL, without credentials in it.
        method: The request method.
        headers: Extra request headers.
        secret_headers: Extra headers whose values are resolved secrets (API keys): never in a
            repr or a reason.
        body: The request body, if any.
        timeout_s: Deadline for the whole check: connect, TLS, headers, body and certificate.
        max_redirects: Redirects followed before failing; 0 judges the 3xx itself.
        body_cap_bytes: Reading stops after this many bytes.
        expect_status: Status codes that count as up (a set, or a range; default 200-399).
        json_path: A path like ``data.items[0].value`` whose number becomes ``json_value``.
        keyword: Text whose occurrences in the body become ``match_count``.
        regex: A regular expression whose matches become ``match_count`` (not with keyword).
        verify_tls: Verify the server's certificate and name.
        ca_file: PEM file of CAs to trust instead of the system's (when verifying).
        basic_auth: Basic credentials.
        bearer_token: A bearer token (not with basic_auth).
    """

    url: str
    method: HttpMethod = HttpMethod.GET
    headers: Mapping[str, str] = field(default_factory=dict)
    secret_headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    body: bytes | None = field(default=None, repr=False)
    timeout_s: float = 10.0
    max_redirects: int = 5
    body_cap_bytes: int = MIB
    expect_status: frozenset[int] | range = range(200, 400)
    json_path: str | None = None
    keyword: str | None = None
    regex: str | None = None
    verify_tls: bool = True
    ca_file: str | None = None
    basic_auth: BasicAuth | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    _path: JsonPath | None = field(init=False, repr=False, compare=False)
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    # Worked out once: a check runs the same config thousands of times.
    _request_headers: Mapping[str, str] = field(init=False, repr=False, compare=False)
    _url: URL = field(init=False, repr=False, compare=False)
    _shown: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_config(self)
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))
        object.__setattr__(self, "secret_headers", MappingProxyType(dict(self.secret_headers)))
        path = None if self.json_path is None else JsonPath.parse(self.json_path)
        object.__setattr__(self, "_path", path)
        try:
            pattern = None if self.regex is None else re.compile(self.regex)
        except re.error as exc:
            raise ValueError(f"bad regex {self.regex!r}: {exc}") from None
        object.__setattr__(self, "_pattern", pattern)
        object.__setattr__(self, "_request_headers", _request_headers(self))
        object.__setattr__(self, "_url", URL(self.url))
        object.__setattr__(self, "_shown", _shown_url(self._url))

    @property
    def reads_body(self) -> bool:
        """Whether a metric comes from the body (a JSON path, a keyword or a regex)."""
        return self._path is not None or self.keyword is not None or self._pattern is not None

    def secrets(self) -> tuple[str, ...]:
        """Every secret value this config carries, to keep them out of reasons."""
        values = [*self.secret_headers.values(), self.bearer_token or ""]
        if self.basic_auth is not None:
            values += [self.basic_auth.password, self.basic_auth.header_value()]
        return tuple(value for value in values if value)


@dataclass(frozen=True, slots=True)
class _Response:
    """What came back, before it is judged."""

    status: int
    phrase: str
    body: bytes
    over_cap: bool
    charset: str | None
    final_url: URL
    redirects: int
    response_ms: float
    certificate: bytes | None


async def probe_http(
    session: aiohttp.ClientSession, config: HttpProbeConfig, clock: Clock
) -> ProbeResult:
    """Run one http/https check with the caller's shared session.

    Returns:
        Metrics ``up`` (1 when the status is expected), ``status_code``, ``response_time_ms``
        (until the whole capped body arrived, redirects included), and when they apply
        ``json_value``, ``match_count`` and ``tls_days_left``. DOWN for an
        unreachable target, a timeout, a TLS failure, too many redirects or an unexpected status;
        UNKNOWN when the status is fine but a configured value cannot be read from the body.
    """
    watch = Stopwatch(clock)
    deadline = asyncio.get_running_loop().time() + config.timeout_s
    try:
        async with asyncio.timeout_at(deadline):
            response = await _fetch(session, config, watch)
    except TimeoutError:
        reason = f"timeout after {seconds_text(config.timeout_s)}"
        return watch.result(ProbeOutcome.DOWN, reason, {"up": 0.0})
    except (aiohttp.ClientError, OSError) as exc:
        reason = redact(_failure_reason(exc, config), config.secrets())
        return watch.result(ProbeOutcome.DOWN, reason, {"up": 0.0})
    shown = config._shown if response.redirects == 0 else _shown_url(response.final_url)
    details = {"url": shown, "redirects": str(response.redirects)}
    metrics = {
        "status_code": float(response.status),
        "response_time_ms": response.response_ms,
    }
    if response.final_url.scheme == "https":
        await _certificate_metric(config, response, deadline, clock, metrics, details)
    return _judge(config, response, watch, metrics, details)


async def _fetch(
    session: aiohttp.ClientSession, config: HttpProbeConfig, watch: Stopwatch
) -> _Response:
    # No aiohttp timeout of its own: the caller's deadline (probe_http) covers the whole check,
    # and a second timer per check is measurable at thousands of checks a second.
    async with session.request(
        config.method.value,
        config._url,
        headers=config._request_headers,
        data=config.body,
        # aiohttp fails on reaching its limit; ours counts the redirects that may be followed.
        allow_redirects=config.max_redirects > 0,
        max_redirects=config.max_redirects + 1,
        ssl=_ssl_argument(config),
    ) as resp:
        # Present only while the body is still arriving; small answers release it at once.
        certificate = tls.transport_certificate(
            resp.connection.transport if resp.connection is not None else None
        )
        body, over_cap = await _read_capped(resp, config.body_cap_bytes)
        if over_cap:
            resp.close()  # the rest of the body is never read, so the connection cannot be reused
        return _Response(
            status=resp.status,
            phrase=resp.reason or "",
            body=body,
            over_cap=over_cap,
            charset=resp.charset,
            final_url=resp.url,
            redirects=len(resp.history),
            response_ms=watch.elapsed_s() * 1000,
            certificate=certificate,
        )


def _request_headers(config: HttpProbeConfig) -> Mapping[str, str]:
    headers = {**config.headers, **config.secret_headers}
    if config.bearer_token is not None:
        headers["Authorization"] = f"Bearer {config.bearer_token}"
    if config.basic_auth is not None:
        headers["Authorization"] = config.basic_auth.header_value()
    return MappingProxyType(headers)


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> tuple[bytes, bool]:
    """Up to cap bytes of the body, and whether there was more."""
    length = resp.content_length
    if length is not None and length <= cap and hdrs.CONTENT_ENCODING not in resp.headers:
        # A declared length within the cap, nothing to inflate: the body cannot outgrow it.
        return await resp.content.read(), False
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(_CHUNK):
        room = cap - size
        if len(chunk) > room:
            chunks.append(chunk[:room])
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False


def _ssl_argument(config: HttpProbeConfig) -> bool | ssl.SSLContext:
    if not config.verify_tls:
        return False
    if config.ca_file is not None:
        return tls.client_context(True, config.ca_file)
    return True


async def _certificate_metric(
    config: HttpProbeConfig,
    response: _Response,
    deadline: float,
    clock: Clock,
    metrics: dict[str, float],
    details: dict[str, str],
) -> None:
    """Add ``tls_days_left``, handshaking again only when the answer's connection was gone."""
    certificate = response.certificate
    details["tls_source"] = "connection"
    if certificate is None:
        details["tls_source"] = "handshake"
        url = response.final_url
        context = tls.client_context(config.verify_tls, config.ca_file)
        try:
            async with asyncio.timeout_at(deadline):
                certificate = await tls.fetch_certificate(url.host or "", url.port or 443, context)
        except (TimeoutError, OSError) as exc:
            details["tls_note"] = f"certificate not read: {type(exc).__name__}: {exc}"
            return
    if certificate is None:
        details["tls_note"] = "the server sent no certificate"
        return
    try:
        metrics["tls_days_left"] = tls.days_left(certificate, clock.now())
        details["tls_not_after"] = tls.not_after(certificate).isoformat()
    except ValueError as exc:
        details["tls_note"] = f"certificate not understood: {exc}"


def _judge(
    config: HttpProbeConfig,
    response: _Response,
    watch: Stopwatch,
    metrics: dict[str, float],
    details: dict[str, str],
) -> ProbeResult:
    status_line = f"HTTP {response.status} {response.phrase}".rstrip()
    if response.status not in config.expect_status:
        metrics["up"] = 0.0
        reason = f"{status_line} (expected {_status_text(config.expect_status)})"
        return watch.result(ProbeOutcome.DOWN, reason, metrics, details)
    metrics["up"] = 1.0
    if response.over_cap:
        details["note"] = f"body over the {_size_text(config.body_cap_bytes)} cap; not read"
    if not config.reads_body:
        return watch.result(ProbeOutcome.UP, status_line, metrics, details)
    if response.over_cap:
        reason = f"{status_line}, but the body is over the {_size_text(config.body_cap_bytes)} cap"
        return watch.result(ProbeOutcome.UNKNOWN, reason, metrics, details)
    problems = _body_metrics(config, response, metrics)
    if problems:
        # The body may echo what was sent (an API that reflects headers).
        reason = redact(f"{status_line}, but " + "; ".join(problems), config.secrets())
        return watch.result(ProbeOutcome.UNKNOWN, reason, metrics, details)
    return watch.result(ProbeOutcome.UP, status_line, metrics, details)


def _body_metrics(
    config: HttpProbeConfig, response: _Response, metrics: dict[str, float]
) -> list[str]:
    """Add ``json_value`` and ``match_count``; returns what could not be read."""
    problems: list[str] = []
    if config._path is not None:
        try:
            metrics["json_value"] = _json_value(config._path, response.body)
        except ValueError as exc:
            problems.append(str(exc))
    if config.keyword is not None or config._pattern is not None:
        text = response.body.decode(_codec(response.charset), errors="replace")
        if config._pattern is not None:
            count = sum(1 for _ in config._pattern.finditer(text))
        else:
            count = text.count(config.keyword or "")
        metrics["match_count"] = float(count)
    return problems


def _json_value(path: JsonPath, body: bytes) -> float:
    try:
        document = json.loads(body, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"invalid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"
        ) from None
    except UnicodeDecodeError:
        raise ValueError("invalid JSON: the body is not UTF-8 text") from None
    except RecursionError:
        raise ValueError("invalid JSON: nested too deeply to read") from None
    try:
        return as_number(path.find(document))
    except PathNotFound as exc:
        raise ValueError(f"JSON path {path.text} not found: {exc}") from None
    except NotANumber as exc:
        raise ValueError(f"the value at JSON path {path.text} is {exc}") from None


def _reject_constant(name: str) -> object:
    # NaN and Infinity are not JSON, although Python's parser accepts them by default.
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


def _certificate_failure(exc: aiohttp.ClientConnectorCertificateError) -> str:
    error = exc.certificate_error
    detail = getattr(error, "verify_message", None) or getattr(error, "reason", None) or error
    return f"TLS certificate verify failed: {detail}"


def _tls_failure(exc: aiohttp.ClientConnectorError) -> str:
    return f"TLS handshake with {exc.host}:{exc.port} failed: {exc.os_error}"


def _connector_failure(exc: aiohttp.ClientConnectorError) -> str:
    return connect_failure(exc.os_error, exc.host, exc.port)


def _response_failure(exc: aiohttp.ClientResponseError) -> str:
    return f"invalid HTTP response: {exc.message}"


# Most specific first: the certificate and TLS errors are also connector errors.
_FAILURES: tuple[tuple[type[Exception], Callable[[Any], str]], ...] = (
    (aiohttp.ClientConnectorCertificateError, _certificate_failure),
    (aiohttp.ClientConnectorSSLError, _tls_failure),
    (aiohttp.ClientSSLError, _tls_failure),
    (aiohttp.ClientConnectorError, _connector_failure),
    (aiohttp.RedirectClientError, lambda e: f"redirect to a URL that cannot be followed: {e}"),
    (aiohttp.ServerDisconnectedError, lambda _: "the server closed the connection early"),
    (aiohttp.ClientPayloadError, lambda e: f"the response body is broken: {e}"),
    (aiohttp.ClientResponseError, _response_failure),
    (OSError, lambda e: f"connection failed: {e.strerror or e}"),
)


def _failure_reason(exc: Exception, config: HttpProbeConfig) -> str:
    """Words for a request that failed before an answer could be judged."""
    if isinstance(exc, aiohttp.TooManyRedirects):
        return f"too many redirects (more than {config.max_redirects})"
    for kind, describe in _FAILURES:
        if isinstance(exc, kind):
            return describe(exc)
    return f"request failed: {type(exc).__name__}: {exc}"


def _check_config(config: HttpProbeConfig) -> None:
    """Reject configs no check could run with (a caller's bug, so this raises)."""
    _check_target(config)
    if config.keyword is not None and config.regex is not None:
        raise ValueError("set keyword or regex, not both")
    if config.keyword == "":
        raise ValueError("keyword is empty")
    if config.basic_auth is not None and config.bearer_token is not None:
        raise ValueError("set basic_auth or bearer_token, not both")
    for name, value in [*config.headers.items(), *config.secret_headers.items()]:
        if any(c in "\r\n" for c in name + value):
            raise ValueError(f"header {name!r} holds a line break")


def _check_target(config: HttpProbeConfig) -> None:
    url = URL(config.url)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"not an http(s) URL: {_shown_url(url)}")
    if url.user is not None or url.password is not None:
        raise ValueError("credentials belong in basic_auth, not in the URL")
    if config.timeout_s <= 0:
        raise ValueError("timeout_s must be positive")
    if config.max_redirects < 0 or config.body_cap_bytes <= 0:
        raise ValueError("max_redirects must be >= 0 and body_cap_bytes > 0")
    if not config.expect_status:
        raise ValueError("expect_status is empty")


def _status_text(expected: frozenset[int] | range) -> str:
    if isinstance(expected, range) and expected.step == 1:
        return f"{expected.start}-{expected.stop - 1}"
    return ", ".join(str(code) for code in sorted(expected))


def _size_text(size: int) -> str:
    if size % MIB == 0:
        return f"{size // MIB} MiB"
    if size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size} bytes"


def _shown_url(url: URL) -> str:
    """A URL fit for a reason: no credentials, no query (it may carry an API key)."""
    if url.absolute:
        url = url.with_user(None)
    return str(url.with_query(None).with_fragment(None))


def _codec(charset: str | None) -> str:
    try:
        return codecs.lookup(charset or "utf-8").name
    except LookupError:
        return "utf-8"
