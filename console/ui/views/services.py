"""The Services page: services with owner, tier, tags and dependencies; the priority matrix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from console.core.enums import EntityKind, ImpactTier, Priority
from console.core.errors import ConsoleError
from console.core.models import SEVERITY_ORDER, Estate, PriorityMatrix, Service
from console.core.references import Record
from console.ui import icons, labels
from console.ui.estate import EstateModel
from console.ui.models.parts import CheckListModel
from console.ui.models.records import services_model
from console.ui.theme import Theme
from console.ui.views.editor import RecordEditor
from console.ui.views.page import Page
from console.ui.widgets.common import Banner, button, section_title
from console.ui.widgets.fields import EnumCombo, KeyCombo, check_list
from console.ui.widgets.form import Form


class ServiceEditor(RecordEditor):
    """Edits a service: owner, impact tier, description, tags and what it depends on."""

    kind = EntityKind.SERVICE
    noun = "service"
    plural = "services"
    icon_name = "services"

    def __init__(self, estate: EstateModel, theme: Theme, parent: QWidget | None = None) -> None:
        """A service editor following ``estate``."""
        super().__init__(estate, theme, services_model(estate), parent)

    def build(self, form: Form, body: QVBoxLayout) -> None:
        """Service fields and the dependency check list."""
        self.key_edit = QLineEdit()
        self.key_edit.setPlaceholderText("payments-api")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Payments API")
        self.team = KeyCombo()
        self.tier = EnumCombo(labels.TIER)
        self.description_edit = QPlainTextEdit()
        self.description_edit.setPlaceholderText("What it does and who notices when it fails")
        self.description_edit.setFixedHeight(80)
        self.description_edit.setTabChangesFocus(True)
        self.tags_edit = QLineEdit()
        self.tags_edit.setPlaceholderText("payments, pci, customer-facing")
        form.add_row("Id", self.key_edit, "id", hint="Lowercase letters, digits and '-'.")
        form.add_row("Name", self.name_edit, "name")
        form.add_row("Owner team", self.team, "team")
        form.add_row(
            "Impact tier",
            self.tier,
            "tier",
            hint="Tier 1 services turn a critical alert into a P1 page (see Priority matrix).",
        )
        form.add_row("Description", self.description_edit, "description")
        form.add_row("Tags", self.tags_edit, "tags", hint="Separated by commas.", item_noun="Tag")
        form.add_wide(section_title("Dependencies"))
        self.dependencies = CheckListModel(self)
        self.dependencies_view = check_list(self.dependencies, rows=8, min_rows=3)
        self.dependencies_view.setObjectName("service-dependencies")
        form.add_row(
            "Depends on",
            self.dependencies_view,
            "depends_on",
            hint="Tick every service this one needs; press Space to tick the selected one.",
            item_noun="Dependency",
        )
        self.used_by = QLabel()
        self.used_by.setWordWrap(True)
        form.add_row("Used by", self.used_by)
        self.watch(self.key_edit, self.name_edit, self.team, self.tier, self.description_edit)
        self.watch(self.tags_edit)
        self.dependencies.edited.connect(self._mark_dirty)

    def tab_chain(self) -> list[QWidget]:
        """Fields in reading order."""
        return [
            self.key_edit, self.name_edit, self.team, self.tier, self.description_edit,
            self.tags_edit, self.dependencies_view,
        ]  # fmt: skip

    def key_field(self) -> QLineEdit:
        """The id field."""
        return self.key_edit

    def records(self, estate: Estate) -> Sequence[Record]:
        """Every service."""
        return estate.services

    def refresh_choices(self, estate: Estate) -> None:
        """Teams for the owner choice; other services for dependencies."""
        self.team.set_choices([(t.key, t.name) for t in estate.teams])
        current = self.dependencies.checked()
        own = self.key_edit.text().strip()
        self.dependencies.set_items(
            [(s.key, s.name) for s in estate.services if s.key != own], current
        )

    def fill(self, record: Any) -> None:
        """Show a service (or a blank one)."""
        service: Service | None = record
        estate = self.estate_model.estate
        self.key_edit.setText(service.key if service else "")
        self.name_edit.setText(service.name if service else "")
        self.team.set_key(service.team if service else None)
        self.tier.set_value(service.tier if service else ImpactTier.TIER_3)
        self.description_edit.setPlainText(service.description or "" if service else "")
        self.tags_edit.setText(", ".join(service.tags) if service else "")
        own = service.key if service else ""
        self.dependencies.set_items(
            [(s.key, s.name) for s in estate.services if s.key != own],
            service.depends_on if service else (),
        )
        self.used_by.setText(self._used_by(own) if service else "—")

    def _used_by(self, key: str) -> str:
        estate = self.estate_model.estate
        services = [s.name for s in estate.services if key in s.depends_on]
        runbooks = [r.title for r in estate.runbooks if key in r.services]
        parts = []
        if services:
            parts.append("Services: " + ", ".join(services))
        if runbooks:
            parts.append("Runbooks: " + ", ".join(runbooks))
        return "\n".join(parts) or "Nothing depends on this service."

    def collect(self) -> Service:
        """The service the fields describe."""
        tags = tuple(t.strip() for t in self.tags_edit.text().split(",") if t.strip())
        return Service(
            key=self.key_edit.text().strip(),
            name=self.name_edit.text().strip(),
            team=self.team.key() or "",
            tier=self.tier.value(),
            description=self.description_edit.toPlainText().strip() or None,
            tags=tags,
            depends_on=self.dependencies.checked(),
        )


class MatrixEditor(QWidget):
    """The priority matrix: impact tier x severity -> priority, as a grid of choices."""

    message = Signal(str)

    def __init__(self, estate: EstateModel, theme: Theme, parent: QWidget | None = None) -> None:
        """A 4 x 3 grid of priority choices with Save and Revert."""
        super().__init__(parent)
        self.estate_model = estate
        self._busy = False
        self._dirty = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 16, 20, 16)
        panel = QFrame()
        panel.setObjectName("Panel")
        outer.addWidget(panel)
        outer.addStretch(1)
        box = QVBoxLayout(panel)
        box.setContentsMargins(24, 20, 24, 18)
        box.setSpacing(12)
        title = QLabel("Priority matrix")
        title.setObjectName("FormTitle")
        explain = QLabel(
            "An alert's priority comes from the impact tier of the service it concerns and "
            "the alert's severity. P1 pages the on-call responder at once; P5 waits for "
            "working hours."
        )
        explain.setObjectName("Muted")
        explain.setWordWrap(True)
        box.addWidget(title)
        box.addWidget(explain)
        self.banner = Banner()
        box.addWidget(self.banner)
        box.addLayout(self._build_grid())
        box.addLayout(self._build_buttons(theme))
        estate.changed.connect(self._on_estate_changed)
        self._on_estate_changed()

    def _build_grid(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(10)
        for col, severity in enumerate(SEVERITY_ORDER, start=1):
            head = QLabel(labels.SEVERITY[severity])
            head.setObjectName("SectionTitle")
            grid.addWidget(head, 0, col)
        self.cells: dict[tuple[ImpactTier, int], EnumCombo] = {}
        for row, tier in enumerate(ImpactTier, start=1):
            grid.addWidget(QLabel(labels.TIER[tier]), row, 0)
            for col in range(len(SEVERITY_ORDER)):
                combo = EnumCombo(labels.PRIORITY)
                combo.setObjectName(f"matrix-{int(tier)}-{SEVERITY_ORDER[col].value}")
                combo.currentIndexChanged.connect(self._on_edited)
                grid.addWidget(combo, row, col + 1)
                self.cells[(tier, col)] = combo
        grid.setColumnStretch(4, 1)
        return grid

    def _build_buttons(self, theme: Theme) -> QHBoxLayout:
        row = QHBoxLayout()
        self.defaults_button = button("Restore defaults")
        self.defaults_button.clicked.connect(lambda: self._show(PriorityMatrix()))
        self.dirty_label = QLabel("Unsaved changes")
        self.dirty_label.setObjectName("Muted")
        self.dirty_label.hide()
        self.revert_button = button("Revert", icons.icon("revert", theme.muted))
        self.revert_button.clicked.connect(self._revert)
        self.save_button = button(
            "Save matrix", icons.icon("save", theme.accent_text), name="Primary"
        )
        self.save_button.clicked.connect(self.save)
        row.addWidget(self.defaults_button)
        row.addStretch(1)
        row.addWidget(self.dirty_label)
        row.addWidget(self.revert_button)
        row.addWidget(self.save_button)
        return row

    def _stored(self) -> PriorityMatrix:
        return self.estate_model.estate.priority_matrix or PriorityMatrix()

    def matrix(self) -> PriorityMatrix:
        """The matrix the grid shows now."""
        rows = []
        for tier in ImpactTier:
            row: list[Priority] = [
                self.cells[(tier, col)].value() for col in range(len(SEVERITY_ORDER))
            ]
            rows.append(tuple(row))
        return PriorityMatrix(tuple(rows))

    def _show(self, matrix: PriorityMatrix) -> None:
        for (tier, col), combo in self.cells.items():
            combo.blockSignals(True)
            combo.set_value(matrix.grid[int(tier) - 1][col])
            combo.blockSignals(False)
        self._on_edited()

    def _on_edited(self, *_args: object) -> None:
        dirty = self.matrix() != self._stored()
        self._dirty = dirty
        self.dirty_label.setVisible(dirty)
        self.revert_button.setEnabled(dirty and not self._busy)
        self.save_button.setEnabled(dirty and not self._busy)

    def _on_estate_changed(self) -> None:
        if not self._dirty:
            self._show(self._stored())
        else:
            self._on_edited()

    def _revert(self) -> None:
        self._show(self._stored())

    def save(self) -> None:
        """Write the matrix (on the worker)."""
        if self._busy:
            return
        self._busy = True
        self.banner.clear_message()
        job = self.estate_model.set_priority_matrix(self.matrix())
        job.succeeded.connect(self._saved)
        job.failed.connect(self._failed)
        self._on_edited()

    def _saved(self, _event: object) -> None:
        self._busy = False
        self._show(self._stored())
        self.message.emit("Saved the priority matrix")

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        self._on_edited()
        if not isinstance(exc, ConsoleError):
            raise exc
        self.banner.show_message(str(exc))


class ServicesPage(Page):
    """Services and how their impact sets priorities."""

    title = "Services"
    icon_name = "services"

    def __init__(self, estate: EstateModel, theme: Theme, parent: QWidget | None = None) -> None:
        """The service editor and the priority matrix, in tabs."""
        super().__init__(
            theme,
            "What the business depends on: owners, impact tiers and dependencies, and how "
            "impact and severity set an alert's priority.",
            parent,
        )
        self.services = ServiceEditor(estate, theme)
        self.matrix = MatrixEditor(estate, theme)
        self.matrix.message.connect(self.message)
        self.add_tab(self.services, "Services", "services")
        self.add_tab(self.matrix, "Priority matrix", "matrix")
