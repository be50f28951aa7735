"""Drills: a rehearsal of a runbook's scenario that pages people for real, and its report.

A drill is an incident with ``drill`` set: opened from a runbook (title ``DRILL: <runbook
title>``, the scenario as its summary, severity critical so that it pages), routed, escalated
and delivered like any other, marked DRILL on every channel. Two facts of its own sit on the
subject ``drill:<incident id>``: ``drill.started`` (runbook, service, by) and ``drill.ended``
(by, and the report as it stood).

The report is a function of the incident's timeline alone: how long until somebody
acknowledged (and who, for whom, how), and per escalation level whom it reached through which
channel with what delivery status. Readiness reads it to see who has taken part in a drill and
which runbooks were rehearsed. Drills are kept out of response metrics: `response_incidents`
is the one filter every aggregation of durations goes through.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from console.core.clock import isoformat, parse_iso
from console.core.enums import Severity
from console.core.errors import ConsoleError, Problem, ValidationError
from console.core.escalator import NotificationStatus
from console.core.events import Event, EventType
from console.core.incident_rules import human
from console.core.incidents import Incident, Timestamps, replay
from console.core.models import Runbook
from console.core.readiness import Drill
from console.core.signals import Signal, SignalSource
from console.core.timeline_text import duration_words, via_words

TITLE_PREFIX = "DRILL: "
#: The note of the resolution that ends a drill.
ENDED_NOTE = "drill ended"
SUBJECT_PREFIX = "drill:"


class DrillError(ConsoleError):
    """A drill command that cannot be carried out (not a drill, already ended)."""


class DrillState(Enum):
    """Whether a drill is still going on."""

    RUNNING = "running"
    ENDED = "ended"


def subject(incident_id: str) -> str:
    """The event-log subject of a drill's own facts."""
    return f"{SUBJECT_PREFIX}{incident_id}"


def response_incidents(incidents: Iterable[Incident]) -> list[Incident]:
    """The incidents response metrics are computed over: every one that is not a drill.

    A drill's times say how a rehearsal went, not how the teams respond to real trouble: a
    median time to acknowledge, a count of incidents per service, any report of durations
    must take its incidents from here.
    """
    return [i for i in incidents if not i.drill]


# -- starting -------------------------------------------------------------------------------


def drill_service(runbook: Runbook, service: str | None, known: Iterable[str]) -> str:
    """The service a drill of ``runbook`` runs on: the one given, else the runbook's first.

    Raises:
        ValidationError: No service given and the runbook covers none, or an unknown service.
    """
    chosen = service.strip() if service is not None else None
    if not chosen:
        if not runbook.services:
            raise ValidationError(
                [
                    Problem(
                        "service",
                        f"runbook {runbook.key!r} covers no service: give one with --service",
                    )
                ]
            )
        chosen = runbook.services[0]
    if chosen not in set(known):
        raise ValidationError([Problem("service", f"unknown service {chosen!r}")])
    return chosen


def drill_signal(runbook: Runbook, service: str, *, key: str, now: datetime, by: str) -> Signal:
    """The signal that opens a drill incident.

    Its dedup key is unique (``drill:<key>``), so a drill is never folded into another
    incident; critical, so that its priority pages.

    Args:
        runbook: The runbook whose scenario is rehearsed.
        service: The service it runs on (`drill_service`).
        key: A unique key (a fresh event id).
        now: When it starts.
        by: Who starts it (the incident's reporter).
    """
    return Signal(
        source=SignalSource.MANUAL,
        dedup_key=f"drill:{key}",
        title=f"{TITLE_PREFIX}{runbook.title}",
        severity=Severity.CRITICAL,
        started_at=now,
        service=service,
        summary=runbook.scenario,
        labels=(("drill", "true"), ("runbook", runbook.key)),
        reporter=by,
        drill=True,
    )


def started_payload(runbook: Runbook, service: str, by: str, incident: Incident) -> dict[str, Any]:
    """The payload of ``drill.started``."""
    return {
        "incident": incident.id,
        "number": incident.number,
        "runbook": runbook.key,
        "runbook_title": runbook.title,
        "service": service,
        "by": by,
    }


