"""What escalation tells a person away from the console, and through which channels it goes.

A `Notice` is one escalation step's message to one `Recipient` (incident, level, repeat,
urgency, drill). Its idempotency ``key`` travels to the receiving side wherever the channel has
a place for it (the email Message-ID, Matrix's txnId, an ``Idempotency-Key`` header), so a
notice re-sent after a crash is recognisably the same message.

`DeliveryConfig` is the ``delivery:`` section: one SMTP relay and any number of outgoing
webhooks. `channels_for` decides, purely, which of them reach a given recipient.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from console.core.clock import isoformat
from console.core.enums import Priority, Severity
from console.core.incidents import Incident, IncidentState
from console.core.models import ChatHandle, Member

DRILL_MARK = "[DRILL]"
URGENT_MARK = "[URGENT]"
# The placeholder through which a generic template addresses the recipient's phone number.
PHONE_PLACEHOLDER = "recipient.phone"
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def placeholder_names(template: str) -> set[str]:
    """The names of the ``{{placeholders}}`` a template uses."""
    return {m[1] for m in PLACEHOLDER.finditer(template)}


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a notice is for, with the addresses channels may use.

    Attributes:
        email: The member's email (their key).
        name: Their display name.
        phone: A phone number in E.164 form, for SMS and voice gateways.
        chat: Their handles on chat networks (``slack``, ``teams``, ``matrix``...).
    """

    email: str
    name: str
    phone: str | None = None
    chat: tuple[ChatHandle, ...] = ()

    @classmethod
    def from_member(cls, member: Member) -> Recipient:
        """The recipient for a configured member."""
        return cls(member.email, member.name, member.phone, member.chat)

    def handle(self, network: str) -> str | None:
        """Their handle on ``network`` (case-insensitive), or None."""
        wanted = network.lower()
        return next((c.handle for c in self.chat if c.network.lower() == wanted), None)


@dataclass(frozen=True, slots=True)
class Notice:
    """One escalation step's message to one person.

    Attributes:
        key: The idempotency key (incident, level, repeat, recipient); the same on a re-send.
        incident_id: The incident's id.
        incident_ref: Its human reference (``INC-12``).
        title: What is wrong, in one line.
        severity: The incident's severity.
        priority: The incident's priority.
        state: Where the incident stands when the notice is made.
        service: The affected service's key, if known.
        team: The responsible team's key, if known.
        level: The escalation level, 1-based.
        repeat: Which loop through the policy, 0-based.
        urgent: The level asks for urgent delivery.
        drill: A practice incident: every channel says DRILL first.
        recipient: Who it is for.
        summary: The incident's longer description, if any.
        at: When the notice was made (the attempt's time).
        resend: A re-send of an attempt whose outcome is unknown (same key).
    """

    key: str
    incident_id: str
    incident_ref: str
    title: str
    severity: Severity
    priority: Priority
    state: IncidentState
    service: str | None
    team: str | None
    level: int
    repeat: int
    urgent: bool
    drill: bool
    recipient: Recipient
    summary: str | None
    at: datetime
    resend: bool = False


def notice_for(
    incident: Incident,
    recipient: Recipient,
    *,
    key: str,
    level: int,
    repeat: int,
    urgent: bool,
    at: datetime,
    resend: bool = False,
) -> Notice:
    """The notice of one escalation step for ``recipient`` (``level`` 1-based)."""
    return Notice(
        key=key,
        incident_id=incident.id,
        incident_ref=incident.ref,
        title=incident.title,
        severity=incident.severity,
        priority=incident.priority,
        state=incident.state,
        service=incident.service,
        team=incident.team,
        level=level,
        repeat=repeat,
        urgent=urgent,
        drill=incident.drill,
        recipient=recipient,
        summary=incident.summary,
        at=at,
        resend=resend,
    )


def message_id(key: str, domain: str) -> str:
    """An RFC 5322 Message-ID derived only from the idempotency key (and the sender's domain).

    A re-send of the same key gets the same Message-ID, so mail clients and archives see one
    message, not two.
    """
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"<oncall.{digest}@{domain or 'oncall-console.invalid'}>"


def subject_line(notice: Notice) -> str:
    """``[DRILL] [URGENT] INC-12 P1: Checkout API down``: DRILL always comes first."""
    marks = [m for m, on in ((DRILL_MARK, notice.drill), (URGENT_MARK, notice.urgent)) if on]
    # One line whatever the alert's title holds: a line break would end an email header.
    title = " ".join(notice.title.split())
    text = f"{notice.incident_ref} {notice.priority.value}: {title}"
    return " ".join([*marks, text])


