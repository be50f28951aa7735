"""The rules a ``delivery:`` configuration must follow, each broken one a `Problem` with its path.

Checked when the configuration is read, so that a webhook without its room, a template that
is not JSON, or credentials that would cross the network in clear are found at check time,
not when somebody needs to be paged.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import urlsplit

from console.core.errors import Problem
from console.core.notice_template import template_problem
from console.core.notices import (
    DeliveryConfig,
    SmtpConfig,
    SmtpSecurity,
    WebhookConfig,
    WebhookKind,
)

ROOT = "delivery"
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_MATRIX_ROOM = re.compile(r"^[!#][^:\s]+:\S+$")


def validate_delivery(
    config: DeliveryConfig, teams: Collection[str] | None = None, root: str = ROOT
) -> list[Problem]:
    """Every problem in ``config``; ``teams`` (when given) are the known team keys."""
    problems: list[Problem] = []
    if config.smtp is not None:
        problems += _smtp(config.smtp, f"{root}.smtp")
    seen: set[str] = set()
    for i, hook in enumerate(config.webhooks):
        path = f"{root}.webhooks[{i}]"
        if hook.key in seen:
            problems.append(Problem(f"{path}.id", f"duplicate webhook id {hook.key!r}"))
        seen.add(hook.key)
        problems += _webhook(hook, path, teams)
    return problems


def _smtp(smtp: SmtpConfig, path: str) -> list[Problem]:
    out: list[Problem] = []
    if not smtp.host.strip():
        out.append(Problem(f"{path}.host", "the SMTP host is empty"))
    if not 1 <= smtp.port <= 65535:
        out.append(Problem(f"{path}.port", f"invalid port {smtp.port}; expected 1..65535"))
    if not _ADDRESS.match(smtp.sender):
        out.append(Problem(f"{path}.from", f"expected an email address, got {smtp.sender!r}"))
    if smtp.username and not smtp.password_secret:
        out.append(
            Problem(f"{path}.password_secret", "a username needs password_secret (a keyring name)")
        )
    if smtp.password_secret and not smtp.username:
        out.append(Problem(f"{path}.username", "password_secret is set but username is not"))
    if smtp.username and smtp.security is SmtpSecurity.NONE:
        out.append(
            Problem(
                f"{path}.security",
                "credentials would cross the network in clear; use starttls or tls",
            )
        )
    if smtp.timeout_s <= 0:
        out.append(Problem(f"{path}.timeout", "the timeout must be more than 0 seconds"))
    return out


def _url(hook: WebhookConfig, path: str) -> list[Problem]:
    parts = urlsplit(hook.url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return [Problem(f"{path}.url", f"expected an http(s) URL, got {hook.url!r}")]
    return []


def _kind_fields(hook: WebhookConfig, path: str) -> list[Problem]:
    out: list[Problem] = []
    kind = hook.kind.value
    if hook.kind is WebhookKind.MATRIX:
        if not hook.room:
            out.append(Problem(f"{path}.room", "a matrix webhook needs the room id (!id:server)"))
        elif not _MATRIX_ROOM.match(hook.room):
            out.append(Problem(f"{path}.room", "expected a room id like !abc:example.org"))
        if not hook.secret:
            out.append(Problem(f"{path}.secret", "a matrix webhook needs the access token secret"))
    elif hook.room:
        out.append(Problem(f"{path}.room", f"a {kind} webhook takes no room (matrix only)"))
    if hook.kind is WebhookKind.GENERIC:
        problem = "a generic webhook needs a template" if not hook.template else None
        problem = problem or template_problem(hook.template or "")
        if problem:
            out.append(Problem(f"{path}.template", problem))
    elif hook.template:
        out.append(Problem(f"{path}.template", f"a {kind} webhook takes no template"))
    if hook.kind in (WebhookKind.SLACK, WebhookKind.TEAMS) and hook.secret:
        out.append(
            Problem(f"{path}.secret", f"a {kind} webhook takes no secret (its URL is the secret)")
        )
    return out


def _webhook(hook: WebhookConfig, path: str, teams: Collection[str] | None) -> list[Problem]:
    out = _url(hook, path) + _kind_fields(hook, path)
    if not hook.key.strip():
        out.append(Problem(f"{path}.id", "the webhook id is empty"))
    if hook.timeout_s <= 0:
        out.append(Problem(f"{path}.timeout", "the timeout must be more than 0 seconds"))
    if teams is not None:
        for i, team in enumerate(hook.teams):
            if team not in teams:
                out.append(Problem(f"{path}.teams[{i}]", f"unknown team {team!r}"))
    return out
