"""The metric chart and its scheduler, driven as the monitoring view and the wall will drive them.

Data, band, markers, presets on a real store, readout, pause, export, theme, coalescing across
frames, and a repaint soak.

Real parts: a real store in a temporary folder with 30 days of samples rolled up by the store's
own code, read through the console's worker thread; real pyqtgraph items inspected for their
data (not only pixels). Time is a FakeClock; the scheduler's budget tests inject its timer.
"""

from __future__ import annotations

import csv
import math
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from console.core.clock import FakeClock, parse_iso
from console.core.deviation import DeviationConfig, Seasonality, Side
from console.core.endpoints import MetricSpec
from console.core.thresholds import StaticThresholds
from console.core.units import Unit
from console.store.db import Store
from console.store.samples import (
    Resolution,
    prune,
    record_gap,
    roll_up,
    series_id,
    write_samples,
)
from console.ui.application import application
from console.ui.charts import (
    ChartData,
    ChartPoint,
    ChartQuery,
    ChartScheduler,
    MetricChart,
    PointState,
    RangePreset,
    StoreChartSource,
)
from console.ui.charts import chart as chart_module
from console.ui.charts.data import local_time_text
from console.ui.charts.export import CSV_HEADER
from console.ui.charts.items import ABOVE_SYMBOL, BELOW_SYMBOL
from console.ui.charts.palette import chart_palette
from console.ui.charts.view import next_view_end, next_y_range
from console.ui.tasks import TaskRunner
from console.ui.theme import DARK, LIGHT
from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from shiboken6 import isValid

pytestmark = pytest.mark.gui

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
T_NOW = NOW.timestamp()
WAIT_MS = 10_000


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def make_chart(qtbot: QtBot, clock: FakeClock) -> Iterator[Callable[..., MetricChart]]:
    """Charts on screen (offscreen), hidden and released after the test.

    The fixture holds them until then: a top-level chart left only to the garbage collector
    (a cycle through a test's source, say) could be deleted in the middle of painting.
    """
    made: list[MetricChart] = []

    def make(**kwargs: object) -> MetricChart:
        application()
        chart = MetricChart(LIGHT, clock=clock, **kwargs)  # type: ignore[arg-type]
        qtbot.addWidget(chart)
        chart.resize(900, 320)
        chart.show()
        made.append(chart)
        return chart

    yield make
    for chart in made:
        if isValid(chart):
            chart.hide()


def series(n: int, step: float = 10.0, end: float = T_NOW) -> np.ndarray:
    """``n`` times ``step`` seconds apart, the last one ``step`` before ``end``."""
    return end - step * np.arange(n, 0, -1, dtype=np.float64)


def points(item: object) -> tuple[np.ndarray, np.ndarray]:
    """The data a pyqtgraph PlotDataItem holds (empty arrays for none)."""
    x, y = item.getOriginalDataset()  # type: ignore[attr-defined]
    if x is None:
        return np.array([]), np.array([])
    return np.asarray(x), np.asarray(y)


def curve_data(chart: MetricChart) -> tuple[np.ndarray, np.ndarray]:
    return points(chart.items.curve)


# -- data, band, markers --------------------------------------------------------------------------


def test_loaded_data_is_drawn_and_the_view_ends_just_after_now(
    make_chart: Callable[..., MetricChart],
) -> None:
    chart = make_chart(preset=RangePreset.HOUR_1)
    times = series(300)
    values = 20 + np.sin(np.arange(300) / 10)
    chart.set_data(ChartData.build(times, values))
    assert chart.flush()

    x, y = curve_data(chart)
    np.testing.assert_array_equal(x, times)
    np.testing.assert_array_equal(y, values)
    start, end = chart.view_range or (0.0, 0.0)
    assert end == pytest.approx(T_NOW + 0.05 * 3600)
    assert end - start == pytest.approx(3600)
    view_x = chart.items.plot.getViewBox().viewRange()[0]
    assert view_x == pytest.approx([start, end])
    # Away from the mouse, the readout describes the newest point.
    assert chart.readout_label.text().startswith(local_time_text(times[-1]))


