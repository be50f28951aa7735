"""The delivery configuration's projection: one settings row (see ``console.store.delivery``)."""

from __future__ import annotations

import json

from sqlite_utils import Database

from console.core.events import Event

SETTINGS_KEY = "delivery.config"


def project(db: Database, event: Event) -> None:
    """``delivery.set``: the settings row holds the configuration now in force."""
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [SETTINGS_KEY, json.dumps(event.payload["after"], sort_keys=True)],
    )
