"""Problems found in a configuration file, each with its file, line and column."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from console.core.errors import ConsoleError


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with a configuration file.

    Attributes:
        file: The file (or source name) the problem is in.
        line: 1-based line; 0 when the problem concerns the whole file.
        column: 1-based column; 0 when the problem concerns the whole file.
        path: Where in the document, like ``services[2].depends_on[0]``; empty for the file.
        message: What is wrong and, where possible, how to fix it.
    """

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(ConsoleError):
    """A configuration file that cannot be used; carries every problem found in it."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        """Keep the problems; the message lists them all, one per line."""
        self.problems: list[ConfigProblem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
