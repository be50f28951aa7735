"""Check states: severity order, soft/hard confirmation, recovery, staleness."""

from __future__ import annotations

import pytest
from console.core.checks import (
    CheckState,
    CheckStatus,
    SoftHardPolicy,
    StateType,
    Transition,
    is_stale,
    nagios_state,
    step_check,
    worst,
)
from console.core.errors import ValidationError

OK, WARNING, CRITICAL = CheckState.OK, CheckState.WARNING, CheckState.CRITICAL
UNKNOWN, STALE = CheckState.UNKNOWN, CheckState.STALE
SOFT, HARD = StateType.SOFT, StateType.HARD


DEFAULT = SoftHardPolicy()


def run(
    results: list[CheckState], policy: SoftHardPolicy = DEFAULT
) -> list[tuple[CheckStatus, Transition | None]]:
    status = CheckStatus()
    out = []
    for result in results:
        status, transition = step_check(status, result, policy)
        out.append((status, transition))
    return out


def test_severity_order_puts_known_trouble_above_not_knowing() -> None:
    ordered = [OK, STALE, UNKNOWN, WARNING, CRITICAL]
    assert [s.severity for s in ordered] == [0, 1, 2, 3, 4]
    assert worst([OK, UNKNOWN, WARNING]) is WARNING
    assert worst([STALE, OK]) is STALE
    assert worst([UNKNOWN, CRITICAL, STALE]) is CRITICAL
    assert worst([]) is OK


def test_nagios_exit_codes() -> None:
    assert [nagios_state(code) for code in (0, 1, 2, 3)] == [OK, WARNING, CRITICAL, UNKNOWN]
    assert nagios_state(127) is UNKNOWN  # plugin missing
    assert nagios_state(-9) is UNKNOWN  # killed by a signal


def test_a_problem_becomes_hard_after_exactly_three_results() -> None:
    steps = run([CRITICAL, CRITICAL, CRITICAL, CRITICAL])
    assert steps[0] == (CheckStatus(CRITICAL, SOFT, OK, 1), Transition(OK, CRITICAL, SOFT))
    assert steps[1] == (CheckStatus(CRITICAL, SOFT, OK, 2), None)
    assert steps[2] == (CheckStatus(CRITICAL, HARD, CRITICAL, 0), Transition(OK, CRITICAL, HARD))
    assert steps[3] == (CheckStatus(CRITICAL, HARD, CRITICAL, 0), None)


def test_the_hard_count_follows_the_policy() -> None:
    five = SoftHardPolicy(failures_to_hard=5)
    types = [status.state_type for status, _ in run([WARNING] * 5, five)]
    assert types == [SOFT, SOFT, SOFT, SOFT, HARD]
    at_once = SoftHardPolicy(failures_to_hard=1)
    assert run([UNKNOWN], at_once)[0] == (
        CheckStatus(UNKNOWN, HARD, UNKNOWN, 0),
        Transition(OK, UNKNOWN, HARD),
    )


def test_mixed_problems_count_together_and_harden_in_the_last_state() -> None:
    steps = run([WARNING, CRITICAL, UNKNOWN])
    assert [t for _, t in steps] == [
        Transition(OK, WARNING, SOFT),
        Transition(WARNING, CRITICAL, SOFT),
        Transition(OK, UNKNOWN, HARD),
    ]
    assert steps[-1][0].hard_state is UNKNOWN


def test_an_ok_breaks_the_streak_and_a_soft_problem_vanishes_at_once() -> None:
    steps = run([CRITICAL, CRITICAL, OK, CRITICAL, CRITICAL])
    assert steps[2] == (CheckStatus(), Transition(CRITICAL, OK, SOFT))
    assert steps[4][0] == CheckStatus(CRITICAL, SOFT, OK, 2)  # counting restarted
    assert all(t is None or t.state_type is SOFT for _, t in steps)


def test_recovery_needs_two_oks_in_a_row() -> None:
    steps = run([CRITICAL] * 3 + [OK, OK])
    assert steps[3] == (CheckStatus(OK, SOFT, CRITICAL, 1), Transition(CRITICAL, OK, SOFT))
    assert steps[4] == (CheckStatus(), Transition(CRITICAL, OK, HARD))


def test_a_failed_recovery_returns_to_the_hard_problem_without_a_hard_change() -> None:
    steps = run([CRITICAL] * 3 + [OK, CRITICAL, OK, OK])
    assert steps[4] == (CheckStatus(CRITICAL, HARD, CRITICAL, 0), Transition(OK, CRITICAL, SOFT))
    assert steps[5][0] == CheckStatus(OK, SOFT, CRITICAL, 1)  # the OK streak starts over
    assert steps[6][1] == Transition(CRITICAL, OK, HARD)


def test_recovery_after_three_needs_three() -> None:
    policy = SoftHardPolicy(successes_to_recover=3)
    steps = run([WARNING] * 3 + [OK, OK, OK], policy)
    assert [s.hard_state for s, _ in steps[3:]] == [WARNING, WARNING, OK]


def test_a_hard_problem_that_changes_kind_changes_hard_state_at_once() -> None:
    steps = run([WARNING] * 3 + [CRITICAL, UNKNOWN])
    assert steps[3] == (
        CheckStatus(CRITICAL, HARD, CRITICAL, 0),
        Transition(WARNING, CRITICAL, HARD),
    )
    assert steps[4][1] == Transition(CRITICAL, UNKNOWN, HARD)


def test_unknown_is_not_critical() -> None:
    steps = run([UNKNOWN] * 3)
    assert steps[-1][0].hard_state is UNKNOWN
    assert steps[-1][0].hard_state is not CRITICAL


def test_immediate_confirms_at_once() -> None:
    status, transition = step_check(CheckStatus(), STALE, immediate=True)
    assert status == CheckStatus(STALE, HARD, STALE, 0)
    assert transition == Transition(OK, STALE, HARD)


def test_the_policy_refuses_counts_below_one() -> None:
    with pytest.raises(ValidationError, match="failures_to_hard"):
        SoftHardPolicy(failures_to_hard=0)
    with pytest.raises(ValidationError, match="successes_to_recover"):
        SoftHardPolicy(successes_to_recover=-1)


def test_stale_after_more_than_three_intervals() -> None:
    assert not is_stale(1000.0, 1090.0, 30.0)  # exactly 3 intervals: not yet
    assert is_stale(1000.0, 1090.001, 30.0)
    assert is_stale(1000.0, 1095.0, 30.0)
    assert not is_stale(1000.0, 1002.9, 1.0)
    assert is_stale(1000.0, 1003.1, 1.0)
