"""Chart drawing costs: a 30-day chart, and 24 live charts with and without the ChartScheduler.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/bench_charts.py``
(not part of the test run; about a minute with the defaults; ``--seconds`` sets the length
of each live run).

(a) A chart of 30 days of 1-minute rollups (43,200 points, with a band) is given its data and
    drawn: the time from ``set_data`` until its paint event has finished, best and median of
    several runs. Target (issue 5): under 100 ms.
(b) 24 charts of 3,600 points each (one hour at one sample a second, with a band) in a
    1920x1080 window, each fed one sample a second, in three ways in the same run:

    * naive: every chart redrawn at once each second, its time axis moved on every sample
      (how a PlotWidget is usually fed; DESIGN.md measured 90 to 180 ms for this);
    * all at once: every chart redrawn at once each second, axes moved in 5 % steps;
    * scheduler: samples posted to the ChartScheduler, a few charts redrawn per frame.

    The UI thread's busy time is its CPU time per wall-clock second; a 10 ms probe timer on
    it gives the event loop's latency (how late the probe fires: p95) and the longest stall
    (the latest it fired). Targets (issue 5, for the whole wall with 500 tiles besides):
    busy under 30 % of each second, latency p95 under 16 ms, no stall over 50 ms.

Absolute figures move with the machine's load (2 shared cores here): compare the modes,
which run interleaved in one process.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import statistics
import time
from dataclasses import dataclass, field

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from console.store.samples import Resolution  # noqa: E402
from console.ui.application import application  # noqa: E402
from console.ui.charts import ChartData, ChartPoint, ChartScheduler, MetricChart  # noqa: E402
from console.ui.charts.data import RangePreset  # noqa: E402
from console.ui.theme import LIGHT  # noqa: E402
from PySide6.QtCore import (  # noqa: E402
    QCoreApplication,
    QEvent,
    QEventLoop,
    QObject,
    Qt,
    QTimer,
)
from PySide6.QtWidgets import QGridLayout, QWidget  # noqa: E402

MONTH_POINTS = 30 * 24 * 60
LIVE_POINTS = 3_600
CHARTS = 24


def wave(times: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A daily pattern with noise and a band around it (the band is data here)."""
    rng = np.random.default_rng(seed)
    base = 120 + 40 * np.sin(times / 86_400 * 2 * math.pi)
    values = base + rng.normal(0, 8, times.size)
    return values, base - 25, base + 25


class PaintCounter(QObject):
    """Counts paint events that reached a widget (its viewport)."""

    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def month_chart(runs: int) -> list[float]:
    """Milliseconds from set_data to a finished paint of the 30-day chart, per run."""
    app = application()
    chart = MetricChart(LIGHT, preset=RangePreset.DAYS_30)
    chart.resize(1200, 400)
    chart.show()
    counter = PaintCounter()
    chart.plot_widget.viewport().installEventFilter(counter)
    end = time.time()
    times = end - 60.0 * np.arange(MONTH_POINTS, 0, -1)
    values, low, high = wave(times, 1)
    low[:60] = math.nan  # a warm-up gap, as a band computed over history has
    high[:60] = math.nan
    results = []
    for _ in range(runs):
        data = ChartData.build(times, values, low, high, Resolution.MINUTE)
        app.processEvents()
        before = counter.paints
        start = time.perf_counter()
        chart.set_data(data)
        chart.flush()
        while counter.paints == before:  # until the chart has really been painted
            app.processEvents()
        results.append((time.perf_counter() - start) * 1000)
        chart.set_data(ChartData.build(times[:10], values[:10]))  # something else in between
        chart.flush()
        app.processEvents()
    dispose(chart)
    return results


def dispose(widget: QWidget) -> None:
    """Delete a widget now, so its destruction does not land in the next measurement."""
    widget.hide()
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


@dataclass
class LoopMeter:
    """What the UI thread did, seen by a 10 ms probe timer on it.

    Busy time is the thread's CPU time (``time.thread_time``; the UI thread's work here is
    all CPU: offscreen painting, Python), summed per wall-clock second. The probe's lateness
    is the event loop's latency, and its largest value the longest stall.
    """

    ticks: list[tuple[float, float]] = field(default_factory=list)  # (wall, thread CPU) s
    lateness_ms: list[float] = field(default_factory=list)

    def attach(self, probe: QTimer) -> None:
        self.ticks.append((time.perf_counter(), time.thread_time()))

        def tick() -> None:
            now = (time.perf_counter(), time.thread_time())
            late = (now[0] - self.ticks[-1][0]) * 1000 - probe.interval()
            self.lateness_ms.append(max(0.0, late))
            self.ticks.append(now)

        probe.timeout.connect(tick)


@dataclass(frozen=True)
class LiveResult:
    """One live run's figures."""

    mode: str
    busy_median_pct: float
    busy_max_pct: float
    latency_p95_ms: float
    longest_stall_ms: float
    frames: int


