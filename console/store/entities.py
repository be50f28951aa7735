"""Writing configuration: each change is an event, validated against the whole estate first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlite_utils import Database

from console.core import codec
from console.core.alerting_config import AlertingConfig
from console.core.delivery_codec import delivery_from_dict
from console.core.diff import Change, Setting, plan
from console.core.enums import EntityKind
from console.core.errors import ValidationError
from console.core.escalation_codec import policy_to_dict
from console.core.events import DELETED, UPSERTED, Event, EventType, subject_of
from console.core.incident_policy import IncidentSettings
from console.core.models import Estate, PriorityMatrix
from console.core.references import SECTION, Record, check_entity, key_of, kind_of, referrers
from console.core.schedule_codec import schedule_to_dict, unavailability_to_dict
from console.core.silences import silence_to_dict
from console.store import alerting, delivery, estate
from console.store.db import Store
from console.store.errors import StoreConflict
from console.store.events import record

_ENCODE: dict[EntityKind, Any] = {
    EntityKind.TEAM: codec.team_to_dict,
    EntityKind.MEMBER: codec.member_to_dict,
    EntityKind.SERVICE: codec.service_to_dict,
    EntityKind.RUNBOOK: codec.runbook_to_dict,
    EntityKind.RESOURCE: codec.resource_to_dict,
    EntityKind.ENDPOINT: codec.endpoint_to_dict,
    EntityKind.SILENCE: silence_to_dict,
    EntityKind.SCHEDULE: schedule_to_dict,
    EntityKind.UNAVAILABILITY: unavailability_to_dict,
    EntityKind.ESCALATION_POLICY: policy_to_dict,
}


def configured(db: Database) -> Estate:
    """What configuration as code covers: the estate, the alerting settings and the silences."""
    return replace(
        estate.load(db),
        alerting=AlertingConfig(alerting.routing(db), alerting.settings(db)),
        silences=alerting.silences(db),
        delivery=delivery.configured(db),
    )


def _current(known: Estate, kind: EntityKind, key: str) -> dict[str, Any] | None:
    for item in getattr(known, SECTION[kind]):
        if key_of(item) == key:
            return dict(_ENCODE[kind](item))
    return None


def save(store: Store, item: Record) -> Event | None:
    """Create or update one entity; None when nothing changed. Raises ValidationError."""
    kind = kind_of(item)
    with store.transaction() as db:
        known = estate.load(db)
        problems = check_entity(known, item)
        if problems:
            raise ValidationError(problems)
        before = _current(known, kind, key_of(item))
        after = _ENCODE[kind](item)
        if before == after:
            return None
        return record(
            store,
            UPSERTED[kind],
            subject_of(kind, key_of(item)),
            {"key": key_of(item), "before": before, "after": after},
            db=db,
        )


def delete(store: Store, kind: EntityKind, key: str) -> Event:
    """Delete one entity; refuses (StoreConflict) while anything still refers to it."""
    with store.transaction() as db:
        known = configured(db)
        before = _current(known, kind, key)
        if before is None:
            raise StoreConflict(f"there is no {kind.value} {key!r}")
        users = referrers(known, kind, key)
        if users:
            raise StoreConflict(
                f"{kind.value} {key!r} is still used by: {', '.join(users)}; change those first"
            )
        return record(
            store, DELETED[kind], subject_of(kind, key), {"key": key, "before": before}, db=db
        )


def set_priority_matrix(store: Store, matrix: PriorityMatrix) -> Event | None:
    """Replace the priority matrix; None when it is unchanged."""
    with store.transaction() as db:
        before = estate.priority_matrix(db)
        if before == matrix:
            return None
        return record(
            store,
            EventType.PRIORITY_MATRIX_SET,
            "priority_matrix:global",
            {"before": codec.matrix_to_dict(before), "after": codec.matrix_to_dict(matrix)},
            db=db,
        )


def apply_changes(
    store: Store,
    changes: Sequence[Change],
    matrix: PriorityMatrix | None,
    *,
    source: str,
) -> list[Event]:
    """Apply a planned import in one transaction: all of it or, on any error, none of it."""
    events: list[Event] = []
    with store.transaction() as db:
        for change in changes:
            if isinstance(change.kind, Setting):
                events += _apply_setting(store, db, change)
                continue
            subject = subject_of(change.kind, change.key)
            if change.after is None:
                payload = {"key": change.key, "before": change.before}
                events.append(record(store, DELETED[change.kind], subject, payload, db=db))
            else:
                payload = {"key": change.key, "before": change.before, "after": change.after}
                events.append(record(store, UPSERTED[change.kind], subject, payload, db=db))
        if matrix is not None:
            before = estate.priority_matrix(db)
            if before != matrix:
                events.append(
                    record(
                        store,
                        EventType.PRIORITY_MATRIX_SET,
                        "priority_matrix:global",
                        {
                            "before": codec.matrix_to_dict(before),
                            "after": codec.matrix_to_dict(matrix),
                        },
                        db=db,
                    )
                )
        if events or changes:  # incident settings are a settings row: no event of their own
            summary: dict[str, Any] = {"source": source, "changes": len(events)}
            for verb in ("create", "update", "delete"):
                summary[verb] = sum(1 for c in changes if c.verb == verb)
            events.append(record(store, EventType.CONFIG_IMPORTED, "config:import", summary, db=db))
    return events


def _apply_setting(store: Store, db: Database, change: Change) -> list[Event]:
    assert change.after is not None  # settings are replaced, never deleted
    if change.kind is Setting.DELIVERY:
        event = delivery.set_config(store, delivery_from_dict(change.after), db)
        return [] if event is None else [event]
    if change.kind is Setting.ROUTING:
        payload = {"before": change.before, "after": change.after}
        return [record(store, EventType.ROUTING_SET, alerting.ROUTING_SUBJECT, payload, db=db)]
    alerting.save_settings(store, IncidentSettings.from_dict(change.after))
    return []


def import_estate(
    store: Store, declared: Estate, *, prune: bool, source: str, dry_run: bool = False
) -> list[Change]:
    """Make the store hold ``declared`` in one transaction; returns the planned changes.

    ``declared`` must already be valid (``validate_estate``); with ``prune`` whatever the
    store holds and ``declared`` does not is deleted. ``dry_run`` only plans.
    """
    with store.transaction() as db:
        changes = plan(configured(db), declared, prune=prune)
        matrix = declared.priority_matrix
        if matrix is None and prune:
            matrix = PriorityMatrix()
        if not dry_run:
            apply_changes(store, changes, matrix, source=source)
    return changes
