"""Starts the Qt application around a store: the interactive window, or one screenshot."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from console.store.db import Store
from console.store.errors import StoreRefused
from console.ui.alerting import AlertingController
from console.ui.dialogs.settings import SettingsDialog
from console.ui.engine_host import EngineHost, EngineStatus, HostState, read_status
from console.ui.estate import EstateModel
from console.ui.mainwindow import MainWindow
from console.ui.startup import FirstPaint, StartupProbe
from console.ui.tasks import TaskRunner
from console.ui.theme import ThemeController

if TYPE_CHECKING:
    from console.secrets import KeyringStatus

APP_NAME = "oncall-console"
SCREENSHOT_TIMEOUT_MS = 60_000
#: How often the status bar asks where the engine stands.
ENGINE_STATUS_MS = 2_000


class Options(Protocol):
    """What starting the GUI needs (console.app.GuiOptions provides it)."""

    @property
    def store_path(self) -> Path:
        """The store file."""

    @property
    def actor(self) -> str | None:
        """Whom to record actions as (None: the store's identity)."""

    @property
    def screenshot(self) -> Path | None:
        """Render to this PNG and exit, instead of running the window."""

    @property
    def page(self) -> str | None:
        """The sidebar page to show first."""

    @property
    def size(self) -> tuple[int, int]:
        """Window size in pixels."""

    @property
    def demo(self) -> bool:
        """Whether the app also serves the simulated demo estate for its engine."""

    @property
    def wall(self) -> bool:
        """Show the NOC wall instead of the main window."""

    @property
    def minimised(self) -> bool:
        """Start in the system tray (a minimised window where there is none)."""

    @property
    def screen(self) -> int | None:
        """The wall's screen (0-based), None for the primary one."""

    @property
    def rotate_s(self) -> float:
        """Seconds each wall page stays before the next."""

    @property
    def started_at(self) -> float | None:
        """When the process started (``time.perf_counter``), for the startup probe."""


class ScreenshotError(Exception):
    """A screenshot could not be taken (the message says why)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def application() -> QApplication:
    """The process's QApplication, created and named on first use."""
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else APP_NAME])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName("On-call Console")
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName(APP_NAME)
    return app


@contextlib.contextmanager
def _styled_once_built(app: QApplication) -> Iterator[None]:
    """Build widgets without the application's style sheet, then apply it once.

    Under a style sheet every widget added to a parent restyles its whole subtree again: the
    window, built unstyled and styled once at the end, is built about a second sooner.
    """
    sheet = app.styleSheet()
    app.setStyleSheet("")
    try:
        yield
    finally:
        app.setStyleSheet(sheet)


class Console(QObject):
    """The running console: store, worker, models and window, and how they shut down.

    With an ``engine`` host, :meth:`start` also starts the monitoring engine in this process
    (it stands by when another process's engine monitors the store) and :meth:`close` stops it.
    With ``alerting``, it also notifies, sounds the alarm and shows the tray icon
    (:attr:`alerting`); screenshots and the wall go without, so they stay silent.
    """

    #: The first load has finished and nothing is pending: the window shows real data.
    ready = Signal()
    #: The status bar now shows this EngineStatus.
    engineStatusShown = Signal(object)  # noqa: N815 (Qt's naming)
    #: The engine host has written the demo's history (emitted from its thread: queued).
    _historyWritten = Signal()  # noqa: N815

    def __init__(
        self,
        store: Store,
        app: QApplication,
        engine: EngineHost | None = None,
        *,
        alerting: bool = False,
    ) -> None:
        """Wire the worker, the estate model, the theme and the window around ``store``."""
        super().__init__()
        self.store = store
        self.engine = engine
        self._status_pending = False
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(ENGINE_STATUS_MS)
        self._status_timer.timeout.connect(self.refresh_engine_status)
        self.runner = TaskRunner(self)
        try:
            self.estate = EstateModel(store, self.runner, self)
            self.themes = ThemeController(app, parent=self)
            with _styled_once_built(app):
                self.window = MainWindow(self.estate, self.themes.theme)
                self.alerting: AlertingController | None = None
                if alerting:
                    self.alerting = AlertingController(
                        store,
                        self.runner,
                        self.window,
                        self.themes.theme,
                        engine=engine,
                        parent=self,
                    )
        except BaseException:
            self.runner.shutdown()  # a running QThread must not be destroyed
            raise
        if engine is not None:
            self._historyWritten.connect(self.refresh_engine_status)
            engine.on_loaded = self._historyWritten.emit
        self._ready = False
        self.settings_dialog: SettingsDialog | None = None
        self.window.settingsRequested.connect(self.open_settings)
        self.estate.changed.connect(self._check_ready)
        self.runner.idle.connect(self._check_ready)

    @property
    def is_ready(self) -> bool:
        """Whether :attr:`ready` has fired."""
        return self._ready

    def start(self, watch: bool = True) -> None:
        """Load the estate (and keep following the store when ``watch``), and the identity.

        Starts the engine host, if there is one; its state is then shown in the status bar
        (refreshed every few seconds when ``watch``).
        """
        if self.engine is not None and self.engine.state is HostState.NOT_STARTED:
            self.engine.start()
        store = self.store
        job = self.estate.call(lambda: (store.identity, store.actor))
        job.succeeded.connect(lambda pair: self.window.set_identity(*pair))
        if watch:
            self.estate.start_watching()
            self._status_timer.start()
        else:
            self.estate.reload()
        self.refresh_engine_status()
        self.runner.submit(_keyring_status, self._on_keyring_status, self._on_keyring_failed)
        if self.alerting is not None:
            self.alerting.start()

    def open_settings(self) -> SettingsDialog:
        """Open the settings dialog over the window (or raise the one already open)."""
        if self.settings_dialog is not None:
            self.settings_dialog.raise_()
            self.settings_dialog.activateWindow()
            return self.settings_dialog
        dialog = SettingsDialog(self.store, self.runner, parent=self.window)
        if self.alerting is not None:
            self.alerting.follow(dialog)
        self.settings_dialog = dialog

        def finished() -> None:
            self.settings_dialog = None
            dialog.deleteLater()

        dialog.finished.connect(finished)
        dialog.open()
        return dialog

    def _on_keyring_status(self, status: KeyringStatus) -> None:
        explanation = status.explanation or f"Credentials are read from {status.backend}."
        self.window.set_keyring_status(status.available, explanation)

    def _on_keyring_failed(self, exc: BaseException) -> None:
        self.window.set_keyring_status(False, f"The keyring could not be checked: {exc}")

    def refresh_engine_status(self) -> None:
        """Ask the worker where the engine stands; the status bar shows the answer."""
        if self._status_pending:
            return
        self._status_pending = True
        store, host = self.store, self.engine
        self.runner.submit(
            lambda: read_status(store, host), self._on_engine_status, self._on_status_failed
        )

    def _on_engine_status(self, status: EngineStatus) -> None:
        self._status_pending = False
        self.window.set_engine_status(status.text, status.tooltip)
        self.engineStatusShown.emit(status)

    def _on_status_failed(self, exc: BaseException) -> None:
        self._status_pending = False
        self.window.set_engine_status("Engine: unknown", f"Could not read its state: {exc}")

    def _check_ready(self) -> None:
        if not self._ready and self.estate.loaded and self.runner.pending == 0:
            self._ready = True
            self.ready.emit()

    def close(self) -> None:
        """Stop the engine and the worker, then drop the window (without asking) and the store."""
        self._status_timer.stop()
        self.estate.stop_watching()
        if self.alerting is not None:
            self.alerting.close()
        if self.engine is not None:
            self.engine.stop()
        self.runner.shutdown()
        self.window.hide()
        self.window.deleteLater()
        self.store.close()
        self.deleteLater()


