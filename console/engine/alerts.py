"""Inbound alerts on the engine's receiver: the routes, their token, rate limit and write queue.

``POST /alerts/alertmanager`` takes Alertmanager's webhook and ``POST /alerts/generic`` the
console's generic JSON (both formats: ``console.engine.alert_formats``). A firing alert opens or
updates its incident, a resolved one clears it. Every request needs ``Authorization: Bearer
<token>``, the token being one of the receiver's alert credentials (``InboundSettings``: the
keyring entry ``receiver.alerts`` by default, or ``file:/path`` of a token file). Answers:

- 200 stored, with a JSON body ``{"alerts", "firing", "resolved", "opened", "updated",
  "closed"}`` (closed: incidents the resolved alerts resolved);
- 400 malformed JSON, a wrong type, a missing field, an unknown field (generic format);
  401 no bearer token or a wrong one; 413 a body over 64 KiB; 415 not ``application/json``;
  422 a meaningless payload (unknown status, unsupported version, no alerts); 429 over the
  rate limit, with ``Retry-After`` in seconds; 500 some alerts could not be stored (a bug,
  logged); 503 the token cannot be read now (no keyring), the queue is full, or the store
  could not be written (with ``Retry-After``: Alertmanager retries a 5xx).

Every refusal is logged with its reason; a flood of the same refusal is logged once per 10 s
with the count of those not logged (429s: once per 10 s per token).

Rate limit: a token bucket per token, ``rate_per_s`` requests a second with bursts of ``burst``
(defaults 50/s and 100). Alertmanager sends one request per alert group and interval with up
to all the group's alerts in it, so 50 requests a second is far beyond a healthy sender (1,000
alerts a second in requests of 1 to 50 alerts is about 40) while a runaway script is held to
what the store writes without delaying the engine; the burst covers many groups flushing at
once after a restart. A refused request costs a token compare and nothing else. Alertmanager
(0.25, as tested) sends a group refused with 429 again at its next ``group_interval``.

Writes never block the event loop: a request's alerts go to a queue, a drain task takes
whatever is queued (up to ``MAX_BATCH_ALERTS`` alerts) to the engine's single writer thread
and writes it in one transaction, and the request is answered once that transaction committed,
so a 200 means stored. Under load many requests share a transaction; alone, a request waits for
one short transaction.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from console.core.clock import Clock
from console.core.errors import Problem, ValidationError
from console.core.incident_policy import IncidentSettings, SignalEffect
from console.engine.alert_formats import (
    AlertBatch,
    AlertRejected,
    parse_alertmanager,
    parse_generic,
)
from console.engine.dispatch import CredentialCache, CredentialKind, CredentialUnavailable
from console.engine.incidents import Applied, IncidentOp, OutcomeHook, apply_ops, notify
from console.engine.receiver import MAX_BODY_BYTES, Route, bearer_token, reply
from console.store.db import Store

log = logging.getLogger(__name__)

#: The keyring entry holding the alert routes' bearer token unless configured otherwise.
DEFAULT_ALERT_CREDENTIAL = "receiver.alerts"
DEFAULT_RATE_PER_S = 50.0
DEFAULT_BURST = 100
#: Alerts waiting for the writer beyond which requests are refused (503) rather than queued.
MAX_PENDING_ALERTS = 20_000
#: The most alerts one write transaction takes from the queue.
MAX_BATCH_ALERTS = 5_000
#: A flood of the same refusal is logged once per this many seconds.
_LOG_EVERY_S = 10.0


@dataclass(frozen=True, slots=True)
class InboundSettings:
    """How the alert routes accept requests.

    Attributes:
        credentials: The credentials whose bearer tokens are accepted (keyring entry names or
            ``file:/path``); each has its own rate limit.
        rate_per_s: Requests a second each token may send, on average.
        burst: Requests a token may send at once.
        max_pending_alerts: Alerts queued for the writer beyond which requests get 503.
    """

    credentials: tuple[str, ...] = (DEFAULT_ALERT_CREDENTIAL,)
    rate_per_s: float = DEFAULT_RATE_PER_S
    burst: int = DEFAULT_BURST
    max_pending_alerts: int = MAX_PENDING_ALERTS

    def __post_init__(self) -> None:
        problems = []
        if not self.credentials:
            problems.append(Problem("credentials", "name at least one credential"))
        if not self.rate_per_s > 0:
            problems.append(Problem("rate_per_s", "must be above 0"))
        if self.burst < 1:
            problems.append(Problem("burst", "must be at least 1"))
        if self.max_pending_alerts < 1:
            problems.append(Problem("max_pending_alerts", "must be at least 1"))
        if problems:
            raise ValidationError(problems)


class TokenBucket:
    """A token bucket: ``rate`` tokens a second up to ``burst``; each request takes one.

    Args:
        rate: Tokens added per second.
        burst: The bucket's size (and its content at the start).
        now: The current monotonic time.
    """

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._at = now

    def take(self, now: float) -> float:
        """Take a token: 0.0 when there was one, else the seconds until there will be."""
        self._tokens = min(self._burst, self._tokens + max(0.0, now - self._at) * self._rate)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self._rate


class AlertTokens:
    """The accepted bearer tokens, resolved through the engine's credential cache.

    Args:
        credentials: The engine's cache (keyring and token files, off the event loop).
        names: The credential names.
    """

    def __init__(self, credentials: CredentialCache, names: Sequence[str]) -> None:
        self._credentials = credentials
        self._names = tuple(names)

    async def match(self, presented: str) -> str | None:
        """The name of the credential ``presented`` is, or None when it is none of them.

        Raises:
            CredentialUnavailable: No credential could be read (the last reason is given).
        """
        unavailable: CredentialUnavailable | None = None
        readable = 0
        for name in self._names:
            try:
                credential = await self._credentials.credential(name)
            except CredentialUnavailable as exc:
                unavailable = exc
                continue
            if credential.kind is not CredentialKind.BEARER:
                unavailable = CredentialUnavailable(name, "the alert routes take a bearer token")
                continue
            readable += 1
            if hmac.compare_digest(presented.encode(), credential.secret.encode()):
                return name
        if not readable and unavailable is not None:
            raise unavailable
        return None


class _Quiet:
    """Lets one log line per kind of event through per period, counting the ones it held."""

    def __init__(self, period_s: float) -> None:
        self._period = period_s
        self._seen: dict[object, tuple[float, int]] = {}

    def note(self, kind: object, now: float) -> int | None:
        """None to stay quiet, else how many of this kind happened since the last line."""
        since, count = self._seen.get(kind, (-math.inf, 0))
        count += 1
        if now - since >= self._period:
            self._seen[kind] = (now, 0)
            return count
        self._seen[kind] = (since, count)
        return None


class IntakeBusy(Exception):
    """Too many alerts wait for the writer; the sender should come back later."""


@dataclass(slots=True)
class _Queued:
    ops: list[IncidentOp]
    done: asyncio.Future[Applied]


def write_groups(
    store: Store,
    groups: Sequence[Sequence[IncidentOp]],
    settings: IncidentSettings | None,
    hook: OutcomeHook | None,
) -> list[Applied]:
    """Apply each request's operations, all in one transaction; then call the hook.

    Blocking: runs on the writer thread.
    """
    with store.transaction():
        applied = [apply_ops(store, ops, settings) for ops in groups]
    notify(applied, hook)
    return applied


class AlertIntake:
    """The queue from the alert routes to the writer thread, drained in batches.

    Args:
        store: The store.
        writer: The engine's single writer thread.
        settings: The current incident settings.
        hook: Called for each outcome that should notify (on the writer thread, after commit).
        max_pending: Queued alerts beyond which ``submit`` raises IntakeBusy.
        max_batch: The most alerts one transaction takes.
    """

    def __init__(
        self,
        store: Store,
        writer: Executor,
        *,
        settings: Callable[[], IncidentSettings | None],
        hook: OutcomeHook | None = None,
        max_pending: int = MAX_PENDING_ALERTS,
        max_batch: int = MAX_BATCH_ALERTS,
    ) -> None:
        self._store = store
        self._writer = writer
        self._settings = settings
        self._hook = hook
        self._max_pending = max_pending
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Queued | None] = asyncio.Queue()
        self._pending = 0
        self._task: asyncio.Task[None] | None = None
        #: Write transactions so far, and the alerts they took (the benchmark's batching figure).
        self.transactions = 0
        self.written = 0

    def start(self) -> None:
        """Start draining (on the running loop)."""
        self._task = asyncio.create_task(self._drain(), name="alert intake")

    async def submit(self, ops: list[IncidentOp]) -> Applied:
        """Queue a request's operations; returns once they are committed.

        Raises:
            IntakeBusy: The queue is full or closed.
            Exception: The write failed (whatever the store raised).
        """
        if self._task is None or self._task.done():
            raise IntakeBusy("the receiver is stopping")
        if self._pending + len(ops) > self._max_pending:
            raise IntakeBusy(f"{self._pending} alerts wait to be stored")
        done: asyncio.Future[Applied] = asyncio.get_running_loop().create_future()
        self._pending += len(ops)
        self._queue.put_nowait(_Queued(ops, done))
        return await done

    async def close(self) -> None:
        """Write what is queued, then stop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._queue.put_nowait(None)
        await task

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                return
            batch, count = [first], len(first.ops)
            while count < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True
                    break
                batch.append(item)
                count += len(item.ops)
            self._pending -= count
            groups = [item.ops for item in batch]
            try:
                results = await loop.run_in_executor(
                    self._writer, write_groups, self._store, groups, self._settings(), self._hook
                )
            except Exception as exc:  # a full disk, a store locked too long: the senders retry
                log.error("could not store %d inbound alerts: %s", count, exc)
                for item in batch:
                    if not item.done.done():
                        item.done.set_exception(exc)
                continue
            self.transactions += 1
            self.written += count
            for item, result in zip(batch, results, strict=True):
                if not item.done.done():
                    item.done.set_result(result)


