"""The ``escalation_policies`` section: reading, errors at file:line:col, export, the demo."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from console.config.demo import demo_estate
from console.config.emitter import dump
from console.config.errors import ConfigError
from console.config.escalation_schema import duration_text, parse_duration
from console.config.loader import load_text
from console.core.clock import FakeClock
from console.core.escalation import Level, Policy, Target, TargetKind, policy_for
from console.core.escalation_rules import escalation_warnings
from console.store import estate as stored
from console.store.db import Store
from console.store.entities import import_estate

HEAD = """version: 1
members:
  - {email: ana@example.com, name: Ana, timezone: UTC, discipline: infrastructure}
  - {email: bob@example.com, name: Bob, timezone: UTC, discipline: infrastructure}
teams:
  - id: payments
    name: Payments
    discipline: development
    members: [{email: ana@example.com, role: lead}, {email: bob@example.com, role: responder}]
  - id: sre
    name: SRE
    discipline: infrastructure
    members: [{email: bob@example.com, role: responder}]
services:
  - {id: payments-api, name: Payments API, team: payments, tier: 1}
schedules:
  - id: payments-primary
    name: Payments primary
    timezone: Europe/Berlin
    layers:
      - {name: Day, members: [ana@example.com, bob@example.com], shift: 1 week, start: 2026-01-05}
"""
GOOD = (
    HEAD
    + """escalation_policies:
  - id: payments-default
    name: Payments default
    services: [payments-api]
    repeat: 2
    ack_timeout: 30 min
    levels:
      - delay: 0 min
        targets: [{schedule: payments-primary}]
      - delay: 10 min
        urgent: true
        targets: [{member: ana@example.com}, {team: payments}, {round_robin: sre}]
      - delay: 1 h 30 min
        targets:
          - {round_robin: dba, members: [bob@example.com, ana@example.com]}
"""
)
EXPECTED = Policy(
    "payments-default",
    "Payments default",
    (
        Level(timedelta(0), (Target(TargetKind.SCHEDULE, "payments-primary"),)),
        Level(
            timedelta(minutes=10),
            (
                Target(TargetKind.MEMBER, "ana@example.com"),
                Target(TargetKind.TEAM, "payments"),
                Target(TargetKind.ROUND_ROBIN, "sre"),
            ),
            urgent=True,
        ),
        Level(
            timedelta(minutes=90),
            (Target(TargetKind.ROUND_ROBIN, "dba", ("bob@example.com", "ana@example.com")),),
        ),
    ),
    repeat=2,
    ack_timeout=timedelta(minutes=30),
    services=("payments-api",),
)


def test_a_valid_file_reads_into_policies() -> None:
    assert load_text(GOOD, "good.yaml").escalation_policies == (EXPECTED,)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30 s", 30), ("5 min", 300), ("1 h", 3600), ("1h30m", 5400), ("2 days", 172800)],
)
def test_durations_read_in_words_and_write_back_exactly(text: str, seconds: int) -> None:
    found = parse_duration(text)
    assert found == timedelta(seconds=seconds)
    assert parse_duration(duration_text(found)) == found


def test_durations_that_are_not_are_refused() -> None:
    assert [parse_duration(t) for t in ("5", "five min", "5 fortnights", "5 min later")] == [
        None
    ] * 4


BAD = (
    HEAD
    + """escalation_policies:
  - id: payments-default
    name: Payments default
    services: [payments-api, nowhere]
    repeat: 12
    ack_timeout: 0 min
    levels:
      - delay: soon
        targets: [{schedule: payments-primary}]
      - delay: -5 min
        targets: []
      - delay: 5 min
        targets: [{member: eve@example.com}, {team: payments, schedule: x}, {group: x}]
  - id: payments-default
    name: Again
    services: [payments-api]
    levels: []
"""
)


def test_every_problem_is_reported_at_its_line_and_column() -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(BAD, "bad.yaml")
    got = {(p.line, p.column, p.path) for p in caught.value.problems}
    messages = {p.path: p.message for p in caught.value.problems}
    assert got == {
        (25, 30, "escalation_policies[0].services[1]"),
        (26, 13, "escalation_policies[0].repeat"),
        (27, 18, "escalation_policies[0].ack_timeout"),
        (29, 16, "escalation_policies[0].levels[0].delay"),
        (31, 16, "escalation_policies[0].levels[1].delay"),
        (32, 18, "escalation_policies[0].levels[1].targets"),
        (34, 19, "escalation_policies[0].levels[2].targets[0]"),
        (34, 46, "escalation_policies[0].levels[2].targets[1]"),
        (34, 77, "escalation_policies[0].levels[2].targets[2]"),
        (34, 78, "escalation_policies[0].levels[2].targets[2].group"),
        (35, 9, "escalation_policies[1].id"),
        (38, 13, "escalation_policies[1].levels"),
    }
    assert messages["escalation_policies[0].levels[0].delay"] == (
        "expected a duration like '30 s', '5 min' or '1 h', got 'soon'"
    )
    assert (
        "exactly one of member, team, schedule, round_robin"
        in (messages["escalation_policies[0].levels[2].targets[1]"])
    )
    assert messages["escalation_policies[0].levels[2].targets[0]"] == (
        "unknown member 'eve@example.com'"
    )
    assert messages["escalation_policies[1].id"].startswith("duplicate id 'payments-default'")


def test_export_import_export_through_the_store_is_byte_identical(tmp_path: Path) -> None:
    first = dump(load_text(GOOD, "good.yaml"))
    assert "ack_timeout: 30 min" in first and "delay: 90 min" in first
    assert load_text(first, "again.yaml").escalation_policies == (EXPECTED,)
    with Store.open(tmp_path / "s.db", FakeClock()) as store:
        import_estate(store, load_text(first, "first.yaml"), prune=False, source="first.yaml")
        assert stored.load(store.read()).escalation_policies == (EXPECTED,)
        assert dump(stored.load(store.read())) == first
        again = import_estate(store, load_text(first), prune=True, source="x", dry_run=True)
        assert [c for c in again if c.kind.value == "escalation_policy"] == []


def test_the_demo_escalates_every_tier_one_service_and_no_level_can_come_up_empty() -> None:
    estate = demo_estate()
    assert estate.escalation_policies, "the demo needs escalation policies"
    kinds = {t.kind for p in estate.escalation_policies for lv in p.levels for t in lv.targets}
    assert kinds == set(TargetKind)
    for service in estate.services:
        if service.tier == 1:
            found = policy_for(estate.escalation_policies, service.key, service.team)
            assert found is not None, f"{service.key} has no escalation policy"
    assert escalation_warnings(estate) == []
    assert any(p.ack_timeout is not None for p in estate.escalation_policies)
