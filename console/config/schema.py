"""The sections and fields of configuration format version 1, read into core records.

Every list item becomes a record, a placeholder one when the item is broken, so that the
indices of the estate match the indices of the file and the semantic problems that
``validate_estate`` reports by index point back at the right lines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from yaml.nodes import MappingNode, Node

from console.config.alerting_schema import read_alerting, read_silences
from console.config.delivery_schema import read_delivery
from console.config.endpoint_schema import read_endpoint
from console.config.escalation_schema import read_policy
from console.config.nodes import Entry, Reader, child, describe, is_null
from console.config.schedule_schema import read_schedule, read_unavailability
from console.core.enums import (
    Discipline,
    ImpactTier,
    MemberRole,
    Priority,
    ResourceKind,
    Severity,
)
from console.core.models import (
    ChatHandle,
    Estate,
    Member,
    Membership,
    PriorityMatrix,
    Runbook,
    RunbookStep,
    Service,
    SharedResource,
    Team,
)

VERSION = 1
SECTIONS = (
    "version",
    "members",
    "teams",
    "services",
    "priority_matrix",
    "runbooks",
    "resources",
    "endpoints",
    "alerting",
    "silences",
    "schedules",
    "unavailability",
    "escalation_policies",
    "delivery",
)
TIERS = range(1, len(ImpactTier) + 1)
T = TypeVar("T")


def _member(r: Reader, node: Node, path: str) -> Member:
    e = r.entry(
        node, path, "a member", ("email", "name", "timezone", "discipline"), ("phone", "chat")
    )
    if e is None:
        return Member(r.placeholder(path), "-", "UTC", Discipline.OTHER)
    return Member(
        email=e.text("email"),
        name=e.text("name"),
        timezone=e.text("timezone"),
        discipline=e.choice("discipline", Discipline, "discipline") or Discipline.OTHER,
        phone=e.optional_text("phone"),
        chat=_chat(r, e),
    )


def _chat(r: Reader, e: Entry) -> tuple[ChatHandle, ...]:
    node = e.node("chat")
    path = child(e.path, "chat")
    if node is None:
        return ()
    mapping = r.mapping(node, path, "a mapping of chat networks to handles (slack: '@ana')")
    if mapping is None:
        return ()
    out: list[ChatHandle] = []
    for network, _key, value in r.pairs(mapping, path):
        handle = r.string(value, child(path, network))
        if handle is not None:
            out.append(ChatHandle(network, handle))
    return tuple(out)


def _membership(r: Reader, node: Node, path: str) -> Membership:
    e = r.entry(node, path, "a team membership", ("email", "role"))
    if e is None:
        return Membership(r.placeholder(path), MemberRole.RESPONDER)
    role = e.choice("role", MemberRole, "role") or MemberRole.RESPONDER
    return Membership(e.text("email"), role)


def _team(r: Reader, node: Node, path: str) -> Team:
    e = r.entry(
        node, path, "a team", ("id", "name", "discipline"), ("lead", "bridge", "notes", "members")
    )
    if e is None:
        return Team(r.placeholder(path), "-", Discipline.OTHER)
    return Team(
        key=e.text("id"),
        name=e.text("name"),
        discipline=e.choice("discipline", Discipline, "discipline") or Discipline.OTHER,
        lead=e.optional_text("lead"),
        bridge_url=e.optional_text("bridge"),
        notes=e.optional_text("notes") or None,
        members=tuple(_membership(r, n, p) for p, n in e.items("members", "memberships")),
    )


def _service(r: Reader, node: Node, path: str) -> Service:
    e = r.entry(
        node,
        path,
        "a service",
        ("id", "name", "team", "tier"),
        ("description", "tags", "depends_on"),
    )
    if e is None:
        return Service(r.placeholder(path), "-", "-", ImpactTier.TIER_4)
    tier = e.integer("tier", TIERS)
    return Service(
        key=e.text("id"),
        name=e.text("name"),
        team=e.text("team"),
        tier=ImpactTier.TIER_4 if tier is None else ImpactTier(tier),
        description=e.optional_text("description") or None,
        tags=e.texts("tags", "tags"),
        depends_on=e.texts("depends_on", "service ids"),
    )


def _step(r: Reader, node: Node, path: str) -> RunbookStep:
    e = r.entry(
        node, path, "a runbook step", ("title", "body"), ("expected_minutes", "destroys_evidence")
    )
    if e is None:
        return RunbookStep(r.placeholder(path), "-")
    return RunbookStep(
        title=e.text("title"),
        body=e.text("body"),
        expected_minutes=e.integer("expected_minutes"),
        destroys_evidence=bool(e.boolean("destroys_evidence")),
    )


def _runbook(r: Reader, node: Node, path: str) -> Runbook:
    e = r.entry(node, path, "a runbook", ("id", "title", "scenario", "steps"), ("services",))
    if e is None:
        return Runbook(r.placeholder(path), "-", "-")
    return Runbook(
        key=e.text("id"),
        title=e.text("title"),
        scenario=e.text("scenario"),
        services=e.texts("services", "service ids"),
        steps=tuple(_step(r, n, p) for p, n in e.items("steps", "steps")),
    )


def _resource(r: Reader, node: Node, path: str) -> SharedResource:
    e = r.entry(
        node,
        path,
        "a shared resource",
        ("id", "name", "kind"),
        ("description", "who_may_use", "how_to_obtain", "secret_ref"),
    )
    if e is None:
        return SharedResource(r.placeholder(path), "-", ResourceKind.OTHER)
    return SharedResource(
        key=e.text("id"),
        name=e.text("name"),
        kind=e.choice("kind", ResourceKind, "resource kind") or ResourceKind.OTHER,
        description=e.optional_text("description") or None,
        who_may_use=e.texts("who_may_use", "team ids"),
        how_to_obtain=e.optional_text("how_to_obtain") or None,
        secret_ref=e.optional_text("secret_ref"),
    )


def _matrix(r: Reader, node: Node, path: str) -> PriorityMatrix:
    matrix = PriorityMatrix()
    mapping = r.mapping(
        node, path, "a mapping of tiers to severities to priorities (2: {critical: P1})"
    )
    if mapping is None:
        return matrix
    for _name, key, value in r.pairs(mapping, path):
        row_path = f"{path}.{key.value}"
        tier = r.integer(key, row_path, TIERS, "tier")
        row = r.mapping(value, row_path, "a mapping of severities to priorities (critical: P1)")
        if tier is None or row is None:
            continue
        for sev_text, sev_key, cell in r.pairs(row, row_path):
            severity = r.choice(sev_key, child(row_path, sev_text), Severity, "severity")
            priority = r.choice(cell, child(row_path, sev_text), Priority, "priority")
            if severity is not None and priority is not None:
                matrix = matrix.with_cell(ImpactTier(tier), severity, priority)
    return matrix


def _version(r: Reader, root: MappingNode, node: Node | None) -> None:
    if node is None:
        r.report(root, "", f"missing 'version: {VERSION}' (the format version)")
        return
    version = r.integer(node, "version")
    if version is not None and version != VERSION:
        r.report(node, "version", f"unsupported version {version}; this console reads {VERSION}")


def _list(
    r: Reader,
    sections: dict[str, Node],
    name: str,
    what: str,
    read: Callable[[Reader, Node, str], T],
) -> tuple[T, ...]:
    node = sections.get(name)
    items = [] if node is None else r.sequence(node, name, what)
    return tuple(read(r, item, f"{name}[{i}]") for i, item in enumerate(items))


def read_document(r: Reader, root: Node) -> Estate | None:
    """Read a whole document into an estate (with placeholders where it is broken)."""
    if not isinstance(root, MappingNode):
        r.report(root, "", f"expected a mapping of sections at the top, got {describe(root)}")
        return None
    r.fresh(root, "")
    r.nodes[""] = root
    sections = r.fields(root, "", "the top level", SECTIONS)
    _version(r, root, sections.get("version"))
    matrix = sections.get("priority_matrix")
    services = _list(r, sections, "services", "services", _service)
    members = _list(r, sections, "members", "members", _member)
    teams = _list(r, sections, "teams", "teams", _team)
    return Estate(
        members=members,
        teams=teams,
        services=services,
        runbooks=_list(r, sections, "runbooks", "runbooks", _runbook),
        resources=_list(r, sections, "resources", "shared resources", _resource),
        endpoints=_list(r, sections, "endpoints", "endpoints", read_endpoint),
        priority_matrix=(
            None if matrix is None or is_null(matrix) else _matrix(r, matrix, "priority_matrix")
        ),
        alerting=read_alerting(r, sections.get("alerting"), {s.key for s in services}),
        silences=read_silences(r, sections.get("silences"), {s.key for s in services}),
        schedules=_list(r, sections, "schedules", "schedules", read_schedule),
        unavailability=read_unavailability(r, sections.get("unavailability"), members),
        escalation_policies=_list(
            r, sections, "escalation_policies", "escalation policies", read_policy
        ),
        delivery=read_delivery(r, sections.get("delivery"), {t.key for t in teams}),
    )
