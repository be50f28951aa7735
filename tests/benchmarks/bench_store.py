"""Store write and read costs, against raw sqlite3 doing the same work in the same run.

Run: ``.venv/bin/python tests/benchmarks/bench_store.py`` (not part of the test run). Ratios
are what to compare across machines; absolute figures move with the machine's load.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from console.config.demo import demo_estate
from console.config.emitter import dump
from console.config.loader import load_text
from console.core.enums import Discipline
from console.core.events import EventType
from console.core.models import Member
from console.store import entities, estate, events
from console.store.db import Store

ROUNDS = 5


def best_of(fn: Callable[[], None], rounds: int = ROUNDS) -> float:
    """Median wall time of ``rounds`` runs, in seconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def raw_baseline(folder: Path, n: int) -> float:
    """Time n one-row transactions on a WAL table with raw sqlite3: the floor."""
    path = folder / f"raw-{time.monotonic_ns()}.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, payload TEXT)")

    def work() -> None:
        for i in range(n):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT OR REPLACE INTO t VALUES (?, ?)", [f"k{i}", json.dumps({"i": i})])
            conn.execute("COMMIT")

    return best_of(work)


def store_saves(folder: Path, n: int) -> float:
    """Time n member saves: validation, event and projection, a transaction each."""
    store = Store.open(folder / f"store-{time.monotonic_ns()}.db")
    counter = iter(range(10**9))

    def work() -> None:
        for _ in range(n):
            i = next(counter)
            member = Member(f"m{i}@example.com", f"M {i}", "UTC", Discipline.OTHER)
            entities.save(store, member)

    result = best_of(work, rounds=1)
    store.close()
    return result


def event_appends(folder: Path, n: int) -> float:
    """Time n events appended in one transaction (no projection: a log-only type)."""
    store = Store.open(folder / f"events-{time.monotonic_ns()}.db")

    def work() -> None:
        with store.transaction() as db:
            for i in range(n):
                events.record(store, EventType.CONFIG_IMPORTED, "bench:x", {"i": i}, db=db)

    result = best_of(work)
    store.close()
    return result


def main() -> None:
    """Print each figure with its baseline and ratio."""
    folder = Path(tempfile.mkdtemp(prefix="oncall-bench-"))
    n = 500
    raw = raw_baseline(folder, n)
    saves = store_saves(folder, n)
    appends = event_appends(folder, 5000)
    print(f"raw sqlite3, {n} one-row transactions: {raw * 1000:.1f} ms (baseline)")
    print(f"store, {n} member saves: {saves * 1000:.1f} ms ({saves / raw:.0f}x baseline)")
    print(f"store, 5000 events in one transaction: {appends * 1000:.1f} ms")

    demo = demo_estate()
    text = dump(demo)
    parse = best_of(lambda: load_text(text, "demo.yaml"))
    emit = best_of(lambda: dump(demo))
    imp = best_of(lambda: _import_fresh(folder), rounds=3)
    store = Store.open(folder / "import.db")
    entities.import_estate(store, demo, prune=False, source="bench")
    load = best_of(lambda: estate.load(store.read()))
    rebuild = best_of(lambda: events.rebuild(store), rounds=3)
    print(f"demo config: parse+validate {parse * 1000:.1f} ms, emit {emit * 1000:.1f} ms")
    print(f"demo import into a new store: {imp * 1000:.1f} ms")
    print(f"demo store: load {load * 1000:.1f} ms, rebuild from events {rebuild * 1000:.1f} ms")


def _import_fresh(folder: Path) -> None:
    store = Store.open(folder / f"imp-{time.monotonic_ns()}.db")
    entities.import_estate(store, demo_estate(), prune=False, source="bench")
    store.close()


if __name__ == "__main__":
    main()
