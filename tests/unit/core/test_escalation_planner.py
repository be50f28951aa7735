"""The escalation planner across time: delays, loops, empty levels, acks, snoozes, catch-up."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from console.core import incident_rules as rules
from console.core.clock import isoformat
from console.core.escalator import (
    EscalationError,
    NotificationStatus,
    advance,
    escalate_now,
    fold,
    issued,
    next_due,
    plan,
    step,
)
from console.core.events import EventType, make_event
from console.core.incidents import IncidentState, WakeReason, subject
from console.core.schedules import (
    AbsenceReason,
    Layer,
    Override,
    Schedule,
    ShiftUnit,
    Unavailability,
)

from tests.unit.core.escalation_helpers import (
    ANA,
    BOB,
    CAT,
    DAN,
    T0,
    Sim,
    directory,
    incident,
    level,
    make_team,
    member,
    minutes,
    policy,
    round_robin,
    schedule,
    started,
    team,
)

THREE = policy(
    level(0, member(ANA)),
    level(10, member(BOB), urgent=True),
    level(15, team("sre")),
)
SRE = make_team("sre", CAT, DAN)


def test_levels_start_after_their_delays_counted_from_the_previous_level() -> None:
    sim = Sim(THREE, directory([SRE]))
    assert sim.due == T0

    first = sim.tick(T0)
    assert [d.recipient for d in first.deliveries] == [ANA]
    assert first.next_due_at == T0 + minutes(10)
    assert sim.tick(T0 + minutes(9)).facts == ()  # not due yet: nothing happens

    second = sim.tick(T0 + minutes(10))
    (bob,) = second.deliveries
    assert (bob.recipient, bob.level, bob.repeat, bob.urgent) == (BOB, 1, 0, True)
    assert bob.key == f"inc-1/1/0/{BOB}"
    assert second.next_due_at == T0 + minutes(25)

    third = sim.tick(T0 + minutes(25))
    assert [(d.recipient, d.via) for d in third.deliveries] == [
        (CAT, "team:sre"),
        (DAN, "team:sre"),
    ]
    # No loops left: the escalation ends one "longest delay" (15 min) after the last level.
    assert third.next_due_at == T0 + minutes(40)
    last = sim.tick(T0 + minutes(40))
    assert sim.types(last.facts) == [EventType.ESCALATION_EXHAUSTED]
    assert last.next_due_at is None and sim.progress.exhausted


def test_a_policy_repeats_up_to_nine_more_loops_then_is_exhausted() -> None:
    looping = policy(level(0, member(ANA)), repeat=9, repeat_after=minutes(5))
    sim = Sim(looping, directory())
    result = sim.tick(T0 + timedelta(hours=3))  # the console was down throughout

    expected = [(0, r, isoformat(T0 + minutes(5 * r))) for r in range(10)]
    assert started(result.facts) == expected
    assert [d.key for d in result.deliveries] == [f"inc-1/0/{r}/{ANA}" for r in range(10)]
    assert sim.types(result.facts)[-1] is EventType.ESCALATION_EXHAUSTED
    assert result.facts[-1].payload["repeats"] == 9
    assert result.next_due_at is None


def test_catch_up_after_a_long_gap_plans_every_step_that_fell_due_in_order() -> None:
    sim = Sim(policy(*THREE.levels, repeat=1), directory([SRE]))
    result = sim.tick(T0 + minutes(50))  # due: 0, 10, 25 (loop 0); 40, 50 (loop 1)

    assert started(result.facts) == [
        (0, 0, isoformat(T0)),
        (1, 0, isoformat(T0 + minutes(10))),
        (2, 0, isoformat(T0 + minutes(25))),
        (0, 1, isoformat(T0 + minutes(40))),
        (1, 1, isoformat(T0 + minutes(50))),
    ]
    assert [d.recipient for d in result.deliveries] == [ANA, BOB, CAT, DAN, ANA, BOB]
    # The schedule kept its pace: the next step is 15 min after the last due moment.
    assert result.next_due_at == T0 + minutes(65)
    assert all(f.at == T0 + minutes(50) for f in result.facts)  # recorded when it happened


def test_a_level_with_nobody_available_fails_and_the_next_level_starts_at_once() -> None:
    away = Unavailability(BOB, T0 - timedelta(days=1), T0 + timedelta(days=1), AbsenceReason.LEAVE)
    empty = make_team("empty")
    sim = Sim(
        policy(level(0, member(ANA)), level(5, member(BOB), team("empty")), level(10, team("sre"))),
        directory([SRE, empty], absences=[away]),
    )
    sim.tick(T0)
    result = sim.tick(T0 + minutes(5))

    types = sim.types(result.facts)
    assert types == [EventType.ESCALATION_LEVEL_EMPTY, EventType.ESCALATION_LEVEL_STARTED]
    failed = result.facts[0].payload
    assert failed["reason"] == "escalation failed at level 2: nobody available"
    assert failed["details"] == [f"{BOB} is on leave", "team empty has no members"]
    assert started(result.facts)[1] == (2, 0, isoformat(T0 + minutes(5)))
    assert [d.recipient for d in result.deliveries] == [CAT, DAN]


def test_round_robin_gives_consecutive_incidents_to_the_next_member_in_turn() -> None:
    away = Unavailability(
        CAT, T0 - timedelta(days=1), T0 + timedelta(days=1), AbsenceReason.SICKNESS
    )
    rota = policy(level(0, round_robin("sre")))
    people = directory([make_team("sre", ANA, BOB, CAT, DAN)], absences=[away])
    chosen = []
    for n in range(1, 6):
        sim = Sim(rota, people, incident(n))
        result = sim.tick(T0)
        chosen.append(result.deliveries[0].recipient)
        turn = result.facts[0].payload["round_robin"]
        assert turn["policy"] == "payments" and turn["level"] == 0
        people = sim.directory  # what the store keeps between incidents
    # Cat is off sick: her turn passes to Dan; then it starts over.
    assert chosen == [ANA, BOB, DAN, ANA, BOB]


def test_round_robin_over_an_explicit_list_says_so_in_the_via() -> None:
    sim = Sim(policy(level(0, round_robin("dba", (DAN, CAT)))), directory())
    (only,) = sim.tick(T0).deliveries
    assert (only.recipient, only.via) == (DAN, "round_robin:dba")


def test_an_acknowledgement_stops_escalation_and_a_resolve_ends_it() -> None:
    sim = Sim(THREE, directory([SRE]))
    sim.tick(T0)
    sim.acknowledge(T0 + minutes(3))
    assert sim.due is None
    assert sim.tick(T0 + timedelta(hours=5)).facts == ()

    other = Sim(THREE, directory([SRE]))
    other.tick(T0)
    other.record(rules.resolve(other.incident, by=ANA, at=T0 + minutes(2)))
    assert other.due is None
    assert other.tick(T0 + timedelta(hours=5)).facts == ()


def test_a_snooze_pauses_the_clock_and_escalation_resumes_where_it_was() -> None:
    sim = Sim(THREE, directory([SRE]))
    sim.tick(T0)
    sim.record(rules.snooze(sim.incident, by=ANA, at=T0 + minutes(4), until=T0 + minutes(34)))
    # Level 1 was 6 minutes away when the snooze began: it comes 6 minutes after it ends.
    assert sim.due == T0 + minutes(40)
    assert sim.tick(T0 + minutes(39)).facts == ()
    assert [d.recipient for d in sim.tick(T0 + minutes(40)).deliveries] == [BOB]

    woken = Sim(THREE, directory([SRE]))
    woken.tick(T0)
    woken.record(rules.snooze(woken.incident, by=ANA, at=T0 + minutes(4), until=T0 + minutes(34)))
    woken.record(rules.wake(woken.incident, by=ANA, at=T0 + minutes(14)))
    assert woken.due == T0 + minutes(20)


def test_a_snooze_recorded_after_a_step_fell_due_still_holds_it_back() -> None:
    sim = Sim(THREE, directory([SRE]))
    sim.tick(T0)  # then the console is down past level 1's moment (T0+10)
    sim.record(rules.snooze(sim.incident, by=ANA, at=T0 + minutes(20), until=T0 + minutes(50)))
    assert sim.due == T0 + minutes(50)
    assert sim.tick(T0 + minutes(30)).facts == ()
    sim.record(rules.wake(sim.incident, by=ANA, at=T0 + minutes(50), reason=WakeReason.EXPIRED))
    assert started(sim.tick(T0 + minutes(50)).facts) == [(1, 0, isoformat(T0 + minutes(10)))]


def test_escalate_now_starts_the_next_level_at_once_and_later_delays_follow_it() -> None:
    sim = Sim(THREE, directory([SRE]))
    sim.tick(T0)
    asked = escalate_now(sim.progress, sim.incident, BOB, at=T0 + minutes(2))
    assert asked[0].payload == {
        "by": BOB,
        "from_level": 0,
        "to_level": 1,
        "repeat": 0,
        "at": isoformat(T0 + minutes(2)),
    }
    sim.record(asked)
    assert sim.due == T0 + minutes(2)
    result = sim.tick(T0 + minutes(2))
    assert started(result.facts) == [(1, 0, isoformat(T0 + minutes(2)))]
    assert result.next_due_at == T0 + minutes(17)


def test_escalate_now_works_while_acknowledged_but_not_past_the_last_step() -> None:
    sim = Sim(policy(level(0, member(ANA)), level(5, member(BOB))), directory())
    sim.tick(T0)
    sim.acknowledge(T0 + minutes(1))
    sim.record(escalate_now(sim.progress, sim.incident, ANA, at=T0 + minutes(2)))
    assert [d.recipient for d in sim.tick(T0 + minutes(2)).deliveries] == [BOB]
    assert sim.due is None  # still acknowledged: nothing more after the jump
    with pytest.raises(EscalationError, match="last level of its last loop"):
        escalate_now(sim.progress, sim.incident, ANA, at=T0 + minutes(3))
    resolved = rules.resolve(sim.incident, by=ANA, at=T0 + minutes(4))
    sim.record(resolved)
    with pytest.raises(EscalationError, match="resolved"):
        escalate_now(sim.progress, sim.incident, ANA, at=T0 + minutes(5))
    with pytest.raises(EscalationError, match="no escalation policy"):
        escalate_now(None, incident(), ANA, at=T0)


def test_an_acknowledgement_timeout_triggers_the_incident_again() -> None:
    sim = Sim(policy(*THREE.levels, ack_timeout=minutes(30)), directory([SRE]))
    sim.tick(T0)
    sim.tick(T0 + minutes(10))
    sim.acknowledge(T0 + minutes(12), by=BOB)
    assert sim.due == T0 + minutes(42)

    result = sim.tick(T0 + minutes(42))
    assert sim.types(result.facts) == [
        EventType.INCIDENT_UNACKNOWLEDGED,
        EventType.ESCALATION_RETRIGGERED,
        EventType.ESCALATION_LEVEL_STARTED,
    ]
    assert sim.incident.state is IncidentState.TRIGGERED and sim.incident.acknowledged_by is None
    assert result.facts[0].payload["acknowledged_by"] == BOB
    # The level that was current starts again, under new keys (a new message, not a re-send).
    (again,) = result.deliveries
    assert (again.recipient, again.key) == (BOB, f"inc-1/1/0~1/{BOB}")
    assert sim.progress.retriggers == 1
    assert result.next_due_at == T0 + minutes(57)


def test_no_acknowledgement_timeout_for_a_mitigated_incident_or_by_default() -> None:
    sim = Sim(policy(level(0, member(ANA)), ack_timeout=minutes(30)), directory())
    sim.tick(T0)
    sim.record(rules.mitigate(sim.incident, by=ANA, at=T0 + minutes(5)))
    assert sim.incident.state is IncidentState.ACKNOWLEDGED
    assert sim.due is None

    plain = Sim(policy(level(0, member(ANA))), directory())
    plain.tick(T0)
    plain.acknowledge(T0 + minutes(1))
    assert plain.due is None


def test_a_withdrawn_acknowledgement_restarts_the_level_and_a_reopen_starts_over() -> None:
    sim = Sim(THREE, directory([SRE]))
    sim.tick(T0 + minutes(10))  # levels 0 and 1
    sim.acknowledge(T0 + minutes(11))
    sim.record(rules.unacknowledge(sim.incident, by=ANA, at=T0 + minutes(20), reason="wrong team"))
    assert sim.due == T0 + minutes(20)
    result = sim.tick(T0 + minutes(20))
    assert result.facts[0].payload["reason"] == "acknowledgement withdrawn"
    assert started(result.facts) == [(1, 0, isoformat(T0 + minutes(20)))]

    sim.record(rules.resolve(sim.incident, by=ANA, at=T0 + minutes(30)))
    sim.record(rules.reopen(sim.incident, by=ANA, at=T0 + minutes(60), reason="back"))
    reopened = sim.tick(T0 + minutes(60))
    assert reopened.facts[0].payload["reason"] == "reopened"
    assert started(reopened.facts) == [(0, 0, isoformat(T0 + minutes(60)))]
    assert reopened.deliveries[0].key == f"inc-1/0/0~2/{ANA}"


def test_schedules_with_overrides_and_absences_decide_who_is_reached() -> None:
    rota = Schedule(
        "primary",
        "Primary",
        "Europe/Berlin",
        (
            Layer("Day", (ANA, BOB), 1, ShiftUnit.WEEKS, date(2026, 3, 2), time(9)),
            Layer("Backup", (DAN,), 1, ShiftUnit.WEEKS, date(2026, 3, 2), time(9)),
        ),
        (Override(CAT, T0 + timedelta(days=8), T0 + timedelta(days=9)),),
    )
    away = Unavailability(ANA, T0 + timedelta(days=2), T0 + timedelta(days=3), AbsenceReason.LEAVE)
    people = directory(schedules=[rota], absences=[away])
    escalating = policy(level(0, schedule("primary")))

    def reached(at_day: float) -> tuple[str, str]:
        sim = Sim(escalating, people, incident(at=T0 + timedelta(days=at_day, hours=1)))
        (only,) = sim.tick(sim.incident.detected_at).deliveries
        return only.recipient, only.via

    assert reached(0) == (ANA, "schedule:primary")
    assert reached(2) == (DAN, "schedule:primary")  # Ana on leave: the backup layer
    assert reached(7) == (BOB, "schedule:primary")
    assert reached(8) == (CAT, "schedule:primary")  # the override beats the layers


def test_a_member_named_by_two_targets_is_reached_once_and_drills_say_so() -> None:
    sim = Sim(
        policy(level(0, member(ANA), team("sre"), member(CAT))),
        directory([make_team("sre", ANA, CAT)]),
        incident(drill=True),
    )
    result = sim.tick(T0)
    assert [(d.recipient, d.via) for d in result.deliveries] == [
        (ANA, "member"),
        (CAT, "team:sre"),
    ]
    assert all(d.drill for d in result.deliveries)
    recipients = result.facts[0].payload["recipients"]
    assert recipients == [{"member": ANA, "via": "member"}, {"member": CAT, "via": "team:sre"}]


def test_no_policy_means_nothing_to_plan() -> None:
    assert plan(None, incident(), directory(), T0).facts == ()
    assert next_due(None, incident()) is None


def test_the_progress_folds_from_stored_events_and_keeps_the_last_attempt_status() -> None:
    sim = Sim(THREE, directory([SRE]))
    (delivery,) = sim.tick(T0).deliveries
    events = [
        make_event(
            f.type, subject("inc-1"), f.payload, actor="t", origin="c", now=T0, event_time=f.at
        )
        for f in sim.facts
    ]
    progress = fold(events)
    assert progress is not None and progress.level == 0 and progress.policy == THREE

    pending = issued(delivery, "email", NotificationStatus.PENDING, T0)
    assert pending.incident == "inc-1" and pending.payload["key"] == f"inc-1/0/0/{ANA}"
    unknown = issued(delivery, "email", NotificationStatus.UNKNOWN, T0, error="timed out")
    slack = issued(delivery, "webhook:slack", NotificationStatus.SENT, T0)
    progress = advance(progress, [pending, unknown, slack])
    assert progress is not None
    (unsettled,) = progress.unsettled()
    assert (unsettled.channel, unsettled.status, unsettled.error) == (
        "email",
        NotificationStatus.UNKNOWN,
        "timed out",
    )
    again = issued(
        delivery, "email", NotificationStatus.SENT, T0 + minutes(1), attempt=2, resend=True
    )
    progress = step(progress, again.type, again.payload, again.at)
    assert progress is not None and progress.unsettled() == []
    latest = progress.attempts[(delivery.key, "email")]
    assert (latest.attempt, latest.resend, latest.at) == (2, True, T0 + minutes(1))
