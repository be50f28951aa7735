"""Two processes writing the same store at once both succeed: the busy timeout queues them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from console.store import entities, estate
from console.store.db import Store

from tests.unit.store import sample
from tests.unit.store.conftest import batch_counts, start_writer


def test_a_child_process_and_this_one_write_at_the_same_time(
    store: Store, store_path: Path, tmp_path: Path
) -> None:
    sample.basic(store)
    stop = tmp_path / "stop"
    # The child writes without pause until this process has finished all of its writes.
    with start_writer(store_path, 0, 5, -1, stop) as writer:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        # Start only once the child has committed a batch, so that its writes come first.
        head = [writer.stdout.readline().strip() for _ in range(2)]
        assert head[0].startswith("begin") and head[1].startswith("commit"), head
        mine = [sample.member(f"parent{i}@example.com") for i in range(60)]
        try:
            for item in mine:
                assert entities.save(store, item) is not None
        finally:
            stop.touch()
        theirs = head + writer.stdout.read().splitlines()
        assert writer.wait(timeout=60) == 0
    assert theirs[-1] == "done"

    conn = sqlite3.connect(store_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        written, rows = batch_counts(conn)
        order = [row[0] for row in conn.execute("SELECT subject FROM events ORDER BY seq")]
    finally:
        conn.close()
    committed = [int(line.split()[1]) for line in theirs if line.startswith("commit")]
    assert written == rows == {n: 5 for n in range(max(committed) + 1)}
    emails = {m.email for m in estate.members(store.read())}
    assert {m.email for m in mine} <= emails
    # The child's batches came before, between and after this process's writes.
    mine_at = [i for i, subject in enumerate(order) if subject.startswith("member:parent")]
    child_at = [i for i, subject in enumerate(order) if subject.endswith("@batch.example")]
    assert child_at[0] < mine_at[0] and mine_at[-1] < child_at[-1]
