"""Drills in the core: the opening signal, the service chosen, and the report from real facts.

Each timeline is made by the real functions: `opening` turns the drill signal into
``incident.opened``, `start` snapshots the policy, the planner (`plan`) decides each level when
it falls due, `issued` records every delivery attempt and `incident_rules.acknowledge` the
answer; the facts are stamped into events as the store would. The report is then read back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from console.core import incident_rules as rules
from console.core.drills import (
    ENDED_NOTE,
    DrillError,
    DrillState,
    drill_report,
    drill_service,
    drill_signal,
    ended_payload,
    report_lines,
    response_incidents,
    started_payload,
    subject,
)
from console.core.enums import Discipline, ImpactTier, Priority, Severity
from console.core.errors import ValidationError
from console.core.escalator import NotificationStatus, Plan, fold, issued, plan, start
from console.core.events import Event, EventType, make_event
from console.core.incident_policy import opening
from console.core.incidents import Fact, Incident, apply
from console.core.incidents import subject as incident_subject
from console.core.models import Estate, Member, Runbook, Service
from console.core.readiness import Area, Drill, ReadinessInputs, readiness
from console.core.routing import RouteBasis, RouteDecision
from console.core.signals import ManualReport
from console.core.timeline_text import sentence

from tests.unit.core.escalation_helpers import (
    ANA,
    BOB,
    CAT,
    T0,
    directory,
    level,
    make_team,
    member,
    minutes,
    policy,
    team,
)

RUNBOOK = Runbook(
    "card-outage",
    "Card payments down",
    "The card processor stops answering; checkouts fail.",
    services=("payments-api", "checkout"),
)
NOC = "noc@example.com"
OWNER = RouteDecision("payments", RouteBasis.OWNER, "owner of service 'payments-api'")
POLICY = policy(level(0, member(ANA)), level(10, team("payments"), urgent=True))


class Timeline:
    """A drill incident's facts, recorded in order and stamped as events."""

    def __init__(self, runbook: Runbook = RUNBOOK, *, drill: bool = True) -> None:
        signal = drill_signal(runbook, "payments-api", key="k1", now=T0, by=NOC)
        if not drill:
            signal = ManualReport("Card payments down", NOC, service="payments-api").signal(
                "k1", T0
            )
        prio = (Priority.P1, "tier 1 x critical")
        self.facts: list[Fact] = [
            opening(signal, incident_id="inc-1", number=7, now=T0, route=OWNER, priority=prio)
        ]
        self.events: list[Event] = []
        self._stamp(self.facts)
        self.drill_events: list[Event] = []
        self.people = directory([make_team("payments", BOB, CAT)])

    @property
    def incident(self) -> Incident:
        found = apply(None, self.facts)
        assert found is not None
        return found

    def _stamp(self, facts: Sequence[Fact]) -> None:
        for f in facts:
            self.events.append(
                make_event(
                    f.type,
                    incident_subject(f.incident),
                    f.payload,
                    actor=NOC,
                    origin="console-a",
                    now=f.at,
                    event_time=f.at,
                )
            )

    def record(self, facts: Sequence[Fact]) -> None:
        self.facts += facts
        self._stamp(facts)

    def tick(self, at_minutes: float) -> Plan:
        now = T0 + minutes(at_minutes)
        found = plan(fold(self.events), self.incident, self.people, now)
        self.record(found.facts)
        return found

    def deliver(
        self, found: Plan, outcome: dict[str, NotificationStatus], at_minutes: float
    ) -> None:
        at = T0 + minutes(at_minutes)
        for d in found.deliveries:
            self.record([issued(d, "email", NotificationStatus.PENDING, at)])
            error = None if outcome[d.recipient] is NotificationStatus.SENT else "550 full"
            self.record([issued(d, "email", outcome[d.recipient], at, attempt=2, error=error)])

    def drill_fact(self, type_: EventType, payload: dict[str, object], at_minutes: float) -> None:
        when = T0 + minutes(at_minutes)
        self.drill_events.append(
            make_event(type_, subject("inc-1"), payload, actor=NOC, origin="a", now=when)
        )


# -- starting ---------------------------------------------------------------------------------


def test_the_drill_signal_is_a_critical_drill_titled_after_the_runbook() -> None:
    signal = drill_signal(RUNBOOK, "checkout", key="abc", now=T0, by=NOC)
    assert signal.drill and signal.severity is Severity.CRITICAL
    assert signal.title == "DRILL: Card payments down"
    assert signal.summary == RUNBOOK.scenario
    assert (signal.service, signal.reporter, signal.dedup_key) == ("checkout", NOC, "drill:abc")
    assert dict(signal.labels) == {"drill": "true", "runbook": "card-outage"}
    other = drill_signal(RUNBOOK, "checkout", key="abd", now=T0, by=NOC)
    assert other.dedup_key != signal.dedup_key  # two drills are never the same trouble


