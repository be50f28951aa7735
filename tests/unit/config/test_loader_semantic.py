"""The domain's rules (validate_estate) reported at the line and column of the offending node."""

from __future__ import annotations

from pathlib import Path

import pytest
from console.config.errors import ConfigError, ConfigProblem
from console.config.loader import check_file, load_file, load_text
from console.core.enums import Discipline, ImpactTier, MemberRole, Priority, Severity
from console.core.models import ChatHandle

FIXTURES = Path(__file__).parents[2] / "fixtures" / "config"


def where(problems: list[ConfigProblem]) -> list[tuple[int, int, str]]:
    return [(p.line, p.column, p.path) for p in problems]


def problems_in(text: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        load_text(text, "test.yaml")
    return caught.value.problems


def test_valid_file_maps_every_field_to_the_records() -> None:
    estate = load_file(FIXTURES / "valid_small.yaml")
    ana, joao = estate.members
    assert ana.phone == "+351 21 000 0000"
    # handles come back in network order, whatever order the file used
    assert ana.chat == (ChatHandle("matrix", "@ana:example.org"), ChatHandle("slack", "@ana"))
    assert joao.email == "joão@example.com" and joao.discipline is Discipline.SECURITY
    (noc,) = estate.teams
    assert noc.key == "noc" and noc.bridge_url == "https://meet.example.com/noc"
    assert noc.notes == "Line one.\nLine two.\n"
    assert noc.role_of("joão@example.com") is MemberRole.SHADOW
    db, api = estate.services
    assert api.tier is ImpactTier.TIER_2 and api.depends_on == ("db",)
    assert api.tags == ("customer-facing",) and db.description is None
    assert estate.priority_matrix is not None
    assert estate.priority_matrix.priority(ImpactTier.TIER_2, Severity.CRITICAL) is Priority.P1
    # Cells not given keep their defaults.
    assert estate.priority_matrix.priority(ImpactTier.TIER_1, Severity.INFO) is Priority.P4
    (runbook,) = estate.runbooks
    assert [s.expected_minutes for s in runbook.steps] == [5, None]
    assert [s.destroys_evidence for s in runbook.steps] == [False, True]
    (resource,) = estate.resources
    assert resource.secret_ref == "oncall-console/forensic-ws-1"
    assert resource.who_may_use == ("noc",)


def test_matrix_absent_means_none() -> None:
    assert load_text("version: 1\n").priority_matrix is None


def test_dangling_references_point_at_the_reference() -> None:
    problems = check_file(FIXTURES / "dangling.yaml")
    assert where(problems) == [
        (11, 11, "teams[0].lead"),
        (14, 17, "teams[0].members[1].email"),
        (18, 11, "services[0].team"),
        (20, 22, "services[0].depends_on[1]"),
        (29, 21, "runbooks[0].services[1]"),
        (36, 25, "resources[0].who_may_use[1]"),
    ]
    messages = [p.message for p in problems]
    assert messages[2] == "unknown team 'payments'"
    assert messages[3] == "unknown service 'cache'"
    assert messages[5] == "unknown team 'noc'"


def test_duplicate_entity_keys_point_at_the_second_one() -> None:
    problems = check_file(FIXTURES / "duplicate_entities.yaml")
    assert where(problems) == [
        (4, 13, "members[1].email"),
        (7, 10, "teams[1].id"),
        (10, 10, "services[1].id"),
    ]
    assert problems[1].message == "duplicate id 'sirt' (also teams[0])"


def test_dependency_cycle_reported_on_the_list_that_starts_it() -> None:
    (problem,) = check_file(FIXTURES / "cycle.yaml")
    assert (problem.line, problem.column, problem.path) == (9, 17, "services[0].depends_on")
    assert problem.message == "dependency cycle: api -> auth -> db -> api"


def test_bad_slugs_emails_time_zones_and_urls() -> None:
    text = (
        "version: 1\n"
        "members:\n"
        "  - email: not-an-email\n"
        "    name: Ana\n"
        "    timezone: Europe/Atlantis\n"
        "    discipline: security\n"
        "teams:\n"
        "  - id: Bad_Slug\n"
        "    name: Team\n"
        "    discipline: security\n"
        "    bridge: ftp://files.example.com\n"
    )
    problems = problems_in(text)
    assert where(problems) == [
        (3, 12, "members[0].email"),
        (5, 15, "members[0].timezone"),
        (8, 9, "teams[0].id"),
        (11, 13, "teams[0].bridge"),
    ]
    assert "IANA time zone" in problems[1].message
    assert "slug" in problems[2].message


def test_runbook_without_steps_points_at_the_empty_list() -> None:
    text = "version: 1\nrunbooks:\n  - {id: r, title: R, scenario: S, steps: []}\n"
    (problem,) = problems_in(text)
    assert (problem.line, problem.column, problem.path) == (3, 43, "runbooks[0].steps")
    assert "at least one step" in problem.message


def test_a_file_with_many_errors_reports_all_of_them_in_order() -> None:
    problems = check_file(FIXTURES / "many_errors.yaml")
    assert where(problems) == [
        (2, 1, "membrs"),  # unknown section
        (4, 5, "teams[0]"),  # no name
        (5, 17, "teams[0].discipline"),  # invalid enum value
        (6, 11, "teams[0].lead"),  # unknown member
        (8, 5, "services[0]"),  # no name
        (9, 11, "services[0].team"),  # unknown team
        (10, 11, "services[0].tier"),  # out of range
        (11, 17, "services[0].depends_on"),  # depends on itself
        (12, 1, ""),  # tab
        (12, 3, "services[0].depends_on[1]"),  # unknown service
        (13, 5, ""),  # anchor
        (13, 5, "services[1]"),  # no name
        (13, 5, "services[1]"),  # no team
        (13, 5, "services[1]"),  # no tier
    ]
    assert problems[7].message == "api cannot depend on itself"
    assert [p.message.split("'")[1] for p in problems[-3:]] == ["name", "team", "tier"]


def test_structural_problem_is_not_repeated_as_a_semantic_one() -> None:
    # The broken email is reported once, as a wrong type; not also as "not an email",
    # and the placeholder that stands in for it is never mentioned.
    text = (
        "version: 1\n"
        "members:\n"
        "  - {email: [a], name: A, timezone: 3, discipline: other}\n"
        "services:\n"
        "  - {id: api, name: API, team: {}, tier: 1, depends_on: [5, api2]}\n"
        "  - {id: api2, name: API 2, team: [], tier: 1}\n"
    )
    problems = problems_in(text)
    assert where(problems) == [
        (3, 13, "members[0].email"),
        (3, 37, "members[0].timezone"),
        (5, 32, "services[0].team"),
        (5, 58, "services[0].depends_on[0]"),
        (6, 35, "services[1].team"),
    ]
    assert all("\x00" not in p.message and "\\x00" not in p.message for p in problems)
