"""The wall window: full screen on its screen, pages of tiles that rotate, faults that hide them.

What it guarantees an unattended NOC screen:

* the worst problems are on screen: the tiles come worst first; when a service has an
  unacknowledged CRITICAL the wall jumps to its page and rotation then only moves between pages
  holding one (a single such page stays put);
* it never shows old data as fresh: a stopped engine or an unreadable store replaces the tiles
  with a full-screen fault, the header shows the age of the newest data, and the clock ticks;
* it stays on: the screen saver is inhibited and reset while the wall is up, the cursor hides
  when the mouse is idle, and leaving takes Esc twice (one stray key press never closes it; a
  modal dialog was not used because an unanswered dialog would cover the wall indefinitely).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeyEvent, QMouseEvent, QScreen
from PySide6.QtWidgets import QStackedLayout, QVBoxLayout, QWidget

from console.core.clock import Clock
from console.store.db import Store
from console.ui.engine_host import EngineHost, EngineState
from console.ui.tasks import TaskRunner
from console.ui.wall.blanking import RESET_EVERY_S, BlankingGuard
from console.ui.wall.fault import FaultPanel
from console.ui.wall.feed import REFRESH_MS, TileReader, WallFeed, WallReading, store_tiles
from console.ui.wall.grid import TileGrid
from console.ui.wall.header import WallHeader
from console.ui.wall.screens import choose_screen
from console.ui.wall.style import WALL_THEME
from console.ui.wall.text import FaultText, engine_fault, store_fault

LEAVE_PROMPT = "Press Esc again to leave the wall (any other key stays)"


@dataclass(frozen=True, slots=True)
class WallSettings:
    """How the wall behaves.

    Attributes:
        rotate_s: Seconds each page stays before the next one (default 15).
        refresh_ms: How often the store is read.
        cursor_idle_s: The mouse cursor hides after this long without movement.
        saver_reset_s: How often the X screen saver is reset.
        leave_confirm_s: How long the second Esc has to come after the first.
    """

    rotate_s: float = 15.0
    refresh_ms: int = REFRESH_MS
    cursor_idle_s: float = 3.0
    saver_reset_s: float = RESET_EVERY_S
    leave_confirm_s: float = 5.0


def _timer(parent: QObject, seconds: float, slot: object, single: bool = False) -> QTimer:
    timer = QTimer(parent)
    timer.setInterval(max(1, round(seconds * 1000)))
    timer.setSingleShot(single)
    timer.timeout.connect(slot)
    return timer


class WallWindow(QWidget):
    """The NOC wall.

    Args:
        store: The store to read (on the worker).
        runner: The store worker.
        host: This process's engine host, if any.
        clock: What the clock and every age are measured with.
        settings: Rotation, refresh and idle periods.
        screen: The screen asked for (``--screen N``, 0-based), None for the primary one.
        reader: Reads the tiles (the store's read model by default).
    """

    #: The first reading (or read failure) has been shown.
    ready = Signal()
    #: The wall was left (Esc twice, or closed).
    left = Signal()

    def __init__(
        self,
        store: Store,
        runner: TaskRunner,
        host: EngineHost | None,
        clock: Clock,
        settings: WallSettings | None = None,
        screen: int | None = None,
        reader: TileReader = store_tiles,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("wall")
        self.setWindowTitle("On-call Console: NOC wall")
        self.setStyleSheet(f"#wall {{ background: {WALL_THEME.window}; }}")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.settings = settings or WallSettings()
        self._clock = clock
        self._screen_index = screen
        self._screen_name: str | None = None
        self._ready = False
        self._following_screens = False
        self.cursor_hidden = False
        self.feed = WallFeed(store, runner, host, reader, self.settings.refresh_ms, self)
        self.feed.reading.connect(self.show_reading)
        self.feed.failed.connect(self.show_read_failure)
        self.guard = BlankingGuard(self.settings.saver_reset_s, self)
        self._build(clock.now())
        self.tick_timer = _timer(self, 1.0, self.tick)
        self.rotate_timer = _timer(self, self.settings.rotate_s, self.rotate)
        self.cursor_timer = _timer(self, self.settings.cursor_idle_s, self.hide_cursor, True)
        self.leave_timer = _timer(self, self.settings.leave_confirm_s, self.cancel_leave, True)

    def _build(self, now: datetime) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.header = WallHeader(now)
        self.body = QWidget()
        # Both pages always get the body's geometry (StackAll), so the grid is laid out for its
        # real size even while the fault covers it; the one not shown is hidden, not painted.
        stack = QStackedLayout(self.body)
        stack.setStackingMode(QStackedLayout.StackingMode.StackAll)
        self.fault_panel = FaultPanel()
        self.grid = TileGrid(now)
        stack.addWidget(self.grid)
        stack.addWidget(self.fault_panel)
        self.grid.hide()
        layout.addWidget(self.header)
        layout.addWidget(self.body, 1)
        for widget in (self, self.header, self.body, self.fault_panel, self.grid):
            widget.setMouseTracking(True)  # moves without a button pressed wake the cursor

    # -- running -------------------------------------------------------------------------------

    @property
    def is_ready(self) -> bool:
        """Whether :attr:`ready` has fired."""
        return self._ready

    @property
    def showing_fault(self) -> bool:
        """Whether the fault panel (or the wait for data) is shown instead of the tiles."""
        return not self.fault_panel.isHidden()

    def _show_body(self, shown: QWidget, hidden: QWidget) -> None:
        hidden.hide()
        shown.show()
        shown.raise_()

    def start(self, keep_awake: bool = True) -> None:
        """Start reading, ticking, rotating and hiding the cursor.

        Args:
            keep_awake: Also keep the screen from blanking (not for a screenshot).
        """
        self.feed.start()
        self.tick_timer.start()
        self.rotate_timer.start()
        self.cursor_timer.start()
        if keep_awake:
            self.guard.start()
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication) and not self._following_screens:
            self._following_screens = True
            app.screenAdded.connect(self._on_screens_changed)
            app.screenRemoved.connect(self._on_screen_removed)
            app.primaryScreenChanged.connect(self._on_screens_changed)

    def stop(self) -> None:
        """Stop every timer and let the screen blank again."""
        for timer in (self.tick_timer, self.rotate_timer, self.cursor_timer, self.leave_timer):
            timer.stop()
        self.feed.stop()
        self.guard.stop()
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication) and self._following_screens:
            self._following_screens = False
            app.screenAdded.disconnect(self._on_screens_changed)
            app.screenRemoved.disconnect(self._on_screen_removed)
            app.primaryScreenChanged.disconnect(self._on_screens_changed)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: D102 - Qt override
        self.stop()
        self.left.emit()
        super().closeEvent(event)

    # -- data ----------------------------------------------------------------------------------

    def show_reading(self, reading: WallReading) -> None:
        """Show a reading: its tiles, or the fault when the engine is not collecting data."""
        fault = engine_fault(reading.status, reading.read_at)
        if fault is not None:
            self._show_fault(fault)
        else:
            self.grid.set_tiles(reading.tiles, reading.read_at)
            self.header.show_tiles(reading.tiles, reading.read_at)
            self._show_body(self.grid, self.fault_panel)
            self._follow_critical()
        if reading.status.state is not EngineState.STARTING:
            self._mark_ready()

    def show_read_failure(self, error: str) -> None:
        """The store could not be read: show the fault, never the last tiles."""
        self._show_fault(store_fault(error))
        self._mark_ready()

    def _show_fault(self, fault: FaultText) -> None:
        self.fault_panel.show_fault(fault)
        self.header.show_fault()
        self._show_body(self.fault_panel, self.grid)

    def _mark_ready(self) -> None:
        if not self._ready:
            self._ready = True
            self.ready.emit()

    def tick(self) -> None:
        """Once a second: move the clock and the ages on (each part repaints only if changed)."""
        now = self._clock.now()
        self.header.set_now(now)
        self.grid.set_now(now)

    # -- pages ---------------------------------------------------------------------------------

    def _critical_pages(self) -> list[int]:
        return [p for p in range(self.grid.page_count) if self.grid.holds_unacknowledged(p)]

    def _show_page(self, number: int) -> None:
        self.grid.set_page(number)
        self.header.set_page(self.grid.page, self.grid.page_count)

    def _follow_critical(self) -> None:
        """Jump to the first page with an unacknowledged CRITICAL unless one is shown already."""
        critical = self._critical_pages()
        if critical and self.grid.page not in critical:
            self._show_page(critical[0])
            self.rotate_timer.start()  # a full period on it before rotation may move on
        else:
            self._show_page(self.grid.page)

    def rotate(self) -> None:
        """Move to the next page; only between pages holding an unacknowledged CRITICAL if any."""
        pages = self.grid.page_count
        candidates = self._critical_pages() or list(range(pages))
        current = self.grid.page
        later = [p for p in candidates if p > current]
        self._show_page(later[0] if later else candidates[0])

    # -- cursor and keys -----------------------------------------------------------------------

    def hide_cursor(self) -> None:
        """Hide the mouse cursor (it has been idle)."""
        self.cursor_hidden = True
        self.setCursor(Qt.CursorShape.BlankCursor)

    def wake_cursor(self) -> None:
        """Show the cursor again and restart the idle countdown."""
        if self.cursor_hidden:
            self.cursor_hidden = False
            self.unsetCursor()
        self.cursor_timer.start()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: D102 - Qt override
        self.wake_cursor()
        super().mouseMoveEvent(event)

    def event(self, event: QEvent) -> bool:  # noqa: D102 - Qt override
        if event.type() == QEvent.Type.HoverMove:
            self.wake_cursor()
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: D102 - Qt override
        key = event.key()
        if key == Qt.Key.Key_F11:
            self.toggle_full_screen()
        elif key == Qt.Key.Key_Escape:
            self.escape()
        elif self.leave_timer.isActive():
            self.cancel_leave()
        else:
            super().keyPressEvent(event)

    def escape(self) -> None:
        """Esc: the first press asks, a second one within a few seconds leaves the wall."""
        if self.leave_timer.isActive():
            self.leave_timer.stop()
            self.header.set_prompt("")
            self.close()
            return
        self.header.set_prompt(LEAVE_PROMPT)
        self.leave_timer.start()

    def cancel_leave(self) -> None:
        """Forget a first Esc."""
        self.leave_timer.stop()
        self.header.set_prompt("")

    def toggle_full_screen(self) -> None:
        """F11: full screen on the chosen screen, or a normal window."""
        if self.isFullScreen():
            self.showNormal()
        else:
            self.place()
            self.showFullScreen()

    # -- screens -------------------------------------------------------------------------------

    def target_screen(self, gone: QScreen | None = None) -> QScreen:
        """The screen the wall belongs on now (see :func:`choose_screen`)."""
        screens = QGuiApplication.screens()
        primary = QGuiApplication.primaryScreen()
        screen = choose_screen(screens, self._screen_index, self._screen_name, primary, gone)
        if self._screen_name is None and self._screen_index is not None:
            present = [s for s in screens if s is not gone]
            if self._screen_index < len(present) and screen is present[self._screen_index]:
                self._screen_name = screen.name() or None  # follow it by name from now on
        return screen

    def place(self, gone: QScreen | None = None) -> None:
        """Move the wall onto its screen (filling it when full screen)."""
        screen = self.target_screen(gone)
        if self.screen() is not screen:
            self.setScreen(screen)
        if self.isFullScreen():
            self.setGeometry(screen.geometry())
        elif not screen.availableGeometry().contains(self.geometry().topLeft()):
            self.move(screen.availableGeometry().topLeft())

    def _on_screen_removed(self, screen: QScreen) -> None:
        self.place(gone=screen)

    def _on_screens_changed(self, _screen: QScreen | None = None) -> None:
        self.place()
