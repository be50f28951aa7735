"""Housekeeping the engine does beside polling: roll samples up, and trim old data.

Each step is a bounded amount of work in short transactions, run on a worker thread, with
the event loop free between steps; so polling never waits behind housekeeping for long.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from console.core.clock import Clock
from console.store.db import Store
from console.store.samples import prune, roll_up

log = logging.getLogger(__name__)

#: How often housekeeping runs (a roll-up moves completed minutes, so once a minute is enough).
EVERY_S = 60.0
#: Work per step: chunks of a roll-up, rows per table of a prune.
ROLLUP_CHUNKS_PER_STEP = 4
PRUNE_ROWS_PER_STEP = 5_000
#: At most this many steps per run; what is left waits for the next run.
MAX_STEPS = 50


@dataclass(frozen=True, slots=True)
class Housekeeping:
    """What one run did."""

    rollup_steps: int
    prune_steps: int
    more: bool


async def housekeep(store: Store, clock: Clock) -> Housekeeping:
    """Roll up and prune in bounded steps, yielding to the event loop between them."""
    rollup_steps = prune_steps = 0
    more = True
    while more and rollup_steps < MAX_STEPS:
        progress = await asyncio.to_thread(
            roll_up, store, clock.now(), max_chunks=ROLLUP_CHUNKS_PER_STEP
        )
        rollup_steps += 1
        more = progress.more
    pending = True
    while pending and prune_steps < MAX_STEPS:
        pending = await asyncio.to_thread(
            prune, store, clock.now(), budget_rows=PRUNE_ROWS_PER_STEP
        )
        prune_steps += 1
    return Housekeeping(rollup_steps, prune_steps, more or pending)


async def housekeeping_loop(store: Store, clock: Clock, stop: asyncio.Event) -> None:
    """Run :func:`housekeep` every EVERY_S seconds until ``stop`` is set."""
    while not stop.is_set():
        try:
            await housekeep(store, clock)
        except Exception:  # housekeeping must never stop monitoring
            log.exception("sample housekeeping failed; it will be tried again")
        try:
            await asyncio.wait_for(stop.wait(), EVERY_S)
        except TimeoutError:
            continue
