"""Incident timeline events in words: the facts the rules record, read back as sentences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from console.core import incident_rules as rules
from console.core.enums import Priority, Severity
from console.core.events import Event, EventType, make_event
from console.core.incident_policy import opening, recurrence, severity_change
from console.core.incidents import Fact, Incident, ResolveReason, WakeReason, apply, subject
from console.core.routing import RouteBasis, RouteDecision
from console.core.signals import ManualReport, Signal, SignalSource
from console.core.timeline_text import duration_words, entry, sentence

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
ADA = "ada@example.com"
NAMES = {ADA: "Ada Lovelace", "infra": "Infrastructure", "db-team": "Databases"}


def _signal(**extra: object) -> Signal:
    fields: dict[str, object] = {
        "source": SignalSource.METRIC,
        "dedup_key": "metric:db/db-port/check",
        "title": "db: check is CRITICAL",
        "severity": Severity.CRITICAL,
        "started_at": T0 - MINUTE,
        "service": "db",
        **extra,
    }
    return Signal(**fields)  # type: ignore[arg-type]


def _opened(number: int = 7, sig: Signal | None = None, parent: Incident | None = None) -> Fact:
    return opening(
        sig or _signal(),
        incident_id=f"id-{number}",
        number=number,
        now=T0,
        route=RouteDecision("infra", RouteBasis.OWNER, "owner of service 'db'"),
        priority=(Priority.P2, "tier 2 x critical -> P2 (priority matrix)"),
        parent=parent,
    )


def _event(fact: Fact, actor: str = "engine@noc-1") -> Event:
    """A fact as the store would record it (the envelope's actor is the console's)."""
    return make_event(
        fact.type, subject(fact.incident), fact.payload, actor=actor, origin="c1", now=fact.at,
        event_time=fact.at,
    )  # fmt: skip


def _incident(*facts: Fact) -> Incident:
    found = apply(None, facts)
    assert found is not None
    return found


def test_an_opening_says_who_what_how_bad_and_for_whom() -> None:
    line = sentence(_event(_opened()), NAMES)
    assert line == (
        "2026-03-01 09:00 UTC: engine@noc-1 opened it from a confirmed metric state: "
        "“db: check is CRITICAL” (critical, P2), for team Infrastructure."
    )


def test_a_report_names_its_reporter_and_the_impact_they_see() -> None:
    report = ManualReport(
        "Nobody in Lyon can pay", "Service desk", impact="Every card payment fails  "
    )
    fact = _opened(sig=report.signal("r1", T0))
    found = entry(_event(fact, actor=ADA), NAMES)
    assert found.who == "Ada Lovelace"
    assert found.text.startswith("Ada Lovelace opened it from a report by Service desk: ")
    assert found.text.endswith("Impact as reported: Every card payment fails.")


def test_a_grouped_opening_names_its_parent() -> None:
    parent = _incident(_opened(number=3))
    text = entry(_event(_opened(number=8, parent=parent))).text
    assert "Grouped under INC-3: its notifications are held back." in text


def test_people_actions_read_with_their_names_and_notes() -> None:
    start = _incident(_opened())
    ack = rules.acknowledge(start, by=ADA, at=T0 + MINUTE, on_behalf_of="bob@example.com")
    assert sentence(_event(ack[0]), NAMES) == (
        "2026-03-01 09:01 UTC: Ada Lovelace acknowledged it on behalf of bob@example.com."
    )
    acked = _incident(_opened(), *ack)
    mitigated = rules.mitigate(acked, by=ADA, at=T0 + 5 * MINUTE, note="failed over to replica")
    assert entry(_event(mitigated[-1]), NAMES).text == (
        "Ada Lovelace mitigated it: the impact stopped; failed over to replica."
    )
    resolved = rules.resolve(acked, by=ADA, at=T0 + 9 * MINUTE, note="disk replaced")
    assert entry(_event(resolved[0])).text == "ada@example.com resolved it: disk replaced."


def test_a_triggered_incident_mitigated_reads_as_acknowledged_then_mitigated() -> None:
    facts = rules.mitigate(_incident(_opened()), by=ADA, at=T0 + MINUTE)
    texts = [entry(_event(f), NAMES).text for f in facts]
    assert texts == [
        "Ada Lovelace acknowledged it.",
        "Ada Lovelace mitigated it: the impact stopped.",
    ]


def test_who_is_the_payload_s_by_not_the_console_that_recorded_it() -> None:
    ack = rules.acknowledge(_incident(_opened()), by=ADA, at=T0)
    found = entry(_event(ack[0], actor="someone-else@example.com"), NAMES)
    assert found.who == "Ada Lovelace"


def test_automatic_resolution_and_an_expired_snooze_name_nobody() -> None:
    start = _incident(_opened())
    auto = rules.resolve(start, by="engine", at=T0, reason=ResolveReason.AUTO, note=None)
    assert entry(_event(auto[0])).text == "It resolved by itself: the signal recovered."
    snoozed = _incident(_opened(), *rules.snooze(start, by=ADA, at=T0, until=T0 + 60 * MINUTE))
    snooze_fact = rules.snooze(start, by=ADA, at=T0, until=T0 + 60 * MINUTE)[0]
    assert entry(_event(snooze_fact), NAMES).text == (
        "Ada Lovelace snoozed it until 2026-03-01 10:00 UTC."
    )
    expired = rules.wake(snoozed, by="engine", at=T0 + 60 * MINUTE, reason=WakeReason.EXPIRED)
    assert entry(_event(expired[0])).text == "Its snooze until 2026-03-01 10:00 UTC ran out."
    woken = rules.wake(snoozed, by=ADA, at=T0 + 2 * MINUTE)
    assert entry(_event(woken[0]), NAMES).text == (
        "Ada Lovelace ended its snooze (it was snoozed until 2026-03-01 10:00 UTC)."
    )


def test_reassignment_priority_and_severity_say_before_and_after() -> None:
    start = _incident(_opened())
    moved = rules.reassign(
        start, by=ADA, at=T0, to_team="db-team", reason="the replica is theirs",
        teams={"infra", "db-team"},
    )  # fmt: skip
    assert entry(_event(moved[0]), NAMES).text == (
        "Ada Lovelace reassigned it from team Infrastructure to team Databases: "
        "the replica is theirs."
    )
    raised = rules.override_priority(start, by=ADA, at=T0, to=Priority.P1, reason="revenue")
    assert entry(_event(raised[0]), NAMES).text == (
        "Ada Lovelace set its priority from P2 to P1 by hand: revenue "
        "(the priority matrix said: tier 2 x critical -> P2 (priority matrix))."
    )
    worse = severity_change(
        start, Severity.WARNING, at=T0, priority=(Priority.P3, "tier 2 x warning -> P3")
    )
    assert worse is not None
    assert entry(_event(worse)).text == (
        "Its severity went from critical to warning, and its priority from P2 to P3."
    )


def test_merging_names_both_incidents_by_number() -> None:
    source, target = _incident(_opened(7)), _incident(_opened(9))
    facts = rules.merge(source, target, by=ADA, at=T0)
    by_type = {f.type: entry(_event(f), NAMES).text for f in facts}
    assert by_type[EventType.INCIDENT_MERGED] == "Ada Lovelace merged it into INC-9."
    assert by_type[EventType.INCIDENT_ABSORBED] == "Ada Lovelace merged INC-7 into it."
    assert by_type[EventType.INCIDENT_RESOLVED] == (
        "Ada Lovelace resolved it by merging it: merged into INC-9."
    )


def test_grouping_without_a_number_falls_back_to_the_names_given() -> None:
    child, parent = _incident(_opened(4)), _incident(_opened(2))
    grouped = rules.group(child, parent, by=ADA, at=T0, parent_of={})
    assert entry(_event(grouped[0]), NAMES).text == "Ada Lovelace grouped it under INC-2."
    moved = Fact(
        child.id,
        EventType.INCIDENT_GROUPED,
        {"by": ADA, "parent": "id-9", "before": "id-2", "reason": "merged"},
        T0,
    )
    assert entry(_event(moved), {**NAMES, "id-9": "INC-9"}).text == (
        "Ada Lovelace grouped it under INC-9, because the incident it was grouped under was merged."
    )
    ungrouped = rules.group(_incident(_opened(4, parent=parent)), None, by=ADA, at=T0, parent_of={})
    assert "took it out of its group" in entry(_event(ungrouped[0])).text


def test_recurrence_and_flapping_read_as_facts_about_the_signal() -> None:
    start = _incident(_opened())
    again = recurrence(start, _signal(), now=T0 + 30 * MINUTE)
    assert entry(_event(again)).text == (
        "It recurred after a quiet period (quiet since 2026-03-01 09:00 UTC; seen 2 times)."
    )
    flaps = rules.set_flapping(start, at=T0, flapping=True)
    assert entry(_event(flaps[0])).text.startswith("Its signal started flapping")


def test_an_event_type_not_known_here_still_reads_as_a_sentence() -> None:
    later = make_event(EventType.ROUTING_SET, "incident:id-7", {}, actor=ADA, origin="c1", now=T0)
    assert entry(later, NAMES).text == "Ada Lovelace recorded: routing set."


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (timedelta(seconds=0), "0 s"),
        (timedelta(seconds=59), "59 s"),
        (timedelta(minutes=12, seconds=40), "12 min"),
        (timedelta(hours=1), "1 h"),
        (timedelta(hours=3, minutes=5), "3 h 5 min"),
        (timedelta(days=2), "2 d"),
        (timedelta(days=2, hours=4, minutes=59), "2 d 4 h"),
        (timedelta(minutes=-5), "5 min"),
    ],
)
def test_durations_in_words(value: timedelta, words: str) -> None:
    assert duration_words(value) == words
