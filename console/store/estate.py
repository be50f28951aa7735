"""Reading the configuration projections back into core records."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from typing import Any

from sqlite_utils import Database

from console.core import codec
from console.core.clock import parse_iso
from console.core.endpoints import Endpoint
from console.core.enums import Discipline, ImpactTier, MemberRole, Priority, ResourceKind
from console.core.escalation import Policy
from console.core.models import (
    SEVERITY_ORDER,
    ChatHandle,
    Estate,
    Member,
    Membership,
    PriorityMatrix,
    Runbook,
    RunbookVersion,
    Service,
    SharedResource,
    Team,
)
from console.core.schedules import Schedule, Unavailability
from console.store import escalation_rows, schedule_rows


def _rows(db: Database, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = db.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def members(db: Database) -> tuple[Member, ...]:
    """Every member, by email."""
    return tuple(
        Member(
            email=r["email"],
            name=r["name"],
            timezone=r["timezone"],
            discipline=Discipline(r["discipline"]),
            phone=r["phone"],
            chat=tuple(ChatHandle(k, v) for k, v in json.loads(r["chat"]).items()),
        )
        for r in _rows(db, "SELECT * FROM members ORDER BY email")
    )


def teams(db: Database) -> tuple[Team, ...]:
    """Every team with its memberships, by key."""
    ms: dict[str, list[Membership]] = defaultdict(list)
    for r in _rows(db, "SELECT * FROM memberships ORDER BY team, position"):
        ms[r["team"]].append(Membership(r["member"], MemberRole(r["role"])))
    return tuple(
        Team(
            key=r["key"],
            name=r["name"],
            discipline=Discipline(r["discipline"]),
            lead=r["lead"],
            bridge_url=r["bridge_url"],
            notes=r["notes"],
            members=tuple(ms[r["key"]]),
        )
        for r in _rows(db, "SELECT * FROM teams ORDER BY key")
    )


def services(db: Database) -> tuple[Service, ...]:
    """Every service with its dependencies, by key."""
    deps: dict[str, list[str]] = defaultdict(list)
    for r in _rows(db, "SELECT * FROM service_deps ORDER BY service, position"):
        deps[r["service"]].append(r["depends_on"])
    return tuple(
        Service(
            key=r["key"],
            name=r["name"],
            team=r["team"],
            tier=ImpactTier(r["tier"]),
            description=r["description"],
            tags=tuple(json.loads(r["tags"])),
            depends_on=tuple(deps[r["key"]]),
        )
        for r in _rows(db, "SELECT * FROM services ORDER BY key")
    )


def _version_content(db: Database, key: str, number: int) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT content FROM runbook_versions WHERE runbook = ? AND number = ?", [key, number]
    ).fetchone()
    return None if row is None else dict(json.loads(row[0]))


def runbooks(db: Database) -> tuple[Runbook, ...]:
    """Every runbook at its current version, by key."""
    out: list[Runbook] = []
    for r in _rows(db, "SELECT key, current_version FROM runbooks ORDER BY key"):
        content = _version_content(db, r["key"], r["current_version"])
        if content is not None:
            out.append(codec.runbook_from_dict(content))
    return tuple(out)


def runbook_versions(db: Database, key: str) -> tuple[RunbookVersion, ...]:
    """Every recorded version of a runbook, oldest first (kept after the runbook is deleted)."""
    return tuple(
        RunbookVersion(
            number=r["number"],
            content_hash=r["content_hash"],
            recorded_at=parse_iso(r["recorded_at"]),
            actor=r["actor"],
            runbook=codec.runbook_from_dict(json.loads(r["content"])),
        )
        for r in _rows(
            db, "SELECT * FROM runbook_versions WHERE runbook = ? ORDER BY number", [key]
        )
    )


def search_runbooks(db: Database, query: str, limit: int = 50) -> tuple[str, ...]:
    """Keys of runbooks matching a full-text query, best match first."""
    terms = [t for t in query.replace('"', " ").split() if t]
    if not terms:
        return ()
    match = " ".join(f'"{t}"*' for t in terms)
    rows = db.execute(
        "SELECT key FROM runbook_search WHERE runbook_search MATCH ? ORDER BY rank LIMIT ?",
        [match, limit],
    ).fetchall()
    return tuple(str(r[0]) for r in rows)


def resources(db: Database) -> tuple[SharedResource, ...]:
    """Every shared resource, by key."""
    return tuple(
        SharedResource(
            key=r["key"],
            name=r["name"],
            kind=ResourceKind(r["kind"]),
            description=r["description"],
            who_may_use=tuple(json.loads(r["who_may_use"])),
            how_to_obtain=r["how_to_obtain"],
            secret_ref=r["secret_ref"],
        )
        for r in _rows(db, "SELECT * FROM resources ORDER BY key")
    )


def endpoints(db: Database) -> tuple[Endpoint, ...]:
    """Every endpoint with its target and metrics, by key."""
    return tuple(
        codec.endpoint_from_dict(json.loads(r["spec"]))
        for r in _rows(db, "SELECT spec FROM endpoints ORDER BY key")
    )


def endpoints_fingerprint(db: Database) -> str:
    """A digest of every stored endpoint: unchanged endpoints give the same digest.

    Far cheaper than ``endpoints`` (nothing is decoded), so a reader can tell whether a
    reload is needed.
    """
    # Bytes straight from SQLite: decoding megabytes of JSON text would cost more than hashing.
    rows = db.execute("SELECT CAST(key || char(1) || spec AS BLOB) FROM endpoints ORDER BY key")
    return hashlib.blake2b(b"\x00".join(row[0] for row in rows), digest_size=16).hexdigest()


def priority_matrix(db: Database) -> PriorityMatrix:
    """The stored priority matrix (the defaults where none was ever set)."""
    cells = {
        (r["tier"], r["severity"]): r["priority"]
        for r in _rows(db, "SELECT * FROM priority_matrix")
    }
    if not cells:
        return PriorityMatrix()
    return PriorityMatrix(
        tuple(
            tuple(Priority(cells[(tier, sev.value)]) for sev in SEVERITY_ORDER)
            for tier in range(1, 5)
        )
    )


def schedules(db: Database, key: str | None = None) -> tuple[Schedule, ...]:
    """Every on-call schedule (or the one called ``key``) with its overrides, by key."""
    return schedule_rows.schedules(db, key)


def unavailability(db: Database) -> tuple[Unavailability, ...]:
    """Every recorded absence of a member, by member and start."""
    return schedule_rows.unavailability(db)


def escalation_policies(db: Database) -> tuple[Policy, ...]:
    """Every escalation policy, by key."""
    return escalation_rows.policies(db)


def load(db: Database) -> Estate:
    """The whole configured estate, in canonical (key) order."""
    return Estate(
        teams=teams(db),
        members=members(db),
        services=services(db),
        runbooks=runbooks(db),
        resources=resources(db),
        priority_matrix=priority_matrix(db),
        endpoints=endpoints(db),
        schedules=schedules(db),
        unavailability=unavailability(db),
        escalation_policies=escalation_policies(db),
    )
