"""Changing on-call schedules in the store beyond a whole save: overrides one at a time.

A schedule, or an absence, is saved and deleted like any entity (``entities.save`` and
``entities.delete``); overrides also come and go on their own (from the CLI or an iCal import),
each an event, checked against the schedule's other overrides and the known members first.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlite_utils import Database

from console.core.clock import isoformat
from console.core.enums import EntityKind
from console.core.errors import Problem, ValidationError
from console.core.events import Event, EventType, subject_of
from console.core.schedule_codec import override_to_dict
from console.core.schedule_rules import overlapping
from console.core.schedules import Override, Schedule
from console.store import estate
from console.store.db import Store
from console.store.errors import StoreConflict
from console.store.events import record


def _known(db: Database, key: str) -> Schedule:
    found = estate.schedules(db, key)
    if not found:
        raise StoreConflict(f"there is no schedule {key!r}")
    return found[0]


def _span(o: Override) -> str:
    return f"{o.member} from {isoformat(o.start)} to {isoformat(o.end)}"


def _problems(
    stored: Sequence[Override], given: Sequence[Override], new: Sequence[Override], emails: set[str]
) -> list[Problem]:
    """What is wrong with the new overrides, with paths into the given list."""
    index = {o: i for i, o in enumerate(given)}
    out: list[Problem] = []
    for o in new:
        at = f"overrides[{index[o]}]"
        if o.member not in emails:
            out.append(Problem(f"{at}.member", f"unknown member {o.member!r}"))
        if o.end <= o.start:
            out.append(Problem(f"{at}.to", "must be after the start (from)"))
        out += [
            Problem(at, f"overlaps the stored override {s.key} ({_span(s)})")
            for s in stored
            if s.start < o.end and o.start < s.end
        ]
    for first, later in overlapping(new):
        message = f"overlaps overrides[{index[new[first]]}] ({_span(new[first])})"
        out.append(Problem(f"overrides[{index[new[later]]}]", message))
    return out


def add_overrides(store: Store, key: str, overrides: Sequence[Override]) -> list[Event]:
    """Add overrides to a schedule, all or none; those it already has are left alone.

    Returns:
        One ``schedule.override_added`` event per override added.

    Raises:
        StoreConflict: When there is no such schedule.
        ValidationError: When an override names an unknown member, is empty, or overlaps
            another (stored, or given here); paths are ``overrides[i]`` of the given list.
    """
    with store.transaction() as db:
        schedule = _known(db, key)
        have = {o.key for o in schedule.overrides}
        new = [o for o in dict.fromkeys(overrides) if o.key not in have]
        emails = {m.email for m in estate.members(db)}
        problems = _problems(schedule.overrides, overrides, new, emails)
        if problems:
            raise ValidationError(problems)
        subject = subject_of(EntityKind.SCHEDULE, key)
        return [
            record(
                store,
                EventType.SCHEDULE_OVERRIDE_ADDED,
                subject,
                {"schedule": key, "override": override_to_dict(o)},
                db=db,
            )
            for o in new
        ]


def remove_override(store: Store, key: str, override_id: str) -> Event:
    """Remove one override by its id (``Override.key``). Raises StoreConflict when unknown."""
    with store.transaction() as db:
        schedule = _known(db, key)
        found = next((o for o in schedule.overrides if o.key == override_id), None)
        if found is None:
            raise StoreConflict(f"schedule {key!r} has no override {override_id!r}")
        payload = {"schedule": key, "id": override_id, "before": override_to_dict(found)}
        subject = subject_of(EntityKind.SCHEDULE, key)
        return record(store, EventType.SCHEDULE_OVERRIDE_REMOVED, subject, payload, db=db)
