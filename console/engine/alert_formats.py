"""The inbound alert formats: Alertmanager's webhook (version 4) and the console's generic JSON.

Both are read into `InboundAlert`s; a payload that cannot be read raises `AlertRejected` with
the HTTP status and a reason that names the field (``alerts[2].status``):

- 400: not a JSON object, a field of the wrong type, a missing field, a time that is not RFC
  3339, or (generic format only, which is closed) a field this version does not know;
- 422: well-formed but meaningless: an unknown ``status``, an unsupported webhook ``version``,
  no alerts, an empty title, both ``fingerprint`` and ``dedup_key``.

**Alertmanager** (``POST /alerts/alertmanager``): the webhook payload of Alertmanager 0.x,
``version`` "4". Of each alert, ``status`` (firing/resolved), ``labels``, ``annotations``,
``startsAt``, ``endsAt``, ``generatorURL`` and ``fingerprint`` are read; the rest of the payload
(``groupKey``, ``groupLabels``, ``commonLabels``, ``externalURL``...) may hold anything, and fields
a later Alertmanager adds are ignored. ``truncatedAlerts`` above 0 (the receiver's
``max_alerts``) is logged. The incident's dedup key is the fingerprint, its title the
``summary`` annotation (else ``alertname``), its severity the ``severity`` label.

**Generic JSON** (``POST /alerts/generic``), for any other monitor or script::

    {"alerts": [
      {"title": "Disk almost full on db-1",      # required, what is wrong
       "severity": "critical",                   # required: critical/warning/info (and the usual
                                                 #   synonyms: page, high, error, low...); other
                                                 #   words take the configured default
       "status": "firing",                       # required: "firing" or "resolved"
       "service": "orders-db",                   # optional: a service key (routing, grouping)
       "labels": {"host": "db-1"},               # optional: string values only
       "summary": "93% used, 2 GB left",         # optional: more words
       "fingerprint": "db-1-disk",               # optional: the dedup key (or "dedup_key")
       "starts_at": "2026-05-04T09:12:00Z"}      # optional: RFC 3339 with a zone; default: now
    ]}

No other field is accepted, at the top or in an alert. Without a fingerprint, the dedup key is
a digest of the title, the service and the labels (not the severity, so a changed severity
updates the same incident). A resolved alert must carry what its firing one carried to find it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from console.core.enums import Severity
from console.core.signals import (
    Labels,
    alert_dedup_key,
    alert_signal,
    labels_fingerprint,
    labels_of,
)
from console.engine.incidents import ClearSignal, IncidentOp, OpenSignal

log = logging.getLogger(__name__)

ALERTMANAGER_VERSION = "4"
#: Go's zero time: what Alertmanager sends as the ``endsAt`` of an alert with no end yet.
_GO_ZERO_YEAR = 1
_GENERIC_ALERT_FIELDS = frozenset(
    {
        "title",
        "severity",
        "status",
        "service",
        "labels",
        "summary",
        "fingerprint",
        "dedup_key",
        "starts_at",
    }
)


class AlertStatus(Enum):
    """Whether an alert is firing or over."""

    FIRING = "firing"
    RESOLVED = "resolved"


class AlertRejected(Exception):
    """A payload that cannot be accepted: the HTTP status to answer and the reason, in words."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class InboundAlert:
    """One alert as received, in either format.

    Attributes:
        status: Firing or resolved.
        labels: Name/value pairs (``severity``, ``service`` and ``alertname`` are read).
        annotations: ``summary`` (the title) and ``description`` (more words).
        fingerprint: The sender's identity of the alert, if it gave one.
        starts_at: When it started, if the sender said.
        ends_at: When it ended (a resolved Alertmanager alert).
        generator_url: Where the sender shows it (Prometheus' expression page).
    """

    status: AlertStatus
    labels: Labels
    annotations: Labels = ()
    fingerprint: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    generator_url: str | None = None

    @property
    def dedup_key(self) -> str:
        """The incident key this alert lands on."""
        return alert_dedup_key(self.fingerprint, dict(self.labels))

    def op(self, now: datetime, unknown: Severity) -> IncidentOp:
        """Firing: open or update its incident; resolved: clear it.

        Args:
            now: When it was received (the start when the sender gave none).
            unknown: The severity of a missing or unknown ``severity`` label.
        """
        if self.status is AlertStatus.RESOLVED:
            return ClearSignal(self.dedup_key)
        annotations = dict(self.annotations)
        if self.generator_url:  # where to look, under the description (the signal's summary)
            more = f"Source: {self.generator_url}"
            found = annotations.get("description")
            annotations["description"] = f"{found}\n{more}" if found else more
        signal = alert_signal(
            labels=dict(self.labels),
            annotations=annotations,
            starts_at=self.starts_at or now,
            fingerprint=self.fingerprint,
            unknown=unknown,
        )
        return OpenSignal(signal)


