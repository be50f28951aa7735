"""Escalation in the engine: each tick plans the incidents that are due and delivers their pages.

A tick reads only the incidents whose ``next_due_at`` has come (`incident_queries.due`), folds
each one's timeline, asks the pure planner (`console.core.escalator.plan`) what is due, and in
the same transaction records the plan's facts, one ``notification.issued`` fact with status
``pending`` for every channel that reaches every recipient (before anything is sent), and the
new ``next_due_at``. Only then are the notices sent, each through its channel with retries and
backoff, off the tick (a slow mail server never holds up the next incident); every attempt and
its result becomes another ``notification.issued`` fact (``sent``, ``failed``, or ``pending``
again for a retry).

A recipient no channel reaches (no email server, no webhook for their team) gets a ``failed``
attempt through channel ``none`` saying so, so the timeline and the post-mortem show that the
page went nowhere.

After a crash or a restart, `Escalator.recover` finds every attempt whose outcome was never
recorded (``pending``: the process died between recording and hearing back), records it
``unknown`` and sends it again with the same idempotency key (the email's Message-ID, the
Matrix txnId, the webhook's Idempotency-Key), marked ``resend``. Steps that fell due while the
engine was down are planned by the first tick, each at its own due time: none is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from sqlite_utils import Database

from console.core.clock import Clock, isoformat
from console.core.escalator import Attempt, Delivery, NotificationStatus, issued, plan
from console.core.events import EventType
from console.core.incidents import Fact, Incident
from console.core.models import Member
from console.core.notices import (
    ChannelKind,
    ChannelRef,
    DeliveryConfig,
    Notice,
    Recipient,
    notice_for,
)
from console.delivery.outcome import DeliveryStatus, Outcome
from console.delivery.retry import BACKOFF, deliver
from console.store import delivery as stored_delivery
from console.store import escalations, estate
from console.store import incident_rows as rows
from console.store.db import Store
from console.store.incident_queries import due

log = logging.getLogger(__name__)

#: How often the escalator looks for due incidents.
TICK_S = 1.0
#: The channel name recorded when nothing reaches a recipient.
NO_CHANNEL = "none"


class ChannelSet(Protocol):
    """What the escalator sends through (``console.delivery.channels.Channels``)."""

    def reaching(
        self, recipient: Recipient, team: str | None, urgent: bool
    ) -> tuple[ChannelRef, ...]:
        """The channels that reach ``recipient``."""
        ...

    async def send(self, ref: ChannelRef, notice: Notice) -> Outcome:
        """Send through one channel."""
        ...


#: Builds the channels for a delivery configuration (None: nothing configured).
ChannelFactory = Callable[[DeliveryConfig | None], ChannelSet]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Send:
    """One notice to send through one channel, already recorded as pending."""

    delivery: Delivery
    channel: ChannelRef
    notice: Notice

    @property
    def incident(self) -> str:
        """The incident's id."""
        return self.delivery.incident


@dataclass(slots=True)
class TickReport:
    """What one tick did (for tests and the benchmark)."""

    incidents: int = 0
    facts: int = 0
    sends: list[Send] = field(default_factory=list)


def _noted(fact: Fact, **extra: Any) -> Fact:
    """``fact`` with more payload (how a recipient was reached, an outcome's detail)."""
    return replace(fact, payload={**fact.payload, **extra})


