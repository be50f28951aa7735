"""The Escalation page: who is on call now in every schedule, and who covers the coming weeks.

The table answers the question a responder asks first (who do I call?): each schedule's member
on call now, why (a layer, an override, someone on leave passed over), until when in the
schedule's own time zone, and who takes over. The timeline under it shows the next fourteen
days of every schedule on one axis, gaps hatched in red, so holes in the cover are seen before
an incident falls into them. Everything is read on the store worker (``read_coverage``) when the
estate changes and every half minute while the page is shown. That is the "On call" tab; the
"Policies" and "Schedules" tabs edit the items as YAML (``console.ui.views.section_editor``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.core.schedules import OnCall
from console.ui.estate import EstateModel
from console.ui.models.feed import PollingFeed
from console.ui.models.oncall import (
    HORIZON_DAYS,
    REFRESH_MS,
    CoverageReading,
    ScheduleCoverage,
    read_coverage,
)
from console.ui.models.section_edit import Section
from console.ui.theme import Theme
from console.ui.views.page import Page
from console.ui.views.section_editor import SectionEditor
from console.ui.widgets.common import EmptyState
from console.ui.widgets.coverage import CoverageTimeline

SUBTITLE = "Who is paged, in which order, when nobody responds; who is on call now and next."
COLUMNS = (
    "Schedule",
    "On call now",
    "Why",
    "Until",
    "Then",
    f"Uncovered, next {HORIZON_DAYS} days",
)


def local_time(moment: datetime | None, zone: str) -> str:
    """A moment in a schedule's zone, as a responder reads it (``Mon 02 Mar 07:00 CET``)."""
    if moment is None:
        return "-"
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %H:%M %Z")


def duration_text(span: timedelta) -> str:
    """``none``, ``45 min``, ``6 h 30 min``, ``2 d 4 h``."""
    minutes = int(span.total_seconds() // 60)
    if minutes <= 0:
        return "none"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


class EscalationPage(Page):
    """On call now, and the coverage of the coming weeks."""

    title = "Escalation"
    icon_name = "escalation"

    def __init__(self, estate: EstateModel, theme: Theme, parent: QWidget | None = None) -> None:
        """Build the page; it reads the store once the estate has loaded and while shown."""
        super().__init__(theme, SUBTITLE, parent)
        self.estate_model = estate
        self.reading: CoverageReading | None = None
        self.feed = PollingFeed(
            lambda: read_coverage(estate.store),
            estate.runner,
            REFRESH_MS,
            what="the on-call schedules",
            parent=self,
        )
        self.feed.reading.connect(self.show_reading)
        self.feed.failed.connect(self.message)
        self.stack = QStackedWidget()
        self.empty = EmptyState(
            theme,
            "escalation",
            "No on-call schedules yet",
            "Create one in the Schedules tab, or add a schedules: section to the "
            "configuration (see the README): rotations in layers, in a named time zone, with "
            "overrides and absences.",
        )
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self._build_body(theme))
        self.add_tab(self.stack, "On call", "escalation")
        # Editing lives next to what it changes: a saved schedule shows under "On call".
        self.policies = SectionEditor(estate, theme, Section.POLICIES)
        self.schedules = SectionEditor(estate, theme, Section.SCHEDULES)
        self.add_tab(self.policies, "Policies", "escalation")
        self.add_tab(self.schedules, "Schedules", "history")
        for editor in (self.policies, self.schedules):
            editor.message.connect(self.message)
        self._started = False
        estate.changed.connect(self._on_estate_changed)

    def _build_body(self, theme: Theme) -> QWidget:
        body = QWidget()
        box = QVBoxLayout(body)
        box.setContentsMargins(24, 12, 24, 16)
        box.setSpacing(8)
        box.addWidget(_section("Who is on call now"))
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("OnCallTable")
        self.table.setAccessibleName("Who is on call now, by schedule")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(30)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        box.addWidget(self.table)
        box.addWidget(_section(f"Coverage, next {HORIZON_DAYS} days"))
        self.timeline = CoverageTimeline(theme)
        box.addWidget(self.timeline)
        legend = QLabel(
            "Each block is one member's stretch (hover for times in the schedule's zone); an "
            "outlined block is an override; hatched red is time nobody covers. Days are in "
            "your own time zone; the blue line is now."
        )
        legend.setObjectName("Muted")
        legend.setWordWrap(True)
        box.addWidget(legend)
        box.addStretch(1)
        return body

    # -- reading -----------------------------------------------------------------------------

    def _on_estate_changed(self) -> None:
        self._started = True
        if self.isVisible():
            self.feed.start()  # a schedule edited: reread now

    def showEvent(self, event: QShowEvent) -> None:
        """Read while shown (a hidden page costs nothing)."""
        super().showEvent(event)
        if self._started:
            self.feed.start()

    def hideEvent(self, event: QHideEvent) -> None:
        """Stop reading while hidden."""
        super().hideEvent(event)
        self.feed.stop()

    def show_reading(self, reading: CoverageReading) -> None:
        """Fill the table and the timeline from a reading."""
        self.reading = reading
        self.stack.setCurrentIndex(1 if reading.schedules else 0)
        self.table.setRowCount(len(reading.schedules))
        for row, cover in enumerate(reading.schedules):
            for column, item in enumerate(self._row(reading, cover)):
                self.table.setItem(row, column, item)
        self.table.setFixedHeight(
            self.table.horizontalHeader().height() + 30 * max(1, len(reading.schedules)) + 4
        )
        self.timeline.set_reading(reading)

    def _row(self, reading: CoverageReading, cover: ScheduleCoverage) -> list[QTableWidgetItem]:
        zone, now = cover.schedule.zone, cover.now
        who = QTableWidgetItem(reading.name(now.member) if now.member else "NOBODY")
        font = who.font()
        font.setBold(True)
        who.setFont(font)
        if now.member is None:
            who.setForeground(QColor(self.theme.error))
        else:
            who.setToolTip(now.member)
        uncovered = QTableWidgetItem(duration_text(cover.uncovered))
        if cover.gaps:
            uncovered.setForeground(QColor(self.theme.error))
            first = cover.gaps[0]
            uncovered.setToolTip(f"First gap from {local_time(first.start, zone)}: {first.reason}")
        name = QTableWidgetItem(cover.schedule.name)
        name.setToolTip(f"{cover.schedule.key} ({zone})")
        return [
            name,
            who,
            QTableWidgetItem(now.reason),
            QTableWidgetItem(local_time(cover.until, zone)),
            QTableWidgetItem(_next_text(reading, cover.next)),
            uncovered,
        ]


def _next_text(reading: CoverageReading, following: OnCall | None) -> str:
    if following is None:
        return "-"
    return reading.name(following.member) if following.member else "NOBODY"


def _section(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("SectionTitle")
    return label
