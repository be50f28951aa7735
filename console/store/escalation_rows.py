"""Escalation policies and round-robin turns as projections of the log, and read back.

A policy is one JSON ``spec`` (today's codec form). ``round_robin_turns`` holds, per policy and
level, the index the next round robin starts from: every ``escalation.level_started`` that took
a turn moves it on, so the turn survives a restart and a ``db rebuild`` replays it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlite_utils import Database

from console.core.escalation import Policy
from console.core.escalation_codec import policy_from_dict, policy_to_dict
from console.core.events import Event, EventType

TABLES: tuple[str, ...] = ("round_robin_turns", "escalation_policies")


def _js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _policy(db: Database, event: Event) -> None:
    p = policy_from_dict(dict(event.payload["after"]))
    db.execute(
        "INSERT INTO escalation_policies (key, name, spec) VALUES (?, ?, ?) ON CONFLICT (key) "
        "DO UPDATE SET name = excluded.name, spec = excluded.spec",
        [p.key, p.name, _js(policy_to_dict(p))],
    )


def _policy_deleted(db: Database, event: Event) -> None:
    key = event.payload["key"]
    db.execute("DELETE FROM escalation_policies WHERE key = ?", [key])


def _turn(db: Database, event: Event) -> None:
    turn = event.payload.get("round_robin")
    if not turn:
        return
    db.execute(
        "INSERT INTO round_robin_turns (policy, level, next_index) VALUES (?, ?, ?) "
        "ON CONFLICT (policy, level) DO UPDATE SET next_index = excluded.next_index",
        [turn["policy"], int(turn["level"]), int(turn["index"]) + 1],
    )


PROJECTORS: dict[EventType, Callable[[Database, Event], None]] = {
    EventType.ESCALATION_POLICY_UPSERTED: _policy,
    EventType.ESCALATION_POLICY_DELETED: _policy_deleted,
    EventType.ESCALATION_LEVEL_STARTED: _turn,
}


def policies(db: Database) -> tuple[Policy, ...]:
    """Every escalation policy, by key."""
    rows = db.execute("SELECT spec FROM escalation_policies ORDER BY key").fetchall()
    return tuple(policy_from_dict(json.loads(spec)) for (spec,) in rows)


def turns(db: Database) -> dict[tuple[str, int], int]:
    """The next round-robin index per (policy, level)."""
    rows = db.execute("SELECT policy, level, next_index FROM round_robin_turns").fetchall()
    return {(str(p), int(level)): int(index) for p, level, index in rows}
