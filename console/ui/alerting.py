"""Alerting in the app: desktop notifications, the alarm, the tray and the banner, fed by the store.

`AlertingController` follows the open incidents and tells people about them:

- **Reading** runs on the store worker (console.ui.tasks): every 500 ms a cheap check of
  ``PRAGMA data_version`` and the newest event, and the open incidents only when an event was
  recorded since (an acknowledgement anywhere: this window, another console, the CLI, the
  engine), plus a full read every few seconds for what changes with time alone (a snooze
  running out, a maintenance window starting). When this process runs the engine, its
  ``on_incident`` hook (called on the engine's writer thread right after the commit) asks for a
  read at once, through a queued signal.
- **Deciding** happens on the UI thread: `console.core.alerting.AlertTracker` ("notify only
  when worse"; incidents already acknowledged at start are never replayed), the alarm
  (`console.ui.alarm.Alarm`) and the tray get the same picture.
- **Delivering** runs on a thread of its own, never on the UI thread nor on the store worker,
  as every D-Bus call may block for seconds: `console.delivery.desktop.DesktopNotifier` shows
  one notification per incident with Acknowledge and Open, updated in place. When desktop
  notifications are off, or the chain fell through to its last link (no server, no plyer),
  the incident shows in the window's banner with the reasons; a tray balloon is tried too.
- **Acting**: Acknowledge from a notification, the banner or the tray runs the command the
  Incidents page runs (`console.store.incidents.acknowledge`, on the store worker); Open
  brings the window up on the Incidents page with the incident selected.

Screenshots and the wall create no controller: they stay silent.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from console.core.alerting import (
    NOTIFICATION_SETTINGS_KEY,
    AlarmInput,
    AlertAction,
    AlertTracker,
    AlertView,
    NotificationPrefs,
    Reason,
    Standing,
)
from console.core.errors import ConsoleError
from console.core.incident_policy import SignalOutcome
from console.core.incidents import Incident, IncidentState
from console.core.silences import active_silence
from console.delivery.desktop import (
    DRILL_PREFIX,
    Channel,
    Delivery,
    DesktopNotifier,
    Failure,
    Notice,
    NoticeAction,
)
from console.store import alerting as alerting_store
from console.store import events as event_log
from console.store import incidents as incident_store
from console.store.db import Store
from console.ui import labels
from console.ui.alarm import Alarm
from console.ui.dialogs.settings import NotificationsSection, SettingsDialog
from console.ui.engine_host import EngineHost
from console.ui.mainwindow import MainWindow
from console.ui.tasks import TaskRunner
from console.ui.theme import Theme
from console.ui.tray import Tray, TrayCallbacks, TrayIncident, start_minimised
from console.ui.views.incidents import IncidentsPage
from console.ui.widgets.banner import BannerIncident, IncidentBanner

log = logging.getLogger(__name__)

#: How often the store is checked for change.
POLL_MS = 500
#: How often the open incidents are read even without a change (time alone lifts holds).
FULL_REFRESH_S = 10.0
#: How long closing waits for the notification thread to withdraw what it showed.
STOP_WAIT_S = 3.0
INCIDENTS_PAGE = "Incidents"

_STANDING = {
    IncidentState.TRIGGERED: Standing.TRIGGERED,
    IncidentState.ACKNOWLEDGED: Standing.ACKNOWLEDGED,
    IncidentState.RESOLVED: Standing.RESOLVED,
}

_WHY = {
    Reason.NEW: "New incident",
    Reason.REOPENED: "Reopened",
    Reason.RELEASED: "No longer held back",
    Reason.ESCALATED: "Escalated",
    Reason.SEVERITY_UP: "Severity raised",
    Reason.PRIORITY_UP: "Priority raised",
}

# -- reading (on the store worker) ----------------------------------------------------------------

Version = tuple[int, int]


@dataclass(frozen=True, slots=True)
class OpenIncidents:
    """The open incidents at one moment, and which of them a silence holds back.

    Attributes:
        incidents: Every open incident (triggered or acknowledged), in the store's order.
        silenced: The ids of those an active silence or maintenance window matches.
        now: When they were read.
    """

    incidents: tuple[Incident, ...]
    silenced: frozenset[str]
    now: datetime

    def held(self, incident: Incident, open_ids: frozenset[str] | None = None) -> bool:
        """Whether notifications are held back: silenced, snoozed or grouped under an open one.

        ``open_ids`` (the ids of `incidents`) saves working them out again for every incident.
        """
        if incident.id in self.silenced or incident.is_snoozed(self.now):
            return True
        if incident.parent is None:
            return False
        if open_ids is None:
            open_ids = frozenset(i.id for i in self.incidents)
        return incident.parent in open_ids

    def views(self) -> list[AlertView]:
        """The incidents as the notification rule reads them."""
        open_ids = frozenset(i.id for i in self.incidents)
        return [
            AlertView(
                incident_id=i.id,
                standing=_STANDING[i.state],
                severity=i.severity,
                priority=i.priority,
                flapping=i.flapping,
                held=self.held(i, open_ids),
            )
            for i in self.incidents
        ]


@dataclass(frozen=True, slots=True)
class Polled:
    """What one poll found: the store's version, and the incidents when they were read."""

    version: Version
    incidents: OpenIncidents | None


