"""Desktop notifications for incidents: an actionable freedesktop one, plyer, or the in-app banner.

The chain, tried in order for every `Notice`:

1. **freedesktop** (Linux, BSD): ``org.freedesktop.Notifications`` on the session bus, when the
   server supports ``actions``: Acknowledge and Open buttons, one notification per incident
   updated in place (``replaces_id``), critical urgency for P1/P2 so it stays until dismissed.
2. **plyer**: a plain notification (no buttons, no updates in place) where a server exists but
   offers no actions, and on platforms without D-Bus (Windows, macOS). On Linux plyer hands the
   text to ``notify-send`` and ignores its exit status, so the chain only gets there once a
   server has answered on the bus: on a bus without one, plyer would report success for a
   notification nobody saw.
3. **banner**: the report that desktop delivery failed, with every reason, so the UI shows
   its in-app banner; this link always "works".

Every failure is logged and returned in the `Delivery`; none is swallowed.

Why jeepney rather than desktop-notifier: jeepney is already installed (keyring needs it), is
pure Python with no further dependencies, and has a thread-safe blocking router that works
from the Qt application's worker thread and from the engine's asyncio thread alike.
desktop-notifier's Linux backend runs on dbus-fast and an asyncio loop, which the Qt UI thread
does not have, and adds its dependencies to every install. jeepney also lets us set what this
console needs and nothing else: the ``urgency`` byte, ``resident``, ``replaces_id`` and the
capability check. desktop-notifier's one advantage, native Windows and macOS notifications
with buttons, is left to plyer's plain notifications and the tray on those platforms.
"""

from __future__ import annotations

import html
import logging
import sys
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from console.core.enums import Priority
from console.delivery.errors import DeliveryError
from console.delivery.freedesktop import (
    DEFAULT_TIMEOUT,
    CloseReason,
    FreedesktopClient,
    Popup,
    Urgency,
)

log = logging.getLogger(__name__)

APP_NAME = "oncall-console"
DRILL_PREFIX = "DRILL"
_DBUS_PLATFORMS = ("linux", "freebsd", "openbsd", "netbsd")


class NoticeAction(Enum):
    """A button on a notification; the value is the action key sent over D-Bus."""

    ACKNOWLEDGE = "ack"
    OPEN = "open"

    @property
    def label(self) -> str:
        """The button's text."""
        return "Acknowledge" if self is NoticeAction.ACKNOWLEDGE else "Open"


class Channel(Enum):
    """Which link of the chain delivered (or, for BANNER, that none did)."""

    FREEDESKTOP = "freedesktop"
    PLYER = "plyer"
    BANNER = "banner"


ActionCallback = Callable[[str, NoticeAction], None]
ClosedCallback = Callable[[str, CloseReason], None]


@dataclass(frozen=True, slots=True)
class Notice:
    """What to tell people about one incident.

    Attributes:
        incident_id: The incident's id: the notification for it is updated in place.
        number: The human number (``INC-12``).
        title: What is wrong, in one line.
        body: The details (service, team, what changed).
        priority: The incident's priority; P1 and P2 are critical.
        drill: A practice incident: the title says DRILL.
        actions: Whether Acknowledge/Open buttons are wanted.
    """

    incident_id: str
    number: str
    title: str
    body: str
    priority: Priority
    drill: bool = False
    actions: bool = True

    @property
    def critical(self) -> bool:
        """P1 and P2: shown with critical urgency, so they stay until dismissed."""
        return self.priority.rank <= 2

    @property
    def urgency(self) -> Urgency:
        """The freedesktop urgency: critical for P1/P2, normal for P3, low for P4/P5."""
        if self.critical:
            return Urgency.CRITICAL
        return Urgency.NORMAL if self.priority.rank == 3 else Urgency.LOW

    @property
    def summary(self) -> str:
        """The notification's title line, e.g. ``DRILL INC-12 P1: Checkout API down``."""
        text = f"{self.number} {self.priority.value}: {self.title}"
        return f"{DRILL_PREFIX} {text}" if self.drill else text


@dataclass(frozen=True, slots=True)
class Failure:
    """One link of the chain that could not deliver, and why."""

    channel: Channel
    reason: str

    def __str__(self) -> str:
        return f"{self.channel.value}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of a notice.

    Attributes:
        incident_id: The incident it was about.
        channel: The link that delivered it; BANNER when no desktop link did.
        notification_id: The freedesktop notification id (None for other channels).
        failures: Every link tried before, and why each failed (in order).
    """

    incident_id: str
    channel: Channel
    notification_id: int | None = None
    failures: tuple[Failure, ...] = ()

    @property
    def delivered(self) -> bool:
        """Whether a desktop notification was shown (otherwise the in-app banner must be)."""
        return self.channel is not Channel.BANNER

    @property
    def error(self) -> str | None:
        """The failures in words, None when there were none."""
        return "; ".join(str(f) for f in self.failures) or None


class Notifier(Protocol):
    """What the application needs from a notifier (DesktopNotifier; later email, webhooks)."""

    def notify(self, notice: Notice) -> Delivery:
        """Show or update the incident's notification."""
        ...

    def close(self, incident_id: str) -> Failure | None:
        """Withdraw the incident's notification; the failure, if any."""
        ...


