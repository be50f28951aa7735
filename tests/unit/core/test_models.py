"""The records' own behaviour: the priority matrix, runbook digests and totals, canonical order."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace

import pytest
from console.core.enums import Discipline, ImpactTier, MemberRole, Priority, Severity
from console.core.models import (
    SEVERITY_ORDER,
    Estate,
    Member,
    Membership,
    PriorityMatrix,
    Runbook,
    RunbookStep,
    Team,
)


def test_the_default_matrix() -> None:
    matrix = PriorityMatrix()
    assert matrix.is_default
    table = {
        (tier, sev.value): matrix.priority(tier, sev).value
        for tier in ImpactTier
        for sev in SEVERITY_ORDER
    }
    assert table == {
        (1, "critical"): "P1", (1, "warning"): "P2", (1, "info"): "P4",
        (2, "critical"): "P2", (2, "warning"): "P3", (2, "info"): "P4",
        (3, "critical"): "P3", (3, "warning"): "P4", (3, "info"): "P5",
        (4, "critical"): "P4", (4, "warning"): "P5", (4, "info"): "P5",
    }  # fmt: skip


def test_with_cell_changes_one_cell_of_a_copy() -> None:
    matrix = PriorityMatrix()
    changed = matrix.with_cell(ImpactTier.TIER_3, Severity.WARNING, Priority.P1)
    assert changed.priority(ImpactTier.TIER_3, Severity.WARNING) is Priority.P1
    assert matrix.priority(ImpactTier.TIER_3, Severity.WARNING) is Priority.P4
    assert not changed.is_default
    differing = [
        (t, s)
        for t in ImpactTier
        for s in Severity
        if changed.priority(t, s) != matrix.priority(t, s)
    ]
    assert differing == [(ImpactTier.TIER_3, Severity.WARNING)]
    back = changed.with_cell(ImpactTier.TIER_3, Severity.WARNING, Priority.P4)
    assert back == matrix and back.is_default


@pytest.mark.parametrize("rows", [3, 5])
def test_a_matrix_must_be_four_by_three(rows: int) -> None:
    with pytest.raises(ValueError, match="4 tiers x 3 severities"):
        PriorityMatrix(tuple((Priority.P1,) * 3 for _ in range(rows)))
    with pytest.raises(ValueError):
        PriorityMatrix(tuple((Priority.P1,) * 2 for _ in range(4)))


def test_priority_rank() -> None:
    assert [p.rank for p in Priority] == [1, 2, 3, 4, 5]


def test_records_are_frozen() -> None:
    member = Member("a@example.com", "A", "UTC", Discipline.OTHER)
    with pytest.raises(FrozenInstanceError):
        member.name = "B"  # type: ignore[misc]
    assert member.key == "a@example.com"


STEPS = (
    RunbookStep("Look", "Check the graphs.", expected_minutes=5),
    RunbookStep("Image", "Image the disk.", expected_minutes=20, destroys_evidence=False),
)


def test_runbook_digest_covers_every_field_but_the_key() -> None:
    runbook = Runbook("r", "Title", "Scenario", ("db",), STEPS)
    digest = runbook.content_hash()
    assert len(digest) == 64
    assert replace(runbook, key="other").content_hash() == digest
    variants = [
        replace(runbook, title="Other"),
        replace(runbook, scenario="Other"),
        replace(runbook, services=("db", "api")),
        replace(runbook, steps=STEPS[:1]),
        replace(runbook, steps=(replace(STEPS[0], body="Check the logs."), STEPS[1])),
        replace(runbook, steps=(replace(STEPS[0], expected_minutes=6), STEPS[1])),
        replace(runbook, steps=(STEPS[0], replace(STEPS[1], destroys_evidence=True))),
        replace(runbook, steps=STEPS[::-1]),
    ]
    digests = {v.content_hash() for v in variants}
    assert len(digests) == len(variants) and digest not in digests


def test_runbook_totals() -> None:
    runbook = Runbook("r", "T", "S", steps=STEPS)
    assert runbook.expected_minutes == 25
    assert not runbook.destroys_evidence
    unknown = replace(runbook, steps=(*STEPS, RunbookStep("Wait", "and see")))
    assert unknown.expected_minutes is None
    assert replace(runbook, steps=()).expected_minutes is None
    risky = replace(runbook, steps=(replace(STEPS[0], destroys_evidence=True),))
    assert risky.destroys_evidence


def test_team_role_of() -> None:
    team = Team(
        "t", "T", Discipline.SECURITY, members=(Membership("a@example.com", MemberRole.LEAD),)
    )
    assert team.role_of("a@example.com") is MemberRole.LEAD
    assert team.role_of("b@example.com") is None


def test_estate_sorted_is_canonical_key_order() -> None:
    a = Team("a", "A", Discipline.OTHER)
    b = Team("b", "B", Discipline.OTHER)
    m1 = Member("z@example.com", "Z", "UTC", Discipline.OTHER)
    m2 = Member("a@example.com", "A", "UTC", Discipline.OTHER)
    estate = Estate(teams=(b, a), members=(m1, m2))
    assert estate.sorted() == Estate(teams=(a, b), members=(m2, m1))
    assert estate.sorted().priority_matrix is None
