"""The window's first paint: work that waits for it, and the startup probe that times it.

Whatever the window does not need for its first frame (loading its data, starting the engine,
writing the demo's history) starts only once that frame is painted, so the window appears as
soon as Qt can draw it. The probe measures that moment for benchmarks and tests: with
``ONCALL_CONSOLE_STARTUP_PROBE=1`` the app logs, at INFO on the ``console.startup`` logger
(stderr), ``first paint after N ms`` (from process start), when the window shows its data,
each text the status bar's engine label takes, and when the demo's history is written.
``ONCALL_CONSOLE_STARTUP_QUIT=paint`` quits right after the first paint, ``=loaded`` once the
window no longer says it is loading the demo's history.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from enum import Enum

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

from console.ui.engine_host import EngineStatus

log = logging.getLogger("console.startup")

PROBE_ENV = "ONCALL_CONSOLE_STARTUP_PROBE"
QUIT_ENV = "ONCALL_CONSOLE_STARTUP_QUIT"
#: Work waiting for a first paint that never comes (a window under another, a platform that
#: paints nothing) starts anyway after this long.
FIRST_PAINT_TIMEOUT_MS = 3_000


class QuitAt(Enum):
    """When the probe quits the app (``ONCALL_CONSOLE_STARTUP_QUIT``)."""

    PAINT = "paint"
    LOADED = "loaded"


class FirstPaint(QObject):
    """Calls ``callback`` once: after ``widget``'s first paint, or after a timeout.

    A widget that is hidden or minimised when this is made will not be painted soon, so the
    callback runs at once (from the event loop, never from inside this constructor).
    """

    def __init__(
        self,
        widget: QWidget,
        callback: Callable[[], None],
        timeout_ms: int = FIRST_PAINT_TIMEOUT_MS,
    ) -> None:
        """Watch ``widget`` (this object is its child, and goes with it)."""
        super().__init__(widget)
        self._widget = widget
        self._callback: Callable[[], None] | None = callback
        widget.installEventFilter(self)
        waits = widget.isVisible() and not widget.isMinimized()
        QTimer.singleShot(timeout_ms if waits else 0, self, self._fire)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """Catch the first paint (it is still delivered: nothing is filtered out)."""
        if watched is self._widget and event.type() == QEvent.Type.Paint:
            # After this paint has been handled and flushed, not in the middle of it.
            QTimer.singleShot(0, self, self._fire)
        return False

    def _fire(self) -> None:
        callback, self._callback = self._callback, None
        if callback is None:
            return
        self._widget.removeEventFilter(self)
        callback()


class StartupProbe(QObject):
    """Logs how long the window took to appear, and optionally quits (see the module).

    Args:
        started_at: When the process started (``time.perf_counter``); None measures from here.
        quit_at: When to quit the app, if ever.
        parent: The probe's owner (it lives as long as it).
    """

    def __init__(
        self,
        started_at: float | None,
        quit_at: QuitAt | None = None,
        parent: QObject | None = None,
    ) -> None:
        """Start the clock, and let the startup logger speak at INFO."""
        super().__init__(parent)
        self._started_at = time.perf_counter() if started_at is None else started_at
        self.quit_at = quit_at
        self._status: str | None = None
        if log.getEffectiveLevel() > logging.INFO:
            log.setLevel(logging.INFO)

    @classmethod
    def from_environment(
        cls, started_at: float | None, parent: QObject | None = None
    ) -> StartupProbe | None:
        """The probe the environment asks for (owned by ``parent``), or None."""
        if os.environ.get(PROBE_ENV, "") in ("", "0"):
            return None
        raw = os.environ.get(QUIT_ENV, "").strip().lower()
        quit_at = QuitAt(raw) if raw in {q.value for q in QuitAt} else None
        if raw and quit_at is None:
            log.warning("ignoring %s=%r: expected paint or loaded", QUIT_ENV, raw)
        return cls(started_at, quit_at, parent)

    def elapsed_ms(self) -> float:
        """Milliseconds since the process started."""
        return (time.perf_counter() - self._started_at) * 1000

    def painted(self) -> bool:
        """The window's first frame is painted: say when; True if the app now quits."""
        # time.monotonic is shared by every process here: a benchmark that notes it before
        # starting the app adds the interpreter's own start-up to the figure.
        log.info(
            "first paint after %.0f ms (cpu %.0f ms, monotonic %.6f)",
            self.elapsed_ms(),
            time.process_time() * 1000,
            time.monotonic(),
        )
        if self.quit_at is QuitAt.PAINT:
            QCoreApplication.quit()
            return True
        return False

    def data_shown(self) -> None:
        """The window's first load has finished: it shows the store's data."""
        log.info("the window shows its data after %.0f ms", self.elapsed_ms())

    def status_shown(self, status: EngineStatus) -> None:
        """The status bar shows ``status``: log each new text (and quit once loaded if asked)."""
        if status.text == self._status:
            return
        self._status = status.text
        log.info("status bar says %r after %.0f ms", status.text, self.elapsed_ms())
        if self.quit_at is QuitAt.LOADED and not status.loading:
            log.info("the window shows the demo's history after %.0f ms", self.elapsed_ms())
            QCoreApplication.quit()
