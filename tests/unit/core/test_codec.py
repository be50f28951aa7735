"""Records survive a trip through plain JSON dicts, and through JSON text."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from console.core import codec
from console.core.enums import (
    Discipline,
    ImpactTier,
    MemberRole,
    Priority,
    ResourceKind,
    Severity,
)
from console.core.models import (
    ChatHandle,
    Member,
    Membership,
    PriorityMatrix,
    Runbook,
    RunbookStep,
    Service,
    SharedResource,
    Team,
)

FULL = [
    (
        Member(
            "ada@example.com",
            "Ada Lovelace",
            "Europe/London",
            Discipline.SECURITY,
            phone="+44 20 7946 0000",
            chat=(ChatHandle("matrix", "@ada:example.org"), ChatHandle("slack", "@ada")),
        ),
        codec.member_to_dict,
        codec.member_from_dict,
    ),
    (
        Team(
            "sirt",
            "Security incident response",
            Discipline.SECURITY,
            lead="ada@example.com",
            bridge_url="tel:+33123456789",
            notes="Ünïcode notes ✓",
            members=(
                Membership("ada@example.com", MemberRole.LEAD),
                Membership("bob@example.com", MemberRole.SHADOW),
            ),
        ),
        codec.team_to_dict,
        codec.team_from_dict,
    ),
    (
        Service(
            "api",
            "API",
            "web",
            ImpactTier.TIER_4,
            description="d",
            tags=("x", "y"),
            depends_on=("db", "cache"),
        ),
        codec.service_to_dict,
        codec.service_from_dict,
    ),
    (
        Runbook(
            "r",
            "T",
            "S",
            services=("api",),
            steps=(
                RunbookStep("a", "**markdown**\n\n- item", expected_minutes=3),
                RunbookStep("b", "c", destroys_evidence=True),
            ),
        ),
        codec.runbook_to_dict,
        codec.runbook_from_dict,
    ),
    (
        SharedResource(
            "vault",
            "Vault",
            ResourceKind.VENDOR_SUPPORT,
            description="d",
            who_may_use=("sirt",),
            how_to_obtain="ask",
            secret_ref="vault/token",
        ),
        codec.resource_to_dict,
        codec.resource_from_dict,
    ),
]
MINIMAL = [
    Member("a@example.com", "A", "UTC", Discipline.OTHER),
    Team("t", "T", Discipline.OTHER),
    Service("s", "S", "t", ImpactTier.TIER_1),
    Runbook("r", "R", "S"),
    SharedResource("x", "X", ResourceKind.OTHER),
]


@pytest.mark.parametrize(
    ("record", "encode", "decode"), FULL, ids=[type(r[0]).__name__ for r in FULL]
)
def test_full_records_round_trip_through_json_text(
    record: Any, encode: Callable[[Any], dict[str, Any]], decode: Callable[[Any], Any]
) -> None:
    data = encode(record)
    assert decode(data) == record
    assert decode(json.loads(json.dumps(data, sort_keys=True))) == record


@pytest.mark.parametrize("record", MINIMAL, ids=[type(r).__name__ for r in MINIMAL])
def test_minimal_records_round_trip(record: Any) -> None:
    (encode, decode) = next((e, d) for r, e, d in FULL if type(r) is type(record))
    assert decode(json.loads(json.dumps(encode(record)))) == record


def test_optional_fields_may_be_left_out_of_a_dict() -> None:
    assert codec.member_from_dict(
        {"email": "a@example.com", "name": "A", "timezone": "UTC", "discipline": "other"}
    ) == Member("a@example.com", "A", "UTC", Discipline.OTHER)
    assert codec.team_from_dict({"id": "t", "name": "T", "discipline": "other"}) == Team(
        "t", "T", Discipline.OTHER
    )
    runbook = codec.runbook_from_dict(
        {"id": "r", "title": "R", "scenario": "S", "steps": [{"title": "a", "body": "b"}]}
    )
    assert runbook.steps == (RunbookStep("a", "b"),)


def test_the_dict_form_uses_the_configuration_names() -> None:
    assert set(codec.team_to_dict(FULL[1][0])) == {
        "id",
        "name",
        "discipline",
        "lead",
        "bridge",
        "notes",
        "members",
    }
    assert codec.member_to_dict(FULL[0][0])["chat"] == {
        "matrix": "@ada:example.org",
        "slack": "@ada",
    }


def test_the_matrix_round_trips_and_missing_cells_keep_defaults() -> None:
    matrix = PriorityMatrix().with_cell(ImpactTier.TIER_4, Severity.CRITICAL, Priority.P1)
    data = codec.matrix_to_dict(matrix)
    assert data["4"] == {"critical": "P1", "warning": "P5", "info": "P5"}
    assert codec.matrix_from_dict(json.loads(json.dumps(data))) == matrix
    assert codec.matrix_from_dict({"2": {"info": "P1"}}) == PriorityMatrix().with_cell(
        ImpactTier.TIER_2, Severity.INFO, Priority.P1
    )
    assert codec.matrix_from_dict({}) == PriorityMatrix()


def test_unknown_enum_values_are_refused() -> None:
    with pytest.raises(ValueError):
        codec.member_from_dict(
            {"email": "a@example.com", "name": "A", "timezone": "UTC", "discipline": "magic"}
        )
    with pytest.raises(ValueError):
        codec.matrix_from_dict({"1": {"critical": "P9"}})
