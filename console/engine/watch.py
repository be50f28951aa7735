"""Noticing, within a second, that another process changed the endpoints in the store.

``PRAGMA data_version`` (read on the engine's thread) changes whenever any other connection
commits, the engine's own sample batches included, so it is only the cheap first gate; the
event log then says whether anything that defines endpoints happened since the last look. Only
then are the endpoints loaded again. A full reload every minute guards against a change that
left no event behind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from console.core.endpoints import Endpoint
from console.core.events import EventType
from console.store import estate, events
from console.store.db import Store

#: Event types after which the endpoints are loaded again.
RELOAD_TYPES = (
    EventType.ENDPOINT_UPSERTED,
    EventType.ENDPOINT_DELETED,
    EventType.CONFIG_IMPORTED,
    EventType.STORE_RESTORED,
)
#: Seconds between full reloads even when no event asked for one.
FULL_RELOAD_S = 60.0

EndpointLoader = Callable[[Store], Sequence[Endpoint]]


def enabled_endpoints(store: Store) -> tuple[Endpoint, ...]:
    """The enabled endpoints in the store, read on the calling thread's reader."""
    return tuple(e for e in estate.endpoints(store.read()) if e.enabled)


class EndpointWatch:
    """Tells when the endpoints must be loaded again. Use it from one thread only.

    Args:
        store: The store to watch.
        full_reload_s: Seconds after which ``changed`` is true anyway.
    """

    def __init__(self, store: Store, *, full_reload_s: float = FULL_RELOAD_S) -> None:
        self._store = store
        self._full_reload_s = full_reload_s
        self._version: int | None = None
        self._seq = 0
        self._loaded_at: float | None = None

    def changed(self, now_mono: float) -> bool:
        """Whether the endpoints may have changed since the last ``loaded``."""
        if self._loaded_at is None or now_mono - self._loaded_at >= self._full_reload_s:
            return True
        version = self._store.data_version()
        if version == self._version:
            return False
        self._version = version
        db = self._store.read()
        newest = events.last_seq(db)
        if newest < self._seq:  # the log shrank: the store was replaced
            return True
        found = next(events.iter_events(db, after_seq=self._seq, types=RELOAD_TYPES, limit=1), None)
        self._seq = newest
        return found is not None

    def loaded(self, now_mono: float) -> None:
        """Note a load about to happen (call it first: a change committed meanwhile is seen)."""
        self._version = self._store.data_version()
        self._seq = events.last_seq(self._store.read())
        self._loaded_at = now_mono
