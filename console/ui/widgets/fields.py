"""Field widgets the editors share: enum combo boxes, a role delegate, small list views."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QListView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from console.core.enums import MemberRole
from console.ui import labels


class EnumCombo(QComboBox):
    """A combo box of enum members, shown by their labels."""

    def __init__(self, names: Mapping[Any, str], parent: QWidget | None = None) -> None:
        """Offer every key of ``names`` (in order), each shown as its value."""
        super().__init__(parent)
        for member, label in names.items():
            self.addItem(label, member)

    def value(self) -> Any:
        """The chosen enum member."""
        return self.currentData()

    def set_value(self, member: Enum) -> None:
        """Choose ``member``."""
        index = self.findData(member)
        if index >= 0:
            self.setCurrentIndex(index)


class KeyCombo(QComboBox):
    """A combo box of keys (emails, slugs) shown by name, optionally with a 'none' choice."""

    def __init__(
        self,
        none_label: str | None = None,
        parent: QWidget | None = None,
        *,
        keep_unknown: bool = True,
    ) -> None:
        """An empty choice list; ``none_label`` adds a first entry meaning 'no value'.

        With ``keep_unknown`` a chosen key that is no longer offered stays, marked unknown
        (so a dangling reference is shown, not silently replaced).
        """
        super().__init__(parent)
        self._none = none_label
        self._keep_unknown = keep_unknown
        self.setMinimumContentsLength(24)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)

    def set_choices(self, choices: Iterable[tuple[str, str]], keep: str | None = None) -> None:
        """Offer (key, label) pairs; keep ``keep`` (or the current key) chosen."""
        current = keep if keep is not None else self.key()
        self.blockSignals(True)
        try:
            self.clear()
            if self._none is not None:
                self.addItem(self._none, None)
            for key, label in choices:
                self.addItem(label, key)
            if self._keep_unknown and current is not None and self.findData(current) < 0:
                self.addItem(f"{current} (unknown)", current)
            self.set_key(current)
        finally:
            self.blockSignals(False)

    def key(self) -> str | None:
        """The chosen key (None for the 'none' entry or an empty list)."""
        data = self.currentData()
        return None if data is None else str(data)

    def set_key(self, key: str | None) -> None:
        """Choose ``key`` (None: the 'none' entry, else the first)."""
        index = self.findData(key) if key is not None else 0
        self.setCurrentIndex(max(index, 0) if self.count() else -1)


class RoleDelegate(QStyledItemDelegate):
    """Edits a membership's role with a combo box."""

    def createEditor(
        self,
        parent: QWidget,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> QWidget:
        """A combo box of roles."""
        return EnumCombo(labels.ROLE, parent)

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        """Choose the row's current role."""
        value = index.data(Qt.ItemDataRole.EditRole)
        if isinstance(editor, EnumCombo) and value is not None:
            editor.set_value(MemberRole(value))

    def setModelData(
        self,
        editor: QWidget,
        model: QAbstractItemModel,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        """Write the chosen role back."""
        if isinstance(editor, EnumCombo):
            model.setData(index, editor.value(), Qt.ItemDataRole.EditRole)


class NumberedDelegate(QStyledItemDelegate):
    """Draws each row's number before its text (1. First step, 2. ...)."""

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        """Prefix the row number."""
        super().initStyleOption(option, index)
        option.text = f"{index.row() + 1}. {option.text}"


def fit_to_rows(view: QAbstractItemView, min_rows: int, max_rows: int) -> None:
    """Keep ``view`` as tall as its rows (between the two bounds), following its model."""

    def update() -> None:
        model = view.model()
        rows = model.rowCount() if model is not None else 0
        shown = max(min_rows, min(rows, max_rows))
        if isinstance(view, QTableView):
            row_height = view.verticalHeader().defaultSectionSize()
            header = view.horizontalHeader().sizeHint().height()
        else:
            row_height = view.sizeHintForRow(0) if rows else 26
            header = 0
        view.setFixedHeight(shown * max(row_height, 20) + header + 2 * view.frameWidth() + 4)

    model = view.model()
    model.modelReset.connect(update)
    model.rowsInserted.connect(update)
    model.rowsRemoved.connect(update)
    update()


def check_list(model: QAbstractItemModel, rows: int = 6, min_rows: int = 2) -> QListView:
    """A compact list view of check boxes, as tall as its items up to ``rows``."""
    view = QListView()
    view.setModel(model)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setUniformItemSizes(True)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    fit_to_rows(view, min_rows, rows)
    return view
