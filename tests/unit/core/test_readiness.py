"""The readiness report: services, people, policies and training, and what makes it fail."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from console.core.enums import Discipline, ImpactTier, MemberRole
from console.core.escalation import Level, Policy, Target, TargetKind
from console.core.models import ChatHandle, Estate, Member, Membership, Runbook, Service, Team
from console.core.notices import (
    DeliveryConfig,
    SmtpConfig,
    SmtpSecurity,
    WebhookConfig,
    WebhookKind,
)
from console.core.readiness import (
    Area,
    Cover,
    Drill,
    ReadinessInputs,
    intersect,
    readiness,
)
from console.core.schedules import AbsenceReason, Layer, Schedule, ShiftUnit, Unavailability, Window

NOW = datetime(2026, 3, 2, 8, tzinfo=UTC)
ANA, BOB, CAT = "ana@example.com", "bob@example.com", "cat@example.com"


def member(email: str, phone: str | None = None, chat: tuple[ChatHandle, ...] = ()) -> Member:
    name = email.split("@")[0].title()
    return Member(email, name, "UTC", Discipline.INFRASTRUCTURE, phone=phone, chat=chat)


DAYS = Schedule(
    "days",
    "Days",
    "UTC",
    (
        Layer(
            "Days", (ANA, BOB), 1, ShiftUnit.WEEKS, date(2026, 3, 2), time(8),
            restrictions=(Window(time(8), time(20)),),
        ),
    ),
)  # fmt: skip
ALWAYS = Schedule(
    "always", "Always", "UTC", (Layer("All", (CAT,), 1, ShiftUnit.DAYS, date(2026, 3, 1)),)
)
OPS = Team(
    "ops", "Ops", Discipline.INFRASTRUCTURE,
    members=(Membership(ANA, MemberRole.RESPONDER), Membership(BOB, MemberRole.RESPONDER)),
)  # fmt: skip
EMPTY_TEAM = Team("ghosts", "Ghosts", Discipline.DEVELOPMENT)
PAYMENTS = Service("payments", "Payments", "ops", ImpactTier.TIER_1)
DOCS = Service("docs", "Docs", "ghosts", ImpactTier.TIER_3)
RUNBOOK = Runbook("db-failover", "Database failover", "the primary is gone", services=("payments",))
SMTP = DeliveryConfig(
    SmtpConfig("smtp.example.com", 587, SmtpSecurity.STARTTLS, "oncall@example.com")
)


def estate(**changes: object) -> Estate:
    base: dict[str, object] = {
        "teams": (OPS, EMPTY_TEAM),
        "members": (member(ANA), member(BOB), member(CAT)),
        "services": (PAYMENTS, DOCS),
        "runbooks": (RUNBOOK,),
        "schedules": (DAYS, ALWAYS),
        "escalation_policies": (
            Policy(
                "payments", "Payments",
                (Level(timedelta(0), (Target(TargetKind.SCHEDULE, "days"),)),),
                services=("payments",),
            ),
        ),
        "delivery": SMTP,
    }  # fmt: skip
    base.update(changes)
    return Estate(**base)  # type: ignore[arg-type]


def problems(report: object, area: Area, subject: str) -> list[str]:
    return [f.problem for f in report.by_area(area) if f.subject == subject]  # type: ignore[attr-defined]


def test_a_tier_1_service_whose_policy_has_night_gaps_blocks_the_report() -> None:
    report = readiness(ReadinessInputs(estate()), NOW)
    found = problems(report, Area.SERVICE, "payments")
    # Days covers 08:00 to 20:00 only: every night of the fourteen days nobody is reached.
    assert len(found) == 1
    assert found[0].startswith(
        "policy payments reaches nobody from 2026-03-02 20:00 UTC to 2026-03-03 08:00 UTC"
    )
    assert "(14 stretches, 168 h in all)" in found[0]
    assert [f.subject for f in report.blocking] == ["payments"]


def test_a_second_level_that_covers_the_nights_clears_the_service_but_not_the_level() -> None:
    policy = Policy(
        "payments", "Payments",
        (
            Level(timedelta(0), (Target(TargetKind.SCHEDULE, "days"),)),
            Level(timedelta(minutes=10), (Target(TargetKind.SCHEDULE, "always"),)),
        ),
        services=("payments",),
    )  # fmt: skip
    report = readiness(ReadinessInputs(estate(escalation_policies=(policy,))), NOW)
    assert problems(report, Area.SERVICE, "payments") == []
    assert not report.blocking
    level = problems(report, Area.POLICY, "payments")
    assert len(level) == 1 and level[0].startswith("level 1 can come up empty: nobody from")


def test_absences_make_gaps_where_the_rotation_has_none() -> None:
    policy = Policy(
        "payments", "Payments", (Level(timedelta(0), (Target(TargetKind.MEMBER, CAT),)),),
        services=("payments",),
    )  # fmt: skip
    leave = Unavailability(
        CAT, NOW + timedelta(days=3), NOW + timedelta(days=5), AbsenceReason.LEAVE
    )
    report = readiness(
        ReadinessInputs(estate(escalation_policies=(policy,), unavailability=(leave,))), NOW
    )
    found = problems(report, Area.SERVICE, "payments")
    assert found == [
        "policy payments reaches nobody from 2026-03-05 08:00 UTC to 2026-03-07 08:00 UTC"
    ]


def test_services_without_team_members_runbook_or_policy_are_named_and_only_tier_1_blocks() -> None:
    report = readiness(ReadinessInputs(estate()), NOW)
    docs = problems(report, Area.SERVICE, "docs")
    assert docs == [
        "its owning team ghosts has nobody in it",
        "no runbook covers it",
        "no escalation policy applies to it",
    ]
    assert all(not f.blocking for f in report.findings if f.subject == "docs")
    # Tier 1 comes first in the report.
    services = [f.subject for f in report.by_area(Area.SERVICE)]
    assert services.index("payments") < services.index("docs")


def test_members_no_channel_reaches_are_listed() -> None:
    # No delivery at all: nobody is reachable away from the console.
    nobody = readiness(ReadinessInputs(estate(delivery=None)), NOW)
    assert {f.subject for f in nobody.by_area(Area.MEMBER)} == {ANA, BOB, CAT}
    # Only an SMS gateway for ops: ana has a phone, bob does not, cat is in no team.
    sms = WebhookConfig(
        "sms", WebhookKind.GENERIC, "https://sms.example/send",
        template='{"to": "{{recipient.phone}}", "text": "{{summary}}"}', teams=("ops",),
    )  # fmt: skip
    members = (member(ANA, phone="+351900000000"), member(BOB), member(CAT))
    report = readiness(
        ReadinessInputs(estate(delivery=DeliveryConfig(None, (sms,)), members=members)), NOW
    )
    assert {f.subject for f in report.by_area(Area.MEMBER)} == {BOB, CAT}
    # Email reaches everyone.
    assert readiness(ReadinessInputs(estate()), NOW).by_area(Area.MEMBER) == ()


def test_training_lists_undrilled_members_and_stale_runbooks() -> None:
    old = NOW - timedelta(days=200)
    report = readiness(ReadinessInputs(estate(), reviewed={"db-failover": old}), NOW)
    training = report.by_area(Area.TRAINING)
    assert {f.subject for f in training if f.problem == "never drilled"} == {ANA, BOB, CAT}
    assert problems(report, Area.TRAINING, "db-failover") == [
        "runbook not reviewed in 90 days",
        "runbook not drilled in 90 days",
    ]
    drill = Drill("db-failover", NOW - timedelta(days=10), (ANA, CAT))
    fresh = readiness(
        ReadinessInputs(
            estate(), reviewed={"db-failover": NOW - timedelta(days=5)}, drills=(drill,)
        ),
        NOW,
    )
    assert {f.subject for f in fresh.by_area(Area.TRAINING)} == {BOB}


def test_spans_intersect_and_unknown_targets_reach_nobody() -> None:
    a = [(NOW, NOW + timedelta(hours=2)), (NOW + timedelta(hours=4), NOW + timedelta(hours=6))]
    b = [(NOW + timedelta(hours=1), NOW + timedelta(hours=5))]
    assert intersect(a, b) == [
        (NOW + timedelta(hours=1), NOW + timedelta(hours=2)),
        (NOW + timedelta(hours=4), NOW + timedelta(hours=5)),
    ]
    cover = Cover(estate(), NOW, NOW + timedelta(days=1))
    whole = [(NOW, NOW + timedelta(days=1))]
    assert cover.target_gaps(Target(TargetKind.MEMBER, "stranger@example.com")) == whole
    assert cover.target_gaps(Target(TargetKind.SCHEDULE, "missing")) == whole
    assert cover.target_gaps(Target(TargetKind.TEAM, "ghosts")) == whole
    assert cover.target_gaps(Target(TargetKind.ROUND_ROBIN, "ops")) == []
    assert cover.target_gaps(Target(TargetKind.SCHEDULE, "always")) == []
