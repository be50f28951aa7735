"""Values and durations written for people."""

from __future__ import annotations

import math

import pytest
from console.core.units import Unit, format_bytes, format_duration, format_number, format_value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (93.0, "93"),
        (812.4, "812"),
        (4.1, "4.1"),
        (4.126, "4.13"),
        (93.26, "93.3"),
        (0.01234, "0.0123"),
        (12345.6, "12346"),
        (-7.5, "-7.5"),
        (0.0, "0"),
        (-0.0001, "-0.0001"),
        (99.96, "100"),
        (1.5e20, "1.5e+20"),
        (1.2e-7, "1.2e-07"),
        (-0.0004, "-0.0004"),
        (math.nan, "NaN"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
    ],
)
def test_numbers_keep_about_three_significant_digits(value: float, text: str) -> None:
    assert format_number(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0 B"),
        (512, "512 B"),
        (1536, "1.5 KiB"),
        (12.3 * 1024 * 1024, "12.3 MiB"),
        (4 * 1024**3, "4 GiB"),
        (3 * 1024**7, "3072 EiB"),
        (-2048, "-2 KiB"),
    ],
)
def test_bytes_use_binary_prefixes(value: float, text: str) -> None:
    assert format_bytes(value) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (0.25, "250 ms"),
        (1.5, "1.5 s"),
        (30, "30 s"),
        (95, "95 s"),
        (125, "2 min 5 s"),
        (900, "15 min"),
        (3600, "1 h"),
        (5400, "1 h 30 min"),
        (3599.9, "1 h"),  # rounding carries into the next unit
        (86399, "1 d"),
        (90000, "1 d 1 h"),
        (7 * 86400, "7 d"),
        (-95, "-95 s"),
        (math.inf, "inf s"),
    ],
)
def test_durations(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (812, Unit.MILLISECONDS, "812 ms"),
        (1234, Unit.MILLISECONDS, "1.23 s"),
        (0.42, Unit.MILLISECONDS, "0.42 ms"),
        (95, Unit.SECONDS, "95 s"),
        (93, Unit.PERCENT, "93 %"),
        (1536, Unit.BYTES, "1.5 KiB"),
        (12.5, Unit.PER_SECOND, "12.5/s"),
        (12, Unit.DAYS, "12 d"),
        (3.14159, Unit.NONE, "3.14"),
        (math.nan, Unit.MILLISECONDS, "NaN ms"),
    ],
)
def test_values_with_units(value: float, unit: Unit, text: str) -> None:
    assert format_value(value, unit) == text
