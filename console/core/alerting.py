"""When to tell people: notify only when an incident gets worse; and the notification preferences.

The rule, as DESIGN.md has it from the field: notify on a new incident, a higher severity or
priority, a new escalation step, or an incident that comes back (re-triggered after an
acknowledgement or reopened after resolution); never for incidents already acknowledged when
the console starts; not for repeats of an open incident; not again for a flapping one.

"Higher" is measured against what people were last *told* (the peak notified since the incident
last became triggered), not against the previous view: an incident bouncing between warning and
critical notifies once, when it first reaches critical, even before the flap detector marks it.

A notification is withdrawn when its incident is acknowledged, resolved, gone, or held back
(silenced, in maintenance, snoozed, grouped under an upstream incident).

`AlertView` is the small record this works on; the incident model maps onto it in one place
(the application), so this module does not change when the incident record grows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from console.core.enums import Priority, Severity
from console.core.errors import Problem, ValidationError
from console.core.models import SEVERITY_ORDER

NOTIFICATION_SETTINGS_KEY = "notifications.settings"


class Standing(Enum):
    """Where an incident stands, as far as telling people goes."""

    TRIGGERED = "triggered"  # open and nobody has taken it
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class AlertView:
    """One incident at one moment, reduced to what the notification rule reads.

    Attributes:
        incident_id: The incident.
        standing: Triggered, acknowledged or resolved.
        severity: Its severity now.
        priority: Its priority now.
        escalation_step: How many escalation steps have fired (0 before the first).
        flapping: Its signal is flapping: it does not notify again on its own.
        held: Its notifications are held back (silence, maintenance, snooze, grouped under
            an upstream incident).
    """

    incident_id: str
    standing: Standing
    severity: Severity
    priority: Priority
    escalation_step: int = 0
    flapping: bool = False
    held: bool = False

    @property
    def alerting(self) -> bool:
        """Triggered and not held back: the only views that may notify."""
        return self.standing is Standing.TRIGGERED and not self.held


class AlertAction(Enum):
    """What to do with an incident's desktop notification."""

    NOTIFY = "notify"  # show it, or update it in place, and draw attention
    WITHDRAW = "withdraw"  # take it down
    NONE = "none"


class Reason(Enum):
    """Why the rule decided what it did."""

    NEW = "new"
    REOPENED = "reopened"
    RELEASED = "released"  # was held back, no longer is
    ESCALATED = "escalated"
    SEVERITY_UP = "severity-up"
    PRIORITY_UP = "priority-up"
    UNCHANGED = "unchanged"  # a repeat, or better than what people were told
    FLAPPING = "flapping"
    HELD = "held"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Decision:
    """The rule's answer for one incident."""

    incident_id: str
    action: AlertAction
    reason: Reason


@dataclass(frozen=True, slots=True)
class Peak:
    """The worst an incident has been *notified* at since it last became triggered."""

    severity: Severity
    priority: Priority
    escalation_step: int

    @classmethod
    def of(cls, view: AlertView) -> Peak:
        """The peak a notification of ``view`` sets."""
        return cls(view.severity, view.priority, view.escalation_step)

    def raised_by(self, view: AlertView) -> Peak:
        """This peak, or worse where ``view`` is worse."""
        worse_severity = _severity_rank(view.severity) < _severity_rank(self.severity)
        return Peak(
            view.severity if worse_severity else self.severity,
            view.priority if view.priority.rank < self.priority.rank else self.priority,
            max(view.escalation_step, self.escalation_step),
        )


def _severity_rank(severity: Severity) -> int:
    return SEVERITY_ORDER.index(severity)


def assess(before: AlertView | None, after: AlertView | None, peak: Peak | None) -> Decision:
    """Decide what one change of an incident means for its notification.

    Args:
        before: The incident as last seen; None when it is new to this console (which is
            how every incident looks when the console starts).
        after: The incident now; None when it is gone (deleted, merged away, no longer listed).
        peak: What people were last told about it (None: nothing since it last triggered).

    Returns:
        The decision; its ``incident_id`` is that of ``after`` (or ``before`` when gone).
    """
    if after is None:
        assert before is not None, "an incident must be seen before or after"
        return _quiet_end(before, before.incident_id, Reason.RESOLVED)
    iid = after.incident_id
    if after.standing is not Standing.TRIGGERED:
        reason = Reason.ACKNOWLEDGED if after.standing is Standing.ACKNOWLEDGED else Reason.RESOLVED
        return _quiet_end(before, iid, reason)
    if after.held:
        return _quiet_end(before, iid, Reason.HELD)
    if before is None:
        return Decision(iid, AlertAction.NOTIFY, Reason.NEW)
    if before.standing is not Standing.TRIGGERED:
        if after.flapping:
            return Decision(iid, AlertAction.NONE, Reason.FLAPPING)
        return Decision(iid, AlertAction.NOTIFY, Reason.REOPENED)
    if before.held:
        return Decision(iid, AlertAction.NOTIFY, Reason.RELEASED)
    return _worse(after, peak or Peak.of(before))


