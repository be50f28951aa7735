"""The "Report incident" form: an end user's report taken down by whoever answered them."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QLineEdit, QPlainTextEdit, QWidget

from console.core.enums import Severity
from console.core.signals import ManualReport
from console.ui import labels
from console.ui.dialogs.incident_actions import IncidentDialog
from console.ui.widgets.fields import EnumCombo, KeyCombo


class ReportDialog(IncidentDialog):
    """What is broken, who reported it, the impact as they see it, the service and severity."""

    def __init__(
        self,
        services: Sequence[tuple[str, str]],
        teams: Sequence[tuple[str, str]],
        parent: QWidget | None = None,
    ) -> None:
        """Offer ``services`` and ``teams`` as (key, name) pairs."""
        super().__init__(
            "Report an incident",
            "Open an incident from a report: someone tells you something is broken. It goes "
            "to the service's owning team unless you choose another.",
            "Open incident",
            parent,
        )
        self.setMinimumWidth(560)
        self.title = QLineEdit()
        self.title.setObjectName("report-title")
        self.title.setPlaceholderText("Customers in Lyon cannot pay by card")
        self.reporter = QLineEdit()
        self.reporter.setObjectName("report-reporter")
        self.reporter.setPlaceholderText("Service desk, ticket 4711")
        self.impact = QPlainTextEdit()
        self.impact.setObjectName("report-impact")
        self.impact.setPlaceholderText("Every card payment fails since about 09:00")
        self.impact.setTabChangesFocus(True)
        self.impact.setFixedHeight(70)
        self.service = KeyCombo("Not known", keep_unknown=False)
        self.service.setObjectName("report-service")
        self.service.set_choices(services)
        self.severity = EnumCombo(labels.SEVERITY)
        self.severity.setObjectName("report-severity")
        self.severity.set_value(Severity.WARNING)
        self.team = KeyCombo("The service's owner", keep_unknown=False)
        self.team.setObjectName("report-team")
        self.team.set_choices(teams)
        self.add_row("&What is broken", self.title)
        self.add_row("Reported &by", self.reporter, "Who reported it")
        self.add_row("&Impact", self.impact, "The impact as they see it")
        self.add_row("&Service", self.service)
        self.add_row("Se&verity", self.severity)
        self.add_row("&Team", self.team)
        self.title.textChanged.connect(self.refresh)
        self.reporter.textChanged.connect(self.refresh)
        self.refresh()

    def is_valid(self) -> bool:
        """What is broken, and who says so."""
        return bool(self.title.text().strip()) and bool(self.reporter.text().strip())

    def report(self) -> ManualReport:
        """The report the fields describe."""
        return ManualReport(
            title=self.title.text().strip(),
            reporter=self.reporter.text().strip(),
            impact=self.impact.toPlainText().strip() or None,
            service=self.service.key(),
            team=self.team.key(),
            severity=self.severity.value(),
        )
