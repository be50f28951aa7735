"""What the readiness report reads from the store: the estate, runbook reviews and drills."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlite_utils import Database

from console.core.clock import parse_iso
from console.core.readiness import ReadinessInputs
from console.store import delivery, drills, estate


def reviewed(db: Database) -> dict[str, datetime]:
    """When each runbook was last reviewed: its newest recorded version."""
    rows = db.execute(
        "SELECT runbook, max(recorded_at) FROM runbook_versions GROUP BY runbook"
    ).fetchall()
    return {key: parse_iso(at) for key, at in rows}


def inputs(db: Database) -> ReadinessInputs:
    """Everything the report needs, read in one go: estate, runbook reviews and the drills held."""
    known = replace(estate.load(db), delivery=delivery.config(db))
    return ReadinessInputs(known, reviewed(db), drills.drills(db))
