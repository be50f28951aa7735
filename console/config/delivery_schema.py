"""The ``delivery`` section: the SMTP relay and outgoing webhooks; reading it and writing it.

    delivery:
      smtp:
        host: smtp.example.com
        port: 587                    # default: 587 starttls, 465 tls, 25 none
        security: starttls           # none, starttls (default) or tls
        from: oncall@example.com
        username: oncall             # optional; credentials only ever go over TLS
        password_secret: smtp-password   # a keyring secret name (oncall-console secret set)
        timeout: 10                  # seconds
        ca_file: /etc/ssl/corp-ca.pem    # optional: CAs to trust instead of the system's
      webhooks:
        - {id: payments-slack, kind: slack, url: "https://hooks.slack.com/services/...",
           teams: [payments]}
        - {id: ops-matrix, kind: matrix, url: "https://matrix.example.org",
           room: "!abc:example.org", secret: matrix-token}
        - {id: sms-gateway, kind: generic, url: "https://sms.example/send", secret: sms-token,
           urgent_only: true, template: '{"to": "{{recipient.phone}}", "text": "{{summary}}"}'}

Secrets never appear in the file, only their keyring names. Every rule of
`console.core.delivery_rules` is checked here, at read time, with the problem's line and
column: a generic template is rendered with a sample notice, so one that is not JSON is a
configuration problem rather than a failed page.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from yaml.nodes import Node

from console.config.nodes import Entry, Reader, child, parent
from console.core.delivery_rules import ROOT, validate_delivery
from console.core.notices import (
    DeliveryConfig,
    SmtpConfig,
    SmtpSecurity,
    WebhookConfig,
    WebhookKind,
)

Doc = dict[str, Any]
DEFAULT_PORTS = {SmtpSecurity.NONE: 25, SmtpSecurity.STARTTLS: 587, SmtpSecurity.TLS: 465}
DEFAULT_TIMEOUT = 10.0
_SMTP_REQUIRED = ("host", "from")
_SMTP_OPTIONAL = ("port", "security", "username", "password_secret", "timeout", "ca_file")
_HOOK_REQUIRED = ("id", "kind", "url")
_HOOK_OPTIONAL = ("secret", "room", "template", "teams", "urgent_only", "timeout")


def _timeout(e: Entry) -> float:
    value = e.number("timeout")
    return DEFAULT_TIMEOUT if value is None else value


def _smtp(r: Reader, node: Node, path: str) -> SmtpConfig | None:
    e = r.entry(node, path, "the SMTP relay", _SMTP_REQUIRED, _SMTP_OPTIONAL)
    if e is None:
        return None
    security = e.choice("security", SmtpSecurity, "SMTP security") or SmtpSecurity.STARTTLS
    port = e.integer("port")  # its range is a rule (delivery_rules), reported in one line
    return SmtpConfig(
        host=e.text("host"),
        port=DEFAULT_PORTS[security] if port is None else port,
        security=security,
        sender=e.text("from"),
        username=e.optional_text("username"),
        password_secret=e.optional_text("password_secret"),
        timeout_s=_timeout(e),
        ca_file=e.optional_text("ca_file"),
    )


def _webhook(r: Reader, node: Node, path: str) -> WebhookConfig:
    e = r.entry(node, path, "a webhook", _HOOK_REQUIRED, _HOOK_OPTIONAL)
    if e is None:
        return WebhookConfig(r.placeholder(path), WebhookKind.GENERIC, "https://invalid")
    kind = e.choice("kind", WebhookKind, "webhook kind")
    if kind is None:
        r.broken.add(path)  # its kind-specific problems would only repeat this one
    return WebhookConfig(
        key=e.text("id"),
        kind=kind or WebhookKind.GENERIC,
        url=e.text("url"),
        secret=e.optional_text("secret"),
        room=e.optional_text("room"),
        template=e.optional_text("template"),
        teams=e.texts("teams", "team ids"),
        urgent_only=bool(e.boolean("urgent_only")),
        timeout_s=_timeout(e),
    )


def _under(path: str, broken: set[str]) -> bool:
    while path:
        if path in broken:
            return True
        path = parent(path)
    return False


def _check(r: Reader, config: DeliveryConfig, teams: Collection[str]) -> None:
    """Report the rules' problems at their nodes, minus those a broken field explains."""
    for problem in validate_delivery(config, teams, ROOT):
        if _under(problem.path, r.broken) or r.mentions_placeholder(problem.message):
            continue
        where = problem.path
        while where and where not in r.nodes:
            where = parent(where)
        r.report(r.nodes.get(where) or r.nodes[ROOT], problem.path, problem.message)


def read_delivery(r: Reader, node: Node | None, teams: Collection[str]) -> DeliveryConfig | None:
    """The ``delivery`` section (None when the file has none); ``teams`` are the known keys."""
    if node is None:
        return None
    mapping = r.mapping(node, ROOT, "a mapping with smtp and webhooks")
    if mapping is None:
        return None
    fields = r.fields(mapping, ROOT, "the delivery section", ("smtp", "webhooks"))
    smtp_node = fields.get("smtp")
    hooks = fields.get("webhooks")
    path = child(ROOT, "webhooks")
    items = [] if hooks is None else r.sequence(hooks, path, "webhooks")
    config = DeliveryConfig(
        smtp=None if smtp_node is None else _smtp(r, smtp_node, child(ROOT, "smtp")),
        webhooks=tuple(_webhook(r, item, f"{path}[{i}]") for i, item in enumerate(items)),
    )
    _check(r, config, teams)
    return config


# -- writing -------------------------------------------------------------------------------


def _smtp_doc(s: SmtpConfig) -> Doc:
    doc: Doc = {"host": s.host}
    if s.port != DEFAULT_PORTS[s.security]:
        doc["port"] = s.port
    doc |= {"security": s.security.value, "from": s.sender}
    optional = {"username": s.username, "password_secret": s.password_secret}
    doc |= {k: v for k, v in optional.items() if v is not None}
    if s.timeout_s != DEFAULT_TIMEOUT:
        doc["timeout"] = s.timeout_s
    if s.ca_file is not None:
        doc["ca_file"] = s.ca_file
    return doc


def _webhook_doc(w: WebhookConfig) -> Doc:
    doc: Doc = {"id": w.key, "kind": w.kind.value, "url": w.url}
    optional = {"secret": w.secret, "room": w.room, "template": w.template}
    doc |= {k: v for k, v in optional.items() if v is not None}
    if w.teams:
        doc["teams"] = list(w.teams)
    if w.urgent_only:
        doc["urgent_only"] = True
    if w.timeout_s != DEFAULT_TIMEOUT:
        doc["timeout"] = w.timeout_s
    return doc


def delivery_doc(config: DeliveryConfig) -> Doc:
    """The section as the file writes it (defaults left out; webhooks in their given order)."""
    doc: Doc = {}
    if config.smtp is not None:
        doc["smtp"] = _smtp_doc(config.smtp)
    if config.webhooks:
        doc["webhooks"] = [_webhook_doc(w) for w in config.webhooks]
    return doc
