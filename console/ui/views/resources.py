"""The Resources page: things several teams may need in an incident, held by reference."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget

from console.core.enums import EntityKind, ResourceKind
from console.core.models import Estate, SharedResource
from console.core.references import Record
from console.ui import labels
from console.ui.estate import EstateModel
from console.ui.models.parts import CheckListModel
from console.ui.models.records import resources_model
from console.ui.theme import Theme
from console.ui.views.editor import RecordEditor
from console.ui.views.page import Page
from console.ui.widgets.common import section_title
from console.ui.widgets.fields import EnumCombo, check_list
from console.ui.widgets.form import Form


def _plain(edit: QPlainTextEdit, height: int) -> QPlainTextEdit:
    edit.setFixedHeight(height)
    edit.setTabChangesFocus(True)
    return edit


class ResourceEditor(RecordEditor):
    """Edits a shared resource: kind, who may use it and how to get it."""

    kind = EntityKind.RESOURCE
    noun = "resource"
    plural = "resources"
    icon_name = "resources"

    def __init__(self, estate: EstateModel, theme: Theme, parent: QWidget | None = None) -> None:
        """A resource editor following ``estate``."""
        super().__init__(estate, theme, resources_model(estate), parent)

    def build(self, form: Form, body: QVBoxLayout) -> None:
        """Resource fields."""
        self.key_edit = QLineEdit()
        self.key_edit.setPlaceholderText("incident-bridge")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Incident bridge line")
        self.kind_combo = EnumCombo(labels.RESOURCE_KIND)
        self.description_edit = _plain(QPlainTextEdit(), 80)
        self.description_edit.setPlaceholderText("What it is and when it helps")
        self.teams = CheckListModel(self)
        self.teams_view = check_list(self.teams, rows=6)
        self.teams_view.setObjectName("resource-teams")
        self.obtain_edit = _plain(QPlainTextEdit(), 90)
        self.obtain_edit.setPlaceholderText("Who to ask, which ticket queue, how long it takes")
        self.secret_edit = QLineEdit()
        self.secret_edit.setPlaceholderText("oncall-console/incident-bridge-pin")
        form.add_row("Id", self.key_edit, "id", hint="Lowercase letters, digits and '-'.")
        form.add_row("Name", self.name_edit, "name")
        form.add_row("Kind", self.kind_combo, "kind")
        form.add_row("Description", self.description_edit, "description")
        form.add_wide(section_title("Access"))
        form.add_row(
            "Who may use", self.teams_view, "who_may_use", item_noun="Team",
            hint="The teams allowed to use it.",
        )  # fmt: skip
        form.add_row("How to obtain", self.obtain_edit, "how_to_obtain")
        form.add_row(
            "Keyring entry",
            self.secret_edit,
            "secret_ref",
            hint="Only the name of an entry in the operating system's keyring is stored "
            "here; the secret itself never enters the console's store.",
        )
        self.watch(
            self.key_edit, self.name_edit, self.kind_combo, self.description_edit,
            self.obtain_edit, self.secret_edit,
        )  # fmt: skip
        self.teams.edited.connect(self._mark_dirty)

    def tab_chain(self) -> list[QWidget]:
        """Fields in reading order."""
        return [
            self.key_edit, self.name_edit, self.kind_combo, self.description_edit,
            self.teams_view, self.obtain_edit, self.secret_edit,
        ]  # fmt: skip

    def key_field(self) -> QLineEdit:
        """The id field."""
        return self.key_edit

    def records(self, estate: Estate) -> Sequence[Record]:
        """Every shared resource."""
        return estate.resources

    def refresh_choices(self, estate: Estate) -> None:
        """Teams that may be allowed."""
        self.teams.set_items([(t.key, t.name) for t in estate.teams], self.teams.checked())

    def fill(self, record: Any) -> None:
        """Show a resource (or a blank one)."""
        resource: SharedResource | None = record
        self.key_edit.setText(resource.key if resource else "")
        self.name_edit.setText(resource.name if resource else "")
        self.kind_combo.set_value(resource.kind if resource else ResourceKind.OTHER)
        self.description_edit.setPlainText(resource.description or "" if resource else "")
        self.teams.set_items(
            [(t.key, t.name) for t in self.estate_model.estate.teams],
            resource.who_may_use if resource else (),
        )
        self.obtain_edit.setPlainText(resource.how_to_obtain or "" if resource else "")
        self.secret_edit.setText(resource.secret_ref or "" if resource else "")

    def collect(self) -> SharedResource:
        """The resource the fields describe."""
        secret = self.secret_edit.text()
        return SharedResource(
            key=self.key_edit.text().strip(),
            name=self.name_edit.text().strip(),
            kind=self.kind_combo.value(),
            description=self.description_edit.toPlainText().strip() or None,
            who_may_use=self.teams.checked(),
            how_to_obtain=self.obtain_edit.toPlainText().strip() or None,
            # Blank means none; whitespace only is kept so validation can point at it.
            secret_ref=(secret.strip() or secret) if secret else None,
        )


class ResourcesPage(Page):
    """Shared resources."""

    title = "Resources"
    icon_name = "resources"

    def __init__(self, estate: EstateModel, theme: Theme, parent: QWidget | None = None) -> None:
        """The resource editor."""
        super().__init__(
            theme,
            "What several teams may need in an incident: bridge lines, forensic workstations, "
            "vendor support, break-glass access. Secrets stay in the keyring.",
            parent,
        )
        self.resources = ResourceEditor(estate, theme)
        self.set_content(self.resources)
