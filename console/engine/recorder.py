"""What the engine learnt, buffered and written in batches: one transaction per batch.

The event loop only appends to the buffer; ``write`` runs on the engine's single writer thread,
so a busy store (another process writing, a slow disk) never stalls the checks. Samples, the
state-change events they caused, the incidents those opened or resolved (applied after the
events, see ``console.engine.incidents``), gaps and the engine's heartbeat setting of one batch
commit together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.core.checks import CheckState
from console.core.events import EventType, make_event
from console.core.incident_policy import IncidentSettings
from console.engine.incidents import Applied, IncidentOp, OutcomeHook, apply_ops, notify
from console.store import events as event_log
from console.store import samples
from console.store.db import Store
from console.store.results import EndpointResult, write_results

log = logging.getLogger(__name__)

#: Rows that make a batch worth writing before the next flush is due.
DEFAULT_BATCH_ROWS = samples.DEFAULT_BATCH


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event to record with the next batch."""

    type: EventType
    subject: str
    payload: Mapping[str, Any]
    event_time: datetime


@dataclass(slots=True)
class Batch:
    """One transaction's worth of writes."""

    samples: list[tuple[str, str, int, float]] = field(default_factory=list)
    events: list[PendingEvent] = field(default_factory=list)
    gaps: list[tuple[int, int]] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    #: Each endpoint's newest result only: one upsert per endpoint checked, however often.
    results: dict[str, EndpointResult] = field(default_factory=dict)
    #: Incident operations, applied in order after the events.
    incidents: list[IncidentOp] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.samples
            or self.events
            or self.gaps
            or self.settings
            or self.results
            or self.incidents
        )


class Recorder:
    """Buffers samples, events, gaps and settings; writes them one batch per transaction.

    Args:
        store: The store written to.
        batch_rows: Pending samples that make ``full`` true.
    """

    def __init__(self, store: Store, *, batch_rows: int = DEFAULT_BATCH_ROWS) -> None:
        self._store = store
        self._batch_rows = batch_rows
        self._pending = Batch()
        # Touched only by the writer thread.
        self._series: dict[tuple[str, str], int] = {}
        self.written_samples = 0
        self.written_events = 0
        #: The incident settings ops are applied with (None: read from the store each batch).
        self.incident_settings: IncidentSettings | None = None
        #: Called on the writer thread, after the commit, for each outcome that should notify.
        self.on_incident: OutcomeHook | None = None

    @property
    def full(self) -> bool:
        """Whether a write is worth doing now: enough samples wait, or an incident operation.

        An incident waits for no flush interval: someone may have to be told.
        """
        return len(self._pending.samples) >= self._batch_rows or bool(self._pending.incidents)

    def sample(self, endpoint: str, metric: str, ts_ms: int, value: float) -> None:
        """Queue one sample."""
        self._pending.samples.append((endpoint, metric, ts_ms, value))

    def samples(self, endpoint: str, ts_ms: int, values: Mapping[str, float]) -> None:
        """Queue one result's samples, one per metric."""
        self._pending.samples.extend([(endpoint, m, ts_ms, v) for m, v in values.items()])

    def event(
        self,
        type_: EventType,
        subject: str,
        payload: Mapping[str, Any],
        event_time: datetime,
    ) -> None:
        """Queue one event (recorded with the store's actor and console id)."""
        self._pending.events.append(PendingEvent(type_, subject, payload, event_time))

    def result(
        self, endpoint: str, at_ms: int, state: CheckState, reason: str, duration_s: float = 0.0
    ) -> None:
        """Queue an endpoint's newest result (its own check's state); a newer one replaces it."""
        self._pending.results[endpoint] = EndpointResult(endpoint, at_ms, state, reason, duration_s)

    def gap(self, start_ms: int, end_ms: int) -> None:
        """Queue missing data for every series."""
        if end_ms > start_ms:
            self._pending.gaps.append((start_ms, end_ms))

    def incident(self, op: IncidentOp) -> None:
        """Queue an incident operation (a HARD change's signal, a clear, a flapping mark)."""
        self._pending.incidents.append(op)

    def setting(self, key: str, value: str) -> None:
        """Queue a setting (the last value queued wins)."""
        self._pending.settings[key] = value

    def take(self) -> Batch:
        """Everything queued so far (the buffer starts afresh)."""
        batch, self._pending = self._pending, Batch()
        return batch

    def write(self, batch: Batch) -> None:
        """Write one batch in one transaction (blocking: run it on the writer thread).

        A failure (a full disk, a store locked for longer than the busy timeout) loses this
        batch and is logged; the engine carries on with the next one.
        """
        if not batch:
            return
        store = self._store
        known = self._series
        unknown = {(e, m) for e, m, _, _ in batch.samples if (e, m) not in known}
        try:
            with store.transaction() as db:
                # Looked up on this transaction: ids are cached only once it committed.
                new_series = {key: samples.series_id(db, *key) for key in unknown}
                ids = {**known, **new_series} if new_series else known
                rows = [(ids[(e, m)], ts, value) for e, m, ts, value in batch.samples]
                samples.write_samples(store, rows, batch_size=max(1, len(rows)))
                for start, end in batch.gaps:
                    samples.record_gap(store, start, end)
                now = store.clock.now()
                event_log.append(
                    db,
                    [
                        make_event(
                            e.type,
                            e.subject,
                            e.payload,
                            actor=store.actor,
                            origin=store.console_id,
                            now=now,
                            event_time=e.event_time,
                        )
                        for e in batch.events
                    ],
                )
                for key, value in batch.settings.items():
                    store.set_setting(key, value)
                if batch.results:
                    write_results(db, batch.results.values())
                applied = (
                    apply_ops(store, batch.incidents, self.incident_settings)
                    if batch.incidents
                    else Applied()
                )
        except Exception as exc:  # a lost batch must not stop monitoring
            log.error(
                "could not write %d samples and %d events to the store: %s",
                len(batch.samples),
                len(batch.events),
                exc,
            )
            return
        self._series.update(new_series)
        self.written_samples += len(batch.samples)
        self.written_events += len(batch.events)
        notify([applied], self.on_incident)
