"""Channels: one config, a real SMTP server and a real webhook receiver, each reached by its ref."""

from __future__ import annotations

import aiohttp
from console.core.notices import (
    ChannelKind,
    ChannelRef,
    DeliveryConfig,
    SmtpConfig,
    SmtpSecurity,
    WebhookConfig,
    WebhookKind,
)
from console.delivery.channels import Channels
from console.delivery.outcome import Outcome

from tests.unit.delivery.servers import MailServer, Receiver, notice, receiver, run, smtp_server


def no_secrets(name: str) -> str | None:
    raise AssertionError(f"no secret should be read here, asked for {name!r}")


def test_each_channel_reaching_a_person_delivers_through_its_own_server() -> None:
    page = notice(urgent=True)

    async def main() -> tuple[dict[str, Outcome], MailServer, Receiver]:
        async with smtp_server() as mail, receiver() as hooks:
            config = DeliveryConfig(
                smtp=SmtpConfig("127.0.0.1", mail.port, SmtpSecurity.NONE, "oncall@c.example"),
                webhooks=(
                    WebhookConfig("ops", WebhookKind.SLACK, hooks.url("/slack")),
                    WebhookConfig(
                        "infra", WebhookKind.TEAMS, hooks.url("/teams"), teams=("infra",)
                    ),
                ),
            )
            async with aiohttp.ClientSession() as session:
                channels = Channels(config, session, no_secrets)
                refs = channels.reaching(page.recipient, page.team, page.urgent)
                outcomes = {ref.label: await channels.send(ref, page) for ref in refs}
                outcomes["ghost"] = await channels.send(ChannelRef(ChannelKind.WEBHOOK, "x"), page)
        return outcomes, mail, hooks

    outcomes, mail, hooks = run(main())
    assert list(outcomes) == ["email", "webhook:ops", "ghost"]  # infra's webhook: not this team
    assert outcomes["email"].sent and outcomes["webhook:ops"].sent
    assert outcomes["ghost"].permanent and "no webhook 'x'" in outcomes["ghost"].detail
    assert [m.message["Subject"] for m in mail.messages] == [
        "[URGENT] INC-42 P1: Checkout API <5xx> & timeouts"
    ]
    assert [h.path for h in hooks.hits] == ["/slack"]


def test_email_without_smtp_is_a_permanent_failure() -> None:
    async def main() -> Outcome:
        async with aiohttp.ClientSession() as session:
            channels = Channels(DeliveryConfig(), session, no_secrets)
            return await channels.send(ChannelRef(ChannelKind.EMAIL, "smtp"), notice())

    outcome = run(main())
    assert outcome.permanent and "email is not configured" in outcome.detail
