"""The demo's escalations caught up when its history is written, through the real escalator.

The replay opens the demo's incidents in the recent past; their escalation policies were due
while no engine ran. Here the real `Escalator` catches up once, the way an engine restarted
after an outage does: every level that fell due is started (each with its own due time) and its
pages are delivered through the demo's one channel, a generic webhook to the simulated pager
(``console.simulator.server``), served for the occasion on loopback. So a demo store, a window
or a screenshot alike, shows escalations under way with pages really sent. The delivery
configuration is put back as it was afterwards: the engine that runs the demo aims the pager at
its own simulator.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

import aiohttp

from console.config.demo import demo_estate
from console.core.notices import DeliveryConfig
from console.delivery.channels import Channels
from console.engine.backfill import demo_model
from console.engine.escalator import Escalator, TickReport
from console.simulator.server import start as start_simulator
from console.store import delivery
from console.store.db import Store

log = logging.getLogger(__name__)


async def _no_wait(_: float) -> None:
    """Retries go at once: a loopback pager that fails once will not answer later either."""


async def _catch_up(store: Store) -> TickReport:
    before = delivery.config(store.read())
    simulator = await start_simulator(port=0, model=demo_model(store))
    try:
        aimed = demo_estate(simulator=simulator.url).delivery
        if aimed is None:
            return TickReport()
        delivery.set_config(store, aimed)
        async with aiohttp.ClientSession() as session:

            def channels(config: DeliveryConfig | None) -> Channels:
                return Channels(config or DeliveryConfig(), session, lambda name: None)

            escalator = Escalator(store, store.clock, channels, attempts=2, sleep=_no_wait)
            report = await escalator.tick()
            await escalator.drain()
            return report
    finally:
        delivery.set_config(store, before)
        await simulator.stop()


def escalate_demo(store: Store) -> TickReport:
    """Catch the demo's escalations up (call after the replay, with no engine running)."""
    # On a thread of its own: the caller may be inside an event loop (``--demo poll``).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-escalation") as pool:
        report = pool.submit(lambda: asyncio.run(_catch_up(store))).result()
    log.info(
        "demo escalations caught up: %d incidents, %d pages", report.incidents, len(report.sends)
    )
    return report
