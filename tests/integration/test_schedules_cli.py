"""``oncall`` and ``schedule ...``: the real CLI in subprocesses against a store file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

CONFIG = """version: 1
members:
  - {email: ana@example.com, name: Ana Silva, timezone: Europe/Lisbon, discipline: security}
  - {email: bob@example.com, name: Bob Jones, timezone: America/New_York, discipline: security}
  - {email: cat@example.com, name: Cat Tran, timezone: Asia/Singapore, discipline: security}
schedules:
  - id: security
    name: Security
    timezone: Europe/Berlin
    layers:
      - name: Primary
        members: [ana@example.com, bob@example.com]
        shift: 1 week
        handoff: "09:00"
        handoff_day: mon
        start: 2020-01-06
      - name: Secondary
        members: [cat@example.com]
        shift: 1 week
        handoff: "09:00"
        handoff_day: mon
        start: 2020-01-06
  - id: office
    name: Office hours
    timezone: America/New_York
    layers:
      - name: Desk
        members: [bob@example.com, cat@example.com]
        shift: 1 day
        start: 2020-01-01
        restrictions:
          - {from: "09:00", to: "17:00", days: [mon, tue, wed, thu, fri]}
unavailability:
  - {member: ana@example.com, from: 2026-03-09, to: 2026-03-13, reason: leave}
"""
# Monday 9 March 2026, 12:00 in Berlin: ana's week in the primary rotation (2020-01-06 + 323
# weeks), but ana is on leave.
ANA_WEEK = "2026-03-09T11:00:00Z"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment whose per-user folders live in the test's own folder."""
    out = dict(os.environ)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        out[var] = str(tmp_path / var.lower())
    out.pop("QT_QPA_PLATFORM", None)
    return out


@pytest.fixture
def db(tmp_path: Path, env: dict[str, str]) -> Path:
    """A store holding CONFIG, imported with the real CLI."""
    path = tmp_path / "store.db"
    config = tmp_path / "estate.yaml"
    config.write_text(CONFIG)
    done = cli(env, path, "config", "import", str(config))
    assert done.returncode == 0, done.stderr
    return path


