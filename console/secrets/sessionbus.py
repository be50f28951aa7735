"""Read-only questions to the D-Bus session bus: is it there, and which services are on it."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from enum import Enum
from typing import Any

SECRETS_NAME = "org.freedesktop.secrets"
NOTIFICATIONS_NAME = "org.freedesktop.Notifications"
_TIMEOUT = 2.0


class BusState(Enum):
    """Whether the session bus could be asked anything."""

    CONNECTED = "connected"
    NO_ADDRESS = "no-address"
    UNREACHABLE = "unreachable"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True, slots=True)
class BusSnapshot:
    """The session bus at one moment.

    Attributes:
        state: Connected, or why not.
        address: DBUS_SESSION_BUS_ADDRESS as found (``None`` when unset).
        names: Well-known names that some connection owns.
        activatable: Names the bus would start a service for on first use.
        error: What went wrong when not connected, in words.
    """

    state: BusState
    address: str | None
    names: frozenset[str] = frozenset()
    activatable: frozenset[str] = frozenset()
    error: str | None = None

    def running(self, name: str) -> bool:
        """Whether a service owns ``name`` now."""
        return name in self.names

    def startable(self, name: str) -> bool:
        """Whether the bus would start a service for ``name`` on first use."""
        return name in self.activatable


def snapshot(address: str | None = None, *, timeout: float = _TIMEOUT) -> BusSnapshot:
    """Ask the session bus which names it has (``org.freedesktop.DBus.ListNames``).

    Args:
        address: The bus to ask; DBUS_SESSION_BUS_ADDRESS when ``None``.
        timeout: Seconds to wait for each answer, so a wedged bus cannot hang the caller.

    Returns:
        The snapshot; failures are reported in it, never raised.
    """
    address = address or os.environ.get("DBUS_SESSION_BUS_ADDRESS") or None
    if not sys.platform.startswith("linux"):
        return BusSnapshot(BusState.UNSUPPORTED, address, error="D-Bus is only used on Linux")
    if address is None:
        return BusSnapshot(BusState.NO_ADDRESS, None, error="DBUS_SESSION_BUS_ADDRESS is not set")
    try:
        names, activatable = _list_names(address, timeout)
    except ImportError:
        return BusSnapshot(BusState.UNSUPPORTED, address, error="jeepney is not installed")
    except OSError as exc:
        # Refused or missing sockets and timeouts all land here.
        error = exc.strerror or str(exc) or type(exc).__name__
        return BusSnapshot(BusState.UNREACHABLE, address, error=error)
    except ValueError:
        return BusSnapshot(BusState.UNREACHABLE, address, error="the address is malformed")
    except RuntimeError as exc:  # jeepney: a transport it does not speak (tcp:)
        return BusSnapshot(BusState.UNREACHABLE, address, error=str(exc))
    return BusSnapshot(BusState.CONNECTED, address, names, activatable)


def _list_names(address: str, timeout: float) -> tuple[frozenset[str], frozenset[str]]:
    from jeepney import message_bus
    from jeepney.io.blocking import Proxy, open_dbus_connection

    with open_dbus_connection(address, auth_timeout=timeout) as conn:
        bus = Proxy(message_bus, conn, timeout=timeout)
        names = frozenset(str(n) for n in bus.ListNames()[0] if not str(n).startswith(":"))
        activatable = frozenset(str(n) for n in bus.ListActivatableNames()[0])
    return names, activatable


def call_method(
    destination: str,
    path: str,
    interface: str,
    method: str,
    *,
    address: str | None = None,
    timeout: float = _TIMEOUT,
) -> tuple[Any, ...]:
    """Call a method that takes no arguments on the session bus and return its reply.

    Args:
        destination: The bus name to call (e.g. ``org.freedesktop.Notifications``).
        path: The object path.
        interface: The interface that defines ``method``.
        method: The method's name.
        address: The bus; DBUS_SESSION_BUS_ADDRESS when ``None``.
        timeout: Seconds to wait for the connection and for the reply.

    Raises:
        OSError: The bus could not be reached or did not answer in time.
        RuntimeError: The service answered with a D-Bus error.
    """
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection
    from jeepney.wrappers import DBusErrorResponse, unwrap_msg

    target = DBusAddress(path, bus_name=destination, interface=interface)
    bus = address or os.environ.get("DBUS_SESSION_BUS_ADDRESS") or "SESSION"
    with open_dbus_connection(bus, auth_timeout=timeout) as conn:
        reply = conn.send_and_get_reply(new_method_call(target, method), timeout=timeout)
    try:
        body = unwrap_msg(reply)
    except DBusErrorResponse as exc:
        raise RuntimeError(str(exc)) from None
    return tuple(body)
