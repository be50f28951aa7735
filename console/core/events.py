"""The event envelope: every incident, escalation, collaboration and configuration fact.

Events are immutable and globally unique (UUIDv7: time-ordered, random tail), so consoles
that sync later can merge their logs without coordination. Derived tables are projections.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from types import MappingProxyType
from typing import Any

from console.core.enums import EntityKind


class EventType(Enum):
    """Every kind of fact the log records; the dotted name is what is stored."""

    TEAM_UPSERTED = "team.upserted"
    TEAM_DELETED = "team.deleted"
    MEMBER_UPSERTED = "member.upserted"
    MEMBER_DELETED = "member.deleted"
    SERVICE_UPSERTED = "service.upserted"
    SERVICE_DELETED = "service.deleted"
    RUNBOOK_UPSERTED = "runbook.upserted"
    RUNBOOK_DELETED = "runbook.deleted"
    RESOURCE_UPSERTED = "resource.upserted"
    RESOURCE_DELETED = "resource.deleted"
    ENDPOINT_UPSERTED = "endpoint.upserted"
    ENDPOINT_DELETED = "endpoint.deleted"
    PRIORITY_MATRIX_SET = "priority_matrix.set"
    CONFIG_IMPORTED = "config.imported"
    STORE_RESTORED = "store.restored"
    METRIC_STATE_CHANGED = "metric.state_changed"
    METRIC_FLAPPING = "metric.flapping"
    DATA_GAP = "monitoring.gap"
    ENGINE_STARTED = "engine.started"
    ENGINE_STOPPED = "engine.stopped"
    ENGINE_LAGGING = "engine.lagging"
    ENGINE_CAUGHT_UP = "engine.caught_up"
    # Incidents (console.core.incidents): every fact on the subject ``incident:<id>``.
    INCIDENT_OPENED = "incident.opened"
    INCIDENT_RECURRED = "incident.recurred"
    INCIDENT_SEVERITY_CHANGED = "incident.severity_changed"
    INCIDENT_ACKNOWLEDGED = "incident.acknowledged"
    INCIDENT_UNACKNOWLEDGED = "incident.unacknowledged"
    INCIDENT_MITIGATED = "incident.mitigated"
    INCIDENT_RESOLVED = "incident.resolved"
    INCIDENT_REOPENED = "incident.reopened"
    INCIDENT_SNOOZED = "incident.snoozed"
    INCIDENT_WOKE = "incident.woke"
    INCIDENT_REASSIGNED = "incident.reassigned"
    INCIDENT_MERGED = "incident.merged"
    INCIDENT_ABSORBED = "incident.absorbed"
    INCIDENT_PRIORITY_OVERRIDDEN = "incident.priority_overridden"
    INCIDENT_FLAPPING = "incident.flapping"
    INCIDENT_GROUPED = "incident.grouped"
    # Alerting configuration: inbound-alert routes and silences.
    ROUTING_SET = "routing.set"
    SILENCE_UPSERTED = "silence.upserted"
    SILENCE_DELETED = "silence.deleted"
    # On-call schedules (console.core.schedules): the schedule, overrides one at a time, absences.
    SCHEDULE_UPSERTED = "schedule.upserted"
    SCHEDULE_DELETED = "schedule.deleted"
    SCHEDULE_OVERRIDE_ADDED = "schedule.override_added"
    SCHEDULE_OVERRIDE_REMOVED = "schedule.override_removed"
    UNAVAILABILITY_UPSERTED = "unavailability.upserted"
    UNAVAILABILITY_DELETED = "unavailability.deleted"
    # Escalation (console.core.escalation, escalator): policies, and on the subject
    # ``incident:<id>`` each step of an incident's escalation and every delivery attempt.
    ESCALATION_POLICY_UPSERTED = "escalation_policy.upserted"
    ESCALATION_POLICY_DELETED = "escalation_policy.deleted"
    ESCALATION_STARTED = "escalation.started"
    ESCALATION_LEVEL_STARTED = "escalation.level_started"
    ESCALATION_LEVEL_EMPTY = "escalation.level_empty"
    ESCALATION_ESCALATED_NOW = "escalation.escalated_now"
    ESCALATION_EXHAUSTED = "escalation.exhausted"
    ESCALATION_RETRIGGERED = "escalation.retriggered"
    NOTIFICATION_ISSUED = "notification.issued"
    # Drills (console.core.drills), on the subject ``drill:<incident id>``: a rehearsal started
    # from a runbook's scenario, and its end with the report.
    DRILL_STARTED = "drill.started"
    DRILL_ENDED = "drill.ended"
    # How pages reach people away from the console (console.core.notices.DeliveryConfig).
    DELIVERY_SET = "delivery.set"


UPSERTED: Mapping[EntityKind, EventType] = MappingProxyType(
    {
        EntityKind.TEAM: EventType.TEAM_UPSERTED,
        EntityKind.MEMBER: EventType.MEMBER_UPSERTED,
        EntityKind.SERVICE: EventType.SERVICE_UPSERTED,
        EntityKind.RUNBOOK: EventType.RUNBOOK_UPSERTED,
        EntityKind.RESOURCE: EventType.RESOURCE_UPSERTED,
        EntityKind.ENDPOINT: EventType.ENDPOINT_UPSERTED,
        EntityKind.SILENCE: EventType.SILENCE_UPSERTED,
        EntityKind.SCHEDULE: EventType.SCHEDULE_UPSERTED,
        EntityKind.UNAVAILABILITY: EventType.UNAVAILABILITY_UPSERTED,
        EntityKind.ESCALATION_POLICY: EventType.ESCALATION_POLICY_UPSERTED,
    }
)
DELETED: Mapping[EntityKind, EventType] = MappingProxyType(
    {
        EntityKind.TEAM: EventType.TEAM_DELETED,
        EntityKind.MEMBER: EventType.MEMBER_DELETED,
        EntityKind.SERVICE: EventType.SERVICE_DELETED,
        EntityKind.RUNBOOK: EventType.RUNBOOK_DELETED,
        EntityKind.RESOURCE: EventType.RESOURCE_DELETED,
        EntityKind.ENDPOINT: EventType.ENDPOINT_DELETED,
        EntityKind.SILENCE: EventType.SILENCE_DELETED,
        EntityKind.SCHEDULE: EventType.SCHEDULE_DELETED,
        EntityKind.UNAVAILABILITY: EventType.UNAVAILABILITY_DELETED,
        EntityKind.ESCALATION_POLICY: EventType.ESCALATION_POLICY_DELETED,
    }
)

#: The payload schema version each event type is written with today.
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Event:
    """One immutable fact."""

    id: str
    type: EventType
    subject: str
    event_time: datetime
    recorded_time: datetime
    actor: str
    origin: str
    payload: Mapping[str, Any]
    schema_version: int = SCHEMA_VERSION


def subject_of(kind: EntityKind | str, key: str) -> str:
    """The subject string of an entity: ``team:noc``, ``incident:01H...``."""
    name = kind.value if isinstance(kind, EntityKind) else kind
    return f"{name}:{key}"


def new_event_id(now: datetime, rand: Callable[[int], bytes] = os.urandom) -> str:
    """A UUIDv7 for ``now``: 48 bits of milliseconds, then 74 random bits."""
    millis = int(now.timestamp() * 1000) & ((1 << 48) - 1)
    tail = int.from_bytes(rand(10), "big")
    value = (millis << 80) | (0x7 << 76) | (((tail >> 62) & 0xFFF) << 64)
    value |= (0b10 << 62) | (tail & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


def make_event(
    type_: EventType,
    subject: str,
    payload: Mapping[str, Any],
    *,
    actor: str,
    origin: str,
    now: datetime,
    event_time: datetime | None = None,
) -> Event:
    """Build an event recorded now (its event time may be earlier: when it happened)."""
    return Event(
        id=new_event_id(now),
        type=type_,
        subject=subject,
        event_time=event_time or now,
        recorded_time=now,
        actor=actor,
        origin=origin,
        payload=payload,
    )
