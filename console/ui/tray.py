"""The tray icon: overall state by colour and shape, the unacknowledged count, quick actions.

The icon is drawn at run time (no image files): a green circle when nothing needs anyone, an
amber triangle when some incident is unacknowledged, a red octagon when an unacknowledged one is
P1 or P2. The shapes differ so the state reads without colour vision, and the count of
unacknowledged incidents is painted on top.

The tray takes small records and callbacks and does no I/O: the application feeds it the
open incidents and carries out what the menu asks (acknowledge through the store worker...).
Where no system tray exists (plain GNOME, the offscreen platform), `start_minimised` falls
back to a minimised window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QIcon,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from console.core.enums import Priority
from console.ui.theme import Theme

MENU_LIMIT = 5
ICON_SIZES = (16, 22, 24, 32, 48, 64)
_TITLE_CHARS = 60
_OUTLINE = "#1f2328"
_COUNT_TEXT = "#ffffff"


class TrayState(Enum):
    """The overall state the icon shows."""

    OK = "ok"  # nothing unacknowledged
    WARNING = "warning"  # unacknowledged P3-P5 only
    CRITICAL = "critical"  # an unacknowledged P1 or P2


@dataclass(frozen=True, slots=True)
class TrayIncident:
    """An unacknowledged incident as the tray menu lists it."""

    incident_id: str
    number: str
    title: str
    priority: Priority

    @property
    def label(self) -> str:
        """The menu text, e.g. ``INC-12  P1  Checkout API down`` (long titles cut short)."""
        title = self.title if len(self.title) <= _TITLE_CHARS else self.title[:59] + "…"
        return f"{self.number}  {self.priority.value}  {title}"


def tray_state(incidents: Sequence[TrayIncident]) -> TrayState:
    """CRITICAL with any P1/P2, WARNING with any other, OK with none."""
    if not incidents:
        return TrayState.OK
    worst = min(i.priority.rank for i in incidents)
    return TrayState.CRITICAL if worst <= 2 else TrayState.WARNING


def _shape(state: TrayState, box: QRectF) -> QPainterPath:
    path = QPainterPath()
    cx, cy, r = box.center().x(), box.center().y(), box.width() / 2
    if state is TrayState.OK:
        path.addEllipse(box)
    elif state is TrayState.WARNING:
        path.addPolygon(QPolygonF([QPointF(cx, box.top()), box.bottomRight(), box.bottomLeft()]))
    else:
        # A regular octagon (a stop sign), flat side up.
        k = r * 0.4142  # tan(22.5 deg): half a side of the octagon around the circle
        points = [
            (cx - k, cy - r), (cx + k, cy - r), (cx + r, cy - k), (cx + r, cy + k),
            (cx + k, cy + r), (cx - k, cy + r), (cx - r, cy + k), (cx - r, cy - k),
        ]  # fmt: skip
        path.addPolygon(QPolygonF([QPointF(x, y) for x, y in points]))
    path.closeSubpath()
    return path


def _colour(state: TrayState, theme: Theme) -> str:
    return {
        TrayState.OK: theme.success,
        TrayState.WARNING: theme.warning,
        TrayState.CRITICAL: theme.error,
    }[state]


def count_text(count: int) -> str:
    """The number painted on the icon ("" for none, "99+" beyond 99)."""
    return "" if count <= 0 else ("99+" if count > 99 else str(count))


def render(state: TrayState, count: int, size: int, theme: Theme) -> QImage:
    """The icon drawn at ``size`` pixels square."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    inset = max(0.5, size / 32)
    box = QRectF(inset, inset, size - 2 * inset, size - 2 * inset)
    painter.setPen(QPen(QColor(_OUTLINE), max(1.0, size / 24)))
    painter.setBrush(QColor(_colour(state, theme)))
    painter.drawPath(_shape(state, box))
    text = count_text(count)
    if text:
        _draw_count(painter, text, state, box)
    painter.end()
    return image


def _draw_count(painter: QPainter, text: str, state: TrayState, box: QRectF) -> None:
    font = QFont()
    font.setBold(True)
    # Two digits fit across the shape; three are squeezed; a triangle's room is low and narrow.
    scale = {1: 0.62, 2: 0.5, 3: 0.36}[len(text)]
    if state is TrayState.WARNING:
        scale *= 0.8
    font.setPixelSize(max(6, round(box.height() * scale)))
    area = QRectF(box)
    if state is TrayState.WARNING:
        area.setTop(box.top() + box.height() * 0.3)
    painter.setFont(font)
    metrics = painter.fontMetrics()
    width = metrics.horizontalAdvance(text)
    baseline = area.center().y() + (metrics.ascent() - metrics.descent()) / 2
    path = QPainterPath()
    path.addText(QPointF(area.center().x() - width / 2, baseline), font, text)
    # A dark outline keeps the digits readable on every fill colour.
    painter.setPen(QPen(QColor(_OUTLINE), max(1.0, box.height() / 16)))
    painter.setBrush(QColor(_COUNT_TEXT))
    painter.drawPath(path)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawPath(path)


