"""Input widgets for numbers and choices: durations in seconds, optional numbers, level ranges."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from console.ui.models.drafts import LevelDraft

#: The width of a number field: wide enough for "86400 s" and a spin box's arrows.
FIELD_WIDTH = 150


class DecimalSpin(QDoubleSpinBox):
    """A spin box of decimals that writes ``2.5``, not ``2.500``, and no group separators."""

    def __init__(
        self,
        minimum: float,
        maximum: float,
        *,
        suffix: str = "",
        decimals: int = 3,
        step: float = 1.0,
        parent: QWidget | None = None,
    ) -> None:
        """A spin box from ``minimum`` to ``maximum``, ``suffix`` after the number."""
        super().__init__(parent)
        self.setDecimals(decimals)
        self.setRange(minimum, maximum)
        self.setSingleStep(step)
        self.setSuffix(suffix)
        self.setFixedWidth(FIELD_WIDTH)

    def textFromValue(self, value: float) -> str:
        """Drop trailing zeros: 30 reads ``30``, 2.5 reads ``2.5``."""
        text = f"{value:.{self.decimals()}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text


class SecondsSpin(DecimalSpin):
    """A duration in seconds (``30 s``)."""

    def __init__(
        self, maximum: float = 7 * 86400.0, minimum: float = 0.0, parent: QWidget | None = None
    ) -> None:
        """Seconds from ``minimum`` to ``maximum``."""
        super().__init__(minimum, maximum, suffix=" s", parent=parent)


class NumberEdit(QLineEdit):
    """A field for a number that may be left empty (a level not set, no hysteresis)."""

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        """An empty field showing ``placeholder``."""
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self.setFixedWidth(FIELD_WIDTH)


class OptionCombo(QComboBox):
    """A combo box of any values (None included), each shown by its label."""

    def __init__(self, names: Mapping[Any, str], parent: QWidget | None = None) -> None:
        """Offer the keys of ``names`` in order, shown as its values."""
        super().__init__(parent)
        self._values = list(names)
        for label in names.values():
            self.addItem(label)

    def value(self) -> Any:
        """The chosen value."""
        index = self.currentIndex()
        return self._values[index] if 0 <= index < len(self._values) else None

    def set_value(self, value: Any) -> None:
        """Choose ``value`` (ignored when it is not offered)."""
        if value in self._values:
            self.setCurrentIndex(self._values.index(value))


class LevelEdit(QWidget):
    """A threshold level: one number, or a range's low and high ends (for OUTSIDE)."""

    #: Any of the numbers was edited.
    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        """A single-number field; :meth:`set_range_mode` switches to low/high."""
        super().__init__(parent)
        self.value_edit = NumberEdit("Not set")
        self.low_edit = NumberEdit("Low")
        self.high_edit = NumberEdit("High")
        self._to = QLabel("to")
        self._to.setObjectName("Muted")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        for widget in (self.value_edit, self.low_edit, self._to, self.high_edit):
            row.addWidget(widget)
        row.addStretch(1)
        for edit in (self.value_edit, self.low_edit, self.high_edit):
            edit.setFixedWidth(FIELD_WIDTH)
            edit.textEdited.connect(lambda _text: self.edited.emit())
        self.set_range_mode(False)

    def set_range_mode(self, on: bool) -> None:
        """Show low/high fields (on) or the single number (off)."""
        self.value_edit.setVisible(not on)
        for widget in (self.low_edit, self._to, self.high_edit):
            widget.setVisible(on)
        self.setFocusProxy(self.low_edit if on else self.value_edit)

    def draft(self) -> LevelDraft:
        """What is typed."""
        return LevelDraft(self.value_edit.text(), self.low_edit.text(), self.high_edit.text())

    def set_draft(self, level: LevelDraft) -> None:
        """Show ``level``."""
        self.value_edit.setText(level.value)
        self.low_edit.setText(level.low)
        self.high_edit.setText(level.high)

    def edits(self) -> list[QWidget]:
        """The fields in Tab order."""
        return [self.value_edit, self.low_edit, self.high_edit]
