"""The demo's recent past judged: its history run through the real judges, once.

A demo store filled with a week of history (``backfill.demo_history``) would still say nothing
about states until the engine had checked every endpoint a few times. Replaying the last hours
of the simulated estate's model through the same judges the engine uses records the state
changes it would have recorded had it been running: the monitoring view, the wall and (later)
incidents start from a consistent past. Only endpoints the model can answer for are replayed;
the others (a TCP check) wait for the engine's first checks, as they would on a new store.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from console.core.clock import isoformat
from console.core.endpoints import Endpoint
from console.core.evaluation import moment
from console.engine.backfill import Source, demo_model, demo_sources, warm_up
from console.engine.demo_incidents import open_demo_incidents
from console.engine.incidents import IncidentOp, MetricIncidents
from console.engine.judge import EndpointJudge
from console.engine.recorder import Recorder
from console.engine.transitions import change_events
from console.probes.base import ProbeOutcome, ProbeResult
from console.simulator.model import EstateModel
from console.simulator.noise import FloatArray
from console.store.db import Store
from console.store.samples import epoch_ms

log = logging.getLogger(__name__)

#: The settings key recording that (and up to when) the demo's past was judged.
DEMO_STATES_SETTING = "demo.states"
REPLAY_HOURS = 6.0
REPLAY_STEP_S = 60.0


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """What :func:`replay_states` did.

    Attributes:
        endpoints: Endpoints judged.
        results: Results fed to their judges.
        events: State and flapping changes recorded.
        seconds: How long it took.
    """

    endpoints: int
    results: int
    events: int
    seconds: float


def replay_states(
    store: Store,
    endpoints: list[Endpoint],
    *,
    model: EstateModel | None = None,
    now: datetime | None = None,
    hours: float = REPLAY_HOURS,
) -> ReplayReport:
    """Judge the last ``hours`` of the model's values for every endpoint it answers for.

    Runs once per store (a setting records it): a second run would judge from scratch and
    record changes that did not happen. Band history comes from the store, so run it after
    ``demo_history``. The model is the store's own (its scenario pinned) unless one is given.
    """
    began = time.perf_counter()
    if store.setting(DEMO_STATES_SETTING) is not None:
        return ReplayReport(0, 0, 0, 0.0)
    model = model if model is not None else demo_model(store)
    now = now if now is not None else store.clock.now()
    end = now.timestamp()
    start = end - hours * 3600.0
    times = np.arange(math.ceil(start / REPLAY_STEP_S) * REPLAY_STEP_S, end, REPLAY_STEP_S)
    sources = demo_sources(model, endpoints)
    recorder = Recorder(store)
    judged = results = 0
    ops: list[IncidentOp] = []
    for endpoint in endpoints:
        own = {m: s for (e, m), s in sources.items() if e == endpoint.key}
        if not own or not endpoint.enabled:
            continue
        judged += 1
        results += _replay_endpoint(store, recorder, endpoint, own, times, ops)
    recorder.setting(DEMO_STATES_SETTING, json.dumps({"until": isoformat(now)}))
    batch = recorder.take()
    events = len(batch.events)
    recorder.write(batch)
    open_demo_incidents(store, ops)
    report = ReplayReport(judged, results, events, time.perf_counter() - began)
    log.info(
        "demo states: %d results of %d endpoints judged, %d changes, %.2f s",
        report.results,
        report.endpoints,
        report.events,
        report.seconds,
    )
    return report


def _replay_endpoint(
    store: Store,
    recorder: Recorder,
    endpoint: Endpoint,
    sources: dict[str, Source],
    times: FloatArray,
    ops: list[IncidentOp],
) -> int:
    if not times.size:
        return 0
    incidents = MetricIncidents()
    judge = EndpointJudge(endpoint, float(times[0]))
    warm_up(store, judge, float(times[0]))
    columns = {metric: source(times) for metric, source in sources.items()}
    for i, at in enumerate(times.tolist()):
        values = {m: float(c[i]) for m, c in columns.items() if math.isfinite(c[i])}
        down = values.get("up", 1.0) < 0.5
        result = ProbeResult(
            ok_state=ProbeOutcome.DOWN if down else ProbeOutcome.UP,
            metrics=values,
            reason="the service is down" if down else "the service answered",
            started_at=moment(at),
            duration_s=0.0,
        )
        outcomes = judge.judge(result)
        for pending in change_events(endpoint, outcomes):
            recorder.event(pending.type, pending.subject, pending.payload, pending.event_time)
        ops += incidents.ops(endpoint, outcomes)
        # The newest result per endpoint is kept: the status' "last check" (else all STALE).
        at_ms = epoch_ms(result.started_at)
        recorder.result(endpoint.key, at_ms, outcomes[0][1].result, result.reason)
    return int(times.size)
