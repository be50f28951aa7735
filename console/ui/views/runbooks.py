"""The Runbooks page: search, a step-by-step Markdown editor with live preview, and history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QItemSelection, QModelIndex, QSize, Qt, QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from console.core.enums import EntityKind
from console.core.models import Estate, Runbook, RunbookStep, RunbookVersion
from console.core.references import Record
from console.store import estate as estate_store
from console.ui import icons, labels
from console.ui.estate import EstateModel
from console.ui.models.parts import CheckListModel, StepsModel, VersionsModel
from console.ui.models.records import runbooks_model
from console.ui.theme import Theme
from console.ui.views.editor import RecordEditor
from console.ui.views.page import Page
from console.ui.widgets.common import EmptyState, button
from console.ui.widgets.fields import NumberedDelegate, check_list
from console.ui.widgets.form import Form

SEARCH_DELAY_MS = 200
EVIDENCE_WARNING = (
    "This step destroys forensic evidence. Agree it with the security responders and "
    "capture what they need before running it."
)


def runbook_markdown(runbook: Runbook, service_names: dict[str, str] | None = None) -> str:
    """The whole runbook as one Markdown document (for reading, printing, old versions)."""
    names = service_names or {}
    lines = [f"# {runbook.title}", "", f"**Scenario:** {runbook.scenario}", ""]
    if runbook.services:
        services = ", ".join(names.get(s, s) for s in runbook.services)
        lines += [f"**Services:** {services}", ""]
    lines += [f"**Expected time:** {labels.minutes(runbook.expected_minutes)}", ""]
    for number, step in enumerate(runbook.steps, start=1):
        extra = f" ({labels.minutes(step.expected_minutes)})" if step.expected_minutes else ""
        lines += [f"## {number}. {step.title}{extra}", ""]
        if step.destroys_evidence:
            lines += [f"> **⚠ Destroys evidence.** {EVIDENCE_WARNING}", ""]
        lines += [step.body, ""]
    return "\n".join(lines)


class RunbookEditor(RecordEditor):
    """Edits a runbook: title, scenario, services, and its steps in Markdown."""

    kind = EntityKind.RUNBOOK
    noun = "runbook"
    plural = "runbooks"
    icon_name = "runbooks"
    expanding = True

    def __init__(self, estate: EstateModel, theme: Theme, parent: QWidget | None = None) -> None:
        """A runbook editor following ``estate``; the filter field is a full-text search."""
        self._step_filling = False
        super().__init__(estate, theme, runbooks_model(estate), parent)
        self.filter_edit.setPlaceholderText("Search runbooks: titles, scenarios, steps…  (Ctrl+F)")
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._search)
        self._search_text = ""

    # -- form ------------------------------------------------------------------------

    def build(self, form: Form, body: QVBoxLayout) -> None:
        """Runbook fields, then the steps list beside the step editor."""
        self.key_edit = QLineEdit()
        self.key_edit.setPlaceholderText("disk-full")
        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText("Disk full on a database host")
        self.scenario_edit = QPlainTextEdit()
        self.scenario_edit.setPlaceholderText("When to use this runbook")
        self.scenario_edit.setFixedHeight(76)
        self.scenario_edit.setTabChangesFocus(True)
        self.services = CheckListModel(self)
        self.services_view = check_list(self.services, rows=4)
        self.key_edit.setToolTip("Lowercase letters, digits and '-'; it cannot change later.")
        self.services_view.setObjectName("runbook-services")
        form.add_row("Id", self.key_edit, "id")
        form.add_row("Title", self.title_edit, "title")
        form.add_row("Scenario", self.scenario_edit, "scenario")
        form.add_row("Services", self.services_view, "services", item_noun="Service")
        self.steps = StepsModel(icons.icon("warning", self.theme.warning), self)
        form.add_row("Steps", self._build_steps(), "steps", item_noun="Step")
        self.watch(self.key_edit, self.title_edit, self.scenario_edit)
        self.services.edited.connect(self._mark_dirty)
        self.steps.edited.connect(self._mark_dirty)

    def _build_steps(self) -> QWidget:
        area = QWidget()
        grid = QGridLayout(area)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(8)
        self.steps_view = QListView()
        self.steps_view.setObjectName("runbook-steps")
        self.steps_view.setModel(self.steps)
        self.steps_view.setItemDelegate(NumberedDelegate(self.steps_view))
        self.steps_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.steps_view.setFixedWidth(300)
        self.steps_view.setFixedHeight(150)
        self.steps_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.steps_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.steps_view.setIconSize(QSize(16, 16))
        self.steps_view.selectionModel().selectionChanged.connect(self._on_step_selected)
        grid.addWidget(self.steps_view, 0, 0)
        grid.addLayout(self._build_step_buttons(), 1, 0)
        grid.addWidget(self._build_step_fields(), 0, 1, 2, 1)
        grid.setColumnStretch(1, 1)
        markdown = QSplitter(Qt.Orientation.Horizontal)
        markdown.setChildrenCollapsible(False)
        markdown.setHandleWidth(12)
        self.body_edit = QPlainTextEdit()
        self.body_edit.setObjectName("step-body")
        self.body_edit.setPlaceholderText("Write the step in Markdown: commands in `code`, lists…")
        self.body_edit.setTabChangesFocus(True)
        self.body_edit.setMinimumHeight(160)
        self.body_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.body_edit.textChanged.connect(self._on_body_changed)
        self.preview = QTextBrowser()
        self.preview.setObjectName("step-preview")
        self.preview.setOpenExternalLinks(True)
        self.preview.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        markdown.addWidget(self._titled("Instructions (Markdown)", self.body_edit))
        markdown.addWidget(self._titled("Preview", self.preview))
        grid.addWidget(markdown, 2, 0, 1, 2)
        grid.setRowStretch(2, 1)
        return area

    @staticmethod
    def _titled(title: str, widget: QWidget) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        label = QLabel(title)
        label.setObjectName("Muted")
        layout.addWidget(label)
        layout.addWidget(widget, 1)
        return box

    def _build_step_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(6)
        self.add_step_button = button("Add step", icons.icon("add", self.theme.muted))
        self.add_step_button.clicked.connect(self.add_step)
        self.remove_step_button = button("", icons.icon("delete", self.theme.muted))
        self.remove_step_button.setToolTip("Remove the selected step")
        self.remove_step_button.setAccessibleName("Remove step")
        self.remove_step_button.clicked.connect(self.remove_step)
        self.up_button = button("", icons.icon("up", self.theme.muted))
        self.up_button.setToolTip("Move the step up")
        self.up_button.setAccessibleName("Move step up")
        self.up_button.clicked.connect(lambda: self.move_step(-1))
        self.down_button = button("", icons.icon("down", self.theme.muted))
        self.down_button.setToolTip("Move the step down")
        self.down_button.setAccessibleName("Move step down")
        self.down_button.clicked.connect(lambda: self.move_step(1))
        for b in (self.add_step_button, self.remove_step_button, self.up_button, self.down_button):
            row.addWidget(b)
        row.addStretch(1)
        return row

    def _build_step_fields(self) -> QWidget:
        box = QWidget()
        form = QGridLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(8)
        self.step_title_edit = QLineEdit()
        self.step_title_edit.setObjectName("step-title")
        self.step_title_edit.setPlaceholderText("Free space on the data volume")
        self.step_title_edit.textEdited.connect(lambda text: self._update_step(title=text.strip()))
        self.minutes_spin = QSpinBox()
        self.minutes_spin.setObjectName("step-minutes")
        self.minutes_spin.setRange(0, 24 * 60)
        self.minutes_spin.setSpecialValueText("Not estimated")
        self.minutes_spin.setSuffix(" min")
        self.minutes_spin.valueChanged.connect(
            lambda v: self._update_step(expected_minutes=v or None)
        )
        self.evidence_check = QCheckBox("Destroys evidence")
        self.evidence_check.setObjectName("EvidenceFlag")
        self.evidence_check.setIcon(icons.icon("warning", self.theme.warning))
        self.evidence_check.toggled.connect(self._on_evidence_toggled)
        self.evidence_warning = QLabel(f"⚠  {EVIDENCE_WARNING}")
        self.evidence_warning.setObjectName("EvidenceWarning")
        self.evidence_warning.setWordWrap(True)
        self.evidence_warning.hide()
        form.addWidget(QLabel("Step title"), 0, 0)
        form.addWidget(self.step_title_edit, 0, 1)
        form.addWidget(QLabel("Expected time"), 1, 0)
        form.addWidget(self.minutes_spin, 1, 1, Qt.AlignmentFlag.AlignLeft)
        form.addWidget(self.evidence_check, 2, 1)
        form.addWidget(self.evidence_warning, 3, 0, 1, 2)
        form.setRowStretch(4, 1)
        form.setColumnStretch(1, 1)
        return box

    def tab_chain(self) -> list[QWidget]:
        """Fields in reading order."""
        return [
            self.key_edit, self.title_edit, self.scenario_edit, self.services_view,
            self.steps_view, self.add_step_button, self.remove_step_button, self.up_button,
            self.down_button, self.step_title_edit, self.minutes_spin, self.evidence_check,
            self.body_edit,
        ]  # fmt: skip

    def key_field(self) -> QLineEdit:
        """The id field."""
        return self.key_edit

    def title_of(self, record: Any) -> str:
        """A runbook is known by its title."""
        return str(record.title)

    def records(self, estate: Estate) -> Sequence[Record]:
        """Every runbook."""
        return estate.runbooks

    def refresh_choices(self, estate: Estate) -> None:
        """Services a runbook can be about."""
        current = self.services.checked()
        self.services.set_items([(s.key, s.name) for s in estate.services], current)

    def fill(self, record: Any) -> None:
        """Show a runbook (or a blank one with one empty step)."""
        runbook: Runbook | None = record
        self.key_edit.setText(runbook.key if runbook else "")
        self.title_edit.setText(runbook.title if runbook else "")
        self.scenario_edit.setPlainText(runbook.scenario if runbook else "")
        self.services.set_items(
            [(s.key, s.name) for s in self.estate_model.estate.services],
            runbook.services if runbook else (),
        )
        self.steps.set_steps(runbook.steps if runbook else (RunbookStep("", ""),))
        self._select_step(0)

    def collect(self) -> Runbook:
        """The runbook the fields describe."""
        return Runbook(
            key=self.key_edit.text().strip(),
            title=self.title_edit.text().strip(),
            scenario=self.scenario_edit.toPlainText().strip(),
            services=self.services.checked(),
            steps=tuple(
                RunbookStep(
                    s.title.strip(), s.body.strip(), s.expected_minutes, s.destroys_evidence
                )
                for s in self.steps.steps()
            ),
        )

    def extra_buttons(self) -> list[QPushButton]:
        """Start a drill of the selected runbook's scenario."""
        self.drill_button = QPushButton("Start drill…")
        self.drill_button.setObjectName("StartDrill")
        self.drill_button.setToolTip(
            "Rehearse this scenario: a DRILL incident opens and pages through its escalation "
            "policy for real (oncall-console drill start)"
        )
        self.drill_button.clicked.connect(self.request_drill)
        self.drill_confirmation: QMessageBox | None = None
        return [self.drill_button]

    def request_drill(self) -> None:
        """Ask, then open a drill incident of the selected runbook (on the worker)."""
        key = self.current_key
        if key is None or self.drill_confirmation is not None:
            return
        box = QMessageBox(self)
        box.setObjectName("ConfirmDrill")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Start a drill?")
        box.setText(f"Start a drill of “{self.title_edit.text() or key}”?")
        box.setInformativeText(
            "A critical incident marked DRILL opens on the runbook's first service and goes "
            "through alerting and escalation for real: people get paged (marked DRILL). End it "
            "with `oncall-console drill end REF` to record its report."
        )
        start = box.addButton("Start drill", QMessageBox.ButtonRole.AcceptRole)
        start.setObjectName("ConfirmButton")
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.finished.connect(lambda _r: self._on_drill_answer(box, key))
        self.drill_confirmation = box
        box.open()

    def _on_drill_answer(self, box: QMessageBox, key: str) -> None:
        clicked = box.clickedButton()
        confirmed = (
            clicked is not None and box.buttonRole(clicked) == QMessageBox.ButtonRole.AcceptRole
        )
        self.drill_confirmation = None
        box.deleteLater()
        if not confirmed:
            return
        store = self.estate_model.store

        def start() -> str:
            from console.store.drills import start_drill

            return start_drill(store, key, by=store.actor).ref

        job = self.estate_model.call(start)
        job.succeeded.connect(
            lambda ref: self.message.emit(f"Drill {ref} started: it pages for real")
        )
        job.failed.connect(lambda exc: self.banner.show_message(f"The drill did not start: {exc}"))

    def delete_consequence(self) -> str:
        """Versions outlive the runbook."""
        return "Its recorded versions are kept for the record. This cannot be undone."

    # -- steps -----------------------------------------------------------------------

    def _current_step(self) -> int:
        rows = self.steps_view.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def _select_step(self, row: int) -> None:
        if 0 <= row < self.steps.rowCount():
            self.steps_view.setCurrentIndex(self.steps.index(row))
        else:
            self.steps_view.setCurrentIndex(QModelIndex())
        self._load_step()

    def _on_step_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._load_step()

    def _load_step(self) -> None:
        row = self._current_step()
        has = row >= 0
        step = self.steps.step(row) if has else RunbookStep("", "")
        self._step_filling = True
        try:
            self.step_title_edit.setText(step.title)
            self.minutes_spin.setValue(step.expected_minutes or 0)
            self.evidence_check.setChecked(step.destroys_evidence)
            self.body_edit.setPlainText(step.body)
        finally:
            self._step_filling = False
        for w in (self.step_title_edit, self.minutes_spin, self.evidence_check, self.body_edit):
            w.setEnabled(has)
        self.evidence_warning.setVisible(step.destroys_evidence)
        self.preview.setMarkdown(step.body)

    def _update_step(self, **changes: Any) -> None:
        if self._step_filling:
            return
        row = self._current_step()
        if row >= 0:
            self.steps.update(row, **changes)

    def _on_body_changed(self) -> None:
        text = self.body_edit.toPlainText()
        self.preview.setMarkdown(text)
        self._update_step(body=text)

    def _on_evidence_toggled(self, on: bool) -> None:
        self.evidence_warning.setVisible(on)
        self._update_step(destroys_evidence=on)

    def add_step(self) -> None:
        """Insert an empty step after the selected one and start on its title."""
        row = self.steps.insert(self._current_step() + 1, RunbookStep("", ""))
        self._select_step(row)
        self.step_title_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def remove_step(self) -> None:
        """Remove the selected step."""
        row = self._current_step()
        if row >= 0:
            self.steps.remove(row)
            self._select_step(min(row, self.steps.rowCount() - 1))

    def move_step(self, delta: int) -> None:
        """Move the selected step up or down."""
        row = self._current_step()
        if row >= 0:
            self._select_step(self.steps.move(row, delta))

    # -- search ----------------------------------------------------------------------

    def apply_filter(self, text: str) -> None:
        """Full-text search (runs on the worker, a moment after typing stops)."""
        self._search_text = text.strip()
        if not self._search_text:
            self._search_timer.stop()
            self.proxy.set_keys(None)
            self._update_count()
        else:
            self._search_timer.start()

    def _search(self) -> None:
        text = self._search_text
        job = self.estate_model.query(lambda db: estate_store.search_runbooks(db, text))
        job.succeeded.connect(lambda keys: self._on_search_result(text, keys))

    def _on_search_result(self, text: str, keys: tuple[str, ...]) -> None:
        if text != self._search_text:  # a newer search is on its way
            return
        self.proxy.set_keys(keys)
        self._update_count()


