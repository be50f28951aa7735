"""Structural problems: each reported with its exact line and column, all of them at once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from console.config.errors import ConfigError, ConfigProblem
from console.config.loader import MAX_BYTES, check_file, load_file, load_text

FIXTURES = Path(__file__).parents[2] / "fixtures" / "config"


def where(problems: list[ConfigProblem]) -> list[tuple[int, int, str]]:
    return [(p.line, p.column, p.path) for p in problems]


def problems_in(text: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        load_text(text, "test.yaml")
    assert caught.value.problems, "a ConfigError always carries its problems"
    return caught.value.problems


def test_tabs_in_indentation_reported_even_when_yaml_fails_on_them() -> None:
    problems = check_file(FIXTURES / "tab_syntax.yaml")
    # Line 4 is "\t name: Ana": the tab is the first character; the parser's own error at
    # the same place is folded into this clearer message.
    assert where(problems) == [(4, 1, "")]
    assert "tab in indentation" in problems[0].message
    assert problems[0].file == str(FIXTURES / "tab_syntax.yaml")


def test_tab_in_leading_whitespace_reported_but_not_inside_a_literal_block() -> None:
    problems = check_file(FIXTURES / "tabs.yaml")
    tabs = [p for p in problems if "tab" in p.message]
    # Line 8 continues a flow list with "\t  b]"; line 17 has a tab inside a `|` block
    # (after its two-space indentation), where a tab is content, not indentation.
    assert where(tabs) == [(8, 1, "")]


def test_yaml_syntax_error_reports_the_parser_mark() -> None:
    text = "version: 1\nmembers:\n  - email: a@example.com\n   name: x\n"
    (problem,) = problems_in(text)
    assert (problem.line, problem.column) == (4, 4)
    assert problem.message.startswith("YAML syntax error: did not find expected '-'")
    assert "line 3, column 3" in problem.message


def test_several_documents_are_a_syntax_error() -> None:
    (problem,) = problems_in("version: 1\n---\nversion: 1\n")
    assert (problem.line, problem.column) == (2, 1)
    assert "single document" in problem.message


def test_control_character_position_counts_characters_not_bytes() -> None:
    (problem,) = problems_in("version: 1\nteams: [é, é, \x07]\n")
    assert (problem.line, problem.column) == (2, 15)
    assert "U+0007" in problem.message


def test_duplicate_keys_at_every_level() -> None:
    problems = check_file(FIXTURES / "duplicate_keys.yaml")
    dupes = [p for p in problems if "duplicate key" in p.message]
    assert where(dupes) == [
        (6, 5, "teams[0].name"),
        (10, 9, "teams[0].members[0].email"),
        (11, 1, "teams"),
    ]
    assert "first at line 4" in dupes[0].message
    assert "silently keep only the last" in dupes[0].message


def test_unknown_fields_name_the_allowed_ones_and_the_closest() -> None:
    problems = check_file(FIXTURES / "unknown_fields.yaml")
    unknown = [p for p in problems if "unknown field" in p.message]
    assert where(unknown) == [
        (2, 1, "member"),
        (9, 5, "services[0].depends"),
        (10, 5, "services[0].colour"),
    ]
    assert unknown[0].message.endswith("did you mean 'members'?")
    assert "allowed: id, name, team, tier, description, tags, depends_on" in unknown[1].message
    assert unknown[1].message.endswith("did you mean 'depends_on'?")
    assert "did you mean" not in unknown[2].message


def test_wrong_types_and_invalid_values_all_reported() -> None:
    problems = check_file(FIXTURES / "wrong_types.yaml")
    assert where(problems) == [
        (4, 11, "members[0].name"),
        (6, 17, "members[0].discipline"),
        (7, 12, "members[0].phone"),
        (8, 11, "members[0].chat"),
        (13, 14, "teams[0].members"),
        (18, 11, "services[0].tier"),
        (19, 11, "services[0].tags"),
        (23, 11, "services[1].tier"),
        (31, 27, "runbooks[0].steps[0].expected_minutes"),
        (32, 28, "runbooks[0].steps[0].destroys_evidence"),
        (33, 9, "runbooks[0].steps[1]"),
    ]
    text = {p.path: p.message for p in problems}
    assert "boolean" in text["members[0].name"] and 'quotes: "yes"' in text["members[0].name"]
    assert "security, infrastructure, development, other" in text["members[0].discipline"]
    assert 'put it in quotes: "12345"' in text["members[0].phone"]
    assert "got a list" in text["members[0].chat"]
    assert "expected a list of memberships, got a mapping" in text["teams[0].members"]
    assert "got a string ('1'); write the number without quotes" in text["services[0].tier"]
    assert "invalid tier 7; allowed: 1, 2, 3, 4" in text["services[1].tier"]
    assert "expected a runbook step" in text["runbooks[0].steps[1]"]


def test_enum_suggestion_ignores_case() -> None:
    text = "version: 1\nteams:\n  - {id: a, name: A, discipline: Security}\n"
    (problem,) = problems_in(text)
    assert (problem.line, problem.column, problem.path) == (3, 34, "teams[0].discipline")
    assert problem.message.endswith("did you mean 'security'?")


def test_missing_and_empty_required_fields() -> None:
    text = (
        "version: 1\n"
        "teams:\n"
        "  - name: x\n"
        "    discipline: security\n"
        "  - id: y\n"
        "    name: ~\n"
        "    discipline:\n"
    )
    problems = problems_in(text)
    assert where(problems) == [
        (3, 5, "teams[0]"),
        (6, 11, "teams[1].name"),
        (7, 16, "teams[1].discipline"),
    ]
    assert problems[0].message == "missing required field 'id' in a team"
    assert problems[1].message == "required field 'name' has no value"


def test_version_is_required_and_must_be_the_integer_one() -> None:
    assert where(problems_in("teams: []\n")) == [(1, 1, "")]
    (two,) = problems_in("teams: []\nversion: 2\n")
    assert (two.line, two.column, two.path) == (2, 10, "version")
    assert "unsupported version 2" in two.message
    (text,) = problems_in("version: '1'\n")
    assert "got a string ('1')" in text.message


def test_priority_matrix_cells_checked() -> None:
    text = (
        "version: 1\n"
        "priority_matrix:\n"
        "  5: {critical: P1}\n"
        "  2: {fatal: P1, warning: p2}\n"
        "  3: P1\n"
    )
    problems = problems_in(text)
    assert where(problems) == [
        (3, 3, "priority_matrix.5"),
        (4, 7, "priority_matrix.2.fatal"),
        (4, 27, "priority_matrix.2.warning"),
        (5, 6, "priority_matrix.3"),
    ]
    assert problems[2].message.endswith("did you mean 'P2'?")


def test_top_level_must_be_a_mapping_and_not_empty() -> None:
    assert "got a list" in problems_in("- a\n- b\n")[0].message
    (empty,) = problems_in("# nothing here\n")
    assert (empty.line, empty.column) == (0, 0)


def test_anchors_and_aliases_refused_with_their_positions() -> None:
    text = "version: 1\nteams:\n  - &t {id: a, name: A, discipline: security}\n  - *t\n"
    problems = problems_in(text)
    assert where(problems) == [(3, 5, ""), (4, 5, "")]
    assert "anchor &t is not supported" in problems[0].message
    assert "billion laughs" in problems[1].message


def test_alias_bomb_refused_fast() -> None:
    lines = ["version: 1", 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        aliases = ", ".join([f"*l{level - 1}"] * 9)
        lines.append(f"l{level}: &l{level} [{aliases}]")
    # Expanded, members alone would hold 8 * 9**9 (about three billion) strings.
    lines += ["members: *l9", "teams: [*l9, *l9]", "services: *l8"]
    started = time.perf_counter()
    problems = problems_in("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 2.0
    assert sum("alias *" in p.message for p in problems) == 9 * 9 + 4
    assert len(problems) < 200


def test_text_over_five_mib_refused_without_parsing() -> None:
    text = "version: 1\nteams: []\n" + "#" * MAX_BYTES + "\n"
    (problem,) = problems_in(text)
    assert (problem.line, problem.column, problem.path) == (0, 0, "")
    assert "over 5 MiB" in problem.message


def test_six_mib_file_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("version: 1\n" + "# filler\n" * (6 * 1024 * 1024 // 9))
    (problem,) = check_file(big)
    assert (problem.file, problem.line, problem.column) == (str(big), 0, 0)
    assert "6.0 MiB" in problem.message


def test_unreadable_files_are_one_problem_at_line_zero(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    latin = tmp_path / "latin1.yaml"
    latin.write_bytes("version: 1\n# caf\u00e9\n".encode("latin-1"))
    for path, words in [
        (missing, "no such file"),
        (latin, "not UTF-8 text (byte 0xe9 at offset 16)"),
        (tmp_path, "not a regular file"),
    ]:
        with pytest.raises(ConfigError) as caught:
            load_file(path)
        (problem,) = caught.value.problems
        assert (problem.file, problem.line, problem.column) == (str(path), 0, 0)
        assert words in problem.message


def test_utf8_with_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfversion: 1\n")
    assert load_file(path).teams == ()
    assert check_file(path) == []


def test_lone_surrogate_from_a_caller_is_a_problem_not_a_crash() -> None:
    (problem,) = problems_in("version: 1\nteams: [\udcff]\n")
    assert (problem.line, problem.column) == (2, 9)
    assert "U+DCFF" in problem.message


def test_syntax_error_elsewhere_is_reported_beside_the_tab() -> None:
    problems = problems_in("version: 1\nteams: [a,\n\tb]\nservices: [c\n")
    assert [(p.line, p.column) for p in problems] == [(3, 1), (5, 1)]
    assert "tab" in problems[0].message
    assert problems[1].message.startswith("YAML syntax error")
