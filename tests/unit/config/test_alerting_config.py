"""The `alerting:` and `silences:` sections: records, canonical export, import, every problem."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from console.config.demo import demo_estate
from console.config.emitter import dump
from console.config.errors import ConfigError, ConfigProblem
from console.config.loader import load_text
from console.config.matchers import format_matcher, parse_matcher
from console.core.alerting_config import AlertingConfig
from console.core.clock import FakeClock
from console.core.diff import Setting
from console.core.enums import EntityKind, ImpactTier, Severity
from console.core.incident_policy import IncidentSettings
from console.core.routing import Matcher, MatchOp, Route, RoutingTable
from console.core.signals import SignalSource
from console.core.silences import OneOffWindow, Silence, Weekday, WeeklyWindow
from console.store import alerting as stored_alerting
from console.store import entities
from console.store.db import Store
from console.store.errors import StoreConflict

README = Path(__file__).parents[3] / "README.md"
# Seven lines: the section under test starts on line 8.
BASE = """\
version: 1
teams:
  - {id: noc, name: NOC, discipline: infrastructure}
  - {id: sirt, name: SIRT, discipline: security}
services:
  - {id: reports, name: Reports, team: noc, tier: 3}
  - {id: api, name: API, team: noc, tier: 1}
"""

EXAMPLE = """\
alerting:
  routes:                         # tried in order; the first match wins
    - name: security alerts       # optional
      team: sirt
      matchers: [team=security]
    - team: noc
      matchers: ['service=~pay.*', 'severity!=info']
    - team: noc                   # no matchers: every alert (a catch-all)
  default_team: noc               # what no route matches (after the service's owner)
  incidents:
    quiet_period: 600             # seconds; default 900
    reopen_within: 300            # seconds; default 0
    unknown_severity: critical    # a confirmed UNKNOWN check; default warning
    unknown_alert_severity: info  # an alert's missing or unknown severity; default warning
    default_tier: 2               # for a signal whose service is unknown; default 3
    auto_resolve:                 # recovery resolves the incident: per source...
      alert: false                # (defaults: metric true, alert true, manual false)
      services: {reports: false}  # ...and per service
silences:
  - id: reports-weekly-reindex
    reason: Weekly reindex
    created_by: ana@example.com
    services: [reports]
    weekly: {days: [sat, sun], start: "02:00", end: "04:00", zone: Europe/Berlin}
  - id: api-migration
    matchers: ['alertname=~Disk.*|Replication.*']
    services: [api, reports]
    once: {starts: 2026-12-05T22:00:00+01:00, ends: 2026-12-06T02:00:00+01:00}
