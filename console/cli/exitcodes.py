"""Exit codes, as documented in the README."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    """What the process tells its caller."""

    OK = 0
    PROBLEM_FOUND = 1
    BAD_INPUT = 2
    STORE_REFUSED = 3
    RUNTIME_FAILURE = 4
