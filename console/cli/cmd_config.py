"""``config check|import|export``: configuration as code."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from console.cli.context import Context
from console.cli.exitcodes import Exit
from console.cli.output import emit_json, table
from console.config.emitter import dump
from console.config.loader import check_file, load_file
from console.core.diff import Change
from console.store.entities import configured, import_estate


def register(sub: Any) -> None:
    """Add the ``config`` command and its subcommands."""
    config = sub.add_parser("config", help="check, import and export the YAML configuration")
    csub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)

    check = csub.add_parser("check", help="validate a file; list every error with file:line:col")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=cmd_check)

    imp = csub.add_parser("import", help="upsert a file into the store, all or nothing")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--prune", action="store_true", help="also delete what the file no longer declares"
    )
    imp.add_argument("--dry-run", action="store_true", help="list the changes, write nothing")
    imp.set_defaults(handler=cmd_import)

    exp = csub.add_parser("export", help="write the store as canonical YAML (stdout without FILE)")
    exp.add_argument("file", type=Path, nargs="?")
    exp.set_defaults(handler=cmd_export)


def cmd_check(ctx: Context) -> int:
    """Print every problem of a configuration file; exit 2 if there is any."""
    problems = check_file(ctx.args.file)
    if ctx.as_json:
        emit_json(
            {
                "file": str(ctx.args.file),
                "valid": not problems,
                "problems": [
                    {"line": p.line, "column": p.column, "path": p.path, "message": p.message}
                    for p in problems
                ],
            }
        )
    else:
        for problem in problems:
            print(problem, file=sys.stderr)
        if not problems:
            print(f"{ctx.args.file}: ok")
    return Exit.BAD_INPUT if problems else Exit.OK


def _describe(changes: list[Change]) -> list[list[str]]:
    return [[c.verb, c.kind.value, c.key] for c in changes]


def cmd_import(ctx: Context) -> int:
    """Validate, plan and apply a configuration file in one transaction."""
    args = ctx.args
    declared = load_file(args.file)
    store = ctx.store()
    planned = import_estate(store, declared, prune=args.prune, source=str(args.file), dry_run=True)
    deletions = [c for c in planned if c.after is None]
    if deletions and not ctx.as_json:
        print(f"--prune removes {len(deletions)} item(s) the file no longer declares:")
        for c in deletions:
            print(f"  delete {c.kind.value} {c.key}")
    if not args.dry_run:
        planned = import_estate(store, declared, prune=args.prune, source=str(args.file))
    if ctx.as_json:
        emit_json(
            {
                "dry_run": args.dry_run,
                "changes": [{"verb": v, "kind": k, "key": key} for v, k, key in _describe(planned)],
            }
        )
    else:
        table(["change", "kind", "key"], _describe(planned))
        verb = "would change" if args.dry_run else "changed"
        print(f"{verb} {len(planned)} item(s) in {store.path}")
    return Exit.OK


def cmd_export(ctx: Context) -> int:
    """Write the store's configuration as canonical YAML."""
    text = dump(configured(ctx.store().read()))
    target: Path | None = ctx.args.file
    if target is None:
        sys.stdout.write(text)
        return Exit.OK
    write_atomically(target, text)
    return Exit.OK


def write_atomically(target: Path, text: str) -> None:
    """Write a file so that a crash leaves either the old or the new content."""
    target = target.expanduser()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
