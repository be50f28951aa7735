"""The delivery configuration as plain JSON-safe dicts (for events and the settings row)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from console.core.notices import (
    DeliveryConfig,
    SmtpConfig,
    SmtpSecurity,
    WebhookConfig,
    WebhookKind,
)


def delivery_to_dict(config: DeliveryConfig) -> dict[str, Any]:
    """``{"smtp": {...} | None, "webhooks": [...]}`` with enums as their values."""
    smtp = None
    if config.smtp is not None:
        smtp = asdict(config.smtp) | {"security": config.smtp.security.value}
    hooks = [asdict(w) | {"kind": w.kind.value, "teams": list(w.teams)} for w in config.webhooks]
    return {"smtp": smtp, "webhooks": hooks}


def delivery_from_dict(data: dict[str, Any]) -> DeliveryConfig:
    """The inverse of `delivery_to_dict`."""
    raw = data.get("smtp")
    smtp = None
    if raw is not None:
        smtp = SmtpConfig(**(dict(raw) | {"security": SmtpSecurity(raw["security"])}))
    hooks = tuple(
        WebhookConfig(**(dict(w) | {"kind": WebhookKind(w["kind"]), "teams": tuple(w["teams"])}))
        for w in data.get("webhooks", ())
    )
    return DeliveryConfig(smtp, hooks)
