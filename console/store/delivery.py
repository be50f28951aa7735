"""The delivery configuration in the store: how pages reach people away from the console.

Set by ``config import`` (the ``delivery:`` section) as a ``delivery.set`` event on subject
``delivery:config`` (so the timeline says who changed it and a rebuild restores it), projected
into one settings row that the engine's escalator reads every tick.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from console.core.delivery_codec import delivery_from_dict, delivery_to_dict
from console.core.events import Event, EventType
from console.core.notices import DeliveryConfig
from console.store.db import Store
from console.store.delivery_rows import SETTINGS_KEY
from console.store.events import record

SUBJECT = "delivery:config"


def config(db: Database) -> DeliveryConfig | None:
    """The stored delivery configuration (None: never set, or removed)."""
    row = db.execute("SELECT value FROM settings WHERE key = ?", [SETTINGS_KEY]).fetchone()
    if row is None:
        return None
    data = json.loads(row[0])
    return None if data is None else delivery_from_dict(data)


def configured(db: Database) -> DeliveryConfig | None:
    """What configuration as code declares: None when nothing is set (no empty section)."""
    found = config(db)
    return None if found is None or found == DeliveryConfig() else found


def as_dict(value: DeliveryConfig | None) -> dict[str, object] | None:
    """The payload form of a configuration (None stays None)."""
    return None if value is None else delivery_to_dict(value)


def set_config(
    store: Store, value: DeliveryConfig | None, db: Database | None = None
) -> Event | None:
    """Replace the delivery configuration; None when it is unchanged."""
    if db is None:
        with store.transaction() as tx:
            return set_config(store, value, tx)
    before = config(db)
    if before == value:
        return None
    payload = {"before": as_dict(before), "after": as_dict(value)}
    return record(store, EventType.DELIVERY_SET, SUBJECT, payload, db=db)
