"""The core's exception hierarchy and the problem record that validation reports."""

from __future__ import annotations

from dataclasses import dataclass


class ConsoleError(Exception):
    """Base of every error a user can act on (as opposed to a bug)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with user input: where it is (a field path) and what was expected."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ValidationError(ConsoleError):
    """Input that breaks the domain's rules; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))
