"""Where a chart's history comes from: the ChartSource protocol and the store's implementation.

A chart never reads the store itself: it hands a :class:`ChartQuery` to its source and gets a
:class:`ChartData` back later, on the UI thread. :class:`StoreChartSource` runs the read on
the console's worker thread (``console.ui.tasks.TaskRunner``), so the UI thread never waits on
SQLite. The deviation band over history is not computed here: a :data:`BandFunction` given to
the source computes it (on the worker, from the series it read), so the chart does not depend
on how bands are computed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol

import numpy as np

from console.core.bands import band_edges, lookback_s
from console.core.endpoints import MetricSpec
from console.store.db import Store
from console.store.samples import Gap, find_series, query_series
from console.ui.charts.data import ChartData, ChartQuery, FloatArray
from console.ui.tasks import TaskRunner

Done = Callable[[ChartData], None]
Failed = Callable[[BaseException], None]

#: Computes the band edges for a series: ``(times, values) -> (lows, highs)``, aligned with
#: the times; None or NaN where the baseline is still warming up. Called on the worker thread.
BandFunction = Callable[
    [FloatArray, FloatArray],
    tuple[Sequence[float | None] | FloatArray, Sequence[float | None] | FloatArray],
]


class ChartSource(Protocol):
    """Loads a chart's history without blocking the UI thread."""

    def fetch(self, query: ChartQuery, done: Done, failed: Failed) -> None:
        """Start loading ``query``; later call ``done(data)`` or ``failed(error)`` on the UI thread.

        Must return at once. It may call back before returning (an in-memory source); the
        chart ignores answers to queries it has since replaced.
        """
        ...


@dataclass(frozen=True, slots=True)
class SeriesRef:
    """Which stored series a chart shows.

    Attributes:
        endpoint: The endpoint's key.
        metric: The metric's key (the probe's metric name).
        labels: The series' labels, as sorted (name, value) pairs.
    """

    endpoint: str
    metric: str
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, endpoint: str, metric: str, labels: Mapping[str, str] | None = None) -> SeriesRef:
        """A reference with labels given as a mapping."""
        return cls(endpoint, metric, tuple(sorted((labels or {}).items())))


def _break_at_gaps(
    times: FloatArray, columns: list[FloatArray], gaps: tuple[Gap, ...]
) -> tuple[FloatArray, list[FloatArray]]:
    """Insert a NaN point at the start of every gap that has points on both sides."""
    starts = np.array([g.start_ms / 1000 for g in gaps], dtype=np.float64)
    where = np.searchsorted(times, starts)
    inside = (where > 0) & (where < times.size)
    if not inside.any():
        return times, columns
    at, stamps = where[inside], starts[inside]
    broken = [np.insert(column, at, math.nan) for column in columns]
    return np.insert(times, at, stamps), broken


#: Points of band history read before a chart's range at most (a week of 1-minute rollups).
LOOKBACK_MAX_POINTS = 11_000


def load_chart_data(
    store: Store,
    ref: SeriesRef,
    query: ChartQuery,
    bands: BandFunction | None = None,
    band_lookback_s: float = 0.0,
) -> ChartData:
    """Read one chart's data from the store (call it on a worker thread: it reads SQLite).

    Args:
        store: The store (read through the calling thread's read connection).
        ref: The series.
        query: The range and resolution wanted.
        bands: Computes the band over the series read, or None for no band.
        band_lookback_s: Extra history read before the range so the band is warm at its
            start (only with ``bands``; those earlier points are not returned).

    Returns:
        The points, with NaN breaks at recorded gaps; empty when the series does not exist.
    """
    db = store.read()
    series = find_series(db, ref.endpoint, ref.metric, dict(ref.labels))
    if series is None:
        return ChartData.empty(query.resolution)
    lookback_ms = math.ceil(band_lookback_s * 1000) if bands is not None else 0
    found = query_series(db, series, query.start_ms, query.end_ms, resolution=query.resolution)
    times = np.array(found.timestamps, dtype=np.float64) / 1000
    values = np.array(found.values, dtype=np.float64)
    if lookback_ms > 0:
        # The band's history is read at the finest resolution still complete that far back
        # (raw samples are kept 48 h; a seasonal band looks back days), not at the chart's.
        before = query_series(
            db,
            series,
            query.start_ms - lookback_ms,
            query.start_ms,
            max_points=LOOKBACK_MAX_POINTS,
        )
        times = np.concatenate([np.array(before.timestamps, dtype=np.float64) / 1000, times])
        values = np.concatenate([np.array(before.values, dtype=np.float64), values])
    if bands is None:
        low = high = np.full(times.shape, math.nan)
    else:
        low, high = (np.array(_floats(edge), dtype=np.float64) for edge in bands(times, values))
    keep = times >= query.start
    times, (values, low, high) = _break_at_gaps(
        times[keep], [values[keep], low[keep], high[keep]], found.gaps
    )
    return ChartData.build(times, values, low, high, found.resolution)


def _floats(edge: Sequence[float | None] | FloatArray) -> list[float] | FloatArray:
    if isinstance(edge, np.ndarray):
        return edge
    return [math.nan if x is None else x for x in edge]


class StoreChartSource:
    """A :class:`ChartSource` reading one series from the store on the worker thread."""

    def __init__(
        self,
        store: Store,
        runner: TaskRunner,
        ref: SeriesRef,
        *,
        bands: BandFunction | None = None,
        band_lookback_s: float = 0.0,
    ) -> None:
        """A source for ``ref``; ``bands`` (run on the worker) computes its deviation band."""
        self.store = store
        self.ref = ref
        self._runner = runner
        self._bands = bands
        self._lookback = band_lookback_s

    @classmethod
    def for_metric(
        cls,
        store: Store,
        runner: TaskRunner,
        endpoint: str,
        spec: MetricSpec,
        labels: Mapping[str, str] | None = None,
    ) -> StoreChartSource:
        """A source for one endpoint's metric, with its deviation band when it has one.

        The band is :func:`console.core.bands.band_edges` for the metric's configuration, with
        enough history read before each range for the band to be warm at its start.
        """
        ref = SeriesRef.of(endpoint, spec.metric, labels)
        config = spec.deviation
        if config is None:
            return cls(store, runner, ref)
        return cls(
            store,
            runner,
            ref,
            bands=partial(band_edges, config=config),
            band_lookback_s=lookback_s(config),
        )

    def fetch(self, query: ChartQuery, done: Done, failed: Failed) -> None:
        """Queue the read on the worker; the answer comes back through the runner's signals."""
        store, ref, bands, lookback = self.store, self.ref, self._bands, self._lookback
        self._runner.submit(
            lambda: load_chart_data(store, ref, query, bands, lookback), done, failed
        )
