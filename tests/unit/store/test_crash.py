"""A writer killed with SIGKILL at random moments never leaves a damaged or half-written store."""

from __future__ import annotations

import contextlib
import random
import signal
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from console.core.clock import FakeClock
from console.store.db import Store

from tests.unit.store.conftest import batch_counts, start_writer

ROUNDS = 40
BATCH = 300
SEED = 20260301
#: The longest a writer runs (after its store is open) before it is killed.
MAX_LIFE_S = 0.3


@dataclass
class Log:
    """What the killed writers reported, over every round."""

    begun: set[int] = field(default_factory=set)
    committed: set[int] = field(default_factory=set)
    #: Batches that were inside their transaction when the writer died.
    in_flight: set[int] = field(default_factory=set)

    def read(self, lines: list[str]) -> None:
        """Take in one writer's report."""
        open_batch: int | None = None
        for line in lines:
            word, _, number = line.partition(" ")
            if word == "begin":
                open_batch = int(number)
                self.begun.add(open_batch)
            elif word == "commit":
                self.committed.add(int(number))
                open_batch = None
        if open_batch is not None:
            self.in_flight.add(open_batch)


def run_and_kill(path: Path, first: int, life: float) -> list[str]:
    """Start a writer, let it write for ``life`` seconds, SIGKILL it; its report."""
    child = start_writer(path, first, BATCH, -1)
    assert child.stdout is not None
    ready = child.stdout.readline().strip()
    if ready != "ready":
        child.kill()
        child.wait()
        raise AssertionError(f"the writer could not open the store after a kill: {ready!r}")
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=life)
    assert child.returncode is None, "the writer stopped by itself"
    child.send_signal(signal.SIGKILL)
    child.wait()
    lines = child.stdout.read().splitlines()
    child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    return lines


@pytest.mark.slow
def test_sigkill_at_random_moments_never_leaves_a_partial_batch(store_path: Path) -> None:
    rng = random.Random(SEED)
    Store.open(store_path, FakeClock()).close()
    log = Log()
    for _ in range(ROUNDS):
        first = max(log.begun, default=-1) + 1
        log.read(run_and_kill(store_path, first, rng.uniform(0.0, MAX_LIFE_S)))

    conn = sqlite3.connect(store_path)  # recovers the WAL the last writer left behind
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        events, rows = batch_counts(conn)
    finally:
        conn.close()
    assert set(events) <= log.begun and set(rows) <= log.begun
    for batch in log.begun:
        assert events.get(batch, 0) in (0, BATCH), f"batch {batch} is partly in the log"
        assert rows.get(batch, 0) == events.get(batch, 0), f"batch {batch}: rows != events"
    for batch in log.committed:
        assert events.get(batch) == BATCH, f"batch {batch} was committed but is missing"
    rolled_back = {b for b in log.in_flight if b not in events}
    assert len(log.committed) >= ROUNDS, "the writers hardly wrote anything"
    assert len(rolled_back) > 0, "no kill landed inside a transaction"
    # Most kills land mid-transaction; the rest land between a COMMIT and its report.
    assert len(rolled_back) >= ROUNDS // 4, (len(rolled_back), len(log.in_flight))
