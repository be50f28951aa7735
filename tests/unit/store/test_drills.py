"""Drills in the store: started from a runbook, paged for real, ended with a report.

A real store file on a fake clock; the paging is done by the engine's own escalator against a
real SMTP server (aiosmtpd on loopback), so the report is read from what really happened.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from console.core.checks import CheckState
from console.core.clock import FakeClock
from console.core.drills import ENDED_NOTE, DrillError, DrillState, response_incidents
from console.core.enums import Discipline, ImpactTier, MemberRole, Priority, Severity
from console.core.errors import ValidationError
from console.core.escalation import Level, Policy, Target, TargetKind
from console.core.events import EventType
from console.core.incident_policy import Hold
from console.core.incidents import IncidentNotFound, IncidentState
from console.core.models import Member, Membership, Runbook, RunbookStep, Service, Team
from console.core.notices import DeliveryConfig, SmtpConfig, SmtpSecurity
from console.core.readiness import Area, readiness
from console.core.signals import ManualReport, metric_signal
from console.core.silences import OneOffWindow, Silence
from console.delivery.channels import Channels
from console.engine.escalator import Escalator
from console.store import (
    alerting,
    delivery,
    drills,
    entities,
    escalations,
    incidents,
    status,
)
from console.store import readiness as stored_readiness
from console.store.db import Store
from console.store.events import iter_events, last_seq

from tests.unit.delivery.servers import run, smtp_server

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
ANA, BOB, NOC = "ana@example.com", "bob@example.com", "noc@example.com"
RUNBOOK = Runbook(
    "card-outage",
    "Card payments down",
    "The card processor stops answering; checkouts fail.",
    services=("payments",),
    steps=(RunbookStep("Check", "Look at the processor's status page."),),
)
POLICY = Policy(
    "payments",
    "Payments",
    (
        Level(timedelta(0), (Target(TargetKind.MEMBER, ANA),)),
        Level(timedelta(minutes=10), (Target(TargetKind.MEMBER, BOB),), urgent=True),
    ),
    services=("payments",),
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def store(store_path: Path, clock: FakeClock) -> Iterator[Store]:
    """Ana and Bob in Payments, a tier-1 payments service fed by a ledger, a runbook, a policy."""
    with Store.open(store_path, clock) as opened:
        for email in (ANA, BOB):
            entities.save(opened, Member(email, email[:3].title(), "UTC", Discipline.OTHER))
        members = tuple(Membership(e, MemberRole.RESPONDER) for e in (ANA, BOB))
        team = Team("payments", "Payments", Discipline.DEVELOPMENT, members=members)
        entities.save(opened, team)
        entities.save(opened, Service("ledger", "Ledger", "payments", ImpactTier.TIER_2))
        payments = Service(
            "payments", "Payments API", "payments", ImpactTier.TIER_1, depends_on=("ledger",)
        )
        entities.save(opened, payments)
        entities.save(opened, RUNBOOK)
        bare = Runbook("bare", "Bare", "Something breaks somewhere.", steps=RUNBOOK.steps)
        entities.save(opened, bare)
        entities.save(opened, POLICY)
        opened.act_as(NOC)
        yield opened


def own_events(store: Store, incident: str) -> list[tuple[str, dict[str, object]]]:
    return [
        (e.type.value, dict(e.payload))
        for e in iter_events(store.read(), subject=f"drill:{incident}")
    ]


def timeline_types(store: Store, incident: str) -> list[str]:
    return [e.type.value for e in iter_events(store.read(), subject=f"incident:{incident}")]


# -- starting -----------------------------------------------------------------------------------


def test_a_drill_opens_a_critical_drill_incident_that_escalates(store: Store) -> None:
    opened = drills.start_drill(store, "card-outage", by=NOC)
    assert opened.drill and opened.title == "DRILL: Card payments down"
    assert opened.summary == RUNBOOK.scenario and opened.reporter == NOC
    assert (opened.service, opened.team) == ("payments", "payments")  # routed to the owner
    assert (opened.severity, opened.priority) == (Severity.CRITICAL, Priority.P1)
    assert opened.parent is None and opened.next_due_at == T0  # level 1 is due at once
    assert timeline_types(store, opened.id) == ["incident.opened", "escalation.started"]
    progress = escalations.progress(store.read(), opened.id)
    assert progress is not None and progress.policy == POLICY  # the snapshot
    assert own_events(store, opened.id) == [
        (
            "drill.started",
            {
                "incident": opened.id,
                "number": opened.number,
                "runbook": "card-outage",
                "runbook_title": "Card payments down",
                "service": "payments",
                "by": NOC,
            },
        )
    ]


def test_two_drills_of_one_runbook_are_two_incidents(store: Store) -> None:
    first = drills.start_drill(store, "card-outage", by=NOC)
    second = drills.start_drill(store, "card-outage", service="ledger", by=NOC)
    assert first.id != second.id and first.dedup_key != second.dedup_key
    assert (second.service, second.number) == ("ledger", first.number + 1)
    assert second.count == 1 and incidents.get(store.read(), first.ref).count == 1


def test_a_silence_does_not_swallow_a_drill(store: Store, clock: FakeClock) -> None:
    window = OneOffWindow(T0 - timedelta(minutes=1), T0 + timedelta(hours=1))
    alerting.save_silence(store, Silence.for_service("quiet", "payments", window))
    real = incidents.create_manual(store, ManualReport("Slow", "desk", service="payments"))
    assert real.hold is Hold.SILENCED and real.incident.next_due_at is None
    drill = drills.start_drill(store, "card-outage", by=NOC)
    assert drill.next_due_at == T0
    assert escalations.progress(store.read(), drill.id) is not None


def test_a_drill_is_never_grouped_under_an_upstream_incident(store: Store) -> None:
    def broken(service: str) -> incidents.SignalOutcome:
        signal = metric_signal(
            service=service,
            endpoint=f"{service}-api",
            metric_key=None,
            metric_name="check",
            state=CheckState.CRITICAL,
            started_at=T0,
        )
        assert signal is not None
        return incidents.open_or_update(store, signal)

    upstream = broken("ledger").incident
    assert broken("payments").incident.parent == upstream.id  # real trouble is grouped
    drill = drills.start_drill(store, "card-outage", by=NOC)
    assert drill.parent is None and drill.next_due_at is not None


@pytest.mark.parametrize(
    ("runbook", "service", "message"),
    [
        ("nope", None, "unknown runbook 'nope'"),
        ("bare", None, "runbook 'bare' covers no service: give one with --service"),
        ("card-outage", "nowhere", "unknown service 'nowhere'"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_recorded(
    store: Store, runbook: str, service: str | None, message: str
) -> None:
    before = last_seq(store.read())
    with pytest.raises(ValidationError, match=message):
        drills.start_drill(store, runbook, service=service, by=NOC)
    assert last_seq(store.read()) == before
    assert incidents.list_incidents(store.read(), states=list(IncidentState)) == []


def test_a_runbook_without_services_can_be_drilled_on_a_service_given(store: Store) -> None:
    opened = drills.start_drill(store, "bare", service="ledger", by=NOC)
    assert opened.service == "ledger" and opened.title == "DRILL: Bare"


# -- paging for real and the report -------------------------------------------------------------


def escalator(store: Store, clock: FakeClock, session: aiohttp.ClientSession) -> Escalator:
    def channels(config: DeliveryConfig | None) -> Channels:
        return Channels(config or DeliveryConfig(), session, lambda name: None)

    async def no_sleep(_: float) -> None:
        return None

    return Escalator(store, clock, channels, attempts=2, backoff=(1.0,), sleep=no_sleep)


def test_the_drill_pages_by_email_marked_drill_and_ends_with_its_report(
    store: Store, clock: FakeClock
) -> None:
    async def main() -> None:
        async with smtp_server() as mail, aiohttp.ClientSession() as session:
            smtp = SmtpConfig("127.0.0.1", mail.port, SmtpSecurity.NONE, "oncall@example.com")
            delivery.set_config(store, DeliveryConfig(smtp))
            opened = drills.start_drill(store, "card-outage", by=NOC)
            esc = escalator(store, clock, session)
            await esc.tick()
            await esc.drain()
            (page,) = mail.messages
            assert page.rcpt_tos == [ANA]
            assert str(page.message["Subject"]).startswith(f"[DRILL] {opened.ref} P1")
            assert "THIS IS A DRILL" in page.message.get_body().get_content()  # type: ignore[union-attr]
            clock.advance(3 * 60)
            escalations.acknowledge_on_behalf(store, opened.ref, ANA, "phone", by=NOC)
            clock.advance(60)
            report = drills.end_drill(store, opened.ref, by=NOC)
            clock.advance(3600)
            assert (await esc.tick()).incidents == 0  # ended: nobody else is paged
            await esc.close()
            assert len(mail.messages) == 1
            return report

    report = run(main())
    assert report.state is DrillState.ENDED and report.ended_at == T0 + timedelta(minutes=4)
    assert report.time_to_acknowledge == timedelta(minutes=3)
    ack = report.acknowledgement
    assert ack is not None and (ack.by, ack.on_behalf_of, ack.via) == (NOC, ANA, "phone")
    (level,) = report.levels
    (contact,) = level.contacts
    assert (level.level, contact.member, contact.reached) == (0, ANA, True)
    assert [(o.channel, o.status.value) for o in contact.channels] == [("email", "sent")]
    assert report.participants == (ANA, NOC)
    incident = incidents.get(store.read(), report.ref)
    assert incident.state is IncidentState.RESOLVED and incident.next_due_at is None
    resolved = [
        e.payload
        for e in incidents.timeline(store.read(), report.ref)
        if e.type is EventType.INCIDENT_RESOLVED
    ]
    assert [(p["note"], p["by"]) for p in resolved] == [(ENDED_NOTE, NOC)]
    ended = own_events(store, incident.id)[-1]
    assert ended == ("drill.ended", {"by": NOC, "report": report.to_dict()})
    assert drills.drill_report(store.read(), report.ref) == report


def test_ending_twice_or_ending_what_is_not_a_drill_is_refused(store: Store) -> None:
    drill = drills.start_drill(store, "card-outage", by=NOC)
    drills.end_drill(store, drill.ref, by=NOC)
    with pytest.raises(DrillError, match=f"the drill {drill.ref} ended already, at 2026-03-02"):
        drills.end_drill(store, drill.ref, by=NOC)
    real = incidents.create_manual(store, ManualReport("Slow", "desk", service="payments"))
    with pytest.raises(DrillError, match=f"{real.incident.ref} is not a drill"):
        drills.end_drill(store, real.incident.ref, by=NOC)
    with pytest.raises(DrillError, match="is not a drill"):
        drills.drill_report(store.read(), real.incident.ref)
    with pytest.raises(IncidentNotFound):
        drills.end_drill(store, "INC-99", by=NOC)


def test_a_drill_resolved_by_hand_is_still_ended_with_its_report(store: Store) -> None:
    drill = drills.start_drill(store, "card-outage", by=NOC)
    incidents.resolve(store, drill.ref, note="done early")
    report = drills.end_drill(store, drill.ref, by=BOB)
    assert report.state is DrillState.ENDED and report.ended_by == BOB
    kinds = timeline_types(store, drill.id)
    assert kinds.count("incident.resolved") == 1
    assert [kind for kind, _ in own_events(store, drill.id)] == ["drill.started", "drill.ended"]


# -- readiness, metrics and the wall --------------------------------------------------------------


def test_readiness_counts_who_a_drill_reached_and_the_runbook_it_rehearsed(
    store: Store, clock: FakeClock
) -> None:
    def training() -> set[tuple[str, str]]:
        found = readiness(stored_readiness.inputs(store.read()), clock.now())
        return {(f.subject, f.problem) for f in found.by_area(Area.TRAINING)}

    assert {(ANA, "never drilled"), ("card-outage", "runbook not drilled in 90 days")} <= (
        training()
    )
    drill = drills.start_drill(store, "card-outage", by=NOC)
    escalations.acknowledge_on_behalf(store, drill.ref, ANA, "phone", by=NOC)
    drills.end_drill(store, drill.ref, by=NOC)
    (held,) = drills.drills(store.read())
    assert (held.runbook, held.at, held.members) == ("card-outage", T0, (ANA, NOC))
    after = training()
    assert (ANA, "never drilled") not in after and (BOB, "never drilled") in after
    assert ("card-outage", "runbook not drilled in 90 days") not in after
    assert ("bare", "runbook not drilled in 90 days") in after


def test_drills_are_kept_out_of_response_metrics(store: Store) -> None:
    drills.start_drill(store, "card-outage", by=NOC)
    real = incidents.create_manual(store, ManualReport("Slow", "desk", service="payments"))
    listed = incidents.list_incidents(store.read())
    assert len(listed) == 2
    assert response_incidents(listed) == [real.incident]


def test_the_wall_marks_the_service_of_an_open_drill(store: Store, clock: FakeClock) -> None:
    def tiles() -> dict[str, tuple[bool, bool]]:
        found = status.tiles(store.read(), clock.now())
        return {t.service: (t.drill, t.unacknowledged) for t in found}

    assert tiles() == {"ledger": (False, False), "payments": (False, False)}
    drill = drills.start_drill(store, "card-outage", by=NOC)
    assert tiles()["payments"] == (True, False) and tiles()["ledger"] == (False, False)
    real = incidents.create_manual(store, ManualReport("Slow", "desk", service="payments"))
    incidents.acknowledge(store, real.incident.ref)
    # The triggered drill does not make the acknowledged real incident look unanswered.
    assert status.acknowledged_services(store.read()) == frozenset({"payments"})
    assert status.drill_services(store.read()) == frozenset({"payments"})
    drills.end_drill(store, drill.ref, by=NOC)
    assert status.drill_services(store.read()) == frozenset()
    assert tiles()["payments"] == (False, False)