Parser = Callable[[object], AlertBatch]


class InboundAlerts:
    """The alert routes of the receiver.

    Args:
        settings: Tokens and rate limit.
        tokens: Checks presented tokens.
        intake: Where accepted alerts go.
        clock: Time (the rate limit's monotonic seconds; the receive time of alerts).
        incident_settings: The current incident settings (the severity of unknown labels).
    """

    def __init__(
        self,
        settings: InboundSettings,
        *,
        tokens: AlertTokens,
        intake: AlertIntake,
        clock: Clock,
        incident_settings: Callable[[], IncidentSettings | None],
    ) -> None:
        self._settings = settings
        self._tokens = tokens
        self._intake = intake
        self._clock = clock
        self._incident_settings = incident_settings
        self._buckets: dict[str, TokenBucket] = {}
        self._quiet = _Quiet(_LOG_EVERY_S)
        #: Answers given, by status (for status displays and tests).
        self.answers: Counter[int] = Counter()
        #: Alerts accepted so far.
        self.accepted = 0

    @property
    def intake(self) -> AlertIntake:
        """The write queue behind the routes (its figures: transactions, alerts written)."""
        return self._intake

    def routes(self) -> list[Route]:
        """The receiver routes."""
        return [
            Route("POST", "/alerts/alertmanager", self._alertmanager),
            Route("POST", "/alerts/generic", self._generic),
        ]

    async def _alertmanager(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, parse_alertmanager)

    async def _generic(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, parse_generic)

    async def _handle(self, request: web.Request, parse: Parser) -> web.StreamResponse:
        refused = await self._admit(request)
        if refused is not None:
            return refused
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:  # sent without a length, or lying about it
            return self._refuse(request, 413, f"body over the {MAX_BODY_BYTES // 1024} KiB limit")
        try:
            batch = parse(json.loads(body))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return self._refuse(request, 400, f"malformed JSON: {_short(exc)}")
        except RecursionError:
            return self._refuse(request, 400, "malformed JSON: nested too deeply")
        except AlertRejected as exc:
            return self._refuse(request, exc.status, exc.reason)
        if batch.truncated:
            log.warning(
                "Alertmanager left %d alerts out of group %s (its max_alerts)",
                batch.truncated,
                batch.group_key,
            )
        return await self._store_batch(request, batch)

    async def _admit(self, request: web.Request) -> web.Response | None:
        """None when the request may be read, else the answer that refuses it."""
        presented = bearer_token(request)
        if presented is None:
            return self._refuse(request, 401, "bearer token required", auth=True)
        try:
            name = await self._tokens.match(presented)
        except CredentialUnavailable as exc:
            if self._quiet.note(("token", str(exc)), self._clock.monotonic()) is not None:
                log.warning("alert routes cannot check tokens: %s", exc)
            return self._refuse(request, 503, "the receiver's alert token cannot be read now")
        if name is None:
            return self._refuse(request, 401, "wrong token", auth=True)
        wait = self._bucket(name).take(self._clock.monotonic())
        if wait > 0:
            return self._throttle(name, wait)
        if request.content_type != "application/json":
            return self._refuse(request, 415, "send Content-Type: application/json")
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return self._refuse(request, 413, f"body over the {MAX_BODY_BYTES // 1024} KiB limit")
        return None

    async def _store_batch(self, request: web.Request, batch: AlertBatch) -> web.StreamResponse:
        chosen = self._incident_settings() or IncidentSettings()
        try:
            ops = batch.ops(self._clock.now(), chosen.unknown_label_severity)
        except ValidationError as exc:  # e.g. a title of nothing but spaces
            return self._refuse(request, 422, f"not an alert: {exc}")
        try:
            applied = await self._intake.submit(ops)
        except IntakeBusy as exc:
            return self._refuse(request, 503, f"busy: {exc}", retry_after=1)
        except Exception:  # logged by the intake
            return self._refuse(request, 503, "the alerts could not be stored", retry_after=5)
        if applied.failed:
            return self._refuse(request, 500, f"{applied.failed} alerts could not be stored")
        self.accepted += len(batch.alerts)
        self.answers[200] += 1
        return web.json_response(_summary(batch, applied))

    def _bucket(self, name: str) -> TokenBucket:
        bucket = self._buckets.get(name)
        if bucket is None:
            settings = self._settings
            bucket = TokenBucket(settings.rate_per_s, settings.burst, self._clock.monotonic())
            self._buckets[name] = bucket
        return bucket

    def _throttle(self, name: str, wait: float) -> web.Response:
        count = self._quiet.note(("rate", name), self._clock.monotonic())
        if count is not None:
            log.warning(
                "alerts with token %s over the rate limit (%g/s, burst %d): %d refused with 429",
                name,
                self._settings.rate_per_s,
                self._settings.burst,
                count,
            )
        self.answers[429] += 1
        seconds = max(1, math.ceil(wait))
        return reply(429, "over the rate limit", **{"Retry-After": str(seconds)})

    def _refuse(
        self,
        request: web.Request,
        status: int,
        reason: str,
        *,
        auth: bool = False,
        retry_after: int | None = None,
    ) -> web.Response:
        count = self._quiet.note((request.path, status, reason), self._clock.monotonic())
        if count is not None:
            more = f" ({count - 1} more since the last report)" if count > 1 else ""
            log.warning("%s refused with %d: %s%s", request.path, status, reason, more)
        self.answers[status] += 1
        headers: dict[str, str] = {}
        if auth:
            headers["WWW-Authenticate"] = 'Bearer realm="oncall"'
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return reply(status, reason, **headers)


