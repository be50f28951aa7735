"""The Reports page: the readiness report, where the teams stand before an incident asks.

A verdict first (ready, or how many tier-1 services have a gap in their cover), then the
findings grouped by area: services (tier 1 first; a tier-1 gap in red with NOT READY spelled
out), people nobody can reach, policy levels that can come up empty, and training. The same
report as ``oncall-console readiness``, read on the store worker when the estate changes and
every minute while the page is shown (cover over the coming days moves with the clock).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.core.readiness import HORIZON, Area, Finding, ReadinessReport, readiness
from console.store.db import Store
from console.ui.estate import EstateModel
from console.ui.models.feed import PollingFeed
from console.ui.theme import Theme
from console.ui.views.page import Page

SUBTITLE = "Readiness: what would let an incident linger, found before one does."
REFRESH_MS = 60_000
HEADINGS = {
    Area.SERVICE: f"Services: owners, runbooks, escalation, cover for {HORIZON.days} days",
    Area.MEMBER: "People no channel reaches away from this console",
    Area.POLICY: "Escalation levels that can come up empty",
    Area.TRAINING: "Training: drills and runbook reviews",
}


def read_readiness(store: Store) -> ReadinessReport:
    """The readiness report at the store clock's now (worker thread)."""
    from console.store import readiness as stored

    return readiness(stored.inputs(store.read()), store.clock.now())


def verdict(report: ReadinessReport) -> str:
    """One sentence: ready, or what is not."""
    blocking = {f.subject for f in report.blocking}
    if blocking:
        names = ", ".join(sorted(blocking))
        if len(blocking) == 1:
            return f"NOT READY: 1 tier-1 service has a gap in its cover ({names})."
        return f"NOT READY: {len(blocking)} tier-1 services have a gap in their cover ({names})."
    if report.findings:
        return f"Tier-1 services are covered; {len(report.findings)} other findings below."
    return "Ready: nothing to report."


class ReportsPage(Page):
    """The readiness report."""

    title = "Reports"
    icon_name = "reports"

    def __init__(self, estate: EstateModel, theme: Theme, parent: QWidget | None = None) -> None:
        """Build the page; it reads once the estate has loaded and while shown."""
        super().__init__(theme, SUBTITLE, parent)
        self.report: ReadinessReport | None = None
        self.feed = PollingFeed(
            lambda: read_readiness(estate.store),
            estate.runner,
            REFRESH_MS,
            what="the readiness report",
            parent=self,
        )
        self.feed.reading.connect(self.show_report)
        self.feed.failed.connect(self.message)
        body = QWidget()
        box = QVBoxLayout(body)
        box.setContentsMargins(24, 16, 24, 16)
        box.setSpacing(10)
        self.verdict = QLabel("Reading the readiness report…")
        self.verdict.setWordWrap(True)
        self.verdict.setObjectName("Notice")
        box.addWidget(self.verdict)
        self.tree = QTreeWidget()
        self.tree.setObjectName("ReadinessFindings")
        self.tree.setAccessibleName("Readiness findings by area")
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["What", "Finding", "Tier"])
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        box.addWidget(self.tree, 1)
        hint = QLabel(
            "The same report from a terminal: oncall-console readiness [--json] (exit status 1 "
            "when a tier-1 service has a gap)."
        )
        hint.setObjectName("Muted")
        box.addWidget(hint)
        self.set_content(body)
        self._started = False
        estate.changed.connect(self._on_estate_changed)

    def _on_estate_changed(self) -> None:
        self._started = True
        if self.isVisible():
            self.feed.start()

    def showEvent(self, event: QShowEvent) -> None:
        """Read while shown."""
        super().showEvent(event)
        if self._started:
            self.feed.start()

    def hideEvent(self, event: QHideEvent) -> None:
        """Stop reading while hidden."""
        super().hideEvent(event)
        self.feed.stop()

    def show_report(self, report: ReadinessReport) -> None:
        """Show a report: the verdict, then the findings by area."""
        self.report = report
        self.verdict.setText(verdict(report))
        bad = bool(report.blocking)
        colour = self.theme.error if bad else self.theme.success
        self.verdict.setStyleSheet(f"color: {colour}; font-weight: 600;")
        self.tree.clear()
        for area, heading in HEADINGS.items():
            found = report.by_area(area)
            group = QTreeWidgetItem([f"{heading} ({len(found) or 'none'})", "", ""])
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            group.setFirstColumnSpanned(True)
            self.tree.addTopLevelItem(group)
            for finding in found:
                group.addChild(self._item(finding))
            group.setExpanded(area is not Area.TRAINING or len(found) <= 12)
        self.tree.setFirstColumnSpanned(0, self.tree.rootIndex(), True)

    def _item(self, finding: Finding) -> QTreeWidgetItem:
        tier = "" if finding.tier is None else f"tier {int(finding.tier)}"
        if finding.blocking:
            tier += " · NOT READY"
        item = QTreeWidgetItem([finding.subject, finding.problem, tier])
        item.setToolTip(1, finding.problem)
        if finding.blocking:
            for column in range(3):
                item.setForeground(column, QColor(self.theme.error))
        item.setTextAlignment(2, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return item
