"""The escalation planner: what an incident's escalation does next, as a function of its inputs.

Pure: no I/O, the clock is an argument. The inputs are the incident's timeline folded into an
`EscalationProgress` (its policy snapshot, the level it is at, snoozes, retriggers, delivery
attempts), the incident record itself, a `Directory` (teams, schedules, absences, round-robin
turns) and ``now``. The outputs are the facts to record, the deliveries to make and when to look
again (`next_due`, stored as the incident's ``next_due_at`` so that a tick reads only the
incidents that are due).

Time only runs while an incident is triggered and not snoozed:

- a level's delay counts from the instant the previous level was *due* (not from when a late
  tick got to it), so a console that was down catches up with every step that fell due, in
  order, each with its own ``due_at``, and the schedule never drifts;
- a snooze pauses the clock: the time snoozed is added to the wait, so a level that was to
  start during the snooze starts that much later, and nothing is sent while snoozed;
- an acknowledgement stops escalation; with the policy's ``ack_timeout`` the incident is
  triggered again that long after the acknowledgement (unless it was mitigated): the
  acknowledgement is withdrawn (``incident.unacknowledged``) and the current level starts again;
- an acknowledgement withdrawn by hand restarts the current level the same way, and a resolved
  incident that is reopened starts over from the first level (both ``escalation.retriggered``);
- a level that reaches nobody is recorded as failed ("escalation failed at level N: nobody
  available") and the next level starts at once;
- after the last level the policy loops ``repeat`` more times, then ``escalation.exhausted``.

Levels and repeats are 0-based in payloads and keys; texts for people say level N 1-based.
Each delivery carries an idempotency key ``<incident>/<level>/<repeat>/<member>`` (with
``~<n>`` after the repeat once the escalation was retriggered n times), the same on every
re-send, so the receiving side can drop duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from console.core.clock import isoformat, parse_iso
from console.core.errors import ConsoleError
from console.core.escalation import Policy
from console.core.escalation_codec import policy_from_dict, policy_to_dict
from console.core.escalation_directory import Directory as Directory
from console.core.escalation_directory import Recipient as Recipient
from console.core.escalation_directory import reach
from console.core.events import Event, EventType
from console.core.incidents import Fact, Incident, IncidentState, apply

#: Who withdraws an acknowledgement that timed out (the ``by`` of ``incident.unacknowledged``).
ACTOR = "escalation"
_ZERO = timedelta(0)
#: More steps than any policy can take at once (10 loops of many levels): a guard, not a rule.
_MAX_STEPS = 1000


class EscalationError(ConsoleError):
    """An escalation command that cannot be carried out; the message says why."""


class NotificationStatus(Enum):
    """How a delivery attempt stands (``notification.issued``'s ``status``)."""

    PENDING = "pending"  # recorded before it is sent
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"  # sent, but whether it arrived is not known (a crash, a timeout)

    @property
    def settled(self) -> bool:
        """Sent or failed: nothing more to do for this attempt."""
        return self in (NotificationStatus.SENT, NotificationStatus.FAILED)


# -- records -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attempt:
    """The latest ``notification.issued`` of one delivery through one channel."""

    key: str
    channel: str
    recipient: str
    level: int
    repeat: int
    status: NotificationStatus
    attempt: int
    at: datetime
    resend: bool = False
    error: str | None = None
    drill: bool = False


@dataclass(frozen=True, slots=True)
class Jump:
    """An "escalate now" waiting to be carried out: start ``level`` of ``repeat`` at ``at``."""

    level: int
    repeat: int
    at: datetime


@dataclass(frozen=True, slots=True)
class EscalationProgress:
    """An incident's escalation so far: the fold of its timeline's escalation facts.

    Attributes:
        policy: The snapshot of the policy taken when the escalation started.
        started_at: When it started (level 0's delay counts from here).
        level: The current level (0-based); None before the first one started.
        repeat: The current loop (0-based).
        level_started_at: When the current level was due (later delays count from here).
        level_empty: The current level reached nobody (the next one starts at once).
        recipients: Whom the current level reached.
        exhausted: Every loop of every level has been tried.
        retriggers: How many times the escalation was triggered again (ack timeout, reopen).
        restart_at: An acknowledgement was withdrawn, or the incident reopened, at this time:
            the escalation is to be retriggered.
        restart_from_start: The restart goes back to the first level (a reopen).
        jump: An "escalate now" not yet carried out.
        pauses: The snoozes, as (start, end) in the order they happened.
        attempts: The latest attempt per (key, channel).
    """

    policy: Policy
    started_at: datetime
    level: int | None = None
    repeat: int = 0
    level_started_at: datetime | None = None
    level_empty: bool = False
    recipients: tuple[Recipient, ...] = ()
    exhausted: bool = False
    retriggers: int = 0
    restart_at: datetime | None = None
    restart_from_start: bool = False
    jump: Jump | None = None
    pauses: tuple[tuple[datetime, datetime], ...] = ()
    attempts: Mapping[tuple[str, str], Attempt] = field(default_factory=dict)

    def resume(self, start: datetime, wait: timedelta) -> datetime:
        """The instant ``wait`` of running time after ``start``: snoozed time does not count."""
        t, remaining = start, wait
        for begin, end in sorted(self.pauses):
            if end <= t:
                continue
            if begin > t + remaining:
                break
            remaining -= max(begin - t, _ZERO)
            t = end
        return t + remaining

    def unsettled(self) -> list[Attempt]:
        """Attempts whose outcome is not known (pending or unknown): to be re-sent."""
        return [a for a in self.attempts.values() if not a.status.settled]

    def delivery_key(self, incident_id: str, level: int, repeat: int, member: str) -> str:
        """The idempotency key of reaching ``member`` at this level, loop and retrigger."""
        cycle = f"~{self.retriggers}" if self.retriggers else ""
        return f"{incident_id}/{level}/{repeat}{cycle}/{member}"


# -- the fold -------------------------------------------------------------------------------


def _when(payload: Mapping[str, Any], key: str, default: datetime) -> datetime:
    value = payload.get(key)
    return default if value is None else parse_iso(value)


def _started(p: EscalationProgress, payload: Mapping[str, Any], at: datetime) -> EscalationProgress:
    return replace(
        p,
        level=int(payload["level"]),
        repeat=int(payload["repeat"]),
        level_started_at=_when(payload, "due_at", at),
        level_empty=False,
        recipients=tuple(Recipient(r["member"], r["via"]) for r in payload.get("recipients", ())),
        jump=None,
        restart_at=None,
    )


def _empty(p: EscalationProgress, payload: Mapping[str, Any], at: datetime) -> EscalationProgress:
    return replace(_started(p, payload, at), level_empty=True, recipients=())


def _snoozed(p: EscalationProgress, payload: Mapping[str, Any], at: datetime) -> EscalationProgress:
    start, until = _when(payload, "at", at), parse_iso(payload["until"])
    pauses = list(p.pauses)
    if pauses and pauses[-1][0] <= start < pauses[-1][1]:
        pauses[-1] = (pauses[-1][0], until)  # snoozed again while snoozed: the pause goes on
    else:
        pauses.append((start, until))
    return replace(p, pauses=tuple(pauses))


def _pause_ends(
    p: EscalationProgress, payload: Mapping[str, Any], at: datetime
) -> EscalationProgress:
    end = _when(payload, "at", at)
    if not p.pauses or p.pauses[-1][1] <= end:
        return p
    begin = p.pauses[-1][0]
    return replace(p, pauses=(*p.pauses[:-1], (begin, max(begin, end))))


def _issued(p: EscalationProgress, payload: Mapping[str, Any], at: datetime) -> EscalationProgress:
    attempt = Attempt(
        key=payload["key"],
        channel=payload["channel"],
        recipient=payload["recipient"],
        level=int(payload["level"]),
        repeat=int(payload["repeat"]),
        status=NotificationStatus(payload["status"]),
        attempt=int(payload.get("attempt", 1)),
        at=_when(payload, "at", at),
        resend=bool(payload.get("resend", False)),
        error=payload.get("error"),
        drill=bool(payload.get("drill", False)),
    )
    return replace(p, attempts={**p.attempts, (attempt.key, attempt.channel): attempt})


def _jumped(p: EscalationProgress, payload: Mapping[str, Any], at: datetime) -> EscalationProgress:
    when = _when(payload, "at", at)
    return replace(p, jump=Jump(int(payload["to_level"]), int(payload["repeat"]), when))


_Step = Callable[[EscalationProgress, Mapping[str, Any], datetime], EscalationProgress]
_FOLDS: Mapping[EventType, _Step] = {
    EventType.ESCALATION_LEVEL_STARTED: _started,
    EventType.ESCALATION_LEVEL_EMPTY: _empty,
    EventType.ESCALATION_ESCALATED_NOW: _jumped,
    EventType.ESCALATION_EXHAUSTED: lambda p, d, at: replace(p, exhausted=True),
    EventType.ESCALATION_RETRIGGERED: lambda p, d, at: replace(
        p, retriggers=p.retriggers + 1, restart_at=None, restart_from_start=False, exhausted=False
    ),
    EventType.NOTIFICATION_ISSUED: _issued,
    EventType.INCIDENT_UNACKNOWLEDGED: lambda p, d, at: replace(
        p, restart_at=_when(d, "at", at), restart_from_start=False
    ),
    EventType.INCIDENT_REOPENED: lambda p, d, at: replace(
        p, restart_at=_when(d, "at", at), restart_from_start=True
    ),
    EventType.INCIDENT_SNOOZED: _snoozed,
    EventType.INCIDENT_WOKE: _pause_ends,
    EventType.INCIDENT_RESOLVED: _pause_ends,
}


def step(
    progress: EscalationProgress | None,
    type_: EventType,
    payload: Mapping[str, Any],
    at: datetime,
) -> EscalationProgress | None:
    """Fold one event of an incident's timeline into its escalation progress.

    Args:
        progress: The progress so far (None before ``escalation.started``).
        type_: The event's type.
        payload: The event's payload.
        at: The event's time.

    Returns:
        The progress after the event; unchanged for events escalation does not follow.
    """
    if type_ is EventType.ESCALATION_STARTED:
        if progress is not None:
            return progress  # the first snapshot counts
        policy = policy_from_dict(dict(payload["policy"]))
        return EscalationProgress(policy, _when(payload, "at", at))
    fold = _FOLDS.get(type_)
    if progress is None or fold is None:
        return progress
    return fold(progress, payload, at)


def fold(events: Iterable[Event]) -> EscalationProgress | None:
    """An incident's escalation progress from its timeline (oldest first); None: no policy."""
    progress: EscalationProgress | None = None
    for event in events:
        progress = step(progress, event.type, event.payload, event.event_time)
    return progress


def advance(
    progress: EscalationProgress | None, facts: Iterable[Fact]
) -> EscalationProgress | None:
    """The progress after facts not yet recorded (what the planner just decided)."""
    for f in facts:
        progress = step(progress, f.type, f.payload, f.at)
    return progress


# -- planning -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """A notification to send: one member, for one level of one loop of one incident.

    Attributes:
        key: The idempotency key (see the module docstring): the same on every re-send.
        level: The level (0-based).
        repeat: The loop (0-based).
        recipient: The member's email.
        urgent: The level is urgent.
        drill: The incident is a drill (every message says so).
        incident: The incident's id.
        via: The target that reached the member (``schedule:primary``...).
    """

    key: str
    level: int
    repeat: int
    recipient: str
    urgent: bool
    drill: bool
    incident: str
    via: str


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do for one incident now.

    Attributes:
        facts: To record on the incident's timeline, in order.
        deliveries: To send (after recording ``notification.issued`` pending for each).
        next_due_at: When to look at the incident again (its ``next_due_at``); None: never,
            until something else changes (an acknowledgement withdrawn, a reopen...).
        turns: The round-robin turns taken: the next index per (policy, level), for
            ``Directory.advanced`` (the store keeps them from the recorded facts).
    """

    facts: tuple[Fact, ...] = ()
    deliveries: tuple[Delivery, ...] = ()
    next_due_at: datetime | None = None
    turns: Mapping[tuple[str, int], int] = field(default_factory=dict)


def issued(
    delivery: Delivery,
    channel: str,
    status: NotificationStatus,
    at: datetime,
    *,
    attempt: int = 1,
    resend: bool = False,
    error: str | None = None,
) -> Fact:
    """A ``notification.issued`` fact: one attempt of a delivery through one channel.

    Record it with ``status`` PENDING before sending, then again with the outcome (SENT,
    FAILED, or UNKNOWN when it is not known whether it arrived); a re-send after a restart
    carries the same key with ``resend`` true.

    Args:
        delivery: What is delivered (its key, level, loop, recipient and drill flag).
        channel: The channel: ``email``, or ``webhook:<key>``...
        status: How the attempt stands.
        at: When.
        attempt: The attempt number (1 first; retries count up).
        resend: A re-send of an attempt whose outcome was unknown.
        error: What went wrong, for FAILED and UNKNOWN.
    """
    payload = {
        "key": delivery.key,
        "channel": channel,
        "recipient": delivery.recipient,
        "level": delivery.level,
        "repeat": delivery.repeat,
        "status": status.value,
        "attempt": attempt,
        "resend": resend,
        "error": error,
        "drill": delivery.drill,
        "at": isoformat(at),
    }
    return Fact(delivery.incident, EventType.NOTIFICATION_ISSUED, payload, at)


def start(incident: Incident, policy: Policy, at: datetime) -> Fact:
    """The ``escalation.started`` fact: the policy's snapshot, taken now, onto the incident."""
    payload = {"policy": policy_to_dict(policy), "policy_key": policy.key, "at": isoformat(at)}
    return Fact(incident.id, EventType.ESCALATION_STARTED, payload, at)


def _ack_due(progress: EscalationProgress, incident: Incident) -> datetime | None:
    timeout = progress.policy.ack_timeout
    if timeout is None or incident.acknowledged_at is None or incident.mitigated_at is not None:
        return None
    return progress.resume(incident.acknowledged_at, timeout)


def _step_base(progress: EscalationProgress) -> tuple[datetime, timedelta]:
    """When the next step's wait starts, and how long it is."""
    levels = progress.policy.levels
    if progress.level is None or progress.level_started_at is None:
        return progress.started_at, levels[0].delay if levels else _ZERO
    if progress.level_empty:
        return progress.level_started_at, _ZERO
    if progress.level + 1 < len(levels):
        return progress.level_started_at, levels[progress.level + 1].delay
    return progress.level_started_at, progress.policy.loop_wait


def next_due(
    progress: EscalationProgress | None, incident: Incident, now: datetime | None = None
) -> datetime | None:
    """When the incident's escalation next has something to do.

    Args:
        progress: The escalation so far (None: the incident has no policy).
        incident: The incident as its timeline made it.
        now: Unused by the rule (the answer is the same whatever the time); accepted so that
            callers can pass the clock they have.

    Returns:
        None when the incident is resolved, its escalation exhausted, or it is acknowledged
        without an acknowledgement timeout; an "escalate now" is due at once (even when
        snoozed or acknowledged); otherwise the due instant, pushed past any snooze.
    """
    del now  # the due instant is a function of the timeline alone
    if progress is None or not incident.is_open or not progress.policy.levels:
        return None
    if progress.jump is not None:
        return progress.jump.at
    if incident.state is IncidentState.ACKNOWLEDGED:
        due = _ack_due(progress, incident)
    elif progress.restart_at is not None:
        due = progress.resume(progress.restart_at, _ZERO)
    elif progress.exhausted:
        return None
    else:
        due = progress.resume(*_step_base(progress))
    if due is not None and incident.snoozed_until is not None and due < incident.snoozed_until:
        # Snoozed after the step fell due (the console was down): nothing before it ends.
        due = incident.snoozed_until
    return due


@dataclass
class _Planning:
    """The state of one `plan` call as it walks through the steps that fell due."""

    progress: EscalationProgress
    incident: Incident
    directory: Directory
    now: datetime
    facts: list[Fact] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    turns: dict[tuple[str, int], int] = field(default_factory=dict)

    def record(self, facts: Sequence[Fact]) -> None:
        self.facts += facts
        after = advance(self.progress, facts)
        assert after is not None
        self.progress = after
        incident = apply(self.incident, facts)
        assert incident is not None
        self.incident = incident

    def fact(self, type_: EventType, payload: dict[str, Any]) -> Fact:
        return Fact(self.incident.id, type_, payload, self.now)

    def start_level(self, level: int, repeat: int, due: datetime) -> None:
        policy = self.progress.policy
        directory = self.directory.advanced(self.turns)
        found = reach(policy.key, level, policy.levels[level], directory, due)
        common = {"level": level, "repeat": repeat, "due_at": isoformat(due)}
        common["at"] = isoformat(self.now)
        if not found.recipients:
            reason = f"escalation failed at level {level + 1}: nobody available"
            details = list(found.reasons)
            self.record(
                [
                    self.fact(
                        EventType.ESCALATION_LEVEL_EMPTY,
                        common | {"reason": reason, "details": details},
                    )
                ]
            )
            return
        payload = common | {
            "recipients": [r.to_dict() for r in found.recipients],
            "round_robin": found.round_robin,
            "urgent": policy.levels[level].urgent,
            "skipped": list(found.reasons),
        }
        if found.round_robin is not None:
            self.turns[(policy.key, level)] = int(found.round_robin["index"]) + 1
        self.record([self.fact(EventType.ESCALATION_LEVEL_STARTED, payload)])
        self.deliveries += [
            Delivery(
                key=self.progress.delivery_key(self.incident.id, level, repeat, r.member),
                level=level,
                repeat=repeat,
                recipient=r.member,
                urgent=policy.levels[level].urgent,
                drill=self.incident.drill,
                incident=self.incident.id,
                via=r.via,
            )
            for r in found.recipients
        ]

    def retrigger(self, reason: str, due: datetime, *, from_start: bool) -> None:
        p = self.progress
        level, repeat = (0, 0) if from_start or p.level is None else (p.level, p.repeat)
        payload = {"reason": reason, "level": level, "repeat": repeat, "due_at": isoformat(due)}
        self.record(
            [self.fact(EventType.ESCALATION_RETRIGGERED, payload | {"at": isoformat(self.now)})]
        )
        self.start_level(level, repeat, due)

    def take_step(self, due: datetime) -> None:
        p, incident = self.progress, self.incident
        if p.jump is not None:
            self.start_level(p.jump.level, p.jump.repeat, due)
        elif incident.state is IncidentState.ACKNOWLEDGED:
            self._ack_timed_out(due)
        elif p.restart_at is not None:
            reason = "reopened" if p.restart_from_start else "acknowledgement withdrawn"
            self.retrigger(reason, due, from_start=p.restart_from_start)
        else:
            self._next_level(due)

    def _ack_timed_out(self, due: datetime) -> None:
        timeout = self.progress.policy.ack_timeout
        assert timeout is not None
        minutes = int(timeout.total_seconds() // 60)
        reason = f"not resolved {minutes} min after it was acknowledged"
        payload = {
            "by": ACTOR,
            "at": isoformat(due),
            "reason": reason,
            "acknowledged_by": self.incident.acknowledged_by,
        }
        self.record([self.fact(EventType.INCIDENT_UNACKNOWLEDGED, payload)])
        self.retrigger(reason, due, from_start=False)

    def _next_level(self, due: datetime) -> None:
        p = self.progress
        if p.level is None:
            self.start_level(0, 0, due)
        elif p.level + 1 < len(p.policy.levels):
            self.start_level(p.level + 1, p.repeat, due)
        elif p.repeat < p.policy.repeat:
            self.start_level(0, p.repeat + 1, due)
        else:
            payload = {"repeats": p.repeat, "due_at": isoformat(due), "at": isoformat(self.now)}
            self.record([self.fact(EventType.ESCALATION_EXHAUSTED, payload)])


def plan(
    progress: EscalationProgress | None, incident: Incident, directory: Directory, now: datetime
) -> Plan:
    """Every escalation step of one incident that is due at ``now``, in order.

    Args:
        progress: The escalation so far (None: the incident has no policy; nothing to do).
        incident: The incident as its timeline made it.
        directory: Teams, schedules, absences and round-robin turns.
        now: The current time.

    Returns:
        The facts to record and deliveries to make (none when nothing is due), and the next
        due instant after them.
    """
    if progress is None:
        return Plan()
    state = _Planning(progress, incident, directory, now)
    for _ in range(_MAX_STEPS):
        due = next_due(state.progress, state.incident)
        if due is None or due > now:
            break
        state.take_step(due)
    return Plan(
        tuple(state.facts),
        tuple(state.deliveries),
        next_due(state.progress, state.incident),
        dict(state.turns),
    )


def escalate_now(
    progress: EscalationProgress | None,
    incident: Incident,
    by: str,
    *,
    at: datetime | None = None,
) -> list[Fact]:
    """Jump to the next level now (the next loop after the last level, while loops remain).

    The fact only asks for the jump; the next `plan` carries it out at once (it resolves the
    recipients), so the store sets ``next_due_at`` to ``at``. Works on an acknowledged or
    snoozed incident too: asking for more help is always allowed while it is open.

    Args:
        progress: The escalation so far.
        incident: The incident.
        by: Who asks.
        at: When (pass the store's clock; the system clock when left out).

    Raises:
        EscalationError: The incident is resolved, has no escalation, or is at its very last
            step already.
    """
    if progress is None:
        raise EscalationError(f"{incident.ref} has no escalation policy")
    if not incident.is_open:
        raise EscalationError(f"{incident.ref} is resolved: there is nobody left to escalate to")
    levels = progress.policy.levels
    at = at if at is not None else datetime.now(UTC)
    current = -1 if progress.level is None else progress.level
    repeat = progress.repeat
    if progress.jump is not None:
        current, repeat = progress.jump.level, progress.jump.repeat
    to_level, to_repeat = current + 1, repeat
    if to_level >= len(levels):
        if repeat >= progress.policy.repeat:
            raise EscalationError(f"{incident.ref} is at the last level of its last loop")
        to_level, to_repeat = 0, repeat + 1
    payload = {
        "by": by,
        "from_level": None if current < 0 else current,
        "to_level": to_level,
        "repeat": to_repeat,
        "at": isoformat(at),
    }
    return [Fact(incident.id, EventType.ESCALATION_ESCALATED_NOW, payload, at)]
