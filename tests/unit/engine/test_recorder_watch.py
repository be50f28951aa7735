"""Batched writes (one transaction each, all or nothing) and noticing other processes' changes."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from console.core.clock import FakeClock
from console.core.endpoints import TcpTarget
from console.core.enums import Discipline
from console.core.events import EventType
from console.core.models import Team
from console.engine.recorder import Recorder
from console.engine.watch import EndpointWatch, enabled_endpoints
from console.store import entities, events, samples
from console.store.db import Store

from tests.unit.engine.support import endpoint, open_store, sample_values

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
MS = 1_777_896_000_000


def test_a_batch_writes_samples_events_gaps_and_settings_together(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db", FakeClock(T0))
    recorder = Recorder(store, batch_rows=3)
    recorder.sample("alpha", "up", MS, 1.0)
    recorder.sample("alpha", "response_time_ms", MS, 12.5)
    assert not recorder.full
    recorder.sample("beta", "up", MS, float("nan"))
    assert recorder.full
    recorder.event(EventType.METRIC_STATE_CHANGED, "endpoint:alpha", {"to": "critical"}, T0)
    recorder.gap(MS + 1000, MS + 5000)
    recorder.gap(MS + 5000, MS + 5000)  # empty: ignored
    recorder.setting("engine.heartbeat", json.dumps({"state": "running"}))
    recorder.write(recorder.take())
    assert not recorder.take()

    assert sample_values(store, "alpha", "response_time_ms") == [12.5]
    beta = sample_values(store, "beta", "up")
    assert len(beta) == 1 and beta[0] != beta[0]  # NaN: the probe measured nothing
    (event,) = events.iter_events(store.read(), types=[EventType.METRIC_STATE_CHANGED])
    assert event.subject == "endpoint:alpha" and event.origin == store.console_id
    series = samples.find_series(store.read(), "alpha", "up")
    assert series is not None
    assert [(g.start_ms, g.end_ms) for g in samples.gaps_in(store.read(), series, 0, 2**53)] == [
        (MS + 1000, MS + 5000)
    ]
    assert store.setting("engine.heartbeat") == '{"state": "running"}'
    assert (recorder.written_samples, recorder.written_events) == (3, 1)


def test_a_failed_batch_writes_nothing_is_logged_and_the_next_one_works(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(tmp_path / "s.db", FakeClock(T0))
    recorder = Recorder(store)
    recorder.sample("alpha", "up", MS, 1.0)
    recorder.event(EventType.METRIC_STATE_CHANGED, "endpoint:alpha", {"bad": object()}, T0)
    with caplog.at_level(logging.ERROR, logger="console.engine.recorder"):
        recorder.write(recorder.take())
    assert "could not write 1 samples and 1 events" in caplog.text
    assert sample_values(store, "alpha", "up") == []  # the samples went with the event
    assert samples.find_series(store.read(), "alpha", "up") is None
    recorder.sample("alpha", "up", MS + 1000, 1.0)
    recorder.write(recorder.take())
    assert sample_values(store, "alpha", "up") == [1.0]


def test_the_watch_sees_endpoint_changes_by_other_connections_but_not_its_own_writes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    store = open_store(path)
    watch = EndpointWatch(store, full_reload_s=60.0)
    assert watch.changed(0.0)  # never loaded
    watch.loaded(0.0)
    assert enabled_endpoints(store) == ()
    assert not watch.changed(0.1)

    recorder = Recorder(store)
    recorder.sample("alpha", "up", MS, 1.0)
    recorder.write(recorder.take())
    assert not watch.changed(0.2)  # our own samples are no reason to reload

    with Store.open(path) as other:
        entities.save(other, endpoint("alpha", TcpTarget("db.example.net", 5432)))
        assert watch.changed(0.3)
        watch.loaded(0.3)
        assert [e.key for e in enabled_endpoints(store)] == ["alpha"]
        entities.save(other, Team("dba", "Databases", Discipline.INFRASTRUCTURE))
        assert not watch.changed(0.4)  # a team is not an endpoint
        entities.save(other, endpoint("alpha", TcpTarget("db.example.net", 5432), enabled=False))
        assert watch.changed(0.5)
        watch.loaded(0.5)
        assert enabled_endpoints(store) == ()
    assert not watch.changed(30.0)
    assert watch.changed(60.5)  # the safety net: a full reload every minute
