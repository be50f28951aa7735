"""The Monitoring page's charts: one live MetricChart per selected row, up to six.

Each chart reads its range from the store on the worker (``StoreChartSource.for_metric``, which
binds the metric's deviation band); the page's status refresh then says when a metric has a
newer result, and only the samples since the chart's newest point are read (without the band,
whose history would cost a full read) and appended: the band is carried forward from the last
point that had one, and every few minutes the chart reloads its whole range so the band is the
computed one again. Every chart shares one ChartScheduler, which spreads their redraws over
frames. The service's incidents are shaded; the static levels come from the metric's record,
and are re-read when the status shows they changed.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from console.core.endpoints import MetricSpec
from console.core.incidents import Incident, IncidentState
from console.core.models import Estate
from console.core.status import MetricStatus
from console.store.db import Store
from console.store.samples import Resolution
from console.store.status import CHECK_SERIES_METRIC
from console.ui.charts import (
    ChartData,
    ChartPoint,
    ChartQuery,
    ChartScheduler,
    ChartSource,
    IncidentSpan,
    MetricChart,
    StoreChartSource,
)
from console.ui.charts.source import Done, Failed, load_chart_data
from console.ui.estate import EstateModel
from console.ui.models.status import Key, status_key
from console.ui.theme import Theme

#: At most this many charts at once (the rest of a large selection is not charted).
MAX_CHARTS = 6
#: Seconds between full reloads of a chart (its band recomputed, incidents re-read).
RELOAD_S = 300.0
#: The newest incidents of a service shaded on its charts.
INCIDENT_LIMIT = 100
#: A chart's smallest height: the range buttons, the readout and a readable plot.
CHART_MIN_HEIGHT = 260
EMPTY_TEXT = "Select one or more rows to chart them here (up to six)."


def chart_spec(status: MetricStatus, estate: Estate) -> MetricSpec:
    """The metric's record (levels, band, unit), titled with its endpoint and metric name.

    An endpoint's own check charts its ``up`` series (1 up, 0 down), with no levels.
    """
    title = f"{status.endpoint_name} · {status.metric_name}"
    if status.metric_key is None:
        return MetricSpec(CHECK_SERIES_METRIC, title)
    endpoint = next((e for e in estate.endpoints if e.key == status.endpoint), None)
    found = None
    if endpoint is not None:
        found = next((m for m in endpoint.metrics if m.metric == status.metric_key), None)
    if found is None:  # the estate has not caught up with the status yet: no levels known
        return MetricSpec(status.metric_key, title)
    return replace(found, name=title)


def incident_spans(incidents: Sequence[Incident]) -> list[IncidentSpan]:
    """Incidents as shaded spans: start to resolution (open ones run to the right edge)."""
    return [
        IncidentSpan(
            i.started_at.timestamp(),
            None if i.resolved_at is None else i.resolved_at.timestamp(),
            f"{i.ref} {i.title}",
        )
        for i in sorted(incidents, key=lambda i: i.started_at)
    ]


def read_incidents(store: Store, service: str) -> list[Incident]:
    """The service's newest incidents in any state (worker thread)."""
    from console.store.incidents import list_incidents

    return list_incidents(
        store.read(), states=tuple(IncidentState), service=service, limit=INCIDENT_LIMIT
    )


def _last_band(data: ChartData) -> tuple[float, float] | None:
    present = np.flatnonzero(~np.isnan(data.band_low))
    if not present.size:
        return None
    i = int(present[-1])
    return float(data.band_low[i]), float(data.band_high[i])


@dataclass(eq=False)
class ChartSlot:
    """One selected row's chart and what the live feed knows of it.

    Attributes:
        key: The row's metric key.
        status: The row's newest status.
        chart: The chart.
        source: Where its history comes from.
        last_time: The newest point's time the chart holds (epoch seconds), once loaded.
        seen_check: The newest result time already asked for.
        band: The band carried forward onto live points (the last loaded point's band).
        loaded_at: When its range was last loaded (store clock, epoch seconds).
    """

    key: Key
    status: MetricStatus
    chart: MetricChart
    source: StoreChartSource
    last_time: float | None = None
    seen_check: float = -math.inf
    band: tuple[float, float] | None = None
    loaded_at: float = -math.inf


