"""The freedesktop.org notification protocol on the D-Bus session bus, spoken with jeepney.

One connection per client, opened on first use and reopened once when the bus dropped it.
Method calls (`notify`, `close`, `capabilities`) block for at most ``timeout`` seconds, so
call them from a worker thread or the engine's executor, never from the Qt UI thread.

Signals (``ActionInvoked``, ``NotificationClosed``) arrive on a background thread, not on an
asyncio loop: the client serves both the Qt application (whose UI thread runs no asyncio loop)
and the headless engine (whose loop lives in a thread of its own), and a plain thread works
for both without tying the client to either. jeepney's threading router already reads the
socket on a thread of its own; a second, small thread takes the matched signals from a queue
and calls the callbacks, so that a slow callback never holds up the replies that `notify`
waits for. Callbacks therefore run on that thread: a Qt caller forwards them with a queued
signal.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Any

from jeepney import DBusAddress, MatchRule, Message, message_bus, new_method_call
from jeepney.io.common import RouterClosed
from jeepney.io.threading import DBusConnection, DBusRouter, Proxy, open_dbus_connection
from jeepney.low_level import HeaderFields
from jeepney.wrappers import DBusErrorResponse, unwrap_msg

from console.delivery.errors import BusUnavailable, DeliveryError, NoServer

log = logging.getLogger(__name__)

BUS_NAME = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
INTERFACE = "org.freedesktop.Notifications"
DEFAULT_TIMEOUT = 2.0
_NOTIFY_SIGNATURE = "susssasa{sv}i"
# Error names meaning "nobody serves the name and nobody can be started for it".
_NO_SERVER_ERRORS = frozenset(
    {
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
    }
)

ActionHandler = Callable[[int, str], None]
ClosedHandler = Callable[[int, "CloseReason"], None]


class Urgency(IntEnum):
    """The ``urgency`` hint (a byte); CRITICAL notifications stay until dismissed."""

    LOW = 0
    NORMAL = 1
    CRITICAL = 2


class CloseReason(Enum):
    """Why the server says a notification closed (``NotificationClosed``'s second argument)."""

    EXPIRED = 1
    DISMISSED = 2
    CLOSED = 3  # by a CloseNotification call
    UNDEFINED = 4

    @classmethod
    def of(cls, code: int) -> CloseReason:
        """The reason for a wire code; unknown codes count as UNDEFINED."""
        try:
            return cls(code)
        except ValueError:
            return cls.UNDEFINED


@dataclass(frozen=True, slots=True)
class Popup:
    """One ``Notify`` call's arguments.

    Attributes:
        summary: The one-line title.
        body: The text under it (already escaped when the server reads markup).
        actions: (key, label) pairs, in the order buttons should appear.
        urgency: The urgency hint.
        replaces_id: The notification to update in place, 0 for a new one.
        expire_ms: -1 for the server's default, 0 for never.
        app_name: Who sends it.
        desktop_entry: The ``.desktop`` file's name without suffix (servers show its icon).
        resident: Keep the notification after an action is invoked (we close it ourselves).
    """

    summary: str
    body: str
    actions: tuple[tuple[str, str], ...] = ()
    urgency: Urgency = Urgency.NORMAL
    replaces_id: int = 0
    expire_ms: int = -1
    app_name: str = "oncall-console"
    desktop_entry: str | None = "oncall-console"
    resident: bool = False

    def arguments(self) -> tuple[Any, ...]:
        """The body of the ``Notify`` method call."""
        hints: dict[str, tuple[str, Any]] = {"urgency": ("y", int(self.urgency))}
        if self.desktop_entry is not None:
            hints["desktop-entry"] = ("s", self.desktop_entry)
        if self.resident:
            hints["resident"] = ("b", True)
        flat = [part for pair in self.actions for part in pair]
        return (
            self.app_name,
            self.replaces_id,
            "",
            self.summary,
            self.body,
            flat,
            hints,
            self.expire_ms,
        )


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What ``GetServerInformation`` says about the notification server."""

    name: str
    vendor: str
    version: str
    spec_version: str


class _Router(DBusRouter):  # type: ignore[misc]  # jeepney is untyped
    """jeepney's threading router, but quiet when the bus closes the socket (logout, restart).

    jeepney's reader thread only expects to be stopped from our side; any other end would
    print a traceback from a dying thread. The replies still waiting then fail as usual
    (RouterClosed), and the next call reconnects.
    """

    def _receiver(self) -> None:
        try:
            super()._receiver()
        except OSError as exc:
            log.info("the session bus closed the connection: %s", exc)


@dataclass(slots=True)
class _Link:
    """One open connection: its router, the signal filter and the thread that drains it."""

    conn: DBusConnection
    router: DBusRouter
    signals: queue.Queue[Message | None] = field(default_factory=queue.Queue)
    thread: threading.Thread | None = None


class FreedesktopClient:
    """A client of ``org.freedesktop.Notifications`` on one session bus.

    Args:
        address: The bus address; DBUS_SESSION_BUS_ADDRESS (read at connect time) when None.
        on_action: Called with (notification id, action key) when a button is pressed.
        on_closed: Called with (notification id, reason) when a notification goes away.
        timeout: Seconds to wait for the bus and for each reply.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        on_action: ActionHandler | None = None,
        on_closed: ClosedHandler | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._address = address
        self._on_action = on_action
        self._on_closed = on_closed
        self._timeout = timeout
        self._lock = threading.Lock()
        self._link: _Link | None = None

    # -- calls ------------------------------------------------------------------------------

    def capabilities(self) -> frozenset[str]:
        """The server's capabilities (``actions``, ``body-markup``...).

        Raises:
            NoServer: Nothing serves notifications on the bus.
            BusUnavailable: The bus cannot be reached.
            DeliveryError: The server answered with an error or not in time.
        """
        return frozenset(str(c) for c in self._call("GetCapabilities", None, ())[0])

    def server_info(self) -> ServerInfo:
        """The server's name, vendor and versions (same errors as `capabilities`)."""
        name, vendor, version, spec = self._call("GetServerInformation", None, ())
        return ServerInfo(str(name), str(vendor), str(version), str(spec))

    def notify(self, popup: Popup) -> int:
        """Show (or, with ``replaces_id``, update) a notification; returns its id."""
        return int(self._call("Notify", _NOTIFY_SIGNATURE, popup.arguments())[0])

    def close_notification(self, notification_id: int) -> None:
        """Withdraw a notification (the server then emits ``NotificationClosed``)."""
        self._call("CloseNotification", "u", (notification_id,))

    def shutdown(self) -> None:
        """Close the connection and stop the signal thread (the client can reconnect later)."""
        with self._lock:
            link, self._link = self._link, None
        if link is not None:
            _close(link)

    def __enter__(self) -> FreedesktopClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # -- the connection -----------------------------------------------------------------------

    def _call(self, method: str, signature: str | None, body: tuple[Any, ...]) -> tuple[Any, ...]:
        target = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=INTERFACE)
        message = new_method_call(target, method, signature, body)
        for attempt in (1, 2):
            link = self._connected()
            try:
                reply = link.router.send_and_get_reply(message, timeout=self._timeout)
                return tuple(unwrap_msg(reply))
            except (RouterClosed, ConnectionError) as exc:
                # The bus dropped us (restarted, or a suspended laptop woke): reconnect once.
                self._drop(link)
                if attempt == 2:
                    raise BusUnavailable(f"the session bus closed the connection: {exc}") from exc
            except TimeoutError:
                raise DeliveryError(
                    f"the notification server did not answer {method} within {self._timeout} s"
                ) from None
            except DBusErrorResponse as exc:
                raise _error(method, exc) from None
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _connected(self) -> _Link:
        with self._lock:
            if self._link is None:
                self._link = self._open()
            return self._link

    def _drop(self, link: _Link) -> None:
        with self._lock:
            if self._link is link:
                self._link = None
        _close(link)

    def _open(self) -> _Link:
        address = self._address or os.environ.get("DBUS_SESSION_BUS_ADDRESS")
        if not address:
            raise BusUnavailable("DBUS_SESSION_BUS_ADDRESS is not set: no session bus")
        try:
            conn = open_dbus_connection(address, auth_timeout=self._timeout)
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            raise BusUnavailable(f"cannot connect to the session bus {address}: {exc}") from None
        link = _Link(conn, _Router(conn))
        rule = MatchRule(type="signal", interface=INTERFACE, path=OBJECT_PATH)
        try:
            # Servers may broadcast their signals; without a match the bus would not pass them.
            Proxy(message_bus, link.router, timeout=self._timeout).AddMatch(rule)
        except (DBusErrorResponse, TimeoutError, RouterClosed, ConnectionError) as exc:
            _close(link)
            raise BusUnavailable(f"the session bus refused a signal match: {exc}") from None
        link.router.filter(rule, queue=link.signals)
        link.thread = threading.Thread(
            target=self._drain, args=(link.signals,), name="notification-signals", daemon=True
        )
        link.thread.start()
        return link

    # -- signals ------------------------------------------------------------------------------

    def _drain(self, signals: queue.Queue[Message | None]) -> None:
        while (message := signals.get()) is not None:
            try:
                self._dispatch(message)
            except Exception:  # a callback's bug must not end the signal thread
                log.exception("a notification signal handler failed")

    def _dispatch(self, message: Message) -> None:
        member = message.header.fields.get(HeaderFields.member)
        body = message.body
        if member == "ActionInvoked" and self._on_action is not None:
            self._on_action(int(body[0]), str(body[1]))
        elif member == "NotificationClosed" and self._on_closed is not None:
            self._on_closed(int(body[0]), CloseReason.of(int(body[1])))


def _close(link: _Link) -> None:
    link.signals.put(None)
    try:
        link.router.close()
    finally:
        link.conn.close()
    if link.thread is not None and link.thread is not threading.current_thread():
        link.thread.join(timeout=5)


def _error(method: str, exc: DBusErrorResponse) -> DeliveryError:
    detail = ", ".join(str(d) for d in _as_sequence(exc.data)) or str(exc.name)
    if exc.name in _NO_SERVER_ERRORS:
        return NoServer(f"no notification server on the session bus ({detail})")
    return DeliveryError(f"the notification server refused {method}: {exc.name}: {detail}")


def _as_sequence(data: object) -> Sequence[object]:
    return data if isinstance(data, tuple | list) else (data,)