class RunbookHistory(QWidget):
    """The recorded versions of the runbook selected in the editor, each readable."""

    def __init__(
        self,
        estate: EstateModel,
        editor: RunbookEditor,
        theme: Theme,
        parent: QWidget | None = None,
    ) -> None:
        """Follow ``editor``'s selection and ``estate``'s changes."""
        super().__init__(parent)
        self.estate_model = estate
        self.editor = editor
        self._key: str | None = None
        self.versions = VersionsModel(self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setHandleWidth(16)
        left = QFrame()
        left.setObjectName("Panel")
        lbox = QVBoxLayout(left)
        lbox.setContentsMargins(14, 14, 14, 14)
        self.list_title = QLabel()
        self.list_title.setObjectName("FormTitle")
        self.list_title.setWordWrap(True)
        self.versions_view = QListView()
        self.versions_view.setObjectName("runbook-versions")
        self.versions_view.setModel(self.versions)
        self.versions_view.setSpacing(2)
        self.versions_view.selectionModel().currentRowChanged.connect(self._show_version)
        lbox.addWidget(self.list_title)
        lbox.addWidget(self.versions_view, 1)
        right = QFrame()
        right.setObjectName("Panel")
        rbox = QVBoxLayout(right)
        rbox.setContentsMargins(24, 18, 24, 18)
        self.version_label = QLabel()
        self.version_label.setObjectName("Notice")
        self.version_label.setWordWrap(True)
        self.reader = QTextBrowser()
        self.reader.setObjectName("version-reader")
        self.reader.setReadOnly(True)
        self.reader.setFrameShape(QFrame.Shape.NoFrame)
        self.empty = EmptyState(
            theme, "history", "No runbook selected", "Pick a runbook in the Runbooks tab."
        )
        rbox.addWidget(self.version_label)
        rbox.addWidget(self.reader, 1)
        rbox.addWidget(self.empty, 1)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([380, 1000])
        layout.addWidget(splitter)
        editor.table.selectionModel().currentRowChanged.connect(lambda *_: self.refresh())
        editor.saved.connect(lambda _key: self.refresh())
        editor.deleted.connect(lambda _key: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        """Load the versions of the editor's current runbook (on the worker)."""
        key = self.editor.current_key
        self._key = key
        if key is None:
            self.versions.set_versions(())
            self._show_empty(True)
            self.list_title.setText("History")
            return
        job = self.estate_model.query(lambda db: estate_store.runbook_versions(db, key))
        job.succeeded.connect(lambda versions: self._on_versions(key, versions))

    def _on_versions(self, key: str, versions: tuple[RunbookVersion, ...]) -> None:
        if key != self._key:
            return
        self.versions.set_versions(versions)
        current = versions[-1].runbook.title if versions else key
        count = len(versions)
        self.list_title.setText(f"{current}\n{count} version{'s' if count != 1 else ''}")
        self._show_empty(not versions)
        if versions:
            self.versions_view.setCurrentIndex(self.versions.index(0))

    def _show_empty(self, empty: bool) -> None:
        self.empty.setVisible(empty)
        self.reader.setVisible(not empty)
        self.version_label.setVisible(not empty)

    def _show_version(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        version = self.versions.version(current.row())
        latest = current.row() == 0
        when = version.recorded_at.astimezone().strftime("%Y-%m-%d %H:%M")
        state = "the current version" if latest else "an older version, read-only"
        self.version_label.setText(
            f"Version {version.number}, recorded {when} by {version.actor}: {state}."
        )
        names = {s.key: s.name for s in self.estate_model.estate.services}
        self.reader.setMarkdown(runbook_markdown(version.runbook, names))


class RunbooksPage(Page):
    """Runbooks: what to do, written before it happens."""

    title = "Runbooks"
    icon_name = "runbooks"

    def __init__(self, estate: EstateModel, theme: Theme, parent: QWidget | None = None) -> None:
        """The runbook editor and the selected runbook's history, in tabs."""
        super().__init__(
            theme,
            "What to do when it happens, written in advance: steps in Markdown, expected "
            "times, and which steps destroy evidence.",
            parent,
        )
        self.runbooks = RunbookEditor(estate, theme)
        self.history = RunbookHistory(estate, self.runbooks, theme)
        self.add_tab(self.runbooks, "Runbooks", "runbooks")
        self.add_tab(self.history, "History", "history")