class _Watched:
    """A chart source that tells the panel what it loaded, after the chart took it."""

    def __init__(self, inner: ChartSource, loaded: Callable[[ChartQuery, ChartData], None]):
        self._inner = inner
        self._loaded = loaded

    def fetch(self, query: ChartQuery, done: Done, failed: Failed) -> None:
        """Fetch from the wrapped source; report the answer once the chart has it."""
        loaded = self._loaded

        def answered(data: ChartData) -> None:
            done(data)
            loaded(query, data)

        self._inner.fetch(query, answered, failed)


class ChartPanel(QWidget):
    """The charts of the selected rows, in the order they were selected."""

    def __init__(self, estate: EstateModel, theme: Theme, parent: QWidget | None = None) -> None:
        """An empty panel; :meth:`show_statuses` fills it."""
        super().__init__(parent)
        self.setObjectName("status-charts")
        self.setAccessibleName("Charts of the selected metrics")
        self.estate_model = estate
        self.theme = theme
        self.scheduler = ChartScheduler(self)
        self.slots: dict[Key, ChartSlot] = {}
        self._tails_pending = False
        self.note = QLabel(EMPTY_TEXT)
        self.note.setObjectName("Muted")
        self.note.setWordWrap(True)
        self._grid_host = QWidget()
        self._grid = QGridLayout(self._grid_host)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(14)
        self._arranged_columns = 1
        scroll = self._scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        # Tab goes from the table straight to the first chart's buttons (the area scrolls to
        # whichever control has the focus).
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setWidget(self._grid_host)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)
        box.addWidget(self.note)
        box.addWidget(scroll, 1)

    # -- what is charted ------------------------------------------------------------------

    @property
    def charts(self) -> list[MetricChart]:
        """The charts, in order."""
        return [slot.chart for slot in self.slots.values()]

    def chart_for(self, key: Key) -> MetricChart | None:
        """The chart of the metric ``key``, if it is charted."""
        slot = self.slots.get(key)
        return None if slot is None else slot.chart

    def show_statuses(self, statuses: Sequence[MetricStatus]) -> None:
        """Chart these metrics (the first :data:`MAX_CHARTS`), keeping charts already shown."""
        wanted = {status_key(s): s for s in statuses[:MAX_CHARTS]}
        for key in [k for k in self.slots if k not in wanted]:
            self._drop(self.slots.pop(key))
        for key, status in wanted.items():
            if key not in self.slots:
                self.slots[key] = self._make(status)
        self._arrange()
        if not statuses:
            self.note.setText(EMPTY_TEXT)
        elif len(statuses) > MAX_CHARTS:
            self.note.setText(f"Charts of the first {MAX_CHARTS} of {len(statuses)} selected rows.")
        else:
            self.note.setText(
                f"{len(statuses)} selected. Shift or Ctrl with a click or the arrows selects "
                f"more, up to {MAX_CHARTS} charts."
            )

    def _make(self, status: MetricStatus) -> ChartSlot:
        estate = self.estate_model
        spec = chart_spec(status, estate.estate)
        chart = MetricChart(
            self.theme,
            scheduler=self.scheduler,
            spec=spec,
            clock=estate.store.clock,
            parent=self._grid_host,  # never a window of its own, not even for a moment
        )
        chart.setMinimumHeight(CHART_MIN_HEIGHT)
        chart.setAccessibleName(f"{spec.name} chart")
        source = StoreChartSource.for_metric(estate.store, estate.runner, status.endpoint, spec)
        slot = ChartSlot(status_key(status), status, chart, source)
        panel = weakref.ref(self)
        key = slot.key

        def loaded(query: ChartQuery, data: ChartData) -> None:
            if (alive := panel()) is not None:
                alive._on_loaded(key, query, data)

        chart.set_source(_Watched(source, loaded))
        self._read_incidents(slot)
        return slot

    def _drop(self, slot: ChartSlot) -> None:
        self._grid.removeWidget(slot.chart)
        slot.chart.hide()
        slot.chart.setParent(None)
        slot.chart.deleteLater()

    def _columns(self) -> int:
        """Two charts a row when two fit side by side (their button bars are wide), else one."""
        if len(self.slots) <= 1:
            return 1
        widest = max(slot.chart.minimumSizeHint().width() for slot in self.slots.values())
        room = self._scroll.viewport().width()
        return 2 if room >= 2 * widest + self._grid.horizontalSpacing() else 1

    def _arrange(self) -> None:
        columns = self._columns()
        for slot in self.slots.values():
            self._grid.removeWidget(slot.chart)
        for i, slot in enumerate(self.slots.values()):
            self._grid.addWidget(slot.chart, i // columns, i % columns)
            slot.chart.show()
        for column in range(2):
            self._grid.setColumnStretch(column, 1 if column < columns else 0)
        self._arranged_columns = columns

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Re-flow the charts when the room for two side by side comes or goes."""
        super().resizeEvent(event)
        if self.slots and self._columns() != self._arranged_columns:
            self._arrange()

    # -- loading --------------------------------------------------------------------------

    def _on_loaded(self, key: Key, query: ChartQuery, data: ChartData) -> None:
        slot = self.slots.get(key)
        if slot is None or slot.chart.loading:  # gone, or a newer load is out
            return
        slot.loaded_at = self._now()
        slot.last_time = float(data.times[-1]) if len(data) else query.start
        slot.band = _last_band(data)
        if slot.chart.renders == 0:
            # A chart's first picture is drawn at once (a screenshot or a person is waiting);
            # later loads and live points go through the scheduler.
            slot.chart.flush()

    def _read_incidents(self, slot: ChartSlot) -> None:
        store, service, key = self.estate_model.store, slot.status.service, slot.key
        try:
            self.estate_model.runner.submit(
                lambda: read_incidents(store, service),
                lambda found: self._on_incidents(key, found),
                lambda _exc: None,  # no shading is better than no chart
            )
        except RuntimeError:  # the worker has shut down: the console is closing
            return

    def _on_incidents(self, key: Key, incidents: list[Incident]) -> None:
        slot = self.slots.get(key)
        if slot is not None:
            slot.chart.set_incidents(incident_spans(incidents))

    def _now(self) -> float:
        return self.estate_model.store.clock.now().timestamp()

    # -- live -----------------------------------------------------------------------------

    def follow(self, statuses: Mapping[Key, MetricStatus]) -> None:
        """Take the newest statuses: new results are read and appended, levels kept current."""
        now = self._now()
        due = []
        for slot in self.slots.values():
            status = statuses.get(slot.key)
            if status is None:
                continue
            self._update_levels(slot, status)
            if slot.chart.loading or slot.last_time is None:
                continue
            if now - slot.loaded_at >= RELOAD_S and not slot.chart.paused:
                slot.loaded_at = now  # a failed reload is retried at the next period, not at once
                slot.chart.reload()
                self._read_incidents(slot)
                continue
            checked = None if status.last_check is None else status.last_check.timestamp()
            if checked is not None and checked > max(slot.last_time, slot.seen_check):
                due.append(slot)
        if due and not self._tails_pending:
            self._read_tails(due, now)

    def _update_levels(self, slot: ChartSlot, status: MetricStatus) -> None:
        old = slot.status
        slot.status = status
        if (old.warning, old.critical, old.unit) != (status.warning, status.critical, status.unit):
            slot.chart.set_metric(chart_spec(status, self.estate_model.estate))

    def _read_tails(self, slots: Sequence[ChartSlot], now: float) -> None:
        store = self.estate_model.store
        asks = []
        for slot in slots:
            assert slot.last_time is not None
            checked = slot.status.last_check
            slot.seen_check = now if checked is None else checked.timestamp()
            step = slot.chart.preset.resolution.bucket_ms / 1000 or 0.001
            query = ChartQuery(slot.chart.preset, slot.last_time + step, now + 1, Resolution.RAW)
            asks.append((slot.key, slot.source.ref, query))

        def read() -> dict[Key, ChartData]:
            return {key: load_chart_data(store, ref, query) for key, ref, query in asks}

        try:
            self.estate_model.runner.submit(read, self._on_tails, self._on_tails_failed)
        except RuntimeError:
            return
        self._tails_pending = True

    def _on_tails(self, tails: dict[Key, ChartData]) -> None:
        self._tails_pending = False
        for key, data in tails.items():
            slot = self.slots.get(key)
            if slot is None or slot.chart.loading or not len(data):
                continue  # gone, or a load is out that will hold these points
            low, high = slot.band if slot.band is not None else (None, None)
            slot.chart.extend(
                ChartPoint(float(t), float(v), low, high)
                for t, v in zip(data.times, data.values, strict=True)
            )
            slot.last_time = max(slot.last_time or -math.inf, float(data.times[-1]))

    def _on_tails_failed(self, _exc: BaseException) -> None:
        self._tails_pending = False  # the next refresh asks again

    def selected_keys(self) -> list[Key]:
        """The keys charted, in order."""
        return list(self.slots)