def _quiet_end(before: AlertView | None, iid: str, reason: Reason) -> Decision:
    """Withdraw the notification if one may be showing, otherwise do nothing."""
    showing = before is not None and before.alerting
    return Decision(iid, AlertAction.WITHDRAW if showing else AlertAction.NONE, reason)


def _worse(after: AlertView, peak: Peak) -> Decision:
    iid = after.incident_id
    # Escalation is people being paged, not the signal bouncing: it notifies even when flapping.
    if after.escalation_step > peak.escalation_step:
        return Decision(iid, AlertAction.NOTIFY, Reason.ESCALATED)
    if after.flapping:
        return Decision(iid, AlertAction.NONE, Reason.FLAPPING)
    if _severity_rank(after.severity) < _severity_rank(peak.severity):
        return Decision(iid, AlertAction.NOTIFY, Reason.SEVERITY_UP)
    if after.priority.rank < peak.priority.rank:
        return Decision(iid, AlertAction.NOTIFY, Reason.PRIORITY_UP)
    return Decision(iid, AlertAction.NONE, Reason.UNCHANGED)


class AlertTracker:
    """Remembers what was seen and told, and turns each new picture into decisions.

    Feed it every open incident each time the store changes (`review`); the first call is
    the console's start, so acknowledged incidents are never replayed and triggered ones are
    notified once. Pure: no clock, no I/O.
    """

    def __init__(self) -> None:
        self._views: dict[str, AlertView] = {}
        self._peaks: dict[str, Peak] = {}

    def review(self, views: Iterable[AlertView]) -> list[Decision]:
        """Compare ``views`` (all the incidents now) with the last review.

        Incidents missing from ``views`` count as gone. Returns the decisions that need doing
        (NOTIFY and WITHDRAW), in the order of ``views``, the gone ones last.
        """
        current = {v.incident_id: v for v in views}
        decisions = [self._step(self._views.get(iid), view) for iid, view in current.items()]
        gone = [view for iid, view in self._views.items() if iid not in current]
        decisions += [self._step(view, None) for view in gone]
        self._views = current
        return [d for d in decisions if d.action is not AlertAction.NONE]

    def peak(self, incident_id: str) -> Peak | None:
        """What people were last told about an incident (None: nothing while it is open)."""
        return self._peaks.get(incident_id)

    def _step(self, before: AlertView | None, after: AlertView | None) -> Decision:
        decision = assess(before, after, self._peaks.get(_id_of(before, after)))
        iid = decision.incident_id
        if after is None or after.standing is not Standing.TRIGGERED:
            self._peaks.pop(iid, None)
        elif decision.action is AlertAction.NOTIFY:
            peak = self._peaks.get(iid)
            if peak is None or decision.reason is Reason.REOPENED:
                self._peaks[iid] = Peak.of(after)
            else:
                self._peaks[iid] = peak.raised_by(after)
        return decision


def _id_of(before: AlertView | None, after: AlertView | None) -> str:
    view = after if after is not None else before
    assert view is not None, "an incident must be seen before or after"
    return view.incident_id


# -- the alarm sound ------------------------------------------------------------------------------

#: Priorities whose alarm repeats until acknowledged or muted; the others sound once.
REPEATING = frozenset({Priority.P1, Priority.P2})


@dataclass(frozen=True, slots=True)
class AlarmInput:
    """What the alarm needs to know about one open incident."""

    incident_id: str
    priority: Priority
    acknowledged: bool


@dataclass(frozen=True, slots=True)
class AlarmPlan:
    """What the one alarm sound should do now.

    Attributes:
        loop: The priority whose sound repeats (an unacknowledged P1/P2), or None.
        chime: The priority whose sound plays once now (a new P3-P5), or None.
        heard: The unacknowledged incidents announced so far (the next plan's ``heard``).
    """

    loop: Priority | None
    chime: Priority | None
    heard: frozenset[str]


