"""Compare a declared estate with the stored one: what an import would change."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from console.core import codec
from console.core.alerting_config import AlertingConfig
from console.core.delivery_codec import delivery_to_dict
from console.core.enums import EntityKind
from console.core.escalation_codec import policy_to_dict
from console.core.models import Estate, Service
from console.core.notices import DeliveryConfig
from console.core.routing import routing_to_dict
from console.core.schedule_codec import schedule_to_dict, unavailability_to_dict
from console.core.silences import silence_to_dict


class Setting(Enum):
    """Configuration held as one value, not as keyed entities; its key is fixed."""

    ROUTING = "routing"  # key "inbound"
    INCIDENT_SETTINGS = "incident_settings"  # key "incidents"
    DELIVERY = "delivery"  # key "delivery"


@dataclass(frozen=True, slots=True)
class Change:
    """One entity (or setting) to create, update or delete; before/after are codec dicts."""

    kind: EntityKind | Setting
    key: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def verb(self) -> str:
        """'create', 'update' or 'delete'."""
        if self.before is None:
            return "create"
        return "delete" if self.after is None else "update"


_ENCODERS: tuple[
    tuple[EntityKind, str, Callable[[Any], dict[str, Any]], Callable[[Any], str]], ...
] = (
    (EntityKind.MEMBER, "members", codec.member_to_dict, lambda m: m.email),
    (EntityKind.TEAM, "teams", codec.team_to_dict, lambda t: t.key),
    (EntityKind.SERVICE, "services", codec.service_to_dict, lambda s: s.key),
    (EntityKind.ENDPOINT, "endpoints", codec.endpoint_to_dict, lambda e: e.key),
    (EntityKind.RUNBOOK, "runbooks", codec.runbook_to_dict, lambda r: r.key),
    (EntityKind.RESOURCE, "resources", codec.resource_to_dict, lambda r: r.key),
    (EntityKind.SILENCE, "silences", silence_to_dict, lambda s: s.key),
    (EntityKind.SCHEDULE, "schedules", schedule_to_dict, lambda s: s.key),
    (EntityKind.UNAVAILABILITY, "unavailability", unavailability_to_dict, lambda u: u.key),
    (EntityKind.ESCALATION_POLICY, "escalation_policies", policy_to_dict, lambda p: p.key),
)


def plan(current: Estate, declared: Estate, *, prune: bool) -> list[Change]:
    """Changes that make the store hold what is declared.

    Creates and updates come in dependency order (members, teams, services, endpoints,
    runbooks, resources, silences), then the alerting settings (their routes name teams
    created above and no longer name teams deleted below); deletions, only with ``prune``,
    come last and in reverse order. Without an ``alerting`` section the stored routes and
    settings are kept, or with ``prune`` reset to the defaults.
    """
    upserts: list[Change] = []
    deletes: list[Change] = []
    for kind, attr, encode, key_of in _ENCODERS:
        have = {key_of(x): encode(x) for x in getattr(current, attr)}
        want: Sequence[Any] = _dependencies_first(getattr(declared, attr))
        for item in want:
            after = encode(item)
            before = have.get(key_of(item))
            if before != after:
                upserts.append(Change(kind, key_of(item), before, after))
        if prune:
            wanted = {key_of(x) for x in want}
            stored = _dependencies_first(sorted(getattr(current, attr), key=key_of))
            deletes += [
                Change(kind, key_of(x), have[key_of(x)], None)
                for x in stored
                if key_of(x) not in wanted
            ]
    return upserts + _setting_changes(current, declared, prune=prune) + deletes[::-1]


def _setting_changes(current: Estate, declared: Estate, *, prune: bool) -> list[Change]:
    return _alerting_changes(current, declared, prune=prune) + _delivery_changes(
        current, declared, prune=prune
    )


def _delivery_changes(current: Estate, declared: Estate, *, prune: bool) -> list[Change]:
    """The ``delivery`` section: kept when a file leaves it out, unless pruning."""
    if declared.delivery is None and not prune:
        return []
    have = delivery_to_dict(current.delivery or DeliveryConfig())
    want = delivery_to_dict(declared.delivery or DeliveryConfig())
    return [] if have == want else [Change(Setting.DELIVERY, "delivery", have, want)]


def _alerting_changes(current: Estate, declared: Estate, *, prune: bool) -> list[Change]:
    if declared.alerting is None and not prune:
        return []
    want = declared.alerting or AlertingConfig()
    have = current.alerting or AlertingConfig()
    pairs = (
        (Setting.ROUTING, "inbound", routing_to_dict(have.routing), routing_to_dict(want.routing)),
        (Setting.INCIDENT_SETTINGS, "incidents", have.settings.to_dict(), want.settings.to_dict()),
    )
    return [Change(kind, key, old, new) for kind, key, old, new in pairs if old != new]


def _dependencies_first(items: Sequence[Any]) -> list[Any]:
    """Services after the services they depend on; anything else keeps its order.

    The store checks references at once, so a service cannot be written before a service
    it depends on (nor deleted after it: deletions run this order backwards).
    """
    if not items or not isinstance(items[0], Service):
        return list(items)
    keys = {s.key for s in items}
    placed: set[str] = set()
    pending: list[Service] = list(items)
    out: list[Service] = []
    while pending:
        ready = [s for s in pending if all(d in placed or d not in keys for d in s.depends_on)]
        # A cycle (which validation reports) leaves nothing ready: keep the given order.
        for s in ready or pending:
            out.append(s)
            placed.add(s.key)
        pending = [s for s in pending if s.key not in placed]
    return out
