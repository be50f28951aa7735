"""``backup``, ``restore``, ``db info|check|rebuild`` and ``identity``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from console.cli.context import Context
from console.cli.exitcodes import Exit
from console.cli.output import emit_json
from console.store import backup as backups
from console.store import estate, events
from console.store.db import SETTING_IDENTITY
from console.store.migrations import known_names


def register(sub: Any) -> None:
    """Add the store maintenance commands."""
    bk = sub.add_parser("backup", help="copy the store to FILE (safe while the console runs)")
    bk.add_argument("file", type=Path)
    bk.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    bk.set_defaults(handler=cmd_backup)

    rs = sub.add_parser("restore", help="replace the store with a backup (keeps a safety copy)")
    rs.add_argument("file", type=Path)
    rs.set_defaults(handler=cmd_restore)

    db = sub.add_parser("db", help="inspect and maintain the store")
    dsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    dsub.add_parser("info", help="where the store is, its schema and size").set_defaults(
        handler=cmd_info
    )
    dsub.add_parser("check", help="full SQLite integrity check (exit 1 on damage)").set_defaults(
        handler=cmd_check
    )
    dsub.add_parser("rebuild", help="recreate derived tables from the event log").set_defaults(
        handler=cmd_rebuild
    )

    ident = sub.add_parser("identity", help="show or set which member this console acts as")
    ident.add_argument("email", nargs="?", help="a member's email to set as the local identity")
    ident.add_argument("--clear", action="store_true", help="forget the local identity")
    ident.set_defaults(handler=cmd_identity)


def cmd_backup(ctx: Context) -> int:
    """Online backup of the store."""
    dest = backups.backup(ctx.store(), ctx.args.file, overwrite=ctx.args.force)
    print(f"backed up {ctx.store().path} to {dest}")
    return Exit.OK


def cmd_restore(ctx: Context) -> int:
    """Restore the store from a backup file."""
    result = backups.restore(ctx.store_path(), ctx.args.file)
    if ctx.as_json:
        emit_json({"safety_copy": result.safety_copy, "events": result.events})
        return Exit.OK
    print(f"restored {ctx.store_path()} from {ctx.args.file} ({result.events} events)")
    if result.safety_copy is not None:
        print(f"the previous store was kept as {result.safety_copy}")
    return Exit.OK


def cmd_info(ctx: Context) -> int:
    """Describe the store."""
    store = ctx.store()
    db = store.read()
    counts = {
        table: int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        for table in (
            "events",
            "teams",
            "members",
            "services",
            "runbooks",
            "resources",
            "endpoints",
            "series",
        )
    }
    info: dict[str, Any] = {
        "path": str(store.path),
        "size_bytes": store.path.stat().st_size,
        "schema": list(known_names()),
        "console_id": store.console_id,
        "identity": store.identity,
        "actor": store.actor,
        "counts": counts,
    }
    if ctx.as_json:
        emit_json(info)
        return Exit.OK
    for key, value in info.items():
        if key == "counts":
            value = ", ".join(f"{v} {k}" for k, v in counts.items())
        elif isinstance(value, list):
            value = ", ".join(value)
        print(f"{key.replace('_', ' ')}: {value if value is not None else '-'}")
    return Exit.OK


def cmd_check(ctx: Context) -> int:
    """Run PRAGMA integrity_check."""
    rows = [str(r[0]) for r in ctx.store().read().execute("PRAGMA integrity_check").fetchall()]
    ok = rows == ["ok"]
    if ctx.as_json:
        emit_json({"ok": ok, "messages": rows})
    else:
        print("\n".join(rows))
    return Exit.OK if ok else Exit.PROBLEM_FOUND


def cmd_rebuild(ctx: Context) -> int:
    """Rebuild the derived tables from the event log."""
    count = events.rebuild(ctx.store())
    print(f"replayed {count} events")
    return Exit.OK


def cmd_identity(ctx: Context) -> int:
    """Show, set or clear the local identity."""
    args: argparse.Namespace = ctx.args
    store = ctx.store()
    if args.clear:
        store.set_setting(SETTING_IDENTITY, None)
    elif args.email:
        emails = {m.email for m in estate.members(store.read())}
        if args.email not in emails:
            print(f"error: {args.email} is not a member of this store", file=sys.stderr)
            return Exit.BAD_INPUT
        store.set_setting(SETTING_IDENTITY, args.email)
    if ctx.as_json:
        emit_json({"identity": store.identity, "actor": store.actor})
    else:
        print(f"identity: {store.identity or '(not set)'}; actions are recorded as {store.actor}")
    return Exit.OK
