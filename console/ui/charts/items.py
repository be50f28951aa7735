"""The pyqtgraph items one metric chart draws, and how they take the theme's colours.

Performance rules from DESIGN.md: 1-px cosmetic pens, no antialiasing, the curve with
``autoDownsample`` and ``setClipToView``, and items that must not move the axes added with
``ignoreBounds``. The band is one path item built here from numpy arrays: pyqtgraph's
``FillBetweenItem`` rebuilt its path through Qt polygons on every change and cost about
40 ms per update for a 3,600-point band on this machine, more than the rest of the chart.
There is no grid: an axis that draws grid lines covers the whole plot, so every data change
repainted both axes with their text (about 7 ms of a 800x300 chart's 13 ms repaint here).
"""

from __future__ import annotations

import math
import time
import weakref
from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from console.core.thresholds import StaticThresholds
from console.core.units import Unit, format_value
from console.ui.charts.data import FloatArray, IncidentSpan, PointState, level_values
from console.ui.charts.palette import ChartPalette

#: Marker shapes: a triangle pointing the way the value left its band.
ABOVE_SYMBOL = "t1"
BELOW_SYMBOL = "t"
MARKER_SIZE = 9
#: Dash patterns tell the levels apart without colour.
LEVEL_STYLES = {
    PointState.WARNING: Qt.PenStyle.DashLine,
    PointState.CRITICAL: Qt.PenStyle.SolidLine,
}
#: Fixed axis sizes: an axis that resizes to its tick labels relayouts the whole plot.
LEFT_AXIS_WIDTH = 64


