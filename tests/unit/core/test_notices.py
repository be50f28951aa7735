"""Notices: Message-IDs from keys, subject and text (DRILL first), channels, templates, rules."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from console.core.delivery_rules import validate_delivery
from console.core.enums import Discipline, Priority, Severity
from console.core.incidents import Incident, IncidentState
from console.core.models import ChatHandle, Member
from console.core.notice_template import TemplateError, render_json, sample_notice, template_problem
from console.core.notices import (
    ChannelKind,
    ChannelRef,
    DeliveryConfig,
    Notice,
    Recipient,
    SmtpConfig,
    SmtpSecurity,
    WebhookConfig,
    WebhookKind,
    channels_for,
    message_id,
    notice_for,
    plain_text,
    subject_line,
)
from console.core.signals import SignalSource

ANA = Recipient("ana@example.com", "Ana", "+351910000001", (ChatHandle("Slack", "U1"),))
BEA = Recipient("bea@example.com", "Bea")
SMTP = SmtpConfig("smtp.example.com", 587, SmtpSecurity.STARTTLS, "oncall@example.com")
SMS = '{"to": "{{recipient.phone}}", "text": "{{summary}}"}'


def notice(**changes: object) -> Notice:
    base = Notice(
        key="i1/1/0/ana@example.com",
        incident_id="i1",
        incident_ref="INC-7",
        title="Queue backlog",
        severity=Severity.WARNING,
        priority=Priority.P2,
        state=IncidentState.TRIGGERED,
        service="orders",
        team="payments",
        level=1,
        repeat=0,
        urgent=False,
        drill=False,
        recipient=ANA,
        summary=None,
        at=datetime(2026, 1, 5, 7, 0, tzinfo=UTC),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_message_id_depends_only_on_the_key_and_domain() -> None:
    one = message_id("i1/1/0/ana", "example.com")
    assert one == message_id("i1/1/0/ana", "example.com")
    assert one != message_id("i1/2/0/ana", "example.com")
    assert one.startswith("<oncall.") and one.endswith("@example.com>")
    assert message_id("k", "").endswith("@oncall-console.invalid>")


def test_subject_puts_drill_first_then_urgency_and_keeps_one_line() -> None:
    assert subject_line(notice()) == "INC-7 P2: Queue backlog"
    drill = notice(drill=True, urgent=True, title="Queue\nbacklog  growing")
    assert subject_line(drill) == "[DRILL] [URGENT] INC-7 P2: Queue backlog growing"


def test_plain_text_opens_with_the_drill_and_lists_the_facts() -> None:
    text = plain_text(notice(drill=True, urgent=True, repeat=1, summary="lag 5 min"))
    lines = text.splitlines()
    assert lines[0].startswith("[DRILL] THIS IS A DRILL")
    assert any(line.startswith("[URGENT]") for line in lines[:5])
    assert "Escalation: level 1 (repeat 1), urgent" in text
    assert "Service:    orders" in text and "lag 5 min" in text
    assert "oncall-console incidents ack INC-7" in text
    assert "DRILL" not in plain_text(notice()) and "URGENT" not in plain_text(notice())
    assert "re-send" in plain_text(notice(resend=True))


def test_recipient_from_member_and_handles_by_network() -> None:
    member = Member(
        "c@example.com", "Cy", "UTC", Discipline.SECURITY, "+1", (ChatHandle("matrix", "@c:x"),)
    )
    r = Recipient.from_member(member)
    assert (r.email, r.name, r.phone) == ("c@example.com", "Cy", "+1")
    assert r.handle("MATRIX") == "@c:x" and r.handle("slack") is None
    assert ANA.handle("slack") == "U1"


def test_channels_follow_smtp_teams_urgency_and_the_phone() -> None:
    config = DeliveryConfig(
        smtp=SMTP,
        webhooks=(
            WebhookConfig("pay-slack", WebhookKind.SLACK, "https://h/1", teams=("payments",)),
            WebhookConfig("all-teams", WebhookKind.TEAMS, "https://h/2"),
            WebhookConfig(
                "sms", WebhookKind.GENERIC, "https://h/3", template=SMS, urgent_only=True
            ),
            WebhookConfig("log", WebhookKind.GENERIC, "https://h/4", template='{"k": "{{key}}"}'),
        ),
    )
    email = ChannelRef(ChannelKind.EMAIL, "smtp")

    def keys(r: Recipient, team: str | None, urgent: bool) -> list[str]:
        return [c.label for c in channels_for(r, config, team, urgent)]

    assert keys(ANA, "payments", True) == [
        "email", "webhook:pay-slack", "webhook:all-teams", "webhook:sms", "webhook:log"
    ]  # fmt: skip
    assert keys(ANA, "payments", False) == [
        "email", "webhook:pay-slack", "webhook:all-teams", "webhook:log"
    ]  # fmt: skip
    assert keys(ANA, "infra", True) == ["email", "webhook:all-teams", "webhook:sms", "webhook:log"]
    # Bea has no phone: the SMS gateway cannot reach her, the rest can.
    assert keys(BEA, "payments", True) == [
        "email", "webhook:pay-slack", "webhook:all-teams", "webhook:log"
    ]  # fmt: skip
    assert channels_for(ANA, DeliveryConfig(), "payments", True) == ()
    assert channels_for(BEA, DeliveryConfig(smtp=SMTP), None, False) == (email,)


def test_template_values_are_escaped_inside_strings_and_typed_outside() -> None:
    template = (
        '{"t": "x {{incident.title}} y", "d": {{drill}}, "l": {{level}}, "p": {{recipient.phone}}}'
    )
    item = notice(title='a "b" \\ c', recipient=BEA, drill=True)
    out = json.loads(render_json(template, item))
    assert out == {"t": 'x a "b" \\ c y', "d": True, "l": 1, "p": None}
    inside = json.loads(render_json('{"p": "{{recipient.phone}}", "u": "{{urgent}}"}', item))
    assert inside == {"p": "", "u": "false"}


def test_template_problems_are_found_by_rendering_a_sample() -> None:
    assert template_problem(SMS) is None
    assert "unknown placeholder {{recipient.fax}}" in (
        template_problem('{"x": "{{recipient.fax}}"}') or ""
    )
    assert "not valid JSON" in (template_problem('{"x": {{summary}} }x') or "")
    assert "not valid JSON" in (template_problem('{"x": "unterminated {{summary}}}') or "")
    with pytest.raises(TemplateError):
        render_json("{{nope}}", sample_notice())


def paths(config: DeliveryConfig, teams: set[str] | None = None) -> dict[str, str]:
    return {p.path: p.message for p in validate_delivery(config, teams)}


def test_a_good_configuration_has_no_problems() -> None:
    config = DeliveryConfig(
        smtp=replace(SMTP, username="oncall", password_secret="smtp-password"),
        webhooks=(
            WebhookConfig("s", WebhookKind.SLACK, "https://hooks.slack.com/x", teams=("payments",)),
            WebhookConfig("m", WebhookKind.MATRIX, "https://m.org", secret="tok", room="!r:m.org"),
            WebhookConfig("g", WebhookKind.GENERIC, "https://sms", template=SMS, secret="t"),
        ),
    )
    assert validate_delivery(config, {"payments"}) == []


def test_every_bad_smtp_field_is_reported_with_its_path() -> None:
    bad = SmtpConfig("", 0, SmtpSecurity.NONE, "nobody", username="u", timeout_s=0)
    found = paths(DeliveryConfig(smtp=bad))
    assert set(found) == {
        "delivery.smtp.host",
        "delivery.smtp.port",
        "delivery.smtp.from",
        "delivery.smtp.password_secret",
        "delivery.smtp.security",
        "delivery.smtp.timeout",
    }
    assert "in clear" in found["delivery.smtp.security"]
    lone = paths(DeliveryConfig(smtp=replace(SMTP, password_secret="p")))
    assert list(lone) == ["delivery.smtp.username"]


def test_every_bad_webhook_field_is_reported_with_its_path() -> None:
    hooks = (
        WebhookConfig("a", WebhookKind.MATRIX, "ftp://x"),
        WebhookConfig("a", WebhookKind.SLACK, "https://x", secret="s", room="!r:x", template="{}"),
        WebhookConfig("g", WebhookKind.GENERIC, "https://x", teams=("ghosts",)),
        WebhookConfig("h", WebhookKind.GENERIC, "https://x", template='{"a": {{nope}}}'),
        WebhookConfig("m", WebhookKind.MATRIX, "https://x", secret="s", room="general"),
    )
    found = paths(DeliveryConfig(webhooks=hooks), {"payments"})
    assert set(found) == {
        "delivery.webhooks[0].url",
        "delivery.webhooks[0].room",
        "delivery.webhooks[0].secret",
        "delivery.webhooks[1].id",
        "delivery.webhooks[1].secret",
        "delivery.webhooks[1].room",
        "delivery.webhooks[1].template",
        "delivery.webhooks[2].template",
        "delivery.webhooks[2].teams[0]",
        "delivery.webhooks[3].template",
        "delivery.webhooks[4].room",
    }
    assert found["delivery.webhooks[1].id"] == "duplicate webhook id 'a'"
    assert "unknown placeholder {{nope}}" in found["delivery.webhooks[3].template"]
    assert found["delivery.webhooks[2].teams[0]"] == "unknown team 'ghosts'"


def test_notice_for_an_incident_carries_its_facts_and_drill_flag() -> None:
    at = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
    incident = Incident(
        id="0190-x", number=12, title="Checkout down", source=SignalSource.MANUAL,
        dedup_key="manual:1", team="payments", severity=Severity.CRITICAL,
        priority=Priority.P1, priority_reason="tier 1 x critical",
        state=IncidentState.ACKNOWLEDGED, started_at=at, detected_at=at, last_seen_at=at,
        updated_at=at, summary="503s", service="checkout-api", drill=True,
    )  # fmt: skip
    item = notice_for(
        incident, ANA, key="0190-x/2/1/ana", level=2, repeat=1, urgent=True, at=at, resend=True
    )
    assert item == Notice(
        "0190-x/2/1/ana", "0190-x", "INC-12", "Checkout down", Severity.CRITICAL, Priority.P1,
        IncidentState.ACKNOWLEDGED, "checkout-api", "payments", 2, 1, True, True, ANA, "503s",
        at, True,
    )  # fmt: skip
