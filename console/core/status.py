"""What the monitoring view and the wall show: each metric's current state and each service's worst.

These records are read models: the store fills them from the state-change events, the newest
samples and the estate; the views only display them. Every judgement that depends on the clock
(STALE data, time in state, data age) is a function of an explicit ``now`` so a wall never shows
old data as fresh and tests need no sleeping.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from console.core.checks import STALE_INTERVALS, CheckState, StateType
from console.core.enums import ImpactTier
from console.core.units import Unit, format_value


class DisplayState(Enum):
    """A state as shown to people: the judged state, STALE data, or a flapping metric.

    FLAPPING is shown in place of a changing state so a wall does not blink; the judged state
    underneath is still known (``MetricStatus.state``).
    """

    OK = "ok"
    STALE = "stale"
    UNKNOWN = "unknown"
    FLAPPING = "flapping"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Worse is higher: OK 0 < STALE 1 < UNKNOWN 2 < FLAPPING 3 < WARNING 4 < CRITICAL 5."""
        return _RANK[self]

    @property
    def label(self) -> str:
        """The word shown beside the colour (a state is never colour alone)."""
        return self.name


_RANK = {state: rank for rank, state in enumerate(DisplayState)}


@dataclass(frozen=True, slots=True)
class MetricStatus:
    """One judged metric (or an endpoint's own check) as it stands.

    Attributes:
        endpoint: The endpoint's key.
        endpoint_name: The endpoint's display name.
        service: The owning service's key.
        service_name: The owning service's display name.
        team: The service's owning team key.
        team_name: That team's display name.
        metric_key: The metric's key, or None for the endpoint's own check.
        metric_name: What people call it ("check" for the endpoint's own check).
        unit: The unit's symbol, "" when it has none.
        state: The judged state (STALE when the engine itself noticed silence).
        state_type: SOFT (seen) or HARD (confirmed).
        flapping: Whether the metric is flapping.
        since: When the current state began, or None when it was never judged.
        reason: Why (the evaluator's reason text), "" when never judged.
        value: The newest value, or None.
        last_check: When the newest result arrived, or None.
        interval_s: The endpoint's probe interval.
        band_low: The deviation band's lower edge at the last state change, or None.
        band_high: The deviation band's upper edge at the last state change, or None.
        warning: The static warning level, or None.
        critical: The static critical level, or None.
    """

    endpoint: str
    endpoint_name: str
    service: str
    service_name: str
    team: str
    team_name: str
    metric_key: str | None
    metric_name: str
    unit: str
    state: CheckState
    state_type: StateType
    flapping: bool
    since: datetime | None
    reason: str
    value: float | None
    last_check: datetime | None
    interval_s: float
    band_low: float | None = None
    band_high: float | None = None
    warning: float | None = None
    critical: float | None = None

    def is_stale(self, now: datetime) -> bool:
        """No result for more than 3 intervals, or never a result at all."""
        return _is_stale(self, stale_cutoff(now, self.interval_s))

    def display_state(self, now: datetime) -> DisplayState:
        """What to show: a known bad value first, then STALE data, then flapping, else the state."""
        return _display(self, self.is_stale(now))

    def seconds_in_state(self, now: datetime) -> float | None:
        """How long the current state has lasted, or None when it was never judged."""
        return None if self.since is None else max(0.0, (now - self.since).total_seconds())

    def data_age(self, now: datetime) -> float | None:
        """Seconds since the newest result, or None when there is none."""
        if self.last_check is None:
            return None
        return max(0.0, (now - self.last_check).total_seconds())


@dataclass(frozen=True, slots=True)
class ServiceTile:
    """One service on the wall: its worst metric and who answers for it.

    Attributes:
        service: The service's key.
        name: Its display name.
        tier: Its business impact tier.
        team: The owning team's key.
        team_name: The owning team's display name.
        state: The worst display state of its metrics (OK when it has none).
        worst: The metric that set that state, or None.
        since: When the worst metric's state began.
        data_age_s: Seconds since the newest result among its metrics, or None.
        metric_count: How many metrics it has.
        bad_count: How many of them are not OK.
        unacknowledged: A CRITICAL with no acknowledged incident: the page holding it stays.
        on_call: Who is on call for the owning team, when known.
        escalation_level: The open incident's escalation level, when known.
        drill: A drill incident is open on the service (the tile says DRILL).
    """

    service: str
    name: str
    tier: ImpactTier
    team: str
    team_name: str
    state: DisplayState
    worst: MetricStatus | None
    since: datetime | None
    data_age_s: float | None
    metric_count: int
    bad_count: int
    unacknowledged: bool = False
    on_call: str | None = None
    escalation_level: int | None = None
    drill: bool = False


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """What a tile needs to know of a service besides its metrics."""

    key: str
    name: str
    tier: ImpactTier
    team: str
    team_name: str


def stale_cutoff(now: datetime, interval_s: float) -> datetime:
    """The newest result time that is STALE at ``now`` for that interval (3 intervals back).

    A result at exactly the cutoff is not yet stale: at 90 s after the last result of a 30 s
    probe the data still counts, at 90.000001 s it does not.
    """
    return now - timedelta(seconds=STALE_INTERVALS * interval_s)