def _keyring_status() -> KeyringStatus:
    # Imported on the worker: the keyring costs a window a tenth of a second.
    from console.secrets import backend_status

    return backend_status()


def screenshot(console: Console, path: Path, page: str | None, size: tuple[int, int]) -> None:
    """Render the window, once its data has loaded, into a PNG at ``path``."""
    window = console.window
    if page is not None and not window.show_page(page):
        names = ", ".join(window.page_names())
        raise ScreenshotError(f"there is no page {page!r}; pages are: {names}")
    window.resize(*size)
    window.show()
    if not console.is_ready:
        loop = QEventLoop()
        console.ready.connect(loop.quit)
        QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, loop.quit)
        console.start(watch=False)
        loop.exec()
    if not console.is_ready:
        raise ScreenshotError("the store did not finish loading within a minute")
    # Let layouts and pending paints settle before grabbing.
    QApplication.processEvents()
    image = window.grab()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(path), "PNG"):
        raise ScreenshotError(f"could not write {path}")


def _run_wall(console: Console, app: QApplication, options: Options) -> int:
    from console.ui.wall.launch import make_wall, run_wall, wall_screenshot
    from console.ui.wall.window import WallSettings

    settings = WallSettings(rotate_s=options.rotate_s)
    if options.screenshot is None:
        return run_wall(console, app, options.screen, settings, options.size)
    wall = make_wall(console, options.screen, settings)
    try:
        wall_screenshot(console, wall, options.screenshot, options.size)
    except ScreenshotError as exc:
        print(f"oncall-console: {exc.message}", file=sys.stderr)
        return 2
    finally:
        wall.deleteLater()
    return 0


def run(options: Options) -> int:
    """Open the store, build the window, then run it (or render one screenshot)."""
    app = application()
    try:
        store = Store.open(options.store_path)
    except StoreRefused as exc:
        print(f"oncall-console: {exc}", file=sys.stderr)
        return 3
    store.act_as(options.actor)
    # Screenshots and the wall stay silent: no notifications, no alarm, no tray.
    silent = options.wall or options.screenshot is not None
    # A screenshot's demo store was filled before the window (console.cli.main); a window's
    # history is written behind it, by its engine host.
    fill = options.demo and options.screenshot is None
    host = EngineHost(store, demo=options.demo, fill_history=fill)
    console = Console(store, app, host, alerting=not silent)
    try:
        if options.wall:
            return _run_wall(console, app, options)
        if options.screenshot is not None:
            try:
                screenshot(console, options.screenshot, options.page, options.size)
            except ScreenshotError as exc:
                print(f"oncall-console: {exc.message}", file=sys.stderr)
                return 2
            return 0
        if options.page is not None and not console.window.show_page(options.page):
            print(f"oncall-console: there is no page {options.page!r}", file=sys.stderr)
            return 2
        console.window.resize(*options.size)
        if console.alerting is not None:
            console.alerting.show_at_start(minimised=options.minimised)
        else:
            console.window.show()
        probe = StartupProbe.from_environment(options.started_at, console)
        _start_after_first_paint(console, probe)
        return app.exec()
    finally:
        console.close()


def _start_after_first_paint(console: Console, probe: StartupProbe | None) -> None:
    """Load the data, start the engine (and write a demo's history) once the window is drawn."""

    def start() -> None:
        if probe is not None:
            if probe.painted():
                return  # quitting: nothing to start (and nothing for closing to wait for)
            console.engineStatusShown.connect(probe.status_shown)
            console.ready.connect(probe.data_shown)
        console.start()

    FirstPaint(console.window, start)