def test_the_service_is_the_one_given_else_the_runbooks_first() -> None:
    known = ["payments-api", "checkout", "ledger"]
    assert drill_service(RUNBOOK, None, known) == "payments-api"
    assert drill_service(RUNBOOK, " ledger ", known) == "ledger"
    with pytest.raises(ValidationError, match="unknown service 'nope'"):
        drill_service(RUNBOOK, "nope", known)
    bare = Runbook("bare", "Bare", "Something breaks.")
    with pytest.raises(ValidationError, match="covers no service: give one with --service"):
        drill_service(bare, None, known)
    with pytest.raises(ValidationError, match="unknown service 'payments-api'"):
        drill_service(RUNBOOK, None, ["ledger"])  # the runbook names a service since deleted


def test_the_opened_incident_is_a_drill_and_its_timeline_says_so() -> None:
    t = Timeline()
    assert t.incident.drill and t.incident.title == "DRILL: Card payments down"
    assert t.incident.summary == RUNBOOK.scenario
    assert sentence(t.events[0]).endswith("This is a drill.")
    payload = started_payload(RUNBOOK, "payments-api", NOC, t.incident)
    assert payload == {
        "incident": "inc-1",
        "number": 7,
        "runbook": "card-outage",
        "runbook_title": "Card payments down",
        "service": "payments-api",
        "by": NOC,
    }


# -- the report -------------------------------------------------------------------------------


def rehearsed() -> Timeline:
    """A drill's timeline: Ana paged at once, Bob and Cat 10 min on, Cat answers by phone.

    Ana's mail is delivered, Bob's bounces, Cat's arrives; the NOC records Cat's answer at 12 min.
    """
    t = Timeline()
    t.record([start(t.incident, POLICY, T0)])
    t.drill_fact(
        EventType.DRILL_STARTED, started_payload(RUNBOOK, "payments-api", NOC, t.incident), 0
    )
    t.deliver(t.tick(0), {ANA: NotificationStatus.SENT}, 0)
    assert t.tick(9.9).facts == ()  # level 2 is not due yet
    second = t.tick(10)
    t.deliver(second, {BOB: NotificationStatus.FAILED, CAT: NotificationStatus.SENT}, 10)
    t.record(rules.acknowledge(t.incident, by=NOC, at=T0 + minutes(12), on_behalf_of=CAT))
    return t


def test_the_report_says_how_long_until_someone_answered_and_who() -> None:
    t = rehearsed()
    report = drill_report(t.events, t.drill_events)
    assert (report.incident, report.ref, report.runbook) == ("inc-1", "INC-7", "card-outage")
    assert (report.service, report.started_by, report.started_at) == ("payments-api", NOC, T0)
    assert report.state is DrillState.RUNNING and report.ended_at is None
    assert report.time_to_acknowledge == timedelta(minutes=12)
    ack = report.acknowledgement
    assert ack is not None and (ack.by, ack.on_behalf_of, ack.who) == (NOC, CAT, CAT)


def test_the_report_says_whom_each_level_reached_through_which_channel() -> None:
    report = drill_report(*_split(rehearsed()))
    first, second = report.levels
    assert (first.level, first.repeat, first.at, first.empty) == (0, 0, T0, None)
    (ana,) = first.contacts
    assert (ana.member, ana.via, ana.reached) == (ANA, "member", True)
    assert [(o.channel, o.status, o.attempts) for o in ana.channels] == [
        ("email", NotificationStatus.SENT, 2)
    ]
    assert second.at == T0 + minutes(10) and second.name == "level 2"
    by_member = {c.member: c for c in second.contacts}
    assert set(by_member) == {BOB, CAT} and by_member[BOB].via == "team:payments"
    bob = by_member[BOB].channels[0]
    assert (bob.status, bob.error, by_member[BOB].reached) == (
        NotificationStatus.FAILED,
        "550 full",
        False,
    )
    assert report.reached == (ANA, CAT)  # Bob's page never arrived
    assert report.participants == (ANA, CAT, NOC)
    drill = report.readiness_drill()
    assert (drill.runbook, drill.at, drill.members) == ("card-outage", T0, (ANA, CAT, NOC))


