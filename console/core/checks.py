"""Check states, their severity order, soft/hard confirmation and staleness.

A check result is one of the `CheckState`s. A single bad result is not yet believed: it is a
SOFT state until the same kind of trouble (any non-OK state) is seen `failures_to_hard` times in
a row, when it becomes HARD (Nagios/Icinga `max_check_attempts`, Gatus `failure-threshold`,
default 3). Recovery is confirmed the same way after `successes_to_recover` OK results in a row
(Gatus `success-threshold`, default 2). Only a HARD change should open or resolve an incident;
SOFT changes are shown but never page anyone.

Time throughout the evaluation core is float seconds since the Unix epoch (UTC), the form
`datetime.timestamp()` returns; see `console.core.evaluation`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from console.core.errors import Problem, ValidationError

STALE_INTERVALS = 3
"""Data older than this many probe intervals is STALE."""


class CheckState(Enum):
    """The judged state of one metric or check.

    UNKNOWN means the probe itself failed (unreachable, timeout, unparseable answer): nothing is
    known about the value, which is different from a value known to be CRITICAL. STALE means no
    result at all has arrived for more than `STALE_INTERVALS` intervals (a silent heartbeat, a
    stopped engine, a laptop that slept).
    """

    OK = "ok"
    STALE = "stale"
    UNKNOWN = "unknown"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def severity(self) -> int:
        """Rank for "worst of": OK 0 < STALE 1 < UNKNOWN 2 < WARNING 3 < CRITICAL 4.

        A value known to be bad outranks not knowing; not knowing outranks OK, so a wall never
        shows green for data it does not have.
        """
        return _SEVERITY[self]


_SEVERITY = {
    CheckState.OK: 0,
    CheckState.STALE: 1,
    CheckState.UNKNOWN: 2,
    CheckState.WARNING: 3,
    CheckState.CRITICAL: 4,
}


def worst(states: Iterable[CheckState]) -> CheckState:
    """The most severe of some states (OK when there are none)."""
    return max(states, key=_SEVERITY.__getitem__, default=CheckState.OK)


def nagios_state(exit_code: int) -> CheckState:
    """A Nagios plugin's exit code as a state: 0 OK, 1 WARNING, 2 CRITICAL, anything else UNKNOWN.

    Exit code 3 is UNKNOWN by the plugin guidelines; other codes (126, 127 for a missing plugin,
    a negative code for a signal) mean the plugin did not run properly, which is also UNKNOWN.
    """
    return {0: CheckState.OK, 1: CheckState.WARNING, 2: CheckState.CRITICAL}.get(
        exit_code, CheckState.UNKNOWN
    )


def is_stale(last_seen_at: float, now: float, interval: float) -> bool:
    """Whether the newest data is older than `STALE_INTERVALS` probe intervals.

    Args:
        last_seen_at: When the newest result (value or failure) arrived, epoch seconds.
        now: The current time, epoch seconds.
        interval: The probe's interval in seconds (positive).

    Returns:
        True when strictly more than 3 intervals have passed: at exactly 90 s after the last
        result of a 30 s probe the data is not yet stale, at 90.001 s it is.
    """
    return now - last_seen_at > STALE_INTERVALS * interval


class StateType(Enum):
    """Whether a state is confirmed (HARD) or only seen (SOFT)."""

    SOFT = "soft"
    HARD = "hard"


@dataclass(frozen=True, slots=True)
class SoftHardPolicy:
    """How many results in a row confirm trouble and recovery.

    Attributes:
        failures_to_hard: Consecutive non-OK results before a problem is HARD (1 = at once).
        successes_to_recover: Consecutive OK results before a HARD problem is over.
    """

    failures_to_hard: int = 3
    successes_to_recover: int = 2

    def __post_init__(self) -> None:
        problems = [
            Problem(name, "must be a whole number of at least 1")
            for name in ("failures_to_hard", "successes_to_recover")
            if getattr(self, name) < 1
        ]
        if problems:
            raise ValidationError(problems)


@dataclass(frozen=True, slots=True)
class CheckStatus:
    """Where a check stands: the latest state, whether it is confirmed, and the confirmed one.

    Attributes:
        state: The state of the latest result.
        state_type: HARD when `state` is confirmed (then `state == hard_state`), else SOFT.
        hard_state: The last confirmed state; the one incidents follow.
        streak: How many results in a row point towards a change of `hard_state` that is not
            confirmed yet (non-OK results while the hard state is OK, or OK results while it is
            not); 0 when nothing is pending.
    """

    state: CheckState = CheckState.OK
    state_type: StateType = StateType.HARD
    hard_state: CheckState = CheckState.OK
    streak: int = 0


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of a check's state.

    Attributes:
        from_state: The state before.
        to_state: The state after.
        state_type: HARD when the confirmed (hard) state changed, from `from_state` to
            `to_state`; SOFT when only the latest result's state changed and the confirmed
            state stayed as it was.
    """

    from_state: CheckState
    to_state: CheckState
    state_type: StateType


_CONFIRMED_OK = CheckStatus()


def step_check(
    status: CheckStatus,
    result: CheckState,
    policy: SoftHardPolicy = SoftHardPolicy(),
    *,
    immediate: bool = False,
) -> tuple[CheckStatus, Transition | None]:
    """Feed one result to the soft/hard state machine.

    Rules (Nagios semantics, with Gatus' recovery threshold):

    - From a confirmed OK, a non-OK result is SOFT; `failures_to_hard` non-OK results in a row
      (of any non-OK kind: WARNING, CRITICAL and UNKNOWN all count) make it HARD, in the state of
      the last result.
    - From a confirmed problem, another non-OK result replaces the hard state at once (a HARD
      WARNING that turns CRITICAL is a HARD change right away).
    - From a confirmed problem, an OK result is a SOFT recovery; `successes_to_recover` OK
      results in a row make it a HARD OK. An OK after an unconfirmed (SOFT) problem returns to
      HARD OK at once, because the confirmed state never left OK.

    Args:
        status: The current status.
        result: The new result.
        policy: The confirmation counts.
        immediate: Confirm a non-OK result at once (used for STALE, whose three silent
            intervals are already the confirmation).

    Returns:
        The new status, and the transition it made (None when nothing changed).
    """
    if result is CheckState.OK:
        new = _after_ok(status, policy)
    else:
        new = _after_problem(status, policy, result, immediate=immediate)
    return new, _transition(status, new)


def _after_problem(
    status: CheckStatus, policy: SoftHardPolicy, result: CheckState, *, immediate: bool
) -> CheckStatus:
    if status.hard_state is not CheckState.OK:
        return CheckStatus(result, StateType.HARD, result, 0)
    streak = status.streak + 1 if status.state is not CheckState.OK else 1
    if immediate or streak >= policy.failures_to_hard:
        return CheckStatus(result, StateType.HARD, result, 0)
    return CheckStatus(result, StateType.SOFT, CheckState.OK, streak)


def _after_ok(status: CheckStatus, policy: SoftHardPolicy) -> CheckStatus:
    if status.hard_state is CheckState.OK:
        return _CONFIRMED_OK
    streak = status.streak + 1 if status.state is CheckState.OK else 1
    if streak >= policy.successes_to_recover:
        return _CONFIRMED_OK
    return CheckStatus(CheckState.OK, StateType.SOFT, status.hard_state, streak)


def _transition(old: CheckStatus, new: CheckStatus) -> Transition | None:
    if new.hard_state is not old.hard_state:
        return Transition(old.hard_state, new.hard_state, StateType.HARD)
    if new.state is not old.state:
        return Transition(old.state, new.state, StateType.SOFT)
    return None
