"""A read-only table model over a tuple of records, with a column per attribute."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()
#: The record's stable key (a slug, or a member's email).
KEY_ROLE = int(Qt.ItemDataRole.UserRole) + 1
#: The record itself.
RECORD_ROLE = int(Qt.ItemDataRole.UserRole) + 2
#: A value to sort by (numbers sort as numbers).
SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 3


@dataclass(frozen=True, slots=True)
class Column:
    """How one column shows a record."""

    title: str
    text: Callable[[Any], str]
    sort: Callable[[Any], Any] | None = None
    tooltip: Callable[[Any], str | None] | None = None
    #: Whether the column takes a share of spare width (else it fits its contents).
    stretch: bool = False


class RecordTableModel(QAbstractTableModel):
    """Rows are records, columns are :class:`Column` views of them; not editable in place."""

    def __init__(
        self,
        columns: Sequence[Column],
        key: Callable[[Any], str],
        parent: QObject | None = None,
    ) -> None:
        """A model with these columns; ``key`` gives a record's stable key."""
        super().__init__(parent)
        self._columns = tuple(columns)
        self._key = key
        self._records: tuple[Any, ...] = ()

    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns, in order."""
        return self._columns

    @property
    def records(self) -> tuple[Any, ...]:
        """The records shown, in row order."""
        return self._records

    def set_records(self, records: Sequence[Any]) -> None:
        """Show ``records``; rows keep their selection when the keys are unchanged."""
        records = tuple(records)
        if [self._key(r) for r in records] == [self._key(r) for r in self._records]:
            self._records = records
            if records:
                last = self.index(len(records) - 1, len(self._columns) - 1)
                self.dataChanged.emit(self.index(0, 0), last)
            return
        self.beginResetModel()
        self._records = records
        self.endResetModel()

    def row_of(self, key: str) -> int:
        """The row of the record with ``key``, or -1."""
        return next((i for i, r in enumerate(self._records) if self._key(r) == key), -1)

    def rowCount(self, parent: Index = ROOT) -> int:
        """Number of records (none under a valid parent: this is a flat table)."""
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: Index = ROOT) -> int:
        """Number of columns."""
        return 0 if parent.isValid() else len(self._columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles; rows are unnumbered."""
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self._columns)
        ):
            return self._columns[section].title
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Text, tooltip, key, record and sort value of one cell."""
        if not index.isValid() or not 0 <= index.row() < len(self._records):
            return None
        record = self._records[index.row()]
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(record)
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tooltip(record) if column.tooltip else None
        if role == KEY_ROLE:
            return self._key(record)
        if role == RECORD_ROLE:
            return record
        if role == SORT_ROLE:
            return column.sort(record) if column.sort else column.text(record).casefold()
        return None


class FilterProxy(QSortFilterProxyModel):
    """Sorts and filters records: by text in any column, or to an explicit set of keys."""

    def __init__(self, parent: QObject | None = None) -> None:
        """A case-insensitive proxy sorting by SORT_ROLE."""
        super().__init__(parent)
        self._keys: frozenset[str] | None = None
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)
        self.setSortRole(SORT_ROLE)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def set_keys(self, keys: Iterable[str] | None) -> None:
        """Show only records with these keys (None: no key filter)."""
        self.beginFilterChange()
        self._keys = None if keys is None else frozenset(keys)
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        """Rows pass the key filter, then the text filter."""
        if self._keys is not None:
            model = self.sourceModel()
            key = model.index(source_row, 0, source_parent).data(KEY_ROLE)
            if key not in self._keys:
                return False
        return super().filterAcceptsRow(source_row, source_parent)
