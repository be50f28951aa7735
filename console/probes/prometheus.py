"""The prometheus probe: an instant query against a Prometheus HTTP API, one metric per series.

Also home of the small HTTP plumbing the scrape probe shares: a capped body read under one
deadline, credentials as headers, and the words for a request that failed.
"""

from __future__ import annotations

import asyncio
import json
import math
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
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
from console.probes.http import BasicAuth

MIB = 1024 * 1024
DEFAULT_BODY_CAP = 4 * MIB
DEFAULT_MAX_SERIES = 1000
_CHUNK = 64 * 1024
_SHOWN_NON_FINITE = 5


@dataclass(frozen=True, slots=True)
class HttpAccess:
    """How to reach an HTTP(S) endpoint: TLS and credentials, shared by prometheus and scrape.

    Attributes:
        verify_tls: Verify the server's certificate and name.
        ca_file: PEM file of CAs to trust instead of the system's (when verifying).
        basic_auth: Basic credentials, resolved by the caller.
        bearer_token: A bearer token, resolved by the caller (not with basic_auth).
    """

    verify_tls: bool = True
    ca_file: str | None = None
    basic_auth: BasicAuth | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.basic_auth is not None and self.bearer_token is not None:
            raise ValueError("set basic_auth or bearer_token, not both")
        if self.bearer_token is not None and any(c in "\r\n" for c in self.bearer_token):
            raise ValueError("the bearer token holds a line break")

    def headers(self) -> dict[str, str]:
        """The Authorization header, when there are credentials."""
        if self.bearer_token is not None:
            return {"Authorization": f"Bearer {self.bearer_token}"}
        if self.basic_auth is not None:
            return {"Authorization": self.basic_auth.header_value()}
        return {}

    def ssl_argument(self) -> bool | ssl.SSLContext:
        """The ``ssl`` argument aiohttp takes for these settings."""
        if not self.verify_tls:
            return False
        if self.ca_file is not None:
            return tls.client_context(True, self.ca_file)
        return True

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, to keep them out of reasons."""
        values = [self.bearer_token or ""]
        if self.basic_auth is not None:
            values += [self.basic_auth.password, self.basic_auth.header_value()]
        return tuple(value for value in values if value)


@dataclass(frozen=True, slots=True)
class Fetched:
    """An HTTP answer with its body read up to a cap."""

    status: int
    phrase: str
    content_type: str
    body: bytes
    over_cap: bool

    @property
    def status_line(self) -> str:
        """``HTTP 200 OK``."""
        return f"HTTP {self.status} {self.phrase}".rstrip()

    @property
    def success(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300


async def fetch_capped(
    session: aiohttp.ClientSession,
    url: str,
    access: HttpAccess,
    *,
    cap: int,
    timeout_s: float,
    form: Mapping[str, str] | None = None,
    accept: str | None = None,
) -> Fetched:
    """GET url (or POST form to it) and read at most cap bytes of the answer.

    Redirects are not followed: a 3xx is the answer, so credentials only ever go to the URL the
    config names.

    Raises:
        TimeoutError: When the whole exchange took longer than timeout_s.
        aiohttp.ClientError, OSError: When no answer could be had.
    """
    headers = access.headers()
    if accept is not None:
        headers["Accept"] = accept
    async with (
        asyncio.timeout(timeout_s),
        session.request(
            "GET" if form is None else "POST",
            url,
            headers=headers,
            data=None if form is None else dict(form),
            allow_redirects=False,
            ssl=access.ssl_argument(),
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as resp,
    ):
        chunks: list[bytes] = []
        size = 0
        over_cap = False
        async for chunk in resp.content.iter_chunked(_CHUNK):
            if size + len(chunk) > cap:
                chunks.append(chunk[: cap - size])
                over_cap = True
                # The rest is never read, so the connection cannot go back to the pool.
                resp.close()
                break
            chunks.append(chunk)
            size += len(chunk)
        return Fetched(
            resp.status, resp.reason or "", resp.content_type, b"".join(chunks), over_cap
        )


def request_failure(exc: BaseException) -> str:
    """Words for a request that failed before any answer could be judged."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"TLS certificate verify failed: {exc.certificate_error}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return connect_failure(exc.os_error, exc.host, exc.port)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection early"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"the response body is broken: {exc}"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"invalid HTTP response: {exc.message}"
    if isinstance(exc, OSError):
        return f"connection failed: {exc.strerror or exc}"
    return f"request failed: {type(exc).__name__}: {exc}"