"""


def load(body: str) -> tuple[AlertingConfig | None, tuple[Silence, ...]]:
    estate = load_text(BASE + body, "test.yaml")
    return estate.alerting, estate.silences


def problems_in(body: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        load_text(BASE + body, "test.yaml")
    return caught.value.problems


def where(problems: list[ConfigProblem]) -> list[tuple[int, int, str]]:
    return [(p.line, p.column, p.path) for p in problems]


def at(body: str, token: str, path: str, *, shift: int = 0, nth: int = 0) -> tuple[int, int, str]:
    """Where the ``nth`` ``token`` is in the document (plus ``shift`` characters), and a path."""
    lines = (BASE + body).splitlines()
    hits = [
        (number, found.start())
        for number, line in enumerate(lines, start=1)
        for found in re.finditer(re.escape(token), line)
    ]
    line, index = hits[nth]
    return line, index + 1 + shift, path


def silence(*lines: str, key: str = "s") -> str:
    """A ``silences`` section with one silence of the given lines (already indented)."""
    return f"silences:\n  - id: {key}\n" + "".join(f"    {line}\n" for line in lines)


ONCE = "once: {starts: '2026-12-05T22:00:00Z', ends: '2026-12-05T23:00:00Z'}"


# ---- reading ---------------------------------------------------------------------------------


def test_the_documented_example_reads_into_typed_records() -> None:
    assert EXAMPLE in README.read_text(encoding="utf-8")
    config, silences = load(EXAMPLE)
    security = Route("sirt", (Matcher("team", MatchOp.EQUAL, "security"),), "security alerts")
    payments = Route(
        "noc",
        (
            Matcher("service", MatchOp.REGEX, "pay.*"),
            Matcher("severity", MatchOp.NOT_EQUAL, "info"),
        ),
    )
    assert config == AlertingConfig(
        RoutingTable((security, payments, Route("noc")), default_team="noc"),
        IncidentSettings(
            quiet_period=timedelta(minutes=10),
            reopen_within=timedelta(minutes=5),
            unknown_severity=Severity.CRITICAL,
            unknown_label_severity=Severity.INFO,
            default_tier=ImpactTier.TIER_2,
            auto_resolve={
                SignalSource.METRIC: True,
                SignalSource.ALERT: False,
                SignalSource.MANUAL: False,
            },
            auto_resolve_services={"reports": False},
        ),
    )
    berlin = datetime(2026, 12, 5, 21, tzinfo=UTC)
    assert silences == (
        Silence(
            "reports-weekly-reindex",
            (Matcher("service", MatchOp.EQUAL, "reports"),),
            WeeklyWindow((Weekday.SAT, Weekday.SUN), time(2), time(4), "Europe/Berlin"),
            "Weekly reindex",
            "ana@example.com",
        ),
        Silence(
            "api-migration",
            (
                Matcher("service", MatchOp.REGEX, "api|reports"),
                Matcher("alertname", MatchOp.REGEX, "Disk.*|Replication.*"),
            ),
            OneOffWindow(berlin, berlin + timedelta(hours=4)),
        ),
    )
    # What the services shorthand stands for: either service, and only during the window.
    api_disk = {"service": "api", "alertname": "DiskFull"}
    assert silences[1].silences(api_disk, berlin + timedelta(hours=1))
    assert not silences[1].silences({**api_disk, "service": "web"}, berlin + timedelta(hours=1))
    assert not silences[1].silences(api_disk, berlin + timedelta(hours=4))


def test_leaving_the_section_out_declares_nothing_and_an_empty_one_the_defaults() -> None:
    assert load("") == (None, ())
    assert load("alerting:\n") == (None, ())
    assert load("alerting: {}\n") == (AlertingConfig(), ())


def test_an_unquoted_time_of_day_that_yaml_reads_as_a_number_is_taken_as_written() -> None:
    # YAML 1.1 reads 12:30 as 750 (base 60); the window still means half past twelve.
    _, (read,) = load(
        silence("services: [api]", "weekly: {days: [mon], start: 12:30, end: 13:45, zone: UTC}")
    )
    assert read.window == WeeklyWindow((Weekday.MON,), time(12, 30), time(13, 45), "UTC")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("severity=critical", Matcher("severity", MatchOp.EQUAL, "critical")),
        ("env != test", Matcher("env", MatchOp.NOT_EQUAL, "test")),
        ('service=~"pay.*"', Matcher("service", MatchOp.REGEX, "pay.*")),
        ("alertname!~Test.*", Matcher("alertname", MatchOp.NOT_REGEX, "Test.*")),
        ('team=""', Matcher("team", MatchOp.EQUAL, "")),
        ("a='~x'", Matcher("a", MatchOp.EQUAL, "~x")),
        ("a==x", Matcher("a", MatchOp.EQUAL, "=x")),
    ],
)
def test_matcher_text_reads_and_writes_back_to_the_same_matcher(
    text: str, expected: Matcher
) -> None:
    assert parse_matcher(text) == expected
    assert parse_matcher(format_matcher(expected)) == expected


@pytest.mark.parametrize("value", ["", " padded ", "~tilde", '"quoted"', "'single'", "a b", '"'])
def test_values_that_need_quotes_get_them_and_survive(value: str) -> None:
    for op in MatchOp:
        matcher = Matcher("label", op, value)
        assert parse_matcher(format_matcher(matcher)) == matcher, (op, value)


# ---- canonical export and the store ----------------------------------------------------------


def _store_export(path: Path, body: str) -> str:
    with Store.open(path, FakeClock()) as store:
        entities.import_estate(store, load_text(body), prune=False, source="test")
        return dump(entities.configured(store.read()))


def test_export_is_canonical_and_survives_the_store_byte_for_byte(tmp_path: Path) -> None:
    first = _store_export(tmp_path / "a.db", BASE + EXAMPLE)
    assert _store_export(tmp_path / "b.db", first) == first
    section = first[first.index("alerting:") :]
    assert section.startswith(
        "alerting:\n"
        "  routes:\n"
        "    - name: security alerts\n"
        "      team: sirt\n"
        "      matchers:\n"
        "        - team=security\n"
        "    - team: noc\n"
        "      matchers:\n"
        "        - service=~pay.*\n"
        "        - severity!=info\n"
        "    - team: noc\n"
        "  default_team: noc\n"
        "  incidents:\n"
        "    quiet_period: 600\n"
        "    reopen_within: 300\n"
        "    unknown_severity: critical\n"
        "    unknown_alert_severity: info\n"
        "    default_tier: 2\n"
        "    auto_resolve:\n"
        "      alert: false\n"
        "      services:\n"
        "        reports: false\n"
        "silences:\n"
        "  - id: api-migration\n"  # sorted by id; the services come back as services
        "    services:\n"
        "      - api\n"
        "      - reports\n"
        "    matchers:\n"
        "      - alertname=~Disk.*|Replication.*\n"
        "    once:\n"
        "      starts: '2026-12-05T21:00:00Z'\n"
        "      ends: '2026-12-06T01:00:00Z'\n"
        "  - id: reports-weekly-reindex\n"
    )


def test_defaults_are_left_out_and_a_service_matcher_for_an_unknown_service_stays_a_matcher(
    tmp_path: Path,
) -> None:
    body = "alerting:\n  incidents: {quiet_period: 900, auto_resolve: {metric: true}}\n"
    body += silence("matchers: [service=elsewhere, 'x=\" y \"']", ONCE)
    first = _store_export(tmp_path / "a.db", BASE + body)
    assert "alerting" not in first  # every setting at its default
    assert '    matchers:\n      - service=elsewhere\n      - x=" y "\n' in first
    assert _store_export(tmp_path / "b.db", first) == first


def test_the_demo_round_trip_keeps_its_routes_and_maintenance_window(tmp_path: Path) -> None:
    demo = demo_estate()
    assert demo.alerting is not None
    routing = demo.alerting.routing
    assert routing.default_team == "noc"
    assert routing.first_match({"team": "security"}) == (0, routing.routes[0])
    assert routing.routes[0].team == "sirt"
    tiers = {s.key: s.tier for s in demo.services}
    (window,) = [s for s in demo.silences if isinstance(s.window, WeeklyWindow)]
    (service,) = [m.value for m in window.matchers if m.name == "service"]
    assert tiers[service] is ImpactTier.TIER_3
    with Store.open(tmp_path / "demo.db", FakeClock()) as store:
        entities.import_estate(store, demo, prune=False, source="demo")
        assert stored_alerting.routing(store.read()) == routing
        assert stored_alerting.silences(store.read()) == demo.silences


# ---- import: dry run and prune ---------------------------------------------------------------


def _changes(found: list[entities.Change]) -> list[tuple[str, str, str]]:
    return [(c.verb, c.kind.value, c.key) for c in found]


def test_dry_run_lists_the_changes_and_writes_nothing(tmp_path: Path) -> None:
    declared = load_text(BASE + EXAMPLE)
    with Store.open(tmp_path / "s.db", FakeClock()) as store:
        planned = entities.import_estate(store, declared, prune=False, source="x", dry_run=True)
        assert _changes(planned)[-4:] == [
            ("create", "silence", "reports-weekly-reindex"),
            ("create", "silence", "api-migration"),
            ("update", "routing", "inbound"),
            ("update", "incident_settings", "incidents"),
        ]
        assert stored_alerting.routing(store.read()) == RoutingTable()
        assert stored_alerting.settings(store.read()) == IncidentSettings()
        assert stored_alerting.silences(store.read()) == ()
        assert entities.import_estate(store, declared, prune=False, source="x") == planned
        assert declared.alerting is not None
        assert stored_alerting.settings(store.read()) == declared.alerting.settings
        assert entities.import_estate(store, declared, prune=True, source="x") == []


def test_without_the_sections_an_import_keeps_them_and_prune_resets_them(tmp_path: Path) -> None:
    declared = load_text(BASE + EXAMPLE)
    bare = replace(declared, alerting=None, silences=())
    with Store.open(tmp_path / "s.db", FakeClock()) as store:
        entities.import_estate(store, declared, prune=False, source="x")
        assert entities.import_estate(store, bare, prune=False, source="x") == []
        planned = entities.import_estate(store, bare, prune=True, source="x", dry_run=True)
        assert _changes(planned) == [
            ("update", "routing", "inbound"),
            ("update", "incident_settings", "incidents"),
            ("delete", "silence", "reports-weekly-reindex"),
            ("delete", "silence", "api-migration"),
        ]
        assert planned[0].kind is Setting.ROUTING and planned[2].kind is EntityKind.SILENCE
        assert stored_alerting.silences(store.read()) != ()
        entities.import_estate(store, bare, prune=True, source="x")
        assert stored_alerting.routing(store.read()) == RoutingTable()
        assert stored_alerting.settings(store.read()) == IncidentSettings()
        assert stored_alerting.silences(store.read()) == ()


def test_a_team_a_route_sends_to_cannot_be_deleted(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db", FakeClock()) as store:
        entities.import_estate(store, load_text(BASE + EXAMPLE), prune=False, source="x")
        with pytest.raises(StoreConflict, match="alert route 1"):
            entities.delete(store, EntityKind.TEAM, "sirt")
        with pytest.raises(StoreConflict, match=r"incident settings \(auto-resolve\)"):
            entities.delete(store, EntityKind.SERVICE, "reports")


# ---- problems, each at its place -------------------------------------------------------------


def test_unknown_fields_are_named_with_a_suggestion_at_every_level() -> None:
    body = (
        "alerting:\n"
        "  routes:\n"
        "    - {tem: noc}\n"
        "  default_tem: noc\n"
        "  incidents: {quiet_perod: 60, auto_resolve: {alrt: false}}\n"
        "silence: []\n"
    )
    problems = problems_in(body)
    assert where(problems) == [
        at(body, "{tem", "alerting.routes[0]"),
        at(body, "tem:", "alerting.routes[0].tem"),
        at(body, "default_tem", "alerting.default_tem"),
        at(body, "quiet_perod", "alerting.incidents.quiet_perod"),
        at(body, "alrt", "alerting.incidents.auto_resolve.alrt"),
        at(body, "silence:", "silence"),
    ]
    messages = [p.message for p in problems]
    assert messages[0] == "missing required field 'team' in a route"
    assert messages[1].endswith("allowed: team, name, matchers; did you mean 'team'?")
    assert messages[2].endswith("did you mean 'default_team'?")
    assert messages[3].endswith("did you mean 'quiet_period'?")
    assert messages[4] == (
        "unknown field 'alrt' in auto-resolve; allowed: metric, alert, manual, services; "
        "did you mean 'alert'?"
    )
    assert messages[5].endswith("did you mean 'silences'?")


def test_an_invalid_regular_expression_is_named_at_the_character_it_fails_on() -> None:
    body = (
        "alerting:\n"
        "  routes:\n"
        "    - team: noc\n"
        "      matchers: [service=~pay.(*, 'severity =~ \"crit[\"', ok=1, nooperator]\n"
        "    - team: sirt\n"
        "      matchers:\n"
        "        - |-\n"
        "          a=~(\n"
    )
    problems = problems_in(body)
    assert where(problems) == [
        at(body, "pay.(*", "alerting.routes[0].matchers[0]", shift=5),  # the '*'
        at(body, "crit[", "alerting.routes[0].matchers[1]", shift=4),  # the '['
        at(body, "nooperator", "alerting.routes[0].matchers[3]"),
        # On several lines only the scalar's own place is known.
        at(body, "|-", "alerting.routes[1].matchers[0]"),
    ]
    assert problems[0].message == (
        "invalid regular expression 'pay.(*': nothing to repeat at character 6"
    )
    assert problems[1].message == (
        "invalid regular expression 'crit[': unterminated character set at character 5"
    )
    assert problems[2].message == (
        "expected LABEL=VALUE, LABEL!=VALUE, LABEL=~REGEX or LABEL!~REGEX, got 'nooperator'"
    )


def test_unknown_teams_and_services_are_reported_where_they_are_named() -> None:
    body = (
        "alerting:\n"
        "  routes:\n"
        "    - {team: secops, matchers: [team=security]}\n"
        "  default_team: nco\n"
        "  incidents:\n"
        "    auto_resolve: {services: {reprts: false}}\n"
    ) + silence("services: [api, reprts, api]", ONCE)
    problems = problems_in(body)
    assert where(problems) == [
        at(body, "secops", "alerting.routes[0].team"),
        at(body, "nco", "alerting.default_team"),
        at(body, "reprts", "alerting.incidents.auto_resolve.services.reprts"),
        at(body, "reprts", "silences[0].services[1]", nth=1),
        at(body, "api]", "silences[0].services[2]"),
    ]
    assert [p.message for p in problems] == [
        "unknown team 'secops'",
        "unknown team 'nco'",
        "unknown service 'reprts'; did you mean 'reports'?",
        "unknown service 'reprts'; did you mean 'reports'?",
        "service 'api' is listed twice",
    ]


def test_windows_with_an_unknown_zone_bad_days_and_times_are_refused() -> None:
    body = silence(
        "services: [api]",
        "weekly: {days: [saturday, sun, sun], start: '25:00', end: 4, zone: Europe/Berln}",
    )
    problems = problems_in(body)
    assert where(problems) == [
        at(body, "saturday", "silences[0].weekly.days[0]"),
        at(body, "sun", "silences[0].weekly.days[2]", nth=1),
        at(body, "'25:00'", "silences[0].weekly.start"),
        at(body, "4,", "silences[0].weekly.end"),
        at(body, "Europe/Berln", "silences[0].weekly.zone"),
    ]
    assert [p.message for p in problems] == [
        "invalid day 'saturday'; allowed: mon, tue, wed, thu, fri, sat, sun; did you mean 'sat'?",
        "'sun' is listed twice",
        "expected a time of day HH:MM (00:00 to 23:59), such as \"02:00\", got '25:00'",
        "expected a time of day HH:MM (00:00 to 23:59), such as \"02:00\", got '4'",
        "unknown time zone 'Europe/Berln'; expected an IANA name such as Europe/Berlin; "
        "did you mean 'Europe/Berlin'?",
    ]
    body = silence("services: [api]", "weekly: {days: [], start: '1:00', end: '02:00', zone: UTC}")
    empty = problems_in(body)
    assert where(empty) == [
        at(body, "[]", "silences[0].weekly.days"),
        at(body, "'1:00'", "silences[0].weekly.start"),
    ]
    assert empty[0].message == "name at least one day (mon, tue, wed, thu, fri, sat, sun)"


def test_a_window_that_ends_before_it_starts_or_names_no_instant_is_refused() -> None:
    body = silence(
        "services: [api]",
        "once: {starts: 2026-12-05T22:00:00+01:00, ends: 2026-12-05T20:00:00Z}",
        key="a",
    ) + (
        "  - id: b\n"
        "    services: [api]\n"
        "    once: {starts: 2026-12-05T22:00:00, ends: 2026-12-05}\n"
        "  - id: c\n"
        "    services: [api]\n"
        "    once: {starts: 'soon', ends: 2026-12-05T22:00:00Z}\n"
        "  - id: d\n"
        "    services: [api]\n"
        "    once: {starts: 2026-12-05T22:00:00Z, ends: 2026-12-05T22:00:00Z}\n"
    )
    problems = problems_in(body)
    assert where(problems) == [
        at(body, "2026-12-05T20:00:00Z", "silences[0].once.ends"),
        at(body, "2026-12-05T22:00:00,", "silences[1].once.starts"),
        at(body, "2026-12-05}", "silences[1].once.ends"),
        at(body, "'soon'", "silences[2].once.starts"),
        at(body, "2026-12-05T22:00:00Z}", "silences[3].once.ends", nth=1),
    ]
    assert problems[0].message == (
        "the window ends (2026-12-05T20:00:00Z) before it starts (2026-12-05T22:00:00+01:00); "
        "it must end after it starts"
    )
    assert problems[1].message == (
        "'2026-12-05T22:00:00' has no UTC offset; add one (Z, +01:00) to name one instant"
    )
    assert problems[3].message == (
        "expected an RFC 3339 time with a UTC offset, such as 2026-12-05T22:00:00+01:00, got 'soon'"
    )
    assert "ends (2026-12-05T22:00:00Z) when it starts" in problems[4].message


def test_a_silence_needs_one_window_and_something_to_match() -> None:
    weekly = "weekly: {days: [sun], start: '01:00', end: '02:00', zone: UTC}"
    body = (
        silence("reason: nothing to match", ONCE, key="a")
        + silence("services: [api]", key="b").removeprefix("silences:\n")
        + silence("services: [api]", ONCE, weekly, key="c").removeprefix("silences:\n")
    )
    problems = problems_in(body)
    assert where(problems) == [
        at(body, "- id: a", "silences[0]", shift=2),
        at(body, "- id: b", "silences[1]", shift=2),
        at(body, "- id: c", "silences[2]", shift=2),
    ]
    assert problems[0].message.startswith("a silence needs services or matchers")
    assert problems[1].message == (
        "a silence needs exactly one window, once {starts, ends} or weekly "
        "{days, start, end, zone}; found none"
    )
    assert problems[2].message.endswith("found once and weekly")


def test_duplicates_and_routes_that_can_never_match_are_refused() -> None:
    weekly = "weekly: {days: [sun], start: '01:00', end: '02:00', zone: UTC}"
    body = (
        "alerting:\n"
        "  routes:\n"
        "    - {team: sirt, matchers: [team=security]}\n"
        "    - {team: noc, matchers: [severity=critical, team=security]}\n"  # shadowed
        "    - {team: noc}\n"  # every alert
        "    - {team: sirt, matchers: [severity=info]}\n"  # after the catch-all
        "  default_team: noc\n"
        "  default_team: sirt\n"  # a duplicate key
        + silence("services: [api]", ONCE, key="same")
        + silence("services: [reports]", ONCE, key="same").removeprefix("silences:\n")
        + silence("matchers: [service=api]", ONCE, key="twin").removeprefix("silences:\n")
        + silence("services: [reports]", weekly, key="Not_A_Slug").removeprefix("silences:\n")
    )
    problems = problems_in(body)
    assert where(problems) == [
        at(body, "{team: noc, matchers", "alerting.routes[1]"),
        at(body, "{team: sirt, matchers: [severity", "alerting.routes[3]"),
        at(body, "default_team", "alerting.default_team", nth=1),
        at(body, "same", "silences[1].id", nth=1),
        at(body, "id: twin", "silences[2]"),
        at(body, "Not_A_Slug", "silences[3].id"),
    ]
    messages = [p.message for p in problems]
    assert messages[0] == (
        "this route can never match: route 1 before it has a subset of its matchers, and the "
        "first match wins; remove it or move it above"
    )
    assert messages[1].startswith("this route can never match: route 3 before it matches every")
    first = at(body, "default_team", "")[0]
    assert messages[2].startswith(f"duplicate key 'default_team' (first at line {first})")
    assert messages[3] == "duplicate id 'same' (also silences[0])"
    assert messages[4] == "the same matchers and window as silences[0] ('same'); keep one"
    assert messages[5].startswith("expected a slug")


def test_incident_settings_are_checked_for_type_range_and_allowed_values() -> None:
    body = (
        "alerting:\n"
        "  incidents:\n"
        "    quiet_period: -5\n"
        "    reopen_within: '60'\n"
        "    unknown_severity: critcal\n"
        "    default_tier: 7\n"
        "    auto_resolve: {metric: 'yes', services: [reports]}\n"
    )
    problems = problems_in(body)
    assert where(problems) == [
        at(body, "-5", "alerting.incidents.quiet_period"),
        at(body, "'60'", "alerting.incidents.reopen_within"),
        at(body, "critcal", "alerting.incidents.unknown_severity"),
        at(body, "7", "alerting.incidents.default_tier"),
        at(body, "'yes'", "alerting.incidents.auto_resolve.metric"),
        at(body, "[reports]", "alerting.incidents.auto_resolve.services"),
    ]
    assert [p.message for p in problems] == [
        "must be from 0 to 2592000 seconds (30 days), got -5",
        "expected a number, got a string ('60'); write the number without quotes",
        "invalid severity 'critcal'; allowed: critical, warning, info; did you mean 'critical'?",
        "invalid default_tier 7; allowed: 1, 2, 3, 4",
        "expected true or false, got a string ('yes'); write it without quotes",
        "expected a mapping of service ids to true or false (reports: false), got a list",
    ]