def _split(t: Timeline) -> tuple[list[Event], list[Event]]:
    return t.events, t.drill_events


def test_nobody_answering_and_an_empty_level_are_in_the_report() -> None:
    t = Timeline()
    # Level 1 names a member who is not in the directory: it comes up empty, level 2 starts.
    lonely = policy(level(0, member("gone@example.com")), level(5, member(ANA)))
    t.record([start(t.incident, lonely, T0)])
    t.deliver(t.tick(0), {ANA: NotificationStatus.SENT}, 0)
    report = drill_report(t.events)
    assert report.acknowledgement is None and report.time_to_acknowledge is None
    empty, reached = report.levels
    assert empty.empty is not None and empty.empty.startswith("escalation failed at level 1")
    assert empty.contacts == ()
    assert reached.at == T0 and [c.member for c in reached.contacts] == [ANA]
    assert report.runbook is None and report.started_by == NOC  # no drill.started: the reporter
    lines = report_lines(report)
    assert "acknowledged: nobody acknowledged it" in lines
    assert "level 1: escalation failed at level 1: nobody available" in lines


def test_the_first_acknowledgement_counts_and_the_end_is_read_from_drill_ended() -> None:
    t = rehearsed()
    t.record(rules.unacknowledge(t.incident, by="escalation", at=T0 + minutes(40), reason="t/o"))
    t.record(rules.acknowledge(t.incident, by=ANA, at=T0 + minutes(41)))
    t.record(rules.resolve(t.incident, by=NOC, at=T0 + minutes(45), note=ENDED_NOTE))
    before = drill_report(t.events, t.drill_events)
    t.drill_fact(EventType.DRILL_ENDED, ended_payload(before, NOC), 45)
    report = drill_report(t.events, t.drill_events)
    assert report.time_to_acknowledge == timedelta(minutes=12)
    assert report.state is DrillState.ENDED and report.ended_at == T0 + minutes(45)
    assert report.ended_by == NOC
    assert report.participants == (ANA, CAT, NOC)
    data = report.to_dict()
    assert data["time_to_acknowledge_s"] == 720.0 and data["state"] == "ended"
    assert data["acknowledged"]["on_behalf_of"] == CAT
    assert [lvl["level"] for lvl in data["levels"]] == [1, 2]
    statuses = {
        c["member"]: [(o["channel"], o["status"], o["error"]) for o in c["channels"]]
        for c in data["levels"][1]["contacts"]
    }
    assert statuses == {BOB: [("email", "failed", "550 full")], CAT: [("email", "sent", None)]}
    lines = report_lines(report, {CAT: "Cat", NOC: "NOC desk"})
    acknowledged = "by NOC desk on behalf of Cat, 12 min after it started"
    assert f"acknowledged: 2026-03-02 09:12 UTC {acknowledged}" in lines
    assert "  bob@example.com (team payments): email failed (550 full)" in lines


def test_an_incident_that_is_not_a_drill_has_no_drill_report() -> None:
    t = Timeline(drill=False)
    with pytest.raises(DrillError, match="INC-7 is not a drill"):
        drill_report(t.events)
    with pytest.raises(DrillError, match="no incident"):
        drill_report([])


# -- kept out of response metrics, counted by readiness -----------------------------------------


def test_response_incidents_leave_drills_out() -> None:
    drill = Timeline().incident
    real = Timeline(drill=False).incident
    assert response_incidents([drill, real, drill]) == [real]
    assert response_incidents([]) == []


def test_a_drill_takes_its_members_and_runbook_off_the_training_findings() -> None:
    estate = Estate(
        members=tuple(Member(e, e[:3], "UTC", Discipline.OTHER) for e in (ANA, BOB, CAT)),
        services=(Service("payments-api", "Payments", "payments", ImpactTier.TIER_2),),
        runbooks=(RUNBOOK,),
    )
    reviewed = {RUNBOOK.key: T0}
    at = T0 + timedelta(days=1)

    def training(drills: tuple[Drill, ...]) -> set[tuple[str, str]]:
        inputs = ReadinessInputs(estate, reviewed, drills)
        found = readiness(inputs, at).by_area(Area.TRAINING)
        return {(f.subject, f.problem) for f in found}

    assert training(()) == {
        (ANA, "never drilled"),
        (BOB, "never drilled"),
        (CAT, "never drilled"),
        ("card-outage", "runbook not drilled in 90 days"),
    }
    report = drill_report(*_split(rehearsed()))
    assert training((report.readiness_drill(),)) == {(BOB, "never drilled")}
