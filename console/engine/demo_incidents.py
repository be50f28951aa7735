"""The demo's incidents: the trouble its replayed past left open, one taken, one reported.

The replay (`console.engine.replay`) judges the demo's last hours as the engine would have;
this turns what that judging concluded into the incidents the engine would have opened, using
the engine's own mapping (`MetricIncidents`, `apply_ops`). Trouble that began and ended in the
replayed past is left out: incidents opened and resolved in the same instant would only be
noise. So that the Incidents page shows its range, one incident is acknowledged by its team's
lead and one is opened from a person's report.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from console.core.enums import Severity
from console.core.incidents import Incident, IncidentError
from console.core.signals import ManualReport, Signal
from console.engine.incidents import ClearSignal, IncidentOp, OpenSignal, apply_ops
from console.store import estate
from console.store import incidents as incident_store
from console.store.db import Store

log = logging.getLogger(__name__)

#: The report the demo opens by hand (on this service, when the estate has it).
REPORT = ManualReport(
    title="Customers say the status page still shows yesterday's outage",
    reporter="Customer support (ticket CS-4711)",
    impact="Customers ask whether checkout is down; support answers every call by hand",
    service="status-page",
    severity=Severity.WARNING,
)


def still_open(ops: Iterable[IncidentOp]) -> list[Signal]:
    """The latest signal of each trouble that had not cleared by the end, oldest trouble first.

    Only the latest: an incident's title is its opening signal's, and a disk that went from
    WARNING to CRITICAL should open as what it is now.
    """
    current: dict[str, Signal] = {}
    for op in ops:
        if isinstance(op, OpenSignal):
            current[op.signal.dedup_key] = op.signal
        elif isinstance(op, ClearSignal):
            current.pop(op.dedup_key, None)
    # An upstream failure usually starts first, and whatever opens after it on a service that
    # depends on it is grouped under it.
    return sorted(current.values(), key=lambda s: s.started_at)


def open_demo_incidents(store: Store, ops: Sequence[IncidentOp]) -> list[Incident]:
    """Open the replay's unresolved trouble as incidents, acknowledge one and add a report.

    Returns:
        The open incidents, as the store has them at the end.
    """
    signals = still_open(ops)
    applied = apply_ops(store, [OpenSignal(s) for s in signals])
    opened = [o.incident for o in applied.outcomes]
    try:
        _acknowledge_one(store, opened)
        services = {s.key for s in estate.services(store.read())}
        if REPORT.service in services:
            incident_store.create_manual(store, REPORT)
    except IncidentError as exc:  # the demo stays usable without its extras
        log.warning("demo incidents: %s", exc)
    found = incident_store.list_incidents(store.read())
    log.info("demo incidents: %d open (%d from the replay)", len(found), len(opened))
    return found


def _acknowledge_one(store: Store, opened: Sequence[Incident]) -> None:
    """The least urgent ungrouped incident, taken by its team's lead."""
    candidates = [i for i in opened if i.parent is None]
    if not candidates:
        return
    chosen = max(candidates, key=lambda i: (i.priority.rank, i.detected_at))
    teams = {t.key: t for t in estate.teams(store.read())}
    team = teams.get(chosen.team) if chosen.team is not None else None
    lead = None if team is None else team.lead
    incident_store.acknowledge(store, chosen.id, on_behalf_of=lead)