def _is_stale(metric: MetricStatus, cutoff: datetime) -> bool:
    last = metric.last_check
    return metric.state is CheckState.STALE or last is None or last < cutoff


def _display(metric: MetricStatus, stale: bool) -> DisplayState:
    # Identity tests only: this runs for every metric of a wall on every refresh.
    state = metric.state
    if not stale and (state is CheckState.CRITICAL or state is CheckState.WARNING):
        if metric.flapping:
            return DisplayState.FLAPPING
        return DisplayState.CRITICAL if state is CheckState.CRITICAL else DisplayState.WARNING
    if stale:
        return DisplayState.STALE  # a STALE state is always stale data
    if metric.flapping:
        return DisplayState.FLAPPING
    return DisplayState.OK if state is CheckState.OK else DisplayState.UNKNOWN


_Shown = tuple[MetricStatus, DisplayState, int]


def _shown(metrics: Iterable[MetricStatus], now: datetime) -> dict[str, list[_Shown]]:
    """Each metric with its display state and that state's rank, by service."""
    cutoffs: dict[float, datetime] = {}
    ranks = {id(state): rank for state, rank in _RANK.items()}
    by_service: dict[str, list[_Shown]] = {}
    for metric in metrics:
        cutoff = cutoffs.get(metric.interval_s)
        if cutoff is None:
            cutoff = cutoffs[metric.interval_s] = stale_cutoff(now, metric.interval_s)
        shown = _display(metric, _is_stale(metric, cutoff))
        by_service.setdefault(metric.service, []).append((metric, shown, ranks[id(shown)]))
    return by_service


def _worst_metric(metrics: Sequence[_Shown]) -> tuple[MetricStatus | None, DisplayState]:
    worst: MetricStatus | None = None
    state, top = DisplayState.OK, 0
    for metric, shown, rank in metrics:
        older = (
            worst is not None
            and rank == top
            and metric.since is not None
            and (worst.since is None or metric.since < worst.since)
        )
        if worst is None or rank > top or older:
            worst, state, top = metric, shown, rank
    return worst, state


def service_tiles(
    services: Iterable[ServiceInfo],
    metrics: Iterable[MetricStatus],
    now: datetime,
    acknowledged: frozenset[str] = frozenset(),
    drills: frozenset[str] = frozenset(),
) -> list[ServiceTile]:
    """One tile per service, worst first (state, then tier, then longest in that state, then name).

    Args:
        services: Every service to show (a service without metrics shows OK with no data).
        metrics: Every metric status.
        now: The current time.
        acknowledged: Services whose CRITICAL has an acknowledged incident.
        drills: Services with an open drill incident.
    """
    # Each metric's display state is worked out once: a wall of thousands refreshes each second.
    by_service = _shown(metrics, now)
    tiles = []
    for info in services:
        own = by_service.get(info.key, [])
        worst, state = _worst_metric(own)
        checked = [m.last_check for m, _, _ in own if m.last_check is not None]
        tiles.append(
            ServiceTile(
                service=info.key,
                name=info.name,
                tier=info.tier,
                team=info.team,
                team_name=info.team_name,
                state=state,
                worst=worst,
                since=None if worst is None else worst.since,
                data_age_s=max(0.0, (now - max(checked)).total_seconds()) if checked else None,
                metric_count=len(own),
                bad_count=sum(1 for _, shown, _ in own if shown is not DisplayState.OK),
                unacknowledged=state is DisplayState.CRITICAL and info.key not in acknowledged,
                drill=info.key in drills,
            )
        )
    return sorted(tiles, key=lambda t: _tile_order(t, now))


def _tile_order(tile: ServiceTile, now: datetime) -> tuple[int, int, float, str]:
    lasted = 0.0 if tile.since is None else (now - tile.since).total_seconds()
    return (-tile.state.rank, int(tile.tier), -lasted, tile.name.casefold())


_SYMBOLS = {
    Unit.NONE: "",
    Unit.MILLISECONDS: "ms",
    Unit.SECONDS: "s",
    Unit.PERCENT: "%",
    Unit.BYTES: "B",
    Unit.PER_SECOND: "/s",
    Unit.DAYS: "d",
}


_UNITS = {symbol: unit for unit, symbol in _SYMBOLS.items()}


def unit_symbol(unit: Unit) -> str:
    """The symbol a table column shows after a value ("" for a plain number)."""
    return _SYMBOLS[unit]


def value_text(status: MetricStatus) -> str:
    """The newest value for people, in its unit ("812 ms", "1.5 MiB"); "-" when there is none."""
    if status.value is None:
        return "-"
    return format_value(status.value, _UNITS.get(status.unit, Unit.NONE))


def worst_first(metrics: Iterable[MetricStatus], now: datetime) -> list[MetricStatus]:
    """Metrics ordered as a monitoring table lists them by default: worst first.

    Display state (worst first), then the longest in that state (never-judged ones last), then
    endpoint and metric name, so equal rows keep a stable order between refreshes.
    """

    def order(m: MetricStatus) -> tuple[int, float, str, str]:
        lasted = m.seconds_in_state(now)
        return (
            -m.display_state(now).rank,
            -(lasted if lasted is not None else -1.0),
            m.endpoint_name.casefold(),
            m.metric_name.casefold(),
        )

    return sorted(metrics, key=order)
