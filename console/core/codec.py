"""Records <-> plain JSON-able dicts: the form of event payloads and of stored rows."""

from __future__ import annotations

from typing import Any

from console.core.enums import (
    Discipline,
    ImpactTier,
    MemberRole,
    Priority,
    ResourceKind,
)
from console.core.models import (
    SEVERITY_ORDER,
    ChatHandle,
    Member,
    Membership,
    PriorityMatrix,
    Runbook,
    RunbookStep,
    Service,
    SharedResource,
    Team,
)

JSON = dict[str, Any]


def member_to_dict(m: Member) -> JSON:
    """Encode a member."""
    return {
        "email": m.email,
        "name": m.name,
        "timezone": m.timezone,
        "discipline": m.discipline.value,
        "phone": m.phone,
        "chat": {c.network: c.handle for c in m.chat},
    }


def member_from_dict(d: JSON) -> Member:
    """Decode a member."""
    return Member(
        email=d["email"],
        name=d["name"],
        timezone=d["timezone"],
        discipline=Discipline(d["discipline"]),
        phone=d.get("phone"),
        chat=tuple(ChatHandle(k, v) for k, v in (d.get("chat") or {}).items()),
    )


def team_to_dict(t: Team) -> JSON:
    """Encode a team with its memberships."""
    return {
        "id": t.key,
        "name": t.name,
        "discipline": t.discipline.value,
        "lead": t.lead,
        "bridge": t.bridge_url,
        "notes": t.notes,
        "members": [{"email": m.member, "role": m.role.value} for m in t.members],
    }


def team_from_dict(d: JSON) -> Team:
    """Decode a team."""
    return Team(
        key=d["id"],
        name=d["name"],
        discipline=Discipline(d["discipline"]),
        lead=d.get("lead"),
        bridge_url=d.get("bridge"),
        notes=d.get("notes"),
        members=tuple(
            Membership(m["email"], MemberRole(m["role"])) for m in d.get("members") or ()
        ),
    )


def service_to_dict(s: Service) -> JSON:
    """Encode a service."""
    return {
        "id": s.key,
        "name": s.name,
        "team": s.team,
        "tier": int(s.tier),
        "description": s.description,
        "tags": list(s.tags),
        "depends_on": list(s.depends_on),
    }


def service_from_dict(d: JSON) -> Service:
    """Decode a service."""
    return Service(
        key=d["id"],
        name=d["name"],
        team=d["team"],
        tier=ImpactTier(d["tier"]),
        description=d.get("description"),
        tags=tuple(d.get("tags") or ()),
        depends_on=tuple(d.get("depends_on") or ()),
    )


def step_to_dict(s: RunbookStep) -> JSON:
    """Encode a runbook step."""
    return {
        "title": s.title,
        "body": s.body,
        "expected_minutes": s.expected_minutes,
        "destroys_evidence": s.destroys_evidence,
    }


def runbook_to_dict(r: Runbook) -> JSON:
    """Encode a runbook."""
    return {
        "id": r.key,
        "title": r.title,
        "scenario": r.scenario,
        "services": list(r.services),
        "steps": [step_to_dict(s) for s in r.steps],
    }


def runbook_from_dict(d: JSON) -> Runbook:
    """Decode a runbook."""
    return Runbook(
        key=d["id"],
        title=d["title"],
        scenario=d["scenario"],
        services=tuple(d.get("services") or ()),
        steps=tuple(
            RunbookStep(
                title=s["title"],
                body=s["body"],
                expected_minutes=s.get("expected_minutes"),
                destroys_evidence=bool(s.get("destroys_evidence", False)),
            )
            for s in d.get("steps") or ()
        ),
    )


def resource_to_dict(r: SharedResource) -> JSON:
    """Encode a shared resource."""
    return {
        "id": r.key,
        "name": r.name,
        "kind": r.kind.value,
        "description": r.description,
        "who_may_use": list(r.who_may_use),
        "how_to_obtain": r.how_to_obtain,
        "secret_ref": r.secret_ref,
    }


def resource_from_dict(d: JSON) -> SharedResource:
    """Decode a shared resource."""
    return SharedResource(
        key=d["id"],
        name=d["name"],
        kind=ResourceKind(d["kind"]),
        description=d.get("description"),
        who_may_use=tuple(d.get("who_may_use") or ()),
        how_to_obtain=d.get("how_to_obtain"),
        secret_ref=d.get("secret_ref"),
    )


def matrix_to_dict(m: PriorityMatrix) -> JSON:
    """Encode the priority matrix as {tier: {severity: priority}}."""
    return {
        str(tier): {sev.value: m.grid[tier - 1][i].value for i, sev in enumerate(SEVERITY_ORDER)}
        for tier in (1, 2, 3, 4)
    }


def matrix_from_dict(d: JSON) -> PriorityMatrix:
    """Decode the priority matrix; cells not given keep their defaults."""
    matrix = PriorityMatrix()
    rows = [list(r) for r in matrix.grid]
    for tier_text, cells in d.items():
        for sev_text, prio in cells.items():
            col = [s.value for s in SEVERITY_ORDER].index(sev_text)
            rows[int(tier_text) - 1][col] = Priority(prio)
    return PriorityMatrix(tuple(tuple(r) for r in rows))
