"""From the engine's conclusions to incidents: HARD state changes, flapping and inbound alerts.

The event loop maps what happened into `IncidentOp`s (`MetricIncidents.ops` for the judges'
outcomes, ``console.engine.alerts`` for inbound alerts); the writer thread applies them with
`apply_ops` inside the transaction that also records the batch's state-change events, so an
incident and the change that opened it commit together or not at all. Each operation runs in a
savepoint: one that fails (a bug, a payload the projection refuses) is rolled back and logged
alone, and the batch's samples and events are kept.

Mapping (`console.core.signals.metric_signal`): a HARD change to CRITICAL opens or updates a
critical incident, WARNING a warning one, UNKNOWN the severity the settings give; STALE opens
none (silence shows on the wall, it does not page). A HARD recovery to OK clears the signal
(the store resolves the incident when auto-resolve is on for the service). Flapping start and
stop mark the open incident; a stop while the metric is OK clears the signal again, because the
store keeps a flapping incident open through its recoveries.

``started_at`` is the first bad sample: the SOFT change that began the streak a HARD change
confirmed, remembered per metric between the two.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from console.core.checks import CheckState, CheckStatus, StateType
from console.core.endpoints import Endpoint
from console.core.evaluation import StateChange, moment
from console.core.flapping import (
    HISTORY,
    FlapConfig,
    FlapEvent,
    FlapState,
    percent_state_change,
)
from console.core.incident_policy import IncidentSettings, SignalOutcome
from console.core.incidents import Incident
from console.core.signals import Signal, metric_dedup_key, metric_signal
from console.engine.judge import EndpointJudge, Outcome
from console.store import alerting
from console.store import incidents as store_incidents
from console.store.db import Store
from console.store.status import ConfirmedState

log = logging.getLogger(__name__)

#: Called with every outcome that should notify people (see ``Engine``'s ``on_incident``).
OutcomeHook = Callable[[SignalOutcome], None]


@dataclass(frozen=True, slots=True)
class OpenSignal:
    """Open or update the incident of a signal (`console.store.incidents.open_or_update`)."""

    signal: Signal


@dataclass(frozen=True, slots=True)
class ClearSignal:
    """A signal recovered: resolve its incident if its service auto-resolves."""

    dedup_key: str


@dataclass(frozen=True, slots=True)
class MarkFlapping:
    """Mark the open incident of a dedup key flapping, or no longer flapping."""

    dedup_key: str
    flapping: bool


IncidentOp = OpenSignal | ClearSignal | MarkFlapping


@dataclass(frozen=True, slots=True)
class Applied:
    """What a list of operations did.

    Attributes:
        outcomes: One per signal applied, in order.
        resolved: The incidents a clear resolved.
        failed: Operations rolled back because they raised (each one is logged).
    """

    outcomes: tuple[SignalOutcome, ...] = ()
    resolved: tuple[Incident, ...] = ()
    failed: int = 0


# -- applying (on the writer thread) -------------------------------------------------------


@contextmanager
def _savepoint(db: Any) -> Iterator[None]:
    """Undo what the block wrote, and only that, when it raises (the transaction goes on)."""
    db.execute("SAVEPOINT incident_op")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK TO incident_op")
        db.execute("RELEASE incident_op")
        raise
    db.execute("RELEASE incident_op")


def apply_ops(
    store: Store, ops: Sequence[IncidentOp], settings: IncidentSettings | None = None
) -> Applied:
    """Apply operations in order, in the caller's open transaction (or a new one).

    Consecutive signals go to ``open_or_update_many`` together (the routes, services and
    silences are read once for them); when that fails they are retried one by one so that
    only the failing one is lost.

    Args:
        store: The store.
        ops: The operations, in the order their facts happened.
        settings: The incident settings (read from the store when None).
    """
    outcomes: list[SignalOutcome] = []
    resolved: list[Incident] = []
    failed = 0
    with store.transaction() as db:
        chosen = settings or alerting.settings(db)
        pending: list[Signal] = []
        for op in [*ops, None]:  # None: the end, where the last signals are flushed
            if isinstance(op, OpenSignal):
                pending.append(op.signal)
                continue
            if pending:
                done, lost = _signals(store, db, pending, chosen)
                outcomes += done
                failed += lost
                pending = []
            if op is None:
                break
            try:
                with _savepoint(db):
                    found = _other(store, db, op, chosen)
            except Exception:
                log.exception("could not apply %s to the incidents", op)
                failed += 1
                continue
            if found is not None:
                resolved.append(found)
    return Applied(tuple(outcomes), tuple(resolved), failed)


def _signals(
    store: Store, db: Any, signals: list[Signal], settings: IncidentSettings
) -> tuple[list[SignalOutcome], int]:
    try:
        with _savepoint(db):
            return store_incidents.open_or_update_many(store, signals, settings=settings), 0
    except Exception:
        if len(signals) == 1:
            log.exception("could not record signal %s", signals[0].dedup_key)
            return [], 1
    outcomes: list[SignalOutcome] = []
    failed = 0
    for signal in signals:
        try:
            with _savepoint(db):
                outcomes.append(store_incidents.open_or_update(store, signal, settings=settings))
        except Exception:
            log.exception("could not record signal %s", signal.dedup_key)
            failed += 1
    return outcomes, failed


def _other(store: Store, db: Any, op: IncidentOp, settings: IncidentSettings) -> Incident | None:
    """A clear (returns the incident it resolved) or a flapping mark (returns None)."""
    if isinstance(op, ClearSignal):
        return store_incidents.clear_signal(store, op.dedup_key, settings=settings, db=db)
    if isinstance(op, MarkFlapping):
        store_incidents.mark_flapping(store, op.dedup_key, op.flapping, db=db)
    return None


def notify(applied: Iterable[Applied], hook: OutcomeHook | None) -> int:
    """Call ``hook`` for every outcome that should notify (after the commit); returns how many.

    A hook that raises is logged and the next outcome still gets its call.
    """
    if hook is None:
        return 0
    calls = 0
    for outcome in (o for a in applied for o in a.outcomes if o.notify):
        calls += 1
        try:
            hook(outcome)
        except Exception:
            log.exception("the incident hook failed on %s", outcome.incident.ref)
    return calls


# -- mapping the judges' outcomes (on the event loop) ---------------------------------------


class MetricIncidents:
    """Turns an engine's judge outcomes into incident operations.

    Args:
        settings: The incident settings (the engine replaces them when they change).
    """

    def __init__(self, settings: IncidentSettings | None = None) -> None:
        self.settings = settings or IncidentSettings()
        # When each metric's current bad streak began (epoch s), until a HARD change uses it.
        self._first_bad: dict[tuple[str, str | None], float] = {}
        self._settings_text: str | None = None
        self._settings_read = False

    def refresh(self, store: Store) -> bool:
        """Read the incident settings again if their stored text changed; True when it did.

        Settings that cannot be read are logged once and the previous ones kept.
        """
        try:
            text = store.setting(alerting.SETTINGS_KEY)
            if self._settings_read and text == self._settings_text:
                return False
            self._settings_text, self._settings_read = text, True
            self.settings = alerting.settings(store.read())
        except Exception as exc:  # a hand-edited setting must not stop monitoring
            log.warning("the incident settings cannot be read (%s); keeping the previous", exc)
            return False
        return True

    def ops(self, endpoint: Endpoint, outcomes: Iterable[Outcome]) -> list[IncidentOp]:
        """The operations the outcomes call for (none for nearly every result)."""
        out: list[IncidentOp] = []
        for key, evaluation in outcomes:
            if not evaluation.changes and evaluation.flap_change is None:
                continue
            dedup = metric_dedup_key(endpoint.service, endpoint.key, key)
            for change in evaluation.changes:
                op = self._change(endpoint, key, dedup, change)
                if op is not None:
                    out.append(op)
            flap = evaluation.flap_change
            if flap is not None:
                started = flap.event is FlapEvent.STARTED
                out.append(MarkFlapping(dedup, started))
                if not started and evaluation.hard_state is CheckState.OK:
                    out.append(ClearSignal(dedup))  # the recovery held back while it flapped
        return out

    def forget(self, endpoint: str) -> None:
        """Drop what is remembered of an endpoint that is no longer monitored."""
        for found in [k for k in self._first_bad if k[0] == endpoint]:
            del self._first_bad[found]

    def _change(
        self, endpoint: Endpoint, key: str | None, dedup: str, change: StateChange
    ) -> IncidentOp | None:
        where = (endpoint.key, key)
        if change.state_type is StateType.SOFT:
            if change.to_state is CheckState.OK:
                self._first_bad.pop(where, None)
            else:
                self._first_bad.setdefault(where, change.at)
            return None
        started = self._first_bad.pop(where, change.at)
        if change.to_state is CheckState.OK:
            return ClearSignal(dedup)
        signal = metric_signal(
            service=endpoint.service,
            endpoint=endpoint.key,
            metric_key=key,
            metric_name=endpoint.name if key is None else f"{endpoint.name} {change.metric}",
            state=change.to_state,
            started_at=moment(min(started, change.at)),
            value=change.value,
            reason=change.reason,
            unknown=self.settings.unknown_severity,
        )
        return None if signal is None else OpenSignal(signal)


# -- restart safety -------------------------------------------------------------------------


def seeded_flap_state(state: CheckState, percent: float) -> FlapState:
    """A flapping history that ends in ``state`` and changes at least ``percent`` of the time.

    The store keeps the flapping flag and its percentage, not the 21 results behind them. A
    history with the newest results alternating reproduces the percentage, so a metric that goes
    on flapping stays flapping, and one that settles stops once the changes age out, as it would
    have without the restart.
    """
    other = CheckState.CRITICAL if state is CheckState.OK else CheckState.OK
    history = [state] * HISTORY
    found = 0.0
    for flips in range(1, HISTORY):
        index = HISTORY - 1 - flips
        history[index] = other if history[index + 1] is state else state
        found = percent_state_change(history)
        if found >= percent:
            break
    return FlapState(tuple(history), True, found)


def seed_judge(
    judge: EndpointJudge, confirmed: Mapping[tuple[str, str | None], ConfirmedState]
) -> int:
    """Resume a new judge's evaluators from what the store remembers; returns how many.

    Without it a restarted engine starts every metric at a confirmed OK: a metric that stayed
    CRITICAL would confirm it again (a second ``metric.state_changed`` and a repeat of its
    incident), and one that recovered while the engine was down would never clear its incident.
    Call it before the judge is given stored history (``warm_up``).
    """
    seeded = 0
    for status in judge.statuses():
        found = confirmed.get((judge.endpoint.key, status.key))
        if found is None or (found.hard_state is CheckState.OK and not found.flapping):
            continue
        # A flag without its percentage (an old log) started at the default high threshold.
        percent = found.flap_percent or FlapConfig().high
        flap = seeded_flap_state(found.hard_state, percent) if found.flapping else FlapState()
        check = CheckStatus(found.hard_state, StateType.HARD, found.hard_state, 0)
        judge.restore(status.key, check, flap)
        seeded += 1
    return seeded


__all__ = [
    "Applied",
    "ClearSignal",
    "IncidentOp",
    "MarkFlapping",
    "MetricIncidents",
    "OpenSignal",
    "OutcomeHook",
    "apply_ops",
    "notify",
    "seed_judge",
    "seeded_flap_state",
]
