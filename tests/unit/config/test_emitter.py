"""Canonical YAML: sorted, compact, block style; export -> import -> export is byte-identical."""

from __future__ import annotations

from pathlib import Path

import yaml
from console.config.demo import demo_estate
from console.config.emitter import dump
from console.config.loader import load_file, load_text
from console.core.clock import FakeClock
from console.core.enums import Discipline, ImpactTier, MemberRole, Priority, Severity
from console.core.models import (
    ChatHandle,
    Estate,
    Member,
    Membership,
    PriorityMatrix,
    Runbook,
    RunbookStep,
    Service,
    Team,
)
from console.store import estate as stored
from console.store.db import Store
from console.store.entities import import_estate

FIXTURES = Path(__file__).parents[2] / "fixtures" / "config"


def _store_round(path: Path, declared: Estate) -> str:
    """Import into a fresh store, read everything back, export it."""
    with Store.open(path, FakeClock()) as store:
        import_estate(store, declared, prune=False, source="test")
        return dump(stored.load(store.read()))


def test_demo_export_import_export_is_byte_identical(tmp_path: Path) -> None:
    first = _store_round(tmp_path / "s.db", demo_estate())
    second = _store_round(tmp_path / "s2.db", load_text(first, "export.yaml"))
    assert second == first
    assert first.startswith("version: 1\n")
    # Default matrix: not written.
    assert "priority_matrix" not in first


def test_custom_matrix_survives_the_store_round_trip(tmp_path: Path) -> None:
    declared = load_file(FIXTURES / "valid_small.yaml")
    first = _store_round(tmp_path / "s.db", declared)
    assert "priority_matrix:\n  1:\n    critical: P1\n" in first
    second = _store_round(tmp_path / "s2.db", load_text(first))
    assert second == first
    reloaded = load_text(second).priority_matrix
    assert reloaded == declared.priority_matrix


def test_entities_sorted_by_key_fields_in_fixed_order_empty_fields_omitted() -> None:
    estate = Estate(
        members=(
            Member("zoe@example.com", "Zoë", "UTC", Discipline.OTHER),
            Member(
                "ana@example.com",
                "Ana",
                "Europe/Lisbon",
                Discipline.SECURITY,
                phone="+351 21 000 0000",
                chat=(ChatHandle("slack", "@ana"), ChatHandle("matrix", "@ana:example.org")),
            ),
        ),
        teams=(
            Team(
                "sirt",
                "SIRT",
                Discipline.SECURITY,
                notes="",
                members=(
                    Membership("zoe@example.com", MemberRole.SHADOW),
                    Membership("ana@example.com", MemberRole.LEAD),
                ),
            ),
        ),
    )
    assert dump(estate) == (
        "version: 1\n"
        "members:\n"
        "  - email: ana@example.com\n"
        "    name: Ana\n"
        "    timezone: Europe/Lisbon\n"
        "    discipline: security\n"
        "    phone: +351 21 000 0000\n"
        "    chat:\n"
        "      matrix: '@ana:example.org'\n"
        "      slack: '@ana'\n"
        "  - email: zoe@example.com\n"
        "    name: Zoë\n"
        "    timezone: UTC\n"
        "    discipline: other\n"
        "teams:\n"
        "  - id: sirt\n"
        "    name: SIRT\n"
        "    discipline: security\n"
        "    members:\n"
        "      - email: zoe@example.com\n"
        "        role: shadow\n"
        "      - email: ana@example.com\n"
        "        role: lead\n"
    )


def test_multiline_text_is_a_literal_block_and_defaults_are_left_out() -> None:
    runbook = Runbook(
        "disk-full",
        "Disk full",
        "One line.",
        steps=(
            RunbookStep("Look", "Run:\n\n```sh\ndf -h\n```\n", expected_minutes=5),
            RunbookStep("Reboot", "Reboot.", destroys_evidence=True),
        ),
    )
    text = dump(Estate(runbooks=(runbook,)))
    assert "    steps:\n      - title: Look\n        body: |\n          Run:\n\n" in text
    assert "destroys_evidence: false" not in text
    assert "        destroys_evidence: true\n" in text
    assert load_text(text).runbooks == (runbook,)


def test_text_that_yaml_would_misread_is_quoted_and_reads_back_unchanged() -> None:
    awkward = [
        "yes",
        "12345",
        "1.5",
        "null",
        "2024-01-01",
        "#not a comment",
        ": colon",
        "trailing spaces   \nsecond line",
        "tab\tinside",
        "  leading spaces\nand more\n",
        "no final newline\nsecond",
        "ends with blank lines\n\n\n",
        "emoji 🚨 and accents àé",
    ]
    services = tuple(
        Service(f"s{i:02d}", "S", "t", ImpactTier.TIER_1, description=text)
        for i, text in enumerate(awkward)
    )
    estate = Estate(
        teams=(Team("t", "T", Discipline.OTHER),),
        services=services,
    )
    text = dump(estate)
    assert "🚨" in text and "\\u" not in text
    back = load_text(text)
    assert [s.description for s in back.services] == awkward
    assert dump(back) == text


def test_non_default_matrix_written_in_full_default_omitted() -> None:
    custom = PriorityMatrix().with_cell(ImpactTier.TIER_2, Severity.CRITICAL, Priority.P1)
    written = yaml.safe_load(dump(Estate(priority_matrix=custom)))
    assert written["priority_matrix"][2] == {"critical": "P1", "warning": "P3", "info": "P4"}
    assert set(written["priority_matrix"]) == {1, 2, 3, 4}
    assert "priority_matrix" not in dump(Estate(priority_matrix=PriorityMatrix()))
    assert "priority_matrix" not in dump(Estate())


def test_dump_is_deterministic_whatever_the_input_order() -> None:
    estate = demo_estate()
    reversed_estate = Estate(
        teams=estate.teams[::-1],
        members=estate.members[::-1],
        services=estate.services[::-1],
        runbooks=estate.runbooks[::-1],
        resources=estate.resources[::-1],
        endpoints=estate.endpoints[::-1],
        alerting=estate.alerting,
        silences=estate.silences[::-1],
        schedules=estate.schedules[::-1],
        unavailability=estate.unavailability[::-1],
        escalation_policies=estate.escalation_policies[::-1],
        delivery=estate.delivery,
    )
    assert dump(reversed_estate) == dump(estate)
