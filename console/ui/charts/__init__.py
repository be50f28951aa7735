"""Metric charts (pyqtgraph) and the scheduler that keeps many of them smooth.

What other views use:

* :class:`MetricChart`: the chart widget;
* :class:`ChartScheduler`: shared by every chart on screen, spreads their redraws over frames;
* :class:`ChartSource` (protocol) and :class:`StoreChartSource` / :class:`SeriesRef`: where
  history comes from (the store, read on the worker thread);
* :class:`ChartData`, :class:`ChartPoint`, :class:`ChartQuery`, :class:`RangePreset`,
  :class:`IncidentSpan`: the records they exchange.
"""

from console.ui.charts.chart import MetricChart
from console.ui.charts.data import (
    ChartData,
    ChartPoint,
    ChartQuery,
    IncidentSpan,
    PointState,
    RangePreset,
    Readout,
)
from console.ui.charts.scheduler import ChartScheduler
from console.ui.charts.source import BandFunction, ChartSource, SeriesRef, StoreChartSource

__all__ = [
    "BandFunction",
    "ChartData",
    "ChartPoint",
    "ChartQuery",
    "ChartScheduler",
    "ChartSource",
    "IncidentSpan",
    "MetricChart",
    "PointState",
    "RangePreset",
    "Readout",
    "SeriesRef",
    "StoreChartSource",
]
