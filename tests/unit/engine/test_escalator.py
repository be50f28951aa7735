"""The engine's escalator against a real SMTP server and a real webhook receiver on loopback.

Each test opens an incident in a real store whose policy pages Ana at once and Bob ten minutes
later (urgent), runs the escalator's ticks on a fake clock, and reads what arrived at aiosmtpd
and at the aiohttp receiver, and what the incident's timeline says about every attempt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from console.core.clock import FakeClock
from console.core.enums import Discipline, ImpactTier, MemberRole, Severity
from console.core.escalation import Level, Policy, Target, TargetKind
from console.core.events import EventType
from console.core.models import Member, Membership, Service, Team
from console.core.notices import (
    DeliveryConfig,
    SmtpConfig,
    SmtpSecurity,
    WebhookConfig,
    WebhookKind,
    message_id,
)
from console.core.signals import ManualReport
from console.delivery.channels import Channels
from console.engine.escalator import NO_CHANNEL, Escalator
from console.store import delivery, entities, escalations, incidents
from console.store.db import Store
from console.store.events import iter_events

from tests.unit.delivery.servers import receiver, run, smtp_server, statuses

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
ANA, BOB, CAT = "ana@example.com", "bob@example.com", "cat@example.com"
POLICY = Policy(
    "payments",
    "Payments",
    (
        Level(timedelta(0), (Target(TargetKind.MEMBER, ANA),)),
        Level(timedelta(minutes=10), (Target(TargetKind.MEMBER, BOB),), urgent=True),
    ),
    services=("payments",),
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    with Store.open(tmp_path / "store.db", clock) as opened:
        for email, phone in ((ANA, "+351900000001"), (BOB, None), (CAT, None)):
            name = email.split("@")[0].title()
            entities.save(
                opened, Member(email, name, "UTC", Discipline.INFRASTRUCTURE, phone=phone)
            )
        team = Team(
            "payments", "Payments", Discipline.DEVELOPMENT,
            members=(Membership(ANA, MemberRole.RESPONDER), Membership(BOB, MemberRole.RESPONDER)),
        )  # fmt: skip
        entities.save(opened, team)
        entities.save(opened, Service("payments", "Payments API", "payments", ImpactTier.TIER_1))
        entities.save(opened, POLICY)
        yield opened


def smtp_to(port: int) -> SmtpConfig:
    return SmtpConfig("127.0.0.1", port, SmtpSecurity.NONE, "oncall@example.com", timeout_s=5)


def open_incident(store: Store) -> str:
    report = ManualReport(
        "Payments failing", "service desk", service="payments", severity=Severity.CRITICAL
    )
    outcome = incidents.create_manual(store, report)
    assert outcome.incident is not None
    return outcome.incident.id


def issued(store: Store, incident: str) -> list[dict[str, Any]]:
    return [
        dict(e.payload)
        for e in iter_events(store.read(), subject=f"incident:{incident}")
        if e.type is EventType.NOTIFICATION_ISSUED
    ]


def types(store: Store, incident: str) -> list[str]:
    return [e.type.value for e in iter_events(store.read(), subject=f"incident:{incident}")]


async def no_sleep(_: float) -> None:
    await asyncio.sleep(0)


def escalator(store: Store, clock: FakeClock, session: aiohttp.ClientSession) -> Escalator:
    def channels(config: DeliveryConfig | None) -> Channels:
        return Channels(config or DeliveryConfig(), session, lambda name: None)

    return Escalator(store, clock, channels, attempts=3, backoff=(1.0,), sleep=no_sleep)


def test_each_level_is_mailed_when_due_and_every_attempt_is_on_the_timeline(
    store: Store, clock: FakeClock
) -> None:
    async def main() -> None:
        async with smtp_server() as mail, aiohttp.ClientSession() as session:
            delivery.set_config(store, DeliveryConfig(smtp_to(mail.port)))
            incident = open_incident(store)
            esc = escalator(store, clock, session)
            first = await esc.tick()
            await esc.drain()
            assert first.incidents == 1 and [s.notice.recipient.email for s in first.sends] == [ANA]
            assert [m.rcpt_tos for m in mail.messages] == [[ANA]]
            ana = mail.messages[0].message
            key = f"{incident}/0/0/{ANA}"
            assert ana["Message-ID"] == message_id(key, "example.com")
            assert str(ana["X-Oncall-Idempotency-Key"]).strip() == key  # long: folded
            # Nothing more until Bob's level is due, ten minutes on.
            clock.advance(9 * 60)
            assert (await esc.tick()).incidents == 0
            clock.advance(60)
            second = await esc.tick()
            await esc.drain()
            assert [s.notice.recipient.email for s in second.sends] == [BOB]
            bob = mail.messages[1].message
            assert mail.messages[1].rcpt_tos == [BOB] and bob["Importance"] == "high"
            attempts = [
                (p["recipient"], p["channel"], p["status"]) for p in issued(store, incident)
            ]
            assert attempts == [
                (ANA, "email", "pending"), (ANA, "email", "sent"),
                (BOB, "email", "pending"), (BOB, "email", "sent"),
            ]  # fmt: skip
            assert types(store, incident).count("escalation.level_started") == 2

    run(main())


def test_acknowledging_stops_the_pages(store: Store, clock: FakeClock) -> None:
    async def main() -> None:
        async with smtp_server() as mail, aiohttp.ClientSession() as session:
            delivery.set_config(store, DeliveryConfig(smtp_to(mail.port)))
            incident = open_incident(store)
            esc = escalator(store, clock, session)
            await esc.tick()
            await esc.drain()
            ref = incidents.list_incidents(store.read())[0].ref
            escalations.acknowledge_on_behalf(store, ref, ANA, "phone", by="noc")
            clock.advance(3600)
            assert (await esc.tick()).incidents == 0
            assert len(mail.messages) == 1
            ack = [e for e in iter_events(store.read(), subject=f"incident:{incident}")
                   if e.type is EventType.INCIDENT_ACKNOWLEDGED]  # fmt: skip
            assert ack[0].payload["on_behalf_of"] == ANA and ack[0].payload["via"] == "phone"

    run(main())


def test_a_webhook_that_fails_is_retried_and_each_attempt_recorded(
    store: Store, clock: FakeClock
) -> None:
    async def main() -> None:
        async with receiver(statuses(500, 200)) as hook, aiohttp.ClientSession() as session:
            gateway = WebhookConfig(
                "sms", WebhookKind.GENERIC, hook.url("/send"),
                template='{"to": "{{recipient.phone}}", "text": "{{incident.ref}}"}',
            )  # fmt: skip
            delivery.set_config(store, DeliveryConfig(None, (gateway,)))
            incident = open_incident(store)
            esc = escalator(store, clock, session)
            await esc.tick()
            await esc.drain()
            assert len(hook.hits) == 2
            keys = {h.headers["Idempotency-Key"] for h in hook.hits}
            assert keys == {f"{incident}/0/0/{ANA}"}  # the retry carries the same key
            statuses_seen = [(p["attempt"], p["status"]) for p in issued(store, incident)]
            assert statuses_seen == [(1, "pending"), (1, "pending"), (2, "sent")]
            assert "500" in issued(store, incident)[1]["error"]

    run(main())


def test_a_member_no_channel_reaches_is_recorded_as_a_failed_page(
    store: Store, clock: FakeClock
) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            # Only an SMS gateway that needs a phone: Bob has none.
            gateway = WebhookConfig(
                "sms", WebhookKind.GENERIC, "http://127.0.0.1:9/send",
                template='{"to": "{{recipient.phone}}"}',
            )  # fmt: skip
            delivery.set_config(store, DeliveryConfig(None, (gateway,)))
            incident = open_incident(store)
            esc = escalator(store, clock, session)
            await esc.tick()  # Ana's level: her phone takes the gateway (nobody listens there)
            # Escalate now: Bob's level starts at once, but nothing reaches him.
            escalations.escalate(store, incidents.list_incidents(store.read())[0].ref, by="noc")
            report = await esc.tick()
            await esc.close()
            bob = [p for p in issued(store, incident) if p["recipient"] == BOB]
            assert [(p["channel"], p["status"]) for p in bob] == [(NO_CHANNEL, "failed")]
            assert "no channel reaches" in bob[0]["error"]
            assert report.incidents == 1

    run(main())


def test_after_a_crash_an_unsettled_attempt_is_sent_again_with_the_same_message_id(
    store: Store, clock: FakeClock
) -> None:
    async def main() -> None:
        async with smtp_server() as mail, aiohttp.ClientSession() as session:
            delivery.set_config(store, DeliveryConfig(smtp_to(mail.port)))
            incident = open_incident(store)
            crashed = escalator(store, clock, session)
            # The plan and its pending attempt are recorded; the process dies before sending.
            report = await asyncio.to_thread(crashed._plan_due)
            assert len(report.sends) == 1 and not mail.messages
            restarted = escalator(store, clock, session)
            resent = await restarted.recover()
            await restarted.drain()
            assert len(resent) == 1 and resent[0].notice.resend
            key = f"{incident}/0/0/{ANA}"
            assert [m.message["Message-ID"] for m in mail.messages] == [
                message_id(key, "example.com")
            ]
            attempts = [(p["status"], p["resend"]) for p in issued(store, incident)]
            assert attempts == [("pending", False), ("unknown", True), ("sent", True)]
            # Settled now: another restart sends nothing.
            again = escalator(store, clock, session)
            assert await again.recover() == []

    run(main())