def test_the_band_is_one_polygon_per_run_and_warm_up_is_not_drawn(
    make_chart: Callable[..., MetricChart],
) -> None:
    chart = make_chart(preset=RangePreset.HOUR_1)
    times = series(120)
    values = np.full(120, 10.0)
    low: list[float | None] = [None] * 20 + [8.0 + i * 0.01 for i in range(20, 120)]
    high: list[float | None] = [None] * 20 + [12.0 + i * 0.01 for i in range(20, 120)]
    low[70] = None  # a gap in the middle: the band breaks there too
    chart.set_data(ChartData.build(times, values, low, high))
    chart.flush()

    band = chart.items.band
    polygons = band.path().toSubpathPolygons()
    assert band.polygons == len(polygons) == 2
    first = np.array([(p.x(), p.y()) for p in polygons[0]])
    # The first run: points 20..69, the upper edge forward then the lower edge back.
    np.testing.assert_allclose(first[:50, 0], times[20:70])
    np.testing.assert_allclose(first[:50, 1], [12.0 + i * 0.01 for i in range(20, 70)])
    np.testing.assert_allclose(first[50:, 0], times[20:70][::-1])
    np.testing.assert_allclose(first[50:, 1], [8.0 + i * 0.01 for i in range(69, 19, -1)])
    assert min(p.x() for poly in polygons for p in poly) == times[20]  # nothing in warm-up
    assert np.isnan(chart.data().band_high[70])  # one missing edge removes both


def test_points_outside_the_band_get_triangles_pointing_the_way_out(
    make_chart: Callable[..., MetricChart],
) -> None:
    chart = make_chart(preset=RangePreset.MIN_15)
    times = series(60)
    values = np.full(60, 50.0)
    values[[10, 30]] = 70.0
    values[[20]] = 30.0
    values[5] = 90.0  # outside, but during warm-up: no band, no judgement
    low: list[float | None] = [None] * 8 + [40.0] * 52
    high: list[float | None] = [None] * 8 + [60.0] * 52
    chart.set_data(ChartData.build(times, values, low, high))
    chart.flush()

    above_x, above_y = points(chart.items.above)
    below_x, below_y = points(chart.items.below)
    np.testing.assert_array_equal(above_x, times[[10, 30]])
    np.testing.assert_array_equal(above_y, [70.0, 70.0])
    np.testing.assert_array_equal(below_x, times[[20]])
    assert chart.items.above.opts["symbol"] == ABOVE_SYMBOL == "t1"
    assert chart.items.below.opts["symbol"] == BELOW_SYMBOL == "t"
    assert chart.items.curve.opts["symbol"] is None

    # A band judged only above marks nothing below.
    chart.set_metric(MetricSpec("m", "latency", deviation=DeviationConfig(side=Side.ABOVE)))
    chart.set_data(ChartData.build(times, values, low, high))
    chart.flush()
    assert len(points(chart.items.below)[0]) == 0
    assert len(points(chart.items.above)[0]) == 2


def test_levels_are_labelled_lines_told_apart_by_dash_pattern(
    make_chart: Callable[..., MetricChart],
) -> None:
    chart = make_chart()
    spec = MetricSpec(
        "rt",
        "response time",
        unit=Unit.MILLISECONDS,
        thresholds=StaticThresholds.above(warning=200, critical=500),
    )
    chart.set_metric(spec)
    chart.set_data(ChartData.build(series(30), np.full(30, 150.0)))
    chart.flush()

    lines = {state: line for state, line in chart.items.levels}
    assert lines[PointState.WARNING].value() == 200
    assert lines[PointState.CRITICAL].value() == 500
    assert lines[PointState.WARNING].label.toPlainText() == "WARNING 200 ms"
    assert lines[PointState.CRITICAL].label.toPlainText() == "CRITICAL 500 ms"
    styles = {state: line.pen.style() for state, line in lines.items()}
    assert styles[PointState.WARNING] != styles[PointState.CRITICAL]
    # A level near the data is brought into view; one far away would flatten the data.
    y_low, y_high = chart.items.plot.getViewBox().viewRange()[1]
    assert y_low < 150 and 200 < y_high < 500

    outside = StaticThresholds.outside(warning=(10, 90))
    chart.set_thresholds(outside)
    assert sorted(line.value() for _s, line in chart.items.levels) == [10, 90]


def test_incident_spans_are_shaded_and_an_open_one_follows_the_view(
    make_chart: Callable[..., MetricChart], clock: FakeClock
) -> None:
    chart = make_chart(preset=RangePreset.MIN_15)
    chart.set_data(ChartData.build(series(60), np.ones(60)))
    chart.flush()
    chart.set_incidents(
        [(T_NOW - 600, T_NOW - 300, "INC-7 database"), (T_NOW - 100, None, "INC-8")]
    )

    (closed, closed_region, closed_label), (open_, open_region, _) = chart.items.incidents
    assert closed_region.getRegion() == (T_NOW - 600, T_NOW - 300)
    assert closed_label.toPlainText() == "INC-7 database"
    assert open_.end is None
    assert open_region.getRegion()[1] == pytest.approx(T_NOW + 45)  # the view's right edge

    clock.advance(60)  # past the right edge: the view steps and the open incident follows
    chart.append(ChartPoint(clock.now().timestamp(), 1.0))
    chart.flush()
    assert open_region.getRegion()[1] == pytest.approx(T_NOW + 60 + 45)
    assert closed_region.getRegion() == (T_NOW - 600, T_NOW - 300)


