"""An incident's escalation as steps people follow: what is done, what is now, what comes next.

The stepper of the incident detail and ``incidents show`` read the same `EscalationView`,
computed here from the policy snapshot's fold (`EscalationProgress`), the incident record and its
timeline (which levels of the current loop reached whom, and which reached nobody). The view
does not depend on the clock: `due_text` turns it into a countdown for any ``now``, so a view
ticks every second without reading the store again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from console.core.clock import isoformat
from console.core.escalation import Level, Target, TargetKind
from console.core.escalator import (
    Attempt,
    EscalationError,
    EscalationProgress,
    NotificationStatus,
    escalate_now,
)
from console.core.events import Event, EventType
from console.core.incidents import Incident, IncidentState


class AckChannel(Enum):
    """How someone who answered away from the console was reached (acknowledge on behalf)."""

    PHONE = "phone"
    SMS = "sms"
    CHAT = "chat"
    IN_PERSON = "in-person"
    OTHER = "other"

    @property
    def label(self) -> str:
        """For a choice: ``Phone``, ``SMS``, ``In person``."""
        return {"sms": "SMS", "in-person": "In person"}.get(self.value, self.value.capitalize())

    @property
    def words(self) -> str:
        """After "who answered": ``by phone``, ``in person``, ``another way``."""
        if self is AckChannel.IN_PERSON:
            return "in person"
        if self is AckChannel.OTHER:
            return "another way"
        return f"by {self.label if self is AckChannel.SMS else self.value}"


class StepState(Enum):
    """Where one level of the current loop stands."""

    DONE = "done"  # it started and reached people; a later level or loop followed
    CURRENT = "current"  # the level now running (or the one acknowledged at)
    UPCOMING = "upcoming"  # not started yet in this loop
    EMPTY = "empty"  # it started and reached nobody: failed, and skipped at once


class Phase(Enum):
    """Where the escalation as a whole stands."""

    WAITING = "waiting"  # started, the first level not yet due
    RUNNING = "running"
    SNOOZED = "snoozed"
    ACKNOWLEDGED = "acknowledged"
    EXHAUSTED = "exhausted"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Notified:
    """One recipient through one channel, and how the latest attempt stands.

    ``status`` None: the level reached them but no attempt is recorded yet.
    """

    recipient: str
    via: str
    channel: str | None
    status: NotificationStatus | None
    error: str | None = None
    resend: bool = False
    attempt: int = 0
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One level of the policy, as it stands in the current loop."""

    number: int  # 1-based
    delay: timedelta
    targets: tuple[Target, ...]
    urgent: bool
    state: StepState
    started_at: datetime | None = None
    notified: tuple[Notified, ...] = ()
    empty_details: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EscalationView:
    """An incident's escalation, ready to show.

    Attributes:
        policy_key: The snapshot policy's key.
        policy_name: Its name.
        steps: One per level, in order.
        loop: The current loop, 1-based.
        loops: How many loops the policy runs (its repeat + 1).
        phase: Where the escalation as a whole stands.
        next_due_at: When the engine next acts (the incident's ``next_due_at``).
        next_step: What happens then, in words (``level 2 starts``); None when nothing will.
        acknowledged_by: Who acknowledged, when it is acknowledged.
        escalate_refusal: Why "Escalate now" cannot be done; None when it can.
        pending_jump: An "escalate now" not yet carried out (the level it goes to, 1-based).
    """

    policy_key: str
    policy_name: str
    steps: tuple[Step, ...]
    loop: int
    loops: int
    phase: Phase
    next_due_at: datetime | None
    next_step: str | None
    acknowledged_by: str | None = None
    escalate_refusal: str | None = None
    pending_jump: int | None = None

    @property
    def current(self) -> Step | None:
        """The step now running, if one is."""
        return next((s for s in self.steps if s.state is StepState.CURRENT), None)


# -- the levels' records -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Record:
    empty: bool
    at: datetime | None
    recipients: tuple[tuple[str, str], ...]
    details: tuple[str, ...]


_LEVEL_EVENTS = (EventType.ESCALATION_LEVEL_STARTED, EventType.ESCALATION_LEVEL_EMPTY)


def _records(events: Iterable[Event]) -> dict[tuple[int, int], _Record]:
    """The latest start (or empty start) of every (level, loop) on the timeline."""
    found: dict[tuple[int, int], _Record] = {}
    for e in events:
        if e.type not in _LEVEL_EVENTS:
            continue
        p = e.payload
        recipients = tuple((str(r["member"]), str(r["via"])) for r in p.get("recipients") or ())
        found[(int(p["level"]), int(p["repeat"]))] = _Record(
            empty=e.type is EventType.ESCALATION_LEVEL_EMPTY,
            at=e.event_time,
            recipients=recipients,
            details=tuple(str(d) for d in p.get("details") or ()),
        )
    return found