def size_text(size: int) -> str:
    """A byte count as people write a cap: ``4 MiB``, ``64 KiB``, ``1000 bytes``."""
    if size % MIB == 0:
        return f"{size // MIB} MiB"
    if size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size} bytes"


def check_url(url: str) -> None:
    """Reject a URL no probe could use (a caller's bug, so this raises ValueError)."""
    parsed = URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"not an http(s) URL: {parsed.with_user(None).with_query(None)}")
    if parsed.user is not None or parsed.password is not None:
        raise ValueError("credentials belong in basic_auth, not in the URL")


def series_name(name: str, labels: Mapping[str, str]) -> str:
    """A stable name for one series: metric name and sorted labels, as Prometheus prints them.

    ``up{instance="x",job="y"}``; a series with no labels is its bare name, and one with
    neither name nor labels (``sum(rate(x[5m]))``) is ``{}``.
    """
    pairs = sorted((key, value) for key, value in labels.items() if key != "__name__")
    if not pairs:
        return name or "{}"
    inner = ",".join(f'{key}="{_escape(value)}"' for key, value in pairs)
    return f"{name}{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# ---- the prometheus probe ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrometheusProbeConfig:
    """One instant query.

    Attributes:
        url: The Prometheus server's base URL (``http://host:9090``, a path prefix allowed).
        query: The PromQL expression.
        at: The evaluation time; None lets the server use its own now.
        timeout_s: Deadline for the whole check; also sent as the query's own timeout.
        body_cap_bytes: Answers larger than this are not read (default 4 MiB).
        max_series: Series kept from one answer (by name order); the rest are reported dropped.
        access: TLS settings and credentials.
    """

    url: str
    query: str
    at: datetime | None = None
    timeout_s: float = 10.0
    body_cap_bytes: int = DEFAULT_BODY_CAP
    max_series: int = DEFAULT_MAX_SERIES
    access: HttpAccess = field(default_factory=HttpAccess)

    def __post_init__(self) -> None:
        check_url(self.url)
        if not self.query.strip():
            raise ValueError("the query is empty")
        if self.at is not None and self.at.tzinfo is None:
            raise ValueError("at must be timezone-aware")
        if self.timeout_s <= 0 or self.body_cap_bytes <= 0 or self.max_series <= 0:
            raise ValueError("timeout_s, body_cap_bytes and max_series must be positive")

    @property
    def query_url(self) -> str:
        """The instant query endpoint."""
        return self.url.rstrip("/") + "/api/v1/query"

    def form(self) -> dict[str, str]:
        """The query's form fields (POST, so long expressions fit)."""
        fields = {"query": self.query, "timeout": repr(self.timeout_s)}
        if self.at is not None:
            fields["time"] = f"{self.at.timestamp():.3f}"
        return fields


class _NotAnAnswer(ValueError):
    """The body is not a Prometheus API answer."""


async def probe_prometheus(
    session: aiohttp.ClientSession, config: PrometheusProbeConfig, clock: Clock
) -> ProbeResult:
    """Run one instant query with the caller's shared session.

    Returns:
        UP with one metric per series, keyed by `series_name` (``scalar`` for a scalar result),
        NaN and infinite values left out and listed in details; UNKNOWN when Prometheus says
        ``status: error`` (its error text is the reason), the answer is not a Prometheus answer,
        is over the cap, is not an instant vector or scalar, or holds only NaN/infinite values;
        DOWN when the server cannot be reached, times out or answers with a non-2xx status
        without a Prometheus error.
    """
    watch = Stopwatch(clock)
    secrets = config.access.secrets()
    try:
        fetched = await fetch_capped(
            session,
            config.query_url,
            config.access,
            cap=config.body_cap_bytes,
            timeout_s=config.timeout_s,
            form=config.form(),
        )
    except TimeoutError:
        return watch.result(
            ProbeOutcome.DOWN, f"timeout after {seconds_text(config.timeout_s)}", {}
        )
    except (aiohttp.ClientError, OSError) as exc:
        return watch.result(ProbeOutcome.DOWN, redact(request_failure(exc), secrets), {})
    outcome, reason, metrics, details = _judge(config, fetched)
    return watch.result(outcome, redact(reason, secrets), metrics, details)


