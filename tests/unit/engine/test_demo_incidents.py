"""The demo's incidents: only trouble still open at the end of the replay becomes an incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.core.checks import CheckState
from console.core.signals import Signal, metric_signal
from console.engine.demo_incidents import still_open
from console.engine.incidents import ClearSignal, MarkFlapping, OpenSignal

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _signal(service: str, state: CheckState, minutes: int) -> Signal:
    found = metric_signal(
        service=service, endpoint=f"{service}-health", metric_key=None, metric_name="check",
        state=state, started_at=T0 + timedelta(minutes=minutes),
    )  # fmt: skip
    assert found is not None
    return found


def test_cleared_trouble_is_left_out_and_the_rest_comes_oldest_first_as_it_is_now() -> None:
    db_warn = _signal("db", CheckState.WARNING, 5)
    db_crit = _signal("db", CheckState.CRITICAL, 10)
    api = _signal("api", CheckState.CRITICAL, 1)
    web = _signal("web", CheckState.CRITICAL, 20)
    ops = [
        OpenSignal(api), OpenSignal(db_warn), OpenSignal(web), ClearSignal(web.dedup_key),
        OpenSignal(db_crit), MarkFlapping(db_crit.dedup_key, True), ClearSignal(api.dedup_key),
        OpenSignal(_signal("api", CheckState.WARNING, 30)),
    ]  # fmt: skip
    found = still_open(ops)
    assert [(s.service, s.severity.value) for s in found] == [
        ("db", "critical"),
        ("api", "warning"),
    ]
