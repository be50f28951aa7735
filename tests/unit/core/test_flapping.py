"""Flap detection: hand-worked Nagios percentages, start/stop thresholds, properties.

Hand-working the weights: transition i (1 = oldest of the 20, 20 = newest) weighs
0.75 + 0.5 x (i - 1) / 19; for instance w1 = 0.75, w20 = 1.25, w10 = 0.75 + 4.5/19.
The percent state change is (sum of the weights of the transitions that happened) x 100 / 20,
that is 5 x the sum.
"""

from __future__ import annotations

import pytest
from console.core.checks import CheckState
from console.core.errors import ValidationError
from console.core.flapping import (
    HISTORY,
    FlapConfig,
    FlapEvent,
    FlapState,
    percent_state_change,
    step_flap,
)
from hypothesis import given, settings
from hypothesis import strategies as st

OK, WARNING, CRITICAL = CheckState.OK, CheckState.WARNING, CheckState.CRITICAL
PROPERTY = settings(deadline=None, max_examples=200, database=None)


def with_transitions_at(positions: set[int], length: int = HISTORY) -> list[CheckState]:
    """A history of `length` states whose transitions (1 = oldest of 20) are at `positions`."""
    offset = HISTORY - length
    history = [OK]
    for index in range(1, length):
        flip = index + offset in positions
        history.append((CRITICAL if history[-1] is OK else OK) if flip else history[-1])
    return history


def test_no_change_is_zero() -> None:
    assert percent_state_change([OK] * 21) == 0.0
    assert percent_state_change([CRITICAL] * 5) == 0.0
    assert percent_state_change([]) == 0.0


def test_only_the_newest_transition() -> None:
    # w20 = 1.25 -> 1.25 x 5 = 6.25
    assert percent_state_change([OK] * 20 + [CRITICAL]) == 6.25


def test_only_the_oldest_transition() -> None:
    # w1 = 0.75 -> 0.75 x 5 = 3.75
    assert percent_state_change([OK] + [CRITICAL] * 20) == 3.75


def test_a_change_on_every_result_is_one_hundred() -> None:
    # the 20 weights average 1.0, so they sum to 20 -> 100
    alternating = [OK if i % 2 == 0 else WARNING for i in range(21)]
    assert percent_state_change(alternating) == 100.0


def test_the_last_six_results_changing() -> None:
    # transitions 15..20: 6 x 0.75 + (14 + 15 + 16 + 17 + 18 + 19) x 0.5 / 19
    #   = 4.5 + 99 / 38 = 4.5 + 2.6052631... = 7.1052631...; x 5 = 35.526315...
    assert percent_state_change(with_transitions_at({15, 16, 17, 18, 19, 20})) == pytest.approx(
        35.526315789, abs=1e-8
    )


def test_exactly_thirty_and_exactly_twenty() -> None:
    # positions 3, 5, 10, 12, 15, 18: 6 x 0.75 + (2 + 4 + 9 + 11 + 14 + 17) x 0.5 / 19
    #   = 4.5 + 57 / 38 = 4.5 + 1.5 = 6.0 -> 30.0
    assert percent_state_change(with_transitions_at({3, 5, 10, 12, 15, 18})) == 30.0
    # positions 9..12: 4 x 0.75 + (8 + 9 + 10 + 11) x 0.5 / 19 = 3 + 19 / 19 = 4.0 -> 20.0
    assert percent_state_change(with_transitions_at({9, 10, 11, 12})) == 20.0


def test_any_change_of_state_counts_not_just_to_and_from_ok() -> None:
    # OK -> WARNING at 19, WARNING -> CRITICAL at 20: (0.75 + 18/38) + 1.25 = 2.4736842...
    history = [OK] * 19 + [WARNING, CRITICAL]
    assert percent_state_change(history) == pytest.approx(12.368421052, abs=1e-8)


def test_a_short_history_counts_missing_entries_as_no_change() -> None:
    # 3 states, the last one different: that is transition 20 of a full history -> 6.25
    assert percent_state_change([OK, OK, CRITICAL]) == 6.25
    # only the last 21 results count: the oldest transition here falls off the end
    assert percent_state_change([CRITICAL] + [OK] * 21) == 0.0


NAGIOS = FlapConfig()


def feed(results: list[CheckState], config: FlapConfig = NAGIOS) -> list[FlapState]:
    state, out = FlapState(), []
    for result in results:
        state, _ = step_flap(state, result, config)
        out.append(state)
    return out


