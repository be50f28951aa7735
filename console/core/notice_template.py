"""Generic webhook templates: JSON text with ``{{placeholders}}`` filled in JSON-safely.

A placeholder inside a JSON string is replaced by the value's text, escaped for a string
(``"{{summary}}"`` stays one valid string whatever the summary holds: quotes, newlines,
backslashes). A placeholder outside a string becomes a JSON value (``"drill": {{drill}}`` gives
``true``; a missing phone gives ``null``). A template is checked once, when the configuration is
read, by rendering a sample notice: an unknown placeholder or a result that is not JSON is a
configuration problem, never a failed page at three in the morning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from console.core.clock import isoformat
from console.core.enums import Priority, Severity
from console.core.errors import ConsoleError
from console.core.incidents import IncidentState
from console.core.models import ChatHandle
from console.core.notices import (
    PLACEHOLDER,
    Notice,
    Recipient,
    one_line,
    plain_text,
    subject_line,
)

Value = str | int | bool | None
# A JSON string literal (possibly unterminated: json.loads reports that) or a placeholder.
_PART = re.compile(r'"(?:[^"\\]|\\.)*"?|\{\{\s*(?P<name>[^{}]*?)\s*\}\}', re.S)


class TemplateError(ConsoleError):
    """A template that cannot be rendered into JSON; the message says why."""


def template_values(notice: Notice) -> dict[str, Value]:
    """Every placeholder a template may use, with its value for ``notice``."""
    r = notice.recipient
    return {
        "key": notice.key,
        "incident.id": notice.incident_id,
        "incident.ref": notice.incident_ref,
        "incident.title": notice.title,
        "incident.severity": notice.severity.value,
        "incident.priority": notice.priority.value,
        "incident.state": notice.state.value,
        "incident.service": notice.service,
        "incident.team": notice.team,
        "incident.summary": notice.summary,
        "recipient.email": r.email,
        "recipient.name": r.name,
        "recipient.phone": r.phone,
        "level": notice.level,
        "repeat": notice.repeat,
        "urgent": notice.urgent,
        "drill": notice.drill,
        "resend": notice.resend,
        "at": isoformat(notice.at),
        "subject": subject_line(notice),
        "summary": one_line(notice),
        "text": plain_text(notice),
    }


def _as_text(value: Value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def render(template: str, values: Mapping[str, Value]) -> str:
    """The template with every placeholder replaced (see the module's docstring).

    Raises:
        TemplateError: A placeholder that ``values`` does not name.
    """

    def lookup(name: str) -> Value:
        if name not in values:
            known = ", ".join(sorted(values))
            raise TemplateError(f"unknown placeholder {{{{{name}}}}}; known: {known}")
        return values[name]

    def inside(match: re.Match[str]) -> str:
        return json.dumps(_as_text(lookup(match[1])), ensure_ascii=False)[1:-1]

    def part(match: re.Match[str]) -> str:
        name = match.group("name")
        if name is not None:
            return json.dumps(lookup(name), ensure_ascii=False)
        return PLACEHOLDER.sub(inside, match[0])

    return _PART.sub(part, template)


def render_json(template: str, notice: Notice) -> str:
    """The template rendered for ``notice``, checked to be one JSON document.

    Raises:
        TemplateError: An unknown placeholder, or a result that is not valid JSON.
    """
    text = render(template, template_values(notice))
    try:
        json.loads(text)
    except ValueError as exc:
        raise TemplateError(f"the template is not valid JSON once filled in: {exc}") from None
    return text


def sample_notice() -> Notice:
    """A notice with every field set (awkward characters included), for checking templates."""
    recipient = Recipient(
        "ana.silva@example.com", 'Ana "AS" Silva', "+351910000000", (ChatHandle("slack", "@ana"),)
    )
    return Notice(
        key="sample/1/0/ana.silva@example.com",
        incident_id="sample",
        incident_ref="INC-1",
        title='Checkout API "5xx" \\ errors',
        severity=Severity.CRITICAL,
        priority=Priority.P1,
        state=IncidentState.TRIGGERED,
        service="checkout-api",
        team="payments",
        level=2,
        repeat=1,
        urgent=True,
        drill=True,
        recipient=recipient,
        summary="Error rate above 5 %\nfor 10 minutes",
        at=datetime(2026, 1, 5, 7, 0, tzinfo=UTC),
    )


def template_problem(template: str) -> str | None:
    """Why a template is unusable (rendered with `sample_notice`), or None when it is fine."""
    try:
        render_json(template, sample_notice())
    except TemplateError as exc:
        return str(exc)
    return None
