"""Outgoing webhooks: Slack, Microsoft Teams (Workflows), Matrix and templated generic JSON.

The payloads are pure functions of a `Notice` (tested without a network); `WebhookChannel`
sends them on the engine's one aiohttp session. Every request carries ``Idempotency-Key: <key>``
and Matrix's transaction id is derived from the same key, so a homeserver that already has
the event answers a re-send with it instead of posting twice.

Mentions: Slack and Matrix mention a recipient with a handle that is a user id (``U123ABC``,
``@ana:example.org``); any other handle is written as text. Teams' Workflows card names the
recipient in text: a real Teams mention needs ``msteams.entities``, which the Adaptive Card
schema does not allow on a card.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from console.core.errors import ConsoleError
from console.core.notice_template import TemplateError, render_json
from console.core.notices import (
    DRILL_MARK,
    Notice,
    WebhookConfig,
    WebhookKind,
    facts,
    one_line,
    plain_text,
    subject_line,
)
from console.delivery.outcome import Outcome, permanent, sent, transient

SecretReader = Callable[[str], str | None]
JSON = dict[str, Any]
IDEMPOTENCY_HEADER = "Idempotency-Key"
USER_AGENT = "oncall-console"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.4"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_MATRIX_USER = re.compile(r"^@[^:\s]+:\S+$")
_BODY_EXCERPT = 200


class _Refused(Exception):
    """A reason not to send found before any request (missing secret, bad template)."""


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """One HTTP request, ready to send."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body, parsed."""
        return json.loads(self.body)


# -- payloads --------------------------------------------------------------------------------


def mention(kind: WebhookKind, notice: Notice) -> str | None:
    """The recipient's handle on this webhook's chat network, if they have one."""
    return notice.recipient.handle(kind.value) if kind.is_chat else None


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn reads &, < and > as control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_mention(handle: str) -> str:
    return f"<@{handle}>" if _SLACK_ID.match(handle) else _slack_escape(handle)


def _for_whom(notice: Notice, shown: str | None) -> str:
    name = notice.recipient.name
    return f"{name} ({shown})" if shown else name


def slack_payload(notice: Notice) -> JSON:
    """A Slack incoming-webhook body: fallback ``text`` plus Block Kit blocks."""
    handle = mention(WebhookKind.SLACK, notice)
    whom = _for_whom(notice, _slack_mention(handle) if handle else None)
    head = f"*{_slack_escape(subject_line(notice))}*"
    blocks: list[JSON] = []
    if notice.drill:
        drill = f":rotating_light: *{DRILL_MARK} This is a drill*: a practice incident."
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": drill}})
    fields = [
        {"type": "mrkdwn", "text": f"*{label}*\n{_slack_escape(value)}"}
        for label, value in facts(notice)
    ][:10]  # Slack allows ten fields in a section
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": head}, "fields": fields})
    if notice.summary:
        summary = _slack_escape(notice.summary)[:2900]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": summary}})
    call = f"{whom}: please acknowledge {notice.incident_ref}."
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": call}]})
    text = f"{_slack_escape(one_line(notice))} ({whom})"
    return {"text": text, "blocks": blocks}


def adaptive_card(notice: Notice) -> JSON:
    """The Adaptive Card (version 1.4) for Teams: DRILL banner first, facts, summary, whom."""
    body: list[JSON] = []
    if notice.drill:
        body.append(
            {"type": "TextBlock", "text": f"{DRILL_MARK} THIS IS A DRILL: a practice incident",
             "weight": "Bolder", "size": "Large", "color": "Warning", "wrap": True}
        )  # fmt: skip
    body.append(
        {"type": "TextBlock", "text": subject_line(notice), "weight": "Bolder", "size": "Medium",
         "color": "Attention" if notice.urgent else "Default", "wrap": True}
    )  # fmt: skip
    pairs = [{"title": label, "value": value} for label, value in facts(notice)]
    body.append({"type": "FactSet", "facts": pairs})
    if notice.summary:
        body.append({"type": "TextBlock", "text": notice.summary, "wrap": True})
    whom = _for_whom(notice, mention(WebhookKind.TEAMS, notice))
    body.append(
        {"type": "TextBlock", "text": f"{whom}: please acknowledge {notice.incident_ref}.",
         "isSubtle": True, "wrap": True}
    )  # fmt: skip
    return {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "fallbackText": one_line(notice),
        "body": body,
    }


def teams_payload(notice: Notice) -> JSON:
    """A Teams Workflows webhook body: one message holding one Adaptive Card."""
    return {
        "type": "message",
        "attachments": [
            {"contentType": CARD_TYPE, "contentUrl": None, "content": adaptive_card(notice)}
        ],
    }


def txn_id(key: str) -> str:
    """Matrix's transaction id for an idempotency key: the same key, the same id."""
    return "oncall." + hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


def _matrix_body(notice: Notice) -> JSON:
    handle = mention(WebhookKind.MATRIX, notice)
    user = handle if handle and _MATRIX_USER.match(handle) else None
    name = notice.recipient.name
    if user:
        link = f'<a href="https://matrix.to/#/{html.escape(user)}">{html.escape(name)}</a>'
    else:
        link = html.escape(_for_whom(notice, handle))
    rows = "".join(
        f"<li><b>{html.escape(label)}:</b> {html.escape(value)}</li>"
        for label, value in facts(notice)
    )
    parts = [f"<p><b>{html.escape(subject_line(notice))}</b></p>", f"<ul>{rows}</ul>"]
    if notice.drill:
        parts.insert(0, f"<p><b>{DRILL_MARK} THIS IS A DRILL</b>: a practice incident.</p>")
    if notice.summary:
        parts.append(f"<p>{html.escape(notice.summary)}</p>")
    parts.append(f"<p>{link}: please acknowledge {html.escape(notice.incident_ref)}.</p>")
    plain = plain_text(notice) + f"\n{_for_whom(notice, handle)}: please acknowledge.\n"
    content: JSON = {
        "msgtype": "m.text",
        "body": plain,
        "format": "org.matrix.custom.html",
        "formatted_body": "".join(parts),
    }
    if user:
        content["m.mentions"] = {"user_ids": [user]}
    return content


