"""EmailChannel against a real SMTP server (aiosmtpd) with STARTTLS, implicit TLS and AUTH.

The password comes from the real Secret Service the test run starts (gnome-keyring on a
private bus); certificates are made for each test by a throwaway CA.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from console.core.notices import Notice, SmtpConfig, SmtpSecurity, message_id
from console.delivery.email import CLEAR_CREDENTIALS, EmailChannel
from console.delivery.outcome import DeliveryStatus, Outcome
from console.secrets import SecretStore

from tests.services import SecretService
from tests.unit.delivery.servers import (
    Certs,
    MailServer,
    closed_port,
    make_certs,
    notice,
    run,
    silent_server,
    smtp_server,
)

USER, PASSWORD = "oncall", 's3cret pass\u00e9 "quoted"'
SECRET = "smtp-password"


def no_secrets(name: str) -> str | None:
    raise AssertionError(f"no secret should be read here, asked for {name!r}")


@pytest.fixture
def certs(tmp_path: Path) -> Certs:
    return make_certs(tmp_path)


@pytest.fixture
def keyring(secret_env: SecretService) -> SecretStore:
    """A store under a service of its own on the real Secret Service, holding the password."""
    store = SecretStore(service=f"oncall-console-test-{uuid.uuid4().hex}")
    store.set(SECRET, PASSWORD)
    return store


def smtp(port: int, security: SmtpSecurity, certs: Certs | None, **changes: object) -> SmtpConfig:
    config = SmtpConfig(
        host="127.0.0.1",
        port=port,
        security=security,
        sender="oncall@console.example",
        ca_file=None if certs is None else str(certs.ca_file),
        timeout_s=5.0,
    )
    return replace(config, **changes)  # type: ignore[arg-type]


def send(config: SmtpConfig, item: Notice, secrets: object = no_secrets) -> Outcome:
    return asyncio.run(EmailChannel(config, secrets).send(item))  # type: ignore[arg-type]


def test_starttls_with_auth_from_the_keyring_delivers_a_drill_page(
    certs: Certs, keyring: SecretStore
) -> None:
    page = notice(drill=True, urgent=True)

    async def main() -> tuple[Outcome, MailServer]:
        async with smtp_server(starttls=certs.server, login=(USER, PASSWORD)) as server:
            config = smtp(server.port, SmtpSecurity.STARTTLS, certs)
            config = replace(config, username=USER, password_secret=SECRET)
            outcome = await EmailChannel(config, keyring.get).send(page)
        return outcome, server

    outcome, server = run(main())
    assert outcome.status is DeliveryStatus.SENT, outcome.detail
    assert server.logins == [(USER, True, True)]  # the right password, over TLS
    [mail] = server.messages
    assert mail.tls and mail.authenticated
    assert mail.mail_from == "oncall@console.example"
    assert mail.rcpt_tos == ["ana.silva@example.com"]
    msg = mail.message
    assert msg["Subject"] == "[DRILL] [URGENT] INC-42 P1: Checkout API <5xx> & timeouts"
    assert msg["Message-ID"] == message_id(page.key, "console.example")
    assert msg["X-Oncall-Idempotency-Key"] == page.key
    assert (msg["Importance"], msg["X-Priority"], msg["X-Oncall-Drill"]) == ("high", "1", "yes")
    assert msg["To"] == "Ana Silva <ana.silva@example.com>"
    body = msg.get_content()
    assert body.startswith("[DRILL] THIS IS A DRILL")
    assert "Escalation: level 2, urgent" in body
    assert "Error rate 12 % for 10 minutes" in body


def test_a_resend_carries_the_same_message_id_and_a_new_key_another(certs: Certs) -> None:
    first, again, other = notice(), notice(resend=True), notice(key="inc-42/3/0/ana")

    async def main() -> MailServer:
        async with smtp_server(implicit_tls=certs.server) as server:
            channel = EmailChannel(smtp(server.port, SmtpSecurity.TLS, certs), no_secrets)
            for item in (first, again, other):
                outcome = await channel.send(item)
                assert outcome.sent, outcome.detail
        return server

    server = run(main())
    ids = [m.message["Message-ID"] for m in server.messages]
    assert ids[0] == ids[1] != ids[2]
    assert all(m.tls for m in server.messages)
    assert server.messages[1].message["X-Oncall-Resend"] == "yes"
    assert "re-send" in server.messages[1].message.get_content()


def test_implicit_tls_with_auth(certs: Certs, keyring: SecretStore) -> None:
    async def main() -> tuple[Outcome, MailServer]:
        async with smtp_server(implicit_tls=certs.server, login=(USER, PASSWORD)) as server:
            config = smtp(server.port, SmtpSecurity.TLS, certs)
            config = replace(config, username=USER, password_secret=SECRET)
            return await EmailChannel(config, keyring.get).send(notice()), server

    outcome, server = run(main())
    assert outcome.sent, outcome.detail
    assert server.logins == [(USER, True, True)]
    [mail] = server.messages
    assert mail.message["Importance"] is None and mail.message["X-Priority"] is None
    assert mail.message["Subject"] == "INC-42 P1: Checkout API <5xx> & timeouts"


def test_a_wrong_password_is_a_permanent_failure(certs: Certs, secret_env: SecretService) -> None:
    store = SecretStore(service=f"oncall-console-test-{uuid.uuid4().hex}")
    store.set(SECRET, "not the password")

    async def main() -> tuple[Outcome, MailServer]:
        async with smtp_server(starttls=certs.server, login=(USER, PASSWORD)) as server:
            config = smtp(server.port, SmtpSecurity.STARTTLS, certs)
            config = replace(config, username=USER, password_secret=SECRET)
            return await EmailChannel(config, store.get).send(notice()), server

    outcome, server = run(main())
    assert (outcome.status, outcome.permanent) == (DeliveryStatus.FAILED, True)
    assert "refused the credentials: 535" in outcome.detail
    assert "not the password" not in outcome.detail
    assert server.messages == []


def test_a_missing_secret_is_permanent_and_nothing_is_sent(
    certs: Certs, keyring: SecretStore
) -> None:
    async def main() -> tuple[Outcome, MailServer]:
        async with smtp_server(starttls=certs.server, login=(USER, PASSWORD)) as server:
            config = smtp(server.port, SmtpSecurity.STARTTLS, certs)
            config = replace(config, username=USER, password_secret="never-stored")
            return await EmailChannel(config, keyring.get).send(notice()), server

    outcome, server = run(main())
    assert (outcome.status, outcome.permanent) == (DeliveryStatus.FAILED, True)
    assert outcome.detail == "no secret named 'never-stored' in the keyring"
    assert server.connections == 0


def test_credentials_are_never_sent_in_clear() -> None:
    async def main() -> tuple[Outcome, MailServer]:
        async with smtp_server(login=(USER, PASSWORD)) as server:
            config = smtp(server.port, SmtpSecurity.NONE, None, username=USER)
            config = replace(config, password_secret=SECRET)
            return await EmailChannel(config, no_secrets).send(notice()), server

    outcome, server = run(main())
    assert (outcome.status, outcome.permanent, outcome.detail) == (
        DeliveryStatus.FAILED,
        True,
        CLEAR_CREDENTIALS,
    )
    assert server.connections == 0


def test_starttls_required_but_not_offered_is_refused(certs: Certs) -> None:
    async def main() -> tuple[Outcome, MailServer]:
        async with smtp_server() as server:
            config = smtp(server.port, SmtpSecurity.STARTTLS, certs)
            return await EmailChannel(config, no_secrets).send(notice()), server

    outcome, server = run(main())
    assert outcome.permanent and "does not offer STARTTLS" in outcome.detail
    assert server.messages == []


def test_an_untrusted_certificate_is_refused(certs: Certs) -> None:
    async def main() -> tuple[Outcome, MailServer]:
        async with smtp_server(implicit_tls=certs.server) as server:
            config = smtp(server.port, SmtpSecurity.TLS, None)  # the system CAs only
            return await EmailChannel(config, no_secrets).send(notice()), server

    outcome, server = run(main())
    assert (outcome.status, outcome.permanent) == (DeliveryStatus.FAILED, True)
    assert "certificate verification failed" in outcome.detail
    assert server.messages == []


@pytest.mark.parametrize(
    ("reply", "status", "is_permanent"),
    [
        ("550 5.1.1 No such user here", DeliveryStatus.FAILED, True),
        ("451 4.3.0 Try again later", DeliveryStatus.RETRY, False),
    ],
)
def test_a_refused_recipient_is_permanent_for_5xx_and_transient_for_4xx(
    reply: str, status: DeliveryStatus, is_permanent: bool
) -> None:
    async def main() -> tuple[Outcome, MailServer]:
        async with smtp_server(rcpt_reply=reply) as server:
            config = smtp(server.port, SmtpSecurity.NONE, None)
            return await EmailChannel(config, no_secrets).send(notice()), server

    outcome, server = run(main())
    assert (outcome.status, outcome.permanent) == (status, is_permanent)
    assert reply in outcome.detail and "ana.silva@example.com" in outcome.detail
    assert server.messages == []


def test_a_server_that_hangs_times_out_as_a_transient_failure() -> None:
    async def main() -> Outcome:
        async with silent_server() as port:
            config = smtp(port, SmtpSecurity.NONE, None, timeout_s=0.3)
            return await EmailChannel(config, no_secrets).send(notice())

    outcome = run(main())
    assert (outcome.status, outcome.permanent) == (DeliveryStatus.RETRY, False)
    assert outcome.detail.endswith("did not answer in time")


def test_a_refused_connection_is_transient() -> None:
    async def main() -> Outcome:
        port = await closed_port()
        return await EmailChannel(smtp(port, SmtpSecurity.NONE, None), no_secrets).send(notice())

    outcome = run(main())
    assert (outcome.status, outcome.permanent) == (DeliveryStatus.RETRY, False)
    assert "refused the connection" in outcome.detail
