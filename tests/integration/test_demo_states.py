"""A fresh demo store opens on its scenario's trouble: in its history, its states and live.

One store is filled by ``load_demo`` (history, then the replay of its last hours) and shared by
the tests. The oracle is the store's own scenario (its anchor setting, read back through
``demo_model``): the pinned disk is CRITICAL, the spike a WARNING and the pinned outage's health
check CRITICAL now, and a simulator built from the store, in this process or as
``oncall-console demo serve``, answers 503 for the service that is down. A store reopened hours
later tops its history up from the same scenario.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from console.cli.context import load_demo
from console.config.demo import demo_estate
from console.core.clock import FakeClock, SystemClock, parse_iso
from console.core.events import Event, EventType
from console.engine.backfill import (
    DEMO_HISTORY_SETTING,
    DEMO_SCENARIO_SETTING,
    HistoryReport,
    demo_history,
    demo_model,
)
from console.engine.replay import DEMO_STATES_SETTING
from console.probes.prometheus import series_name
from console.simulator.catalogue import Metric, SeriesKey
from console.simulator.incidents import Incident, IncidentKind
from console.simulator.model import EstateModel
from console.simulator.scenario import scenario_model
from console.simulator.server import start
from console.store import events, samples
from console.store.db import Store
from console.store.entities import import_estate
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.test_engine_cli import running

#: Filling a fresh demo store (history and replay) took about 5 s on a quiet machine.
FILL_BOUND_S = 20.0


@dataclass(frozen=True)
class Demo:
    """The shared demo store and what filling it did."""

    store: Store
    report: HistoryReport
    seconds: float
    model: EstateModel

    def pinned(self, kind: IncidentKind) -> Incident:
        (found,) = [incident for incident in self.model.pinned if incident.kind is kind]
        return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    store = Store.open(tmp_path_factory.mktemp("demo") / "demo.db")
    began = time.perf_counter()
    report = load_demo(store)
    seconds = time.perf_counter() - began
    print(f"load_demo: {seconds:.2f} s ({report.seconds:.2f} s of history)")
    yield Demo(store, report, seconds, demo_model(store))
    store.close()


def _state_events(store: Store) -> list[Event]:
    return list(events.iter_events(store.read(), types=[EventType.METRIC_STATE_CHANGED]))


def _now_states(store: Store) -> dict[tuple[str, str | None], dict[str, Any]]:
    """The latest state change of every (endpoint, metric key): where each stands now."""
    latest: dict[tuple[str, str | None], dict[str, Any]] = {}
    for event in _state_events(store):
        payload = dict(event.payload)
        latest[(payload["endpoint"], payload["metric_key"])] = payload
    return latest


def _anchor(store: Store) -> float:
    raw = store.setting(DEMO_SCENARIO_SETTING)
    assert raw is not None, "the first fill records the scenario's anchor"
    return parse_iso(json.loads(raw)["anchor"]).timestamp()


def test_the_first_fill_anchors_the_scenario_where_history_ends(demo: Demo) -> None:
    assert demo.seconds < FILL_BOUND_S
    assert _anchor(demo.store) == demo.report.end.timestamp()
    assert demo.store.setting(DEMO_HISTORY_SETTING) is not None
    assert demo.store.setting(DEMO_STATES_SETTING) is not None
    assert {incident.kind for incident in demo.model.pinned} == {
        IncidentKind.DISK_FILL,
        IncidentKind.LATENCY_SPIKE,
        IncidentKind.OUTAGE,
    }


def test_history_holds_the_pinned_incidents(demo: Demo) -> None:
    store, model = demo.store, demo.model
    now_ms = samples.epoch_ms(demo.report.end)
    for incident in (demo.pinned(IncidentKind.DISK_FILL), demo.pinned(IncidentKind.LATENCY_SPIKE)):
        key = incident.series
        series = samples.find_series(store.read(), f"{key.service}-metrics", _name(key))
        assert series is not None
        hour = samples.query_series(
            store.read(), series, now_ms - 3_600_000, now_ms, resolution=samples.Resolution.RAW
        )
        assert len(hour.timestamps) >= 55
        for ts, value in zip(hour.timestamps, hour.values, strict=True):
            assert value == model.value_at(key, ts / 1000), (key.ident, ts)
    disk = demo.pinned(IncidentKind.DISK_FILL).series
    assert model.value_at(disk, demo.report.end.timestamp()) > 90.0


def _name(key: SeriesKey) -> str:
    """A series' metric key as the scrape probe names it."""
    return series_name(key.name, key.labels)