@dataclass(frozen=True, slots=True)
class AlertBatch:
    """The alerts of one request.

    Attributes:
        alerts: In the order received.
        truncated: Alerts the sender left out (Alertmanager's ``truncatedAlerts``).
        group_key: Alertmanager's group key, for the log.
    """

    alerts: tuple[InboundAlert, ...]
    truncated: int = 0
    group_key: str | None = None

    def ops(self, now: datetime, unknown: Severity) -> list[IncidentOp]:
        """The incident operations, in order (see `InboundAlert.op`)."""
        return [alert.op(now, unknown) for alert in self.alerts]

    @property
    def firing(self) -> int:
        """How many alerts fire."""
        return sum(1 for a in self.alerts if a.status is AlertStatus.FIRING)


# -- reading fields ---------------------------------------------------------------------------


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AlertRejected(400, f"{where} must be a JSON object")
    return value


def _text(obj: Mapping[str, Any], name: str, where: str, *, required: bool = False) -> str | None:
    value = obj.get(name)
    if value is None:
        if required:
            raise AlertRejected(400, f"{where}.{name} is missing")
        return None
    if not isinstance(value, str):
        raise AlertRejected(400, f"{where}.{name} must be a string")
    return value


def _string_map(obj: Mapping[str, Any], name: str, where: str, *, required: bool = False) -> Labels:
    value = obj.get(name)
    if value is None:
        if required:
            raise AlertRejected(400, f"{where}.{name} is missing")
        return ()
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise AlertRejected(400, f"{where}.{name} must be an object of string values")
    return labels_of(value)


def _time(
    obj: Mapping[str, Any], name: str, where: str, *, required: bool = False
) -> datetime | None:
    text = _text(obj, name, where, required=required)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise AlertRejected(400, f"{where}.{name} is not an RFC 3339 time: {text[:40]!r}") from None
    if moment.tzinfo is None:
        raise AlertRejected(400, f"{where}.{name} needs a time zone (Z or +hh:mm)")
    if moment.year == _GO_ZERO_YEAR:
        return None  # Go's zero time: no value
    return moment.astimezone(UTC)


def _status(obj: Mapping[str, Any], where: str) -> AlertStatus:
    text = _text(obj, "status", where, required=True)
    try:
        return AlertStatus(text)
    except ValueError:
        raise AlertRejected(
            422, f"{where}.status: unknown status {text!r} (firing or resolved)"
        ) from None


def _alert_list(obj: Mapping[str, Any], where: str) -> list[Any]:
    alerts = obj.get("alerts")
    if alerts is None:
        raise AlertRejected(400, f"{where}.alerts is missing")
    if not isinstance(alerts, list):
        raise AlertRejected(400, f"{where}.alerts must be a list")
    if not alerts:
        raise AlertRejected(422, f"{where}.alerts holds no alert")
    return alerts


# -- Alertmanager -----------------------------------------------------------------------------


