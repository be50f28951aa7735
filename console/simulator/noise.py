"""Stateless noise and calendar helpers: hashed random numbers and the estate's local time.

Every random-looking number is a hash of (seed, series, stream, time bucket), so a value depends
only on its inputs: the same moment always gives the same number, in any order, on any machine.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

# The demo shop's customers are mostly in Central Europe: business hours follow Berlin time.
MAIN_TIME_ZONE = "Europe/Berlin"
_STANDARD_OFFSET_S = 3600.0
_SUMMER_OFFSET_S = 7200.0
DAY_S = 86400.0
_UNIX_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday is 0)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


def stream_key(seed: int, ident: str, stream: str) -> int:
    """A 64-bit key naming one independent random stream of one series."""
    digest = hashlib.blake2b(f"{seed}|{ident}|{stream}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def unit_floats(*parts: object, count: int) -> list[float]:
    """Up to eight numbers in [0, 1) drawn from a hash of the parts (for scalar decisions)."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=64).digest()
    return [int.from_bytes(digest[i * 8 : i * 8 + 8], "little") / 2.0**64 for i in range(count)]


def _mix(values: NDArray[np.uint64]) -> NDArray[np.uint64]:
    # splitmix64's finaliser: every input bit flips about half the output bits.
    values = (values ^ (values >> np.uint64(30))) * _MIX_1
    values = (values ^ (values >> np.uint64(27))) * _MIX_2
    return values ^ (values >> np.uint64(31))


def _hashed(key: int, buckets: NDArray[np.int64]) -> NDArray[np.uint64]:
    # Arrays (never numpy scalars) so that 64-bit products wrap silently as intended.
    raw = np.ascontiguousarray(buckets, dtype=np.int64).reshape(-1).view(np.uint64)
    return _mix(raw * _GOLDEN + np.uint64(key))


def gaussian(key: int, buckets: NDArray[np.int64]) -> FloatArray:
    """A standard normal number for each bucket (Box-Muller over the two halves of one hash)."""
    hashed = _hashed(key, buckets)
    # The high half, in (0, 1] so that the logarithm is finite; the low half in [0, 1).
    first = ((hashed >> np.uint64(32)).astype(np.float64) + 1.0) * 2.0**-32
    second = (hashed & np.uint64(0xFFFFFFFF)).astype(np.float64) * 2.0**-32
    return np.sqrt(-2.0 * np.log(first)) * np.cos(2.0 * math.pi * second)


def white(key: int, times: FloatArray, step_s: float) -> FloatArray:
    """Normal noise that holds its value for step_s seconds (what a scrape interval sees)."""
    return gaussian(key, np.floor(times / step_s).astype(np.int64))


def smooth(key: int, times: FloatArray, step_s: float) -> FloatArray:
    """Normal noise that wanders smoothly: hashed knots every step_s, eased in between."""
    position = times / step_s
    knots = np.floor(position)
    frac = position - knots
    ease = frac * frac * (3.0 - 2.0 * frac)
    left = knots.astype(np.int64)
    # One hashing pass for both neighbouring knots.
    both = gaussian(key, np.concatenate((left, left + 1)))
    return (1.0 - ease) * both[: left.size] + ease * both[left.size :]


@lru_cache(maxsize=256)
def _summer_time(year: int) -> tuple[float, float]:
    # EU rule: from the last Sunday of March to the last Sunday of October, 01:00 UTC each.
    def last_sunday(month: int) -> float:
        day = date(year, month, 31)
        day -= timedelta(days=(day.weekday() - 6) % 7)
        return datetime(day.year, day.month, day.day, 1, tzinfo=UTC).timestamp()

    return last_sunday(3), last_sunday(10)


def utc_offset(times: FloatArray) -> FloatArray:
    """Seconds to add to UTC for the main time zone (Central European Time with EU summer time)."""
    offsets = np.full(times.shape, _STANDARD_OFFSET_S)
    if times.size == 0:
        return offsets
    first = datetime.fromtimestamp(float(times.min()), UTC).year
    last = datetime.fromtimestamp(float(times.max()), UTC).year
    for year in range(first, last + 1):
        begin, end = _summer_time(year)
        offsets[(times >= begin) & (times < end)] = _SUMMER_OFFSET_S
    return offsets


def _bump(hours: FloatArray, centre: float, width: float) -> FloatArray:
    # Distance on the 24-hour circle, so a bump near midnight wraps around.
    distance = np.mod(hours - centre + 12.0, 24.0) - 12.0
    return np.exp(-0.5 * (distance / width) ** 2)


def daily_load(times: FloatArray) -> FloatArray:
    """How busy the shop is, 0.1 (night) to 1 (weekday peak), in its main time zone.

    A late-morning and an afternoon peak for business traffic and an evening shopping bump;
    at weekends the daytime part falls to about half.
    """
    local = times + utc_offset(times)
    hours = np.mod(local, DAY_S) / 3600.0
    weekday = np.mod(np.floor(local / DAY_S) + _UNIX_EPOCH_WEEKDAY, 7.0)
    daytime = 0.6 * _bump(hours, 11.0, 2.6) + 0.55 * _bump(hours, 15.0, 2.4)
    daytime = daytime + 0.35 * _bump(hours, 20.5, 1.6)
    daytime = np.where(weekday >= 5.0, 0.5 * daytime, daytime)
    return 0.1 + 0.9 * np.clip(daytime, 0.0, 1.0)
