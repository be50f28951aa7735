"""The escalation stepper of the incident detail: the policy's levels, where it stands, who heard.

It shows an `EscalationView` read on the store worker (`console.core.escalation_steps`): one
row per level with a mark, a word and a colour that all say the same (done: a filled circle;
now: a diamond on a highlighted row; upcoming: a ring; failed, nobody available: a square), when
the level starts and whom it targets, and under every level that started, each person reached,
through which channel, and how the latest attempt stands (sent, failed with the error as the
tooltip, sending, re-sent with the outcome unknown). A line above the steps counts down to the
next due moment every second from the clock alone: ticking never reads the store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from console.core.escalation_steps import (
    EscalationView,
    Notified,
    Phase,
    Step,
    StepState,
    delay_words,
    due_text,
    target_words,
)
from console.core.escalator import NotificationStatus
from console.core.incident_rules import human
from console.core.timeline_text import via_words
from console.ui.models.incidents import Shape, mark
from console.ui.theme import Theme

TICK_MS = 1000
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class StepLook:
    """How a step's state is drawn: a shape, a colour and a word (never colour alone)."""

    shape: Shape
    colour: str
    word: str


def step_look(state: StepState, phase: Phase, theme: Theme) -> StepLook:
    """The look of a step in ``state`` while the escalation as a whole is in ``phase``."""
    if state is StepState.DONE:
        return StepLook(Shape.CIRCLE, theme.success, "Done")
    if state is StepState.EMPTY:
        return StepLook(Shape.SQUARE, theme.error, "Failed")
    if state is StepState.UPCOMING:
        return StepLook(Shape.RING, theme.muted, "Upcoming")
    words = {Phase.ACKNOWLEDGED: "Answered", Phase.SNOOZED: "Paused"}
    return StepLook(Shape.DIAMOND, theme.accent, words.get(phase, "Now"))


def attempt_look(n: Notified, theme: Theme) -> tuple[str, str]:
    """The words and colour of one attempt's latest status: ``✓ sent``, ``✗ failed``..."""
    if n.status is NotificationStatus.SENT:
        return ("✓ re-sent, delivered" if n.resend else "✓ sent"), theme.success
    if n.status is NotificationStatus.FAILED:
        return "✗ failed", theme.error
    if n.status is NotificationStatus.UNKNOWN:
        return "↻ re-sent, outcome unknown", theme.warning
    if n.status is NotificationStatus.PENDING and n.attempt > 1:
        return f"… retrying (attempt {n.attempt})", theme.warning
    if n.status is NotificationStatus.PENDING:
        return "… sending", theme.muted
    return "… not sent yet", theme.muted


def channel_words(channel: str | None) -> str:
    """``email``, ``webhook slack-payments``, ``no channel``."""
    if channel is None:
        return "no attempt yet"
    if channel == "none":
        return "no channel"
    return channel.replace(":", " ", 1)