def parse_alertmanager(payload: object) -> AlertBatch:
    """Read an Alertmanager webhook payload (version 4).

    Raises:
        AlertRejected: 400 or 422, with the reason (see the module docstring).
    """
    top = _object(payload, "payload")
    version = top.get("version")
    if version is None:
        raise AlertRejected(400, "payload.version is missing")
    if version != ALERTMANAGER_VERSION:
        raise AlertRejected(
            422, f"unsupported webhook version {str(version)[:20]!r} (version 4 is understood)"
        )
    _status(top, "payload")
    truncated = top.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        raise AlertRejected(400, "payload.truncatedAlerts must be a whole number")
    group_key = _text(top, "groupKey", "payload")
    alerts = tuple(
        _alertmanager_alert(_object(item, f"alerts[{i}]"), f"alerts[{i}]")
        for i, item in enumerate(_alert_list(top, "payload"))
    )
    return AlertBatch(alerts, truncated, group_key)


def _alertmanager_alert(obj: Mapping[str, Any], where: str) -> InboundAlert:
    return InboundAlert(
        status=_status(obj, where),
        labels=_string_map(obj, "labels", where, required=True),
        annotations=_string_map(obj, "annotations", where),
        fingerprint=_text(obj, "fingerprint", where) or None,
        starts_at=_time(obj, "startsAt", where, required=True),
        ends_at=_time(obj, "endsAt", where),
        generator_url=_text(obj, "generatorURL", where) or None,
    )


# -- the generic format -----------------------------------------------------------------------


def parse_generic(payload: object) -> AlertBatch:
    """Read the generic JSON format (closed: unknown fields are refused).

    Raises:
        AlertRejected: 400 or 422, with the reason (see the module docstring).
    """
    top = _object(payload, "payload")
    unknown = sorted(set(top) - {"alerts"})
    if unknown:
        raise AlertRejected(400, f"payload: unknown field {unknown[0]!r} (only 'alerts')")
    alerts = tuple(
        _generic_alert(_object(item, f"alerts[{i}]"), f"alerts[{i}]")
        for i, item in enumerate(_alert_list(top, "payload"))
    )
    return AlertBatch(alerts)


def _generic_alert(obj: Mapping[str, Any], where: str) -> InboundAlert:
    unknown = sorted(set(obj) - _GENERIC_ALERT_FIELDS)
    if unknown:
        raise AlertRejected(400, f"{where}: unknown field {unknown[0]!r}")
    status = _status(obj, where)
    title = (_text(obj, "title", where, required=True) or "").strip()
    severity = _text(obj, "severity", where, required=True) or ""
    if not title:
        raise AlertRejected(422, f"{where}.title must not be empty")
    service = (_text(obj, "service", where) or "").strip() or None
    fingerprint = _text(obj, "fingerprint", where)
    dedup_key = _text(obj, "dedup_key", where)
    if fingerprint is not None and dedup_key is not None:
        raise AlertRejected(422, f"{where}: give fingerprint or dedup_key, not both")
    given = (fingerprint or dedup_key or "").strip()
    labels = dict(_string_map(obj, "labels", where))
    if service is not None:
        labels["service"] = service
    if not given:
        # Not the severity: a changed severity is the same trouble, updated.
        given = "generic:" + labels_fingerprint({**labels, "\x00title": title})
    labels["severity"] = severity
    summary = _text(obj, "summary", where)
    annotations = {"summary": title, **({"description": summary} if summary else {})}
    return InboundAlert(
        status=status,
        labels=labels_of(labels),
        annotations=labels_of(annotations),
        fingerprint=given,
        starts_at=_time(obj, "starts_at", where),
    )


__all__ = [
    "ALERTMANAGER_VERSION",
    "AlertBatch",
    "AlertRejected",
    "AlertStatus",
    "InboundAlert",
    "parse_alertmanager",
    "parse_generic",
]
