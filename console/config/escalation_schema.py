"""The ``escalation_policies`` section: reading it, and writing it canonically.

    escalation_policies:
      - id: payments-default
        name: Payments default
        services: [payments-api]     # the default policy of these services...
        teams: [payments]            # ...and of these teams' other services
        repeat: 2                    # extra loops over all levels (0..9)
        repeat_after: 20 min         # optional: between loops (default: the longest delay)
        ack_timeout: 30 min          # optional: re-trigger an acknowledged incident
        levels:
          - delay: 0 min
            targets: [{schedule: payments-primary}]
          - delay: 10 min
            urgent: true
            targets:
              - {member: ana@example.com}
              - {team: payments}
              - {round_robin: sre}                        # one of the team's members, in turn
              - {round_robin: dba, members: [a@x, b@x]}   # or of an explicit list

Durations are a number and a unit: ``30 s``, ``5 min``, ``1 h``, ``1 h 30 min``, ``2 days``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from yaml.nodes import Node, ScalarNode

from console.config.nodes import INT_TAG, STR_TAG, Entry, Reader, child, describe
from console.core.escalation import Level, Policy, Target, TargetKind

Doc = dict[str, Any]
_UNIT_SECONDS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_EXAMPLE = "a duration like '30 s', '5 min' or '1 h'"
_KINDS = tuple(k.value for k in TargetKind)


def parse_duration(text: str) -> timedelta | None:
    """``5 min`` -> 5 minutes; ``1 h 30 min`` too; None when it is not a duration."""
    folded = text.strip().lower()
    parts = _PART.findall(folded)
    if not parts or _PART.sub("", folded).strip():
        return None
    if any(unit not in _UNIT_SECONDS for _, unit in parts):
        return None
    return timedelta(seconds=sum(float(n) * _UNIT_SECONDS[unit] for n, unit in parts))


def duration_text(value: timedelta) -> str:
    """The shortest exact form: ``0 min``, ``45 s``, ``10 min``, ``2 h``, ``90 min``."""
    seconds = value.total_seconds()
    if seconds and seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s"


def _duration(r: Reader, e: Entry, name: str) -> timedelta | None:
    node, path = e.node(name), child(e.path, name)
    if node is None:
        return None
    if isinstance(node, ScalarNode) and node.tag == INT_TAG and str(node.value).strip() == "0":
        return timedelta(0)
    if not (isinstance(node, ScalarNode) and node.tag == STR_TAG):
        r.fail(node, path, f"expected {_EXAMPLE}, got {describe(node)}")
        return None
    # A leading minus is read as a negative duration so that validation can say so.
    text = str(node.value).strip()
    sign = -1 if text.startswith("-") else 1
    found = parse_duration(text.removeprefix("-"))
    if found is None:
        r.fail(node, path, f"expected {_EXAMPLE}, got {text!r}")
        return None
    return sign * found


def _target(r: Reader, node: Node, path: str) -> Target:
    e = r.entry(node, path, "a target", (), (*_KINDS, "members"))
    if e is None:
        return Target(TargetKind.MEMBER, r.placeholder(path))
    named = [k for k in _KINDS if k in e.values]
    if len(named) != 1:
        found = ", ".join(named) or "none"
        r.fail(node, path, f"a target names exactly one of {', '.join(_KINDS)} (found: {found})")
        return Target(TargetKind.MEMBER, r.placeholder(path))
    kind = TargetKind(named[0])
    return Target(kind, e.text(kind.value), e.texts("members", "member emails"))


def _level(r: Reader, node: Node, path: str) -> Level:
    e = r.entry(node, path, "a level", ("delay", "targets"), ("urgent",))
    if e is None:
        return Level(timedelta(0), (Target(TargetKind.MEMBER, r.placeholder(path)),))
    return Level(
        delay=_duration(r, e, "delay") or timedelta(0),
        targets=tuple(_target(r, n, p) for p, n in e.items("targets", "targets")),
        urgent=bool(e.boolean("urgent")),
    )


def read_policy(r: Reader, node: Node, path: str) -> Policy:
    """One item of ``escalation_policies`` (a placeholder policy when it is not a mapping)."""
    e = r.entry(
        node,
        path,
        "an escalation policy",
        ("id", "name", "levels"),
        ("description", "services", "teams", "repeat", "repeat_after", "ack_timeout"),
    )
    if e is None:
        return Policy(r.placeholder(path), "-", ())
    repeat = e.integer("repeat")
    return Policy(
        key=e.text("id"),
        name=e.text("name"),
        levels=tuple(_level(r, n, p) for p, n in e.items("levels", "levels")),
        repeat=0 if repeat is None else repeat,
        ack_timeout=_duration(r, e, "ack_timeout"),
        services=e.texts("services", "service ids"),
        teams=e.texts("teams", "team ids"),
        description=e.optional_text("description") or None,
        repeat_after=_duration(r, e, "repeat_after"),
    )


# -- writing -------------------------------------------------------------------------------


def _target_doc(t: Target) -> Doc:
    doc: Doc = {t.kind.value: t.ref}
    if t.members:
        doc["members"] = list(t.members)
    return doc


def _level_doc(level: Level) -> Doc:
    doc: Doc = {"delay": duration_text(level.delay)}
    if level.urgent:
        doc["urgent"] = True
    doc["targets"] = [_target_doc(t) for t in level.targets]
    return doc


def policy_doc(p: Policy) -> Doc:
    """A policy as the file writes it (defaults left out)."""
    doc: Doc = {"id": p.key, "name": p.name}
    if p.description:
        doc["description"] = p.description
    if p.services:
        doc["services"] = list(p.services)
    if p.teams:
        doc["teams"] = list(p.teams)
    if p.repeat:
        doc["repeat"] = p.repeat
    if p.repeat_after is not None:
        doc["repeat_after"] = duration_text(p.repeat_after)
    if p.ack_timeout is not None:
        doc["ack_timeout"] = duration_text(p.ack_timeout)
    doc["levels"] = [_level_doc(level) for level in p.levels]
    return doc


def escalation_section(policies: Sequence[Policy]) -> Doc:
    """The section for a canonical file (nothing when there are no policies), in key order."""
    if not policies:
        return {}
    return {"escalation_policies": [policy_doc(p) for p in sorted(policies, key=lambda p: p.key)]}