def _label(text: str = "", name: str | None = None, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if name:
        label.setObjectName(name)
    return label


class AttemptLabel(QLabel):
    """One channel's latest attempt for one person: ``email ✓ sent`` (the error as tooltip)."""

    def __init__(self, n: Notified, theme: Theme, parent: QWidget | None = None) -> None:
        """Show ``n`` in ``theme``'s colours."""
        words, colour = attempt_look(n, theme)
        super().__init__(f"{channel_words(n.channel)} {words}", parent)
        self.notified = n
        self.setWordWrap(True)
        self.setObjectName(f"attempt-{'none' if n.status is None else n.status.value}")
        self.setStyleSheet(f"color: {colour}; font-weight: 600;")
        tip = [f"{channel_words(n.channel)}: {words.split(' ', 1)[1]}"]
        if n.at is not None:
            tip.append(f"at {human(n.at)}, attempt {n.attempt}")
        if n.error:
            tip.append(n.error)
        self.setToolTip("\n".join(tip))
        self.setAccessibleName(f"{n.recipient} by {channel_words(n.channel)}: {words}")


class StepRow(QFrame):
    """One level: its mark and word, when it starts, whom it targets, and who was reached."""

    def __init__(
        self,
        step: Step,
        view: EscalationView,
        names: Mapping[str, str],
        theme: Theme,
        parent: QWidget | None = None,
    ) -> None:
        """Lay out ``step`` of ``view``."""
        super().__init__(parent)
        self.step = step
        self.look = step_look(step.state, view.phase, theme)
        self.setObjectName(f"step-{step.state.value}")
        self.setStyleSheet(_row_style(step.state, theme, self.objectName()))
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(1)
        marker = QLabel()
        marker.setPixmap(mark(self.look.shape, self.look.colour).pixmap(QSize(14, 14), 2.0))
        marker.setFixedWidth(16)
        grid.addWidget(marker, 0, 0, Qt.AlignmentFlag.AlignTop)
        self.word = _label(self.look.word, "step-word", wrap=False)
        self.word.setStyleSheet(f"color: {self.look.colour}; font-weight: 700;")
        self.title = _label(self._title(view), "step-title")
        self.title.setStyleSheet("font-weight: 600;")
        head = QHBoxLayout()
        head.setSpacing(10)
        head.addWidget(self.word)
        head.addWidget(self.title, 1)
        grid.addLayout(head, 0, 1)
        targets = ", ".join(target_words(t, names) for t in step.targets)
        self.targets = _label(f"Targets: {targets}", "Muted")
        grid.addWidget(self.targets, 1, 1)
        self.people: list[QLabel] = []
        self.attempts: list[AttemptLabel] = []
        row = 2
        if step.state is StepState.EMPTY:
            why = "; ".join(step.empty_details)
            empty = _label("Nobody available" + (f": {why}" if why else ""), "step-empty")
            empty.setStyleSheet(f"color: {theme.error};")
            grid.addWidget(empty, row, 1)
            self.people.append(empty)
        else:
            for box in self._reached(names, theme):
                grid.addLayout(box, row, 1)
                row += 1
        grid.setColumnStretch(1, 1)
        self.setAccessibleName(f"Level {step.number}: {self.look.word}. {self.title.text()}")

    def _title(self, view: EscalationView) -> str:
        s = self.step
        parts = [f"Level {s.number}", delay_words(s)]
        if s.urgent:
            parts.append("urgent")
        if s.started_at is not None:
            parts.append(f"started {s.started_at.astimezone(UTC).strftime('%H:%M UTC')}")
            self.setToolTip(f"Level {s.number} started {human(s.started_at)}")
        return " · ".join(parts)

    def _reached(self, names: Mapping[str, str], theme: Theme) -> list[QVBoxLayout]:
        """Per person: the name (how they were reached), then each channel's status under it.

        The statuses go on lines of their own, indented, so a narrow column never squeezes
        them into a sliver beside the name.
        """
        order: dict[str, list[Notified]] = {}
        for n in self.step.notified:
            order.setdefault(n.recipient, []).append(n)
        lines: list[QVBoxLayout] = []
        for who, attempts in order.items():
            line = QVBoxLayout()
            line.setSpacing(0)
            name = names.get(who, who)
            via = attempts[0].via
            text = name if via in ("", "member") else f"{name} ({via_words(via, names)})"
            person = _label(text, "step-person", wrap=False)
            person.setToolTip(who)
            self.people.append(person)
            line.addWidget(person)
            for n in attempts:
                label = AttemptLabel(n, theme)
                label.setContentsMargins(16, 0, 0, 0)
                self.attempts.append(label)
                line.addWidget(label)
            lines.append(line)
        return lines


def _row_style(state: StepState, theme: Theme, name: str) -> str:
    if state is StepState.CURRENT:
        return (
            f"QFrame#{name} {{ background: {theme.accent_soft}; border: 2px solid {theme.accent};"
            " border-radius: 6px; }"
        )
    if state is StepState.EMPTY:
        return (
            f"QFrame#{name} {{ background: {theme.error_soft}; border: 1px dashed {theme.error};"
            " border-radius: 6px; }"
        )
    return f"QFrame#{name} {{ border: 1px solid {theme.border}; border-radius: 6px; }}"


class EscalationStepper(QFrame):
    """An incident's escalation as steps, with a live countdown to what comes next."""

    def __init__(self, theme: Theme, clock: Clock, parent: QWidget | None = None) -> None:
        """Empty (no escalation) until :meth:`show_view`; ``clock`` gives the countdown's now."""
        super().__init__(parent)
        self.setObjectName("escalation-stepper")
        self.theme = theme
        self.clock = clock
        self.view: EscalationView | None = None
        self._shown: tuple[EscalationView | None, tuple[tuple[str, str], ...]] | None = None
        self.rows: list[StepRow] = []
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)
        self.summary = _label("", "escalation-summary")
        self.countdown = _label("", "escalation-countdown", wrap=False)
        self.countdown.setStyleSheet(f"color: {theme.accent}; font-weight: 700;")
        self.countdown.setAccessibleName("Next escalation step")
        # One under the other: the pane's column is narrow, and the countdown must not clip.
        box.addWidget(self.summary)
        box.addWidget(self.countdown)
        self.steps = QVBoxLayout()
        self.steps.setSpacing(6)
        box.addLayout(self.steps)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        self.show_view(None, {})

    def show_view(self, view: EscalationView | None, names: Mapping[str, str]) -> None:
        """Show ``view`` (None: no policy applies); rows are rebuilt only when it changed."""
        key = (view, tuple(sorted(names.items())))
        self.view = view
        if key != self._shown:
            self._shown = key
            self._rebuild(view, names)
        self.tick()
        if view is not None and view.next_due_at is not None:
            if not self.timer.isActive():
                self.timer.start()
        else:
            self.timer.stop()

    def tick(self) -> None:
        """Count down to the next due moment (no store read: the view and the clock only)."""
        v = self.view
        self.countdown.setText("" if v is None else due_text(v, self.clock()))
        self.countdown.setVisible(v is not None)

    def _rebuild(self, view: EscalationView | None, names: Mapping[str, str]) -> None:
        while self.steps.count():
            item = self.steps.takeAt(0)
            widget = None if item is None else item.widget()
            if widget is not None:
                widget.deleteLater()
        self.rows = []
        if view is None:
            self.summary.setText("No escalation policy applies to this incident.")
            self.summary.setStyleSheet(f"color: {self.theme.muted};")
            return
        self.summary.setText(_summary(view))
        self.summary.setStyleSheet("font-weight: 600;")
        for step in view.steps:
            row = StepRow(step, view, names, self.theme)
            self.rows.append(row)
            self.steps.addWidget(row)


def _summary(v: EscalationView) -> str:
    text = f"Policy {v.policy_name}"
    if v.loops > 1:
        text += f" · loop {v.loop} of {v.loops}"
    words = {
        Phase.ACKNOWLEDGED: f"acknowledged by {v.acknowledged_by or 'someone'}",
        Phase.EXHAUSTED: "escalation exhausted",
        Phase.RESOLVED: "resolved: escalation ended",
        Phase.SNOOZED: "snoozed: nothing is sent until it wakes",
    }
    if v.phase in words:
        text += f" · {words[v.phase]}"
    if v.pending_jump is not None:
        text += f" · escalating to level {v.pending_jump} now"
    return text