def step_last(history: list[CheckState], *, flapping: bool) -> tuple[FlapState, FlapEvent | None]:
    """Feed the last result of `history` to a state holding the ones before it."""
    return step_flap(FlapState(tuple(history[:-1]), flapping), history[-1])


def test_flapping_starts_at_exactly_the_high_threshold() -> None:
    after, event = step_last(with_transitions_at({3, 5, 10, 12, 15, 18}), flapping=False)
    assert after.percent == 30.0
    assert after.flapping is True and event is FlapEvent.STARTED


def test_flapping_does_not_start_below_the_high_threshold() -> None:
    history = with_transitions_at({9, 10, 11, 12, 20})  # 20.0 + 6.25 = 26.25
    states = feed(history)
    assert states[-1].percent == 26.25
    assert not any(s.flapping for s in states)


def test_flapping_stops_at_exactly_the_low_threshold() -> None:
    after, event = step_last(with_transitions_at({9, 10, 11, 12}), flapping=True)
    assert after.percent == 20.0
    assert after.flapping is False and event is FlapEvent.STOPPED


def test_between_the_thresholds_the_flag_stays_as_it_was() -> None:
    history = with_transitions_at({9, 10, 11, 12, 20})  # 26.25
    after, event = step_last(history, flapping=True)
    assert after.percent == 26.25 and after.flapping is True and event is None
    after, event = step_last(history, flapping=False)
    assert after.flapping is False and event is None


def test_a_flapping_check_that_settles_stops_after_enough_quiet_results() -> None:
    alternating = [OK if i % 2 == 0 else CRITICAL for i in range(21)]
    states = feed(alternating + [OK] * 21)
    started = [i for i, s in enumerate(states) if s.flapping]
    assert states[20].flapping and states[20].percent == 100.0
    stopped_at = started[-1] + 1
    assert states[stopped_at].percent <= 20.0 < states[stopped_at - 1].percent
    assert not states[-1].flapping and states[-1].percent == 0.0


def test_custom_thresholds_and_their_validation() -> None:
    strict = FlapConfig(low=5, high=10)
    states = feed([OK] * 19 + [CRITICAL, OK], strict)  # (0.75 + 18/38) + 1.25 -> 12.37
    assert states[-1].flapping
    with pytest.raises(ValidationError):
        FlapConfig(low=40, high=30)
    with pytest.raises(ValidationError):
        FlapConfig(low=10, high=130)


transitions = st.lists(st.booleans(), min_size=20, max_size=20)


def from_flags(flags: list[bool]) -> list[CheckState]:
    return with_transitions_at({i + 1 for i, flip in enumerate(flags) if flip})


@PROPERTY
@given(st.sampled_from(list(CheckState)), st.integers(min_value=0, max_value=40))
def test_a_constant_state_never_changes(state: CheckState, length: int) -> None:
    assert percent_state_change([state] * length) == 0.0


@PROPERTY
@given(st.lists(st.sampled_from(list(CheckState)), max_size=60))
def test_the_percentage_is_bounded(history: list[CheckState]) -> None:
    assert 0.0 <= percent_state_change(history) <= 100.0


@PROPERTY
@given(transitions, st.integers(min_value=0, max_value=19))
def test_one_more_transition_always_raises_the_percentage(flags: list[bool], at: int) -> None:
    if flags[at]:
        return
    more = flags.copy()
    more[at] = True
    assert percent_state_change(from_flags(more)) > percent_state_change(from_flags(flags))


@PROPERTY
@given(transitions, st.integers(min_value=0, max_value=18))
def test_a_newer_transition_weighs_more_than_an_older_one(flags: list[bool], at: int) -> None:
    if not flags[at] or flags[at + 1]:
        return
    newer = flags.copy()
    newer[at], newer[at + 1] = False, True
    assert percent_state_change(from_flags(newer)) > percent_state_change(from_flags(flags))


@PROPERTY
@given(st.lists(st.sampled_from([OK, WARNING, CRITICAL]), max_size=80))
def test_the_flag_follows_the_thresholds(results: list[CheckState]) -> None:
    previous = FlapState()
    for state in feed(results):
        if state.percent >= 30:
            assert state.flapping
        elif state.percent <= 20:
            assert not state.flapping
        else:
            assert state.flapping == previous.flapping
        assert len(state.history) <= HISTORY
        previous = state
