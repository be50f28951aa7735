"""Table models of each configured entity, kept in step with an EstateModel."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject

from console.core.models import Estate, Member, Runbook, Service, SharedResource, Team
from console.ui import labels
from console.ui.estate import EstateModel
from console.ui.models.base import Column, RecordTableModel


class EstateTableModel(RecordTableModel):
    """A RecordTableModel that takes its rows from one section of the estate."""

    def __init__(
        self,
        estate: EstateModel,
        section: Callable[[Estate], Sequence[Any]],
        columns: Sequence[Column],
        key: Callable[[Any], str],
        parent: QObject | None = None,
    ) -> None:
        """Subscribe to ``estate`` and show ``section(estate)``."""
        super().__init__(columns, key, parent)
        self._estate = estate
        self._section = section
        estate.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Take the rows from the estate model again."""
        self.set_records(self._section(self._estate.estate))


def _member_names(estate: EstateModel) -> dict[str, str]:
    return {m.email: m.name for m in estate.estate.members}


def teams_model(estate: EstateModel, parent: QObject | None = None) -> EstateTableModel:
    """Teams: name, discipline, member count."""

    def lead(t: Team) -> str:
        return _member_names(estate).get(t.lead, t.lead) if t.lead else "—"

    columns = [
        Column("Team", lambda t: t.name, tooltip=lambda t: t.key),
        Column("Discipline", lambda t: labels.DISCIPLINE[t.discipline]),
        Column("Lead", lead),
        Column("Members", lambda t: str(len(t.members)), sort=lambda t: len(t.members)),
    ]
    return EstateTableModel(estate, lambda e: e.teams, columns, lambda t: t.key, parent)


def members_model(estate: EstateModel, parent: QObject | None = None) -> EstateTableModel:
    """Members: name, email, time zone."""
    columns = [
        Column("Name", lambda m: m.name),
        Column("Email", lambda m: m.email, stretch=True),
        Column("Time zone", lambda m: m.timezone),
        Column("Discipline", lambda m: labels.DISCIPLINE[m.discipline]),
    ]

    def key(m: Member) -> str:
        return m.email

    return EstateTableModel(estate, lambda e: e.members, columns, key, parent)


def services_model(estate: EstateModel, parent: QObject | None = None) -> EstateTableModel:
    """Services: name, tier, owning team, dependencies."""

    def team(s: Service) -> str:
        names = {t.key: t.name for t in estate.estate.teams}
        return names.get(s.team, s.team)

    columns = [
        Column("Service", lambda s: s.name, tooltip=lambda s: s.key),
        Column("Tier", lambda s: f"Tier {int(s.tier)}", sort=lambda s: int(s.tier)),
        Column("Owner", team),
        Column("Depends on", lambda s: str(len(s.depends_on)), sort=lambda s: len(s.depends_on)),
    ]
    return EstateTableModel(estate, lambda e: e.services, columns, lambda s: s.key, parent)


def _evidence(r: Runbook) -> str:
    return "Destroys evidence" if r.destroys_evidence else ""


def runbooks_model(estate: EstateModel, parent: QObject | None = None) -> EstateTableModel:
    """Runbooks: title, steps, expected time, evidence warning."""
    columns = [
        Column("Runbook", lambda r: r.title, tooltip=lambda r: r.scenario),
        Column("Steps", lambda r: str(len(r.steps)), sort=lambda r: len(r.steps)),
        Column(
            "Time",
            lambda r: labels.minutes(r.expected_minutes),
            sort=lambda r: r.expected_minutes or 0,
        ),
        Column("Evidence", _evidence),
    ]
    return EstateTableModel(estate, lambda e: e.runbooks, columns, lambda r: r.key, parent)


def resources_model(estate: EstateModel, parent: QObject | None = None) -> EstateTableModel:
    """Shared resources: name, kind, who may use them."""

    def users(r: SharedResource) -> str:
        names = {t.key: t.name for t in estate.estate.teams}
        return ", ".join(names.get(k, k) for k in r.who_may_use) or "—"

    columns = [
        Column("Resource", lambda r: r.name, tooltip=lambda r: r.key),
        Column("Kind", lambda r: labels.RESOURCE_KIND[r.kind]),
        Column("Who may use", users, tooltip=users, stretch=True),
    ]
    return EstateTableModel(estate, lambda e: e.resources, columns, lambda r: r.key, parent)
