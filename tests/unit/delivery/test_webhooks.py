"""WebhookChannel against a real aiohttp server on loopback that checks what it receives.

Slack's JSON, the Teams card validated against Microsoft's Adaptive Card schema, the Matrix
request (method, path, txnId, token, body), the generic template's output, and the answers
that decide a retry: 500 then 200 retried with backoff, 404 not retried.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from console.core.notices import Notice, WebhookConfig, WebhookKind
from console.delivery.outcome import DeliveryStatus, Outcome
from console.delivery.retry import deliver
from console.delivery.webhooks import WebhookChannel, adaptive_card, txn_id
from console.secrets import SecretStore
from jsonschema import Draft6Validator

from tests.services import SecretService
from tests.unit.delivery.servers import Hit, Receiver, closed_port, notice, receiver, run, statuses

SCHEMA = Path(__file__).parents[2] / "fixtures/adaptive_cards/adaptive-card-1.4.schema.json"
ROOM = "!ops-room:example.org"
TEMPLATE = (
    '{"to": "{{recipient.phone}}", "text": "{{summary}}", "drill": {{drill}}, '
    '"incident": {"ref": "{{incident.ref}}", "service": {{incident.service}}}}'
)


def no_secrets(name: str) -> str | None:
    raise AssertionError(f"no secret should be read here, asked for {name!r}")


def hook(kind: WebhookKind, url: str, **fields: Any) -> WebhookConfig:
    return WebhookConfig(key=f"{kind.value}-hook", kind=kind, url=url, **fields)


async def send_one(config: WebhookConfig, item: Notice, secrets: Any = no_secrets) -> Outcome:
    async with aiohttp.ClientSession() as session:
        return await WebhookChannel(config, session, secrets).send(item)


def posted(
    reply: Any, make: Any, item: Notice, secrets: Any = no_secrets
) -> tuple[Outcome, list[Hit]]:
    """Serve, send one notice through the webhook ``make(url)`` builds, return what arrived."""

    async def main() -> tuple[Outcome, Receiver]:
        async with receiver(reply) as server:
            return await send_one(make(server.url("/hook")), item, secrets), server

    outcome, server = run(main())
    return outcome, server.hits


async def _ok(hit: Hit, count: int) -> web.StreamResponse:
    """Answer as the services do: Teams' Workflows 202 Accepted, the others 200."""
    return web.Response(status=202 if hit.path == "/teams" else 200, text="ok")


def test_slack_gets_blocks_with_a_real_mention_and_the_idempotency_key() -> None:
    item = notice(drill=True)
    outcome, [hit] = posted(_ok, lambda url: hook(WebhookKind.SLACK, url), item)
    assert outcome.sent, outcome.detail
    assert (hit.method, hit.path) == ("POST", "/hook")
    assert hit.headers["Idempotency-Key"] == item.key
    assert hit.headers["Content-Type"] == "application/json"
    body = json.loads(hit.body)
    assert body["text"].startswith("[DRILL] INC-42 P1: Checkout API &lt;5xx&gt; &amp; timeouts")
    assert "(Ana Silva (<@U024BE7LH>))" in body["text"]
    first, main = body["blocks"][0], body["blocks"][1]
    assert "This is a drill" in first["text"]["text"]
    assert main["text"]["text"] == "*[DRILL] INC-42 P1: Checkout API &lt;5xx&gt; &amp; timeouts*"
    assert {"type": "mrkdwn", "text": "*Service*\ncheckout-api"} in main["fields"]
    assert len(main["fields"]) <= 10
    assert body["blocks"][-1]["elements"][0]["text"].startswith("Ana Silva (<@U024BE7LH>)")


@pytest.fixture(scope="module")
def card_schema() -> Draft6Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft6Validator.check_schema(schema)
    return Draft6Validator(schema)


def test_teams_gets_a_workflows_message_whose_card_passes_the_adaptive_card_schema(
    card_schema: Draft6Validator,
) -> None:
    item = notice(drill=True, urgent=True)
    outcome, [hit] = posted(_ok, lambda url: hook(WebhookKind.TEAMS, url[:-5] + "/teams"), item)
    assert outcome.sent, outcome.detail
    assert hit.headers["Idempotency-Key"] == item.key
    body = json.loads(hit.body)
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    errors = [e.message for e in card_schema.iter_errors(card)]
    assert errors == []
    assert card["version"] == "1.4"
    texts = [b.get("text", "") for b in card["body"]]
    assert texts[0].startswith("[DRILL]")  # the drill banner comes first
    assert texts[1] == "[DRILL] [URGENT] INC-42 P1: Checkout API <5xx> & timeouts"
    facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
    assert (facts["Team"], facts["Escalation"]) == ("payments", "level 2, urgent")
    assert len(hit.body) < 28 * 1024  # Teams' limit for a card sent through a webhook


