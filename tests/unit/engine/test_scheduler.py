"""The scheduling rules, driven by hand-moved time: no sleeping."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from console.engine.scheduler import (
    RESUME_SPREAD_S,
    Job,
    Limits,
    Plan,
    backoff_interval,
    detect_jump,
)


def _plan(jobs: list[Job], limits: Limits | None = None, now: float = 0.0) -> Plan:
    plan = Plan(limits)
    plan.sync_jobs(jobs, now, random.Random(7))
    return plan


def test_jobs_start_spread_over_their_first_interval() -> None:
    jobs = [Job(f"e{i}", 30.0, "h") for i in range(200)]
    plan = _plan(jobs, now=100.0)
    dues = [e.due for e in plan.entries.values()]
    assert all(100.0 <= d <= 100.0 + RESUME_SPREAD_S for d in dues)
    # spread, not bunched: the 200 first runs fall into at least 8 different seconds
    assert len({int(d) for d in dues}) >= 8


def test_a_short_interval_spreads_within_that_interval() -> None:
    plan = _plan([Job(f"e{i}", 2.0, "h") for i in range(50)], now=0.0)
    assert max(e.due for e in plan.entries.values()) <= 2.0


def test_intervals_below_one_second_are_refused() -> None:
    with pytest.raises(ValueError, match="1 s or more"):
        Job("fast", 0.5, "h")


def test_global_and_per_host_caps() -> None:
    jobs = [Job(f"a{i}", 10.0, "a") for i in range(10)] + [Job("b0", 10.0, "b")]
    plan = _plan(jobs, Limits(global_cap=5, per_host_cap=3))
    started = plan.take_due(60.0)
    hosts = [j.host for j in started]
    # host a is capped at 3 and the busy host does not use up the global slots b needs
    assert hosts.count("a") == 3 and hosts.count("b") == 1
    assert plan.running_count() == 4
    more = plan.take_due(61.0)
    assert more == []


def test_most_overdue_first_when_capped() -> None:
    plan = _plan([Job(f"e{i}", 10.0, f"h{i}") for i in range(6)], Limits(global_cap=2))
    order = sorted(plan.entries.values(), key=lambda e: e.due)
    started = plan.take_due(100.0)
    assert [j.key for j in started] == [order[0].job.key, order[1].job.key]


def test_next_run_is_one_interval_after_the_start_and_never_a_burst() -> None:
    rng = random.Random(1)
    plan = _plan([Job("e", 10.0, "h")])
    (job,) = plan.take_due(20.0)
    plan.complete("e", ok=True, started=20.0, now=20.5, rng=rng)
    assert plan.entries["e"].due == pytest.approx(30.0)
    # a run that took far longer than the interval: the next is due now, once
    plan.take_due(30.0)
    plan.complete("e", ok=True, started=30.0, now=95.0, rng=rng)
    assert 95.0 < plan.entries["e"].due < 95.01
    started = plan.take_due(95.01)
    assert len(started) == 1


def test_an_hour_of_simulated_time_runs_each_job_on_its_interval() -> None:
    rng = random.Random(3)
    jobs = [Job(f"e{i}", 10.0, f"h{i % 3}", jitter_s=1.0) for i in range(30)]
    plan = _plan(jobs)
    runs: dict[str, list[float]] = {j.key: [] for j in jobs}
    now = 0.0
    while now < 3600.0:
        started = plan.take_due(now)
        for job in started:
            runs[job.key].append(now)
            plan.complete(job.key, ok=True, started=now, now=now + 0.2, rng=rng)
        now += 0.25
    for times in runs.values():
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert 350 <= len(times) <= 370
        assert min(gaps) >= 9.0 - 0.25 and max(gaps) <= 11.0 + 0.25


def test_failures_back_off_exponentially_up_to_the_ceiling() -> None:
    job = Job("e", 10.0, "h")
    limits = Limits(max_backoff_s=120.0)
    assert [backoff_interval(job, n, limits) for n in range(7)] == [
        10.0,
        10.0,
        20.0,
        40.0,
        80.0,
        120.0,
        120.0,
    ]
    rng = random.Random(0)
    plan = _plan([job], limits)
    for n in range(3):
        plan.take_due(1000.0 * (n + 1))
        plan.complete("e", ok=False, started=1000.0 * (n + 1), now=1000.0 * (n + 1), rng=rng)
    assert plan.entries["e"].failures == 3
    assert plan.entries["e"].due == pytest.approx(3000.0 + 40.0)
    plan.take_due(3040.0)
    plan.complete("e", ok=True, started=3040.0, now=3040.0, rng=rng)
    assert plan.entries["e"].failures == 0 and plan.entries["e"].due == pytest.approx(3050.0)


def test_a_job_removed_while_running_is_forgotten() -> None:
    plan = _plan([Job("e", 10.0, "h")])
    plan.take_due(50.0)
    plan.sync_jobs([], now=50.0, rng=random.Random(0))
    plan.complete("e", ok=True, started=50.0, now=51.0, rng=random.Random(0))
    assert plan.next_due() is None and plan.running_count() == 0 and not plan.entries


def test_a_changed_interval_takes_effect_without_waiting_out_the_old_one() -> None:
    plan = _plan([Job("e", 3600.0, "h")])
    plan.take_due(10.0)
    plan.complete("e", ok=True, started=10.0, now=10.0, rng=random.Random(0))
    assert plan.entries["e"].due == pytest.approx(3610.0)
    plan.sync_jobs([Job("e", 30.0, "h")], now=20.0, rng=random.Random(0))
    assert plan.entries["e"].due == pytest.approx(50.0)


def test_clock_jumps_are_detected_and_everything_resumes_spread_out() -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    # NTP-sized drift is no jump; a suspend (wall +2 h, monotonic +1 s) is
    assert detect_jump(t0, 100.0, t0 + timedelta(seconds=10.5), 110.0) is None
    jump = detect_jump(t0, 100.0, t0 + timedelta(hours=2), 101.0)
    assert jump is not None and jump.skew_s == pytest.approx(7199.0)
    back = detect_jump(t0, 100.0, t0 - timedelta(minutes=5), 101.0)
    assert back is not None and back.skew_s < 0

    jobs = [Job(f"e{i}", 60.0, "h") for i in range(100)]
    plan = _plan(jobs)
    plan.after_jump(now=500.0, rng=random.Random(2))
    dues = sorted(e.due for e in plan.entries.values())
    assert dues[0] >= 500.0 and dues[-1] <= 500.0 + RESUME_SPREAD_S
    assert len({round(d) for d in dues}) >= 8


def test_a_job_blocked_by_its_host_starts_when_a_slot_frees() -> None:
    plan = _plan([Job(f"a{i}", 10.0, "a") for i in range(3)], Limits(per_host_cap=2))
    first = plan.take_due(60.0)
    assert len(first) == 2 and plan.next_due() is not None
    plan.complete(first[0].key, ok=True, started=60.0, now=60.5, rng=random.Random(0))
    (third,) = plan.take_due(60.5)
    assert third.key not in {j.key for j in first}
    assert plan.running_count() == 2


def test_thousands_of_endpoints_keep_exact_accounting() -> None:
    rng = random.Random(5)
    jobs = [Job(f"e{i}", 10.0, f"h{i % 50}") for i in range(5000)]
    plan = _plan(jobs, Limits(global_cap=64, per_host_cap=4))
    now, runs = 0.0, 0
    while now < 120.0:
        for job in plan.take_due(now):
            runs += 1
            plan.complete(job.key, ok=runs % 7 != 0, started=now, now=now + 0.05, rng=rng)
        assert plan.running_count() == 0
        now += 0.1
    # about 12 runs each in 120 s, minus the first spread and the backoff of every 7th
    assert 5000 * 9 < runs < 5000 * 12.5
