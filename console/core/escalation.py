"""Escalation policies: ordered levels of people to reach until somebody responds.

A policy is a list of levels. Each level waits its ``delay`` (counted from the start of the
previous level; level 0's from the start of the escalation) and then reaches its targets:
members, a whole team, whoever a schedule has on call at that moment, or one member of a team
(or of an explicit list) per incident, in turn. After the last level the whole policy runs
again ``repeat`` more times (at most 9), each loop starting ``loop_wait`` after the last level
began. The policy is snapshotted onto an incident when its escalation starts
(``console.core.escalation_codec``), so editing a policy never changes a running escalation.

A policy is the default for the services and teams it names: a service's own policy first,
then its team's (`policy_for`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

#: The most loops a policy may repeat (PagerDuty's limit).
MAX_REPEAT = 9
#: The wait between loops of a policy whose levels all start at once (delays of 0).
MIN_LOOP_WAIT = timedelta(minutes=1)


class TargetKind(Enum):
    """What a level's target names."""

    MEMBER = "member"
    TEAM = "team"
    SCHEDULE = "schedule"
    ROUND_ROBIN = "round_robin"


@dataclass(frozen=True, slots=True)
class Target:
    """Who a level reaches.

    Attributes:
        kind: A member, a team (all its members), a schedule (whoever is on call then) or a
            round robin (one member per incident, in turn).
        ref: The member's email, the team's key or the schedule's key; for a round robin the
            team whose members take turns, or only a label when ``members`` is given.
        members: For a round robin, an explicit list of emails instead of a team's members.
    """

    kind: TargetKind
    ref: str
    members: tuple[str, ...] = ()

    @property
    def via(self) -> str:
        """How a recipient was reached through this target: ``member``, ``team:sre``..."""
        return "member" if self.kind is TargetKind.MEMBER else f"{self.kind.value}:{self.ref}"

    @property
    def describe(self) -> str:
        """In words: ``member ana@...``, ``schedule payments-primary``."""
        name = self.kind.value.replace("_", " ")
        if self.kind is TargetKind.ROUND_ROBIN and self.members:
            return f"round robin {self.ref} ({', '.join(self.members)})"
        return f"{name} {self.ref}"


@dataclass(frozen=True, slots=True)
class Level:
    """One step of a policy: wait ``delay``, then reach ``targets``.

    Attributes:
        delay: How long after the previous level started (level 0: after the escalation
            started) this level starts.
        targets: Who it reaches; a member named by several targets is reached once.
        urgent: Delivery marks the notifications urgent (high importance, urgent webhooks).
    """

    delay: timedelta
    targets: tuple[Target, ...]
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class Policy:
    """An escalation policy.

    Attributes:
        key: A slug (the YAML ``id``).
        name: Shown to people.
        levels: The levels, in order.
        repeat: How many more times the whole policy runs after its last level (0..9).
        ack_timeout: When set, an acknowledged incident still unresolved this long after its
            acknowledgement is triggered again (off by default).
        services: The services this policy is the default for.
        teams: The teams this policy is the default for (after a service's own policy).
        description: Free text.
        repeat_after: The wait between the start of the last level and the next loop (or the
            end of the escalation); None: the longest level delay (at least a minute).
    """

    key: str
    name: str
    levels: tuple[Level, ...]
    repeat: int = 0
    ack_timeout: timedelta | None = None
    services: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    description: str | None = None
    repeat_after: timedelta | None = None

    @property
    def loop_wait(self) -> timedelta:
        """How long after the last level started the next loop (or exhaustion) comes."""
        if self.repeat_after is not None:
            return self.repeat_after
        longest = max((level.delay for level in self.levels), default=MIN_LOOP_WAIT)
        return max(longest, MIN_LOOP_WAIT)


def policy_for(policies: Iterable[Policy], service: str | None, team: str | None) -> Policy | None:
    """The policy an incident of ``service`` owned by ``team`` escalates by.

    A policy naming the service wins over one naming the team; of several, the first listed.

    Args:
        policies: Every policy there is.
        service: The incident's service, if any.
        team: The incident's team, if any.

    Returns:
        The policy, or None when none applies (the incident does not escalate).
    """
    chosen = tuple(policies)
    if service is not None:
        found = next((p for p in chosen if service in p.services), None)
        if found is not None:
            return found
    if team is not None:
        return next((p for p in chosen if team in p.teams), None)
    return None