def _latest(attempts: Iterable[Attempt]) -> dict[tuple[str, str], Attempt]:
    """The latest attempt per (recipient, channel), across retriggers of the same level."""
    out: dict[tuple[str, str], Attempt] = {}
    for a in sorted(attempts, key=lambda a: a.at):
        out[(a.recipient, a.channel)] = a
    return out


def _notified(record: _Record, attempts: Iterable[Attempt]) -> tuple[Notified, ...]:
    latest = _latest(attempts)
    out: list[Notified] = []
    vias = dict(record.recipients)
    for member, via in record.recipients:
        mine = [a for (who, _), a in latest.items() if who == member]
        if not mine:
            out.append(Notified(member, via, None, None))
        out += [
            Notified(member, via, a.channel, a.status, a.error, a.resend, a.attempt, a.at)
            for a in mine
        ]
    # Attempts for people the record does not name (a re-send after a policy edit...).
    out += [
        Notified(a.recipient, vias.get(a.recipient, ""), a.channel, a.status, a.error,
                 a.resend, a.attempt, a.at)
        for (who, _), a in latest.items() if who not in vias
    ]  # fmt: skip
    return tuple(out)


def _state(
    index: int, progress: EscalationProgress, record: _Record | None, running: bool
) -> StepState:
    current = progress.level
    if current is None or record is None or index > current:
        return StepState.UPCOMING
    if record.empty:
        return StepState.EMPTY
    if index == current and running and not progress.exhausted:
        return StepState.CURRENT
    return StepState.DONE


def _step(
    index: int,
    level: Level,
    progress: EscalationProgress,
    records: Mapping[tuple[int, int], _Record],
    running: bool,
) -> Step:
    record = records.get((index, progress.repeat))
    if progress.level is not None and index > progress.level:
        record = None  # a level of this loop not reached since a retrigger or a jump back
    state = _state(index, progress, record, running)
    if record is None:
        return Step(index + 1, level.delay, level.targets, level.urgent, state)
    mine = [
        a for a in progress.attempts.values() if (a.level, a.repeat) == (index, progress.repeat)
    ]
    return Step(
        index + 1,
        level.delay,
        level.targets,
        level.urgent,
        state,
        record.at,
        _notified(record, mine),
        record.details,
    )


# -- the whole -----------------------------------------------------------------------------


def _phase(progress: EscalationProgress, incident: Incident) -> Phase:
    if not incident.is_open:
        return Phase.RESOLVED
    if incident.state is IncidentState.ACKNOWLEDGED:
        return Phase.ACKNOWLEDGED
    if progress.exhausted:
        return Phase.EXHAUSTED
    if incident.snoozed_until is not None:
        return Phase.SNOOZED
    return Phase.WAITING if progress.level is None else Phase.RUNNING


def _next_step(progress: EscalationProgress, phase: Phase) -> str | None:
    levels, policy = progress.policy.levels, progress.policy
    if phase in (Phase.RESOLVED, Phase.EXHAUSTED) or not levels:
        return None
    if progress.jump is not None:
        return f"level {progress.jump.level + 1} starts (escalated by hand)"
    if phase is Phase.ACKNOWLEDGED:
        return "re-triggers (acknowledgement timeout)" if policy.ack_timeout else None
    if progress.restart_at is not None:
        return "escalation starts again"
    if progress.level is None:
        return "level 1 starts"
    if progress.level + 1 < len(levels):
        return f"level {progress.level + 2} starts"
    if progress.repeat < policy.repeat:
        return f"loop {progress.repeat + 2} of {policy.repeat + 1} starts at level 1"
    return "escalation ends (exhausted)"


def _refusal(progress: EscalationProgress, incident: Incident) -> str | None:
    try:
        escalate_now(progress, incident, "check", at=incident.updated_at)
    except EscalationError as exc:
        return str(exc)
    return None


