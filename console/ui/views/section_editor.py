"""Escalation policies and schedules edited as their YAML items, checked live, with a preview.

The list on the left holds the stored items; the editor on the right holds one item's text as
the configuration file has it. Every pause in typing (300 ms) checks the text against the
stored estate (:func:`console.ui.models.section_edit.check_item`, pure and fast) and lists the
problems under it at their own line and column; a click on one moves the cursor there. Save
(Ctrl+S) is offered only when the text is sound and changed, and writes on the store worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console.core.errors import ConsoleError, ValidationError
from console.core.escalation import Policy
from console.core.schedules import Schedule
from console.ui import icons
from console.ui.estate import EstateModel
from console.ui.models.oncall import HORIZON_DAYS
from console.ui.models.section_edit import (
    Item,
    ItemCheck,
    ItemProblem,
    Section,
    check_item,
    describe_policy,
    item_text,
    items_of,
    schedule_preview,
    template,
)
from console.ui.theme import Theme
from console.ui.widgets.code_edit import CodeEdit
from console.ui.widgets.common import Banner, button
from console.ui.widgets.coverage import CoverageTimeline

log = logging.getLogger(__name__)
CHECK_DELAY_MS = 300
KEY_ROLE = Qt.ItemDataRole.UserRole
PROBLEM_ROLE = Qt.ItemDataRole.UserRole + 1


def summary(item: Item) -> str:
    """One line about an item for the list."""
    if isinstance(item, Policy):
        levels = f"{len(item.levels)} level{'s' if len(item.levels) != 1 else ''}"
        repeat = f", repeats {item.repeat}x" if item.repeat else ""
        return f"{levels}{repeat}; {len(item.services)} service(s), {len(item.teams)} team(s)"
    people = len({m for layer in item.layers for m in layer.members})
    return f"{item.zone}; {len(item.layers)} layer(s), {people} member(s)"


class SectionEditor(QWidget):
    """Edit the items of one section (policies or schedules) as YAML text."""

    #: A sentence for the status bar.
    message = Signal(str)
    #: An item was saved (its key).
    saved = Signal(str)
    #: An item was deleted (its key).
    deleted = Signal(str)

    def __init__(
        self, estate: EstateModel, theme: Theme, section: Section, parent: QWidget | None = None
    ) -> None:
        """Build the list, the text, the problems and the preview; follow ``estate``."""
        super().__init__(parent)
        self.setObjectName(f"{section.noun}-editor")
        self.estate_model = estate
        self.theme = theme
        self.section = section
        self.key: str | None = None  # the stored item in the editor; None for a new one
        self.saved_text = ""
        self.check: ItemCheck | None = None
        self.confirmation: QMessageBox | None = None
        self._busy = False
        self._loading = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(CHECK_DELAY_MS)
        self._timer.timeout.connect(self.run_check)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.setHandleWidth(16)
        splitter.addWidget(self._build_list())
        splitter.addWidget(self._build_editor())
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([380, 1100])
        layout.addWidget(splitter)
        estate.changed.connect(self._on_estate_changed)
        self._on_estate_changed()

    # -- construction ------------------------------------------------------------------------

    def _build_list(self) -> QWidget:
        panel = QFrame()
        panel.setObjectName("Panel")
        box = QVBoxLayout(panel)
        box.setContentsMargins(14, 14, 14, 10)
        top = QHBoxLayout()
        title = QLabel(self.section.plural.capitalize())
        title.setObjectName("SectionTitle")
        self.new_button = button(f"New {self.section.noun}", icons.icon("add", self.theme.muted))
        self.new_button.clicked.connect(self.new_item)
        top.addWidget(title, 1)
        top.addWidget(self.new_button)
        box.addLayout(top)
        self.list = QListWidget()
        self.list.setObjectName(f"{self.section.noun}-list")
        self.list.setAccessibleName(f"Stored {self.section.noun} items")
        self.list.setWordWrap(True)
        self.list.setSpacing(3)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.currentItemChanged.connect(self._on_current_changed)
        box.addWidget(self.list, 1)
        return panel

    def _build_editor(self) -> QWidget:
        panel = QFrame()
        panel.setObjectName("Panel")
        box = QVBoxLayout(panel)
        box.setContentsMargins(16, 14, 16, 12)
        box.setSpacing(8)
        self.title = QLabel()
        self.title.setObjectName("FormTitle")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("Muted")
        box.addWidget(self.title)
        box.addWidget(self.subtitle)
        self.text = CodeEdit(self.theme)
        self.text.setObjectName(f"{self.section.noun}-text")
        self.text.setAccessibleName(f"The {self.section.noun} as YAML")
        self.text.textChanged.connect(self._on_text_changed)
        box.addWidget(self.text, 3)
        self.problems = QListWidget()
        self.problems.setObjectName("Problems")
        self.problems.setAccessibleName("Problems in the text")
        self.problems.setMaximumHeight(110)
        self.problems.setWordWrap(True)
        self.problems.itemClicked.connect(self._on_problem_clicked)
        self.problems.itemActivated.connect(self._on_problem_clicked)
        box.addWidget(self.problems)
        self.banner = Banner()
        box.addWidget(self.banner)
        box.addLayout(self._build_buttons())
        self.preview_title = QLabel()
        self.preview_title.setObjectName("SectionTitle")
        box.addWidget(self.preview_title)
        box.addWidget(self._build_preview(), 2)
        return panel

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.status = QLabel()
        self.status.setObjectName("Muted")
        self.save_button = button(
            "Save", icons.icon("save", self.theme.accent_text), name="Primary"
        )
        self.save_button.setToolTip("Save to the store (Ctrl+S)")
        self.save_button.clicked.connect(self.save)
        self.revert_button = button("Revert", icons.icon("revert", self.theme.muted))
        self.revert_button.setToolTip("Discard unsaved changes")
        self.revert_button.clicked.connect(self.revert)
        self.delete_button = button(
            "Delete…", icons.icon("delete", self.theme.error), name="Danger"
        )
        self.delete_button.clicked.connect(self.request_delete)
        save = QAction("Save", self)
        save.setShortcut(QKeySequence.StandardKey.Save)
        save.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        save.triggered.connect(self.save)
        self.addAction(save)
        row.addWidget(self.status, 1)
        for widget in (self.delete_button, self.revert_button, self.save_button):
            row.addWidget(widget)
        return row

    def _build_preview(self) -> QWidget:
        self.preview = QStackedWidget()
        self.timeline = CoverageTimeline(self.theme)
        self.description = QLabel()
        self.description.setObjectName("PolicyDescription")
        self.description.setWordWrap(True)
        self.description.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.preview.addWidget(self.timeline)
        self.preview.addWidget(self.description)
        self.preview.setCurrentWidget(
            self.timeline if self.section is Section.SCHEDULES else self.description
        )
        return self.preview

    def _preview_heading(self, current: bool) -> str:
        if self.section is Section.SCHEDULES:
            text = f"Preview: who covers the next {HORIZON_DAYS} days"
        else:
            text = "Preview: what happens when an incident starts"
        return text if current else f"{text} (as last valid; correct the problems to update it)"

    # -- state -------------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        """Whether the text differs from what was loaded or last saved."""
        return self.text.toPlainText() != self.saved_text

    def _stored(self, key: str | None) -> Item | None:
        items = items_of(self.section, self.estate_model.estate)
        return next((i for i in items if i.key == key), None)

    def _update_buttons(self) -> None:
        sound = self.check is not None and self.check.ok
        changed = self.dirty or self.key is None  # a new item is worth saving as it stands
        self.save_button.setEnabled(sound and changed and not self._busy)
        self.revert_button.setEnabled(self.dirty and not self._busy)
        self.delete_button.setEnabled(self.key is not None and not self._busy)
        if self.key is None:
            self.status.setText("New, not saved yet")
        elif self.dirty:
            self.status.setText("Unsaved changes")
        else:
            self.status.setText("Saved" if self.key is not None else "")

    # -- the list ----------------------------------------------------------------------------

    def _on_estate_changed(self) -> None:
        if not self.estate_model.loaded:
            return  # a template built before the estate loads would name nobody real
        self._fill_list()
        stored = self._stored(self.key)
        if self.key is not None and stored is None and not self.dirty:
            self._load(None if not self.list.count() else self._key_at(0))
        elif (
            stored is not None
            and not self.dirty
            and item_text(self.section, stored) != self.saved_text
        ):
            self._load(self.key)  # changed elsewhere, nothing typed here: show the new version
        elif self.key is None and not self.dirty:  # an untouched template: show a stored item
            self._load(self._key_at(0) if self.list.count() else None)
        else:
            self.run_check()  # keep what is typed; check it against the new estate

    def _fill_list(self) -> None:
        self.list.blockSignals(True)
        try:
            self.list.clear()
            for item in sorted(
                items_of(self.section, self.estate_model.estate), key=lambda i: i.key
            ):
                row = QListWidgetItem(f"{item.name}\n{item.key} · {summary(item)}")
                row.setData(KEY_ROLE, item.key)
                row.setToolTip(item.key)
                self.list.addItem(row)
            self._select(self.key)
        finally:
            self.list.blockSignals(False)

    def _key_at(self, row: int) -> str | None:
        item = self.list.item(row)
        return None if item is None else str(item.data(KEY_ROLE))

    def _select(self, key: str | None) -> None:
        self.list.blockSignals(True)
        try:
            for row in range(self.list.count()):
                if self._key_at(row) == key:
                    self.list.setCurrentRow(row, QItemSelectionModel.SelectionFlag.ClearAndSelect)
                    return
            self.list.setCurrentRow(-1)
            self.list.clearSelection()
        finally:
            self.list.blockSignals(False)

    def select_key(self, key: str) -> None:
        """Show the stored item ``key`` (asking first when there are unsaved edits)."""
        self._leave_then(lambda: self._load(key))

    def _on_current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is None:
            return
        key = str(current.data(KEY_ROLE))
        if key != self.key:
            self._select(self.key)  # stay until the move is confirmed
            self.select_key(key)

    def _load(self, key: str | None) -> None:
        """Put the stored item ``key`` into the editor (None: a new item from the template)."""
        stored = self._stored(key)
        self.key = None if stored is None else stored.key
        if stored is None:
            estate = self.estate_model.estate
            text = template(self.section, estate, self.estate_model.store.clock.now().date())
            self.title.setText(f"New {self.section.noun}")
            self.subtitle.setText("Edit the template, then Save. The id cannot change later.")
        else:
            text = item_text(self.section, stored)
            self.title.setText(stored.name)
            self.subtitle.setText(f"{self.section.noun.capitalize()} id: {stored.key}")
        self.banner.clear_message()
        self._loading = True
        try:
            self.saved_text = text
            self.text.setPlainText(text)
        finally:
            self._loading = False
        self._select(self.key)
        self.run_check()

    # -- checking ----------------------------------------------------------------------------

    def _on_text_changed(self) -> None:
        self._update_buttons()
        if not self._loading:
            self._timer.start()

    def run_check(self) -> None:
        """Check the text now and show its problems, warnings and preview."""
        self._timer.stop()
        self.check = check_item(
            self.section, self.text.toPlainText(), self.estate_model.estate, self.key
        )
        self._show_problems(self.check)
        if self.check.record is not None:
            self._show_preview(self.check.record)
        self.preview_title.setText(self._preview_heading(self.check.record is not None))
        self._update_buttons()

    def _show_problems(self, check: ItemCheck) -> None:
        self.problems.clear()
        for problem in check.problems:
            self._add_problem(problem, self.theme.error, "warning")
        for warning in check.warnings:
            self._add_problem(warning, self.theme.warning, "warning")
        if not check.problems and not check.warnings:
            row = QListWidgetItem("No problems")
            row.setForeground(QColor(self.theme.success))
            self.problems.addItem(row)

    def _add_problem(self, problem: ItemProblem, colour: str, icon: str) -> None:
        row = QListWidgetItem(icons.icon(icon, colour), str(problem))
        row.setForeground(QColor(colour))
        row.setData(PROBLEM_ROLE, (problem.line, problem.column))
        self.problems.addItem(row)

    def _on_problem_clicked(self, row: QListWidgetItem) -> None:
        where = row.data(PROBLEM_ROLE)
        if where and where[0] > 0:
            self.text.go_to(int(where[0]), int(where[1]))

    def _show_preview(self, record: Item) -> None:
        estate = self.estate_model.estate
        if isinstance(record, Schedule):
            start = self.estate_model.store.clock.now()
            self.timeline.set_reading(schedule_preview(record, estate, start))
        else:
            lines = describe_policy(record, estate)
            self.description.setText("\n".join(lines))

    # -- actions -----------------------------------------------------------------------------

    def new_item(self) -> None:
        """Start a new item from the template (asking first when there are unsaved edits)."""
        self._leave_then(lambda: self._load(None))

    def revert(self) -> None:
        """Discard unsaved changes."""
        self._load(self.key)

    def save(self) -> None:
        """Write the item when it is sound and changed (on the store worker)."""
        self.run_check()
        check = self.check
        if not self.save_button.isEnabled() or check is None or check.record is None:
            return
        record, text = check.record, self.text.toPlainText()
        self._busy = True
        self._update_buttons()
        job = self.estate_model.save(record)
        job.succeeded.connect(lambda _event: self._saved(record, text))
        job.failed.connect(self._write_failed)

    def _saved(self, record: Item, text: str) -> None:
        self._busy = False
        self.key = record.key
        self.saved_text = text  # what was typed (comments and all) is what was saved
        self.title.setText(record.name)
        self.subtitle.setText(f"{self.section.noun.capitalize()} id: {record.key}")
        self._fill_list()
        self.run_check()
        self.message.emit(f"Saved {self.section.noun} “{record.name}”")
        self.saved.emit(record.key)

    def _write_failed(self, exc: BaseException) -> None:
        self._busy = False
        if isinstance(exc, ValidationError):
            text = "\n".join(str(p) for p in exc.problems)
            self.banner.show_message(f"The store refused it:\n{text}")
        elif isinstance(exc, ConsoleError):
            self.banner.show_message(str(exc))
        else:
            log.error("writing a %s failed", self.section.noun, exc_info=exc)
            self.banner.show_message(f"Unexpected error, nothing was changed: {exc}")
        self.message.emit(f"Not saved: {self.banner.text().splitlines()[0]}")
        self._update_buttons()

    def request_delete(self) -> None:
        """Ask, then delete the stored item (the store refuses while something uses it)."""
        stored = self._stored(self.key)
        if stored is None or self._busy:
            return
        noun = self.section.noun
        box = self._ask(
            f"Delete {noun}?",
            f"Delete {noun} “{stored.name}” ({stored.key})?",
            "This cannot be undone.",
            f"Delete {noun}",
        )
        box.finished.connect(lambda _r: self._delete_if_confirmed(box, stored.key))
        box.open()

    def _delete_if_confirmed(self, box: QMessageBox, key: str) -> None:
        if not self._confirmed(box):
            return
        self._busy = True
        self._update_buttons()
        job = self.estate_model.delete(self.section.kind, key)
        job.succeeded.connect(lambda _event: self._deleted(key))
        job.failed.connect(self._write_failed)

    def _deleted(self, key: str) -> None:
        self._busy = False
        self.saved_text = self.text.toPlainText()  # nothing to keep: it is gone
        self.message.emit(f"Deleted {self.section.noun} {key}")
        self.deleted.emit(key)
        self._load(self._key_at(0) if self.list.count() else None)

    # -- confirmations -----------------------------------------------------------------------

    def _leave_then(self, go: Callable[[], None]) -> None:
        """Run ``go`` now, or after the user agrees to drop unsaved edits."""
        if not self.dirty:
            go()
            return
        what = self.title.text()
        box = self._ask(
            "Discard unsaved changes?",
            f"“{what}” has unsaved changes.",
            "Leaving it discards them.",
            "Discard changes",
        )
        box.finished.connect(lambda _r: go() if self._confirmed(box) else None)
        box.open()

    def _ask(self, title: str, text: str, detail: str, action: str) -> QMessageBox:
        box = QMessageBox(self)
        box.setObjectName("Confirm")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(title)
        box.setText(text)
        box.setInformativeText(detail)
        confirm = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
        confirm.setObjectName("ConfirmButton")
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        self.confirmation = box
        return box

    def _confirmed(self, box: QMessageBox) -> bool:
        clicked = box.clickedButton()
        self.confirmation = None
        box.deleteLater()
        return (
            clicked is not None
            and box.buttonRole(clicked) == QMessageBox.ButtonRole.DestructiveRole
        )