# -- the report -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelOutcome:
    """How a page to one member went through one channel (its latest attempt).

    Attributes:
        channel: ``email``, ``webhook:<key>``, or ``none`` when no channel reached them.
        status: The latest status of the attempt.
        attempts: How many tries it took so far.
        error: What went wrong, for a failed or unknown attempt.
    """

    channel: str
    status: NotificationStatus
    attempts: int = 1
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    """A member a level paged, the target that reached them, and every channel's outcome."""

    member: str
    via: str
    channels: tuple[ChannelOutcome, ...] = ()

    @property
    def reached(self) -> bool:
        """At least one channel delivered the page."""
        return any(c.status is NotificationStatus.SENT for c in self.channels)


@dataclass(frozen=True, slots=True)
class LevelReport:
    """One level of the escalation as the drill went through it.

    Attributes:
        level: The level (0-based, as in payloads).
        repeat: The loop (0-based).
        at: When it started.
        contacts: Whom it paged.
        empty: The reason when it reached nobody ("escalation failed at level N...").
    """

    level: int
    repeat: int
    at: datetime
    contacts: tuple[Contact, ...] = ()
    empty: str | None = None

    @property
    def name(self) -> str:
        """``level 2``, with the loop after the first: ``level 1 (loop 2)``."""
        loop = f" (loop {self.repeat + 1})" if self.repeat else ""
        return f"level {self.level + 1}{loop}"


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """The first acknowledgement of the drill.

    Attributes:
        at: When.
        by: Who recorded it at a console.
        on_behalf_of: Who really answered, when somebody recorded it for them.
        via: How they answered (phone, sms...), when recorded for them.
    """

    at: datetime
    by: str | None
    on_behalf_of: str | None = None
    via: str | None = None

    @property
    def who(self) -> str | None:
        """Who answered: the person acknowledged for, else whoever acknowledged."""
        return self.on_behalf_of or self.by