def test_the_y_range_moves_only_when_the_data_leaves_it_or_shrinks_to_under_half() -> None:
    first = next_y_range([np.array([10.0, 20.0])], [], None)
    assert first == pytest.approx((9.2, 20.8))
    assert next_y_range([np.array([11.0, 19.0])], [], first) is None  # still fits: stays
    grown = next_y_range([np.array([10.0, 25.0])], [], first)
    assert grown == pytest.approx((8.8, 26.2))
    assert next_y_range([np.array([14.0, 16.0])], [], grown) == pytest.approx((13.84, 16.16))
    assert next_y_range([np.array([math.nan])], [], grown) is None  # nothing to fit
    assert next_y_range([np.array([10.0, 20.0])], [22.0, 90.0], None) == pytest.approx(
        (9.04, 22.96)  # the near level is shown, the far one is not
    )


def test_the_view_steps_by_whole_steps_from_its_old_edge() -> None:
    span = 3600.0  # 5 % steps: 180 s
    assert next_view_end(None, 1000.0, span) == 1180.0
    assert next_view_end(1180.0, 1180.0, span) is None
    assert next_view_end(1180.0, 1181.0, span) == 1360.0
    assert next_view_end(1180.0, 2000.0, span) == 2080.0  # after a silence: whole steps


# -- presets against a real store -----------------------------------------------------------------

MONTH_MINUTES = 30 * 24 * 60
OFFSET_S = 7  # samples at :07 of each minute, so raw times are told apart from bucket starts


