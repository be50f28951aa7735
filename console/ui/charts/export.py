"""Writing a chart out: its data as CSV, its picture as PNG, and asking where.

CSV columns: ``time`` (ISO 8601, UTC, microseconds, as the store's events write it),
``value``, ``band_low``, ``band_high``; a missing value or band edge is an empty field. Floats
are written with ``repr`` so they read back exactly.
"""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QFileDialog, QWidget

from console.core.clock import isoformat
from console.ui.charts.data import ChartData

CSV_HEADER = ("time", "value", "band_low", "band_high")


def _field(value: float) -> str:
    return "" if math.isnan(value) else repr(value)


def write_csv(path: Path, data: ChartData) -> int:
    """Write ``data`` to ``path`` as CSV (see the module docstring); returns the row count.

    Raises:
        OSError: When the file cannot be written.
    """
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        columns = (data.values, data.band_low, data.band_high)
        for moment, *fields in zip(
            data.times.tolist(), *(c.tolist() for c in columns), strict=True
        ):
            stamp = isoformat(datetime.fromtimestamp(moment, UTC))
            writer.writerow([stamp, *(_field(f) for f in fields)])
    return len(data)


def write_png(widget: QWidget, path: Path) -> QSize:
    """Render ``widget`` as it stands into a PNG at ``path``; returns the image's pixel size.

    Raises:
        OSError: When the image cannot be written.
    """
    image = widget.grab()
    if not image.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    return image.size()


_FILTERS = {"png": "PNG images (*.png)", "csv": "CSV files (*.csv)"}


def ask_save_path(parent: QWidget, caption: str, stem: str, suffix: str) -> Path | None:
    """Ask where to save a ``suffix`` file (``png`` or ``csv``); None when cancelled."""
    chosen, _ = QFileDialog.getSaveFileName(parent, caption, f"{stem}.{suffix}", _FILTERS[suffix])
    return Path(chosen) if chosen else None
