"""Pages that later work fills: each says plainly what it will hold and that it is not built yet."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from console.ui.theme import Theme
from console.ui.views.page import Page
from console.ui.widgets.common import EmptyState


@dataclass(frozen=True, slots=True)
class Planned:
    """What a page that is not built yet will hold."""

    title: str
    icon_name: str
    subtitle: str
    headline: str
    points: tuple[str, ...]


PLANNED = (
    Planned(
        "Incidents",
        "incidents",
        "Open incidents, newest and worst first, and one workspace per incident.",
        "No incident workspace yet",
        (
            "Open incidents by priority, with who acknowledged and who is working on them",
            "One shared timeline where security and infrastructure see each other's actions",
            "The runbooks and shared resources of the affected services, at hand",
        ),
    ),
    Planned(
        "Monitoring",
        "monitoring",
        "Endpoints and metrics against their agreed deviation thresholds.",
        "Monitoring is not connected yet",
        (
            "HTTP, TCP, Prometheus, Nagios-plugin, log and heartbeat checks",
            "Charts with deviation bands, and stale data shown as stale",
            "A full-screen wall for the NOC",
        ),
    ),
    Planned(
        "Escalation",
        "escalation",
        "Who is paged, in which order, when nobody responds.",
        "No escalation policies yet",
        (
            "On-call schedules with layers and overrides, across time zones",
            "Escalation levels with delays, repeats and acknowledgement timeouts",
            "Native notifications with an Acknowledge button",
        ),
    ),
    Planned(
        "Post-mortems",
        "postmortems",
        "What happened, why, and what will change.",
        "No post-mortems yet",
        (
            "Systems affected, users impacted, notifications issued, root causes",
            "Action items with an owner and a due date",
            "Review by participants and stakeholders, offline included",
        ),
    ),
    Planned(
        "Reports",
        "reports",
        "Response metrics you can believe: medians and percentiles, not averages.",
        "No reports yet",
        (
            "Time to acknowledge, mitigate and resolve, by team and priority",
            "Readiness: services without runbooks, teams without an on-call schedule",
            "Exports to Markdown, HTML and PDF",
        ),
    ),
)


class PlaceholderPage(Page):
    """A page whose content arrives in a later release, with a proper empty state."""

    def __init__(self, planned: Planned, theme: Theme, parent: QWidget | None = None) -> None:
        """A header and an empty state listing what the page will hold."""
        self.title = planned.title  # type: ignore[misc]  # per instance, unlike editor pages
        self.icon_name = planned.icon_name  # type: ignore[misc]
        super().__init__(theme, planned.subtitle, parent)
        text = (
            "This page is not built yet: it arrives in a coming release. Teams, services, "
            "runbooks and shared resources can already be set up. Here you will find:"
        )
        self.empty = EmptyState(theme, planned.icon_name, planned.headline, text, planned.points)
        self.set_content(self.empty)