def test_the_schema_check_rejects_what_teams_would_reject(card_schema: Draft6Validator) -> None:
    card = adaptive_card(notice())
    assert card_schema.is_valid(card)
    assert not card_schema.is_valid(card | {"msteams": {"entities": []}})
    no_text = [{"type": "TextBlock", "wrap": True}]
    assert not card_schema.is_valid(card | {"body": no_text})


def test_matrix_puts_an_idempotent_message_with_the_token_from_the_keyring(
    secret_env: SecretService,
) -> None:
    store = SecretStore(service=f"oncall-console-test-{uuid.uuid4().hex}")
    store.set("matrix-token", "syt_secret_token")
    first, again = notice(), notice(resend=True)
    events: dict[str, str] = {}

    async def homeserver(hit: Hit, count: int) -> web.StreamResponse:
        # A real homeserver answers a repeated txnId with the event it already made.
        event = events.setdefault(hit.match["txn"], f"$event{len(events)}")
        return web.json_response({"event_id": event})

    async def main() -> tuple[list[Outcome], Receiver]:
        async with receiver(homeserver) as server:
            config = hook(WebhookKind.MATRIX, server.url(), room=ROOM, secret="matrix-token")
            async with aiohttp.ClientSession() as session:
                channel = WebhookChannel(config, session, store.get)
                outcomes = [await channel.send(first), await channel.send(again)]
        return outcomes, server

    outcomes, server = run(main())
    assert all(o.sent for o in outcomes), outcomes
    hit, repeat = server.hits
    assert hit.method == "PUT"
    assert hit.match == {"room": ROOM, "txn": txn_id(first.key)}
    assert repeat.match == hit.match  # same key, same txnId: one event in the room
    assert len(events) == 1
    assert hit.headers["Authorization"] == "Bearer syt_secret_token"
    assert hit.headers["Idempotency-Key"] == first.key
    body = json.loads(hit.body)
    assert (body["msgtype"], body["format"]) == ("m.text", "org.matrix.custom.html")
    assert body["body"].startswith("INC-42 P1: Checkout API <5xx> & timeouts")
    assert "Checkout API &lt;5xx&gt; &amp; timeouts" in body["formatted_body"]
    assert '<a href="https://matrix.to/#/@ana:example.org">Ana Silva</a>' in body["formatted_body"]
    assert body["m.mentions"] == {"user_ids": ["@ana:example.org"]}
    assert "syt_secret_token" not in " ".join(o.detail for o in outcomes)


def test_the_generic_template_is_filled_json_safely_with_a_bearer_token() -> None:
    item = notice(drill=True, urgent=True, title='Disk "full" \\ on\ndb-1')
    tokens = {"sms-token": "tok-123"}
    outcome, [hit] = posted(
        _ok,
        lambda url: hook(WebhookKind.GENERIC, url, template=TEMPLATE, secret="sms-token"),
        item,
        tokens.get,
    )
    assert outcome.sent, outcome.detail
    assert hit.headers["Authorization"] == "Bearer tok-123"
    assert hit.headers["Idempotency-Key"] == item.key
    assert json.loads(hit.body) == {
        "to": "+351910000001",
        "text": '[DRILL] [URGENT] INC-42 P1: Disk "full" \\ on db-1'
        " - Error rate 12 % for 10 minutes",
        "drill": True,
        "incident": {"ref": "INC-42", "service": "checkout-api"},
    }


def test_a_500_then_a_200_is_retried_after_the_first_backoff() -> None:
    waits: list[float] = []
    attempts: list[tuple[int, DeliveryStatus]] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    async def main() -> tuple[Outcome, Receiver]:
        async with receiver(statuses(500, 200)) as server:
            config = hook(WebhookKind.SLACK, server.url("/hook"))
            async with aiohttp.ClientSession() as session:
                channel = WebhookChannel(config, session, no_secrets)
                outcome = await deliver(
                    channel.send,
                    notice(),
                    sleep=fake_sleep,
                    on_attempt=lambda n, o: attempts.append((n, o.status)),
                )
        return outcome, server

    outcome, server = run(main())
    assert outcome.sent
    assert attempts == [(1, DeliveryStatus.RETRY), (2, DeliveryStatus.SENT)]
    assert waits == [2.0]
    keys = {h.headers["Idempotency-Key"] for h in server.hits}
    assert len(server.hits) == 2 and keys == {notice().key}


