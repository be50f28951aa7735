"""Nagios plugin output: status text, long text and performance data, parsed without raising.

The format follows the Monitoring Plugins development guidelines:

    TEXT | perfdata
    LONG TEXT LINE 1
    LONG TEXT LINE 2 | more perfdata
    more perfdata

Perfdata items are ``'label'=value[UOM];[warn];[crit];[min];[max]`` separated by blanks. A label
holding blanks, ``=`` or ``'`` is single-quoted and a doubled ``''`` inside stands for one quote.
Thresholds are ranges ``[@]start:end``: a value alerts when it lies outside start..end, or inside
it with ``@``; ``10`` means 0..10, ``10:`` means 10..infinity and ``~`` is minus infinity.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import TypeVar

from console.core.errors import Problem

# The characters that separate perfdata items; a label holding one of them must be quoted.
_BLANKS = frozenset(" \t\r\n\v\f")
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_NUMBER_RE = re.compile(_NUMBER)
_VALUE_RE = re.compile(rf"({_NUMBER})(.*)", re.DOTALL)
# A unit may not start with something that makes the number itself ambiguous ("1,5", "1.2.3").
_UOM_RE = re.compile(r"[^\d.,;=+\-'\s][^;=\s]*")
_MAX_FIELDS = 5
_T = TypeVar("_T")


class PluginState(IntEnum):
    """A plugin's verdict, which is also its exit code."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


class PerfUnit(Enum):
    """The units of measure the guidelines define; other units are kept as plain text."""

    SECONDS = "s"
    MILLISECONDS = "ms"
    MICROSECONDS = "us"
    PERCENT = "%"
    BYTES = "B"
    KILOBYTES = "KB"
    MEGABYTES = "MB"
    GIGABYTES = "GB"
    TERABYTES = "TB"
    COUNTER = "c"


_UNITS = {unit.value: unit for unit in PerfUnit}


@dataclass(frozen=True, slots=True)
class Range:
    """A Nagios threshold range: start..end inclusive, alerting outside it (inside with ``@``).

    Attributes:
        start: Lower bound; ``-inf`` for ``~``.
        end: Upper bound; ``inf`` when the range is open (``10:``).
        inside: True for ``@`` ranges, which alert when the value lies inside start..end.
    """

    start: float
    end: float
    inside: bool = False

    def __post_init__(self) -> None:
        if math.isnan(self.start) or math.isnan(self.end) or self.start > self.end:
            raise ValueError(f"invalid range {self.start}..{self.end}")

    def alerts(self, value: float) -> bool:
        """Whether a value breaches this threshold."""
        within = self.start <= value <= self.end
        return within if self.inside else not within

    def __str__(self) -> str:
        prefix = "@" if self.inside else ""
        end = "" if self.end == math.inf else format_number(self.end)
        if self.start == 0 and self.end != math.inf:
            return f"{prefix}{end}"
        start = "~" if self.start == -math.inf else format_number(self.start)
        return f"{prefix}{start}:{end}"


@dataclass(frozen=True, slots=True)
class PerfItem:
    """One performance data item.

    Attributes:
        label: The metric's name, unquoted.
        value: The measurement, or None when the plugin wrote ``U`` (could not determine it).
        uom: The unit of measure as written, or None.
        warn: The warning threshold, if any.
        crit: The critical threshold, if any.
        minimum: The smallest possible value, if given.
        maximum: The largest possible value, if given.
    """

    label: str
    value: float | None
    uom: str | None = None
    warn: Range | None = None
    crit: Range | None = None
    minimum: float | None = None
    maximum: float | None = None

    @property
    def unit(self) -> PerfUnit | None:
        """The unit when it is one the guidelines define, else None (see ``uom`` for the text)."""
        return None if self.uom is None else _UNITS.get(self.uom)

    def state(self, value: float | None = None) -> PluginState:
        """Judge a value (by default the item's own) against the item's thresholds.

        Returns:
            CRITICAL if the critical range alerts, else WARNING if the warning range alerts,
            else OK; UNKNOWN when there is no value.
        """
        measured = self.value if value is None else value
        if measured is None:
            return PluginState.UNKNOWN
        if self.crit is not None and self.crit.alerts(measured):
            return PluginState.CRITICAL
        if self.warn is not None and self.warn.alerts(measured):
            return PluginState.WARNING
        return PluginState.OK


@dataclass(frozen=True, slots=True)
class PluginOutput:
    """A plugin's output taken apart.

    Attributes:
        text: The first line's status text, stripped.
        long_text: The further lines of text (without their perfdata).
        perfdata: The items that parsed.
        problems: One entry per malformed item (path ``perfdata[i]``, i counting items).
    """

    text: str
    long_text: tuple[str, ...]
    perfdata: tuple[PerfItem, ...]
    problems: tuple[Problem, ...]


def parse_output(output: str) -> PluginOutput:
    """Split plugin output into text, long text and perfdata; never raises on bad input."""
    lines = output.replace("\r\n", "\n").split("\n")
    text, _, perf = lines[0].partition("|")
    perf_parts = [perf]
    long_text: list[str] = []
    rest = iter(lines[1:])
    for line in rest:
        before, bar, after = line.partition("|")
        long_text.append(before.rstrip())
        if bar:
            # The first '|' in the long text starts perfdata that runs to the end of the output.
            perf_parts.append(after)
            perf_parts.extend(rest)
    while long_text and not long_text[-1]:
        long_text.pop()
    items, problems = parse_perfdata(" ".join(perf_parts))
    return PluginOutput(text.strip(), tuple(long_text), tuple(items), tuple(problems))


