"""Qt models for the Endpoints page: the endpoint list, HTTP headers and an endpoint's metrics."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QObject, Qt, Signal

from console.core.endpoints import Endpoint
from console.core.units import format_duration
from console.ui.estate import EstateModel
from console.ui.models.base import ROOT, Column, Index
from console.ui.models.drafts import KIND_SHORT, UNIT_SHORT, MetricDraft
from console.ui.models.records import EstateTableModel

_PLAIN = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


def endpoints_model(estate: EstateModel, parent: QObject | None = None) -> EstateTableModel:
    """Endpoints: name, service, kind, interval, whether enabled, metric count."""

    def service(e: Endpoint) -> str:
        names = {s.key: s.name for s in estate.estate.services}
        return names.get(e.service, e.service)

    columns = [
        Column("Endpoint", lambda e: e.name, tooltip=lambda e: e.key, stretch=True),
        Column("Service", service, tooltip=lambda e: e.service, stretch=True),
        Column("Kind", lambda e: KIND_SHORT[e.kind]),
        Column("Interval", lambda e: format_duration(e.interval_s), sort=lambda e: e.interval_s),
        Column(
            "Enabled",
            lambda e: "Yes" if e.enabled else "Paused",
            tooltip=lambda e: None if e.enabled else "Not checked until it is enabled again",
        ),
        Column("Metrics", lambda e: str(len(e.metrics)), sort=lambda e: len(e.metrics)),
    ]
    return EstateTableModel(estate, lambda e: e.endpoints, columns, lambda e: e.key, parent)


class MetricsModel(QAbstractTableModel):
    """An endpoint's metrics being edited; each row is edited in the fields below the table."""

    edited = Signal()
    COLUMNS = ("Metric", "Name", "Unit", "Judged by")

    def __init__(self, parent: QObject | None = None) -> None:
        """An empty list."""
        super().__init__(parent)
        self._rows: list[MetricDraft] = []

    def set_drafts(self, drafts: Iterable[MetricDraft]) -> None:
        """Replace every row."""
        self.beginResetModel()
        self._rows = list(drafts)
        self.endResetModel()

    def drafts(self) -> tuple[MetricDraft, ...]:
        """Every metric, in order."""
        return tuple(self._rows)

    def draft(self, row: int) -> MetricDraft:
        """One metric."""
        return self._rows[row]

    def update(self, row: int, draft: MetricDraft) -> None:
        """Replace one metric (no signal when nothing changed)."""
        if 0 <= row < len(self._rows) and self._rows[row] != draft:
            self._rows[row] = draft
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))
            self.edited.emit()

    def add(self, draft: MetricDraft) -> int:
        """Append a metric; returns its row."""
        row = len(self._rows)
        self.beginInsertRows(ROOT, row, row)
        self._rows.append(draft)
        self.endInsertRows()
        self.edited.emit()
        return row

    def remove(self, row: int) -> None:
        """Remove one metric."""
        if 0 <= row < len(self._rows):
            self.beginRemoveRows(ROOT, row, row)
            del self._rows[row]
            self.endRemoveRows()
            self.edited.emit()

    def rowCount(self, parent: Index = ROOT) -> int:
        """Number of metrics."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = ROOT) -> int:
        """Metric key, name, unit, what judges it."""
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
        """Rows are selected here and edited in the fields below."""
        return _PLAIN if index.isValid() else Qt.ItemFlag.NoItemFlags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Key, name, unit and what judges the metric; the full key as tooltip."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        draft = self._rows[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return draft.metric or None
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        column = index.column()
        if column == 0:
            return draft.metric or "(no metric key)"
        if column == 1:
            return draft.name or "(unnamed)"
        if column == 2:
            return UNIT_SHORT[draft.unit]
        return draft.judged_by