def match_labels(incident: Incident) -> dict[str, str]:
    """The labels silences match: the incident's own, plus ``service``."""
    found = dict(incident.labels)
    if incident.service is not None:
        found.setdefault("service", incident.service)
    return found


def read_open(store: Store) -> OpenIncidents:
    """Read the open incidents and the silences in one snapshot (run on the worker)."""
    with store.snapshot() as db:
        found = tuple(incident_store.list_incidents(db))
        silences = alerting_store.silences(db)
    now = store.clock.now()
    silenced = frozenset(
        i.id for i in found if active_silence(silences, match_labels(i), now) is not None
    )
    return OpenIncidents(found, silenced, now)


def poll(store: Store, known: Version | None) -> Polled:
    """Read the open incidents if an event was recorded since ``known`` (None: read anyway).

    ``PRAGMA data_version`` costs nothing and changes on every commit; the newest event only
    changes when something happened, not when the engine wrote samples.
    """
    changed = store.data_version()
    if known is not None and changed == known[0]:
        return Polled(known, None)
    version = (changed, event_log.last_seq(store.read()))
    if known is not None and version[1] == known[1]:
        return Polled(version, None)
    return Polled(version, read_open(store))


def read_prefs(store: Store) -> NotificationPrefs:
    """This console's notification preferences (run on the worker)."""
    return NotificationPrefs.from_json(store.setting(NOTIFICATION_SETTINGS_KEY))


# -- what people are told -------------------------------------------------------------------------


def notice_for(incident: Incident, reason: Reason, names: Mapping[str, str]) -> Notice:
    """The desktop notification of an incident that got worse (``names``: key -> name)."""
    lines = [f"{_WHY.get(reason, 'Needs attention')} · {labels.SEVERITY[incident.severity]}"]
    where = []
    if incident.service is not None:
        where.append(f"Service: {names.get(incident.service, incident.service)}")
    if incident.team is not None:
        where.append(f"Team: {names.get(incident.team, incident.team)}")
    if where:
        lines.append(" · ".join(where))
    if incident.summary:
        lines.append(incident.summary)
    return Notice(
        incident_id=incident.id,
        number=incident.ref,
        title=incident.title,
        body="\n".join(lines),
        priority=incident.priority,
        drill=incident.drill,
    )


def balloon_title(incident: Incident) -> str:
    """The tray balloon's title: ``INC-12 P1: Checkout API down``, DRILL first for a drill."""
    title = f"{incident.ref} {incident.priority.value}: {incident.title}"
    return f"{DRILL_PREFIX} {title}" if incident.drill else title