class Escalator:
    """Plans due escalations every tick and delivers their notices.

    Args:
        store: The store (the engine holds its lock: only one escalator runs per store).
        clock: The time.
        channels: Builds the delivery channels from the stored ``delivery`` configuration.
        attempts: Tries per notice and channel (transient failures only are retried).
        backoff: Seconds before the 2nd, 3rd... try.
        sleep: Waits between tries (tests pass one that does not really wait).
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        channels: ChannelFactory,
        *,
        attempts: int = 4,
        backoff: Sequence[float] = BACKOFF,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._store = store
        self._clock = clock
        self._factory = channels
        self._attempts = attempts
        self._backoff = backoff
        self._sleep = sleep
        self._channels: ChannelSet | None = None
        self._config: DeliveryConfig | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        #: Notices sent so far (accepted by the receiving side), for status displays and tests.
        self.delivered = 0

    # -- the loop ----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, every_s: float = TICK_S) -> None:
        """Recover unsettled attempts, then tick until ``stop``; in-flight sends are cancelled.

        A send cancelled at shutdown stays ``pending`` on the timeline: the next start re-sends
        it (with the same key) and marks it ``unknown``.
        """
        await self.recover()
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:  # a store error must not end escalation: log it, try next tick
                log.exception("escalation tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)
        await self.close()

    async def close(self) -> None:
        """Cancel the sends still in flight."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def drain(self) -> None:
        """Wait for every send in flight to finish (tests, and a clean stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def tick(self) -> TickReport:
        """Plan every due incident, record the plans and pending attempts, start the sends."""
        report = await asyncio.to_thread(self._plan_due)
        for send in report.sends:
            self._spawn(send)
        return report

    async def recover(self) -> list[Send]:
        """Re-send every attempt whose outcome was never recorded, with the same key."""
        sends = await asyncio.to_thread(self._unsettled)
        for send in sends:
            self._spawn(send)
        return sends

    def _spawn(self, send: Send) -> None:
        task = asyncio.create_task(self._deliver(send))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- planning (worker thread) --------------------------------------------------------------

    def _refresh_channels(self, db: Database) -> ChannelSet:
        config = stored_delivery.config(db)
        if self._channels is None or config != self._config:
            self._channels, self._config = self._factory(config), config
        return self._channels

    def _plan_due(self) -> TickReport:
        report = TickReport()
        # Most ticks find nothing due: ask on a read connection before taking the writer.
        if not _any_due(self._store.read(), self._clock.now()):
            return report
        with self._store.transaction() as db:
            now = self._clock.now()
            found = due(db, now)
            if not found:
                return report
            channels = self._refresh_channels(db)
            directory = escalations.directory(db, now)
            members = {m.email: m for m in estate.members(db)}
            for incident in found:
                planned = plan(escalations.progress(db, incident.id), incident, directory, now)
                if planned.turns:
                    directory = directory.advanced(planned.turns)
                pending, sends = self._pending(incident, planned.deliveries, channels, members, now)
                facts = (*planned.facts, *pending)
                escalations.apply_plan(
                    self._store, incident.id, replace(planned, facts=facts), db=db
                )
                report.incidents += 1
                report.facts += len(facts)
                report.sends += sends
        return report

    def _pending(
        self,
        incident: Incident,
        deliveries: Sequence[Delivery],
        channels: ChannelSet,
        members: Mapping[str, Member],
        now: datetime,
    ) -> tuple[list[Fact], list[Send]]:
        facts: list[Fact] = []
        sends: list[Send] = []
        for d in deliveries:
            member = members.get(d.recipient)
            recipient = (
                Recipient.from_member(member)
                if member is not None
                else Recipient(d.recipient, d.recipient, None, ())
            )
            refs = channels.reaching(recipient, incident.team, d.urgent)
            if not refs:
                why = "no channel reaches this member (no email server, no webhook for the team)"
                facts.append(issued(d, NO_CHANNEL, NotificationStatus.FAILED, now, error=why))
                continue
            notice = notice_for(
                incident, recipient, key=d.key, level=d.level + 1, repeat=d.repeat,
                urgent=d.urgent, at=now,
            )  # fmt: skip
            for ref in refs:
                pending = issued(d, ref.label, NotificationStatus.PENDING, now)
                facts.append(_noted(pending, via=d.via))
                sends.append(Send(d, ref, notice))
        return facts, sends

    def _unsettled(self) -> list[Send]:
        out: list[Send] = []
        with self._store.transaction() as db:
            now = self._clock.now()
            channels = self._refresh_channels(db)
            members = {m.email: m for m in estate.members(db)}
            for incident in _with_attempts(db):
                progress = escalations.progress(db, incident.id)
                if progress is None:
                    continue
                facts, sends = self._resends(incident, progress.unsettled(), channels, members, now)
                if facts:
                    escalations.record(self._store, incident.id, facts, db=db)
                out += sends
        return out

    def _resends(
        self,
        incident: Incident,
        attempts: Sequence[Attempt],
        channels: ChannelSet,
        members: Mapping[str, Member],
        now: datetime,
    ) -> tuple[list[Fact], list[Send]]:
        facts: list[Fact] = []
        sends: list[Send] = []
        for a in attempts:
            ref = _channel_ref(a.channel)
            member = members.get(a.recipient)
            if ref is None or member is None:
                continue
            d = Delivery(
                a.key, a.level, a.repeat, a.recipient, False, a.drill, incident.id, "member"
            )
            facts.append(
                issued(d, a.channel, NotificationStatus.UNKNOWN, now, attempt=a.attempt,
                       resend=True, error="the outcome was never recorded: sent again")
            )  # fmt: skip
            notice = notice_for(
                incident, Recipient.from_member(member), key=a.key, level=a.level + 1,
                repeat=a.repeat, urgent=False, at=now, resend=True,
            )  # fmt: skip
            sends.append(Send(d, ref, notice))
        return facts, sends

    # -- delivering (event loop) ---------------------------------------------------------------

    async def _deliver(self, send: Send) -> None:
        """Send with retries; each attempt's result is recorded before the next one starts.

        A transient failure is recorded ``pending`` with its error (another try is coming:
        should the process die during the backoff, the next start re-sends it); the last one
        and any permanent failure ``failed``; success ``sent``.
        """
        channels = self._channels
        assert channels is not None  # set by the tick that planned the send
        tries = 0

        async def attempt(notice: Notice) -> Outcome:
            nonlocal tries
            tries += 1
            outcome = await channels.send(send.channel, notice)
            status = {
                DeliveryStatus.SENT: NotificationStatus.SENT,
                DeliveryStatus.FAILED: NotificationStatus.FAILED,
                DeliveryStatus.RETRY: NotificationStatus.PENDING,
            }[outcome.status]
            if status is NotificationStatus.PENDING and tries >= self._attempts:
                status = NotificationStatus.FAILED
            await asyncio.to_thread(self._record_attempt, send, tries, status, outcome)
            return outcome

        outcome = await deliver(
            attempt,
            send.notice,
            attempts=self._attempts,
            backoff=self._backoff,
            sleep=self._sleep,
        )
        if outcome.sent:
            self.delivered += 1

    def _record_attempt(
        self, send: Send, number: int, status: NotificationStatus, outcome: Outcome
    ) -> None:
        n = send.notice
        attempt = issued(
            send.delivery, send.channel.label, status, self._clock.now(), attempt=number,
            resend=n.resend, error=None if outcome.sent else outcome.detail,
        )  # fmt: skip
        fact = _noted(attempt, detail=outcome.detail)
        try:
            escalations.record(self._store, send.incident, [fact])
        except Exception:  # recording must not lose the delivery; the next start re-sends
            log.exception("could not record the outcome of %s via %s", n.key, send.channel.label)


def _channel_ref(label: str) -> ChannelRef | None:
    if label == "email":
        return ChannelRef(ChannelKind.EMAIL, "smtp")
    if label.startswith("webhook:"):
        return ChannelRef(ChannelKind.WEBHOOK, label.removeprefix("webhook:"))
    return None


def _any_due(db: Database, now: datetime) -> bool:
    row = db.execute(
        "SELECT 1 FROM incidents WHERE next_due_at IS NOT NULL AND next_due_at <= ? LIMIT 1",
        [isoformat(now)],
    ).fetchone()
    return row is not None


def _with_attempts(db: Database) -> list[Incident]:
    """Open incidents that have delivery attempts on their timelines."""
    subjects = [
        str(r[0])
        for r in db.execute(
            "SELECT DISTINCT subject FROM events WHERE type = ?",
            [EventType.NOTIFICATION_ISSUED.value],
        )
    ]
    found = (rows.by_id(db, s.removeprefix("incident:")) for s in subjects)
    return [i for i in found if i is not None and i.is_open]


def start_escalation(
    store: Store, clock: Clock, channels: ChannelFactory, stop: asyncio.Event
) -> tuple[Escalator, asyncio.Task[None]]:
    """An escalator running until ``stop`` (the engine starts one beside polling)."""
    escalator = Escalator(store, clock, channels)
    return escalator, asyncio.create_task(escalator.run(stop))
