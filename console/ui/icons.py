"""Line icons from resources/icons, tinted to the theme's colours when they are drawn."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

ICON_DIR = Path(__file__).resolve().parents[2] / "resources" / "icons"
_SIZES = (16, 20, 24, 32, 48, 64)


@cache
def _svg(name: str) -> str | None:
    path = ICON_DIR / f"{name}.svg"
    # A missing file (a bundle built without resources) gives an empty icon, not a crash.
    return path.read_text(encoding="utf-8") if path.is_file() else None


def pixmap(name: str, colour: str, size: int, ratio: float = 1.0) -> QPixmap:
    """The icon ``name`` drawn in ``colour`` at ``size`` logical pixels."""
    device = max(1, round(size * ratio))
    image = QImage(device, device, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    text = _svg(name)
    if text is not None:
        renderer = QSvgRenderer(QByteArray(text.replace("currentColor", colour).encode()))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, device, device))
        painter.end()
    out = QPixmap.fromImage(image)
    out.setDevicePixelRatio(ratio)
    return out


def icon(name: str, colour: str, disabled: str | None = None) -> QIcon:
    """A QIcon of ``name`` in several sizes (and a dimmed disabled state)."""
    result = QIcon()
    for size in _SIZES:
        result.addPixmap(pixmap(name, colour, size), QIcon.Mode.Normal)
        if disabled is not None:
            result.addPixmap(pixmap(name, disabled, size), QIcon.Mode.Disabled)
    return result