def banner_entry(incident: Incident, note: str | None) -> BannerIncident:
    """An incident as the banner shows it."""
    return BannerIncident(incident.id, incident.ref, incident.title, incident.priority, note)


# -- the notification thread ----------------------------------------------------------------------


class _Sender:
    """One thread that runs the notifier's calls in order (each may block for seconds)."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="notifications", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[], None]) -> None:
        if self._thread.is_alive():
            self._jobs.put(job)

    def stop(self, timeout: float) -> bool:
        """Let queued jobs finish (up to ``timeout`` s); False if the thread is still busy."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except Exception:  # a bug in one job must not stop the notifications after it
                log.exception("a desktop notification job failed")


class _Relay(QObject):
    """Lives on the UI thread; other threads emit through it, so delivery is queued."""

    delivered = Signal(object)  # Delivery
    withdrawn = Signal(str, object)  # incident id, Failure | None
    action = Signal(str, object)  # incident id, NoticeAction
    engine = Signal(object)  # SignalOutcome


# -- the controller -------------------------------------------------------------------------------


class AlertingController(QObject):
    """Tells people about incidents: notifications, alarm, tray and banner (see the module).

    Args:
        store: The store to follow and to acknowledge in.
        runner: The store worker.
        window: The main window (its banner, its Incidents page, show and raise).
        theme: The colours of the tray icon and the banner.
        engine: This process's engine host; its ``on_incident`` hook triggers a read at once.
        address: The session bus for desktop notifications (DBUS_SESSION_BUS_ADDRESS if None).
        tray: Put an icon in the system tray when the desktop has one.
        parent: The owning QObject (the Console).
    """

    #: A poll's incidents have been applied to the alarm, the tray and the notifications.
    reviewed = Signal()
    #: A desktop delivery came back (a `Delivery`), after the banner was updated.
    delivered = Signal(object)
    #: An acknowledgement asked for here was recorded (the incident) or refused (the message).
    acknowledged = Signal(object)
    #: The in-app engine reported an incident to notify about (a `SignalOutcome`); a read follows.
    engine_incident = Signal(object)

    def __init__(
        self,
        store: Store,
        runner: TaskRunner,
        window: MainWindow,
        theme: Theme,
        *,
        engine: EngineHost | None = None,
        address: str | None = None,
        tray: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.runner = runner
        self.window = window
        self.prefs = NotificationPrefs()
        self.tracker = AlertTracker()
        self.alarm = Alarm(self.prefs, store.clock, self)
        self.banner = IncidentBanner(theme)
        window.add_top_bar(self.banner)
        self._relay = _Relay(self)
        self._closing = threading.Event()
        self.notifier = DesktopNotifier(on_action=self._from_notification, address=address)
        self.callbacks = TrayCallbacks(
            acknowledge=self.acknowledge,
            show_window=self.show_window,
            mute=self.mute,
            quit=self.quit,
            open_incident=self.open_incident,
        )
        self.tray = Tray(theme, self.callbacks, self) if tray and Tray.available() else None
        self._sender: _Sender | None = None
        self._snapshot: OpenIncidents | None = None
        self._alerting: set[str] = set()
        self._desktop: set[str] = set()
        self._version: Version | None = None
        self._polling = False
        self._again = False
        self._full_due = 0.0
        self._last_failure: str | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll_now)
        self._wire(engine)

    def _wire(self, engine: EngineHost | None) -> None:
        self._relay.delivered.connect(self._on_delivered)
        self._relay.withdrawn.connect(self._on_withdrawn)
        self._relay.action.connect(self._on_action)
        self._relay.engine.connect(self._on_engine_incident)
        self.banner.acknowledgeRequested.connect(self.acknowledge)
        self.banner.openRequested.connect(self.open_incident)
        self.alarm.failed.connect(self._alarm_failed)
        if self.tray is not None:
            tray = self.tray
            self.alarm.changed.connect(lambda: tray.set_muted(self.alarm.muted))
        if engine is not None:
            engine.on_incident = self._from_engine

    # -- starting and stopping ------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """Whether :meth:`start` has run (and :meth:`close` has not)."""
        return self._sender is not None and not self._closing.is_set()

    def start(self) -> None:
        """Read the preferences on the worker, then follow the store and alert."""
        if self._sender is not None or self._closing.is_set():
            return
        self._sender = _Sender()
        if self.tray is not None:
            self.tray.show()
        store = self.store
        self.runner.submit(lambda: read_prefs(store), self._on_prefs, self._on_prefs_failed)

    def show_at_start(self, *, minimised: bool) -> None:
        """Show the window, or start in the tray (a minimised window where there is none)."""
        if not minimised:
            self.window.show()
        elif self.tray is not None:
            start_minimised(self.window, self.tray)
        else:
            self.window.showMinimized()

    def _on_prefs(self, prefs: NotificationPrefs) -> None:
        self._use_prefs(prefs)
        self._begin()

    def _on_prefs_failed(self, exc: BaseException) -> None:
        self._note(f"The notification settings cannot be read, so the defaults apply: {exc}")
        self._begin()

    def _begin(self) -> None:
        if self._closing.is_set():
            return
        self._timer.start()
        self.poll_now()

    def close(self) -> None:
        """Stop alerting: silence the alarm, withdraw the notifications shown, stop the thread."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._timer.stop()
        self.alarm.shutdown()
        if self.tray is not None:
            self.tray.hide()
        sender, self._sender = self._sender, None
        if sender is not None:
            # Their buttons would reach nobody once the console is gone.
            for incident_id in sorted(self._desktop):
                sender.submit(self._closer(incident_id, report=False))
            if not sender.stop(STOP_WAIT_S):
                log.warning("desktop notifications were still being sent when the console closed")
        self._desktop.clear()
        self.notifier.shutdown()

    # -- reading --------------------------------------------------------------------------------

    def poll_now(self) -> None:
        """Check the store for change now (again after the check in progress, if any)."""
        if self._closing.is_set():
            return
        if self._polling:
            self._again = True
            return
        full = time.monotonic() >= self._full_due
        if full:
            self._full_due = time.monotonic() + FULL_REFRESH_S
        self._polling, self._again = True, False
        store, known = self.store, None if full else self._version
        try:
            self.runner.submit(lambda: poll(store, known), self._on_polled, self._on_poll_failed)
        except RuntimeError:  # the worker has shut down: the console is closing
            self._polling = False

    def _on_polled(self, polled: Polled) -> None:
        self._polling = False
        self._version = polled.version
        self._last_failure = None
        if polled.incidents is not None and not self._closing.is_set():
            self._apply(polled.incidents)
        if self._again:
            self.poll_now()

    def _on_poll_failed(self, exc: BaseException) -> None:
        self._polling = False
        text = f"Open incidents cannot be read, so nobody is alerted: {exc}"
        if text != self._last_failure:  # every half second: say it once, not a flood
            self._last_failure = text
            log.warning("%s", text)
            self._note(text)
        if self._again:
            self.poll_now()

    # -- deciding -------------------------------------------------------------------------------

    @property
    def incidents(self) -> OpenIncidents | None:
        """The open incidents as last read."""
        return self._snapshot

    def _apply(self, snapshot: OpenIncidents) -> None:
        self._snapshot = snapshot
        views = snapshot.views()
        alerting = {v.incident_id for v in views if v.alerting}
        self._alerting = alerting
        # Held-back incidents (silenced, snoozed, grouped) do not sound: they count as answered.
        self.alarm.update(
            AlarmInput(v.incident_id, v.priority, v.incident_id not in alerting) for v in views
        )
        if self.tray is not None:
            self.tray.update(
                [
                    TrayIncident(i.id, i.ref, i.title, i.priority)
                    for i in snapshot.incidents
                    if i.id in alerting
                ]
            )
        by_id = {i.id: i for i in snapshot.incidents}
        for decision in self.tracker.review(views):
            if decision.action is AlertAction.NOTIFY:
                self._notify(by_id[decision.incident_id], decision.reason)
            elif decision.action is AlertAction.WITHDRAW:
                self._withdraw(decision.incident_id)
        for incident_id in [i for i in self._shown_on_banner() if i not in alerting]:
            self.banner.remove(incident_id)
        self.reviewed.emit()

    def _shown_on_banner(self) -> list[str]:
        return [entry.incident_id for entry in self.banner.incidents]

    # -- delivering -----------------------------------------------------------------------------

    def _names(self) -> dict[str, str]:
        estate = self.window.estate_model.estate
        names = {t.key: t.name for t in estate.teams}
        names.update({s.key: s.name for s in estate.services})
        return names

    def _notify(self, incident: Incident, reason: Reason) -> None:
        notice = notice_for(incident, reason, self._names())
        if not self.prefs.desktop or self._sender is None:
            note = "Desktop notifications are off (Settings, Notifications)"
            self.banner.show_incident(banner_entry(incident, note))
            return
        self._desktop.add(incident.id)
        notifier, relay = self.notifier, self._relay

        def send() -> None:
            delivery = notifier.notify(notice)
            self._emit(relay.delivered, delivery)

        self._sender.submit(send)

    def _on_delivered(self, delivery: Delivery) -> None:
        iid = delivery.incident_id
        incident = self._incident(iid)
        if delivery.channel is not Channel.FREEDESKTOP:
            self._desktop.discard(iid)  # nothing that can be withdrawn or updated in place
        if incident is not None and iid in self._alerting:
            if delivery.channel is Channel.BANNER:
                self._tray_balloon(incident)
                note = f"No desktop notification: {delivery.error}"
                self.banner.show_incident(banner_entry(incident, note))
            elif delivery.failures:
                note = f"Shown as a plain notification without buttons ({delivery.error})"
                self.banner.show_incident(banner_entry(incident, note))
        self.delivered.emit(delivery)

    def _tray_balloon(self, incident: Incident) -> None:
        if self.tray is not None:
            critical = incident.priority.rank <= 2
            self.tray.balloon(
                balloon_title(incident), "Open the console to respond", critical=critical
            )

    def _withdraw(self, incident_id: str) -> None:
        self.banner.remove(incident_id)
        if incident_id in self._desktop and self._sender is not None:
            self._desktop.discard(incident_id)
            self._sender.submit(self._closer(incident_id, report=True))

    def _closer(self, incident_id: str, *, report: bool) -> Callable[[], None]:
        notifier, relay = self.notifier, self._relay

        def close() -> None:
            failure = notifier.close(incident_id)
            if report:
                self._emit(relay.withdrawn, incident_id, failure)

        return close

    def _on_withdrawn(self, incident_id: str, failure: Failure | None) -> None:
        if failure is None:
            return
        incident = self._incident(incident_id)
        name = incident.ref if incident is not None else incident_id
        self._note(f"The desktop notification of {name} could not be withdrawn: {failure.reason}")

    def _emit(self, signal: Any, *args: object) -> None:
        """Emit from another thread, unless the console is closing (the relay may be gone)."""
        if self._closing.is_set():
            return
        try:
            signal.emit(*args)
        except RuntimeError:  # deleted between the check and the emit: closing
            log.debug("dropped a notification result: the console is closing")

    def _incident(self, incident_id: str) -> Incident | None:
        if self._snapshot is None:
            return None
        return next((i for i in self._snapshot.incidents if i.id == incident_id), None)

    def _note(self, text: str) -> None:
        self.banner.show_note(text)
        self.window.show_message(text)

    def _alarm_failed(self, message: str) -> None:
        self._note(f"Alarm: {message}")

    # -- from other threads ---------------------------------------------------------------------

    def _from_notification(self, incident_id: str, action: NoticeAction) -> None:
        self._emit(self._relay.action, incident_id, action)

    def _from_engine(self, outcome: SignalOutcome) -> None:
        # The engine's writer thread, right after its commit: hand over and return at once.
        self._emit(self._relay.engine, outcome)

    def _on_engine_incident(self, outcome: SignalOutcome) -> None:
        self.engine_incident.emit(outcome)
        self.poll_now()

    def _on_action(self, incident_id: str, action: NoticeAction) -> None:
        if action is NoticeAction.ACKNOWLEDGE:
            self.acknowledge(incident_id)
        else:
            self.open_incident(incident_id)

    # -- what people ask for --------------------------------------------------------------------

    def acknowledge(self, incident_id: str) -> None:
        """Acknowledge an incident on the store worker, as the Incidents page's button does."""
        store = self.store
        try:
            self.runner.submit(
                lambda: incident_store.acknowledge(store, incident_id),
                self._on_acknowledged,
                self._on_acknowledge_refused,
            )
        except RuntimeError:  # the worker has shut down: the console is closing
            return

    def _on_acknowledged(self, incident: Incident) -> None:
        self.window.show_message(f"{incident.ref} acknowledged")
        self.acknowledged.emit(incident)
        self.poll_now()

    def _on_acknowledge_refused(self, exc: BaseException) -> None:
        if isinstance(exc, ConsoleError):
            text = f"Not acknowledged: {exc}"  # someone was quicker: the store says who
            self.window.show_message(text)
        else:  # a bug: keep the traceback, and say that nothing changed
            log.error("acknowledging failed", exc_info=exc)
            text = f"Not acknowledged, unexpected error: {exc}"
            self._note(text)
        self.acknowledged.emit(text)
        self.poll_now()

    def show_window(self) -> None:
        """Bring the window up (from the tray, a minimised state or behind other windows)."""
        if self.window.isMinimized():
            self.window.showNormal()
        else:
            self.window.show()
        self.window.raise_()
        self.window.activateWindow()

    def open_incident(self, incident_id: str) -> None:
        """Show the window on the Incidents page with the incident selected."""
        self.show_window()
        if not self.window.show_page(INCIDENTS_PAGE):
            self.window.show_message("The Incidents page is not available")
            return
        page = self.window.page(INCIDENTS_PAGE)
        if isinstance(page, IncidentsPage):
            page.show_incident(incident_id)

    def mute(self, muted: bool) -> None:
        """Mute the alarm for the preferences' mute length, or end a mute."""
        if muted:
            self.alarm.mute()
        else:
            self.alarm.unmute()

    def quit(self) -> None:
        """Quit the application (the window still asks about unsaved edits)."""
        if self.window.close():
            QApplication.quit()

    # -- preferences ----------------------------------------------------------------------------

    def set_prefs(self, prefs: NotificationPrefs) -> None:
        """Use new preferences (saved in the settings dialog) from now on."""
        self._use_prefs(prefs)

    def _use_prefs(self, prefs: NotificationPrefs) -> None:
        desktop_before = self.prefs.desktop
        self.prefs = prefs
        self.alarm.set_prefs(prefs)
        if desktop_before and not prefs.desktop:
            self._move_to_banner(sorted(self._desktop))

    def _move_to_banner(self, incident_ids: Iterable[str]) -> None:
        """Desktop notifications were turned off: what they showed moves to the banner."""
        note = "Desktop notifications are off (Settings, Notifications)"
        for incident_id in incident_ids:
            incident = self._incident(incident_id)
            self._withdraw(incident_id)
            if incident is not None and incident_id in self._alerting:
                self.banner.show_incident(banner_entry(incident, note))

    def follow(self, dialog: SettingsDialog) -> None:
        """Apply the dialog's notification preferences as soon as they are saved."""
        for section in dialog.sections:
            if isinstance(section, NotificationsSection):
                section.saved.connect(self.set_prefs)
