"""The Teams page: teams with their members and roles, and the people themselves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import available_timezones

from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCompleter,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.core.enums import Discipline, EntityKind, MemberRole
from console.core.models import Estate, Member, Team
from console.core.references import Record
from console.ui import icons, labels
from console.ui.estate import EstateModel
from console.ui.models.parts import ChatHandlesModel, MembershipModel
from console.ui.models.records import members_model, teams_model
from console.ui.theme import Theme
from console.ui.views.editor import RecordEditor
from console.ui.views.page import Page
from console.ui.widgets.common import button, section_title
from console.ui.widgets.fields import EnumCombo, KeyCombo, RoleDelegate, fit_to_rows
from console.ui.widgets.form import Form


def _text(edit: QLineEdit) -> str | None:
    value = edit.text().strip()
    return value or None


def _parts_table(model: Any, rows: int = 5) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(30)
    view.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    view.setShowGrid(False)
    view.setTabKeyNavigation(False)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    fit_to_rows(view, 2, rows)
    return view


class TeamEditor(RecordEditor):
    """Edits a team: its fields and its members with their roles."""

    kind = EntityKind.TEAM
    noun = "team"
    plural = "teams"
    icon_name = "teams"

    def __init__(self, estate: EstateModel, theme: Theme, parent: QWidget | None = None) -> None:
        """A team editor following ``estate``."""
        super().__init__(estate, theme, teams_model(estate), parent)

    def build(self, form: Form, body: QVBoxLayout) -> None:
        """Team fields, then the members table with add/remove."""
        self.key_edit = QLineEdit()
        self.key_edit.setPlaceholderText("noc")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Network Operations Centre")
        self.discipline = EnumCombo(labels.DISCIPLINE)
        self.lead = KeyCombo("No lead")
        self.bridge_edit = QLineEdit()
        self.bridge_edit.setPlaceholderText(
            "https://meet.example.com/noc  or  tel:+44 20 7946 0000"
        )
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setPlaceholderText("How to reach the team, hand-over habits…")
        self.notes_edit.setFixedHeight(96)
        self.notes_edit.setTabChangesFocus(True)
        form.add_row("Id", self.key_edit, "id", hint="Lowercase letters, digits and '-'.")
        form.add_row("Name", self.name_edit, "name")
        form.add_row("Discipline", self.discipline, "discipline")
        form.add_row("Lead", self.lead, "lead")
        form.add_row("Bridge", self.bridge_edit, "bridge")
        form.add_row("Notes", self.notes_edit, "notes")
        form.add_wide(section_title("Members"))
        self.memberships = MembershipModel(self)
        self.members_view = _parts_table(self.memberships, rows=8)
        self.members_view.setObjectName("team-members")
        self.members_view.setItemDelegateForColumn(MembershipModel.ROLE_COLUMN, RoleDelegate(self))
        self.members_view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        form.add_row(
            "Members",
            self.members_view,
            "members",
            hint="Double-click a role (or press F2) to change it.",
            item_noun="Member",
        )
        form.add_row("Add", self._build_add_row(), None)
        self.watch(
            self.key_edit,
            self.name_edit,
            self.discipline,
            self.lead,
            self.bridge_edit,
            self.notes_edit,
        )
        self.memberships.edited.connect(self._mark_dirty)

    def _build_add_row(self) -> QWidget:
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        self.member_picker = KeyCombo(keep_unknown=False)
        self.member_picker.setObjectName("member-picker")
        self.role_picker = EnumCombo(labels.ROLE)
        self.role_picker.set_value(MemberRole.RESPONDER)
        self.add_member_button = button("Add member", icons.icon("add", self.theme.muted))
        self.add_member_button.clicked.connect(self.add_member)
        self.remove_member_button = button("Remove", icons.icon("delete", self.theme.muted))
        self.remove_member_button.setToolTip("Remove the selected member from this team")
        self.remove_member_button.clicked.connect(self.remove_member)
        box.addWidget(self.member_picker, 2)
        box.addWidget(self.role_picker, 1)
        box.addWidget(self.add_member_button)
        box.addWidget(self.remove_member_button)
        return row

    def tab_chain(self) -> list[QWidget]:
        """Fields in reading order."""
        return [
            self.key_edit, self.name_edit, self.discipline, self.lead, self.bridge_edit,
            self.notes_edit, self.members_view, self.member_picker, self.role_picker,
            self.add_member_button, self.remove_member_button,
        ]  # fmt: skip

    def key_field(self) -> QLineEdit:
        """The id field."""
        return self.key_edit

    def records(self, estate: Estate) -> Sequence[Record]:
        """Every team."""
        return estate.teams

    def refresh_choices(self, estate: Estate) -> None:
        """Members for the lead and the picker; display names for the table."""
        people = [(m.email, f"{m.name}  <{m.email}>") for m in estate.members]
        self.lead.set_choices(people)
        self.memberships.set_names({m.email: m.name for m in estate.members})
        self._refresh_picker()

    def _refresh_picker(self) -> None:
        taken = {ms.member for ms in self.memberships.memberships()}
        people = [
            (m.email, f"{m.name}  <{m.email}>")
            for m in self.estate_model.estate.members
            if m.email not in taken
        ]
        self.member_picker.set_choices(people)
        self.add_member_button.setEnabled(bool(people))

    def fill(self, record: Any) -> None:
        """Show a team (or a blank one)."""
        team: Team | None = record
        self.key_edit.setText(team.key if team else "")
        self.name_edit.setText(team.name if team else "")
        self.discipline.set_value(team.discipline if team else Discipline.INFRASTRUCTURE)
        self.lead.set_key(team.lead if team else None)
        self.bridge_edit.setText(team.bridge_url or "" if team else "")
        self.notes_edit.setPlainText(team.notes or "" if team else "")
        self.memberships.set_memberships(team.members if team else ())
        self._refresh_picker()

    def collect(self) -> Team:
        """The team the fields describe."""
        return Team(
            key=self.key_edit.text().strip(),
            name=self.name_edit.text().strip(),
            discipline=self.discipline.value(),
            lead=self.lead.key(),
            bridge_url=_text(self.bridge_edit),
            notes=self.notes_edit.toPlainText().strip() or None,
            members=self.memberships.memberships(),
        )

    def add_member(self) -> None:
        """Add the picked member with the picked role."""
        email = self.member_picker.key()
        if email is None:
            return
        row = self.memberships.add(email, self.role_picker.value())
        self.members_view.selectRow(row)
        self._refresh_picker()

    def remove_member(self) -> None:
        """Remove the selected member from the team."""
        rows = self.members_view.selectionModel().selectedRows()
        if rows:
            self.memberships.remove(rows[0].row())
            self._refresh_picker()

    def delete_consequence(self) -> str:
        """Deleting a team keeps its members."""
        return "Its members stay in the directory. This cannot be undone."


class MemberEditor(RecordEditor):
    """Edits a person: contact details, time zone, discipline and chat handles."""

    kind = EntityKind.MEMBER
    noun = "member"
    plural = "members"
    icon_name = "person"

    def __init__(self, estate: EstateModel, theme: Theme, parent: QWidget | None = None) -> None:
        """A member editor following ``estate``; time zone names load on the worker."""
        super().__init__(estate, theme, members_model(estate), parent)
        job = estate.call(lambda: sorted(available_timezones()))
        job.succeeded.connect(self.zone_names.setStringList)

    def build(self, form: Form, body: QVBoxLayout) -> None:
        """Member fields and the chat handles table."""
        self.email_edit = QLineEdit()
        self.email_edit.setPlaceholderText("ada@example.com")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Ada Lovelace")
        self.zone_edit = QLineEdit()
        self.zone_edit.setPlaceholderText("Europe/London")
        self.zone_names = QStringListModel(self)
        completer = QCompleter(self.zone_names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.zone_edit.setCompleter(completer)
        self.discipline = EnumCombo(labels.DISCIPLINE)
        self.phone_edit = QLineEdit()
        self.phone_edit.setPlaceholderText("+44 20 7946 0000")
        form.add_row("Email", self.email_edit, "email", hint="The member's id; it cannot change.")
        form.add_row("Name", self.name_edit, "name")
        form.add_row("Time zone", self.zone_edit, "timezone", hint="An IANA name; type to search.")
        form.add_row("Discipline", self.discipline, "discipline")
        form.add_row("Phone", self.phone_edit, "phone")
        form.add_wide(section_title("Chat"))
        self.chat = ChatHandlesModel(self)
        self.chat_view = _parts_table(self.chat, rows=4)
        self.chat_view.setObjectName("member-chat")
        form.add_row("Handles", self.chat_view, "chat", item_noun="Handle")
        chat_buttons = QWidget()
        row = QHBoxLayout(chat_buttons)
        row.setContentsMargins(0, 0, 0, 0)
        self.add_chat_button = button("Add handle", icons.icon("add", self.theme.muted))
        self.add_chat_button.clicked.connect(self.add_handle)
        self.remove_chat_button = button("Remove", icons.icon("delete", self.theme.muted))
        self.remove_chat_button.clicked.connect(self.remove_handle)
        row.addWidget(self.add_chat_button)
        row.addWidget(self.remove_chat_button)
        row.addStretch(1)
        form.add_row("", chat_buttons)
        form.add_wide(section_title("Teams"))
        self.teams_label = QLabel()
        self.teams_label.setWordWrap(True)
        form.add_row("Member of", self.teams_label)
        self.watch(
            self.email_edit, self.name_edit, self.zone_edit, self.discipline, self.phone_edit
        )
        self.chat.edited.connect(self._mark_dirty)

    def tab_chain(self) -> list[QWidget]:
        """Fields in reading order."""
        return [
            self.email_edit, self.name_edit, self.zone_edit, self.discipline, self.phone_edit,
            self.chat_view, self.add_chat_button, self.remove_chat_button,
        ]  # fmt: skip

    def key_field(self) -> QLineEdit:
        """The email field."""
        return self.email_edit

    def records(self, estate: Estate) -> Sequence[Record]:
        """Every member."""
        return estate.members

    def fill(self, record: Any) -> None:
        """Show a member (or a blank one)."""
        member: Member | None = record
        self.email_edit.setText(member.email if member else "")
        self.name_edit.setText(member.name if member else "")
        self.zone_edit.setText(member.timezone if member else "")
        self.discipline.set_value(member.discipline if member else Discipline.INFRASTRUCTURE)
        self.phone_edit.setText(member.phone or "" if member else "")
        self.chat.set_handles(member.chat if member else ())
        self.teams_label.setText(self._teams_of(member.email) if member else "—")

    def _teams_of(self, email: str) -> str:
        parts = [
            f"{t.name} ({labels.ROLE[role]})"
            for t in self.estate_model.estate.teams
            if (role := t.role_of(email)) is not None
        ]
        return ", ".join(parts) or "Not in any team yet (add them from a team's Members list)."

    def collect(self) -> Member:
        """The member the fields describe."""
        return Member(
            email=self.email_edit.text().strip(),
            name=self.name_edit.text().strip(),
            timezone=self.zone_edit.text().strip(),
            discipline=self.discipline.value(),
            phone=_text(self.phone_edit),
            chat=self.chat.handles(),
        )

    def add_handle(self) -> None:
        """Add an empty chat handle row and start editing its network."""
        row = self.chat.add()
        index = self.chat.index(row, 0)
        self.chat_view.setCurrentIndex(index)
        self.chat_view.edit(index)

    def remove_handle(self) -> None:
        """Remove the selected chat handle."""
        rows = self.chat_view.selectionModel().selectedRows()
        if rows:
            self.chat.remove(rows[0].row())

    def delete_consequence(self) -> str:
        """Deleting a member is refused while a team lists them."""
        return "Their past actions stay in the record. This cannot be undone."


class TeamsPage(Page):
    """Teams and the people in them."""

    title = "Teams"
    icon_name = "teams"

    def __init__(self, estate: EstateModel, theme: Theme, parent: QWidget | None = None) -> None:
        """Two editors under one header: teams, and members."""
        super().__init__(
            theme,
            "Who responds: security, infrastructure and development teams, their members "
            "and roles.",
            parent,
        )
        self.teams = TeamEditor(estate, theme)
        self.members = MemberEditor(estate, theme)
        self.add_tab(self.teams, "Teams", "teams")
        self.add_tab(self.members, "Members", "person")
