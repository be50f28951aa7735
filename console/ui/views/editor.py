"""The list + form editor every configuration page is made of."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from itertools import pairwise
from typing import Any, ClassVar

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.core.enums import EntityKind
from console.core.errors import ConsoleError, Problem, ValidationError
from console.core.models import Estate
from console.core.references import Record, check_entity, key_of, referrers
from console.ui import icons
from console.ui.estate import EstateModel
from console.ui.models.base import KEY_ROLE, FilterProxy, RecordTableModel
from console.ui.theme import Theme
from console.ui.widgets.common import Banner, EmptyState, button
from console.ui.widgets.form import Form

log = logging.getLogger(__name__)


def configure_table(view: QTableView, model: RecordTableModel) -> None:
    """The look and keyboard behaviour every list of records shares."""
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(34)
    view.horizontalHeader().setHighlightSections(False)
    view.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft)
    for i, column in enumerate(model.columns):
        stretch = column.stretch or i == 0
        mode = (
            QHeaderView.ResizeMode.Stretch if stretch else QHeaderView.ResizeMode.ResizeToContents
        )
        view.horizontalHeader().setSectionResizeMode(i, mode)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.setShowGrid(False)
    view.setWordWrap(False)
    # Tab leaves the table (arrow keys move within it), so the focus chain stays usable.
    view.setTabKeyNavigation(False)


class RecordEditor(QWidget):
    """Records of one kind on the left; the selected one's form on the right.

    Subclasses build the form in :meth:`build`, move a record into the widgets in
    :meth:`fill` and back out in :meth:`collect`. Saving validates in the UI (pure core
    checks), then writes on the worker; nothing is written while a problem remains.
    """

    kind: ClassVar[EntityKind]
    noun: ClassVar[str]
    plural: ClassVar[str]
    icon_name: ClassVar[str]
    #: Whether the form grows to fill the panel (its last row takes the spare height).
    expanding: ClassVar[bool] = False

    #: A sentence for the status bar.
    message = Signal(str)
    #: A record was saved (its key) and the list shows it.
    saved = Signal(str)
    #: A record was deleted (its key).
    deleted = Signal(str)

    def __init__(
        self,
        estate: EstateModel,
        theme: Theme,
        table: RecordTableModel,
        parent: QWidget | None = None,
    ) -> None:
        """Build the list, the form and the buttons; follow ``estate``."""
        super().__init__(parent)
        self.estate_model = estate
        self.theme = theme
        self.table_model = table
        self._current_key: str | None = None
        self._last_row = 0
        self._dirty = False
        self._filling = False
        self._busy = False
        self._creating = False
        self.confirmation: QMessageBox | None = None
        self.proxy = FilterProxy(self)
        self.proxy.setSourceModel(table)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.setHandleWidth(16)
        splitter.addWidget(self._build_list_panel())
        splitter.addWidget(self._build_form_panel())
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([560, 840])
        layout.addWidget(splitter)
        self._fix_tab_order()
        estate.changed.connect(self._on_estate_changed)
        self._on_estate_changed()

    # -- for subclasses --------------------------------------------------------------

    def build(self, form: Form, body: QVBoxLayout) -> None:
        """Add the fields to ``form`` (and anything else below it to ``body``)."""
        raise NotImplementedError

    def records(self, estate: Estate) -> Sequence[Record]:
        """The records this editor lists."""
        raise NotImplementedError

    def fill(self, record: Any) -> None:
        """Show ``record`` in the fields; None means a new record with defaults."""
        raise NotImplementedError

    def collect(self) -> Any:
        """The record the fields describe now."""
        raise NotImplementedError

    def refresh_choices(self, estate: Estate) -> None:
        """Update pick lists that come from other records (keep what is picked)."""

    def tab_chain(self) -> list[QWidget]:
        """The form's fields in the order Tab should visit them."""
        return []

    def key_field(self) -> QLineEdit:
        """The field holding the record's key (read-only once the record exists)."""
        raise NotImplementedError

    def title_of(self, record: Any) -> str:
        """What the form's title says about a record."""
        return str(getattr(record, "name", key_of(record)))

    # -- construction ----------------------------------------------------------------

    def _build_list_panel(self) -> QWidget:
        panel = QFrame()
        panel.setObjectName("Panel")
        box = QVBoxLayout(panel)
        box.setContentsMargins(14, 14, 14, 10)
        box.setSpacing(10)
        top = QHBoxLayout()
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName(f"{self.noun}-filter")
        self.filter_edit.setPlaceholderText(f"Filter {self.plural}…  (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.addAction(
            icons.icon("search", self.theme.muted), QLineEdit.ActionPosition.LeadingPosition
        )
        self.filter_edit.textChanged.connect(self._on_filter_text)
        self.new_button = button(f"New {self.noun}", icons.icon("add", self.theme.muted))
        self.new_button.setToolTip(f"Create a {self.noun} (Ctrl+N)")
        self.new_button.clicked.connect(self.new_record)
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.new_button)
        box.addLayout(top)
        self.list_stack = QStackedWidget()
        self.table = QTableView()
        self.table.setObjectName(f"{self.noun}-list")
        self.table.setModel(self.proxy)
        configure_table(self.table, self.table_model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.table.activated.connect(lambda _i: self._focus_first_field())
        delete = QAction(f"Delete {self.noun}", self.table)
        delete.setShortcut(QKeySequence.StandardKey.Delete)
        delete.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete.triggered.connect(self.request_delete)
        self.table.addAction(delete)
        self.empty = EmptyState(
            self.theme,
            self.icon_name,
            f"No {self.plural} yet",
            f"Create the first {self.noun} with New {self.noun} (Ctrl+N), "
            "or import a configuration file with oncall-console config import.",
        )
        self.list_stack.addWidget(self.table)
        self.list_stack.addWidget(self.empty)
        box.addWidget(self.list_stack, 1)
        self.count_label = QLabel()
        self.count_label.setObjectName("Muted")
        box.addWidget(self.count_label)
        return panel

    def _build_form_panel(self) -> QWidget:
        panel = QFrame()
        panel.setObjectName("Panel")
        outer = QVBoxLayout(panel)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        head = QVBoxLayout()
        head.setContentsMargins(24, 18, 24, 8)
        head.setSpacing(2)
        self.form_title = QLabel()
        self.form_title.setObjectName("FormTitle")
        self.form_subtitle = QLabel()
        self.form_subtitle.setObjectName("Muted")
        head.addWidget(self.form_title)
        head.addWidget(self.form_subtitle)
        self.banner = Banner()
        head.addWidget(self.banner)
        outer.addLayout(head)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        content = QWidget()
        content.setObjectName("FormBody")
        body = QVBoxLayout(content)
        body.setContentsMargins(24, 8, 24, 16)
        body.setSpacing(12)
        self.form = Form()
        body.addWidget(self.form)
        self.build(self.form, body)
        if self.expanding:
            self.form.stretch_last_row()
            body.setStretchFactor(self.form, 1)
        else:
            body.addStretch(1)
        scroll.setWidget(content)
        outer.addWidget(scroll, 1)
        outer.addWidget(self._build_buttons())
        return panel

    def _build_buttons(self) -> QWidget:
        bar = QFrame()
        row = QHBoxLayout(bar)
        row.setContentsMargins(24, 10, 24, 14)
        self.save_button = button(
            "Save", icons.icon("save", self.theme.accent_text), name="Primary"
        )
        self.save_button.setToolTip("Save (Ctrl+S)")
        self.save_button.clicked.connect(self.save)
        self.revert_button = button("Revert", icons.icon("revert", self.theme.muted))
        self.revert_button.setToolTip("Discard unsaved changes")
        self.revert_button.clicked.connect(self.revert)
        self.delete_button = button(
            "Delete…", icons.icon("delete", self.theme.error), name="Danger"
        )
        self.delete_button.setToolTip(f"Delete this {self.noun} (Delete in the list)")
        self.delete_button.clicked.connect(self.request_delete)
        self.dirty_label = QLabel("Unsaved changes")
        self.dirty_label.setObjectName("Muted")
        self.dirty_label.hide()
        row.addWidget(self.delete_button)
        self._extras = self.extra_buttons()
        for extra in self._extras:
            row.addWidget(extra)
        row.addStretch(1)
        row.addWidget(self.dirty_label)
        row.addWidget(self.revert_button)
        row.addWidget(self.save_button)
        return bar

    def _fix_tab_order(self) -> None:
        chain: list[QWidget] = [self.filter_edit, self.new_button, self.table]
        chain += self.tab_chain()
        chain += [self.save_button, self.revert_button, self.delete_button]
        for first, second in pairwise(chain):
            QWidget.setTabOrder(first, second)

    def watch(self, *widgets: QWidget) -> None:
        """Mark the form changed whenever one of ``widgets`` is edited."""
        for w in widgets:
            if isinstance(w, QLineEdit):
                w.textEdited.connect(self._mark_dirty)
            elif isinstance(w, QPlainTextEdit):
                w.textChanged.connect(self._mark_dirty)
            elif isinstance(w, QComboBox):
                w.currentIndexChanged.connect(self._mark_dirty)
            elif isinstance(w, QSpinBox):
                w.valueChanged.connect(self._mark_dirty)
            elif isinstance(w, QCheckBox):
                w.toggled.connect(self._mark_dirty)
            elif isinstance(w, QListView | QTableView) and w.model() is not None:
                w.model().dataChanged.connect(self._mark_dirty)

    # -- state -----------------------------------------------------------------------

    @property
    def current_key(self) -> str | None:
        """The key of the record in the form (None while creating one)."""
        return self._current_key

    @property
    def dirty(self) -> bool:
        """Whether the form holds unsaved changes."""
        return self._dirty

    def _mark_dirty(self, *_args: object) -> None:
        if not self._filling:
            self._set_dirty(True)

    def _set_dirty(self, dirty: bool) -> None:
        self._dirty = dirty
        self.dirty_label.setVisible(dirty)
        self._update_buttons()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.save_button.setEnabled(not self._busy)
        self.revert_button.setEnabled(self._dirty and not self._busy)
        self.delete_button.setEnabled(self._current_key is not None and not self._busy)
        for extra in self._extras:  # they act on the stored record: none while editing
            extra.setEnabled(self._current_key is not None and not self._busy and not self._dirty)

    def _record(self, key: str | None) -> Any:
        if key is None:
            return None
        return next((r for r in self.records(self.estate_model.estate) if key_of(r) == key), None)

    def _show(self, key: str | None) -> None:
        """Put the record with ``key`` (None: a new one) into the form."""
        record = self._record(key)
        self._current_key = key if record is not None else None
        if record is not None:
            self._creating = False
        self._filling = True
        try:
            self.refresh_choices(self.estate_model.estate)
            self.fill(record)
        finally:
            self._filling = False
        self.form.clear_problems()
        self.banner.clear_message()
        self.key_field().setReadOnly(record is not None)
        if record is None:
            self.form_title.setText(f"New {self.noun}")
            self.form_subtitle.setText("Fill in the fields, then Save. The id cannot change later.")
        else:
            self.form_title.setText(self.title_of(record))
            self.form_subtitle.setText(f"{self.noun.capitalize()} id: {key_of(record)}")
        self._set_dirty(False)

    # -- reacting to the list and the estate -----------------------------------------

    def _on_filter_text(self, text: str) -> None:
        self.apply_filter(text)

    def apply_filter(self, text: str) -> None:
        """Show only the records matching ``text`` (any column, case-insensitive)."""
        self.proxy.setFilterFixedString(text)
        self._update_count()

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        key = current.data(KEY_ROLE)
        self._last_row = current.row()
        if key != self._current_key:
            self._show(key)

    def select_key(self, key: str | None) -> bool:
        """Select the row of ``key`` in the list (False if it is not shown)."""
        row = self.table_model.row_of(key) if key is not None else -1
        if row < 0:
            return False
        index = self.proxy.mapFromSource(self.table_model.index(row, 0))
        if not index.isValid():
            return False
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)
        return True

    def _on_estate_changed(self) -> None:
        estate = self.estate_model.estate
        has_records = bool(self.records(estate)) or not self.estate_model.loaded
        self.list_stack.setCurrentWidget(self.table if has_records else self.empty)
        self._update_count()
        key = self._current_key
        if key is not None and self._record(key) is not None:
            self.select_key(key)
            if self._dirty:
                self._refresh_choices_only(estate)
            else:
                self._show(key)
        elif key is not None:  # it was deleted, here or elsewhere: show its neighbour
            self._select_near(self._last_row)
        elif self._creating or self._dirty:  # keep what is being typed
            self._refresh_choices_only(estate)
        else:
            self._select_near(0)

    def _refresh_choices_only(self, estate: Estate) -> None:
        self._filling = True
        try:
            self.refresh_choices(estate)
        finally:
            self._filling = False

    def _select_near(self, row: int) -> None:
        count = self.proxy.rowCount()
        if count:
            self.table.setCurrentIndex(self.proxy.index(min(row, count - 1), 0))
            current = self.table.currentIndex()
            if current.data(KEY_ROLE) != self._current_key:
                self._show(current.data(KEY_ROLE))
        else:
            self._show(None)

    def _update_count(self) -> None:
        if not self.estate_model.loaded:
            self.count_label.setText("Loading…")
            return
        total = self.table_model.rowCount()
        shown = self.proxy.rowCount()
        noun = self.noun if total == 1 else self.plural
        text = f"{total} {noun}" if shown == total else f"{shown} of {total} {noun} shown"
        self.count_label.setText(text)

    def _focus_first_field(self) -> None:
        chain = self.tab_chain()
        if chain:
            chain[0].setFocus(Qt.FocusReason.OtherFocusReason)

    def focus_filter(self) -> None:
        """Move the keyboard focus to the filter field."""
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    # -- actions ---------------------------------------------------------------------

    def new_record(self) -> None:
        """Start a new record with default values."""
        self.table.selectionModel().clearSelection()
        self.table.setCurrentIndex(QModelIndex())
        self._show(None)
        self._creating = True
        self.key_field().setFocus(Qt.FocusReason.OtherFocusReason)

    def revert(self) -> None:
        """Discard unsaved changes."""
        self._show(self._current_key)

    def problems_for(self, record: Any) -> list[Problem]:
        """What is wrong with ``record`` before it may be written."""
        estate = self.estate_model.estate
        problems: list[Problem] = []
        if self._current_key is None and self._record(key_of(record)) is not None:
            field = "email" if self.kind is EntityKind.MEMBER else "id"
            problems.append(Problem(field, f"a {self.noun} with this id already exists"))
        return problems + check_entity(estate, record)

    def save(self) -> None:
        """Validate the form; if it is sound, write it (on the worker)."""
        if self._busy:
            return
        record = self.collect()
        problems = self.problems_for(record)
        if problems:
            self._show_problems(problems)
            return
        self.form.clear_problems()
        self.banner.clear_message()
        self._set_busy(True)
        job = self.estate_model.save(record)
        job.succeeded.connect(lambda _event: self._saved(key_of(record)))
        job.failed.connect(self._write_failed)

    def _show_problems(self, problems: list[Problem]) -> None:
        stray = self.form.show_problems(problems)
        if stray:
            self.banner.show_message("\n".join(str(p) for p in stray))
        else:
            self.banner.show_message(
                f"The {self.noun} was not saved: correct the highlighted fields."
            )
        first = self.form.first_invalid()
        if first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)
        self.message.emit(f"Not saved: {len(problems)} problem(s) to correct")

    def _saved(self, key: str) -> None:
        self._set_busy(False)
        self._current_key = key
        self._dirty = False
        self.select_key(key)
        self._show(key)
        self.message.emit(f"Saved {self.noun} “{self.form_title.text()}”")
        self.saved.emit(key)

    def _write_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, ValidationError):
            self._show_problems(exc.problems)
        elif isinstance(exc, ConsoleError):
            self.banner.show_message(str(exc))
            self.message.emit(str(exc))
        else:
            log.error("writing a %s failed", self.noun, exc_info=exc)
            self.banner.show_message(f"Unexpected error, nothing was changed: {exc}")

    def request_delete(self) -> None:
        """Ask for confirmation, then delete the record in the form."""
        key = self._current_key
        record = self._record(key)
        if key is None or record is None or self._busy:
            return
        users = referrers(self.estate_model.estate, self.kind, key)
        if users:
            self.banner.show_message(
                f"“{self.title_of(record)}” cannot be deleted while it is used by: "
                f"{', '.join(users)}. Change those first."
            )
            return
        box = QMessageBox(self)
        box.setObjectName("ConfirmDelete")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(f"Delete {self.noun}?")
        box.setText(f"Delete {self.noun} “{self.title_of(record)}”?")
        box.setInformativeText(self.delete_consequence())
        confirm = box.addButton(f"Delete {self.noun}", QMessageBox.ButtonRole.DestructiveRole)
        confirm.setObjectName("ConfirmButton")
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.finished.connect(lambda _r: self._on_confirmation(box, key))
        self.confirmation = box
        box.open()

    def extra_buttons(self) -> list[QPushButton]:
        """Actions on the selected record beside Delete (none by default)."""
        return []

    def delete_consequence(self) -> str:
        """What the confirmation says will happen."""
        return "This cannot be undone."

    def _on_confirmation(self, box: QMessageBox, key: str) -> None:
        clicked = box.clickedButton()
        confirmed = (
            clicked is not None
            and box.buttonRole(clicked) == QMessageBox.ButtonRole.DestructiveRole
        )
        self.confirmation = None
        box.deleteLater()
        if not confirmed:
            return
        self._set_busy(True)
        job = self.estate_model.delete(self.kind, key)
        job.succeeded.connect(lambda _event: self._deleted(key))
        job.failed.connect(self._write_failed)

    def _deleted(self, key: str) -> None:
        self._set_busy(False)
        self.message.emit(f"Deleted {self.noun} {key}")
        self.deleted.emit(key)
