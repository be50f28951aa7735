"""Keeps the screen from blanking while the wall is up, and lets it blank again afterwards.

Two mechanisms, because desktops differ and neither one covers all of them:

* :class:`SaverInhibitor` asks a freedesktop ``org.freedesktop.ScreenSaver`` service on the
  session bus to ``Inhibit(application, reason) -> cookie`` and calls ``UnInhibit(cookie)`` when
  the wall closes. It talks D-Bus through jeepney on a thread of its own, because PySide's QtDBus
  sends a Python int as a signed ``i`` where ``UnInhibit`` takes an unsigned ``u`` (the same
  flaw that stops it from sending ``Notify``; checked here against a strict service), and so that
  the UI thread never waits on the bus. The connection stays open while the wall is up: services
  drop an inhibition when its caller leaves the bus, so a crashed wall cannot keep a screen on.
* :class:`X11SaverReset` calls ``XResetScreenSaver`` on the X server every ``interval`` seconds
  (``xset s reset``), which restarts the X screen saver's idle timer just as a key press would.
  Nothing is switched off (unlike ``xset s off -dpms``), so the user's settings stay as they were
  and the screen blanks as usual once the wall is gone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import shutil
import threading
from enum import Enum
from typing import Any

from PySide6.QtCore import QObject, QProcess, QTimer

log = logging.getLogger(__name__)

SAVER_NAME = "org.freedesktop.ScreenSaver"
SAVER_PATHS = ("/org/freedesktop/ScreenSaver", "/ScreenSaver")
#: How often the X screen saver is reset: well inside the shortest timeout people set (60 s).
RESET_EVERY_S = 40.0
DBUS_TIMEOUT_S = 5.0
APPLICATION = "oncall-console"
REASON = "The NOC wall is on display"


class InhibitState(Enum):
    """How the D-Bus inhibition stands."""

    NOT_STARTED = "not_started"
    #: Asked, no answer yet.
    ASKING = "asking"
    INHIBITED = "inhibited"
    #: There is no session bus, or nothing on it offers the ScreenSaver service.
    UNAVAILABLE = "unavailable"
    #: The service answered with an error (the words are in ``note``).
    REFUSED = "refused"
    RELEASED = "released"


class SaverInhibitor:
    """Holds a freedesktop ScreenSaver inhibition from :meth:`start` until :meth:`stop`."""

    def __init__(self, application: str = APPLICATION, reason: str = REASON) -> None:
        """An inhibitor that will say it is ``application``, for ``reason``."""
        self._application = application
        self._reason = reason
        self._release = threading.Event()
        self._settled = threading.Event()
        self._thread: threading.Thread | None = None
        self.state = InhibitState.NOT_STARTED
        self.note = ""
        #: The service's cookie while inhibited.
        self.cookie: int | None = None

    def start(self) -> None:
        """Ask for the inhibition on a background thread (returns at once)."""
        if self._thread is not None:
            return
        self.state = InhibitState.ASKING
        self._thread = threading.Thread(target=self._run, name="saver-inhibit", daemon=True)
        self._thread.start()

    def wait_settled(self, timeout: float) -> bool:
        """Block until the inhibition was granted or refused (for tests and shutdown)."""
        return self._settled.wait(timeout)

    def stop(self, timeout: float = DBUS_TIMEOUT_S) -> None:
        """Release the inhibition and wait (at most ``timeout`` seconds) for that to be done."""
        self._release.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            self._hold()
        except Exception as exc:  # a broken bus must never take the wall down
            self.state, self.note = InhibitState.UNAVAILABLE, str(exc)
            log.info("screen saver inhibition unavailable: %s", exc)
        finally:
            self._settled.set()

    def _hold(self) -> None:
        try:
            from jeepney.io.blocking import open_dbus_connection
        except ImportError:  # jeepney is a Linux-only dependency
            self.state, self.note = InhibitState.UNAVAILABLE, "no D-Bus library"
            return
        if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            self.state, self.note = InhibitState.UNAVAILABLE, "no session bus"
            return
        with open_dbus_connection(bus="SESSION") as conn:
            if not _has_owner(conn, SAVER_NAME):
                self.state, self.note = InhibitState.UNAVAILABLE, f"no {SAVER_NAME} on the bus"
                return
            path = self._inhibit(conn)
            self._settled.set()
            if path is None:
                return
            self._release.wait()
            _call(conn, path, "UnInhibit", "u", (self.cookie,))
            self.state, self.cookie = InhibitState.RELEASED, None

    def _inhibit(self, conn: Any) -> str | None:
        from jeepney import DBusErrorResponse

        error = ""
        for path in SAVER_PATHS:
            try:
                reply = _call(conn, path, "Inhibit", "ss", (self._application, self._reason))
            except DBusErrorResponse as exc:
                error = f"{exc.name}: {' '.join(map(str, exc.data))}"
                continue
            self.cookie = int(reply[0])
            self.state = InhibitState.INHIBITED
            return path
        self.state, self.note = InhibitState.REFUSED, error
        return None


def _has_owner(conn: Any, name: str) -> bool:
    from jeepney.bus_messages import message_bus
    from jeepney.wrappers import unwrap_msg

    reply = conn.send_and_get_reply(message_bus.NameHasOwner(name), timeout=DBUS_TIMEOUT_S)
    return bool(unwrap_msg(reply)[0])


def _call(conn: Any, path: str, method: str, signature: str, body: tuple[Any, ...]) -> Any:
    from jeepney import DBusAddress, new_method_call
    from jeepney.wrappers import unwrap_msg

    address = DBusAddress(path, bus_name=SAVER_NAME, interface=SAVER_NAME)
    message = new_method_call(address, method, signature, body)
    return unwrap_msg(conn.send_and_get_reply(message, timeout=DBUS_TIMEOUT_S))


class X11SaverReset(QObject):
    """Resets the X screen saver every ``interval_s`` seconds while started.

    Uses libX11 through ctypes on a display connection of its own (so it works whatever Qt
    platform draws the wall); without libX11 it runs ``xset s reset``; without an X display
    (Wayland alone, Windows, macOS) it does nothing.
    """

    def __init__(self, interval_s: float = RESET_EVERY_S, parent: QObject | None = None) -> None:
        """A reset every ``interval_s`` seconds once started."""
        super().__init__(parent)
        self._lib: Any = None
        self._display: int | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(round(interval_s * 1000))
        self.timer.timeout.connect(self.reset)
        #: How many resets were sent.
        self.resets = 0
        #: How resets are sent: "libX11", "xset", or "" (no X display here).
        self.method = ""

    def start(self) -> None:
        """Reset now and then every interval."""
        if not os.environ.get("DISPLAY"):
            return
        self._display = self._open()
        if self._display is not None:
            self.method = "libX11"
        elif shutil.which("xset"):
            self.method = "xset"
        else:
            log.info("cannot reset the X screen saver: neither libX11 nor xset is available")
            return
        self.reset()
        self.timer.start()

    def _open(self) -> int | None:
        name = ctypes.util.find_library("X11")
        if name is None:
            return None
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            return None
        lib.XOpenDisplay.restype = ctypes.c_void_p
        lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        for fn in (lib.XResetScreenSaver, lib.XFlush, lib.XCloseDisplay):
            fn.argtypes = [ctypes.c_void_p]
            fn.restype = ctypes.c_int
        display = lib.XOpenDisplay(None)
        if not display:
            return None
        self._lib = lib
        return int(display)

    def reset(self) -> None:
        """Reset the X screen saver's idle timer once."""
        if self.method == "libX11" and self._display is not None:
            self._lib.XResetScreenSaver(self._display)
            self._lib.XFlush(self._display)
        elif self.method == "xset":
            QProcess.startDetached("xset", ["s", "reset"])
        else:
            return
        self.resets += 1

    def stop(self) -> None:
        """Stop resetting (the screen saver then works as the user set it)."""
        self.timer.stop()
        if self._display is not None:
            self._lib.XCloseDisplay(self._display)
            self._display = None
        self.method = ""


class BlankingGuard(QObject):
    """Both mechanisms together: started when the wall shows, stopped when it closes."""

    def __init__(self, reset_every_s: float = RESET_EVERY_S, parent: QObject | None = None) -> None:
        """A guard resetting the X screen saver every ``reset_every_s`` seconds."""
        super().__init__(parent)
        self.inhibitor = SaverInhibitor()
        self.x11 = X11SaverReset(reset_every_s, self)
        self._active = False

    @property
    def active(self) -> bool:
        """Whether the guard is keeping the screen on."""
        return self._active

    def start(self) -> None:
        """Inhibit blanking (D-Bus in the background, X11 at once)."""
        if self._active:
            return
        self._active = True
        self.inhibitor = SaverInhibitor()  # one inhibition per showing: its thread runs once
        self.inhibitor.start()
        self.x11.start()

    def stop(self) -> None:
        """Let the screen blank again."""
        if not self._active:
            return
        self._active = False
        self.x11.stop()
        self.inhibitor.stop()