@pytest.fixture(scope="module")
def month_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with 30 days of one sample a minute for web/latency, rolled up."""
    path = tmp_path_factory.mktemp("charts") / "store.db"
    with Store.open(path, FakeClock(NOW)) as store:
        sid = series_id(store, "web", "latency")
        first = int((T_NOW - MONTH_MINUTES * 60 + OFFSET_S) * 1000)
        rows = ((sid, first + i * 60_000, float(i % 97)) for i in range(MONTH_MINUTES))
        write_samples(store, rows, batch_size=10_000)
        roll_up(store, NOW)
    return path


@pytest.fixture
def runner() -> Iterator[TaskRunner]:
    application()
    tasks = TaskRunner()
    yield tasks
    tasks.shutdown()


@dataclass
class Recorder:
    """A ChartSource that hands every query to the real store source, and notes it."""

    inner: StoreChartSource
    queries: list[ChartQuery] = field(default_factory=list)

    def fetch(
        self,
        query: ChartQuery,
        done: Callable[[ChartData], None],
        failed: Callable[[BaseException], None],
    ) -> None:
        self.queries.append(query)
        self.inner.fetch(query, done, failed)


EXPECTED = {
    # preset: (resolution the chart asks for, points the store has in that range)
    RangePreset.MIN_15: (Resolution.RAW, 15),
    RangePreset.HOUR_1: (Resolution.RAW, 60),
    RangePreset.HOURS_6: (Resolution.RAW, 360),
    RangePreset.HOURS_24: (Resolution.MINUTE, 1440),
    RangePreset.DAYS_7: (Resolution.MINUTE, 7 * 1440),
    RangePreset.DAYS_30: (Resolution.MINUTE, MONTH_MINUTES),
}


def test_each_preset_reads_its_range_at_its_resolution_from_the_store(
    qtbot: QtBot,
    make_chart: Callable[..., MetricChart],
    month_store: Path,
    runner: TaskRunner,
) -> None:
    with Store.open(month_store, FakeClock(NOW)) as store:
        source = Recorder(
            StoreChartSource.for_metric(store, runner, "web", MetricSpec("latency", "latency"))
        )
        chart = make_chart(preset=RangePreset.MIN_15)
        with qtbot.waitSignal(chart.data_applied, timeout=WAIT_MS):
            chart.set_source(source)
        for preset in RangePreset:
            if preset is not RangePreset.MIN_15:
                with qtbot.waitSignal(chart.data_applied, timeout=WAIT_MS):
                    qtbot.mouseClick(
                        chart.controls.preset_buttons[preset], Qt.MouseButton.LeftButton
                    )
            query = source.queries[-1]
            resolution, count = EXPECTED[preset]
            assert (query.preset, query.resolution) == (preset, resolution)
            assert (query.start, query.end) == (T_NOW - preset.seconds, T_NOW)
            data = chart.data()
            assert data.resolution is resolution
            assert len(data) == count
            assert data.times[0] >= query.start - 60 and data.times[-1] < query.end
            on_minute = bool(np.all(data.times % 60 == 0))
            assert on_minute is (resolution is Resolution.MINUTE)
            assert chart.controls.preset_buttons[preset].isChecked()
        assert [q.preset for q in source.queries] == list(RangePreset)


def test_presets_are_reachable_from_the_keyboard(
    qtbot: QtBot, make_chart: Callable[..., MetricChart]
) -> None:
    chart = make_chart(preset=RangePreset.HOUR_1)
    button = chart.controls.preset_buttons[RangePreset.DAYS_7]
    assert button.focusPolicy() & Qt.FocusPolicy.TabFocus
    assert button.accessibleName() == "Show the last 7 days"
    button.setFocus()
    with qtbot.waitSignal(chart.preset_changed, timeout=WAIT_MS) as changed:
        qtbot.keyClick(button, Qt.Key.Key_Space)
    assert changed.args == [RangePreset.DAYS_7]
    assert chart.preset is RangePreset.DAYS_7


def test_gaps_recorded_in_the_store_break_the_line(
    qtbot: QtBot, make_chart: Callable[..., MetricChart], store_path: Path, runner: TaskRunner
) -> None:
    with Store.open(store_path, FakeClock(NOW)) as store:
        sid = series_id(store, "db", "connections")
        start_ms = int((T_NOW - 600) * 1000)
        write_samples(store, [(sid, start_ms + i * 10_000, 5.0) for i in range(60)])
        record_gap(store, start_ms + 200_500, start_ms + 299_000, sid)
        chart = make_chart(preset=RangePreset.MIN_15)
        source = StoreChartSource.for_metric(store, runner, "db", MetricSpec("connections", "c"))
        with qtbot.waitSignal(chart.data_applied, timeout=WAIT_MS):
            chart.set_source(source)
    data = chart.data()
    assert len(data) == 61
    broken = np.flatnonzero(np.isnan(data.values))
    assert broken.tolist() == [21]
    assert data.times[21] == pytest.approx((start_ms + 200_500) / 1000)
    x, y = curve_data(chart)
    assert np.isnan(y[21]) and chart.items.curve.opts["connect"] == "finite"


def test_the_metric_band_comes_from_the_store_source_warm_from_the_start(
    qtbot: QtBot, make_chart: Callable[..., MetricChart], month_store: Path, runner: TaskRunner
) -> None:
    config = DeviationConfig(window=1800, min_samples=10, min_span=600)
    spec = MetricSpec("latency", "latency", deviation=config)
    with Store.open(month_store, FakeClock(NOW)) as store:
        chart = make_chart(preset=RangePreset.HOUR_1, spec=spec)
        with qtbot.waitSignal(chart.data_applied, timeout=WAIT_MS):
            chart.set_source(StoreChartSource.for_metric(store, runner, "web", spec))
    data = chart.data()
    assert len(data) == 60 and data.has_band
    # History before the range was read for the baseline: no warm-up gap at the start.
    assert not np.isnan(data.band_low).any()
    assert bool(np.all(data.band_low < data.band_high))
    assert chart.items.band.polygons == 1


def test_a_seasonal_band_reads_its_history_from_rollups_once_raw_samples_are_gone(
    qtbot: QtBot,
    make_chart: Callable[..., MetricChart],
    month_store: Path,
    runner: TaskRunner,
    tmp_path: Path,
) -> None:
    pruned = tmp_path / "pruned.db"
    shutil.copy(month_store, pruned)
    config = DeviationConfig(
        window=1800, seasonality=Seasonality.WEEKLY, seasons=1, min_samples=5, min_span=0
    )
    spec = MetricSpec("latency", "latency", deviation=config)
    with Store.open(pruned, FakeClock(NOW)) as store:
        while prune(store, NOW):  # raw samples older than 48 h are gone, rollups stay
            pass
        chart = make_chart(preset=RangePreset.HOUR_1, spec=spec)
        with qtbot.waitSignal(chart.data_applied, timeout=WAIT_MS):
            chart.set_source(StoreChartSource.for_metric(store, runner, "web", spec))
    data = chart.data()
    assert data.resolution is Resolution.RAW and len(data) == 60
    # A week back the history exists only as 1-minute rollups: the band has it anyway.
    assert not np.isnan(data.band_low).any()


def test_answers_to_replaced_queries_are_ignored_and_live_points_survive_a_load(
    make_chart: Callable[..., MetricChart], clock: FakeClock
) -> None:
    source = Deferred()
    chart = make_chart(preset=RangePreset.MIN_15, source=source)
    chart.set_preset(RangePreset.HOUR_1)
    assert [q.preset for q, _d, _f in source.waiting] == [RangePreset.MIN_15, RangePreset.HOUR_1]
    clock.advance(10)
    chart.append(ChartPoint(T_NOW + 5, 99.0))  # after the query ended, before its answer

    source.answer(1, ChartData.build(series(6, 60), np.arange(6.0)))
    source.answer(0, ChartData.build(series(3), np.full(3, -1.0)))  # stale: ignored
    chart.flush()
    data = chart.data()
    assert data.values.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 99.0]
    assert not chart.loading


def test_a_failed_load_is_said_and_the_chart_keeps_what_it_showed(
    qtbot: QtBot, make_chart: Callable[..., MetricChart]
) -> None:
    source = Deferred()
    chart = make_chart(preset=RangePreset.MIN_15, source=source)
    source.answer(0, ChartData.build(series(4), np.ones(4)))
    chart.flush()
    chart.reload()
    with qtbot.waitSignal(chart.load_failed) as failed:
        source.fail(1, OSError("disk I/O error"))
    assert failed.args == ["disk I/O error"]
    assert chart.status_label.isVisible()
    assert "disk I/O error" in chart.status_label.text()
    assert len(chart.data()) == 4


@dataclass
class Deferred:
    """A ChartSource that answers only when the test says (to order answers at will)."""

    waiting: list[
        tuple[ChartQuery, Callable[[ChartData], None], Callable[[BaseException], None]]
    ] = field(default_factory=list)

    def fetch(
        self,
        query: ChartQuery,
        done: Callable[[ChartData], None],
        failed: Callable[[BaseException], None],
    ) -> None:
        self.waiting.append((query, done, failed))

    def answer(self, index: int, data: ChartData) -> None:
        self.waiting[index][1](data)

    def fail(self, index: int, error: BaseException) -> None:
        self.waiting[index][2](error)


# -- live updates, steps, pause -------------------------------------------------------------------


def test_the_time_axis_moves_in_steps_not_on_every_sample(
    make_chart: Callable[..., MetricChart], clock: FakeClock
) -> None:
    chart = make_chart(preset=RangePreset.MIN_15)
    chart.set_data(ChartData.build(series(90), np.ones(90)))
    chart.flush()
    moves: list[object] = []
    chart.items.plot.getViewBox().sigXRangeChanged.connect(lambda *a: moves.append(a))
    for _ in range(450):  # 450 s of one sample a second
        clock.advance(1)
        chart.append(ChartPoint(clock.now().timestamp(), 1.0))
        chart.flush()
    # A 15-minute view steps by 45 s: its right edge starts at +45 s and is passed at +46 s,
    # +91 s, ... +406 s: 9 range changes in 450 s, not 450.
    assert len(moves) == 9
    start, end = chart.view_range or (0.0, 0.0)
    assert start <= clock.now().timestamp() - 1 < end
    assert len(chart.data()) == 90 + 450


def test_live_samples_fold_into_the_current_bucket_of_a_rollup_range(
    make_chart: Callable[..., MetricChart],
) -> None:
    chart = make_chart(preset=RangePreset.HOURS_24)
    minutes = series(3, 60)
    chart.set_data(ChartData.build(minutes, [1.0, 2.0, 3.0], resolution=Resolution.MINUTE))
    for offset, value in ((1, 10.0), (20, 20.0), (59, 30.0), (61, 7.0)):
        chart.append(ChartPoint(T_NOW + offset, value))
    chart.flush()
    data = chart.data()
    assert data.times.tolist() == [*minutes.tolist(), T_NOW, T_NOW + 60]
    assert data.values.tolist() == [1.0, 2.0, 3.0, 20.0, 7.0]


def test_pausing_holds_live_points_and_resuming_applies_them(
    qtbot: QtBot, make_chart: Callable[..., MetricChart], clock: FakeClock
) -> None:
    chart = make_chart(preset=RangePreset.MIN_15)
    chart.set_data(ChartData.build(series(10), np.ones(10)))
    chart.flush()
    view = chart.view_range
    qtbot.mouseClick(chart.controls.pause_button, Qt.MouseButton.LeftButton)
    assert chart.paused and chart.controls.pause_button.text() == "Resume"

    for i in range(100):
        clock.advance(1)
        chart.append(ChartPoint(clock.now().timestamp(), float(i)))
    chart.flush()
    assert chart.held == 100
    assert len(curve_data(chart)[0]) == 10  # nothing drawn while paused
    assert chart.view_range == view  # and the view stood still

    qtbot.mouseClick(chart.controls.pause_button, Qt.MouseButton.LeftButton)
    chart.flush()
    assert not chart.paused and chart.held == 0
    x, y = curve_data(chart)
    assert len(x) == 110 and y[-100:].tolist() == [float(i) for i in range(100)]
    assert chart.view_range != view


def test_a_pause_longer_than_the_limit_reloads_from_the_source_on_resume(
    monkeypatch: pytest.MonkeyPatch, make_chart: Callable[..., MetricChart], clock: FakeClock
) -> None:
    monkeypatch.setattr(chart_module, "PAUSE_LIMIT", 5)
    source = Deferred()
    chart = make_chart(preset=RangePreset.MIN_15, source=source)
    source.answer(0, ChartData.build(series(3), np.ones(3)))
    chart.set_paused(True)
    for i in range(8):
        chart.append(ChartPoint(T_NOW + i, float(i)))
    assert chart.held == 5
    chart.set_paused(False)
    assert len(source.waiting) == 2  # the dropped points are in the store: read them again
    assert chart.held == 0


# -- readout --------------------------------------------------------------------------------------


def test_the_crosshair_readout_follows_the_mouse(
    qtbot: QtBot, make_chart: Callable[..., MetricChart]
) -> None:
    chart = make_chart(preset=RangePreset.MIN_15)
    spec = MetricSpec(
        "rt", "latency", unit=Unit.MILLISECONDS, thresholds=StaticThresholds.above(critical=95)
    )
    chart.set_metric(spec)
    times = series(60)
    values = np.full(60, 50.0)
    values[40], values[50] = 70.0, 99.0
    low: list[float | None] = [None] * 10 + [40.0] * 50
    high: list[float | None] = [None] * 10 + [60.0] * 50
    chart.set_data(ChartData.build(times, values, low, high))
    chart.flush()
    qtbot.wait(1)  # let the layout settle so scene and view coordinates are final

    def hover(i: int, y: float) -> str:
        box = chart.items.plot.getViewBox()
        scene = box.mapViewToScene(QPointF(times[i] + 2, y))  # near, not on, the point
        viewport = chart.plot_widget.viewport()
        pos = QPointF(chart.plot_widget.mapFromScene(scene))
        move = QMouseEvent(
            QEvent.Type.MouseMove,
            pos,
            QPointF(viewport.mapToGlobal(pos.toPoint())),
            Qt.MouseButton.NoButton,
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(viewport, move)
        assert chart.items.crosshair.isVisible()
        assert chart.items.crosshair.value() == times[i]
        return chart.readout_label.text()

    when = local_time_text(times[40])
    assert hover(40, 55) == f"{when}  ·  70 ms  ·  band 40 ms to 60 ms  ·  ABOVE BAND"
    assert hover(50, 55).endswith("99 ms  ·  band 40 ms to 60 ms  ·  CRITICAL")
    assert hover(30, 55).endswith("50 ms  ·  band 40 ms to 60 ms  ·  OK")
    assert hover(3, 55).endswith("50 ms  ·  band: warming up  ·  OK")
    QApplication.sendEvent(chart.plot_widget.viewport(), QEvent(QEvent.Type.Leave))
    assert not chart.items.crosshair.isVisible()
    assert chart.readout_label.text().startswith(local_time_text(times[-1]))


def test_the_readout_says_when_there_is_no_band_at_all(
    make_chart: Callable[..., MetricChart],
) -> None:
    chart = make_chart()
    chart.set_data(ChartData.build(series(5), [1.0, 2.0, math.nan, 4.0, 5.0]))
    chart.flush()
    readout = chart.readout_at(series(5)[2])
    assert readout is not None and readout.state is PointState.NO_DATA
    assert readout.text(Unit.NONE).endswith("no value  ·  no band  ·  NO DATA")


# -- export ---------------------------------------------------------------------------------------


def test_png_export_is_the_chart_as_drawn(
    tmp_path: Path, make_chart: Callable[..., MetricChart]
) -> None:
    chart = make_chart(preset=RangePreset.MIN_15)
    chart.set_data(
        ChartData.build(series(80), 10 + np.sin(np.arange(80) / 5), [9.0] * 80, [11.0] * 80)
    )
    path = tmp_path / "chart.png"
    chart.export_png(path)

    image = QImage(str(path))
    ratio = chart.plot_widget.devicePixelRatioF()
    assert (image.width(), image.height()) == (
        round(chart.plot_widget.width() * ratio),
        round(chart.plot_widget.height() * ratio),
    )
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)
    }
    palette = chart_palette(LIGHT)
    assert QColor(palette.background).rgb() in colours
    assert QColor(palette.curve).rgb() in colours  # the line itself is in the picture
    assert len(colours) > 10


def test_csv_export_round_trips(tmp_path: Path, make_chart: Callable[..., MetricChart]) -> None:
    chart = make_chart()
    times = series(50) + 0.125
    values = np.linspace(0, 1, 50)
    values[7] = math.nan
    low: list[float | None] = [None] * 5 + [-0.1 * i for i in range(5, 50)]
    high: list[float | None] = [None] * 5 + [1 + 0.1 * i for i in range(5, 50)]
    chart.set_data(ChartData.build(times, values, low, high))
    path = tmp_path / "chart.csv"
    assert chart.export_csv(path) == 50

    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == CSV_HEADER == ("time", "value", "band_low", "band_high")
    back = [
        (parse_iso(t).timestamp(), *(float(f) if f else math.nan for f in rest))
        for t, *rest in rows[1:]
    ]
    np.testing.assert_array_equal(
        np.array(back),
        np.column_stack([times, values, chart.data().band_low, chart.data().band_high]),
    )
    assert rows[1][0].endswith("Z") and rows[1][2] == "" and rows[8][1] == ""


# -- theme ----------------------------------------------------------------------------------------


def test_a_theme_switch_recolours_background_axes_and_data(
    make_chart: Callable[..., MetricChart],
) -> None:
    spec = MetricSpec("m", "m", thresholds=StaticThresholds.above(warning=3))
    chart = make_chart(spec=spec)
    chart.set_data(ChartData.build(series(10), np.ones(10)))
    chart.flush()

    def looks() -> tuple[str, str, str, str, str]:
        axis = chart.items.plot.getAxis("left")
        level = chart.items.levels[0][1]
        return (
            chart.plot_widget.backgroundBrush().color().name(),
            axis.pen().color().name(),
            axis.textPen().color().name(),
            chart.items.curve.opts["pen"].color().name(),
            level.label.color.name(),
        )

    light = chart_palette(LIGHT)
    assert looks() == (light.background, light.axis, light.text, light.curve, light.warning)
    chart.set_theme(DARK)
    dark = chart_palette(DARK)
    assert looks() == (dark.background, dark.axis, dark.text, dark.curve, dark.warning)
    assert dark.background != light.background and dark.curve != light.curve


# -- scheduler ------------------------------------------------------------------------------------


class FakeTimer:
    """The scheduler's clock: time moves only when an update says what it cost."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def spend(self, ms: float) -> None:
        self.now += ms / 1000


