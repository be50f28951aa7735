"""Read-only listings: teams, members, services, runbooks, resources, priorities, events."""

from __future__ import annotations

from typing import Any

from console.cli.context import Context
from console.cli.exitcodes import Exit
from console.cli.output import emit_json, table
from console.core import codec
from console.core.clock import isoformat
from console.core.events import EventType
from console.core.models import SEVERITY_ORDER, Runbook, RunbookVersion
from console.store import estate, events
from console.store.errors import StoreConflict


def register(sub: Any) -> None:
    """Add the listing commands."""
    for name, handler, text in (
        ("teams", cmd_teams, "list teams with their leads and members"),
        ("members", cmd_members, "list members"),
        ("services", cmd_services, "list services by business impact"),
        ("resources", cmd_resources, "list shared resources"),
        ("priorities", cmd_priorities, "show the priority matrix (tier x severity)"),
    ):
        sub.add_parser(name, help=text).set_defaults(handler=handler)

    rb = sub.add_parser("runbooks", help="list, show and search runbooks")
    rb.add_argument("key", nargs="?", help="show this runbook")
    rb.add_argument("--version", type=int, metavar="N", help="show version N (with KEY)")
    rb.add_argument("--versions", action="store_true", help="list the versions of KEY")
    rb.add_argument("--search", metavar="QUERY", help="full-text search")
    rb.set_defaults(handler=cmd_runbooks)

    ev = sub.add_parser("events", help="the event log, oldest first")
    ev.add_argument("--subject", help="only events about this subject (e.g. team:noc)")
    ev.add_argument(
        "--type", dest="types", action="append", default=[], choices=[t.value for t in EventType]
    )
    ev.add_argument("--limit", type=int, default=None)
    ev.set_defaults(handler=cmd_events)


def cmd_teams(ctx: Context) -> int:
    """List teams."""
    teams = estate.teams(ctx.store().read())
    if ctx.as_json:
        emit_json([codec.team_to_dict(t) for t in teams])
    else:
        rows = [
            [t.key, t.name, t.discipline.value, t.lead, len(t.members), t.bridge_url] for t in teams
        ]
        table(["id", "name", "discipline", "lead", "members", "bridge"], rows)
    return Exit.OK


def cmd_members(ctx: Context) -> int:
    """List members."""
    members = estate.members(ctx.store().read())
    if ctx.as_json:
        emit_json([codec.member_to_dict(m) for m in members])
    else:
        rows = [[m.email, m.name, m.discipline.value, m.timezone, m.phone] for m in members]
        table(["email", "name", "discipline", "timezone", "phone"], rows)
    return Exit.OK


def cmd_services(ctx: Context) -> int:
    """List services, most critical first."""
    services = sorted(estate.services(ctx.store().read()), key=lambda s: (s.tier, s.key))
    if ctx.as_json:
        emit_json([codec.service_to_dict(s) for s in services])
    else:
        rows = [[s.key, s.name, int(s.tier), s.team, list(s.depends_on)] for s in services]
        table(["id", "name", "tier", "team", "depends on"], rows)
    return Exit.OK


def cmd_resources(ctx: Context) -> int:
    """List shared resources (secrets appear only as keyring entry names)."""
    resources = estate.resources(ctx.store().read())
    if ctx.as_json:
        emit_json([codec.resource_to_dict(r) for r in resources])
    else:
        rows = [[r.key, r.name, r.kind.value, list(r.who_may_use), r.secret_ref] for r in resources]
        table(["id", "name", "kind", "who may use", "keyring entry"], rows)
    return Exit.OK


def cmd_priorities(ctx: Context) -> int:
    """Show the priority matrix."""
    matrix = estate.priority_matrix(ctx.store().read())
    if ctx.as_json:
        emit_json(codec.matrix_to_dict(matrix))
    else:
        rows = [[f"tier {t}", *(p.value for p in matrix.grid[t - 1])] for t in range(1, 5)]
        table(["impact", *(s.value for s in SEVERITY_ORDER)], rows)
    return Exit.OK


def cmd_runbooks(ctx: Context) -> int:
    """List, search, show a runbook, or list its versions."""
    args = ctx.args
    db = ctx.store().read()
    if args.key is None:
        books = estate.runbooks(db)
        if args.search:
            order = estate.search_runbooks(db, args.search)
            by_key = {r.key: r for r in books}
            books = tuple(by_key[k] for k in order if k in by_key)
        if ctx.as_json:
            emit_json([codec.runbook_to_dict(r) for r in books])
        else:
            rows = [
                [r.key, r.title, len(r.steps), r.expected_minutes, list(r.services)] for r in books
            ]
            table(["id", "title", "steps", "minutes", "services"], rows)
        return Exit.OK
    versions = estate.runbook_versions(db, args.key)
    if not versions:
        raise StoreConflict(f"there is no runbook {args.key!r}")
    if args.versions:
        if ctx.as_json:
            emit_json([_version_dict(v) for v in versions])
        else:
            rows = [
                [v.number, isoformat(v.recorded_at), v.actor, v.content_hash[:12]] for v in versions
            ]
            table(["version", "recorded", "by", "content"], rows)
        return Exit.OK
    chosen = versions[-1] if args.version is None else _pick(versions, args.version, args.key)
    if ctx.as_json:
        emit_json(_version_dict(chosen))
    else:
        print(_markdown(chosen.runbook, chosen.number))
    return Exit.OK


def _pick(versions: tuple[RunbookVersion, ...], number: int, key: str) -> RunbookVersion:
    for v in versions:
        if v.number == number:
            return v
    raise StoreConflict(f"runbook {key!r} has no version {number} (1..{len(versions)})")


def _version_dict(v: RunbookVersion) -> dict[str, Any]:
    return {
        "version": v.number,
        "recorded_at": isoformat(v.recorded_at),
        "actor": v.actor,
        "content_hash": v.content_hash,
        "runbook": codec.runbook_to_dict(v.runbook),
    }


def _markdown(runbook: Runbook, number: int) -> str:
    lines = [f"# {runbook.title}  (version {number})", "", runbook.scenario.strip(), ""]
    for i, step in enumerate(runbook.steps, 1):
        flags = []
        if step.expected_minutes:
            flags.append(f"~{step.expected_minutes} min")
        if step.destroys_evidence:
            flags.append("DESTROYS FORENSIC EVIDENCE")
        suffix = f"  [{'; '.join(flags)}]" if flags else ""
        lines += [f"## {i}. {step.title}{suffix}", "", step.body.strip(), ""]
    return "\n".join(lines)


def cmd_events(ctx: Context) -> int:
    """Print the event log."""
    args = ctx.args
    found = list(
        events.iter_events(
            ctx.store().read(),
            subject=args.subject,
            types=[EventType(t) for t in args.types],
            limit=args.limit,
        )
    )
    if ctx.as_json:
        emit_json(
            [
                {
                    "id": e.id,
                    "type": e.type.value,
                    "subject": e.subject,
                    "event_time": isoformat(e.event_time),
                    "recorded_time": isoformat(e.recorded_time),
                    "actor": e.actor,
                    "origin": e.origin,
                    "schema_version": e.schema_version,
                    "payload": dict(e.payload),
                }
                for e in found
            ]
        )
    else:
        rows = [[isoformat(e.event_time)[:19], e.type.value, e.subject, e.actor] for e in found]
        table(["time", "type", "subject", "actor"], rows)
    return Exit.OK