def _pen(colour: str | QColor, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(pg.mkPen(colour, width=1, style=style))
    pen.setCosmetic(True)
    return pen


def _translucent(colour: str, alpha: int) -> QColor:
    result = QColor(colour)
    result.setAlpha(alpha)
    return result


def band_path(times: FloatArray, low: FloatArray, high: FloatArray) -> QPainterPath:
    """A filled path between two edges: one closed polygon per run of points with a band.

    A NaN edge ends a run (warm-up, a gap): nothing is drawn across it.
    """
    present = ~(np.isnan(low) | np.isnan(high))
    if not present.any():
        return QPainterPath()
    steps = np.diff(present.astype(np.int8))
    starts = np.flatnonzero(steps == 1) + 1
    ends = np.flatnonzero(steps == -1) + 1
    if present[0]:
        starts = np.r_[0, starts]
    if present[-1]:
        ends = np.r_[ends, present.size]
    xs: list[FloatArray] = []
    ys: list[FloatArray] = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        xs += [times[a:b], times[a:b][::-1]]
        ys += [high[a:b], low[a:b][::-1]]
    x, y = np.concatenate(xs), np.concatenate(ys)
    connect = np.ones(x.size, dtype=np.int32)
    connect[np.cumsum((ends - starts) * 2) - 1] = 0  # each polygon's last point ends it
    path = QPainterPath(pg.functions.arrayToQPath(x, y, connect=connect, finiteCheck=False))
    path.setFillRule(Qt.FillRule.WindingFill)
    return path


def envelope(
    times: FloatArray, low: FloatArray, high: FloatArray, most: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """At most about ``most`` points: buckets of the lowest low and the highest high.

    A bucket holding any NaN stays NaN (``min``/``max`` propagate it), so gaps survive.
    """
    stride = math.ceil(times.size / most) if most > 0 else 1
    if stride <= 1:
        return times, low, high
    whole = times.size - times.size % stride
    t = times[:whole:stride]
    lo = low[:whole].reshape(-1, stride).min(axis=1)
    hi = high[:whole].reshape(-1, stride).max(axis=1)
    if whole < times.size:
        tail = slice(whole, None)
        t = np.r_[t, times[whole]]
        lo = np.r_[lo, low[tail].min()]
        hi = np.r_[hi, high[tail].max()]
    return t, lo, hi


def set_points(item: pg.PlotDataItem, x: FloatArray, y: FloatArray) -> None:
    """Give a marker item these points, unless it holds them already (markers are costly)."""
    old_x, old_y = item.getOriginalDataset()
    if old_x is None and not x.size:
        return
    if old_x is not None and np.array_equal(old_x, x) and np.array_equal(old_y, y):
        return
    item.setData(x, y)


class BandItem(QGraphicsPathItem):
    """The deviation band: a filled path in data coordinates (see :func:`band_path`)."""

    def __init__(self) -> None:
        """An empty band with no outline."""
        super().__init__()
        self.setPen(QPen(Qt.PenStyle.NoPen))
        self.polygons = 0

    def set_band(self, times: FloatArray, low: FloatArray, high: FloatArray) -> None:
        """Draw the band between ``low`` and ``high``."""
        path = band_path(times, low, high)
        self.polygons = len(path.toSubpathPolygons()) if path.elementCount() else 0
        self.setPath(path)


class TimedPlotWidget(pg.PlotWidget):  # type: ignore[misc]  # pyqtgraph is untyped
    """A PlotWidget that reports how long each paint took (for the scheduler's budget)."""

    def __init__(self, on_paint: Callable[[float], None]) -> None:
        """A plot with a local-time date axis; ``on_paint(ms)`` follows every paint.

        ``on_paint`` is held weakly (a bound method of the chart holding this widget would
        otherwise make a reference cycle).
        """
        super().__init__(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self._on_paint = weakref.WeakMethod(on_paint)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint, and report the time it took."""
        started = time.perf_counter()
        super().paintEvent(event)
        report = self._on_paint()
        if report is not None:
            report((time.perf_counter() - started) * 1000)


class ChartItems:
    """Everything drawn inside one chart's plot, created once and re-coloured on theme change."""

    def __init__(self, widget: pg.PlotWidget, palette: ChartPalette) -> None:
        """Add the items to ``widget``'s plot and colour them."""
        self.widget = widget
        self.plot: pg.PlotItem = widget.getPlotItem()
        self.palette = palette
        self.curve = pg.PlotDataItem(connect="finite", antialias=False)
        self.band = BandItem()
        self.above = pg.PlotDataItem(pen=None, symbol=ABOVE_SYMBOL, symbolSize=MARKER_SIZE)
        self.below = pg.PlotDataItem(pen=None, symbol=BELOW_SYMBOL, symbolSize=MARKER_SIZE)
        self.crosshair = pg.InfiniteLine(angle=90, movable=False)
        self.crosshair.hide()
        self.levels: list[tuple[PointState, pg.InfiniteLine]] = []
        self.incidents: list[tuple[IncidentSpan, pg.LinearRegionItem, pg.InfLineLabel]] = []
        self._setup_plot()
        self.band.setZValue(-10)
        self.plot.addItem(self.band, ignoreBounds=True)
        self.plot.addItem(self.curve)
        for item in (self.above, self.below, self.crosshair):
            self.plot.addItem(item, ignoreBounds=True)
        # Clipping needs the view box, so it is switched on once the curve is in the plot.
        self.curve.setClipToView(True)
        self.curve.setDownsampling(auto=True, method="peak")
        self.apply_palette(palette)

    def _setup_plot(self) -> None:
        plot = self.plot
        plot.setMouseEnabled(x=False, y=False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.disableAutoRange()
        plot.showGrid(x=False, y=False)
        plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        self.widget.setAntialiasing(False)

    def apply_palette(self, palette: ChartPalette) -> None:
        """Colour every item from ``palette`` (pyqtgraph does not follow the Qt palette)."""
        self.palette = palette
        self.widget.setBackground(palette.background)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(_pen(palette.axis))
            axis.setTextPen(_pen(palette.text))
        self.curve.setPen(_pen(palette.curve))
        self.band.setBrush(pg.mkBrush(_translucent(palette.band, palette.band_alpha)))
        for marker in (self.above, self.below):
            marker.setSymbolBrush(pg.mkBrush(palette.outlier))
            marker.setSymbolPen(_pen(palette.background))
        self.crosshair.setPen(_pen(palette.muted, Qt.PenStyle.DotLine))
        for state, line in self.levels:
            line.setPen(_pen(_level_colour(state, palette), LEVEL_STYLES[state]))
            line.label.setColor(_level_colour(state, palette))
        for _span, region, label in self.incidents:
            region.setBrush(pg.mkBrush(_translucent(palette.incident, palette.incident_alpha)))
            for edge in region.lines:
                edge.setPen(_pen(_translucent(palette.incident, 160)))
            label.setColor(palette.text)

    def set_levels(self, thresholds: StaticThresholds | None, unit: Unit) -> None:
        """Draw the warning and critical levels as labelled horizontal lines."""
        for _state, line in self.levels:
            self.plot.removeItem(line)
        self.levels = []
        if thresholds is None:
            return
        for state, level in (
            (PointState.WARNING, thresholds.warning),
            (PointState.CRITICAL, thresholds.critical),
        ):
            for y in level_values(level):
                line = pg.InfiniteLine(
                    pos=y,
                    angle=0,
                    movable=False,
                    label=f"{state.label} {format_value(y, unit)}",
                    labelOpts={"position": 0.02, "anchors": [(0, 1), (0, 1)]},
                )
                self.plot.addItem(line, ignoreBounds=True)
                self.levels.append((state, line))
        self.apply_palette(self.palette)

    def set_incidents(self, spans: Sequence[IncidentSpan], open_end: float) -> None:
        """Shade each incident's span; an open incident reaches ``open_end``."""
        for _span, region, _label in self.incidents:
            self.plot.removeItem(region)
        self.incidents = []
        for span in spans:
            region = pg.LinearRegionItem(
                values=(span.start, span.end if span.end is not None else open_end),
                movable=False,
            )
            region.setZValue(-20)
            label = pg.InfLineLabel(
                region.lines[0], text=span.label, position=0.92, anchors=[(0, 0), (0, 0)]
            )
            self.plot.addItem(region, ignoreBounds=True)
            self.incidents.append((span, region, label))
        self.apply_palette(self.palette)

    def extend_open_incidents(self, open_end: float) -> None:
        """Move the end of every still-open incident to ``open_end``."""
        for span, region, _label in self.incidents:
            if span.end is None:
                region.setRegion((span.start, open_end))


def _level_colour(state: PointState, palette: ChartPalette) -> str:
    return palette.critical if state is PointState.CRITICAL else palette.warning