def test_a_hundred_updates_to_one_chart_are_applied_once(
    qtbot: QtBot, make_chart: Callable[..., MetricChart], clock: FakeClock
) -> None:
    scheduler = ChartScheduler()
    chart = make_chart(scheduler=scheduler, preset=RangePreset.MIN_15)
    for i in range(100):
        chart.append(ChartPoint(T_NOW - 100 + i, float(i)))
    assert scheduler.pending == 1 and scheduler.active
    assert scheduler.stats.coalesced == 99
    qtbot.waitUntil(lambda: scheduler.pending == 0, timeout=WAIT_MS)
    assert chart.renders == 1
    assert len(curve_data(chart)[0]) == 100
    assert not scheduler.active  # the frame timer sleeps when nothing is pending


def test_updates_spread_across_frames_within_the_budget() -> None:
    application()
    timer = FakeTimer()
    scheduler = ChartScheduler(budget_ms=8.0, max_per_frame=3, timer=timer)
    targets = [QObject() for _ in range(24)]
    applied: list[int] = []
    for i, target in enumerate(targets):
        scheduler.register(target)
        for _ in range(5):  # several updates each: only the newest of each runs

            def update(i: int = i) -> None:
                applied.append(i)
                timer.spend(3.0)

            scheduler.post(target, update)
    frames: list[int] = []
    while scheduler.pending:
        before = timer.now
        frames.append(scheduler.run_frame())
        assert (timer.now - before) * 1000 <= 8.0
    # 3 ms each in an 8 ms budget: two per frame, in the order the charts first asked.
    assert frames == [2] * 12
    assert applied == list(range(24))
    assert scheduler.stats.coalesced == 24 * 4
    assert scheduler.stats.longest_frame_ms == pytest.approx(6.0)


