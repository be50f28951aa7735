"""Editable models of a record's parts: memberships, chat handles, check lists, steps, versions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QObject,
    Qt,
    Signal,
)
from PySide6.QtGui import QIcon

from console.core.enums import MemberRole
from console.core.models import ChatHandle, Membership, RunbookStep, RunbookVersion
from console.ui import labels
from console.ui.models.base import KEY_ROLE, ROOT, Index

_EDITABLE = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable
_PLAIN = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class MembershipModel(QAbstractTableModel):
    """A team's members being edited: who (read-only) and their role (editable)."""

    edited = Signal()
    COLUMNS = ("Member", "Email", "Role")
    ROLE_COLUMN = 2

    def __init__(self, parent: QObject | None = None) -> None:
        """An empty membership list."""
        super().__init__(parent)
        self._rows: list[Membership] = []
        self._names: dict[str, str] = {}

    def set_names(self, names: dict[str, str]) -> None:
        """Display names by email (members unknown to the estate show their email)."""
        self._names = dict(names)
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 1))

    def set_memberships(self, memberships: Iterable[Membership]) -> None:
        """Replace every row."""
        self.beginResetModel()
        self._rows = list(memberships)
        self.endResetModel()

    def memberships(self) -> tuple[Membership, ...]:
        """The rows as records."""
        return tuple(self._rows)

    def add(self, email: str, role: MemberRole) -> int:
        """Append a member; returns the new row."""
        row = len(self._rows)
        self.beginInsertRows(ROOT, row, row)
        self._rows.append(Membership(email, role))
        self.endInsertRows()
        self.edited.emit()
        return row

    def remove(self, row: int) -> None:
        """Remove one row."""
        if 0 <= row < len(self._rows):
            self.beginRemoveRows(ROOT, row, row)
            del self._rows[row]
            self.endRemoveRows()
            self.edited.emit()

    def rowCount(self, parent: Index = ROOT) -> int:
        """Number of memberships."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = ROOT) -> int:
        """Member, email, role."""
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.COLUMNS)
        ):
            return self.COLUMNS[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        """Only the role column is editable."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _EDITABLE if index.column() == self.ROLE_COLUMN else _PLAIN

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Name, email, role label (edit role: the MemberRole value)."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        ms = self._rows[index.row()]
        column = index.column()
        if role == KEY_ROLE:
            return ms.member
        if role == Qt.ItemDataRole.EditRole and column == self.ROLE_COLUMN:
            return ms.role.value
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if column == 0:
            return self._names.get(ms.member, ms.member)
        if column == 1:
            return ms.member
        return labels.ROLE[ms.role]

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Change a member's role (value: a MemberRole or its string value)."""
        if (
            not index.isValid()
            or index.column() != self.ROLE_COLUMN
            or role != Qt.ItemDataRole.EditRole
        ):
            return False
        try:
            new_role = value if isinstance(value, MemberRole) else MemberRole(str(value))
        except ValueError:
            return False
        row = index.row()
        self._rows[row] = Membership(self._rows[row].member, new_role)
        self.dataChanged.emit(index, index)
        self.edited.emit()
        return True