def plan_alarm(
    incidents: Iterable[AlarmInput],
    prefs: NotificationPrefs,
    heard: frozenset[str],
    *,
    muted: bool,
) -> AlarmPlan:
    """Choose the one sound to make, however many incidents are open.

    The highest unacknowledged priority whose sound is on wins. A P1/P2 repeats until every
    such incident is acknowledged (or the alarm is muted); a P3-P5 chimes once, when an
    incident the alarm has not announced yet appears. While muted nothing sounds, but the
    incidents count as heard, so unmuting does not replay old chimes (a P1/P2 still
    unacknowledged then repeats again).

    Args:
        incidents: Every open incident.
        prefs: Which priorities sound.
        heard: The previous plan's ``heard`` (empty at start).
        muted: Whether the alarm is muted now.
    """
    sounding = [i for i in incidents if not i.acknowledged and prefs.sounds(i.priority)]
    now_heard = frozenset(i.incident_id for i in sounding)
    if muted or not sounding:
        return AlarmPlan(None, None, now_heard)
    top = min(sounding, key=lambda i: i.priority.rank).priority
    if top in REPEATING:
        return AlarmPlan(top, None, now_heard)
    fresh = [i.priority for i in sounding if i.incident_id not in heard]
    chime = min(fresh, key=lambda p: p.rank) if fresh else None
    return AlarmPlan(None, chime, now_heard)


# -- preferences ----------------------------------------------------------------------------------

DEFAULT_VOLUME = 80
DEFAULT_MUTE_MINUTES = 15
MAX_MUTE_MINUTES = 24 * 60


@dataclass(frozen=True, slots=True)
class NotificationPrefs:
    """This console's notification preferences (the settings dialog's Notifications section).

    Attributes:
        desktop: Whether desktop notifications are sent (the in-app banner always shows).
        sound: The priorities whose incidents sound the alarm.
        volume: The alarm's volume, 0 to 100 percent.
        mute_minutes: How long "Mute alarm" lasts before the alarm may sound again.
    """

    desktop: bool = True
    sound: frozenset[Priority] = field(default_factory=lambda: frozenset(Priority))
    volume: int = DEFAULT_VOLUME
    mute_minutes: int = DEFAULT_MUTE_MINUTES

    def __post_init__(self) -> None:
        problems = []
        if not 0 <= self.volume <= 100:
            problems.append(Problem("volume", f"must be 0 to 100, not {self.volume}"))
        if not 1 <= self.mute_minutes <= MAX_MUTE_MINUTES:
            message = f"must be 1 to {MAX_MUTE_MINUTES} minutes, not {self.mute_minutes}"
            problems.append(Problem("mute_minutes", message))
        if problems:
            raise ValidationError(problems)
        object.__setattr__(self, "sound", frozenset(self.sound))

    def sounds(self, priority: Priority) -> bool:
        """Whether incidents of ``priority`` sound the alarm."""
        return priority in self.sound

    def to_dict(self) -> dict[str, Any]:
        """Encode as plain JSON types."""
        return {
            "desktop": self.desktop,
            "sound": sorted(p.value for p in self.sound),
            "volume": self.volume,
            "mute_minutes": self.mute_minutes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NotificationPrefs:
        """Decode `to_dict`'s output; missing keys take their defaults.

        Raises:
            ValidationError: A value has the wrong type or is out of range.
        """
        defaults = cls()
        problems: list[Problem] = []
        desktop = data.get("desktop", defaults.desktop)
        if not isinstance(desktop, bool):
            problems.append(Problem("desktop", "must be true or false"))
        sound = _priorities(data.get("sound", [p.value for p in defaults.sound]), problems)
        volume = _whole(data.get("volume", defaults.volume), "volume", problems)
        mute = _whole(data.get("mute_minutes", defaults.mute_minutes), "mute_minutes", problems)
        if problems:
            raise ValidationError(problems)
        return cls(bool(desktop), sound, volume, mute)

    def to_json(self) -> str:
        """The stored form (a settings row)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> NotificationPrefs:
        """Decode a stored value; None (nothing stored yet) gives the defaults.

        Raises:
            ValidationError: The text is not JSON or `from_dict` refuses it.
        """
        if text is None:
            return cls()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError([Problem("", f"not JSON: {exc}")]) from None
        if not isinstance(data, dict):
            raise ValidationError([Problem("", "must be a JSON object")])
        return cls.from_dict(data)


def _priorities(value: object, problems: list[Problem]) -> frozenset[Priority]:
    if not isinstance(value, list):
        problems.append(Problem("sound", "must be a list of priorities"))
        return frozenset()
    out = set()
    for i, item in enumerate(value):
        try:
            out.add(Priority(item))
        except ValueError:
            problems.append(Problem(f"sound[{i}]", f"unknown priority {item!r}"))
    return frozenset(out)


def _whole(value: object, name: str, problems: list[Problem]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(Problem(name, "must be a whole number"))
        return 0
    return value