def inbound_alerts(
    store: Store,
    settings: InboundSettings,
    *,
    credentials: CredentialCache,
    writer: Executor,
    clock: Clock,
    incident_settings: Callable[[], IncidentSettings | None],
    hook: OutcomeHook | None,
) -> tuple[InboundAlerts, AlertIntake]:
    """The alert routes and their write queue, wired to an engine (start the intake yourself)."""
    intake = AlertIntake(
        store,
        writer,
        settings=incident_settings,
        hook=hook,
        max_pending=settings.max_pending_alerts,
    )
    routes = InboundAlerts(
        settings,
        tokens=AlertTokens(credentials, settings.credentials),
        intake=intake,
        clock=clock,
        incident_settings=incident_settings,
    )
    return routes, intake


def _short(exc: Exception) -> str:
    return str(exc)[:120]


def _summary(batch: AlertBatch, applied: Applied) -> dict[str, Any]:
    opened = sum(
        1 for o in applied.outcomes if o.effect in (SignalEffect.OPENED, SignalEffect.REOPENED)
    )
    return {
        "alerts": len(batch.alerts),
        "firing": batch.firing,
        "resolved": len(batch.alerts) - batch.firing,
        "opened": opened,
        "updated": len(applied.outcomes) - opened,
        "closed": len(applied.resolved),
    }


__all__ = [
    "DEFAULT_ALERT_CREDENTIAL",
    "DEFAULT_BURST",
    "DEFAULT_RATE_PER_S",
    "AlertIntake",
    "AlertTokens",
    "InboundAlerts",
    "InboundSettings",
    "IntakeBusy",
    "TokenBucket",
    "inbound_alerts",
    "write_groups",
]
