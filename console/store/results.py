"""Each endpoint's newest result, upserted by the engine's recorder once per batch.

Not in the event log (a result per check would swamp it): the table holds one row per endpoint,
so its cost is O(endpoints checked) per batch. The monitoring status reads it for "last check".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlite_utils import Database

from console.core.checks import CheckState

#: Upsert of one endpoint's newest result: an older result (a late batch) never replaces it.
_UPSERT_RESULT = """
INSERT INTO endpoint_results (endpoint, at_ms, first_ms, state, reason, duration_s)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (endpoint) DO UPDATE SET
    at_ms = excluded.at_ms,
    state = excluded.state,
    reason = excluded.reason,
    duration_s = excluded.duration_s
WHERE excluded.at_ms >= endpoint_results.at_ms
"""


@dataclass(frozen=True, slots=True)
class EndpointResult:
    """An endpoint's newest result, as the engine judged it.

    Attributes:
        endpoint: The endpoint's key.
        at_ms: When the check started, epoch milliseconds.
        state: The endpoint's own check result (before soft/hard confirmation).
        reason: Why, in words.
        duration_s: How long the check took.
    """

    endpoint: str
    at_ms: int
    state: CheckState
    reason: str
    duration_s: float


def write_results(db: Database, results: Iterable[EndpointResult]) -> None:
    """Upsert endpoints' newest results (call inside ``Store.transaction()``).

    One row per endpoint: its first result's time is kept, the rest follows the newest result.
    """
    db.conn.executemany(
        _UPSERT_RESULT,
        [(r.endpoint, r.at_ms, r.at_ms, r.state.value, r.reason, r.duration_s) for r in results],
    )