def matrix_request(notice: Notice, url: str, room: str, token: str) -> WebhookRequest:
    """The client-server API call that posts ``notice`` into ``room`` (PUT, idempotent)."""
    path = (
        f"/_matrix/client/v3/rooms/{quote(room, safe='')}/send/m.room.message/"
        f"{quote(txn_id(notice.key), safe='')}"
    )
    headers = _headers(notice) | {"Authorization": f"Bearer {token}"}
    body = json.dumps(_matrix_body(notice), ensure_ascii=False).encode("utf-8")
    return WebhookRequest("PUT", url.rstrip("/") + path, headers, body)


def generic_payload(template: str, notice: Notice) -> str:
    """The template with its placeholders filled in JSON-safely (see console.core.notice_template).

    Raises:
        TemplateError: An unknown placeholder, or a result that is not JSON.
    """
    return render_json(template, notice)


def _headers(notice: Notice) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        IDEMPOTENCY_HEADER: notice.key,
    }


def _post(url: str, notice: Notice, payload: JSON | str, token: str | None) -> WebhookRequest:
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    headers = _headers(notice)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return WebhookRequest("POST", url, headers, text.encode("utf-8"))


def build_request(config: WebhookConfig, notice: Notice, secret: str | None) -> WebhookRequest:
    """The request ``config`` sends for ``notice`` (``secret`` is the token, when it has one).

    Raises:
        TemplateError: A generic webhook whose template does not render.
        ValueError: A Matrix webhook without its room or token.
    """
    if config.kind is WebhookKind.SLACK:
        return _post(config.url, notice, slack_payload(notice), None)
    if config.kind is WebhookKind.TEAMS:
        return _post(config.url, notice, teams_payload(notice), None)
    if config.kind is WebhookKind.MATRIX:
        if not config.room or not secret:
            raise ValueError("a matrix webhook needs its room and its access token")
        return matrix_request(notice, config.url, config.room, secret)
    return _post(config.url, notice, generic_payload(config.template or "", notice), secret)


# -- sending ---------------------------------------------------------------------------------


def http_outcome(status: int, reason: str, body: str, where: str) -> Outcome:
    """What an HTTP answer means: 2xx sent; 429 and 5xx transient; anything else permanent."""
    said = " ".join(body.split())[:_BODY_EXCERPT]
    detail = f"{where} answered {status} {reason}".rstrip() + (f": {said}" if said else "")
    if 200 <= status < 300:
        return sent(detail)
    if status == 429 or status >= 500:
        return transient(detail)
    if 300 <= status < 400:
        return permanent(detail + " (a redirect: point the webhook at its final URL)")
    return permanent(detail)


def request_failure(exc: Exception, where: str) -> Outcome:
    """The outcome of a request that raised ``exc`` before an answer came."""
    if isinstance(exc, asyncio.TimeoutError):
        return transient(f"{where} did not answer in time")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return permanent(f"{where}: certificate verification failed: {exc.certificate_error}")
    if isinstance(exc, aiohttp.InvalidURL):
        return permanent(f"{where}: invalid URL")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return transient(f"{where}: cannot connect: {exc.os_error.strerror or exc.os_error}")
    return transient(f"{where}: {type(exc).__name__}: {exc}")


class WebhookChannel:
    """Sends notices to one configured webhook over the engine's aiohttp session.

    Args:
        config: The webhook.
        session: The engine's client session (owned and closed by the engine).
        secrets: Reads a keyring secret by name (run in a worker thread; may raise a
            `ConsoleError` when there is no keyring).
    """

    def __init__(
        self, config: WebhookConfig, session: aiohttp.ClientSession, secrets: SecretReader
    ) -> None:
        self.config = config
        self._session = session
        self._secrets = secrets

    @property
    def where(self) -> str:
        """How outcomes name this webhook (never by its URL: a Slack URL is itself a secret)."""
        return f"webhook {self.config.key!r}"

    async def send(self, notice: Notice) -> Outcome:
        """Send one notice; delivery problems come back as an `Outcome`, never raised."""
        secret: str | None = None
        try:
            secret = await self._secret()
            request = build_request(self.config, notice, secret)
        except (_Refused, TemplateError, ValueError) as exc:
            return permanent(f"{self.where}: {exc}")
        outcome = await self._send(request)
        if secret and secret in outcome.detail:
            outcome = Outcome(
                outcome.status, outcome.detail.replace(secret, "***"), outcome.permanent
            )
        return outcome

    async def _secret(self) -> str | None:
        name = self.config.secret
        if name is None:
            return None
        try:
            value = await asyncio.to_thread(self._secrets, name)
        except ConsoleError as exc:
            raise _Refused(f"cannot read secret {name!r}: {exc}") from None
        if value is None:
            raise _Refused(f"no secret named {name!r} in the keyring")
        return value

    async def _send(self, request: WebhookRequest) -> Outcome:
        timeout = aiohttp.ClientTimeout(total=self.config.timeout_s)
        try:
            async with self._session.request(
                request.method,
                request.url,
                data=request.body,
                headers=dict(request.headers),
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                raw = await response.content.read(4096)
                body = raw.decode("utf-8", "replace")
                return http_outcome(response.status, response.reason or "", body, self.where)
        except (TimeoutError, aiohttp.ClientError) as exc:
            return request_failure(exc, self.where)