_Verdict = tuple[ProbeOutcome, str, dict[str, float], dict[str, str]]


def _judge(config: PrometheusProbeConfig, fetched: Fetched) -> _Verdict:
    details = {"http_status": str(fetched.status)}
    if fetched.over_cap:
        cap = size_text(config.body_cap_bytes)
        reason = f"{fetched.status_line}, but the answer is over the {cap} cap"
        return ProbeOutcome.UNKNOWN, reason, {}, details
    try:
        document = _answer(fetched.body)
    except _NotAnAnswer as exc:
        if not fetched.success:
            return ProbeOutcome.DOWN, fetched.status_line, {}, details
        return ProbeOutcome.UNKNOWN, f"not a Prometheus API answer: {exc}", {}, details
    warnings = document.get("warnings")
    if isinstance(warnings, list) and warnings:
        details["warnings"] = "; ".join(str(warning) for warning in warnings)
    if document["status"] != "success":
        kind = document.get("errorType") or "error"
        return ProbeOutcome.UNKNOWN, f"query failed: {kind}: {document.get('error')}", {}, details
    try:
        values = _values(document.get("data"))
    except _NotAnAnswer as exc:
        return ProbeOutcome.UNKNOWN, str(exc), {}, details
    return _verdict(config, values, details)


def _answer(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise _NotAnAnswer(f"invalid JSON ({exc.msg} at line {exc.lineno})") from None
    except (UnicodeDecodeError, RecursionError):
        raise _NotAnAnswer("invalid JSON") from None
    if not isinstance(document, dict) or document.get("status") not in ("success", "error"):
        raise _NotAnAnswer("no status field")
    return document


def _values(data: object) -> dict[str, float]:
    """Series name -> value (NaN and infinities included) from an answer's ``data``."""
    if not isinstance(data, dict):
        raise _NotAnAnswer("not a Prometheus API answer: no data")
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        return {"scalar": _sample_value(result)}
    if kind != "vector":
        raise _NotAnAnswer(
            f"the query returned a {kind}; only instant vectors and scalars become metrics"
        )
    if not isinstance(result, list):
        raise _NotAnAnswer("not a Prometheus API answer: the vector is not a list")
    values: dict[str, float] = {}
    for series in result:
        if not isinstance(series, dict) or not isinstance(series.get("metric"), dict):
            raise _NotAnAnswer("not a Prometheus API answer: a series without labels")
        labels = {str(key): str(value) for key, value in series["metric"].items()}
        name = series_name(labels.get("__name__", ""), labels)
        if "value" not in series:
            continue  # a native histogram sample: no single number to chart
        values[name] = _sample_value(series["value"])
    return values


def _sample_value(sample: object) -> float:
    """The number in a ``[timestamp, "value"]`` pair (Prometheus sends values as text)."""
    if not isinstance(sample, list) or len(sample) != 2 or not isinstance(sample[1], str):
        raise _NotAnAnswer(f"not a Prometheus API answer: malformed sample {sample!r:.60}")
    try:
        return float(sample[1])
    except ValueError:
        raise _NotAnAnswer(f"not a Prometheus API answer: value {sample[1]!r:.40}") from None


def _verdict(
    config: PrometheusProbeConfig, values: dict[str, float], details: dict[str, str]
) -> _Verdict:
    names = sorted(values)
    total = len(names)
    details["series"] = str(total)
    if total > config.max_series:
        details["dropped"] = f"{total - config.max_series} series over max_series"
        names = names[: config.max_series]
    metrics = {name: values[name] for name in names if math.isfinite(values[name])}
    odd = [f"{name}={_value_text(values[name])}" for name in names if name not in metrics]
    if odd:
        more = ", ..." if len(odd) > _SHOWN_NON_FINITE else ""
        details["non_finite"] = ", ".join(odd[:_SHOWN_NON_FINITE]) + more
        if not metrics:
            return ProbeOutcome.UNKNOWN, f"no finite value: {details['non_finite']}", {}, details
    if total == 0:
        reason = "the query returned no series"
    elif names == ["scalar"]:
        reason = f"scalar {_value_text(values['scalar'])}"
    else:
        reason = f"1 series: {names[0]}" if total == 1 else f"{total} series"
    if total > config.max_series:
        reason += f", the first {config.max_series} kept"
    return ProbeOutcome.UP, reason, metrics, details


def _value_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:g}"
