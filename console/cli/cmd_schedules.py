"""``oncall`` and ``schedule ...``: who is on call, shifts, gaps, and iCalendar in and out.

A thin layer over ``console.core.schedules`` (the same functions the UI calls) and the store's
schedules, overrides and absences. Times are shown in each schedule's own time zone.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from console.cli.context import Context
from console.cli.exitcodes import Exit
from console.cli.output import emit_json, table
from console.config.schedule_schema import shift_text
from console.core.clock import isoformat, parse_iso
from console.core.errors import ValidationError
from console.core.ical import CalendarInfo, calendar, parse_overrides
from console.core.models import Estate
from console.core.schedule_codec import time_text
from console.core.schedules import (
    Absences,
    Gap,
    OnCall,
    Override,
    Schedule,
    Shift,
    gaps,
    on_call,
    shifts,
)
from console.store import estate
from console.store.errors import StoreConflict
from console.store.schedules import add_overrides


def _moment(text: str) -> datetime:
    try:
        return parse_iso(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time with a zone, such as 2026-03-01T09:30:00Z: {text!r}"
        ) from None


def _days(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 366:
        raise argparse.ArgumentTypeError(f"expected a number of days from 1 to 366, got {text!r}")
    return int(text)


def _json_flag(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: without it this default would overwrite a global --json given before the command.
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print data as JSON"
    )


def register(sub: Any) -> None:
    """Add the ``oncall`` and ``schedule`` commands."""
    oncall = sub.add_parser(
        "oncall",
        help="who is on call now (or at a time), and why",
        description="Who each schedule has on call now or at --at, with the reason (override, "
        "layer, or a fall-through past absent members). Exit 1 when a schedule has nobody.",
    )
    oncall.add_argument("--at", type=_moment, metavar="TIME", help="ISO 8601 time with a zone")
    oncall.add_argument("--schedule", metavar="KEY", help="only this schedule")
    _json_flag(oncall)
    oncall.set_defaults(handler=cmd_oncall)

    schedule = sub.add_parser("schedule", help="on-call schedules: shifts, gaps, iCalendar")
    ssub = schedule.add_subparsers(dest="schedule_command", metavar="ACTION", required=True)
    listing = ssub.add_parser("list", help="every schedule and who it has on call now")
    _json_flag(listing)
    listing.set_defaults(handler=cmd_list)

    show = ssub.add_parser("show", help="a schedule's layers and its coming shifts")
    show.add_argument("key", metavar="KEY")
    show.add_argument("--days", type=_days, default=7, help="how far ahead (7)")
    _json_flag(show)
    show.set_defaults(handler=cmd_show)

    gap = ssub.add_parser("gaps", help="times nobody covers; exit 1 when there are any")
    gap.add_argument("key", metavar="KEY")
    gap.add_argument("--days", type=_days, default=14, help="how far ahead (14)")
    _json_flag(gap)
    gap.set_defaults(handler=cmd_gaps)

    export = ssub.add_parser("export-ics", help="shifts as an iCalendar file (stdout without FILE)")
    export.add_argument("key", metavar="KEY")
    export.add_argument("file", metavar="FILE", type=Path, nargs="?")
    export.add_argument("--member", metavar="EMAIL", help="only this member's shifts")
    export.add_argument("--days", type=_days, default=30, help="how far ahead (30)")
    export.set_defaults(handler=cmd_export_ics)

    imp = ssub.add_parser("import-ics", help="add each event of an .ics file as an override")
    imp.add_argument("key", metavar="KEY")
    imp.add_argument("file", metavar="FILE", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="list the overrides, write nothing")
    _json_flag(imp)
    imp.set_defaults(handler=cmd_import_ics)


def _wants_json(ctx: Context) -> bool:
    return ctx.as_json or bool(getattr(ctx.args, "json", False))


def _local(moment: datetime | None, zone: str) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def _names(known: Estate) -> dict[str, str]:
    return {m.email: m.name for m in known.members}


def _schedule(known: Estate, key: str) -> Schedule:
    found = next((s for s in known.schedules if s.key == key), None)
    if found is None:
        raise StoreConflict(f"there is no schedule {key!r}")
    return found


def _answer_dict(answer: OnCall, schedule: Schedule, names: dict[str, str]) -> dict[str, Any]:
    return {
        "schedule": schedule.key,
        "schedule_name": schedule.name,
        "at": isoformat(answer.at),
        "member": answer.member,
        "member_name": None if answer.member is None else names.get(answer.member),
        "source": answer.source.value,
        "layer": answer.layer,
        "reason": answer.reason,
        "since": None if answer.since is None else isoformat(answer.since),
        "until": None if answer.until is None else isoformat(answer.until),
        "skipped": [
            {"member": s.member, "source": s.source, "reason": s.reason.value}
            for s in answer.skipped
        ],
    }


def _who(member: str | None, names: dict[str, str]) -> str:
    if member is None:
        return "NOBODY"
    return f"{names[member]} <{member}>" if member in names else member


def cmd_oncall(ctx: Context) -> int:
    """Print who each schedule has on call; exit 1 when one of them has nobody."""
    store = ctx.store()
    known = estate.load(store.read())
    at = ctx.args.at or store.clock.now()
    chosen = known.schedules
    if ctx.args.schedule is not None:
        chosen = (_schedule(known, ctx.args.schedule),)
    absences = Absences(known.unavailability)
    names = _names(known)
    answers = [(s, on_call(s, at, absences)) for s in chosen]
    if _wants_json(ctx):
        emit_json([_answer_dict(a, s, names) for s, a in answers])
    else:
        rows = [
            [s.key, _who(a.member, names), a.reason, _local(a.until, s.zone)] for s, a in answers
        ]
        table(["schedule", "on call", "reason", "until"], rows)
    return Exit.PROBLEM_FOUND if any(a.member is None for _, a in answers) else Exit.OK


def cmd_list(ctx: Context) -> int:
    """Print every schedule with who is on call now."""
    store = ctx.store()
    known = estate.load(store.read())
    now = store.clock.now()
    absences = Absences(known.unavailability)
    names = _names(known)
    answers = [(s, on_call(s, now, absences)) for s in known.schedules]
    if _wants_json(ctx):
        emit_json(
            [
                {
                    "key": s.key,
                    "name": s.name,
                    "timezone": s.zone,
                    "layers": [layer.name for layer in s.layers],
                    "members": list(s.members()),
                    "overrides": len(s.overrides),
                    "on_call": _answer_dict(a, s, names),
                }
                for s, a in answers
            ]
        )
    else:
        rows = [
            [s.key, s.name, s.zone, len(s.layers), _who(a.member, names), a.reason]
            for s, a in answers
        ]
        table(["schedule", "name", "time zone", "layers", "on call now", "reason"], rows)
    return Exit.OK


def _shift_dict(shift: Shift, names: dict[str, str]) -> dict[str, Any]:
    return {
        "member": shift.member,
        "member_name": names.get(shift.member),
        "start": isoformat(shift.start),
        "end": isoformat(shift.end),
        "source": shift.source.value,
        "layer": shift.layer,
    }


def _layer_rows(schedule: Schedule) -> list[list[Any]]:
    rows = []
    for layer in schedule.layers:
        day = "" if layer.handoff_day is None else f" {layer.handoff_day.value}"
        windows = [
            f"{time_text(w.start)}-{time_text(w.end)}"
            + ("" if len(w.days) == 7 else " " + ",".join(d.value for d in w.days))
            for w in layer.restrictions
        ]
        rows.append(
            [
                layer.name,
                shift_text(layer.shift_length, layer.shift_unit),
                f"{time_text(layer.handoff)}{day}",
                layer.start.isoformat(),
                windows or "all day",
                list(layer.members),
            ]
        )
    return rows


def cmd_show(ctx: Context) -> int:
    """Print a schedule's layers and its shifts over the next days."""
    store = ctx.store()
    known = estate.load(store.read())
    schedule = _schedule(known, ctx.args.key)
    start = store.clock.now()
    end = start + timedelta(days=ctx.args.days)
    timeline = shifts(schedule, start, end, known.unavailability)
    holes = gaps(schedule, start, end, known.unavailability)
    names = _names(known)
    if _wants_json(ctx):
        emit_json(
            {
                "key": schedule.key,
                "name": schedule.name,
                "timezone": schedule.zone,
                "shifts": [_shift_dict(s, names) for s in timeline],
                "gaps": [_gap_dict(g) for g in holes],
            }
        )
        return Exit.OK
    print(f"{schedule.name} ({schedule.key}), times in {schedule.zone}")
    headers = ["layer", "shift", "handoff", "start", "covers", "members"]
    table(headers, _layer_rows(schedule))
    print()
    zone = schedule.zone
    rows = [
        [_local(s.start, zone), _local(s.end, zone), _who(s.member, names), s.layer or "override"]
        for s in timeline
    ]
    table(["from", "to", "on call", "source"], rows)
    if holes:
        print(f"\n{len(holes)} gap(s): see `oncall-console schedule gaps {schedule.key}`")
    return Exit.OK