@dataclass(frozen=True, slots=True)
class DrillReport:
    """How a drill went, from its timeline.

    Attributes:
        incident: The incident's id.
        ref: Its human name (INC-42).
        title: Its title.
        runbook: The runbook rehearsed (None for a drill incident opened some other way).
        service: The service it ran on.
        started_at: When it started (the incident's detection).
        started_by: Who started it.
        state: Running or ended.
        ended_at: When it ended.
        ended_by: Who ended it.
        acknowledgement: The first acknowledgement, if anybody acknowledged.
        levels: Each escalation level it went through, in order.
    """

    incident: str
    ref: str
    title: str
    runbook: str | None
    service: str | None
    started_at: datetime
    started_by: str | None
    state: DrillState = DrillState.RUNNING
    ended_at: datetime | None = None
    ended_by: str | None = None
    acknowledgement: Acknowledgement | None = None
    levels: tuple[LevelReport, ...] = ()

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        """From the start to the first acknowledgement (None: nobody acknowledged)."""
        ack = self.acknowledgement
        at = None if ack is None else ack.at
        return Timestamps(self.started_at, self.started_at, at).durations.to_acknowledge

    @property
    def reached(self) -> tuple[str, ...]:
        """The members at least one page was delivered to, in the order they were paged."""
        found = (c.member for lvl in self.levels for c in lvl.contacts if c.reached)
        return tuple(dict.fromkeys(found))

    @property
    def participants(self) -> tuple[str, ...]:
        """Everyone who took part: reached by a page, or who acknowledged."""
        ack = self.acknowledgement
        answered = () if ack is None else (ack.on_behalf_of, ack.by)
        found = (*self.reached, *(w for w in answered if w))
        return tuple(dict.fromkeys(found))

    def readiness_drill(self) -> Drill:
        """The drill as the readiness report counts it."""
        return Drill(self.runbook, self.started_at, self.participants)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-able data (``drill.ended``'s ``report``, ``--json``).

        Levels and loops are counted from 1 here, as people read them.
        """
        took = self.time_to_acknowledge
        ack = self.acknowledgement
        return {
            "incident": self.incident,
            "ref": self.ref,
            "title": self.title,
            "runbook": self.runbook,
            "service": self.service,
            "state": self.state.value,
            "started_at": isoformat(self.started_at),
            "started_by": self.started_by,
            "ended_at": None if self.ended_at is None else isoformat(self.ended_at),
            "ended_by": self.ended_by,
            "time_to_acknowledge_s": None if took is None else took.total_seconds(),
            "acknowledged": None if ack is None else _ack_dict(ack),
            "levels": [_level_dict(lvl) for lvl in self.levels],
            "reached": list(self.reached),
            "participants": list(self.participants),
        }


def _ack_dict(ack: Acknowledgement) -> dict[str, Any]:
    return {"at": isoformat(ack.at), "by": ack.by, "on_behalf_of": ack.on_behalf_of, "via": ack.via}


def _level_dict(level: LevelReport) -> dict[str, Any]:
    return {
        "level": level.level + 1,
        "repeat": level.repeat + 1,
        "at": isoformat(level.at),
        "empty": level.empty,
        "contacts": [
            {
                "member": c.member,
                "via": c.via,
                "reached": c.reached,
                "channels": [
                    {
                        "channel": o.channel,
                        "status": o.status.value,
                        "attempts": o.attempts,
                        "error": o.error,
                    }
                    for o in c.channels
                ],
            }
            for c in level.contacts
        ],
    }


# -- computing it from the timeline ---------------------------------------------------------


@dataclass
class _Walk:
    """The levels met so far, and the latest attempt of each (key, channel)."""

    levels: list[LevelReport] = field(default_factory=list)
    outcomes: dict[tuple[str, str], tuple[int, str, ChannelOutcome]] = field(default_factory=dict)
    ack: Acknowledgement | None = None

    def level(self, payload: Mapping[str, Any], at: datetime, empty: str | None) -> None:
        contacts = tuple(
            Contact(str(r["member"]), str(r.get("via", "member")))
            for r in payload.get("recipients") or ()
        )
        when = parse_iso(payload["due_at"]) if payload.get("due_at") else at
        self.levels.append(
            LevelReport(int(payload["level"]), int(payload["repeat"]), when, contacts, empty)
        )

    def issued(self, payload: Mapping[str, Any]) -> None:
        key, channel = str(payload["key"]), str(payload["channel"])
        before = self.outcomes.get((key, channel))
        attempts = int(payload.get("attempt") or 1)
        if before is not None:
            attempts = max(attempts, before[2].attempts)
        outcome = ChannelOutcome(
            channel, NotificationStatus(payload["status"]), attempts, payload.get("error")
        )
        # The level a page belongs to: the latest of its level and loop that paged this member.
        index = self._level_of(int(payload["level"]), int(payload["repeat"]), payload["recipient"])
        self.outcomes[(key, channel)] = (index, str(payload["recipient"]), outcome)

    def _level_of(self, level: int, repeat: int, member: str) -> int:
        for index in range(len(self.levels) - 1, -1, -1):
            found = self.levels[index]
            if (found.level, found.repeat) == (level, repeat) and any(
                c.member == member for c in found.contacts
            ):
                return index
        return -1

    def acknowledged(self, payload: Mapping[str, Any], at: datetime) -> None:
        if self.ack is not None:
            return  # the first acknowledgement is the one that counts
        when = parse_iso(payload["at"]) if payload.get("at") else at
        self.ack = Acknowledgement(
            when, payload.get("by"), payload.get("on_behalf_of"), payload.get("via")
        )

    def result(self) -> tuple[LevelReport, ...]:
        levels = list(self.levels)
        for index, member, outcome in self.outcomes.values():
            if index < 0:
                continue
            contacts = tuple(
                replace(c, channels=(*c.channels, outcome)) if c.member == member else c
                for c in levels[index].contacts
            )
            levels[index] = replace(levels[index], contacts=contacts)
        return tuple(levels)


def _walk(timeline: Iterable[Event]) -> _Walk:
    walk = _Walk()
    for event in timeline:
        if event.type is EventType.ESCALATION_LEVEL_STARTED:
            walk.level(event.payload, event.event_time, None)
        elif event.type is EventType.ESCALATION_LEVEL_EMPTY:
            walk.level(event.payload, event.event_time, str(event.payload.get("reason") or ""))
        elif event.type is EventType.NOTIFICATION_ISSUED:
            walk.issued(event.payload)
        elif event.type is EventType.INCIDENT_ACKNOWLEDGED:
            walk.acknowledged(event.payload, event.event_time)
    return walk


def drill_report(timeline: Sequence[Event], drill_events: Iterable[Event] = ()) -> DrillReport:
    """The report of a drill from its incident's timeline and its own ``drill.*`` facts.

    Args:
        timeline: The incident's events (subject ``incident:<id>``), oldest first.
        drill_events: The drill's own events (subject ``drill:<id>``), oldest first.

    Raises:
        DrillError: The timeline holds no incident, or the incident is not a drill.
    """
    incident = replay((e.type, e.payload, e.event_time) for e in timeline)
    if incident is None:
        raise DrillError("the timeline holds no incident")
    if not incident.drill:
        raise DrillError(f"{incident.ref} is not a drill")
    started: Mapping[str, Any] = {}
    ended: Event | None = None
    for event in drill_events:
        if event.type is EventType.DRILL_STARTED and not started:
            started = event.payload
        elif event.type is EventType.DRILL_ENDED and ended is None:
            ended = event
    walk = _walk(timeline)
    return DrillReport(
        incident=incident.id,
        ref=incident.ref,
        title=incident.title,
        runbook=started.get("runbook"),
        service=started.get("service", incident.service),
        started_at=incident.detected_at,
        started_by=started.get("by", incident.reporter),
        state=DrillState.RUNNING if ended is None else DrillState.ENDED,
        ended_at=None if ended is None else ended.event_time,
        ended_by=None if ended is None else ended.payload.get("by", ended.actor),
        acknowledgement=walk.ack,
        levels=walk.result(),
    )


def ended_payload(report: DrillReport, by: str) -> dict[str, Any]:
    """The payload of ``drill.ended``: who ended it, and the report as it stood then."""
    return {"by": by, "report": report.to_dict()}


# -- in words -------------------------------------------------------------------------------


def _ack_line(report: DrillReport, names: Mapping[str, str]) -> str:
    ack = report.acknowledgement
    took = report.time_to_acknowledge
    if ack is None or took is None:
        return "nobody acknowledged it"
    who = names.get(ack.by or "", ack.by or "someone")
    text = f"{human(ack.at)} by {who}"
    if ack.on_behalf_of:
        text += f" on behalf of {names.get(ack.on_behalf_of, ack.on_behalf_of)}"
        if ack.via:
            text += f" ({ack.via})"
    return f"{text}, {duration_words(took)} after it started"


def _contact_line(contact: Contact, names: Mapping[str, str]) -> str:
    name = names.get(contact.member, contact.member)
    how = "" if contact.via == "member" else f" ({via_words(contact.via, names)})"
    if not contact.channels:
        return f"{name}{how}: no delivery recorded yet"
    outcomes = ", ".join(
        f"{o.channel} {o.status.value}" + (f" ({o.error})" if o.error else "")
        for o in contact.channels
    )
    return f"{name}{how}: {outcomes}"


def report_lines(report: DrillReport, names: Mapping[str, str] | None = None) -> list[str]:
    """The report as lines people read (the CLI prints them; ``names``: key -> name)."""
    known = names or {}
    runbook = report.runbook or "no runbook"
    lines = [
        f"{report.ref}: {report.title} ({report.state.value})",
        f"runbook:      {runbook}, service {report.service or 'not known'}",
        f"started:      {human(report.started_at)} by {report.started_by or 'someone'}",
        f"acknowledged: {_ack_line(report, known)}",
    ]
    if report.ended_at is not None:
        lines.append(f"ended:        {human(report.ended_at)} by {report.ended_by or 'someone'}")
    if not report.levels:
        lines.append("escalation:   no level started (no policy, or the engine has not run yet)")
    for level in report.levels:
        if level.empty is not None:
            lines.append(f"{level.name}: {level.empty}")
            continue
        lines.append(f"{level.name} at {human(level.at)}:")
        lines += [f"  {_contact_line(c, known)}" for c in level.contacts]
    return lines
