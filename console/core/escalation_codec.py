"""Escalation policies <-> plain JSON-able dicts: event payloads, stored rows and snapshots.

Durations are written as seconds (an integer when whole). The same form is the snapshot an
incident keeps of its policy, so a snapshot written today must stay readable: fields added
later get defaults when missing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from console.core.escalation import Level, Policy, Target, TargetKind

JSON = dict[str, Any]


def seconds(value: timedelta) -> int | float:
    """A duration as seconds, an integer when it is whole."""
    total = value.total_seconds()
    return int(total) if total == int(total) else total


def _duration(value: Any) -> timedelta | None:
    return None if value is None else timedelta(seconds=float(value))


def target_to_dict(t: Target) -> JSON:
    """Encode a target."""
    return {"kind": t.kind.value, "ref": t.ref, "members": list(t.members)}


def target_from_dict(d: JSON) -> Target:
    """Decode a target."""
    return Target(TargetKind(d["kind"]), d["ref"], tuple(d.get("members") or ()))


def level_to_dict(level: Level) -> JSON:
    """Encode a level."""
    return {
        "delay_s": seconds(level.delay),
        "urgent": level.urgent,
        "targets": [target_to_dict(t) for t in level.targets],
    }


def level_from_dict(d: JSON) -> Level:
    """Decode a level."""
    return Level(
        delay=timedelta(seconds=float(d["delay_s"])),
        targets=tuple(target_from_dict(t) for t in d["targets"]),
        urgent=bool(d.get("urgent", False)),
    )


def policy_to_dict(p: Policy) -> JSON:
    """Encode a policy (the form of events, rows and incident snapshots)."""
    return {
        "id": p.key,
        "name": p.name,
        "description": p.description,
        "levels": [level_to_dict(level) for level in p.levels],
        "repeat": p.repeat,
        "repeat_after_s": None if p.repeat_after is None else seconds(p.repeat_after),
        "ack_timeout_s": None if p.ack_timeout is None else seconds(p.ack_timeout),
        "services": list(p.services),
        "teams": list(p.teams),
    }


def policy_from_dict(d: JSON) -> Policy:
    """Decode a policy."""
    return Policy(
        key=d["id"],
        name=d["name"],
        levels=tuple(level_from_dict(x) for x in d["levels"]),
        repeat=int(d.get("repeat", 0)),
        ack_timeout=_duration(d.get("ack_timeout_s")),
        services=tuple(d.get("services") or ()),
        teams=tuple(d.get("teams") or ()),
        description=d.get("description"),
        repeat_after=_duration(d.get("repeat_after_s")),
    )
