"""Starting the wall from the command line (``--wall``), or rendering it once (``--screenshot``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication

from console.ui.application import SCREENSHOT_TIMEOUT_MS, Console, ScreenshotError
from console.ui.wall.window import WallSettings, WallWindow


def make_wall(console: Console, screen: int | None, settings: WallSettings) -> WallWindow:
    """A wall over the console's store, worker and engine host."""
    store = console.store
    return WallWindow(store, console.runner, console.engine, store.clock, settings, screen)


#: How long a screenshot waits, once the wall shows data, for every service to have some.
SETTLE_TIMEOUT_MS = 30_000


def _wait_until(wall: WallWindow, done: Callable[[], bool], timeout_ms: int) -> None:
    """Run the event loop until ``done()`` after a reading, or until ``timeout_ms`` passed."""
    if done():
        return
    loop = QEventLoop()

    def check(*_: object) -> None:
        if done():
            loop.quit()

    wall.feed.reading.connect(check, Qt.ConnectionType.QueuedConnection)
    wall.feed.failed.connect(check, Qt.ConnectionType.QueuedConnection)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    wall.feed.reading.disconnect(check)
    wall.feed.failed.disconnect(check)


def _settled(wall: WallWindow) -> bool:
    """Whether the wall shows a fault, or tiles whose every metric has had a result."""
    if not wall.is_ready:
        return False
    return wall.showing_fault or all(
        t.worst is None or t.worst.last_check is not None for t in wall.grid.tiles
    )


def wall_screenshot(
    console: Console,
    wall: WallWindow,
    path: Path,
    size: tuple[int, int],
    timeout_ms: int = SCREENSHOT_TIMEOUT_MS,
) -> None:
    """Render the wall into a PNG at ``path`` once its data (or a fault) is shown.

    A store just filled (the demo) has history but no results from the engine yet: the
    picture waits, up to :data:`SETTLE_TIMEOUT_MS`, until every metric has had a result.

    Raises:
        ScreenshotError: When no data arrived in time or the file could not be written.
    """
    wall.resize(*size)
    wall.show()
    if not wall.is_ready:
        console.start(watch=False)
        wall.start(keep_awake=False)
        _wait_until(wall, lambda: wall.is_ready, timeout_ms)
        _wait_until(wall, lambda: _settled(wall), SETTLE_TIMEOUT_MS)
    try:
        if not wall.is_ready:
            raise ScreenshotError("the wall's data did not arrive within a minute")
        QApplication.processEvents()  # let pending paints settle before grabbing
        image = wall.grab()
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path), "PNG"):
            raise ScreenshotError(f"could not write {path}")
    finally:
        wall.stop()


def run_wall(
    console: Console,
    app: QApplication,
    screen: int | None,
    settings: WallSettings,
    size: tuple[int, int],
) -> int:
    """Show the wall full screen until it is left; returns the exit code."""
    wall = make_wall(console, screen, settings)
    wall.left.connect(app.quit)
    wall.resize(*size)
    wall.place()
    wall.showFullScreen()
    console.start(watch=False)
    wall.start()
    try:
        return app.exec()
    finally:
        wall.stop()
        wall.deleteLater()
