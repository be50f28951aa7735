"""Flap detection, as Nagios does it: weighted state changes over the last 21 results.

The last 21 results hold 20 possible transitions (a result whose state differs from the one
before it). Transition i (1 the oldest, 20 the newest) weighs 0.75 + 0.5 x (i - 1) / 19, so
weights rise linearly from 0.75 to 1.25 and recent changes count more. The percent state change
is the sum of the weights of the transitions that happened x 100 / 20; it lies between 0 (no
change) and 100 (a change on every result). A check starts flapping when the percentage reaches
the high threshold (>= 30 by default) and stops when it falls to the low one (<= 20); in between
it keeps its flapping flag, so the flag itself does not flap.

Before 21 results have been seen, the missing older entries count as no change (Nagios fills the
history with the first state). The weight is kept as the exact fraction (55 + 2i) / 76, so
the percentages of hand-worked cases (exactly 30, exactly 20) are met exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from console.core.checks import CheckState
from console.core.errors import Problem, ValidationError

HISTORY = 21
"""How many results flap detection looks at (Nagios' MAX_STATE_HISTORY_ENTRIES)."""


@dataclass(frozen=True, slots=True)
class FlapConfig:
    """Flap thresholds in percent state change.

    Attributes:
        low: Flapping stops at or below this percentage (Nagios default 20).
        high: Flapping starts at or above this percentage (Nagios default 30).
    """

    low: float = 20.0
    high: float = 30.0

    def __post_init__(self) -> None:
        if not 0 <= self.low <= self.high <= 100:
            raise ValidationError(
                [Problem("flapping", f"need 0 <= low ({self.low}) <= high ({self.high}) <= 100")]
            )


@dataclass(frozen=True, slots=True)
class FlapState:
    """The recent results and whether the check is flapping.

    Attributes:
        history: The last (up to 21) results, oldest first.
        flapping: Whether the check is flapping.
        percent: The percent state change of `history`.
    """

    history: tuple[CheckState, ...] = ()
    flapping: bool = False
    percent: float = 0.0


class FlapEvent(Enum):
    """A change of the flapping flag."""

    STARTED = "started"
    STOPPED = "stopped"


def percent_state_change(states: Sequence[CheckState]) -> float:
    """The weighted percent state change of the last 21 states (oldest first).

    Args:
        states: Results, oldest first; only the last 21 count.

    Returns:
        A percentage from 0 to 100.
    """
    recent = states[-HISTORY:]
    offset = HISTORY - len(recent)  # missing older entries hold no transition
    weighted = 0  # sum of 76 x weight, an integer, so boundaries are exact
    for index in range(1, len(recent)):
        if recent[index] is not recent[index - 1]:
            weighted += 55 + 2 * (index + offset)
    return weighted * 5 / 76


def step_flap(
    state: FlapState, result: CheckState, config: FlapConfig = FlapConfig()
) -> tuple[FlapState, FlapEvent | None]:
    """Record one result and update the flapping flag.

    Args:
        state: The flap state.
        result: The new result's state.
        config: The thresholds.

    Returns:
        The new flap state, and STARTED or STOPPED when the flag changed.
    """
    history = (*state.history, result)[-HISTORY:]
    percent = percent_state_change(history)
    flapping = state.flapping
    if not flapping and percent >= config.high:
        flapping = True
    elif flapping and percent <= config.low:
        flapping = False
    event = None
    if flapping != state.flapping:
        event = FlapEvent.STARTED if flapping else FlapEvent.STOPPED
    return FlapState(history, flapping, percent), event