def parse_perfdata(text: str) -> tuple[list[PerfItem], list[Problem]]:
    """Parse blank-separated perfdata items.

    Returns:
        The items that parsed (an item with a bad threshold is kept without that threshold)
        and one problem per defect, each naming the item's position and text.
    """
    items: list[PerfItem] = []
    problems: list[Problem] = []
    for index, (raw, label, value_part, error) in enumerate(_tokens(text)):
        path = f"perfdata[{index}]"
        if error is not None:
            problems.append(Problem(path, f"{raw!r}: {error}"))
            continue
        item, messages = _parse_item(label, value_part)
        problems.extend(Problem(path, f"{raw!r}: {message}") for message in messages)
        if item is not None:
            items.append(item)
    return items, problems


def parse_range(text: str) -> Range:
    """Parse a threshold range such as ``10``, ``10:``, ``~:10``, ``10:20`` or ``@10:20``.

    Raises:
        ValueError: With a message saying what is wrong.
    """
    inside = text.startswith("@")
    body = text[1:] if inside else text
    if not body:
        raise ValueError("empty range")
    start_text, colon, end_text = body.partition(":")
    if not colon:
        start_text, end_text = "0", body
    if start_text == "~":
        start = -math.inf
    else:
        start = _parse_number(start_text, "start") if start_text else 0.0
    end = _parse_number(end_text, "end") if end_text else math.inf
    if start > end:
        raise ValueError(f"range start {start_text} is greater than its end {end_text}")
    return Range(start, end, inside)


def format_number(value: float) -> str:
    """Shortest text that parses back to the same float (integers without a fraction)."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def format_item(item: PerfItem) -> str:
    """Write an item in perfdata syntax, quoting the label when it needs it."""
    label = item.label
    if not label or any(c in _BLANKS or c in "'=" for c in label):
        label = "'" + label.replace("'", "''") + "'"
    value = "U" if item.value is None else format_number(item.value) + (item.uom or "")
    fields = [
        value,
        "" if item.warn is None else str(item.warn),
        "" if item.crit is None else str(item.crit),
        "" if item.minimum is None else format_number(item.minimum),
        "" if item.maximum is None else format_number(item.maximum),
    ]
    # Trailing empty fields may be dropped, by the guidelines.
    return f"{label}=" + ";".join(fields).rstrip(";")


def format_perfdata(items: Iterable[PerfItem]) -> str:
    """Write items separated by single spaces."""
    return " ".join(format_item(item) for item in items)


def _parse_number(text: str, what: str) -> float:
    if not _NUMBER_RE.fullmatch(text):
        raise ValueError(f"{what} {text!r} is not a number")
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"{what} {text!r} is out of range")
    return number


def _parse_item(label: str, value_part: str) -> tuple[PerfItem | None, list[str]]:
    fields = value_part.split(";")
    messages: list[str] = []
    if len(fields) > _MAX_FIELDS:
        messages.append(f"{len(fields)} fields, at most {_MAX_FIELDS} expected")
    try:
        value, uom = _parse_value(fields[0])
    except ValueError as exc:
        return None, [*messages, str(exc)]
    fields += [""] * (_MAX_FIELDS - len(fields))
    warn = _optional(parse_range, fields[1], "warning threshold", messages)
    crit = _optional(parse_range, fields[2], "critical threshold", messages)
    minimum = _optional(lambda t: _parse_number(t, "min"), fields[3], "minimum", messages)
    maximum = _optional(lambda t: _parse_number(t, "max"), fields[4], "maximum", messages)
    return PerfItem(label, value, uom, warn, crit, minimum, maximum), messages


def _parse_value(text: str) -> tuple[float | None, str | None]:
    if text == "U":
        return None, None
    if not text:
        raise ValueError("no value")
    match = _VALUE_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"value {text!r} is not a number")
    number_text, uom = match.groups()
    if uom and not _UOM_RE.fullmatch(uom):
        raise ValueError(f"value {text!r} is not a number followed by a unit")
    number = float(number_text)
    if math.isinf(number):
        raise ValueError(f"value {number_text!r} is out of range")
    return number, uom or None


def _optional(parse: Callable[[str], _T], text: str, what: str, messages: list[str]) -> _T | None:
    if not text:
        return None
    try:
        return parse(text)
    except ValueError as exc:
        messages.append(f"bad {what}: {exc}")
        return None


def _tokens(text: str) -> Iterator[tuple[str, str, str, str | None]]:
    """Yield (raw text, label, value part, error) for each blank-separated item."""
    pos, size = 0, len(text)
    while True:
        while pos < size and text[pos] in _BLANKS:
            pos += 1
        if pos >= size:
            return
        start = pos
        if text[pos] == "'":
            label, pos, error = _quoted_label(text, pos)
            if error is not None:
                yield text[start:], "", "", error
                return
        else:
            while pos < size and text[pos] != "=" and text[pos] not in _BLANKS:
                pos += 1
            label, error = text[start:pos], None
        end = pos
        while end < size and text[end] not in _BLANKS:
            end += 1
        raw = text[start:end]
        if error is None:
            error = _token_error(text[pos:end], label)
        yield raw, label, text[pos + 1 : end], error
        pos = end


def _quoted_label(text: str, pos: int) -> tuple[str, int, str | None]:
    """Read a quoted label at pos; returns (label, position after it, error)."""
    chars: list[str] = []
    pos += 1
    while pos < len(text):
        if text[pos] == "'":
            if text[pos + 1 : pos + 2] == "'":
                chars.append("'")
                pos += 2
                continue
            return "".join(chars), pos + 1, None
        chars.append(text[pos])
        pos += 1
    return "".join(chars), pos, "unterminated quoted label"


def _token_error(after_label: str, label: str) -> str | None:
    if not after_label.startswith("="):
        return "expected '=' after the label"
    if not label:
        return "empty label"
    return None
