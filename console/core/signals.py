"""Signals: what every source of trouble is mapped into before it becomes an incident.

A confirmed (HARD) state change of a metric, an inbound alert and a person's report all become
one `Signal`; `console.store.incidents.open_or_update` takes it and opens, updates, recurs or
reopens an incident. The dedup key says which signals are the same trouble: the service,
endpoint and metric for a metric; the sender's fingerprint (or the labels' digest) for an
inbound alert; nothing for a report (each report is its own incident until a person merges it).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from types import MappingProxyType

from console.core.checks import CheckState
from console.core.enums import Severity
from console.core.errors import Problem, ValidationError


class SignalSource(Enum):
    """Where a signal (and the incident it opens) came from."""

    METRIC = "metric"
    ALERT = "alert"
    MANUAL = "manual"


Labels = tuple[tuple[str, str], ...]


def labels_of(mapping: Mapping[str, object]) -> Labels:
    """Labels as the records hold them: string pairs in name order."""
    return tuple(sorted((str(k), str(v)) for k, v in mapping.items()))


@dataclass(frozen=True, slots=True)
class Signal:
    """One report of trouble, from any source.

    Attributes:
        source: Metric, inbound alert or a person's report.
        dedup_key: Signals with the same key are the same trouble (see the module docstring).
        title: One line: what is wrong.
        severity: How bad, before the service's impact tier is considered.
        started_at: When the trouble began: the first bad sample, or the alert's ``startsAt``.
        service: The affected service's key, when known.
        summary: More words (the evaluator's reason, the alert's description).
        labels: Name/value pairs for routing and silences (``service`` is added when missing).
        value: The value that caused it, for a metric.
        team: A team chosen by a person (a report); None lets routing decide.
        reporter: Who reported it (a report: a name, an email, "service desk").
        impact: The impact as the reporter sees it.
        drill: A rehearsal (issue 7's drills): marked DRILL everywhere, kept out of metrics.
    """

    source: SignalSource
    dedup_key: str
    title: str
    severity: Severity
    started_at: datetime
    service: str | None = None
    summary: str | None = None
    labels: Labels = ()
    value: float | None = None
    team: str | None = None
    reporter: str | None = None
    impact: str | None = None
    drill: bool = False

    def __post_init__(self) -> None:
        problems = [
            Problem(name, "must not be empty")
            for name in ("dedup_key", "title")
            if not getattr(self, name).strip()
        ]
        if self.started_at.tzinfo is None:
            problems.append(Problem("started_at", "must have a time zone"))
        if self.value is not None and not math.isfinite(self.value):
            object.__setattr__(self, "value", None)
        if problems:
            raise ValidationError(problems)
        object.__setattr__(self, "labels", labels_of(dict(self.labels)))

    @property
    def match_labels(self) -> Mapping[str, str]:
        """The labels routes and silences match: the signal's own, plus ``service``."""
        found = dict(self.labels)
        if self.service is not None:
            found.setdefault("service", self.service)
        return MappingProxyType(found)


@dataclass(frozen=True, slots=True)
class ManualReport:
    """An end user's report: what is broken, who says so, and the impact as they see it.

    Attributes:
        title: What is broken.
        reporter: Who reported it.
        impact: The impact as they see it ("nobody in Lyon can pay").
        service: The affected service, when the person taking the report knows it.
        team: The team to give it to; None lets routing decide (the service's owner).
        severity: How bad, as judged by the person taking the report.
        summary: Anything else.
        started_at: When it began, if the reporter knows; else when it was reported.
    """

    title: str
    reporter: str
    impact: str | None = None
    service: str | None = None
    team: str | None = None
    severity: Severity = Severity.WARNING
    summary: str | None = None
    started_at: datetime | None = None

    def __post_init__(self) -> None:
        problems = [
            Problem(name, "must not be empty")
            for name in ("title", "reporter")
            if not getattr(self, name).strip()
        ]
        if problems:
            raise ValidationError(problems)

    def signal(self, key: str, now: datetime) -> Signal:
        """The report as a signal; ``key`` makes it unique (reports never deduplicate)."""
        return Signal(
            source=SignalSource.MANUAL,
            dedup_key=f"manual:{key}",
            title=self.title.strip(),
            severity=self.severity,
            started_at=self.started_at or now,
            service=self.service,
            summary=self.summary,
            team=self.team,
            reporter=self.reporter.strip(),
            impact=self.impact,
        )


# -- severity ----------------------------------------------------------------------------------


def severity_for_check(
    state: CheckState, *, unknown: Severity = Severity.WARNING
) -> Severity | None:
    """The severity of an incident a confirmed check state opens, or None when it opens none.

    CRITICAL is critical and WARNING is warning. UNKNOWN (the probe failed: nothing is known of
    the value) takes ``unknown``, warning unless configured. OK opens nothing and neither does
    STALE: silence is shown on the wall, it does not page.
    """
    if state is CheckState.CRITICAL:
        return Severity.CRITICAL
    if state is CheckState.WARNING:
        return Severity.WARNING
    if state is CheckState.UNKNOWN:
        return unknown
    return None


_LABEL_SEVERITY: Mapping[str, Severity] = MappingProxyType(
    {
        **dict.fromkeys(
            ("critical", "crit", "page", "fatal", "emergency", "emerg", "alert", "high", "major"),
            Severity.CRITICAL,
        ),
        **dict.fromkeys(("warning", "warn", "medium", "minor", "error", "err"), Severity.WARNING),
        **dict.fromkeys(("info", "informational", "notice", "low", "debug"), Severity.INFO),
    }
)


def severity_from_label(value: str | None, *, unknown: Severity = Severity.WARNING) -> Severity:
    """An inbound alert's ``severity`` label as a severity (case and spaces ignored).

    The usual words of Alertmanager rules and syslog levels are known (critical, page, high;
    warning, error; info, low...). Anything else, or no label, takes ``unknown``.
    """
    if value is None:
        return unknown
    return _LABEL_SEVERITY.get(value.strip().casefold(), unknown)


# -- dedup keys --------------------------------------------------------------------------------


def metric_dedup_key(service: str, endpoint: str, metric_key: str | None) -> str:
    """The key of a metric's trouble: service, endpoint and metric (``check``: its own check)."""
    return f"metric:{service}/{endpoint}/{metric_key or 'check'}"


def labels_fingerprint(labels: Mapping[str, str]) -> str:
    """A stable digest of a label set, for senders that give no fingerprint."""
    raw = json.dumps(sorted(labels.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def alert_dedup_key(fingerprint: str | None, labels: Mapping[str, str]) -> str:
    """The key of an inbound alert: the sender's fingerprint, else the labels' digest."""
    if fingerprint and fingerprint.strip():
        return f"alert:{fingerprint.strip()}"
    return f"alert:labels:{labels_fingerprint(labels)}"


# -- mapping sources into signals ---------------------------------------------------------------


def metric_signal(
    *,
    service: str,
    endpoint: str,
    metric_key: str | None,
    metric_name: str,
    state: CheckState,
    started_at: datetime,
    value: float | None = None,
    reason: str | None = None,
    unknown: Severity = Severity.WARNING,
) -> Signal | None:
    """A confirmed (HARD) metric state as a signal; None for states that open nothing.

    Args:
        service: The endpoint's service.
        endpoint: The endpoint's key.
        metric_key: The metric's key, None for the endpoint's own check.
        metric_name: What people call the metric (starts the title).
        state: The confirmed state (``metric.state_changed`` ``to`` of a HARD change).
        started_at: When the trouble began (the first bad sample, or the change's ``at``).
        value: The value that confirmed it.
        reason: The evaluator's reason, kept as the summary.
        unknown: The severity UNKNOWN maps to (configurable, warning by default).
    """
    severity = severity_for_check(state, unknown=unknown)
    if severity is None:
        return None
    return Signal(
        source=SignalSource.METRIC,
        dedup_key=metric_dedup_key(service, endpoint, metric_key),
        title=f"{service}: {metric_name} is {state.name}",
        severity=severity,
        started_at=started_at,
        service=service,
        summary=reason,
        labels=(("endpoint", endpoint), ("metric", metric_key or "check"), ("service", service)),
        value=value,
    )


def alert_signal(
    *,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    starts_at: datetime,
    fingerprint: str | None = None,
    unknown: Severity = Severity.WARNING,
) -> Signal:
    """An inbound alert (Alertmanager or generic JSON) as a signal.

    The title is the ``summary`` annotation, else the ``alertname`` label; the summary is the
    ``description`` annotation; the service is the ``service`` label; the severity is the
    ``severity`` label (`severity_from_label`).
    """
    name = labels.get("alertname") or "alert"
    title = annotations.get("summary") or name
    return Signal(
        source=SignalSource.ALERT,
        dedup_key=alert_dedup_key(fingerprint, labels),
        title=title.strip() or name,
        severity=severity_from_label(labels.get("severity"), unknown=unknown),
        started_at=starts_at,
        service=labels.get("service") or None,
        summary=annotations.get("description") or None,
        labels=labels_of(labels),
    )
