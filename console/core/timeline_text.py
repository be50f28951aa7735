"""Incident timeline events in words: who did what, and when, as a sentence people read.

The incidents page shows these sentences; a post-mortem reuses them for its timeline. Each
function takes the event alone (its payload says who, its envelope says when) and an optional
``names`` mapping that turns keys people do not read (an email, a team's key, an incident's id)
into names they do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from console.core.clock import parse_iso
from console.core.escalation_steps import AckChannel
from console.core.events import Event, EventType
from console.core.incident_rules import human
from console.core.incidents import NUMBER_PREFIX, ResolveReason, WakeReason

Names = Mapping[str, str]
_NO_NAMES: Names = {}


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One event of an incident's timeline, in words.

    Attributes:
        at: When it happened (the event time, not when it was recorded).
        who: Who did it (a person's name or email; the engine for what nobody did by hand).
        text: What happened, as a sentence that names whoever did it.
    """

    at: datetime
    who: str
    text: str

    @property
    def sentence(self) -> str:
        """The time, then the text: ``2026-03-01 09:02 UTC: Ada acknowledged it.``."""
        return f"{human(self.at)}: {self.text}"


def duration_words(value: timedelta) -> str:
    """A duration as people say it, to the minute: ``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h``.

    Negative durations (clocks of two consoles disagreeing) read as their size.
    """
    seconds = abs(int(value.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, _ = divmod(seconds, 60)
    hours, mins = divmod(minutes, 60)
    days, hrs = divmod(hours, 24)
    if days:
        return f"{days} d {hrs} h" if hrs else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


# -- helpers -------------------------------------------------------------------------------------


def _name(names: Names, key: str | None, missing: str = "someone") -> str:
    if key is None or not str(key).strip():
        return missing
    return names.get(key, key)


def _ref(names: Names, incident_id: str | None, number: Any) -> str:
    """An incident as people name it: INC-42 (from the number, else the names, else the id)."""
    if number is not None:
        return f"{NUMBER_PREFIX}{number}"
    if incident_id is None:
        return "another incident"
    return names.get(incident_id, incident_id[:8])


def _moment(value: Any) -> str:
    return human(parse_iso(value)) if isinstance(value, str) else "an unknown time"


def _with(text: str, extra: Any, joiner: str = ": ") -> str:
    """``text`` and, when there is one, a note after it (a reason, a note...)."""
    if extra is None or not str(extra).strip():
        return text
    return f"{text}{joiner}{str(extra).strip()}"


def _team(names: Names, key: Any) -> str:
    return "no team" if key is None else f"team {_name(names, key)}"


# -- one formatter per event type -----------------------------------------------------------------


def _opened(p: Mapping[str, Any], who: str, names: Names) -> str:
    severity = str(p.get("severity", "")).lower()
    how = f"{severity}, {p.get('priority')}"
    if p.get("source") == "manual":
        text = f"{who} opened it from a report by {_name(names, p.get('reporter'))}"
    elif p.get("source") == "alert":
        text = f"{who} opened it from an inbound alert"
    else:
        text = f"{who} opened it from a confirmed metric state"
    text += f": “{p.get('title')}” ({how}), for {_team(names, p.get('team'))}."
    if p.get("impact"):
        text += f" Impact as reported: {str(p['impact']).strip()}."
    if p.get("parent") is not None:
        parent = _ref(names, p.get("parent"), p.get("parent_number"))
        text += f" Grouped under {parent}: its notifications are held back."
    if p.get("silenced_by"):
        text += f" Silence {p['silenced_by']} held its notifications back."
    if p.get("drill"):
        text += " This is a drill."
    return text


def _recurred(p: Mapping[str, Any], who: str, names: Names) -> str:
    count = p.get("count")
    seen = f"; seen {count} times" if count is not None else ""
    return f"It recurred after a quiet period (quiet since {_moment(p.get('quiet_since'))}{seen})."


def _severity_changed(p: Mapping[str, Any], who: str, names: Names) -> str:
    text = f"Its severity went from {p.get('from')} to {p.get('to')}"
    if p.get("priority_to"):
        text += f", and its priority from {p.get('priority_from')} to {p['priority_to']}"
    return text + "."


def _acknowledged(p: Mapping[str, Any], who: str, names: Names) -> str:
    behalf = p.get("on_behalf_of")
    if behalf:
        text = f"{who} acknowledged it on behalf of {_name(names, behalf)}"
        return text + (f", who answered {_answered(p['via'])}." if p.get("via") else ".")
    return f"{who} acknowledged it."


def _answered(via: Any) -> str:
    try:
        return AckChannel(via).words
    except ValueError:
        return f"via {via}"


def _unacknowledged(p: Mapping[str, Any], who: str, names: Names) -> str:
    text = _with(f"{who} put it back to triggered", p.get("reason"))
    if p.get("acknowledged_by"):
        text += f" (it had been acknowledged by {_name(names, p['acknowledged_by'])})"
    return text + "."


def _mitigated(p: Mapping[str, Any], who: str, names: Names) -> str:
    return _with(f"{who} mitigated it: the impact stopped", p.get("note"), "; ") + "."


def _resolved(p: Mapping[str, Any], who: str, names: Names) -> str:
    reason = p.get("reason", ResolveReason.MANUAL.value)
    if reason == ResolveReason.AUTO.value:
        return _with("It resolved by itself", p.get("note") or "the signal recovered") + "."
    if reason == ResolveReason.MERGED.value:
        return _with(f"{who} resolved it by merging it", p.get("note")) + "."
    return _with(f"{who} resolved it", p.get("note")) + "."


def _reopened(p: Mapping[str, Any], who: str, names: Names) -> str:
    return _with(f"{who} reopened it", p.get("reason")) + "."


def _snoozed(p: Mapping[str, Any], who: str, names: Names) -> str:
    return f"{who} snoozed it until {_moment(p.get('until'))}."


def _woke(p: Mapping[str, Any], who: str, names: Names) -> str:
    until = _moment(p.get("until"))
    if p.get("reason") == WakeReason.EXPIRED.value:
        return f"Its snooze until {until} ran out."
    return f"{who} ended its snooze (it was snoozed until {until})."


def _reassigned(p: Mapping[str, Any], who: str, names: Names) -> str:
    moved = f"{who} reassigned it from {_team(names, p.get('from_team'))}"
    return _with(f"{moved} to {_team(names, p.get('to_team'))}", p.get("reason")) + "."


def _merged(p: Mapping[str, Any], who: str, names: Names) -> str:
    return f"{who} merged it into {_ref(names, p.get('into'), p.get('into_number'))}."


def _absorbed(p: Mapping[str, Any], who: str, names: Names) -> str:
    return f"{who} merged {_ref(names, p.get('from'), p.get('from_number'))} into it."


def _priority_overridden(p: Mapping[str, Any], who: str, names: Names) -> str:
    changed = f"{who} set its priority from {p.get('from')} to {p.get('to')} by hand"
    text = _with(changed, p.get("reason"))
    if p.get("matrix_reason"):
        text += f" (the priority matrix said: {p['matrix_reason']})"
    return text + "."


def _flapping(p: Mapping[str, Any], who: str, names: Names) -> str:
    if p.get("flapping"):
        return "Its signal started flapping: notifications are not repeated while it flaps."
    return "Its signal stopped flapping."


def _grouped(p: Mapping[str, Any], who: str, names: Names) -> str:
    if p.get("parent") is None:
        return f"{who} took it out of its group: it notifies on its own again."
    parent = _ref(names, p.get("parent"), p.get("parent_number"))
    text = f"{who} grouped it under {parent}"
    if p.get("reason") == "merged":
        text += ", because the incident it was grouped under was merged"
    return text + "."


# -- escalation and delivery ----------------------------------------------------------------------

#: How each channel's delivery reads: "Emailed Ana", "Sent Ana a webhook message (slack)".
_DELIVERY_WORDS = {
    "sent": "delivered",
    "failed": "failed",
    "pending": "sending",
    "unknown": "outcome unknown",
}


def _level(p: Mapping[str, Any], key: str = "level") -> str:
    """``level 2`` (payloads count from 0, people from 1), with the loop after the first."""
    number = int(p.get(key) or 0) + 1
    loop = int(p.get("repeat") or 0)
    return f"level {number}" + (f" (loop {loop + 1})" if loop else "")


def via_words(via: str, names: Names) -> str:
    """How a recipient was reached, for people: ``schedule Payments primary``, ``round robin``."""
    kind, _, ref = via.partition(":")
    if kind == "member" or not ref:
        return "by name"
    if kind == "round_robin":
        return "round robin"
    return f"{kind.replace('_', ' ')} {_name(names, ref)}"


def _recipient(r: Mapping[str, Any], names: Names) -> str:
    name, via = _name(names, r.get("member")), str(r.get("via", ""))
    return name if via == "member" else f"{name} ({via_words(via, names)})"


def _escalation_started(p: Mapping[str, Any], who: str, names: Names) -> str:
    policy = p.get("policy") or {}
    levels = len(policy.get("levels") or ())
    repeat = int(policy.get("repeat") or 0)
    name = policy.get("name") or _name(names, p.get("policy_key"), "its policy")
    text = f"Escalation started by policy {name} ({levels} level{'s' if levels != 1 else ''}"
    if repeat:
        text += f", repeated {repeat} more time{'s' if repeat != 1 else ''}"
    return text + ")."


def _level_started(p: Mapping[str, Any], who: str, names: Names) -> str:
    reached = [_recipient(r, names) for r in p.get("recipients") or ()]
    urgent = " (urgent)" if p.get("urgent") else ""
    text = f"{_level(p).capitalize()} started{urgent}: paged {', '.join(reached) or 'nobody'}"
    skipped = [str(s) for s in p.get("skipped") or () if str(s).strip()]
    if skipped:
        text += f"; passed over: {'; '.join(skipped)}"
    return text + "."


def _level_empty(p: Mapping[str, Any], who: str, names: Names) -> str:
    text = f"Escalation failed at {_level(p)}: nobody available"
    details = [str(d) for d in p.get("details") or () if str(d).strip()]
    if details:
        text += f" ({'; '.join(details)})"
    return text + ". The next step starts at once."


def _escalated_now(p: Mapping[str, Any], who: str, names: Names) -> str:
    return f"Escalated to {_level(p, 'to_level')} by {who}."


def _exhausted(p: Mapping[str, Any], who: str, names: Names) -> str:
    loops = int(p.get("repeats") or 0) + 1
    return (
        f"Escalation exhausted after {loops} loop{'s' if loops != 1 else ''}: every level was "
        "tried and nobody acknowledged."
    )


def _retriggered(p: Mapping[str, Any], who: str, names: Names) -> str:
    reason = str(p.get("reason") or "").strip()
    if reason.startswith("not resolved"):
        reason = f"acknowledgement timed out ({reason})"
    return _with("Re-triggered", reason) + f"; escalation starts again at {_level(p)}."


def _channel(channel: str, recipient: str) -> str:
    if channel == "email":
        return f"Emailed {recipient}"
    if channel.startswith("webhook:"):
        return f"Sent {recipient} a message through webhook {channel.removeprefix('webhook:')}"
    return f"Could not page {recipient}"


def _notification(p: Mapping[str, Any], who: str, names: Names) -> str:
    status = str(p.get("status", ""))
    head = _channel(str(p.get("channel", "")), _name(names, p.get("recipient")))
    if p.get("drill"):
        head = f"DRILL: {head}"
    error = p.get("error")
    if p.get("resend"):
        outcome = "re-sent (outcome unknown after a restart)"
        if status == "sent":
            outcome = "re-sent: delivered"
        elif status == "failed":
            outcome = _with("re-sent: failed", error)
    elif status == "pending" and int(p.get("attempt") or 1) > 1:
        outcome = _with(f"retrying (attempt {p.get('attempt')})", error, " after: ")
    elif status in ("failed", "unknown"):
        outcome = _with(_DELIVERY_WORDS[status], error)
    else:
        outcome = _DELIVERY_WORDS.get(status, status)
    return f"{head}: {outcome} ({_level(p)})."


Formatter = Callable[[Mapping[str, Any], str, Names], str]

_FORMATTERS: Mapping[EventType, Formatter] = {
    EventType.INCIDENT_OPENED: _opened,
    EventType.INCIDENT_RECURRED: _recurred,
    EventType.INCIDENT_SEVERITY_CHANGED: _severity_changed,
    EventType.INCIDENT_ACKNOWLEDGED: _acknowledged,
    EventType.INCIDENT_UNACKNOWLEDGED: _unacknowledged,
    EventType.INCIDENT_MITIGATED: _mitigated,
    EventType.INCIDENT_RESOLVED: _resolved,
    EventType.INCIDENT_REOPENED: _reopened,
    EventType.INCIDENT_SNOOZED: _snoozed,
    EventType.INCIDENT_WOKE: _woke,
    EventType.INCIDENT_REASSIGNED: _reassigned,
    EventType.INCIDENT_MERGED: _merged,
    EventType.INCIDENT_ABSORBED: _absorbed,
    EventType.INCIDENT_PRIORITY_OVERRIDDEN: _priority_overridden,
    EventType.INCIDENT_FLAPPING: _flapping,
    EventType.INCIDENT_GROUPED: _grouped,
    EventType.ESCALATION_STARTED: _escalation_started,
    EventType.ESCALATION_LEVEL_STARTED: _level_started,
    EventType.ESCALATION_LEVEL_EMPTY: _level_empty,
    EventType.ESCALATION_ESCALATED_NOW: _escalated_now,
    EventType.ESCALATION_EXHAUSTED: _exhausted,
    EventType.ESCALATION_RETRIGGERED: _retriggered,
    EventType.NOTIFICATION_ISSUED: _notification,
}


def _generic(event: Event, who: str) -> str:
    # Later issues add events to an incident's subject (escalation, notes): say what they are.
    what = event.type.value.replace("_", " ").replace(".", " ")
    return f"{who} recorded: {what}."


def entry(event: Event, names: Names | None = None) -> TimelineEntry:
    """An event of an incident's timeline in words.

    Args:
        event: The event (any type: those not known here get a plain sentence).
        names: Display names by key: members by email, teams by key, incidents by id.

    Returns:
        When, who, and the sentence.
    """
    known = names or _NO_NAMES
    who = _name(known, event.payload.get("by") or event.actor, missing="the console")
    formatter = _FORMATTERS.get(event.type)
    text = _generic(event, who) if formatter is None else formatter(event.payload, who, known)
    return TimelineEntry(event.event_time, who, text)


def sentence(event: Event, names: Names | None = None) -> str:
    """The event as one line: ``2026-03-01 09:02 UTC: Ada acknowledged it.``."""
    return entry(event, names).sentence
