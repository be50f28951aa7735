"""The incident banner: a dismissible bar across the top of the window that always works.

It is the last link of the notification chain (freedesktop -> plyer -> tray -> banner): an
incident shows here when desktop notifications are off or could not be delivered, and the
reasons a delivery failed show beneath it, so no failure goes unseen. It holds any number of
incidents and shows the worst (then the newest) with Acknowledge and Open buttons and how
many more wait; Dismiss hides the one shown (it comes back if the incident gets worse).

Notes are failures that belong to no incident on show (a notification that could not be
withdrawn, an alarm sound that cannot play); they stay until dismissed.

The banner does no I/O: it emits what the buttons ask for and the application carries it out.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from console.core.enums import Priority
from console.ui.theme import Theme
from console.ui.widgets.common import button

#: Notes kept on show at once (the oldest goes first; the log keeps every one).
NOTE_LIMIT = 4


@dataclass(frozen=True, slots=True)
class BannerIncident:
    """An incident as the banner shows it.

    Attributes:
        incident_id: The incident.
        number: Its human number (``INC-12``).
        title: What is wrong.
        priority: Its priority (P1/P2 show in the error colours).
        note: Why it is on the banner, e.g. the reasons a desktop notification failed.
    """

    incident_id: str
    number: str
    title: str
    priority: Priority
    note: str | None = None

    @property
    def headline(self) -> str:
        """The bold line, e.g. ``INC-12 P1: Checkout API down``."""
        return f"{self.number} {self.priority.value}: {self.title}"


class IncidentBanner(QFrame):
    """The bar itself; hidden while it has nothing to show.

    Args:
        theme: The colours to draw with.
        parent: The owning widget.
    """

    #: The Acknowledge button was pressed for this incident id.
    acknowledgeRequested = Signal(str)
    #: The Open button was pressed for this incident id.
    openRequested = Signal(str)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("IncidentBanner")
        self.setAccessibleName("Incident banner")
        self._theme = theme
        self._incidents: dict[str, tuple[int, BannerIncident]] = {}
        self._added = 0
        self._notes: list[str] = []
        self._styled: tuple[Theme, bool] | None = None
        self.headline = QLabel()
        self.headline.setObjectName("IncidentBannerHeadline")
        self.headline.setWordWrap(True)
        self.detail = QLabel()
        self.detail.setObjectName("IncidentBannerDetail")
        self.detail.setWordWrap(True)
        self.notes = QLabel()
        self.notes.setObjectName("IncidentBannerNotes")
        self.notes.setWordWrap(True)
        self.acknowledge_button = button("Acknowledge", name="Primary")  # the style's name
        self.acknowledge_button.setAccessibleName("Acknowledge the incident")
        self.open_button = button("Open")
        self.open_button.setObjectName("banner-open")
        self.dismiss_button = QToolButton()
        self.dismiss_button.setObjectName("banner-dismiss")
        self.dismiss_button.setText("✕")
        self.dismiss_button.setToolTip("Dismiss (the incident stays open)")
        self.dismiss_button.setAccessibleName("Dismiss")
        self.acknowledge_button.clicked.connect(self._acknowledge)
        self.open_button.clicked.connect(self._open)
        self.dismiss_button.clicked.connect(self.dismiss)
        self._layout()
        self._refresh()

    def _layout(self) -> None:
        row = QHBoxLayout(self)
        row.setContentsMargins(16, 8, 10, 8)
        row.setSpacing(10)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.headline)
        text.addWidget(self.detail)
        text.addWidget(self.notes)
        row.addLayout(text, 1)
        row.addWidget(self.acknowledge_button)
        row.addWidget(self.open_button)
        row.addWidget(self.dismiss_button)

    # -- state ----------------------------------------------------------------------------------

    @property
    def current(self) -> BannerIncident | None:
        """The incident on show: the worst priority, then the newest."""
        if not self._incidents:
            return None
        _, shown = min(self._incidents.values(), key=lambda e: (e[1].priority.rank, -e[0]))
        return shown

    @property
    def incidents(self) -> tuple[BannerIncident, ...]:
        """Every incident the banner holds, in no particular order."""
        return tuple(entry for _, entry in self._incidents.values())

    @property
    def note_lines(self) -> tuple[str, ...]:
        """The notes on show, oldest first."""
        return tuple(self._notes)

    def holds(self, incident_id: str) -> bool:
        """Whether the banner holds this incident."""
        return incident_id in self._incidents

    # -- changes --------------------------------------------------------------------------------

    def show_incident(self, incident: BannerIncident) -> None:
        """Add an incident, or update the one with its id (it becomes the newest)."""
        self._added += 1
        self._incidents[incident.incident_id] = (self._added, incident)
        self._refresh()

    def remove(self, incident_id: str) -> None:
        """Take an incident off (acknowledged, resolved, held back); nothing if it is not on."""
        if self._incidents.pop(incident_id, None) is not None:
            self._refresh()

    def show_note(self, text: str) -> None:
        """Show a failure that belongs to no incident on show (kept until dismissed)."""
        if text in self._notes:
            self._notes.remove(text)
        self._notes.append(text)
        del self._notes[:-NOTE_LIMIT]
        self._refresh()

    def dismiss(self) -> None:
        """Hide the incident on show and the notes; the next incident, if any, shows."""
        shown = self.current
        if shown is not None:
            del self._incidents[shown.incident_id]
        self._notes.clear()
        self._refresh()

    def set_theme(self, theme: Theme) -> None:
        """Draw with other colours (the desktop switched between light and dark)."""
        self._theme = theme
        self._refresh()

    # -- drawing --------------------------------------------------------------------------------

    def _refresh(self) -> None:
        shown = self.current
        has_incident = shown is not None
        self.acknowledge_button.setVisible(has_incident)
        self.open_button.setVisible(has_incident)
        if shown is None:
            self.headline.setText("Alerting needs attention" if self._notes else "")
            self.detail.clear()
            self.detail.hide()
        else:
            self.headline.setText(shown.headline)
            self.detail.setText(self._detail(shown))
            self.detail.setVisible(bool(self.detail.text()))
        self.notes.setText("\n".join(self._notes))
        self.notes.setVisible(bool(self._notes))
        self._colour(shown)
        self.setVisible(has_incident or bool(self._notes))

    def _detail(self, shown: BannerIncident) -> str:
        parts = [shown.note] if shown.note else []
        more = len(self._incidents) - 1
        if more > 0:
            parts.append(f"{more} more incident{'s' if more > 1 else ''} waiting")
        return " · ".join(parts)

    def _colour(self, shown: BannerIncident | None) -> None:
        t = self._theme
        critical = shown is None or shown.priority.rank <= 2
        if (t, critical) == self._styled:
            return  # restyling repolishes every child: only when the look really changes
        self._styled = (t, critical)
        fill, ink = (t.error_soft, t.error) if critical else (t.warning_soft, t.warning)
        self.setStyleSheet(
            f"#IncidentBanner {{ background: {fill}; border: none;"
            f" border-bottom: 2px solid {ink}; }}"
            f" #IncidentBannerHeadline {{ color: {t.text}; font-weight: 600; }}"
            f" #IncidentBannerDetail {{ color: {t.text}; }}"
            f" #IncidentBannerNotes {{ color: {t.error}; }}"
        )

    def _acknowledge(self) -> None:
        shown = self.current
        if shown is not None:
            self.acknowledgeRequested.emit(shown.incident_id)

    def _open(self) -> None:
        shown = self.current
        if shown is not None:
            self.openRequested.emit(shown.incident_id)