def test_a_slow_update_still_runs_alone_and_the_cap_holds_for_cheap_ones() -> None:
    application()
    timer = FakeTimer()
    scheduler = ChartScheduler(budget_ms=8.0, max_per_frame=3, timer=timer)
    costs = {"slow": 20.0, "a": 0.1, "b": 0.1, "c": 0.1, "d": 0.1}
    ran: list[str] = []

    def costing(name: str, cost: float) -> Callable[[], None]:
        def update() -> None:
            ran.append(name)
            timer.spend(cost)

        return update

    for name, cost in costs.items():
        scheduler.register(name)
        scheduler.post(name, costing(name, cost))
    assert scheduler.run_frame() == 1  # over budget alone: never starved, never joined
    assert ran == ["slow"]
    scheduler.stats.expected_cost_ms = 0.1  # it has learnt the cheap ones' cost
    assert scheduler.run_frame() == 3  # cheap, but at most three per frame
    assert scheduler.run_frame() == 1
    assert ran == ["slow", "a", "b", "c", "d"]


def test_the_budget_counts_the_paints_that_follow_updates() -> None:
    application()
    timer = FakeTimer()
    scheduler = ChartScheduler(budget_ms=8.0, max_per_frame=3, timer=timer)
    targets = [QObject() for _ in range(6)]
    for target in targets:
        scheduler.register(target)
        scheduler.post(target, lambda: timer.spend(2.0))
    assert scheduler.run_frame() == 3  # 2 ms each, no paint known yet: the cap decides
    scheduler.note_paint(4.0)  # a chart's paint, reported by the chart after painting
    assert scheduler.stats.expected_paint_ms == 4.0
    # 2 ms + its 4 ms paint, and another 2 + 4 would pass 8 ms: one update per frame.
    assert [scheduler.run_frame() for _ in range(3)] == [1, 1, 1]
    assert scheduler.pending == 0