def view(
    progress: EscalationProgress | None, incident: Incident, events: Iterable[Event]
) -> EscalationView | None:
    """The escalation of ``incident`` as steps.

    Args:
        progress: The fold of its timeline (None: no policy applies).
        incident: The incident (its state and ``next_due_at``).
        events: Its timeline, oldest first.

    Returns:
        The view, or None when the incident has no escalation.
    """
    if progress is None:
        return None
    records = _records(events)
    phase = _phase(progress, incident)
    policy = progress.policy
    running = incident.is_open
    steps = tuple(_step(i, lv, progress, records, running) for i, lv in enumerate(policy.levels))
    jump = progress.jump
    return EscalationView(
        policy_key=policy.key,
        policy_name=policy.name,
        steps=steps,
        loop=progress.repeat + 1,
        loops=policy.repeat + 1,
        phase=phase,
        next_due_at=incident.next_due_at if incident.is_open else None,
        next_step=_next_step(progress, phase),
        acknowledged_by=incident.acknowledged_by,
        escalate_refusal=_refusal(progress, incident),
        pending_jump=None if jump is None else jump.level + 1,
    )


# -- words ---------------------------------------------------------------------------------


def countdown(value: timedelta) -> str:
    """A countdown to the second: ``0:42``, ``9:05``, ``1:02:03``, ``2 d 4 h``."""
    seconds = max(0, int(value.total_seconds()))
    minutes, secs = divmod(seconds, 60)
    hours, mins = divmod(minutes, 60)
    if hours >= 48:
        return f"{hours // 24} d {hours % 24} h"
    if hours:
        return f"{hours}:{mins:02d}:{secs:02d}"
    return f"{mins}:{secs:02d}"


def due_text(v: EscalationView, now: datetime) -> str:
    """What comes next and when, for ``now``: ``Level 2 starts in 4:59``.

    A moment already past says so (the engine acts on its next tick, or is not running).
    """
    if v.next_step is None or v.next_due_at is None:
        return _still(v)
    what = v.next_step[0].upper() + v.next_step[1:]
    if v.phase is Phase.SNOOZED:
        what = f"Snoozed: {v.next_step}"
    left = v.next_due_at - now
    if left.total_seconds() <= 0:
        late = now - v.next_due_at
        if late.total_seconds() < 5:
            return f"{what} now"
        return f"{what}: due {countdown(late)} ago (is the engine running?)"
    return f"{what} in {countdown(left)}"


def _still(v: EscalationView) -> str:
    return {
        Phase.ACKNOWLEDGED: f"Acknowledged by {v.acknowledged_by or 'someone'}: escalation stopped",
        Phase.EXHAUSTED: "Escalation exhausted: every level of every loop was tried",
        Phase.RESOLVED: "Resolved: escalation ended",
    }.get(v.phase, "Nothing more is due")


def delay_words(step: Step) -> str:
    """When a level starts: ``at once`` or ``after 10 min`` (after the level before)."""
    if step.delay <= timedelta(0):
        return "at once"
    minutes = int(step.delay.total_seconds() // 60)
    seconds = int(step.delay.total_seconds() % 60)
    if minutes >= 60:
        hours, mins = divmod(minutes, 60)
        return f"after {hours} h" + (f" {mins} min" if mins else "")
    if minutes:
        return f"after {minutes} min" + (f" {seconds} s" if seconds else "")
    return f"after {seconds} s"


def target_words(target: Target, names: Mapping[str, str]) -> str:
    """A target for people: ``Ana Silva``, ``team SRE``, ``schedule Payments primary``."""
    name = names.get(target.ref, target.ref)
    if target.kind is TargetKind.MEMBER:
        return name
    if target.kind is TargetKind.ROUND_ROBIN:
        pool = ", ".join(names.get(m, m) for m in target.members) if target.members else name
        return f"round robin ({pool})"
    return f"{target.kind.value} {name}"


def as_dict(v: EscalationView) -> dict[str, Any]:
    """JSON-able data (``incidents show --json``)."""
    return {
        "policy": v.policy_key,
        "policy_name": v.policy_name,
        "phase": v.phase.value,
        "loop": v.loop,
        "loops": v.loops,
        "current_level": None if v.current is None else v.current.number,
        "next_due_at": None if v.next_due_at is None else isoformat(v.next_due_at),
        "next_step": v.next_step,
        "escalate_refusal": v.escalate_refusal,
        "steps": [_step_dict(s) for s in v.steps],
    }


def _step_dict(s: Step) -> dict[str, Any]:
    return {
        "level": s.number,
        "state": s.state.value,
        "delay_s": s.delay.total_seconds(),
        "urgent": s.urgent,
        "targets": [{"kind": t.kind.value, "ref": t.ref} for t in s.targets],
        "started_at": None if s.started_at is None else isoformat(s.started_at),
        "empty_details": list(s.empty_details),
        "notified": [
            {
                "recipient": n.recipient,
                "via": n.via,
                "channel": n.channel,
                "status": None if n.status is None else n.status.value,
                "error": n.error,
                "resend": n.resend,
                "attempt": n.attempt,
            }
            for n in s.notified
        ],
    }
