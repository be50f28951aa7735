"""Retrying a delivery: transient failures again after a backoff, permanent ones never."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from console.core.notices import Notice
from console.delivery.outcome import DeliveryStatus, Outcome

Send = Callable[[Notice], Awaitable[Outcome]]
Sleep = Callable[[float], Awaitable[None]]
OnAttempt = Callable[[int, Outcome], None]
BACKOFF = (2.0, 10.0, 30.0)


async def deliver(
    send: Send,
    notice: Notice,
    *,
    attempts: int = 4,
    backoff: Sequence[float] = BACKOFF,
    sleep: Sleep = asyncio.sleep,
    on_attempt: OnAttempt | None = None,
) -> Outcome:
    """Send ``notice`` until it is sent, fails permanently, or ``attempts`` run out.

    Args:
        send: A channel's ``send``.
        notice: What to send; every attempt sends the same notice (the same idempotency key).
        attempts: How many tries at most (at least one is made).
        backoff: Seconds to wait before the 2nd, 3rd... try; the last value repeats.
        sleep: Waits between tries (injected: tests pass one that does not sleep).
        on_attempt: Told of each attempt (1-based number, its outcome), e.g. to record a
            "notification issued" fact per attempt.

    Returns:
        SENT; FAILED and permanent as soon as a permanent failure comes; after the last
        transient failure, FAILED (not permanent) with the attempts counted in its detail.
    """
    total = max(1, attempts)
    outcome: Outcome | None = None
    for number in range(1, total + 1):
        if number > 1:
            await sleep(_delay(backoff, number - 2))
        outcome = await send(notice)
        if on_attempt is not None:
            on_attempt(number, outcome)
        if outcome.status is not DeliveryStatus.RETRY:
            return outcome
    assert outcome is not None  # total >= 1
    return Outcome(
        DeliveryStatus.FAILED,
        f"{outcome.detail} (gave up after {total} attempt{'s' if total > 1 else ''})",
        False,
    )


def _delay(backoff: Sequence[float], index: int) -> float:
    if not backoff:
        return 0.0
    return float(backoff[min(index, len(backoff) - 1)])
