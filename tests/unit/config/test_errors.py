"""ConfigProblem's text form and ConfigError's message."""

from __future__ import annotations

from console.config.errors import ConfigError, ConfigProblem
from console.core.errors import ConsoleError


def test_problem_text_names_file_line_column_and_path() -> None:
    problem = ConfigProblem("estate.yaml", 12, 7, "services[2].tier", "invalid tier 7")
    assert str(problem) == "estate.yaml:12:7: services[2].tier: invalid tier 7"


def test_problem_text_without_a_path_has_no_empty_segment() -> None:
    problem = ConfigProblem("estate.yaml", 0, 0, "", "no such file")
    assert str(problem) == "estate.yaml:0:0: no such file"


def test_error_lists_every_problem_one_per_line() -> None:
    problems = [
        ConfigProblem("a.yaml", 1, 1, "", "first"),
        ConfigProblem("a.yaml", 9, 3, "teams[0].id", "second"),
    ]
    error = ConfigError(problems)
    assert isinstance(error, ConsoleError)
    assert error.problems == problems
    assert str(error).splitlines() == ["a.yaml:1:1: first", "a.yaml:9:3: teams[0].id: second"]
