"""Shared moments and helpers for the simulator tests."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

T = TypeVar("T")
# A Monday at 00:00 UTC, in winter (CET); the week after it is the usual test window.
MONDAY = datetime(2026, 1, 5, tzinfo=UTC).timestamp()
DAY = 86400.0
WEEK = 7 * DAY
BERLIN = ZoneInfo("Europe/Berlin")


def local_moment(day: int, hour: int, minute: int = 0) -> float:
    """Unix time of hour:minute Berlin time, day days after MONDAY (zoneinfo as the oracle)."""
    date = datetime.fromtimestamp(MONDAY + day * DAY, UTC).astimezone(BERLIN).date()
    return datetime(date.year, date.month, date.day, hour, minute, tzinfo=BERLIN).timestamp()


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh loop and fail if it left tasks behind."""

    async def checked() -> T:
        result = await main
        leftover = asyncio.all_tasks() - {asyncio.current_task()}
        assert not leftover, f"tasks left running: {leftover}"
        return result

    return asyncio.run(checked())
