"""An escalation tick over 10,000 open incidents of which about 1 % are due.

Run: ``.venv/bin/python tests/benchmarks/bench_escalation.py`` (not part of the test run; about
a minute, most of it filling the store). A real store is filled through the public API: 50
members in 5 teams, a one-year schedule with 3 layers, a policy per team (schedule, then a
round robin, then a team), 10,000 incidents opened (each with its policy snapshot) and their
first level started. Then ~1 % are asked to escalate now, which makes them due, and a tick is
timed as the engine pays it: ``due()`` read, the directory built, each due incident's timeline
folded and planned (recording the plan is timed apart). In the same run the baseline is the
bare ``SELECT id FROM incidents WHERE next_due_at <= ?``. Wall and CPU time are shown; exit 1
when the tick's median wall time is over the 50 ms target.

"Who is on call" on a one-year, 50-member, 3-layer schedule is timed by ``bench_oncall.py``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from console.core.clock import FakeClock, isoformat
from console.core.enums import Discipline, ImpactTier, MemberRole
from console.core.escalation import Level, Policy, Target, TargetKind
from console.core.escalator import escalate_now, plan
from console.core.models import Member, Membership, Service, Team
from console.core.schedules import Layer, Schedule, ShiftUnit
from console.core.signals import ManualReport
from console.core.silences import Weekday
from console.store import entities, escalations, incidents
from console.store.db import Store

TARGET_MS = 50.0
START = datetime(2026, 3, 2, 9, tzinfo=UTC)
TEAMS = 5


def _people() -> tuple[list[str], list[Team]]:
    emails = [f"member{i:02d}@example.com" for i in range(50)]
    teams = [
        Team(
            f"team{t}",
            f"Team {t}",
            Discipline.INFRASTRUCTURE,
            members=tuple(
                Membership(e, MemberRole.RESPONDER) for e in emails[t * 10 : t * 10 + 10]
            ),
        )
        for t in range(TEAMS)
    ]
    return emails, teams


def _schedule(emails: list[str]) -> Schedule:
    return Schedule(
        "year",
        "One year, three layers",
        "Europe/Berlin",
        (
            Layer("Primary", tuple(emails), 1, ShiftUnit.DAYS, date(2026, 1, 1), clock_time(9)),
            Layer(
                "Secondary",
                tuple(emails[::-1]),
                1,
                ShiftUnit.WEEKS,
                date(2026, 1, 1),
                clock_time(9),
                Weekday.MON,
            ),
            Layer(
                "Nights", tuple(emails[::2]), 12, ShiftUnit.HOURS, date(2026, 1, 1), clock_time(20)
            ),
        ),
    )


def _policy(team: int) -> Policy:
    return Policy(
        f"team{team}-default",
        f"Team {team}",
        (
            Level(timedelta(0), (Target(TargetKind.SCHEDULE, "year"),)),
            Level(timedelta(minutes=10), (Target(TargetKind.ROUND_ROBIN, f"team{team}"),)),
            Level(timedelta(minutes=15), (Target(TargetKind.TEAM, f"team{team}"),), urgent=True),
        ),
        repeat=2,
        teams=(f"team{team}",),
    )


def fill(store: Store, clock: FakeClock, count: int) -> None:
    """The estate, ``count`` open incidents, and their first level started."""
    emails, teams = _people()
    for email in emails:
        entities.save(store, Member(email, email[:8], "UTC", Discipline.INFRASTRUCTURE))
    for team in teams:
        entities.save(store, team)
        entities.save(store, Service(f"svc-{team.key}", team.name, team.key, ImpactTier.TIER_1))
    entities.save(store, _schedule(emails))
    for t in range(TEAMS):
        entities.save(store, _policy(t))
    batch = 1000
    for first in range(0, count, batch):
        reports = [
            ManualReport(f"Incident {n}", "bench", service=f"svc-team{n % TEAMS}")
            for n in range(first, min(count, first + batch))
        ]
        with store.transaction():
            for report in reports:
                incidents.create_manual(store, report)
        clock.advance(1)
    tick(store, record=True)  # level 0 of every incident: now nothing is due for 10 minutes


def tick(store: Store, *, record: bool) -> int:
    """One escalation tick; returns how many incidents were due."""
    now = store.clock.now()
    db = store.read()
    due = incidents.due(db, now)
    people = escalations.directory(db, now)
    plans = []
    for incident in due:
        found = plan(escalations.progress(db, incident.id), incident, people, now)
        people = people.advanced(found.turns)
        plans.append((incident.id, found))
    if record:
        with store.transaction() as tx:
            for incident_id, found in plans:
                escalations.apply_plan(store, incident_id, found, db=tx)
    return len(due)


def make_due(store: Store, share: float, rng: random.Random) -> int:
    """Ask ``share`` of the open incidents to escalate now (so they are due at once)."""
    db = store.read()
    ids = [str(r[0]) for r in db.execute("SELECT id FROM incidents WHERE state != 'resolved'")]
    chosen = rng.sample(ids, max(1, int(len(ids) * share)))
    now = store.clock.now()
    with store.transaction() as tx:
        for incident_id in chosen:
            incident = incidents.get(tx, incident_id)
            facts = escalate_now(escalations.progress(tx, incident_id), incident, "bench", at=now)
            escalations.record(store, incident_id, facts, db=tx)
    return len(chosen)


def timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of ``runs`` calls."""
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    return wall, cpu


def quantiles(values: list[float]) -> str:
    """p50 / p95 / max in ms."""
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered):7.2f}  p95 {p95:7.2f}  max {ordered[-1]:7.2f} ms"


def main(argv: list[str]) -> int:
    """Fill a store, make ~1 % due, time the tick against the bare query."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--due", type=float, default=0.01, help="share due (default 1 %%)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        clock = FakeClock(START)
        with Store.open(Path(folder) / "bench.db", clock) as store:
            began = time.perf_counter()
            fill(store, clock, args.incidents)
            clock.advance(60)
            due = make_due(store, args.due, rng)
            print(f"filled {args.incidents} incidents in {time.perf_counter() - began:.1f} s")
            db = store.read()
            now = isoformat(clock.now())

            def bare() -> None:
                db.execute("SELECT id FROM incidents WHERE next_due_at <= ?", [now]).fetchall()

            counted = tick(store, record=False)
            assert counted == due, f"{counted} due, expected {due}"
            base_wall, base_cpu = timed(bare, args.runs)
            tick_wall, tick_cpu = timed(lambda: tick(store, record=False), args.runs)
            rec_wall, rec_cpu = timed(lambda: tick(store, record=True), 1)
            assert tick(store, record=False) == 0, "recorded plans must leave nothing due"
    print(f"{due} of {args.incidents} open incidents due; {args.runs} runs each")
    print(f"{'bare SELECT of due ids':<32} wall {quantiles(base_wall)} | cpu {quantiles(base_cpu)}")
    print(
        f"{'tick: read + fold + plan':<32} wall {quantiles(tick_wall)} | cpu {quantiles(tick_cpu)}"
    )
    print(
        f"{'recording that tick (once)':<32} wall {rec_wall[0]:7.2f} ms | cpu {rec_cpu[0]:7.2f} ms"
    )
    median = statistics.median(tick_wall)
    verdict = "within" if median <= TARGET_MS else "OVER"
    print(f"tick median {median:.1f} ms: {verdict} the {TARGET_MS:.0f} ms target")
    return 0 if median <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
