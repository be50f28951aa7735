"""The small dialogs of incident actions: snooze, reassign, merge, priority, acknowledge on behalf.

Each dialog only asks; the Incidents page carries the answer out on the store worker, where the
rules decide (a refusal comes back as a message). OK stays disabled until the answer is whole
(a reason where the timeline records one), so nothing half-said reaches the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QButtonGroup,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from console.core.enums import Priority
from console.core.escalation_steps import AckChannel
from console.core.incidents import Incident
from console.ui import labels
from console.ui.widgets.fields import EnumCombo, KeyCombo

#: The snooze lengths offered as one choice each.
SNOOZE_CHOICES: tuple[tuple[str, timedelta], ...] = (
    ("15 minutes", timedelta(minutes=15)),
    ("1 hour", timedelta(hours=1)),
    ("4 hours", timedelta(hours=4)),
)


class IncidentDialog(QDialog):
    """A titled question about one incident, with OK (enabled once answered) and Cancel."""

    def __init__(self, title: str, text: str, ok_text: str, parent: QWidget | None = None) -> None:
        """A dialog saying ``text`` above a form; OK reads ``ok_text``."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 14)
        layout.setSpacing(12)
        self.text = QLabel(text)
        self.text.setWordWrap(True)
        layout.addWidget(self.text)
        self.form = QFormLayout()
        self.form.setHorizontalSpacing(14)
        self.form.setVerticalSpacing(10)
        layout.addLayout(self.form)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert ok is not None
        self.ok: QPushButton = ok
        self.ok.setText(ok_text)
        self.ok.setObjectName("Primary")
        self.buttons.accepted.connect(self._accept_if_valid)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def add_row(self, label: str, field: QWidget, accessible: str | None = None) -> None:
        """A labelled field (its accessible name is the label unless told otherwise)."""
        field.setAccessibleName(accessible or label.replace("&", ""))
        self.form.addRow(label, field)

    def is_valid(self) -> bool:
        """Whether the answer is whole (subclasses say what that means)."""
        return True

    def refresh(self, *_args: object) -> None:
        """Enable OK when the answer is whole."""
        self.ok.setEnabled(self.is_valid())

    def _accept_if_valid(self) -> None:
        if self.is_valid():
            self.accept()


def _reason_field(placeholder: str) -> QLineEdit:
    field = QLineEdit()
    field.setObjectName("reason")
    field.setPlaceholderText(placeholder)
    return field


# -- snooze -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SnoozeChoice:
    """How long to snooze: for a while (from when the store acts) or until a moment."""

    length: timedelta | None = None
    until: datetime | None = None

    def until_from(self, now: datetime) -> datetime:
        """The end of the snooze, for a choice carried out at ``now``."""
        if self.until is not None:
            return self.until
        assert self.length is not None
        return now + self.length


class SnoozeDialog(IncidentDialog):
    """Snooze for 15 minutes, 1 hour, 4 hours, or until a chosen time."""

    def __init__(self, incident: Incident, now: datetime, parent: QWidget | None = None) -> None:
        """Offer the snooze lengths for ``incident``; ``now`` starts the time field."""
        super().__init__(
            f"Snooze {incident.ref}",
            f"Hold notifications and escalation for {incident.ref} back. Its state does not "
            "change; it wakes by itself at the end.",
            "Snooze",
            parent,
        )
        self.group = QButtonGroup(self)
        self.choices: list[QRadioButton] = []
        for number, (text, _length) in enumerate(SNOOZE_CHOICES):
            radio = QRadioButton(text)
            radio.setObjectName(f"snooze-{number}")
            self.group.addButton(radio, number)
            self.choices.append(radio)
            self.form.addRow(radio)
        self.until_radio = QRadioButton("Until")
        self.until_radio.setObjectName("snooze-until")
        self.group.addButton(self.until_radio, len(SNOOZE_CHOICES))
        self.until_edit = QDateTimeEdit()
        self.until_edit.setObjectName("snooze-until-time")
        self.until_edit.setAccessibleName("Snooze until")
        self.until_edit.setCalendarPopup(True)
        self.until_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        start = QDateTime.fromSecsSinceEpoch(int((now + timedelta(hours=8)).timestamp()))
        self.until_edit.setDateTime(start)
        self.until_edit.setMinimumDateTime(QDateTime.fromSecsSinceEpoch(int(now.timestamp())))
        self.until_edit.dateTimeChanged.connect(lambda _v: self.until_radio.setChecked(True))
        self.form.addRow(self.until_radio, self.until_edit)
        self.choices[1].setChecked(True)

    def choice(self) -> SnoozeChoice:
        """What was chosen."""
        number = self.group.checkedId()
        if 0 <= number < len(SNOOZE_CHOICES):
            return SnoozeChoice(length=SNOOZE_CHOICES[number][1])
        seconds = self.until_edit.dateTime().toSecsSinceEpoch()
        return SnoozeChoice(until=datetime.fromtimestamp(seconds, UTC))


# -- reassign -------------------------------------------------------------------------------------