def test_charts_report_their_paints_to_the_scheduler(
    qtbot: QtBot, make_chart: Callable[..., MetricChart]
) -> None:
    scheduler = ChartScheduler()
    chart = make_chart(scheduler=scheduler)
    chart.set_data(ChartData.build(series(100), np.ones(100)))
    chart.flush()
    qtbot.waitUntil(lambda: scheduler.stats.expected_paint_ms > 0, timeout=WAIT_MS)


def test_twenty_four_live_charts_are_redrawn_over_several_frames(
    qtbot: QtBot, make_chart: Callable[..., MetricChart]
) -> None:
    scheduler = ChartScheduler(budget_ms=1.0, max_per_frame=3)
    charts = [make_chart(scheduler=scheduler, preset=RangePreset.HOUR_1) for _ in range(24)]
    for chart in charts:
        chart.resize(300, 120)
        chart.set_data(ChartData.build(series(360), np.ones(360)))
    qtbot.waitUntil(lambda: scheduler.pending == 0, timeout=WAIT_MS)
    frames_before = scheduler.stats.frames
    for chart in charts:
        chart.append(ChartPoint(T_NOW + 1, 2.0))
    assert scheduler.pending == 24
    qtbot.waitUntil(lambda: scheduler.pending == 0, timeout=WAIT_MS)
    assert scheduler.stats.frames - frames_before >= 8  # at most three a frame
    assert all(chart.renders == 2 for chart in charts)