def cli(env: dict[str, str], db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", "--db", str(db), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.stderr == "", done.stderr
    return json.loads(done.stdout)


def test_oncall_names_who_and_why_and_fails_when_nobody_is(env: dict[str, str], db: Path) -> None:
    week_later = "2026-03-16T11:00:00Z"
    (bob,) = as_json(cli(env, db, "oncall", "--at", week_later, "--schedule", "security", "--json"))
    assert (bob["member"], bob["reason"]) == ("bob@example.com", "layer Primary")
    assert bob["until"] == "2026-03-23T08:00:00.000000Z"  # Monday 09:00 CET

    done = cli(env, db, "--json", "oncall", "--at", ANA_WEEK)
    assert done.returncode == 1  # the office has nobody at 06:00 in New York
    answers = {a["schedule"]: a for a in as_json(done)}
    assert answers["security"]["member"] == "cat@example.com"
    assert answers["security"]["reason"] == "Primary: ana@example.com on leave -> Secondary"
    assert answers["security"]["skipped"] == [
        {"member": "ana@example.com", "source": "Primary", "reason": "leave"}
    ]
    assert answers["office"]["member"] is None

    text = cli(env, db, "oncall", "--at", ANA_WEEK, "--schedule", "security")
    assert text.returncode == 0
    assert "Cat Tran <cat@example.com>" in text.stdout and "on leave -> Secondary" in text.stdout
    bad = cli(env, db, "oncall", "--at", "next tuesday")
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr
    missing = cli(env, db, "oncall", "--schedule", "nope")
    assert missing.returncode == 2 and "no schedule 'nope'" in missing.stderr


def test_list_show_and_gaps(env: dict[str, str], db: Path) -> None:
    listed = as_json(cli(env, db, "schedule", "list", "--json"))
    assert [s["key"] for s in listed] == ["office", "security"]
    assert listed[1]["layers"] == ["Primary", "Secondary"]

    shown = as_json(cli(env, db, "schedule", "show", "security", "--days", "21", "--json"))
    spans = [(s["start"], s["end"]) for s in shown["shifts"]]
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
    assert shown["gaps"] == []
    first, last = (
        datetime.fromisoformat(t.replace("Z", "+00:00")) for t in (spans[0][0], spans[-1][1])
    )
    assert last - first == timedelta(days=21)
    text = cli(env, db, "schedule", "show", "security")
    assert text.returncode == 0 and "Primary" in text.stdout and "1 week" in text.stdout

    none = cli(env, db, "schedule", "gaps", "security", "--days", "30")
    assert none.returncode == 0 and "(none)" in none.stdout
    office = cli(env, db, "schedule", "gaps", "office", "--json")
    holes = as_json(office)
    assert office.returncode == 1 and len(holes) >= 10  # every night and weekend of 14 days
    assert {h["reason"] for h in holes} == {"no layer covers this time"}


def events_of(path: Path) -> list[Any]:
    return list(icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT"))


def test_export_ics_writes_calendars_that_icalendar_reads(
    env: dict[str, str], db: Path, tmp_path: Path
) -> None:
    whole = tmp_path / "security.ics"
    assert cli(env, db, "schedule", "export-ics", "security", str(whole)).returncode == 0
    assert whole.read_bytes().count(b"\r\n") > 20
    found = events_of(whole)
    starts = [e.decoded("DTSTART") for e in found]
    ends = [e.decoded("DTEND") for e in found]
    assert starts == sorted(starts) and all(a == b for a, b in zip(ends, starts[1:], strict=False))
    assert ends[-1] - starts[0] >= timedelta(days=30)  # whole weeks around the 30 days
    assert all(s.tzinfo is not None and s.utcoffset() == timedelta(0) for s in starts)
    mondays = {s.astimezone(BERLIN).strftime("%a %H:%M") for s in starts[1:]}
    assert mondays == {"Mon 09:00"}

    again = tmp_path / "again.ics"
    assert cli(env, db, "schedule", "export-ics", "security", str(again)).returncode == 0
    assert [str(e["UID"]) for e in events_of(again)] == [str(e["UID"]) for e in found]

    bob = cli(env, db, "schedule", "export-ics", "security", "--member", "bob@example.com")
    mine = list(icalendar.Calendar.from_ical(bob.stdout).walk("VEVENT"))
    assert mine and all(str(e["ATTENDEE"]) == "mailto:bob@example.com" for e in mine)
    assert {str(e["UID"]) for e in mine} <= {str(e["UID"]) for e in found}
    stranger = cli(env, db, "schedule", "export-ics", "security", "--member", "eve@example.com")
    assert stranger.returncode == 2 and "not in schedule" in stranger.stderr


def test_import_ics_adds_overrides_once_and_refuses_bad_files(
    env: dict[str, str], db: Path, tmp_path: Path
) -> None:
    # Bob covers two evenings of ana's leave week, written the way calendar programs do.
    calendar = tmp_path / "swaps.ics"
    calendar.write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//EN\r\n"
        b"BEGIN:VEVENT\r\nUID:a@x\r\nDTSTAMP:20260301T000000Z\r\n"
        b"DTSTART;TZID=Europe/Berlin:20260310T180000\r\nDTEND;TZID=Europe/Berlin:20260311T080000\r\n"
        b"ATTENDEE;CN=Bob:mailto:bob@example.com\r\nSUMMARY:Bob covers\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:b@x\r\nDTSTAMP:20260301T000000Z\r\n"
        b"DTSTART:20260311T170000Z\r\nDURATION:PT14H\r\nSUMMARY:On call: Bob Jones\r\n"
        b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    dry = as_json(
        cli(env, db, "schedule", "import-ics", "security", str(calendar), "--dry-run", "--json")
    )
    assert (dry["found"], dry["added"]) == (2, 0)
    assert (
        as_json(
            cli(
                env,
                db,
                "oncall",
                "--at",
                "2026-03-10T20:00:00Z",
                "--json",
                "--schedule",
                "security",
            )
        )[0]["member"]
        == "cat@example.com"
    )

    done = cli(env, db, "schedule", "import-ics", "security", str(calendar))
    assert done.returncode == 0 and "added 2 override(s) to security" in done.stdout
    (answer,) = as_json(
        cli(env, db, "oncall", "--at", "2026-03-10T20:00:00Z", "--schedule", "security", "--json")
    )
    assert (answer["member"], answer["reason"]) == ("bob@example.com", "override")
    assert answer["until"] == "2026-03-11T07:00:00.000000Z"
    repeat = cli(env, db, "schedule", "import-ics", "security", str(calendar))
    assert "added 0 override(s) to security (2 were already there)" in repeat.stdout

    clash = tmp_path / "clash.ics"
    clash.write_text(
        "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nDTSTART:20260310T200000Z\n"
        "DTEND:20260310T210000Z\nSUMMARY:cat@example.com\nEND:VEVENT\nBEGIN:VEVENT\n"
        "DTSTART:20260320T200000Z\nDTEND:20260320T210000Z\nSUMMARY:Cat Tran\nEND:VEVENT\n"
        "END:VCALENDAR\n"
    )
    refused = cli(env, db, "schedule", "import-ics", "security", str(clash))
    assert (
        refused.returncode == 2 and "overrides[0]: overlaps the stored override" in refused.stderr
    )
    unknown = tmp_path / "unknown.ics"
    unknown.write_text(clash.read_text().replace("Cat Tran", "Somebody"))
    refused = cli(env, db, "schedule", "import-ics", "security", str(unknown))
    assert refused.returncode == 2 and "VEVENT 2 (line 8): names no known member" in refused.stderr
    exported = cli(env, db, "config", "export")
    assert exported.stdout.count("member: bob@example.com") == 2  # the imported overrides only


def test_a_members_exported_shifts_import_as_overrides_elsewhere(
    env: dict[str, str], db: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "cat.ics"
    done = cli(
        env,
        db,
        "schedule",
        "export-ics",
        "office",
        str(mine),
        "--member",
        "cat@example.com",
        "--days",
        "7",
    )
    assert done.returncode == 0
    shifts = [(e.decoded("DTSTART"), e.decoded("DTEND")) for e in events_of(mine)]
    assert shifts and all(end - start == timedelta(hours=8) for start, end in shifts)
    added = as_json(cli(env, db, "schedule", "import-ics", "security", str(mine), "--json"))
    assert added["added"] == len(shifts)
    start = shifts[0][0] + timedelta(hours=1)
    (answer,) = as_json(
        cli(
            env,
            db,
            "oncall",
            "--at",
            start.astimezone(UTC).isoformat(),
            "--schedule",
            "security",
            "--json",
        )
    )
    assert (answer["member"], answer["source"]) == ("cat@example.com", "override")
