"""The monitoring read model: every metric's current state and every service's worst.

The rows come from three places: ``metric_states`` (a projection of the state-change and
flapping events), ``endpoint_results`` (each endpoint's newest result, upserted by the engine's
recorder once per batch) and the newest sample of each series. The estate (endpoints, services,
teams) gives names, units and thresholds. A first read is a handful of whole-table queries
joined in Python; later reads on the same connection redo only what changed since (``_Memo``),
which is what lets a wall of thousands of metrics refresh every second from a worker thread.
Costs grow with the number of metrics, never with history.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

from sqlite_utils import Database

from console.core import codec
from console.core.checks import CheckState, StateType
from console.core.endpoints import HeartbeatTarget
from console.core.enums import ImpactTier
from console.core.events import EventType
from console.core.incidents import IncidentState
from console.core.status import (
    MetricStatus,
    ServiceInfo,
    ServiceTile,
    service_tiles,
    unit_symbol,
)
from console.core.thresholds import Range
from console.store import samples
from console.store.projections import CHECK_KEY

#: The series a check's sparkline draws (probes record ``up`` as 1 or 0 with every result).
CHECK_SERIES_METRIC = "up"
_CHECK_NAME = "check"
_HEARTBEAT_NAME = "heartbeat"

#: Sparklines read up to this many times the points they draw, then average them down: without
#: it, 6 h at 60 points would come back as 6 hourly rollups instead of 360 minutes.
_SPARK_OVERREAD = 10

Key = tuple[str, str | None]
"""(endpoint key, metric key or None for the endpoint's own check)."""


@dataclass(frozen=True, slots=True)
class _MetricDef:
    key: str
    name: str
    unit: str
    warning: float | None
    critical: float | None


@dataclass(frozen=True, slots=True)
class _EndpointDef:
    """What the status needs of an endpoint's record, decoded once per distinct record."""

    heartbeat_grace_s: float | None
    metrics: tuple[_MetricDef, ...]


@dataclass(frozen=True, slots=True)
class _StateRow:
    state: CheckState
    state_type: StateType
    flapping: bool
    since: datetime
    changed_at: datetime
    reason: str
    band_low: float | None
    band_high: float | None


@contextmanager
def _one_snapshot(db: Database) -> Iterator[Database]:
    """Every read inside sees one state of the store (a read transaction unless in one)."""
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    conn.execute("BEGIN")
    try:
        yield db
    finally:
        conn.execute("COMMIT")


def _level(level: float | Range | None) -> float | None:
    # An OUTSIDE threshold's level is a range: no single line to draw, so none is given.
    return float(level) if isinstance(level, float | int) else None


@lru_cache(maxsize=16_384)
def _endpoint_def(spec: str) -> _EndpointDef:
    # Cached by record text: a new connection's first read, or any change to the estate, would
    # otherwise decode every endpoint again (about 100 us each).
    endpoint = codec.endpoint_from_dict(json.loads(spec))
    target = endpoint.target
    grace = target.grace_s if isinstance(target, HeartbeatTarget) else None
    metrics = tuple(
        _MetricDef(
            m.metric,
            m.name,
            unit_symbol(m.unit),
            None if m.thresholds is None else _level(m.thresholds.warning),
            None if m.thresholds is None else _level(m.thresholds.critical),
        )
        for m in endpoint.metrics
    )
    return _EndpointDef(grace, metrics)


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _states(db: Database) -> dict[tuple[str, str], _StateRow]:
    rows = db.execute(
        "SELECT endpoint, metric_key, state, state_type, flapping, since, changed_at, reason, "
        "band_low, band_high FROM metric_states"
    ).fetchall()
    return {
        (e, k): _StateRow(
            CheckState(state),
            StateType(kind),
            bool(flapping),
            _moment(since),
            _moment(changed),
            reason,
            low,
            high,
        )
        for e, k, state, kind, flapping, since, changed, reason, low, high in rows
    }


def _series_names(db: Database) -> dict[int, tuple[str, str]]:
    rows = db.execute("SELECT id, endpoint, metric FROM series WHERE labels = '{}'").fetchall()
    return {int(sid): (endpoint, metric) for sid, endpoint, metric in rows}


def newest_values(
    db: Database, names: dict[int, tuple[str, str]] | None = None
) -> dict[tuple[str, str], float | None]:
    """The newest sample of every unlabelled series, by (endpoint, metric); None for NaN.

    The inbox (the last minute or two, every series) is read in one scan; only series with
    nothing there (a stopped engine, a rolled-up minute) cost an index seek in ``samples``.

    Args:
        db: The store.
        names: The unlabelled series by id, when the caller has read them already.
    """
    names = _series_names(db) if names is None else names
    # Read in key order (time first): each series' newer rows overwrite its older ones, which
    # costs less than letting SQLite sort the inbox by series to group it.
    found: dict[int, float | None] = dict(
        db.execute("SELECT series, value FROM sample_inbox ORDER BY ts").fetchall()
    )
    seek = db.conn.cursor()
    for sid in names.keys() - found.keys():
        row = seek.execute(
            "SELECT value FROM samples WHERE series = ? ORDER BY ts DESC LIMIT 1", (sid,)
        ).fetchone()
        if row is not None:
            found[sid] = row[0]
    return {names[sid]: value for sid, value in found.items() if sid in names}


_ENDPOINTS = """
SELECT e.key, e.name, e.service, e.interval_s, e.spec, s.name, s.team, t.name
FROM endpoints e JOIN services s ON s.key = e.service JOIN teams t ON t.key = s.team
WHERE e.enabled = 1 ORDER BY e.key
"""

# What changes the estate part (names, metrics, thresholds) and the state part: the newest
# event of each such type, one index probe each (``events_type`` is (type, seq)).
_ESTATE_TYPES = (
    EventType.ENDPOINT_UPSERTED,
    EventType.ENDPOINT_DELETED,
    EventType.SERVICE_UPSERTED,
    EventType.SERVICE_DELETED,
    EventType.TEAM_UPSERTED,
    EventType.TEAM_DELETED,
    EventType.STORE_RESTORED,
)
_STATE_TYPES = (
    EventType.METRIC_STATE_CHANGED,
    EventType.METRIC_FLAPPING,
    EventType.ENDPOINT_DELETED,  # deletes the endpoint's state rows
    EventType.STORE_RESTORED,
)
_TOKENS = "SELECT {}, (SELECT MAX(id) FROM series)".format(
    ", ".join(
        f"(SELECT MAX(seq) FROM events WHERE type = '{t.value}')"
        for t in (*_ESTATE_TYPES, *_STATE_TYPES)
    )
)
#: Every this many reads, newest values are read in full rather than followed (see _Memo).
FULL_VALUES_EVERY = 60


@dataclass(frozen=True, slots=True)
class _Endpoint:
    """The estate's part of one endpoint's statuses."""

    key: str
    name: str
    service: str
    service_name: str
    team: str
    team_name: str
    interval_s: float
    metrics: tuple[_MetricDef, ...]  # its own check first


@dataclass(slots=True)
class _Memo:
    """What one reader connection learnt in its last read, to redo only what changed since.

    A status read every second or two over thousands of metrics must not rebuild everything:
    the estate and the states change rarely (tokens: the newest event of each type that changes
    them), and between two reads only the endpoints with a new result have new values. Their
    newest samples are the ones written with that result (the recorder stamps both with the
    check's start), found by primary key; every ``FULL_VALUES_EVERY`` reads, and whenever a
    series is added, all newest values are read afresh, so values written without a result (an
    import, demo history) show up too. Touched only by the thread owning the connection.
    """

    estate: tuple[Any, ...] | None = None
    endpoints: list[_Endpoint] = field(default_factory=list)
    state_token: tuple[Any, ...] | None = None
    states: dict[tuple[str, str], _StateRow] = field(default_factory=dict)
    series_top: int | None = -1
    by_endpoint: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    values: dict[tuple[str, str], float | None] = field(default_factory=dict)
    results: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: Each endpoint's statuses as last built, and the endpoints to build again.
    built: dict[str, list[MetricStatus]] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    reads: int = 0


_MEMOS: WeakKeyDictionary[Database, _Memo] = WeakKeyDictionary()


def _load_endpoints(db: Database) -> list[_Endpoint]:
    out = []
    for key, name, service, interval, spec, service_name, team, team_name in db.execute(
        _ENDPOINTS
    ).fetchall():
        definition = _endpoint_def(spec)
        grace = definition.heartbeat_grace_s
        check_name = _CHECK_NAME if grace is None else _HEARTBEAT_NAME
        check = _MetricDef(CHECK_KEY, check_name, "", None, None)
        every = float(interval) if grace is None else grace
        metrics = (check, *definition.metrics)
        out.append(_Endpoint(key, name, service, service_name, team, team_name, every, metrics))
    return out


def _refresh(db: Database, memo: _Memo) -> None:
    """Bring the memo up to date with the store (call inside one snapshot)."""
    tokens = tuple(db.execute(_TOKENS).fetchone())
    estate, state_token, top = (
        tokens[: len(_ESTATE_TYPES)],
        tokens[len(_ESTATE_TYPES) : -1],
        tokens[-1],
    )
    if estate != memo.estate:
        memo.endpoints, memo.estate = _load_endpoints(db), estate
        memo.built.clear()
    if state_token != memo.state_token:
        states, old = _states(db), memo.states
        memo.dirty.update(k[0] for k in states.keys() ^ old.keys())
        memo.dirty.update(k[0] for k, row in states.items() if old.get(k, row) != row)
        memo.states, memo.state_token = states, state_token
    results = {
        e: (int(at), int(first))
        for e, at, first in db.execute(
            "SELECT endpoint, at_ms, first_ms FROM endpoint_results"
        ).fetchall()
    }
    changed = [(e, r[0]) for e, r in results.items() if memo.results.get(e) != r]
    memo.dirty.update(e for e, _ in changed)
    memo.dirty.update(memo.results.keys() - results.keys())
    memo.reads += 1
    if top != memo.series_top or memo.reads % FULL_VALUES_EVERY == 0:
        _read_all_values(db, memo, top)
    else:
        _follow_values(db, memo, changed)
    memo.results = results


def _read_all_values(db: Database, memo: _Memo, top: int | None) -> None:
    names = _series_names(db)
    by_endpoint: dict[str, list[tuple[str, int]]] = {}
    for sid, (endpoint, metric) in names.items():
        by_endpoint.setdefault(endpoint, []).append((metric, sid))
    values, old = newest_values(db, names), memo.values
    memo.dirty.update(k[0] for k in values.keys() ^ old.keys())
    memo.dirty.update(k[0] for k, v in values.items() if old.get(k, v) != v)
    memo.by_endpoint, memo.values, memo.series_top = by_endpoint, values, top


def _follow_values(db: Database, memo: _Memo, changed: list[tuple[str, int]]) -> None:
    """New values of the endpoints with a new result: the samples stamped with its time."""
    seek = db.conn.cursor()
    for endpoint, at_ms in changed:
        for metric, sid in memo.by_endpoint.get(endpoint, ()):
            row = (
                seek.execute(
                    "SELECT value FROM sample_inbox WHERE ts = ? AND series = ?", (at_ms, sid)
                ).fetchone()
                or seek.execute(
                    "SELECT value FROM samples WHERE series = ? AND ts = ?", (sid, at_ms)
                ).fetchone()
            )
            if row is not None:
                memo.values[(endpoint, metric)] = row[0]


def metric_statuses(db: Database) -> list[MetricStatus]:
    """Every enabled endpoint's own check and each of its metrics, as they stand now.

    One status per check and per ``MetricSpec``, in endpoint key order (the check first, then
    the metrics in the endpoint's order). Where the values come from:

    - state, type, flapping, since, reason and band: the metric's newest state change
      (``metric_states``). A metric with no change but a checked endpoint has been OK since the
      endpoint's first result (the evaluator starts at a confirmed OK and logs nothing while it
      stays there); one whose endpoint was never checked is STALE, with no ``since``;
    - value: the newest sample of the metric's series (None for the check itself);
    - last_check: the endpoint's newest result, or its newest judged state change when that is
      later (a replayed past, a store whose results predate ``endpoint_results``);
    - interval_s: the probe interval; for a heartbeat, its grace period (it has no interval);
    - warning, critical: the static levels (None for an OUTSIDE range, which is no one line).

    Repeated reads on the same connection redo only what changed (see ``_Memo``), so a read
    costs little more than finding out what changed.
    """
    memo = _MEMOS.get(db)
    if memo is None:
        memo = _MEMOS[db] = _Memo()
    try:
        with _one_snapshot(db):
            _refresh(db, memo)
    except BaseException:
        del _MEMOS[db]  # half refreshed: the next read starts from nothing
        raise
    built, dirty = memo.built, memo.dirty
    out: list[MetricStatus] = []
    for owner in memo.endpoints:
        own = built.get(owner.key)
        if own is None or owner.key in dirty:
            own = built[owner.key] = _endpoint_statuses(memo, owner)
        out += own
    dirty.clear()
    return out


def _endpoint_statuses(memo: _Memo, owner: _Endpoint) -> list[MetricStatus]:
    key = owner.key
    result = memo.results.get(key)
    return [
        _status(
            owner,
            metric,
            memo.states.get((key, metric.key)),
            memo.values.get((key, metric.key)) if metric.key else None,
            result,
        )
        for metric in owner.metrics
    ]


def _status(
    owner: _Endpoint,
    metric: _MetricDef,
    row: _StateRow | None,
    value: float | None,
    result: tuple[int, int] | None,
) -> MetricStatus:
    last_check = None if result is None else _from_ms(result[0])
    if row is None:
        # Never changed: OK since the first result (a fresh evaluator is a confirmed OK and
        # logs nothing while it stays so), or STALE when no result ever came.
        state, state_type, flapping = CheckState.STALE, StateType.HARD, False
        since = reason = band_low = band_high = None
        if result is not None:
            state, since = CheckState.OK, _from_ms(result[1])
    else:
        state, state_type, flapping = row.state, row.state_type, row.flapping
        since, reason, band_low, band_high = row.since, row.reason, row.band_low, row.band_high
        if state is not CheckState.STALE and (last_check is None or row.changed_at > last_check):
            last_check = row.changed_at  # a judged change is a result too (STALE is a tick)
    return MetricStatus(
        endpoint=owner.key,
        endpoint_name=owner.name,
        service=owner.service,
        service_name=owner.service_name,
        team=owner.team,
        team_name=owner.team_name,
        metric_key=metric.key or None,
        metric_name=metric.name,
        unit=metric.unit,
        state=state,
        state_type=state_type,
        flapping=flapping,
        since=since,
        reason=reason or "",
        value=value,
        last_check=last_check,
        interval_s=owner.interval_s,
        band_low=band_low,
        band_high=band_high,
        warning=metric.warning,
        critical=metric.critical,
    )


def service_infos(db: Database) -> list[ServiceInfo]:
    """Every service with its tier and owning team, by key."""
    rows = db.execute(
        "SELECT s.key, s.name, s.tier, s.team, t.name FROM services s "
        "JOIN teams t ON t.key = s.team ORDER BY s.key"
    ).fetchall()
    return [ServiceInfo(k, n, ImpactTier(int(tier)), team, tn) for k, n, tier, team, tn in rows]


def acknowledged_services(db: Database) -> frozenset[str]:
    """Services whose open incidents are all acknowledged (their wall page may rotate away).

    A service with any open incident still TRIGGERED is not acknowledged, even when another
    of its incidents is: somebody has yet to answer for that one. Drills are left out: a
    rehearsal must not hold the page of a real CRITICAL (`drill_services` marks their tiles).
    """
    rows = db.execute(
        "SELECT service, MIN(state = ?) FROM incidents "
        "WHERE state != ? AND service IS NOT NULL AND drill = 0 GROUP BY service",
        [IncidentState.ACKNOWLEDGED.value, IncidentState.RESOLVED.value],
    ).fetchall()
    return frozenset(str(service) for service, all_acknowledged in rows if all_acknowledged)


def drill_services(db: Database) -> frozenset[str]:
    """Services with an open drill incident (their wall tiles say DRILL)."""
    rows = db.execute(
        "SELECT DISTINCT service FROM incidents "
        "WHERE drill = 1 AND state != ? AND service IS NOT NULL",
        [IncidentState.RESOLVED.value],
    ).fetchall()
    return frozenset(str(service) for (service,) in rows)


def tiles(db: Database, now: datetime) -> list[ServiceTile]:
    """One tile per service, worst first (see ``console.core.status.service_tiles``)."""
    from console.store import tile_people

    with _one_snapshot(db):
        services = service_infos(db)
        metrics = metric_statuses(db)
        acknowledged = acknowledged_services(db)
        drills = drill_services(db)
        on_call = tile_people.on_call_names(db, services, now)
        levels = tile_people.escalation_levels(db)
    return [
        replace(t, on_call=on_call.get(t.service), escalation_level=levels.get(t.service))
        if t.service in on_call or t.service in levels
        else t
        for t in service_tiles(services, metrics, now, acknowledged, drills)
    ]


def sparklines(
    db: Database,
    keys: Iterable[Key],
    since_ms: int,
    until_ms: int,
    points: int = 60,
) -> dict[Key, list[tuple[int, float]]]:
    """Each metric's values over [since_ms, until_ms), at most ``points`` of them.

    Reads raw samples or rollups (``samples.query_series`` picks the finest that gives at most
    ten times ``points``: raw up to about an hour at 10 s, 1-minute rollups up to 10 h, hourly
    ones beyond), then averages
    equal slices of the range so no more than ``points`` remain; missing values (NaN, gaps) are
    left out. A check (metric key None) draws its endpoint's ``up`` series. A metric with no
    series gets an empty list.

    Raises:
        ValueError: For an empty range or fewer than 1 point.
    """
    if until_ms <= since_ms or points < 1:
        raise ValueError("a sparkline needs a range that ends after it starts and 1+ points")
    out: dict[Key, list[tuple[int, float]]] = {}
    with _one_snapshot(db):
        for key in keys:
            endpoint, metric = key
            series = samples.find_series(db, endpoint, metric or CHECK_SERIES_METRIC)
            if series is None:
                out[key] = []
                continue
            data = samples.query_series(
                db, series, since_ms, until_ms, max_points=points * _SPARK_OVERREAD
            )
            out[key] = downsample(data.timestamps, data.values, since_ms, until_ms, points)
    return out


def downsample(
    timestamps: Sequence[int], values: Sequence[float], since_ms: int, until_ms: int, points: int
) -> list[tuple[int, float]]:
    """At most ``points`` (time, mean) pairs: one per equal slice of the range holding values.

    Each pair is stamped with the slice's first sample time, so a series that already fits
    comes back unchanged (NaN values dropped).
    """
    width = max(1, -(-(until_ms - since_ms) // points))
    out: list[tuple[int, float]] = []
    slot = None
    total = 0.0
    count = 0
    first = 0
    for ts, value in zip(timestamps, values, strict=True):
        if value != value:  # NaN: no value
            continue
        here = (max(ts, since_ms) - since_ms) // width
        if here != slot:
            if count:
                out.append((first, total / count))
            slot, total, count, first = here, 0.0, 0, ts
        total += value
        count += 1
    if count:
        out.append((first, total / count))
    return out


# -- what a restarted engine resumes from ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfirmedState:
    """A metric's confirmed state as the log left it: what a restarted engine resumes from.

    Attributes:
        hard_state: The confirmed (HARD) state.
        flapping: Whether it was flapping.
        flap_percent: Its percent state change when the flag last changed (0 when unknown).
    """

    hard_state: CheckState
    flapping: bool
    flap_percent: float


def confirmed_states(db: Database) -> dict[tuple[str, str | None], ConfirmedState]:
    """Every metric's confirmed state, by (endpoint, metric key: None for the check itself)."""
    rows = db.execute(
        "SELECT endpoint, metric_key, hard_state, flapping, flap_percent FROM metric_states"
    ).fetchall()
    return {
        (endpoint, key or None): ConfirmedState(
            CheckState(hard), bool(flapping), float(percent or 0.0)
        )
        for endpoint, key, hard, flapping, percent in rows
    }