class DesktopNotifier:
    """Shows one desktop notification per incident through the fallback chain.

    `notify` and `close` block for up to a few seconds (D-Bus round trips, ``notify-send``):
    call them off the UI thread. Callbacks run on the notification signal thread.

    Args:
        on_action: Called with (incident id, action) when a button is pressed.
        on_closed: Called with (incident id, reason) when a notification goes away.
        address: The session bus; DBUS_SESSION_BUS_ADDRESS when None.
        app_name: The sender's name shown by the server.
        timeout: Seconds to wait for the bus and the server.
    """

    def __init__(
        self,
        *,
        on_action: ActionCallback | None = None,
        on_closed: ClosedCallback | None = None,
        address: str | None = None,
        app_name: str = APP_NAME,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.on_action = on_action
        self.on_closed = on_closed
        self._app_name = app_name
        self._lock = threading.Lock()
        self._ids: dict[str, int] = {}
        self._incidents: dict[int, str] = {}
        self._dbus = sys.platform.startswith(_DBUS_PLATFORMS)
        self._client = FreedesktopClient(
            address, on_action=self._action, on_closed=self._closed, timeout=timeout
        )

    def notification_id(self, incident_id: str) -> int | None:
        """The freedesktop notification showing ``incident_id`` now, if any."""
        with self._lock:
            return self._ids.get(incident_id)

    def notify(self, notice: Notice) -> Delivery:
        """Show or update the incident's notification through the first link that works."""
        failures: list[Failure] = []
        server = False
        if self._dbus:
            try:
                capabilities = self._client.capabilities()
                server = True
                if "actions" in capabilities or not notice.actions:
                    nid = self._show(notice, capabilities)
                    return Delivery(notice.incident_id, Channel.FREEDESKTOP, nid)
                log.info("the notification server offers no actions: plain notification")
            except DeliveryError as exc:
                failures.append(self._failed(notice, Channel.FREEDESKTOP, str(exc)))
        if self._dbus and not server:
            reason = "skipped: no notification server answered on the session bus"
            failures.append(self._failed(notice, Channel.PLYER, reason))
        else:
            try:
                self._plyer(notice)
                return Delivery(notice.incident_id, Channel.PLYER, None, tuple(failures))
            except DeliveryError as exc:
                failures.append(self._failed(notice, Channel.PLYER, str(exc)))
        return Delivery(notice.incident_id, Channel.BANNER, None, tuple(failures))

    def close(self, incident_id: str) -> Failure | None:
        """Withdraw the incident's notification (acknowledged, resolved); None on success."""
        with self._lock:
            # The id -> incident entry stays until the server confirms with NotificationClosed,
            # so that on_closed still names the incident.
            nid = self._ids.pop(incident_id, None)
        if nid is None:
            return None  # plyer and banner notices cannot be withdrawn; nothing is showing
        try:
            self._client.close_notification(nid)
        except DeliveryError as exc:
            with self._lock:
                self._incidents.pop(nid, None)
            log.warning("could not withdraw the notification for %s: %s", incident_id, exc)
            return Failure(Channel.FREEDESKTOP, str(exc))
        return None

    def shutdown(self) -> None:
        """Disconnect from the bus (notifications already shown stay)."""
        self._client.shutdown()

    def __enter__(self) -> DesktopNotifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # -- the links ------------------------------------------------------------------------------

    def _show(self, notice: Notice, capabilities: frozenset[str]) -> int:
        markup = "body-markup" in capabilities
        body = html.escape(notice.body, quote=False) if markup else notice.body
        actions = (
            tuple((a.value, a.label) for a in NoticeAction)
            if notice.actions and "actions" in capabilities
            else ()
        )
        with self._lock:
            previous = self._ids.get(notice.incident_id, 0)
        popup = Popup(
            summary=notice.summary,
            body=body,
            actions=actions,
            urgency=notice.urgency,
            replaces_id=previous,
            expire_ms=0 if notice.critical else -1,
            app_name=self._app_name,
            resident=bool(actions),
        )
        nid = self._client.notify(popup)
        with self._lock:
            if previous and previous != nid:
                self._incidents.pop(previous, None)
            self._ids[notice.incident_id] = nid
            self._incidents[nid] = notice.incident_id
        return nid

    def _plyer(self, notice: Notice) -> None:
        # Imported here: plyer picks its platform backend on first use, and a console that
        # never needs this link never pays for it.
        from plyer import notification

        with warnings.catch_warnings(record=True) as caught:
            # plyer warns (rather than raises) about missing backends; keep what it said.
            warnings.simplefilter("always")
            try:
                notification.notify(
                    title=notice.summary,
                    message=notice.body,
                    app_name=self._app_name,
                    timeout=0 if notice.critical else 10,
                )
            except Exception as exc:  # plyer's backends raise whatever their platform raises
                said = "; ".join(" ".join(str(w.message).split()) for w in caught)
                detail = f"{type(exc).__name__}: {exc}" + (f" ({said})" if said else "")
                raise DeliveryError(detail) from exc
        for warning in caught:
            log.info("plyer: %s", warning.message)

    def _failed(self, notice: Notice, channel: Channel, reason: str) -> Failure:
        log.warning(
            "desktop notification for %s (%s) not sent by %s: %s",
            notice.number,
            notice.incident_id,
            channel.value,
            reason,
        )
        return Failure(channel, reason)

    # -- signals (on the signal thread) ---------------------------------------------------------

    def _action(self, notification_id: int, key: str) -> None:
        with self._lock:
            incident_id = self._incidents.get(notification_id)
        if incident_id is None:
            return  # another application's notification, or one we already withdrew
        try:
            action = NoticeAction(key)
        except ValueError:
            log.info("ignoring unknown notification action %r for %s", key, incident_id)
            return
        if self.on_action is not None:
            self.on_action(incident_id, action)

    def _closed(self, notification_id: int, reason: CloseReason) -> None:
        with self._lock:
            incident_id = self._incidents.pop(notification_id, None)
            if incident_id is not None and self._ids.get(incident_id) == notification_id:
                del self._ids[incident_id]
        if incident_id is not None and self.on_closed is not None:
            self.on_closed(incident_id, reason)
