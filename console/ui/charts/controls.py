"""The bar above a chart: its title, the range presets, pause/resume and the export buttons.

Every control is a push button, so Tab reaches it and Space presses it; each has an accessible
name that says what it does, and the checked preset and the pause state are shown in words.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QPushButton, QWidget

from console.ui.charts.data import RangePreset
from console.ui.theme import Theme


class ChartControls(QWidget):
    """Title, preset buttons, pause and export; it emits what the person asked for."""

    #: A preset button was pressed.
    preset_chosen = Signal(object)
    #: The pause button was toggled: True to pause.
    pause_toggled = Signal(bool)
    #: The PNG export button was pressed.
    png_requested = Signal()
    #: The CSV export button was pressed.
    csv_requested = Signal()

    def __init__(self, preset: RangePreset, parent: QWidget | None = None) -> None:
        """The bar, with ``preset`` checked."""
        super().__init__(parent)
        self.title_label = QLabel()
        self.title_label.setObjectName("ChartTitle")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        row.addWidget(self.title_label)
        row.addStretch(1)
        self.preset_group = QButtonGroup(self)
        self.preset_buttons: dict[RangePreset, QPushButton] = {}
        for each in RangePreset:
            button = QPushButton(each.label)
            button.setCheckable(True)
            button.setChecked(each is preset)
            button.setToolTip(f"Show {each.description}")
            button.setAccessibleName(f"Show {each.description}")
            button.clicked.connect(lambda _=False, p=each: self.preset_chosen.emit(p))
            self.preset_group.addButton(button)
            self.preset_buttons[each] = button
            row.addWidget(button)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.setAccessibleName("Pause live updates")
        self.pause_button.toggled.connect(self.pause_toggled)
        self.png_button = QPushButton("PNG…")
        self.png_button.setAccessibleName("Export the chart as a PNG image")
        self.png_button.clicked.connect(self.png_requested)
        self.csv_button = QPushButton("CSV…")
        self.csv_button.setAccessibleName("Export the chart's data as CSV")
        self.csv_button.clicked.connect(self.csv_requested)
        for button in (self.pause_button, self.png_button, self.csv_button):
            row.addSpacing(6)
            row.addWidget(button)

    def show_preset(self, preset: RangePreset) -> None:
        """Check ``preset``'s button (without emitting anything)."""
        self.preset_buttons[preset].setChecked(True)

    def show_paused(self, paused: bool) -> None:
        """Show the pause state: the button then offers the opposite."""
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(paused)
        self.pause_button.blockSignals(False)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_button.setAccessibleName(
            "Resume live updates" if paused else "Pause live updates"
        )

    def restyle(self, theme: Theme) -> None:
        """Colour the title from ``theme``."""
        self.title_label.setStyleSheet(f"color: {theme.text}; font-weight: 600;")