def _gap_dict(gap: Gap) -> dict[str, Any]:
    return {"start": isoformat(gap.start), "end": isoformat(gap.end), "reason": gap.reason}


def cmd_gaps(ctx: Context) -> int:
    """Print the times nobody covers over the next days; exit 1 when there are any."""
    store = ctx.store()
    known = estate.load(store.read())
    schedule = _schedule(known, ctx.args.key)
    start = store.clock.now()
    holes = gaps(schedule, start, start + timedelta(days=ctx.args.days), known.unavailability)
    if _wants_json(ctx):
        emit_json([_gap_dict(g) for g in holes])
    else:
        rows = [
            [
                _local(g.start, schedule.zone),
                _local(g.end, schedule.zone),
                g.end - g.start,
                g.reason,
            ]
            for g in holes
        ]
        table(["from", "to", "lasting", "reason"], rows)
    return Exit.PROBLEM_FOUND if holes else Exit.OK


def cmd_export_ics(ctx: Context) -> int:
    """Write a schedule's (or one member's) shifts as an iCalendar file."""
    store = ctx.store()
    known = estate.load(store.read())
    schedule = _schedule(known, ctx.args.key)
    now = store.clock.now()
    found = shifts(
        schedule, now, now + timedelta(days=ctx.args.days), known.unavailability, whole=True
    )
    member: str | None = ctx.args.member
    title = f"{schedule.name} on call"
    if member is not None:
        if member not in schedule.members():
            raise StoreConflict(f"{member} is not in schedule {schedule.key!r}")
        found = [s for s in found if s.member == member]
        title = f"{_names(known).get(member, member)}: {title}"
    info = CalendarInfo(title, _names(known), {schedule.key: schedule.name})
    data = calendar(found, info, now).encode("utf-8")
    if ctx.args.file is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        _write_bytes(ctx.args.file, data)
    return Exit.OK


