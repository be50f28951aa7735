"""Escalation and delivery facts in words, and an incident's escalation as steps.

The facts come from the real planner (`console.core.escalator.plan` through the `Sim` of the
escalation tests), so the sentences are checked against the payloads the engine records.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from console.core import incident_rules as rules
from console.core.escalation import Target, TargetKind
from console.core.escalation_steps import (
    AckChannel,
    Phase,
    StepState,
    countdown,
    delay_words,
    due_text,
    target_words,
    view,
)
from console.core.escalator import (
    Delivery,
    NotificationStatus,
    escalate_now,
    issued,
)
from console.core.events import Event, EventType, make_event
from console.core.incidents import Fact, subject
from console.core.schedules import Layer, Schedule, ShiftUnit
from console.core.timeline_text import entry

from tests.unit.core.escalation_helpers import (
    ANA,
    BOB,
    CAT,
    DAN,
    T0,
    Sim,
    directory,
    level,
    make_team,
    member,
    minutes,
    policy,
    round_robin,
    schedule,
)

NAMES = {
    ANA: "Ana Silva",
    BOB: "Bob Jones",
    CAT: "Cat Tran",
    DAN: "Dan Roe",
    "payments-primary": "Payments primary",
    "payments": "Payments",
}
PRIMARY = Schedule(
    "payments-primary",
    "Payments primary",
    "UTC",
    (Layer("Week", (ANA,), 1, ShiftUnit.WEEKS, date(2020, 1, 6)),),
)
GHOST = "ghost@example.com"  # named by a policy, unknown to the directory: reaches nobody


def _event(fact: Fact, actor: str = "engine@noc-1") -> Event:
    return make_event(
        fact.type, subject(fact.incident), fact.payload, actor=actor, origin="c1", now=fact.at,
        event_time=fact.at,
    )  # fmt: skip


def _texts(facts: list[Fact]) -> list[str]:
    return [entry(_event(f), NAMES).text for f in facts]


def _sim(*levels: object, repeat: int = 0, **fields: object) -> Sim:
    chosen = policy(*levels, repeat=repeat, **fields)  # type: ignore[arg-type]
    people = directory(teams=[make_team("payments", BOB, CAT)], schedules=[PRIMARY])
    return Sim(chosen, people)


def _two_levels(repeat: int = 2) -> Sim:
    return _sim(
        level(0, member(GHOST)),
        level(10, schedule("payments-primary"), round_robin("payments"), urgent=True),
        repeat=repeat,
    )


def test_start_empty_level_and_the_next_level_read_as_people_say_them() -> None:
    sim = _two_levels()
    found = sim.tick(T0)
    texts = _texts([*sim.facts[:1], *found.facts])
    assert texts[0] == "Escalation started by policy Payments (2 levels, repeated 2 more times)."
    assert texts[1].startswith("Escalation failed at level 1: nobody available (")
    assert GHOST in texts[1] and texts[1].endswith("The next step starts at once.")
    assert texts[2] == (
        "Level 2 started (urgent): paged Ana Silva (schedule Payments primary), "
        "Bob Jones (round robin)."
    )


def test_escalate_now_exhaustion_and_a_later_loop_name_the_loop() -> None:
    sim = _two_levels(repeat=1)
    sim.tick(T0)  # level 1 empty, level 2 started
    jump = escalate_now(sim.progress, sim.incident, "noc@example.com", at=T0 + minutes(1))
    sim.record(jump)
    assert _texts(jump) == ["Escalated to level 1 (loop 2) by noc@example.com."]
    later = sim.tick(T0 + minutes(1))
    assert "at level 1 (loop 2): nobody available" in _texts(list(later.facts))[0]
    end = sim.tick(T0 + minutes(60))
    assert _texts(list(end.facts))[-1] == (
        "Escalation exhausted after 2 loops: every level was tried and nobody acknowledged."
    )


def test_a_retrigger_after_the_acknowledgement_timeout_says_why() -> None:
    sim = _sim(level(0, member(ANA)), ack_timeout=timedelta(minutes=30))
    sim.tick(T0)
    sim.acknowledge(T0 + minutes(2))
    found = sim.tick(T0 + minutes(32))
    texts = _texts(list(found.facts))
    assert texts[1] == (
        "Re-triggered: acknowledgement timed out (not resolved 30 min after it was "
        "acknowledged); escalation starts again at level 1."
    )
    assert texts[2] == "Level 1 started: paged Ana Silva."


def _delivery(level_: int = 0, repeat: int = 0, drill: bool = False) -> Delivery:
    return Delivery("inc-1/0/0/ana", level_, repeat, ANA, False, drill, "inc-1", "member")


@pytest.mark.parametrize(
    ("channel", "status", "extra", "text"),
    [
        ("email", NotificationStatus.SENT, {}, "Emailed Ana Silva: delivered (level 1)."),
        (
            "email",
            NotificationStatus.FAILED,
            {"error": "550 mailbox unavailable"},
            "Emailed Ana Silva: failed: 550 mailbox unavailable (level 1).",
        ),
        (
            "email",
            NotificationStatus.UNKNOWN,
            {"resend": True, "error": "the outcome was never recorded: sent again"},
            "Emailed Ana Silva: re-sent (outcome unknown after a restart) (level 1).",
        ),
        (
            "webhook:slack-payments",
            NotificationStatus.PENDING,
            {"attempt": 2, "error": "HTTP 500"},
            "Sent Ana Silva a message through webhook slack-payments: retrying (attempt 2) "
            "after: HTTP 500 (level 1).",
        ),
        (
            "none",
            NotificationStatus.FAILED,
            {"error": "no channel reaches this member"},
            "Could not page Ana Silva: failed: no channel reaches this member (level 1).",
        ),
    ],
)
def test_each_delivery_attempt_reads_with_channel_recipient_and_outcome(
    channel: str, status: NotificationStatus, extra: dict[str, object], text: str
) -> None:
    fact = issued(_delivery(), channel, status, T0, **extra)  # type: ignore[arg-type]
    assert _texts([fact]) == [text]


def test_a_drill_s_delivery_says_drill() -> None:
    fact = issued(_delivery(drill=True), "email", NotificationStatus.SENT, T0)
    assert _texts([fact])[0].startswith("DRILL: Emailed Ana Silva: delivered")


def test_an_acknowledgement_on_behalf_says_who_answered_and_how() -> None:
    sim = _sim(level(0, member(ANA)))
    (fact,) = rules.acknowledge(sim.incident, by="noc@example.com", at=T0, on_behalf_of=ANA)
    for via, words in ((AckChannel.PHONE, "by phone"), (AckChannel.IN_PERSON, "in person")):
        payload = dict(fact.payload) | {"via": via.value}
        text = _texts([Fact(fact.incident, fact.type, payload, fact.at)])[0]
        assert (
            text == f"noc@example.com acknowledged it on behalf of Ana Silva, who answered {words}."
        )


# -- the steps ---------------------------------------------------------------------------------


def _events(sim: Sim) -> list[Event]:
    return [_event(f) for f in sim.facts]


def test_steps_before_the_first_level_are_all_upcoming_with_a_countdown() -> None:
    sim = _sim(level(5, member(ANA)), level(10, member(BOB)))
    sim.incident = replace(sim.incident, next_due_at=sim.due)
    shown = view(sim.progress, sim.incident, _events(sim))
    assert shown is not None
    assert shown.phase is Phase.WAITING
    assert [s.state for s in shown.steps] == [StepState.UPCOMING, StepState.UPCOMING]
    assert due_text(shown, T0 + minutes(1)) == "Level 1 starts in 4:00"
    assert due_text(shown, T0 + minutes(7)) == (
        "Level 1 starts: due 2:00 ago (is the engine running?)"
    )


def test_steps_show_done_empty_current_and_upcoming_with_attempts() -> None:
    sim = _sim(
        level(0, member(GHOST)),
        level(0, member(ANA), member(BOB)),
        level(15, member(CAT)),
        repeat=2,
    )
    found = sim.tick(T0)
    ana, bob = found.deliveries
    sim.record(
        [
            issued(ana, "email", NotificationStatus.PENDING, T0),
            issued(ana, "email", NotificationStatus.SENT, T0 + timedelta(seconds=3)),
            issued(bob, "email", NotificationStatus.FAILED, T0, error="550 mailbox unavailable"),
        ]
    )
    sim.incident = replace(sim.incident, next_due_at=sim.due)
    shown = view(sim.progress, sim.incident, _events(sim))
    assert shown is not None
    assert [s.state for s in shown.steps] == [
        StepState.EMPTY,
        StepState.CURRENT,
        StepState.UPCOMING,
    ]
    assert (shown.loop, shown.loops) == (1, 3)
    assert shown.steps[0].empty_details and GHOST in shown.steps[0].empty_details[0]
    notified = {(n.recipient, n.status, n.error) for n in shown.steps[1].notified}
    assert notified == {
        (ANA, NotificationStatus.SENT, None),
        (BOB, NotificationStatus.FAILED, "550 mailbox unavailable"),
    }
    assert due_text(shown, T0 + minutes(5)) == "Level 3 starts in 10:00"
    assert shown.escalate_refusal is None


def test_acknowledged_exhausted_and_no_more_steps_say_so() -> None:
    sim = _sim(level(0, member(ANA)))
    sim.tick(T0)
    sim.acknowledge(T0 + minutes(1), by=BOB)
    shown = view(sim.progress, sim.incident, _events(sim))
    assert shown is not None and shown.phase is Phase.ACKNOWLEDGED
    assert due_text(shown, T0) == f"Acknowledged by {BOB}: escalation stopped"
    assert shown.escalate_refusal == "INC-1 is at the last level of its last loop"
    other = _sim(level(0, member(ANA)))
    other.tick(T0)
    other.tick(T0 + minutes(5))
    done = view(other.progress, other.incident, _events(other))
    assert done is not None and done.phase is Phase.EXHAUSTED
    assert [s.state for s in done.steps] == [StepState.DONE]
    assert due_text(done, T0) == "Escalation exhausted: every level of every loop was tried"
    assert view(None, other.incident, []) is None


def test_words_for_delays_targets_and_countdowns() -> None:
    sim = _sim(level(0, member(ANA)), level(90, team("payments")))
    shown = view(sim.progress, sim.incident, [])
    assert shown is not None
    assert [delay_words(s) for s in shown.steps] == ["at once", "after 1 h 30 min"]
    assert target_words(Target(TargetKind.MEMBER, ANA), NAMES) == "Ana Silva"
    assert target_words(Target(TargetKind.SCHEDULE, "payments-primary"), NAMES) == (
        "schedule Payments primary"
    )
    assert target_words(Target(TargetKind.ROUND_ROBIN, "dba", (ANA, BOB)), NAMES) == (
        "round robin (Ana Silva, Bob Jones)"
    )
    assert [countdown(timedelta(seconds=s)) for s in (42, 545, 3723, 200_000)] == [
        "0:42",
        "9:05",
        "1:02:03",
        "2 d 7 h",
    ]


def team(key: str) -> Target:
    return Target(TargetKind.TEAM, key)


def test_every_escalation_event_type_has_its_own_sentence() -> None:
    sim = _two_levels()
    sim.tick(T0)
    generic = [f for f in sim.facts if "recorded:" in _texts([f])[0]]
    assert generic == []
    assert {f.type for f in sim.facts} >= {
        EventType.ESCALATION_STARTED,
        EventType.ESCALATION_LEVEL_EMPTY,
        EventType.ESCALATION_LEVEL_STARTED,
    }