class PairsModel(QAbstractTableModel):
    """Name/value pairs being edited (HTTP headers): two editable text columns."""

    edited = Signal()

    def __init__(
        self, titles: tuple[str, str] = ("Name", "Value"), parent: QObject | None = None
    ) -> None:
        """An empty list with these column titles."""
        super().__init__(parent)
        self._titles = titles
        self._rows: list[list[str]] = []

    def set_pairs(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Replace every row."""
        self.beginResetModel()
        self._rows = [[name, value] for name, value in pairs]
        self.endResetModel()

    def pairs(self) -> tuple[tuple[str, str], ...]:
        """Rows with a name (rows left blank are dropped; names and values are trimmed)."""
        return tuple(
            (name.strip(), value.strip())
            for name, value in self._rows
            if name.strip() or value.strip()
        )

    def add(self, name: str = "", value: str = "") -> int:
        """Append a row; returns it."""
        row = len(self._rows)
        self.beginInsertRows(ROOT, row, row)
        self._rows.append([name, value])
        self.endInsertRows()
        self.edited.emit()
        return row

    def remove(self, row: int) -> None:
        """Remove one row."""
        if 0 <= row < len(self._rows):
            self.beginRemoveRows(ROOT, row, row)
            del self._rows[row]
            self.endRemoveRows()
            self.edited.emit()

    def rowCount(self, parent: Index = ROOT) -> int:
        """Number of pairs."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = ROOT) -> int:
        """Name and value."""
        return 0 if parent.isValid() else 2

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < 2
        ):
            return self._titles[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        """Every cell is editable."""
        return _EDITABLE if index.isValid() else Qt.ItemFlag.NoItemFlags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """The cell's text."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._rows[index.row()][index.column()]
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Change a cell's text."""
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        self._rows[index.row()][index.column()] = str(value)
        self.dataChanged.emit(index, index)
        self.edited.emit()
        return True


class ChatHandlesModel(PairsModel):
    """A member's chat handles being edited: network and handle, both editable."""

    def __init__(self, parent: QObject | None = None) -> None:
        """An empty list."""
        super().__init__(("Network", "Handle"), parent)

    def set_handles(self, handles: Iterable[ChatHandle]) -> None:
        """Replace every row."""
        self.set_pairs((h.network, h.handle) for h in handles)

    def handles(self) -> tuple[ChatHandle, ...]:
        """Rows with anything typed in them (blank rows are dropped, text trimmed)."""
        return tuple(ChatHandle(network, handle) for network, handle in self.pairs())


class CheckListModel(QAbstractListModel):
    """Keys with labels and a check box each (dependencies, services, teams allowed)."""

    edited = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        """An empty list."""
        super().__init__(parent)
        self._items: list[tuple[str, str]] = []
        self._checked: set[str] = set()
        self._order: list[str] = []

    def set_items(self, items: Sequence[tuple[str, str]], checked: Iterable[str]) -> None:
        """Offer ``items`` (key, label) with ``checked`` keys ticked."""
        self.beginResetModel()
        self._items = list(items)
        self._order = list(checked)
        self._checked = set(self._order)
        self.endResetModel()

    def checked(self) -> tuple[str, ...]:
        """Ticked keys: those ticked before first (in their order), then in list order."""
        known = [k for k, _ in self._items]
        kept = [k for k in self._order if k in self._checked]
        return tuple(kept + [k for k in known if k in self._checked and k not in kept])

    def set_checked(self, key: str, on: bool) -> None:
        """Tick or untick one key."""
        row = next((i for i, (k, _) in enumerate(self._items) if k == key), -1)
        if row >= 0:
            state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
            self.setData(self.index(row), state, Qt.ItemDataRole.CheckStateRole)

    def rowCount(self, parent: Index = ROOT) -> int:
        """Number of items."""
        return 0 if parent.isValid() else len(self._items)

    def flags(self, index: Index) -> Qt.ItemFlag:
        """Items are checkable."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _PLAIN | Qt.ItemFlag.ItemIsUserCheckable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Label, key and check state."""
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        key, label = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return label
        if role == Qt.ItemDataRole.ToolTipRole or role == KEY_ROLE:
            return key
        if role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if key in self._checked else Qt.CheckState.Unchecked
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Tick or untick an item."""
        if not index.isValid() or role != Qt.ItemDataRole.CheckStateRole:
            return False
        key = self._items[index.row()][0]
        state = value if isinstance(value, Qt.CheckState) else Qt.CheckState(int(value))
        if state == Qt.CheckState.Checked:
            self._checked.add(key)
        else:
            self._checked.discard(key)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.edited.emit()
        return True


class StepsModel(QAbstractListModel):
    """A runbook's steps being edited, shown as a numbered list."""

    edited = Signal()

    def __init__(self, warning_icon: QIcon | None = None, parent: QObject | None = None) -> None:
        """An empty list; steps that destroy evidence show ``warning_icon``."""
        super().__init__(parent)
        self._steps: list[RunbookStep] = []
        self._warning = warning_icon

    def set_steps(self, steps: Iterable[RunbookStep]) -> None:
        """Replace every step."""
        self.beginResetModel()
        self._steps = list(steps)
        self.endResetModel()

    def steps(self) -> tuple[RunbookStep, ...]:
        """The steps in order."""
        return tuple(self._steps)

    def step(self, row: int) -> RunbookStep:
        """One step."""
        return self._steps[row]

    def update(self, row: int, **changes: Any) -> None:
        """Change fields of one step."""
        if not 0 <= row < len(self._steps):
            return
        new = replace(self._steps[row], **changes)
        if new != self._steps[row]:
            self._steps[row] = new
            index = self.index(row)
            self.dataChanged.emit(index, index)
            self.edited.emit()

    def insert(self, row: int, step: RunbookStep) -> int:
        """Insert a step at ``row`` (clamped); returns where it went."""
        row = max(0, min(row, len(self._steps)))
        self.beginInsertRows(ROOT, row, row)
        self._steps.insert(row, step)
        self.endInsertRows()
        self.edited.emit()
        return row

    def remove(self, row: int) -> None:
        """Remove one step."""
        if 0 <= row < len(self._steps):
            self.beginRemoveRows(ROOT, row, row)
            del self._steps[row]
            self.endRemoveRows()
            self.edited.emit()

    def move(self, row: int, delta: int) -> int:
        """Move a step up (-1) or down (+1); returns its new row."""
        target = row + delta
        if not (0 <= row < len(self._steps) and 0 <= target < len(self._steps)):
            return row
        dest = target + 1 if delta > 0 else target
        self.beginMoveRows(ROOT, row, row, ROOT, dest)
        self._steps.insert(target, self._steps.pop(row))
        self.endMoveRows()
        self.edited.emit()
        return target

    def rowCount(self, parent: Index = ROOT) -> int:
        """Number of steps."""
        return 0 if parent.isValid() else len(self._steps)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Title; a warning icon and tooltip when the step destroys evidence.

        Numbers are drawn by the view (NumberedDelegate): data of a row must not change
        when another row is inserted before it.
        """
        if not index.isValid() or not 0 <= index.row() < len(self._steps):
            return None
        step = self._steps[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return step.title or "Untitled step"
        if role == Qt.ItemDataRole.DecorationRole and step.destroys_evidence:
            return self._warning
        if role == Qt.ItemDataRole.ToolTipRole and step.destroys_evidence:
            return "This step destroys forensic evidence"
        return None


class VersionsModel(QAbstractListModel):
    """A runbook's recorded versions, newest first."""

    def __init__(self, parent: QObject | None = None) -> None:
        """An empty list."""
        super().__init__(parent)
        self._versions: list[RunbookVersion] = []

    def set_versions(self, versions: Iterable[RunbookVersion]) -> None:
        """Show these versions (any order in; newest first out)."""
        self.beginResetModel()
        self._versions = sorted(versions, key=lambda v: v.number, reverse=True)
        self.endResetModel()

    def version(self, row: int) -> RunbookVersion:
        """The version shown at ``row``."""
        return self._versions[row]

    def rowCount(self, parent: Index = ROOT) -> int:
        """Number of versions."""
        return 0 if parent.isValid() else len(self._versions)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Number, time and author of a version."""
        if not index.isValid() or not 0 <= index.row() < len(self._versions):
            return None
        v = self._versions[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            latest = " (current)" if index.row() == 0 else ""
            when = v.recorded_at.astimezone().strftime("%Y-%m-%d %H:%M")
            return f"Version {v.number}{latest}\n{when} · {v.actor}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return v.content_hash
        return None
