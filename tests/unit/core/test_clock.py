"""Injected time: the fake clock, and the one text form of a moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from console.core.clock import FakeClock, SystemClock, isoformat, parse_iso


def test_isoformat_is_fixed_width_utc() -> None:
    moment = datetime(2026, 3, 1, 9, 5, 7, 42, tzinfo=UTC)
    assert isoformat(moment) == "2026-03-01T09:05:07.000042Z"
    paris = moment.astimezone(timezone(timedelta(hours=1)))
    assert isoformat(paris) == "2026-03-01T09:05:07.000042Z"
    assert len(isoformat(datetime(2026, 1, 1, tzinfo=UTC))) == len(isoformat(moment))


def test_isoformat_sorts_like_time() -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    moments = [base + timedelta(microseconds=37 * i * i) for i in range(300)]
    texts = [isoformat(m) for m in moments]
    assert sorted(texts) == texts


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        isoformat(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="without a time zone"):
        parse_iso("2026-01-01T00:00:00")


def test_parse_iso_inverts_isoformat_and_takes_offsets() -> None:
    moment = datetime(2026, 3, 1, 9, 5, 7, 42, tzinfo=UTC)
    assert parse_iso(isoformat(moment)) == moment
    parsed = parse_iso("2026-03-01T10:05:07.000042+01:00")
    assert parsed == moment and parsed.utcoffset() == timedelta(0)


def test_the_fake_clock_moves_only_when_told() -> None:
    clock = FakeClock(datetime(2026, 5, 1, tzinfo=UTC))
    assert clock.now() == clock.now() == datetime(2026, 5, 1, tzinfo=UTC)
    clock.advance(1.5)
    assert clock.now() == datetime(2026, 5, 1, 0, 0, 1, 500000, tzinfo=UTC)
    assert clock.monotonic() == 1.5
    clock.jump_wall(-3600)  # the wall clock steps back; monotonic time does not
    assert clock.now() == datetime(2026, 4, 30, 23, 0, 1, 500000, tzinfo=UTC)
    assert clock.monotonic() == 1.5


def test_the_system_clock_is_aware_utc_and_monotonic() -> None:
    clock = SystemClock()
    assert clock.now().utcoffset() == timedelta(0)
    first = clock.monotonic()
    assert clock.monotonic() >= first
