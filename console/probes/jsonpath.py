"""Simple JSON paths (``data.items[0].value``) and the number found at one."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_STEP = re.compile(r"\.?([^.\[\]]+)|\[(-?\d+)\]")
_NUMERIC_TEXT = re.compile(r"\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*")
_SHOWN = 60


class PathNotFound(Exception):
    """The document has no value at the path; the message says where the walk stopped."""


class NotANumber(Exception):
    """The value at the path is not a number; the message says what it is."""


@dataclass(frozen=True, slots=True)
class JsonPath:
    """A path of object keys and list indexes.

    Attributes:
        text: The path as written.
        steps: Keys (str) and indexes (int; negative counts from the end).
    """

    text: str
    steps: tuple[str | int, ...]

    @classmethod
    def parse(cls, text: str) -> JsonPath:
        """Parse ``a.b[0].c`` or ``[2].x``.

        Raises:
            ValueError: When the path is empty or malformed.
        """
        steps: list[str | int] = []
        pos = 0
        while pos < len(text):
            match = _STEP.match(text, pos)
            if match is None:
                raise ValueError(f"bad JSON path {text!r} at character {pos + 1}")
            key, index = match.groups()
            # A key needs a dot before it, except the first one, which must not have one.
            if key is not None and text.startswith(".", pos) == (pos == 0):
                raise ValueError(f"bad JSON path {text!r} at character {pos + 1}")
            steps.append(key if key is not None else int(index))
            pos = match.end()
        if not steps:
            raise ValueError("empty JSON path")
        return cls(text, tuple(steps))

    def find(self, document: object) -> object:
        """The value at this path.

        Raises:
            PathNotFound: Naming the step that failed and what was there instead.
        """
        value = document
        for done, step in enumerate(self.steps):
            where = _render(self.steps[:done]) or "the top level"
            if isinstance(step, str):
                if not isinstance(value, dict):
                    raise PathNotFound(f"{where} is {_kind(value)}, not an object")
                if step not in value:
                    raise PathNotFound(f"{where} has no key {step!r}")
                value = value[step]
            else:
                if not isinstance(value, list):
                    raise PathNotFound(f"{where} is {_kind(value)}, not a list")
                if not -len(value) <= step < len(value):
                    raise PathNotFound(f"{where} has {len(value)} elements, no [{step}]")
                value = value[step]
        return value


def as_number(value: object) -> float:
    """A JSON value as a metric: numbers, booleans (1/0) and numeric strings.

    Raises:
        NotANumber: For null, objects, lists, other text and non-finite numbers.
    """
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    number: float | None = None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
    elif isinstance(value, str) and _NUMERIC_TEXT.fullmatch(value):
        number = float(value)
    if number is None:
        raise NotANumber(f"{_kind(value)}, not a number")
    if not math.isfinite(number):
        raise NotANumber(f"{_shown(value)}, not a finite number")
    return number


def _render(steps: tuple[str | int, ...]) -> str:
    parts: list[str] = []
    for step in steps:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        else:
            parts.append(f".{step}" if parts else step)
    return "".join(parts)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return _shown(value)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