def tray_icon(state: TrayState, count: int, theme: Theme) -> QIcon:
    """The QIcon for a state and count, in every size a panel may ask for."""
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addPixmap(QPixmap.fromImage(render(state, count, size, theme)))
    return icon


@dataclass(frozen=True, slots=True)
class TrayCallbacks:
    """What the tray's menu asks the application to do."""

    acknowledge: Callable[[str], None]
    show_window: Callable[[], None]
    mute: Callable[[bool], None]
    quit: Callable[[], None]
    open_incident: Callable[[str], None] | None = None


class Tray(QObject):
    """The system tray icon and its menu.

    Args:
        theme: The colours to draw with.
        callbacks: What the menu's actions call.
        parent: The owning QObject.
    """

    def __init__(
        self, theme: Theme, callbacks: TrayCallbacks, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._theme = theme
        self._callbacks = callbacks
        self._incidents: tuple[TrayIncident, ...] = ()
        self._icons: dict[tuple[TrayState, str], QIcon] = {}
        self.menu = QMenu()
        self.icon = QSystemTrayIcon(self)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.show_action = QAction("Show window", self)
        self.show_action.triggered.connect(lambda: callbacks.show_window())
        self.mute_action = QAction("Mute alarm", self)
        self.mute_action.setCheckable(True)
        self.mute_action.toggled.connect(lambda on: callbacks.mute(bool(on)))
        self.quit_action = QAction("Quit", self)
        self.quit_action.triggered.connect(lambda: callbacks.quit())
        self.update([])

    @staticmethod
    def available() -> bool:
        """Whether the desktop has a system tray to put the icon in."""
        return QSystemTrayIcon.isSystemTrayAvailable()

    @property
    def state(self) -> TrayState:
        """The state the icon shows now."""
        return tray_state(self._incidents)

    @property
    def count(self) -> int:
        """How many unacknowledged incidents the icon counts."""
        return len(self._incidents)

    def update(self, incidents: Sequence[TrayIncident]) -> None:
        """Show these unacknowledged incidents (any order: the tray sorts by priority)."""
        ordered = tuple(sorted(incidents, key=lambda i: i.priority.rank))
        changed = ordered != self._incidents or not self._icons
        self._incidents = ordered
        if not changed:
            return
        key = (self.state, count_text(self.count))
        if key not in self._icons:
            self._icons[key] = tray_icon(self.state, self.count, self._theme)
        self.icon.setIcon(self._icons[key])
        self.icon.setToolTip(self._tooltip())
        self._rebuild_menu()

    def set_muted(self, muted: bool) -> None:
        """Reflect the alarm's mute (it may end by itself) without calling back."""
        blocked = self.mute_action.blockSignals(True)
        self.mute_action.setChecked(muted)
        self.mute_action.blockSignals(blocked)

    def balloon(self, title: str, body: str, *, critical: bool) -> bool:
        """Show a tray message (the link after plyer); False where the tray cannot show one."""
        if not self.icon.isVisible() or not QSystemTrayIcon.supportsMessages():
            return False
        kind = (
            QSystemTrayIcon.MessageIcon.Critical
            if critical
            else QSystemTrayIcon.MessageIcon.Warning
        )
        self.icon.showMessage(title, body, kind, 0 if critical else 10_000)
        return True

    def show(self) -> None:
        """Put the icon in the tray (only call when `available`)."""
        self.icon.show()

    def hide(self) -> None:
        """Take the icon out of the tray."""
        self.icon.hide()

    def _tooltip(self) -> str:
        if not self._incidents:
            return "oncall-console: no unacknowledged incidents"
        worst = self._incidents[0].priority.value
        return f"oncall-console: {self.count} unacknowledged (worst {worst})"

    def _rebuild_menu(self) -> None:
        self.menu.clear()
        header = self.menu.addAction(self._tooltip().removeprefix("oncall-console: "))
        header.setEnabled(False)
        for incident in self._incidents[:MENU_LIMIT]:
            sub = self.menu.addMenu(incident.label)
            ack = sub.addAction("Acknowledge")
            ack.triggered.connect(_bound(self._callbacks.acknowledge, incident.incident_id))
            if self._callbacks.open_incident is not None:
                opened = sub.addAction("Open")
                opened.triggered.connect(
                    _bound(self._callbacks.open_incident, incident.incident_id)
                )
        hidden = len(self._incidents) - MENU_LIMIT
        if hidden > 0:
            more = self.menu.addAction(f"{hidden} more in the window…")
            more.triggered.connect(lambda: self._callbacks.show_window())
        self.menu.addSeparator()
        self.menu.addAction(self.show_action)
        self.menu.addAction(self.mute_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason is QSystemTrayIcon.ActivationReason.Trigger:
            self._callbacks.show_window()


def _bound(fn: Callable[[str], None], incident_id: str) -> Callable[[], None]:
    # A closure without parameters: Qt would hand a partial the "checked" flag as well.
    return lambda: fn(incident_id)


def start_minimised(window: QWidget, tray: Tray) -> bool:
    """Start in the tray when there is one, otherwise as a minimised window.

    Returns:
        Whether the tray took the window's place.
    """
    if tray.available():
        tray.show()
        window.hide()
        return True
    window.showMinimized()
    return False