@pytest.mark.parametrize("code", [404, 400, 403])
def test_a_client_error_is_permanent_and_not_retried(code: int) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    async def main() -> tuple[Outcome, Receiver]:
        async with receiver(statuses(code)) as server:
            config = hook(WebhookKind.TEAMS, server.url("/hook"))
            async with aiohttp.ClientSession() as session:
                channel = WebhookChannel(config, session, no_secrets)
                return await deliver(channel.send, notice(), sleep=fake_sleep), server

    outcome, server = run(main())
    assert (outcome.status, outcome.permanent) == (DeliveryStatus.FAILED, True)
    assert f"webhook 'teams-hook' answered {code}" in outcome.detail
    assert len(server.hits) == 1 and waits == []


def test_429_and_5xx_are_retried_until_the_attempts_run_out() -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    async def main() -> tuple[Outcome, Receiver]:
        async with receiver(statuses(429, 503, 502, 500, 200)) as server:
            config = hook(WebhookKind.SLACK, server.url("/hook"))
            async with aiohttp.ClientSession() as session:
                channel = WebhookChannel(config, session, no_secrets)
                return await deliver(channel.send, notice(), sleep=fake_sleep), server

    outcome, server = run(main())
    assert (outcome.status, outcome.permanent) == (DeliveryStatus.FAILED, False)
    assert outcome.detail.endswith("(gave up after 4 attempts)") and "500" in outcome.detail
    assert len(server.hits) == 4 and waits == [2.0, 10.0, 30.0]


def test_a_redirect_is_not_followed() -> None:
    async def moved(hit: Hit, count: int) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": "/elsewhere"})

    outcome, hits = posted(moved, lambda url: hook(WebhookKind.SLACK, url), notice())
    assert outcome.permanent and "302" in outcome.detail and "redirect" in outcome.detail
    assert [h.path for h in hits] == ["/hook"]


def test_a_webhook_that_hangs_times_out_as_transient() -> None:
    async def main() -> Outcome:
        async with receiver() as server:

            async def hang(hit: Hit, count: int) -> web.StreamResponse:
                await server.release.wait()
                return web.Response(text="late")

            server.reply = hang
            config = hook(WebhookKind.SLACK, server.url("/hook"), timeout_s=0.3)
            return await send_one(config, notice())

    outcome = run(main())
    assert (outcome.status, outcome.permanent) == (DeliveryStatus.RETRY, False)
    assert outcome.detail == "webhook 'slack-hook' did not answer in time"


def test_a_refused_connection_is_transient() -> None:
    async def main() -> Outcome:
        port = await closed_port()
        return await send_one(hook(WebhookKind.SLACK, f"http://127.0.0.1:{port}/x"), notice())

    outcome = run(main())
    assert (outcome.status, outcome.permanent) == (DeliveryStatus.RETRY, False)
    assert "cannot connect" in outcome.detail


def test_a_missing_secret_fails_permanently_before_any_request() -> None:
    outcome, hits = posted(
        _ok,
        lambda url: hook(WebhookKind.GENERIC, url, template=TEMPLATE, secret="sms-token"),
        notice(),
        {}.get,
    )
    assert (outcome.status, outcome.permanent) == (DeliveryStatus.FAILED, True)
    assert outcome.detail == "webhook 'generic-hook': no secret named 'sms-token' in the keyring"
    assert hits == []


def test_a_template_that_breaks_json_fails_permanently_before_any_request() -> None:
    broken = '{"text": {{summary}} {{drill}}}'
    outcome, hits = posted(
        _ok, lambda url: hook(WebhookKind.GENERIC, url, template=broken), notice()
    )
    assert outcome.permanent and "not valid JSON" in outcome.detail
    assert hits == []


def test_the_server_answer_is_quoted_in_the_outcome_without_the_token() -> None:
    async def echo(hit: Hit, count: int) -> web.StreamResponse:
        said = hit.headers.get("Authorization", "")
        return web.Response(status=401, text=f"bad credentials {said}")

    outcome, _ = posted(
        echo,
        lambda url: hook(WebhookKind.GENERIC, url, template=TEMPLATE, secret="t"),
        notice(),
        {"t": "very-secret-token"}.get,
    )
    assert outcome.permanent and "401" in outcome.detail
    assert "very-secret-token" not in outcome.detail and "Bearer ***" in outcome.detail


def test_concurrent_sends_share_one_session() -> None:
    items = [notice(key=f"inc-42/2/0/person-{i}") for i in range(5)]

    async def main() -> tuple[list[Outcome], Receiver]:
        async with receiver(_ok) as server:
            config = hook(WebhookKind.SLACK, server.url("/hook"))
            async with aiohttp.ClientSession() as session:
                channel = WebhookChannel(config, session, no_secrets)
                outcomes = await asyncio.gather(*(channel.send(i) for i in items))
        return list(outcomes), server

    outcomes, server = run(main())
    assert all(o.sent for o in outcomes)
    assert sorted(h.headers["Idempotency-Key"] for h in server.hits) == sorted(i.key for i in items)