def test_now_the_disk_is_critical_the_spike_a_warning_and_the_outage_down(demo: Demo) -> None:
    states, anchor = _now_states(demo.store), _anchor(demo.store)
    disk = demo.pinned(IncidentKind.DISK_FILL).series
    critical = states[("postgres-main-metrics", _name(disk))]
    assert (critical["to"], critical["type"]) == ("critical", "hard"), critical
    assert critical["value"] > 90.0
    went = parse_iso(critical["at"]).timestamp() - anchor
    assert -55 * 60 <= went <= -35 * 60, f"critical {went / 60:.0f} min before the anchor"

    spike = demo.pinned(IncidentKind.LATENCY_SPIKE)
    warning = states[(f"{spike.service}-metrics", _name(spike.series))]
    assert (warning["to"], warning["type"]) == ("warning", "hard"), warning
    assert warning["band"] is not None and warning["value"] > warning["band"]["centre"]
    assert -10 * 60 <= parse_iso(warning["at"]).timestamp() - anchor <= 0

    down = demo.pinned(IncidentKind.OUTAGE).service
    for metric_key in (None, "up"):
        check = states[(f"{down}-health", metric_key)]
        assert (check["to"], check["type"]) == ("critical", "hard"), check


def test_a_second_load_adds_no_state_events(demo: Demo) -> None:
    before = len(_state_events(demo.store))
    scenario = demo.store.setting(DEMO_SCENARIO_SETTING)
    assert before > 0
    load_demo(demo.store)
    assert len(_state_events(demo.store)) == before
    assert demo.store.setting(DEMO_SCENARIO_SETTING) == scenario


def test_a_simulator_built_from_the_store_serves_the_outage_live(demo: Demo) -> None:
    down = demo.pinned(IncidentKind.OUTAGE).service
    slow = demo.pinned(IncidentKind.LATENCY_SPIKE).service
    disk = demo.pinned(IncidentKind.DISK_FILL).series
    assert demo.store.clock.now() < demo.report.end + timedelta(minutes=45), "still under way"

    async def fetch() -> tuple[int, dict[str, Any], dict[str, Any], str]:
        running = await start(model=demo_model(demo.store), clock=demo.store.clock)
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(running.health_url(down)) as response:
                    status, body = response.status, await response.json()
                async with session.get(running.health_url(slow)) as response:
                    assert response.status == 200
                    degraded = await response.json()
                async with session.get(running.metrics_url) as response:
                    page = await response.text()
        finally:
            await running.stop()
        return status, body, degraded, page

    status, body, degraded, page = asyncio.run(fetch())
    assert (status, body["status"]) == (503, "down")
    assert degraded["status"] == "degraded"
    used = {
        sample.labels["host"]: sample.value
        for family in text_string_to_metric_families(page)
        if family.name == Metric.DISK_USED.value
        for sample in family.samples
    }
    assert used[disk.labels["host"]] > 90.0


def test_demo_serve_on_the_store_serves_its_scenario(demo: Demo, tmp_path: Path) -> None:
    env = dict(os.environ)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp_path / var.lower())
    with running(env, "--db", str(demo.store.path), "demo", "serve", "--port", "0") as served:
        found = served.wait_for(re.compile(r"simulated estate on (http://127\.0\.0\.1:\d+)"))
        down = demo.pinned(IncidentKind.OUTAGE).service
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(f"{found[1]}/health/{down}", timeout=10)
        with failed.value as answer:
            assert answer.code == 503
            assert json.loads(answer.read())["status"] == "down"
        assert served.stop() == 0


def test_a_store_reopened_hours_later_tops_up_from_its_own_scenario(tmp_path: Path) -> None:
    clock = FakeClock(SystemClock().now())
    store = Store.open(tmp_path / "later.db", clock)
    import_estate(store, demo_estate(), prune=False, source="demo")
    postgres = [e for e in demo_estate().endpoints if e.key == "postgres-main-metrics"]
    first = demo_history(store, postgres)
    anchor, scenario = first.end.timestamp(), store.setting(DEMO_SCENARIO_SETTING)
    clock.advance(3 * 3600.0)
    later = demo_history(store, postgres)
    assert later.samples > 0 and store.setting(DEMO_SCENARIO_SETTING) == scenario
    model = demo_model(store)
    assert model.pinned == scenario_model(anchor).pinned
    disk = next(i for i in model.pinned if i.kind is IncidentKind.DISK_FILL).series
    series = samples.find_series(store.read(), "postgres-main-metrics", _name(disk))
    assert series is not None
    end_ms = samples.epoch_ms(clock.now())
    topped = samples.query_series(
        store.read(), series, end_ms - 3_600_000, end_ms, resolution=samples.Resolution.RAW
    )
    assert len(topped.timestamps) >= 55
    for ts, value in zip(topped.timestamps, topped.values, strict=True):
        assert value == model.value_at(disk, ts / 1000) > 90.0, "the fill goes on, as pinned"
    store.close()