def build_wall(scheduler: ChartScheduler) -> tuple[QWidget, list[MetricChart]]:
    """24 charts in a 6 x 4 grid in a 1920x1080 window, without their control bars."""
    window = QWidget()
    grid = QGridLayout(window)
    grid.setContentsMargins(4, 4, 4, 4)
    grid.setSpacing(4)
    charts = []
    end = time.time()
    times = end - np.arange(LIVE_POINTS, 0, -1, dtype=np.float64)
    for i in range(CHARTS):
        chart = MetricChart(LIGHT, scheduler=scheduler, preset=RangePreset.HOUR_1, controls=False)
        values, low, high = wave(times * 24, i)
        chart.set_data(ChartData.build(times, values, low, high))
        grid.addWidget(chart, i // 6, i % 6)
        charts.append(chart)
    window.resize(1920, 1080)
    window.show()
    scheduler.run_all()
    return window, charts


def live(mode: str, seconds: float) -> LiveResult:
    """Feed 24 charts one sample a second for ``seconds`` in one of the three modes."""
    app = application()
    scheduler = ChartScheduler()
    window, charts = build_wall(scheduler)
    for _ in range(20):
        app.processEvents()
    rng = np.random.default_rng(7)

    def feed() -> None:
        now = time.time()
        for chart in charts:
            chart.append(ChartPoint(now, float(rng.normal(120, 8)), 95.0, 145.0))
            if mode == "scheduler":
                continue
            chart.flush()  # redrawn at once, as a view without the scheduler would
            if mode == "naive":  # and scrolled with every sample
                chart.items.plot.setXRange(now - 3600, now, padding=0)

    meter = LoopMeter()
    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(10)
    feeder = QTimer()
    feeder.setTimerType(Qt.TimerType.PreciseTimer)
    feeder.setInterval(1000)
    feeder.timeout.connect(feed)
    frames_before = scheduler.stats.frames
    meter.attach(probe)
    probe.start()
    feeder.start()
    loop = QEventLoop()  # a real event loop, as the application runs
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()
    feeder.stop()
    probe.stop()
    dispose(window)
    return summarise(mode, meter, seconds, scheduler.stats.frames - frames_before)


def summarise(mode: str, meter: LoopMeter, seconds: float, frames: int) -> LiveResult:
    """Busy CPU per wall second (whole seconds only), latency p95 and the longest stall."""
    started = meter.ticks[0][0]
    per_second = [0.0] * max(1, math.floor(seconds))
    for (_w0, cpu0), (wall, cpu) in itertools.pairwise(meter.ticks):
        slot = int(wall - started)
        if slot < len(per_second):
            per_second[slot] += cpu - cpu0
    lateness = sorted(meter.lateness_ms)
    return LiveResult(
        mode,
        statistics.median(per_second) * 100,
        max(per_second) * 100,
        lateness[int(0.95 * (len(lateness) - 1))],
        lateness[-1],
        frames,
    )


def report_month(times: list[float]) -> None:
    best, median = min(times), statistics.median(times)
    verdict = "met" if median < 100 else "NOT met"
    print(f"\n(a) 30-day chart, {MONTH_POINTS:,} one-minute points with a band, 1200x400:")
    print(f"    set_data until painted: best {best:.1f} ms, median {median:.1f} ms")
    print(f"    target < 100 ms: {verdict} (runs: {', '.join(f'{t:.0f}' for t in times)})")


def report_live(results: list[LiveResult], seconds: float) -> None:
    print(
        f"\n(b) {CHARTS} charts x {LIVE_POINTS:,} points, one sample each per second, "
        f"{seconds:.0f} s per mode, 1920x1080:"
    )
    header = (
        f"    {'mode':<36}{'UI busy/s: median':>18}{'max':>7}"
        f"{'latency p95':>13}{'longest stall':>15}{'frames':>8}"
    )
    print(header)
    labels = {
        "naive": "all at once, axis moves per sample",
        "stepped": "all at once, axis moves in steps",
        "scheduler": "ChartScheduler, axis in steps",
    }
    for r in results:
        print(
            f"    {labels[r.mode]:<36}{r.busy_median_pct:>17.1f}%{r.busy_max_pct:>6.1f}%"
            f"{r.latency_p95_ms:>10.1f} ms{r.longest_stall_ms:>12.1f} ms{r.frames:>8}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="30-day chart draws")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each live run")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds of live runs")
    args = parser.parse_args()
    application()
    report_month(month_chart(args.runs))
    by_mode: dict[str, list[LiveResult]] = {"naive": [], "stepped": [], "scheduler": []}
    for _ in range(args.rounds):
        for mode in by_mode:
            by_mode[mode].append(live(mode, args.seconds))
    report_live([middle(rs) for rs in by_mode.values()], args.seconds)


def middle(results: list[LiveResult]) -> LiveResult:
    """The round with the median busy time."""
    return sorted(results, key=lambda r: r.busy_median_pct)[len(results) // 2]


if __name__ == "__main__":
    main()