class ReassignDialog(IncidentDialog):
    """Give the incident to another team, saying why."""

    def __init__(
        self,
        incident: Incident,
        teams: Sequence[tuple[str, str]],
        parent: QWidget | None = None,
    ) -> None:
        """Offer every team but the incident's own (key, name pairs)."""
        super().__init__(
            f"Reassign {incident.ref}",
            f"Give {incident.ref} to another team. The reason is recorded on its timeline.",
            "Reassign",
            parent,
        )
        self.team = KeyCombo(keep_unknown=False)
        self.team.setObjectName("reassign-team")
        self.team.set_choices([(k, n) for k, n in teams if k != incident.team])
        self.reason = _reason_field("The database team owns the failing replica")
        self.add_row("&Team", self.team)
        self.add_row("&Reason", self.reason)
        self.reason.textChanged.connect(self.refresh)
        self.refresh()

    def is_valid(self) -> bool:
        """A team and a reason."""
        return self.team.key() is not None and bool(self.reason.text().strip())

    def answer(self) -> tuple[str, str]:
        """The team's key and the reason."""
        team = self.team.key()
        assert team is not None
        return team, self.reason.text().strip()


# -- merge ----------------------------------------------------------------------------------------


def merge_label(incident: Incident) -> str:
    """How a merge target is offered: ``INC-3 · P1 · Checkout is down``."""
    return f"{incident.ref} · {incident.priority.value} · {incident.title}"


class MergeDialog(IncidentDialog):
    """Merge the incident into another open one (the same trouble, reported twice)."""

    def __init__(
        self, incident: Incident, candidates: Sequence[Incident], parent: QWidget | None = None
    ) -> None:
        """Offer the open incidents other than ``incident``."""
        super().__init__(
            f"Merge {incident.ref}",
            f"{incident.ref} is resolved as merged and its signals land on the incident you "
            "choose from now on. Incidents grouped under it move with it.",
            "Merge",
            parent,
        )
        self.target = KeyCombo(keep_unknown=False)
        self.target.setObjectName("merge-target")
        self.target.setMinimumContentsLength(40)
        choices = [(i.id, merge_label(i)) for i in candidates if i.id != incident.id and i.is_open]
        self.target.set_choices(choices)
        self.add_row("&Into", self.target, "Merge into")
        if not choices:
            self.text.setText(f"There is no other open incident to merge {incident.ref} into.")
        self.refresh()

    def is_valid(self) -> bool:
        """An incident to merge into."""
        return self.target.key() is not None

    def answer(self) -> str:
        """The id of the incident that stays."""
        key = self.target.key()
        assert key is not None
        return key


# -- priority -------------------------------------------------------------------------------------


class PriorityDialog(IncidentDialog):
    """Set the priority by hand instead of the matrix, saying why."""

    def __init__(self, incident: Incident, parent: QWidget | None = None) -> None:
        """Start from the incident's priority; show what the matrix said."""
        super().__init__(
            f"Override the priority of {incident.ref}",
            f"Now {labels.PRIORITY[incident.priority]}: {incident.priority_reason}. "
            "A priority set by hand stays, whatever the severity does later; the reason is "
            "recorded on the timeline.",
            "Set priority",
            parent,
        )
        self._current = incident.priority
        self.priority = EnumCombo(labels.PRIORITY)
        self.priority.setObjectName("override-priority")
        self.priority.set_value(incident.priority)
        self.reason = _reason_field("Checkout revenue is at stake: treat as P1")
        self.add_row("&Priority", self.priority)
        self.add_row("&Reason", self.reason)
        self.priority.currentIndexChanged.connect(self.refresh)
        self.reason.textChanged.connect(self.refresh)
        self.refresh()

    def is_valid(self) -> bool:
        """Another priority, and a reason."""
        return self.priority.value() is not self._current and bool(self.reason.text().strip())

    def answer(self) -> tuple[Priority, str]:
        """The priority and the reason."""
        chosen: Priority = self.priority.value()
        return chosen, self.reason.text().strip()


# -- acknowledge on behalf ------------------------------------------------------------------------


class AckOnBehalfDialog(IncidentDialog):
    """Acknowledge for someone who answered away from the console: who, and how they answered."""

    def __init__(
        self,
        incident: Incident,
        members: Sequence[tuple[str, str]],
        reached: Sequence[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        """Offer every member (email, name pairs), those the escalation reached first."""
        super().__init__(
            f"Acknowledge {incident.ref} on behalf of someone",
            f"Someone answered the page for {incident.ref} by phone, SMS, chat or in person. "
            "Escalation stops; the timeline records who answered, how, and that you recorded it.",
            "Acknowledge",
            parent,
        )
        first = [m for m in members if m[0] in reached]
        rest = sorted((m for m in members if m[0] not in reached), key=lambda m: m[1].casefold())
        self.member = KeyCombo(keep_unknown=False)
        self.member.setObjectName("behalf-member")
        self.member.set_choices([(k, f"{n} <{k}>") for k, n in (*first, *rest)])
        self.via = KeyCombo(keep_unknown=False)
        self.via.setObjectName("behalf-via")
        self.via.set_choices([(c.value, c.label) for c in AckChannel])
        self.add_row("&Who answered", self.member)
        self.add_row("&How", self.via, "How they answered")
        if not members:
            self.text.setText("There are no members to acknowledge for: add them first.")
        self.refresh()

    def is_valid(self) -> bool:
        """A member and a way."""
        return self.member.key() is not None and self.via.key() is not None

    def answer(self) -> tuple[str, AckChannel]:
        """The member's email and how they answered."""
        member, via = self.member.key(), self.via.key()
        assert member is not None and via is not None
        return member, AckChannel(via)