def test_a_destroyed_chart_leaves_nothing_pending(qtbot: QtBot) -> None:
    application()
    scheduler = ChartScheduler()
    chart = MetricChart(LIGHT, scheduler=scheduler, clock=FakeClock(NOW))
    chart.append(ChartPoint(T_NOW, 1.0))
    assert scheduler.is_pending(chart)
    destroyed = []
    chart.destroyed.connect(lambda *_: destroyed.append(True))
    chart.deleteLater()
    qtbot.waitUntil(lambda: bool(destroyed), timeout=WAIT_MS)
    assert scheduler.pending == 0
    with pytest.raises(ValueError, match="register"):
        scheduler.post(object(), lambda: None)


# -- soak -----------------------------------------------------------------------------------------


def test_soak_thousands_of_updates_and_repaints(
    qtbot: QtBot, make_chart: Callable[..., MetricChart], clock: FakeClock
) -> None:
    """PySide6 6.12.0 on CPython 3.11 died with ``bool_dealloc`` within seconds of this loop."""
    chart = make_chart(preset=RangePreset.MIN_15)
    chart.resize(360, 160)
    rng = np.random.default_rng(5)
    times = series(180, 5)
    chart.set_data(ChartData.build(times, rng.normal(50, 3, 180), [42.0] * 180, [58.0] * 180))
    chart.set_incidents([(T_NOW - 300, None, "INC")])
    started = time.monotonic()
    for i in range(3000):
        clock.advance(5)
        chart.append(ChartPoint(clock.now().timestamp(), float(rng.normal(50, 3)), 42.0, 58.0))
        assert chart.flush()
        chart.plot_widget.viewport().repaint()
        if i % 50 == 0:
            qtbot.wait(0)
    assert chart.renders == 3000  # the load and the first sample were drawn together
    x, _y = curve_data(chart)
    assert x[-1] == clock.now().timestamp()
    assert len(x) < 1.5 * 180  # old points were dropped as the view moved
    assert time.monotonic() - started < 60
