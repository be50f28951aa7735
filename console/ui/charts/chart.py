"""MetricChart: one metric over time, against its deviation band and levels, live.

How it stays cheap (DESIGN.md measured 24 charts redrawn at once at about 90 to 180 ms):

* Nothing is drawn when data arrives. ``append`` only stores the point and posts an update to
  the :class:`~console.ui.charts.scheduler.ChartScheduler`, which keeps one pending update
  per chart and runs a few per frame.
* The time axis moves in steps (:mod:`console.ui.charts.view`): when the newest point (or
  the clock) passes the right edge, the range jumps forward by 5 % of the span, so the axis
  relayouts once per step, not once per sample; a timer posts an update at each step so a
  silent metric still scrolls (its missing data must show).
* The y range changes only when the visible data leaves it or shrinks to under half of it.
* Text that changes (the readout) never resizes the chart, which would relayout its
  neighbours in a grid.
* History is loaded through a :class:`~console.ui.charts.source.ChartSource` (a worker
  thread for the store); answers to superseded queries are ignored.

While paused, live points are kept (up to :data:`PAUSE_LIMIT`; beyond that the chart reloads
from its source on resume) and the view stays still; resuming applies them.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QPointF, QTimer, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget
from shiboken6 import isValid

from console.core.clock import Clock, SystemClock
from console.core.deviation import Side
from console.core.endpoints import MetricSpec
from console.core.thresholds import StaticThresholds
from console.core.units import Unit
from console.ui.charts.buffer import HeldPoints, SeriesBuffer
from console.ui.charts.controls import ChartControls
from console.ui.charts.data import (
    ChartData,
    ChartPoint,
    ChartQuery,
    IncidentSpan,
    RangePreset,
    Readout,
    level_values,
    outside_band,
    point_state,
)
from console.ui.charts.export import ask_save_path, write_csv, write_png
from console.ui.charts.items import ChartItems, TimedPlotWidget, envelope, set_points
from console.ui.charts.palette import chart_palette
from console.ui.charts.scheduler import ChartScheduler
from console.ui.charts.source import ChartSource
from console.ui.charts.view import KEEP_SHARE, STEP_SHARE, next_view_end, next_y_range, visible
from console.ui.theme import Theme

#: Live points kept while paused; more and the chart reloads from its source on resume.
PAUSE_LIMIT = 100_000


class MetricChart(QWidget):
    """One metric's chart: curve, band, outliers, levels, incidents, presets, readout, export.

    Feed it history through a :class:`ChartSource` (``set_source``; loaded per range preset) or
    directly (``set_data``), and live samples through ``append``. Colours come from the theme
    given (``set_theme`` re-applies them). Several charts should share one
    :class:`ChartScheduler`; without one a chart makes its own.
    """

    #: A loaded (or given) ChartData has been drawn.
    data_applied = Signal()
    #: Loading failed; the text says why (the chart keeps what it showed).
    load_failed = Signal(str)
    #: The range preset changed.
    preset_changed = Signal(object)
    #: Live updates were paused (True) or resumed (False).
    paused_changed = Signal(bool)
    #: The readout's text changed.
    readout_changed = Signal(str)

    def __init__(
        self,
        theme: Theme,
        source: ChartSource | None = None,
        *,
        scheduler: ChartScheduler | None = None,
        spec: MetricSpec | None = None,
        preset: RangePreset = RangePreset.HOUR_1,
        clock: Clock | None = None,
        controls: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        """Build the chart; with a source it starts loading ``preset`` at once."""
        super().__init__(parent)
        self.theme = theme
        self.source = source
        self.scheduler = scheduler if scheduler is not None else ChartScheduler(self)
        self.scheduler.register(self)
        self._clock = clock or SystemClock()
        self._preset = preset
        self._buffer = SeriesBuffer(preset.resolution)
        self._view_end: float | None = None
        self._y_range: tuple[float, float] | None = None
        self._dirty = False
        self._fresh_load = False
        self._serial = 0
        self._loading = False
        self._arrived_while_loading: list[ChartPoint] = []
        self._paused = False
        self._held = HeldPoints(PAUSE_LIMIT)
        self._banded = False
        self._hovering = False
        self._thresholds: StaticThresholds | None = None
        self._side = Side.BOTH
        self._unit = Unit.NONE
        self._incidents: tuple[IncidentSpan, ...] = ()
        self.renders = 0
        self.last_query: ChartQuery | None = None
        self._build(controls)
        self._step_timer = QTimer(self)
        self._step_timer.timeout.connect(self._on_step_timer)
        self._set_step_timer()
        if spec is not None:
            self.set_metric(spec)
        if source is not None:
            self.reload()

    # -- building -----------------------------------------------------------------------

    def _build(self, controls: bool) -> None:
        self.plot_widget = TimedPlotWidget(self._on_painted)
        self.plot_widget.setAccessibleName("Metric chart")
        # Mouse moves are read here, not from the scene's sigMouseMoved, which drops moves
        # closer than 10 ms apart and so can leave the crosshair short of where the mouse stopped.
        self.plot_widget.viewport().installEventFilter(self)
        self.items = ChartItems(self.plot_widget, chart_palette(self.theme))
        # Parented at once: a parentless widget made visible opens as a window of its own
        # and takes the activation away from the main window.
        self.controls = ChartControls(self._preset, parent=self)
        self.controls.setVisible(controls)
        self.controls.preset_chosen.connect(self.set_preset)
        self.controls.pause_toggled.connect(self.set_paused)
        self.controls.png_requested.connect(self._ask_png)
        self.controls.csv_requested.connect(self._ask_csv)
        self.readout_label = QLabel("No data")
        self.readout_label.setObjectName("ChartReadout")
        self.readout_label.setAccessibleName("Chart readout")
        self.status_label = QLabel()
        self.status_label.setObjectName("ChartStatus")
        self.status_label.hide()
        # Text that changes every second must not resize the chart: in a grid of charts a
        # longer readout would relayout (and repaint) every chart in its row and column.
        for label in (self.readout_label, self.status_label):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        for widget in (self.controls, self.readout_label, self.status_label):
            layout.addWidget(widget)
        layout.addWidget(self.plot_widget, 1)
        self._restyle_labels()

    def _restyle_labels(self) -> None:
        self.controls.restyle(self.theme)
        self.readout_label.setStyleSheet(f"color: {self.theme.muted};")

    # -- configuration ------------------------------------------------------------------

    @property
    def preset(self) -> RangePreset:
        """The range shown."""
        return self._preset

    @property
    def paused(self) -> bool:
        """Whether live updates are paused."""
        return self._paused

    @property
    def loading(self) -> bool:
        """Whether a query is out with the source."""
        return self._loading

    @property
    def view_range(self) -> tuple[float, float] | None:
        """The time range shown (epoch seconds), once the chart has drawn."""
        if self._view_end is None:
            return None
        return self._view_end - self._preset.seconds, self._view_end

    def set_theme(self, theme: Theme) -> None:
        """Re-colour everything from ``theme``."""
        self.theme = theme
        self.items.apply_palette(chart_palette(theme))
        self._restyle_labels()

    def set_metric(self, spec: MetricSpec) -> None:
        """Take the metric's name, unit, static levels and band side."""
        self.controls.title_label.setText(spec.name)
        self.plot_widget.setAccessibleName(f"{spec.name} chart")
        self._unit = spec.unit
        self._side = spec.deviation.side if spec.deviation is not None else Side.BOTH
        self.set_thresholds(spec.thresholds)

    def set_thresholds(self, thresholds: StaticThresholds | None) -> None:
        """Draw these warning and critical levels (None: none)."""
        self._thresholds = thresholds
        self.items.set_levels(thresholds, self._unit)
        self._y_range = None
        self._post()

    def set_incidents(
        self, spans: Iterable[IncidentSpan | tuple[float, float | None, str]]
    ) -> None:
        """Shade these incidents: ``(start, end or None while open, label)`` each."""
        self._incidents = tuple(IncidentSpan.of(span) for span in spans)
        open_end = self._view_end if self._view_end is not None else self._now()
        self.items.set_incidents(self._incidents, open_end)

    @property
    def incidents(self) -> tuple[IncidentSpan, ...]:
        """The incidents shaded."""
        return self._incidents

    def _now(self) -> float:
        return self._clock.now().timestamp()

    # -- data ---------------------------------------------------------------------------

    def set_source(self, source: ChartSource | None) -> None:
        """Read history from ``source`` from now on (and load the current range from it)."""
        self.source = source
        self.reload()

    def set_preset(self, preset: RangePreset) -> None:
        """Show ``preset``'s range, reading its resolution from the source."""
        self.controls.show_preset(preset)
        if preset is self._preset:
            return
        self._preset = preset
        self._view_end = None
        self._set_step_timer()
        self.preset_changed.emit(preset)
        self.reload()

    def reload(self) -> None:
        """Ask the source for the current range again (nothing happens without a source)."""
        if self.source is None:
            return
        self._serial += 1
        serial = self._serial
        query = ChartQuery.ending(self._preset, self._now())
        self.last_query = query
        self._loading = True
        self._arrived_while_loading = []
        self._show_status(f"Loading {self._preset.label}…", error=False)
        answer = _Answer(weakref.ref(self), serial)
        self.source.fetch(query, answer.done, answer.failed)

    def _on_loaded(self, serial: int, data: ChartData) -> None:
        if serial == self._serial:
            self._apply_data(data)

    def _on_failed(self, serial: int, exc: BaseException) -> None:
        if serial != self._serial:
            return
        self._loading = False
        self._show_status(f"Could not load the chart: {exc}", error=True)
        self.load_failed.emit(str(exc))

    def set_data(self, data: ChartData) -> None:
        """Show ``data`` as the history (any load still out is then ignored)."""
        self._serial += 1
        self._apply_data(data)

    def _apply_data(self, data: ChartData) -> None:
        self._loading = False
        self._show_status("", error=False)
        self._buffer.replace(data)
        for point in self._arrived_while_loading:  # the query ended before these arrived
            self._buffer.append(point)
        self._arrived_while_loading = []
        self._banded = data.has_band
        self._view_end = None
        self._y_range = None
        self._fresh_load = True
        self._dirty = True
        self._post()

    def append(self, point: ChartPoint) -> None:
        """Add a live sample (kept, not drawn, while paused)."""
        if self._paused:
            self._held.hold(point)
            return
        if self._loading:
            self._arrived_while_loading.append(point)
        if self._buffer.append(point):
            self._banded = self._banded or point.band_low is not None
            self._dirty = True
            self._post()

    def extend(self, points: Iterable[ChartPoint]) -> None:
        """Add several live samples."""
        for point in points:
            self.append(point)

    def data(self) -> ChartData:
        """A copy of the points the chart holds (what CSV export writes)."""
        return self._buffer.snapshot()

    @property
    def held(self) -> int:
        """Live points kept while paused."""
        return len(self._held)

    # -- pause ----------------------------------------------------------------------------

    def set_paused(self, paused: bool) -> None:
        """Pause live updates (points are kept) or resume them (kept points are applied)."""
        if paused == self._paused:
            return
        self._paused = paused
        self.controls.show_paused(paused)
        if not paused:
            self._release_held()
        self.paused_changed.emit(paused)

    def _release_held(self) -> None:
        held, overflowed = self._held.release()
        if overflowed and self.source is not None:
            self.reload()  # some points were dropped: the store has them all
            return
        self.extend(held)
        self._post()

    # -- drawing --------------------------------------------------------------------------

    def _post(self) -> None:
        self.scheduler.post(self, self._render)

    def _on_painted(self, cost_ms: float) -> None:
        self.scheduler.note_paint(cost_ms)

    def _on_step_timer(self) -> None:
        if not self._paused:
            self._post()

    def _set_step_timer(self) -> None:
        self._step_timer.start(max(1000, round(self._preset.seconds * STEP_SHARE * 1000)))

    def flush(self) -> bool:
        """Draw now whatever is pending for this chart; False when nothing was."""
        update = self.scheduler.take(self)
        if update is None:
            return False
        update()
        return True

    def _render(self) -> None:
        """Apply everything pending: the view's step, the series, the y range."""
        moved = self._step_view()
        if self._dirty or moved:
            self._draw_series()
        self._fit_y()
        if moved:
            self.items.extend_open_incidents(self._view_end or self._now())
        self._dirty = False
        self.renders += 1
        if not self._hovering:
            self._show_readout(self.readout_at(math.inf))
        if self._fresh_load:
            self._fresh_load = False
            self.data_applied.emit()

    def _step_view(self) -> bool:
        """Jump the time range forward once the newest point or the clock passes its edge."""
        if self._paused and self._view_end is not None:
            return False
        span = self._preset.seconds
        last = self._buffer.last_time
        newest = max(self._now(), last if last is not None else -math.inf)
        end = next_view_end(self._view_end, newest, span)
        if end is None:
            return False
        self._view_end = end
        self._buffer.trim_before(end - span * (1 + KEEP_SHARE))
        self.items.plot.setXRange(end - span, end, padding=0)
        return True

    def _visible(self) -> slice:
        start, end = self.view_range or (-math.inf, math.inf)
        return visible(self._buffer.times, start, end)

    def _draw_series(self) -> None:
        b = self._buffer
        self.items.curve.setData(b.times.copy(), b.values.copy())
        shown = self._visible()
        t, v, lo, hi = b.times[shown], b.values[shown], b.lows[shown], b.highs[shown]
        most = max(256, self.plot_widget.width())
        self.items.band.set_band(*envelope(t, lo, hi, most))
        above, below = outside_band(v, lo, hi, self._side)
        set_points(self.items.above, t[above], v[above])
        set_points(self.items.below, t[below], v[below])

    def _fit_y(self) -> None:
        b, shown = self._buffer, self._visible()
        edges = [b.values[shown], b.lows[shown], b.highs[shown]]
        wanted = next_y_range(edges, self._level_ys(), self._y_range)
        if wanted is not None:
            self._y_range = wanted
            self.items.plot.setYRange(*wanted, padding=0)

    def _level_ys(self) -> list[float]:
        t = self._thresholds
        if t is None:
            return []
        return [*level_values(t.warning), *level_values(t.critical)]

    # -- readout --------------------------------------------------------------------------

    def readout_at(self, moment: float) -> Readout | None:
        """What the crosshair shows for the point nearest ``moment`` (None without points)."""
        i = self._buffer.nearest(moment)
        if i is None:
            return None
        b = self._buffer
        value, low, high = float(b.values[i]), float(b.lows[i]), float(b.highs[i])
        band_low = None if math.isnan(low) else low
        band_high = None if math.isnan(high) else high
        state = point_state(value, band_low, band_high, self._thresholds, self._side)
        return Readout(float(b.times[i]), value, band_low, band_high, state, self._banded)

    def _on_mouse_moved(self, pos: QPointF) -> None:
        box = self.items.plot.getViewBox()
        if not box.sceneBoundingRect().contains(pos):
            return
        readout = self.readout_at(box.mapSceneToView(pos).x())
        self._hovering = readout is not None
        if readout is not None:
            self.items.crosshair.setPos(readout.time)
            self.items.crosshair.show()
        self._show_readout(readout)

    def _on_mouse_left(self) -> None:
        self._hovering = False
        self.items.crosshair.hide()
        self._show_readout(self.readout_at(math.inf))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Follow the mouse over the plot with the crosshair; hide it when the mouse leaves."""
        if watched is self.plot_widget.viewport():
            if isinstance(event, QMouseEvent) and event.type() == QEvent.Type.MouseMove:
                self._on_mouse_moved(self.plot_widget.mapToScene(event.position().toPoint()))
            elif event.type() == QEvent.Type.Leave:
                self._on_mouse_left()
        return super().eventFilter(watched, event)

    def _show_readout(self, readout: Readout | None) -> None:
        text = "No data" if readout is None else readout.text(self._unit)
        if text != self.readout_label.text():
            self.readout_label.setText(text)
            self.readout_changed.emit(text)

    def _show_status(self, text: str, *, error: bool) -> None:
        self.status_label.setText(text)
        self.status_label.setVisible(bool(text))
        colour = self.theme.error if error else self.theme.muted
        self.status_label.setStyleSheet(f"color: {colour};")

    # -- export ---------------------------------------------------------------------------

    def export_png(self, path: Path) -> None:
        """Write the plot as drawn now (pending updates first) to a PNG at ``path``."""
        self.flush()
        write_png(self.plot_widget, path)

    def export_csv(self, path: Path) -> int:
        """Write the points held (time, value, band edges) as CSV; returns the row count."""
        return write_csv(path, self.data())

    def _ask_png(self) -> None:
        path = ask_save_path(self, "Export chart as PNG", self._file_stem(), "png")
        if path is not None:
            self._export(self.export_png, path)

    def _ask_csv(self) -> None:
        path = ask_save_path(self, "Export chart data as CSV", self._file_stem(), "csv")
        if path is not None:
            self._export(self.export_csv, path)

    def _file_stem(self) -> str:
        return (self.controls.title_label.text() or "chart").replace(" ", "-").lower()

    def _export(self, write: Callable[[Path], object], path: Path) -> None:
        try:
            write(path)
        except OSError as exc:
            self._show_status(f"Could not export: {exc}", error=True)


@dataclass(frozen=True, slots=True)
class _Answer:
    """Delivers a source's answer to the chart that asked, if it still exists.

    The source holds these callbacks until it answers; holding the chart itself would keep a
    closed chart alive, and a cycle through a top-level chart lets the garbage collector delete
    it at any moment, even while it paints.
    """

    chart: weakref.ReferenceType[MetricChart]
    serial: int

    def _alive(self) -> MetricChart | None:
        chart = self.chart()
        return chart if chart is not None and isValid(chart) else None

    def done(self, data: ChartData) -> None:
        if chart := self._alive():
            chart._on_loaded(self.serial, data)

    def failed(self, exc: BaseException) -> None:
        if chart := self._alive():
            chart._on_failed(self.serial, exc)
