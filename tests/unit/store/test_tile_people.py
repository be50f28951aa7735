"""Wall tiles say who answers for a service now and how far its open incident has escalated."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from console.core.clock import FakeClock
from console.core.enums import Discipline, ImpactTier, MemberRole, Severity
from console.core.escalation import Level, Policy, Target, TargetKind
from console.core.escalator import plan
from console.core.models import Member, Membership, Service, Team
from console.core.schedules import AbsenceReason, Layer, Schedule, ShiftUnit, Unavailability
from console.core.signals import ManualReport
from console.core.silences import Weekday
from console.store import entities, escalations, incidents, status
from console.store.db import Store

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)  # a Monday
ANA, BOB = "ana@example.com", "bob@example.com"
WEEKS = Schedule(
    "weeks", "Weeks", "UTC",
    (Layer("Main", (ANA, BOB), 1, ShiftUnit.WEEKS, date(2026, 3, 2), time(9), Weekday.MON),),
)  # fmt: skip
POLICY = Policy(
    "ops",
    "Ops",
    (
        Level(timedelta(0), (Target(TargetKind.SCHEDULE, "weeks"),)),
        Level(timedelta(minutes=5), (Target(TargetKind.MEMBER, BOB),)),
    ),
    teams=("ops",),
)


def fill(store: Store) -> None:
    for email, name in ((ANA, "Ana Silva"), (BOB, "Bob Jones")):
        entities.save(store, Member(email, name, "UTC", Discipline.INFRASTRUCTURE))
    members = (Membership(ANA, MemberRole.RESPONDER), Membership(BOB, MemberRole.RESPONDER))
    entities.save(store, Team("ops", "Ops", Discipline.INFRASTRUCTURE, members=members))
    entities.save(store, Team("web", "Web", Discipline.DEVELOPMENT))
    entities.save(store, Service("db", "Database", "ops", ImpactTier.TIER_1))
    entities.save(store, Service("site", "Site", "web", ImpactTier.TIER_3))
    entities.save(store, WEEKS)
    entities.save(store, POLICY)


def tick(store: Store) -> None:
    now = store.clock.now()
    db = store.read()
    for incident in incidents.due(db, now):
        found = plan(
            escalations.progress(db, incident.id), incident, escalations.directory(db, now), now
        )
        escalations.apply_plan(store, incident.id, found)


def by_service(store: Store) -> dict[str, tuple[str | None, int | None]]:
    return {
        t.service: (t.on_call, t.escalation_level)
        for t in status.tiles(store.read(), store.clock.now())
    }


def test_tiles_name_who_is_on_call_and_the_level_reached(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    with Store.open(tmp_path / "store.db", clock) as store:
        fill(store)
        # Ana's week; the site's team has no policy: nobody is named for it.
        assert by_service(store) == {"db": ("Ana Silva", None), "site": (None, None)}
        report = ManualReport("DB down", "noc", service="db", severity=Severity.CRITICAL)
        incidents.create_manual(store, report)
        tick(store)
        assert by_service(store)["db"] == ("Ana Silva", 1)
        clock.advance(5 * 60)
        tick(store)
        assert by_service(store)["db"] == ("Ana Silva", 2)
        # Ana goes on leave: the schedule has nobody else in this layer this week.
        leave = Unavailability(ANA, T0, T0 + timedelta(days=2), AbsenceReason.SICKNESS)
        entities.save(store, leave)
        assert by_service(store)["db"] == (None, 2)
        # Resolved: no level any more.
        ref = incidents.list_incidents(store.read())[0].ref
        incidents.resolve(store, ref, note="fixed")
        assert by_service(store)["db"] == (None, None)
