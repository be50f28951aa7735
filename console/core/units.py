"""Human text for metric values: units, sensible precision and durations."""

from __future__ import annotations

import math
from enum import Enum


class Unit(Enum):
    """The unit a metric is measured in; it decides how its values are written for people."""

    NONE = "none"
    MILLISECONDS = "ms"
    SECONDS = "s"
    PERCENT = "percent"
    BYTES = "bytes"
    PER_SECOND = "per_second"
    DAYS = "days"


_BINARY_PREFIXES = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
# Largest unit first; a duration is written with at most two of them ("1 h 30 min").
_DURATION_UNITS = ((86400, "d"), (3600, "h"), (60, "min"), (1, "s"))


def format_number(value: float, significant: int = 3) -> str:
    """A plain number with about `significant` significant digits, never hiding integer digits.

    Trailing zeros are dropped, so 93.0 reads "93" and 4.10 reads "4.1"; 812.4 reads "812";
    0.01234 reads "0.0123"; magnitudes beyond 1e15 or below 1e-3 use exponent notation.

    Args:
        value: Any float, including NaN and infinities ("NaN", "inf", "-inf").
        significant: How many significant digits to keep (at least 1).

    Returns:
        The text, without a unit.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e15 or magnitude < 1e-3:
        return f"{value:.{significant}g}"
    integer_digits = math.floor(math.log10(magnitude)) + 1
    decimals = max(0, significant - integer_digits)
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_bytes(value: float) -> str:
    """Bytes with binary (IEC) prefixes: "512 B", "1.5 KiB", "12.3 MiB"."""
    if not math.isfinite(value):
        return f"{format_number(value)} B"
    scaled, index = value, 0
    while abs(scaled) >= 1024 and index < len(_BINARY_PREFIXES) - 1:
        scaled /= 1024
        index += 1
    return f"{format_number(scaled)} {_BINARY_PREFIXES[index]}"


def format_duration(seconds: float) -> str:
    """A duration for people: "250 ms", "1.5 s", "95 s", "2 min 5 s", "1 h", "1 d 2 h".

    Under two minutes the duration is written in seconds (or milliseconds under one second);
    beyond that in the largest whole unit plus the next one when it is not zero, rounded to the
    smaller of the two.

    Args:
        seconds: The duration; negative durations get a leading minus sign.

    Returns:
        The text.
    """
    if not math.isfinite(seconds):
        return f"{format_number(seconds)} s"
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds < 1:
        return "0 s" if seconds == 0 else f"{format_number(seconds * 1000)} ms"
    if seconds < 120:
        return f"{format_number(seconds)} s"
    for position, (size, name) in enumerate(_DURATION_UNITS[:-1]):
        if seconds >= size:
            smaller, smaller_name = _DURATION_UNITS[position + 1]
            total = round(seconds / smaller)
            if position > 0 and total * smaller >= _DURATION_UNITS[position - 1][0]:
                return format_duration(total * smaller)  # rounding carried into a larger unit
            major, minor = divmod(total, size // smaller)
            return f"{major} {name} {minor} {smaller_name}" if minor else f"{major} {name}"
    raise AssertionError("unreachable: seconds >= 120 always matches a unit")  # pragma: no cover


def format_value(value: float, unit: Unit) -> str:
    """A metric value with its unit, e.g. "812 ms", "93 %", "1.5 MiB", "12/s".

    Args:
        value: The value in the metric's own unit (milliseconds for MILLISECONDS, and so on).
        unit: The metric's unit.

    Returns:
        The text; milliseconds from one second up are written in seconds ("1.23 s").
    """
    match unit:
        case Unit.NONE:
            return format_number(value)
        case Unit.MILLISECONDS:
            if math.isfinite(value) and abs(value) >= 1000:
                return f"{format_number(value / 1000)} s"
            return f"{format_number(value)} ms"
        case Unit.SECONDS:
            return format_duration(value)
        case Unit.PERCENT:
            return f"{format_number(value)} %"
        case Unit.BYTES:
            return format_bytes(value)
        case Unit.PER_SECOND:
            return f"{format_number(value)}/s"
        case Unit.DAYS:
            return f"{format_number(value)} d"