def _write_bytes(target: Path, data: bytes) -> None:
    """Write a file so that a crash leaves the old or the new content (CRLF kept as is)."""
    target = target.expanduser()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _problem_lines(problems: Sequence[Any], source: str) -> list[str]:
    return [f"{source}: {p}" for p in problems]


def cmd_import_ics(ctx: Context) -> int:
    """Add each VEVENT of an .ics file as an override: all of them, or none on any problem."""
    store = ctx.store()
    known = estate.load(store.read())
    schedule = _schedule(known, ctx.args.key)
    path: Path = ctx.args.file
    text = path.read_text(encoding="utf-8-sig")
    found = parse_overrides(text, _names(known), schedule.zone)
    if found.problems:
        print("\n".join(_problem_lines(found.problems, str(path))), file=sys.stderr)
        print("nothing imported: fix or remove those events", file=sys.stderr)
        return Exit.BAD_INPUT
    added = 0
    if not ctx.args.dry_run:
        try:
            added = len(add_overrides(store, schedule.key, found.overrides))
        except ValidationError as exc:
            print("\n".join(_problem_lines(exc.problems, str(path))), file=sys.stderr)
            print("nothing imported: the events overlap or name unknown members", file=sys.stderr)
            return Exit.BAD_INPUT
    _print_import(ctx, schedule, found.overrides, added, found.skipped, _names(known))
    return Exit.OK


def _print_import(
    ctx: Context,
    schedule: Schedule,
    found: Sequence[Override],
    added: int,
    skipped: int,
    names: dict[str, str],
) -> None:
    dry = bool(ctx.args.dry_run)
    if _wants_json(ctx):
        overrides = [
            {"member": o.member, "start": isoformat(o.start), "end": isoformat(o.end)}
            for o in found
        ]
        emit_json(
            {
                "dry_run": dry,
                "found": len(found),
                "added": added,
                "cancelled_skipped": skipped,
                "overrides": overrides,
            }
        )
        return
    zone = schedule.zone
    table(
        ["member", "from", "to"],
        [[_who(o.member, names), _local(o.start, zone), _local(o.end, zone)] for o in found],
    )
    if dry:
        print(f"would add up to {len(found)} override(s) to {schedule.key}")
        return
    already = len(found) - added
    note = f" ({already} were already there)" if already else ""
    print(f"added {added} override(s) to {schedule.key}{note}")
