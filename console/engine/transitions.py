"""What a judge's conclusions become in the event log: state and flapping changes, one event each.

The running engine and the demo's replay of history share this, so a state change reads the
same wherever it came from.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from console.core.checks import StateType
from console.core.endpoints import Endpoint
from console.core.evaluation import moment
from console.core.events import EventType
from console.engine.judge import Outcome
from console.engine.recorder import PendingEvent

log = logging.getLogger(__name__)


def endpoint_subject(endpoint: Endpoint) -> str:
    """The event subject of an endpoint's facts."""
    return f"endpoint:{endpoint.key}"


def change_events(endpoint: Endpoint, outcomes: Iterable[Outcome]) -> list[PendingEvent]:
    """The events for the outcomes that changed something (nearly every result changes nothing).

    Args:
        endpoint: The endpoint judged.
        outcomes: What its judge concluded, per metric key (None for its own check).

    Returns:
        ``metric.state_changed`` per state change and ``metric.flapping`` per start or stop of
        flapping, in the order the judge concluded them. HARD changes are also logged.
    """
    events: list[PendingEvent] = []
    subject = endpoint_subject(endpoint)
    for key, evaluation in outcomes:
        if not evaluation.changes and evaluation.flap_change is None:
            continue
        common = {"endpoint": endpoint.key, "service": endpoint.service, "metric_key": key}
        for change in evaluation.changes:
            payload = {**change.payload(), **common}
            events.append(
                PendingEvent(EventType.METRIC_STATE_CHANGED, subject, payload, moment(change.at))
            )
            if change.state_type is StateType.HARD:
                log.info(
                    "%s %s: %s -> %s: %s",
                    endpoint.key,
                    change.metric,
                    change.from_state.name,
                    change.to_state.name,
                    change.reason,
                )
        flap = evaluation.flap_change
        if flap is not None:
            payload = {
                **common,
                "metric": flap.metric,
                "event": flap.event.value,
                "percent": flap.percent,
                "reason": flap.reason,
            }
            flapping = EventType.METRIC_FLAPPING
            events.append(PendingEvent(flapping, subject, payload, moment(flap.at)))
    return events
