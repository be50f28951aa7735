"""Fixtures for the store tests: a fake clock, an open store, helpers for real subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console.core.clock import FakeClock
from console.store.db import Store

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when a test says so."""
    return FakeClock()


@pytest.fixture
def store(store_path: Path, clock: FakeClock) -> Iterator[Store]:
    """A new store on a fake clock, closed after the test."""
    with Store.open(store_path, clock) as opened:
        yield opened


def child_env() -> dict[str, str]:
    """The environment for a child Python that imports ``console`` from this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def run_python(code: str, *args: str, prefix: list[str] | None = None) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    done = subprocess.run(
        [*(prefix or []), sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"child failed ({done.returncode}): {done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


_PROBE = """
import json, sys
from pathlib import Path
_probe = Path(sys.argv[1]) / ".probe"
try:
    _probe.write_text("x")
except OSError:
    pass
else:
    _probe.unlink()
    print(json.dumps({"writable": True}))
    raise SystemExit(0)
"""

# Root ignores permission bits, so the folder is made read-only the way a mount is: a
# read-only bind mount of it in a private mount namespace that only the child sees.
_READ_ONLY_BIND = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && "$@"'


def run_in_read_only_folder(folder: Path, code: str, *args: str) -> dict[str, Any]:
    """Run ``code`` (argv: folder, *args) in a child that cannot write inside ``folder``."""
    code = _PROBE + code
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            result = run_python(code, str(folder), *args)
        finally:
            folder.chmod(0o755)
    else:
        unshare = shutil.which("unshare")
        assert unshare, "a read-only folder for root needs util-linux's unshare"
        prefix = [unshare, "--mount", "--propagation", "private", "sh", "-c", _READ_ONLY_BIND]
        result = run_python(code, str(folder), *args, prefix=[*prefix, "sh", str(folder)])
    assert "writable" not in result, f"{folder} could not be made read-only for the child"
    return result


#: A child that writes numbered batches, each one transaction of ``size`` member upserts (an
#: event and a projected row each), reporting ``begin N`` before and ``commit N`` after.
#: argv: store path, first batch, batch size, batch count (-1: until the stop file exists),
#: stop file.
WRITER = """
import sys
from pathlib import Path
from console.core import codec
from console.core.enums import Discipline
from console.core.events import EventType, make_event
from console.core.models import Member
from console.store.db import Store
from console.store.events import append

path, batch, size, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
stop = Path(sys.argv[5]) if len(sys.argv) > 5 else None
last = batch + count if count >= 0 else None
store = Store.open(path)
print("ready", flush=True)
while batch != last and not (stop and stop.exists()):
    print(f"begin {batch}", flush=True)
    with store.transaction() as db:
        now = store.clock.now()
        events = []
        for i in range(size):
            m = Member(f"b{batch}-{i}@batch.example", f"Batch {batch}", "UTC", Discipline.OTHER)
            payload = {"key": m.email, "before": None, "after": codec.member_to_dict(m)}
            events.append(
                make_event(
                    EventType.MEMBER_UPSERTED, "member:" + m.email, payload,
                    actor="writer", origin=store.console_id, now=now,
                )
            )
        append(db, events)
    print(f"commit {batch}", flush=True)
    batch += 1
store.close()
print("done", flush=True)
"""


def start_writer(path: Path, first: int, size: int, count: int, stop: Path | None = None) -> Any:
    """Start a WRITER child; its stdout is a line-buffered text pipe."""
    args = [sys.executable, "-c", WRITER, str(path), str(first), str(size), str(count)]
    return subprocess.Popen(
        [*args, *([str(stop)] if stop else [])],
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
        env=child_env(),
    )


def batch_counts(conn: sqlite3.Connection) -> tuple[dict[int, int], dict[int, int]]:
    """Per batch written by WRITER: how many of its events, and of its member rows, exist."""
    events: dict[int, int] = {}
    rows: dict[int, int] = {}
    for table, column, counts in (("events", "subject", events), ("members", "email", rows)):
        sql = f"SELECT {column} FROM {table} WHERE {column} LIKE '%@batch.example'"
        for (value,) in conn.execute(sql):
            n = int(value.rsplit(":", 1)[-1].split("-", 1)[0][1:])
            counts[n] = counts.get(n, 0) + 1
    return events, rows
