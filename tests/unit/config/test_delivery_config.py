"""The ``delivery`` section: reading, problems at file:line:col, defaults, export round trip."""

from __future__ import annotations

from console.config.emitter import dump
from console.config.errors import ConfigError
from console.config.loader import load_text
from console.core.notices import DeliveryConfig, SmtpConfig, SmtpSecurity, WebhookKind

HEAD = """version: 1
members:
  - {email: ana@example.com, name: Ana, timezone: UTC, discipline: infrastructure}
teams:
  - {id: payments, name: Payments, discipline: development}
"""
GOOD = (
    HEAD
    + """delivery:
  smtp: {host: smtp.example.com, port: 2525, security: starttls, from: oncall@example.com,
         username: oncall, password_secret: smtp-password, timeout: 5, ca_file: /etc/ca.pem}
  webhooks:
    - {id: payments-slack, kind: slack, url: "https://hooks.slack.com/services/T/B/x",
       teams: [payments]}
    - {id: ops-matrix, kind: matrix, url: "https://matrix.example.org", room: "!ops:example.org",
       secret: matrix-token}
    - id: sms-gateway
      kind: generic
      url: https://sms.example/send
      secret: sms-token
      urgent_only: true
      template: '{"to": "{{recipient.phone}}", "text": "{{summary}}"}'
"""
)


def problems(text: str) -> list[str]:
    try:
        load_text(text, "f.yaml")
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    raise AssertionError("the file was accepted")


def test_a_valid_section_reads_into_the_delivery_config() -> None:
    config = load_text(GOOD, "good.yaml").delivery
    assert config is not None
    assert config.smtp == SmtpConfig(
        "smtp.example.com", 2525, SmtpSecurity.STARTTLS, "oncall@example.com",
        "oncall", "smtp-password", 5.0, "/etc/ca.pem",
    )  # fmt: skip
    slack, matrix, sms = config.webhooks
    assert (slack.kind, slack.teams, slack.urgent_only) == (WebhookKind.SLACK, ("payments",), False)
    assert (matrix.room, matrix.secret) == ("!ops:example.org", "matrix-token")
    assert (sms.kind, sms.urgent_only, sms.needs_phone) == (WebhookKind.GENERIC, True, True)


def test_no_section_is_none_and_defaults_fill_port_security_and_timeout() -> None:
    assert load_text(HEAD, "f.yaml").delivery is None
    text = HEAD + "delivery:\n  smtp: {host: mx, from: a@b.example, security: tls}\n"
    config = load_text(text, "f.yaml").delivery
    assert config == DeliveryConfig(SmtpConfig("mx", 465, SmtpSecurity.TLS, "a@b.example"))
    plain = load_text(HEAD + "delivery:\n  smtp: {host: mx, from: a@b.example}\n", "f").delivery
    assert plain is not None and plain.smtp is not None
    assert (plain.smtp.security, plain.smtp.port) == (SmtpSecurity.STARTTLS, 587)


def test_the_section_survives_export_and_reading_back() -> None:
    estate = load_text(GOOD, "good.yaml")
    text = dump(estate)
    assert "delivery:" in text and "matrix-token" in text
    assert load_text(text, "again.yaml").delivery == estate.delivery


def test_structural_problems_point_at_their_lines() -> None:
    text = (
        HEAD
        + """delivery:
  smtp: {host: mx, from: a@b.example, security: ssl, port: 70000, colour: red}
  webhooks:
    - {id: x, kind: discord, url: "https://x"}
    - {id: y, url: "https://y"}
    - just text
  extra: 1
"""
    )
    assert problems(text) == [
        "f.yaml:7:49: delivery.smtp.security: invalid SMTP security 'ssl'; allowed: none, "
        "starttls, tls",
        "f.yaml:7:60: delivery.smtp.port: invalid port 70000; expected 1..65535",
        "f.yaml:7:67: delivery.smtp.colour: unknown field 'colour' in the SMTP relay; allowed: "
        "host, from, port, security, username, password_secret, timeout, ca_file",
        "f.yaml:9:21: delivery.webhooks[0].kind: invalid webhook kind 'discord'; allowed: "
        "slack, teams, matrix, generic",
        "f.yaml:10:7: delivery.webhooks[1]: missing required field 'kind' in a webhook",
        "f.yaml:11:7: delivery.webhooks[2]: expected a webhook (a mapping of its fields), got a "
        "string ('just text')",
        "f.yaml:12:3: delivery.extra: unknown field 'extra' in the delivery section; allowed: "
        "smtp, webhooks",
    ]


def test_rule_problems_are_reported_at_check_time_with_positions() -> None:
    text = (
        HEAD
        + """delivery:
  smtp: {host: mx, from: nobody, security: none, username: oncall, password_secret: pw}
  webhooks:
    - {id: m, kind: matrix, url: "https://m.example"}
    - {id: m, kind: slack, url: "ftp://x", teams: [ghosts]}
    - {id: g, kind: generic, url: "https://g", template: '{"a": {{summary}} }}'}
    - {id: h, kind: generic, url: "https://h", template: '{"a": "{{recipient.fax}}"}'}
"""
    )
    assert problems(text) == [
        "f.yaml:7:26: delivery.smtp.from: expected an email address, got 'nobody'",
        "f.yaml:7:44: delivery.smtp.security: credentials would cross the network in clear; "
        "use starttls or tls",
        "f.yaml:9:7: delivery.webhooks[0].room: a matrix webhook needs the room id (!id:server)",
        "f.yaml:9:7: delivery.webhooks[0].secret: a matrix webhook needs the access token secret",
        "f.yaml:10:12: delivery.webhooks[1].id: duplicate webhook id 'm'",
        "f.yaml:10:33: delivery.webhooks[1].url: expected an http(s) URL, got 'ftp://x'",
        "f.yaml:10:52: delivery.webhooks[1].teams[0]: unknown team 'ghosts'",
        "f.yaml:11:58: delivery.webhooks[2].template: the template is not valid JSON once "
        "filled in: Extra data: line 1 column 106 (char 105)",
        "f.yaml:12:58: delivery.webhooks[3].template: unknown placeholder {{recipient.fax}}; "
        "known: at, drill, incident.id, incident.priority, incident.ref, incident.service, "
        "incident.severity, incident.state, incident.summary, incident.team, incident.title, "
        "key, level, recipient.email, recipient.name, recipient.phone, repeat, resend, "
        "subject, summary, text, urgent",
    ]