def one_line(notice: Notice, limit: int = 300) -> str:
    """The subject plus the summary on one line, cut to ``limit`` characters (for SMS, chat)."""
    text = subject_line(notice)
    if notice.summary:
        text += " - " + " ".join(notice.summary.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def facts(notice: Notice) -> list[tuple[str, str]]:
    """The notice's facts as (label, value) pairs, in the order every channel shows them."""
    out = [
        ("Incident", notice.incident_ref),
        ("Priority", notice.priority.value),
        ("Severity", notice.severity.value),
        ("State", notice.state.value),
    ]
    if notice.service:
        out.append(("Service", notice.service))
    if notice.team:
        out.append(("Team", notice.team))
    out.append(("Escalation", escalation_text(notice)))
    out.append(("Time", isoformat(notice.at)))
    return out


def escalation_text(notice: Notice) -> str:
    """``level 2 (repeat 1), urgent``."""
    text = f"level {notice.level}"
    if notice.repeat:
        text += f" (repeat {notice.repeat})"
    return text + (", urgent" if notice.urgent else "")


def plain_text(notice: Notice) -> str:
    """The notice as plain text (an email body): DRILL first and loud, urgency marked."""
    lines: list[str] = []
    if notice.drill:
        lines += [
            f"{DRILL_MARK} THIS IS A DRILL: a practice incident; no real service is affected.",
            "Respond as you would to a real one.",
            "",
        ]
    if notice.urgent:
        lines += [
            f"{URGENT_MARK} Urgent: you are being paged because nobody has responded yet.",
            "",
        ]
    lines += [subject_line(notice), ""]
    pairs = facts(notice)
    width = max(len(label) for label, _ in pairs)
    lines += [f"{label + ':':<{width + 1}} {value}" for label, value in pairs]
    if notice.summary:
        lines += ["", notice.summary.strip()]
    lines += [
        "",
        f"Hello {notice.recipient.name}, you are on the escalation path for this incident.",
        "Acknowledge it in the on-call console, or with:",
        f"  oncall-console incidents ack {notice.incident_ref}",
    ]
    if notice.resend:
        lines += ["", "(This is a re-send of a notification whose delivery was not confirmed.)"]
    return "\n".join(lines) + "\n"


# -- configuration ---------------------------------------------------------------------------


class SmtpSecurity(Enum):
    """How the SMTP connection is protected."""

    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


class WebhookKind(Enum):
    """What an outgoing webhook talks to; the value is also the chat network it mentions."""

    SLACK = "slack"
    TEAMS = "teams"
    MATRIX = "matrix"
    GENERIC = "generic"

    @property
    def is_chat(self) -> bool:
        """A chat room (Slack, Teams, Matrix) rather than a templated gateway."""
        return self is not WebhookKind.GENERIC


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """The SMTP relay that sends notices by email.

    Attributes:
        host: The server's host name or address.
        port: Its port (587 for STARTTLS, 465 for implicit TLS, 25 plain).
        security: NONE, STARTTLS or TLS; credentials are only ever sent over TLS.
        sender: The From address (its domain names the Message-IDs).
        username: The login, if the server wants one.
        password_secret: The keyring secret holding the password.
        timeout_s: Seconds allowed for connecting and for each exchange.
        ca_file: A PEM file of CA certificates to trust instead of the system's.
    """

    host: str
    port: int
    security: SmtpSecurity
    sender: str
    username: str | None = None
    password_secret: str | None = None
    timeout_s: float = 10.0
    ca_file: str | None = None

    @property
    def domain(self) -> str:
        """The sender's domain (what Message-IDs end with)."""
        return self.sender.rpartition("@")[2].strip("> ") or "oncall-console.invalid"


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """One outgoing webhook.

    Attributes:
        key: Its id (unique among webhooks; named in timelines).
        kind: Slack, Teams (a Workflows webhook), Matrix (a homeserver) or generic JSON.
        url: The webhook URL (for Matrix, the homeserver's base URL).
        secret: A keyring secret: Matrix's access token, or a generic webhook's bearer token.
        room: The Matrix room id (``!abc:example.org``).
        template: A generic webhook's JSON body with ``{{placeholders}}``.
        teams: Only incidents of these teams (empty: all teams).
        urgent_only: Only urgent levels.
        timeout_s: Seconds allowed for the whole request.
    """

    key: str
    kind: WebhookKind
    url: str
    secret: str | None = None
    room: str | None = None
    template: str | None = None
    teams: tuple[str, ...] = ()
    urgent_only: bool = False
    timeout_s: float = 10.0

    def applies(self, team: str | None, urgent: bool) -> bool:
        """Whether an incident of ``team`` at this urgency goes through this webhook."""
        if self.urgent_only and not urgent:
            return False
        return not self.teams or team in self.teams

    @property
    def needs_phone(self) -> bool:
        """A generic template that addresses the recipient's phone number."""
        return self.template is not None and PHONE_PLACEHOLDER in placeholder_names(self.template)


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """The ``delivery:`` section: an SMTP relay (optional) and outgoing webhooks."""

    smtp: SmtpConfig | None = None
    webhooks: tuple[WebhookConfig, ...] = ()

    def webhook(self, key: str) -> WebhookConfig | None:
        """The webhook with this key, if configured."""
        return next((w for w in self.webhooks if w.key == key), None)


class ChannelKind(Enum):
    """A kind of channel a notice can go through."""

    EMAIL = "email"
    WEBHOOK = "webhook"


EMAIL_KEY = "smtp"


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """One channel: email (key ``smtp``) or a webhook by its key."""

    kind: ChannelKind
    key: str

    @property
    def label(self) -> str:
        """How timelines name it: ``email`` or ``webhook:payments-slack``."""
        return "email" if self.kind is ChannelKind.EMAIL else f"webhook:{self.key}"


def channels_for(
    recipient: Recipient, config: DeliveryConfig, team: str | None, urgent: bool
) -> tuple[ChannelRef, ...]:
    """The channels that reach ``recipient`` for an incident of ``team`` at this urgency.

    Email when SMTP is configured; every chat webhook that applies to the team (its message
    mentions the recipient's handle on that network when they have one); every generic webhook
    that applies, unless its template needs a phone number the recipient does not have.
    """
    out: list[ChannelRef] = []
    if config.smtp is not None and recipient.email:
        out.append(ChannelRef(ChannelKind.EMAIL, EMAIL_KEY))
    for hook in config.webhooks:
        if not hook.applies(team, urgent):
            continue
        if hook.kind is WebhookKind.GENERIC and hook.needs_phone and not recipient.phone:
            continue
        out.append(ChannelRef(ChannelKind.WEBHOOK, hook.key))
    return tuple(out)
