"""The delivery package's exceptions: each says, in words, why a channel could not deliver."""

from __future__ import annotations

from console.core.errors import ConsoleError


class DeliveryError(ConsoleError):
    """A channel could not deliver; the message says why (shown to the user, logged)."""


class BusUnavailable(DeliveryError):
    """The D-Bus session bus cannot be reached (no address, refused, timed out)."""


class NoServer(DeliveryError):
    """Nothing on the session bus serves ``org.freedesktop.Notifications``."""
