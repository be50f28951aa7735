"""The wall grid's repaints: each tile drawn once while it looks the same, only changes repainted.

A real TileGrid at 1920x1000 with 500 tiles built from real status records (the helpers of
test_wall.py); what it paints is compared, pixel for pixel, with a grid that drew the same tiles
from scratch, and with the tiles painted straight onto an image the old way.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from console.core.checks import CheckState
from console.core.status import ServiceTile
from console.ui.wall.grid import TileGrid, _paint_tile
from console.ui.wall.style import WALL_THEME
from console.ui.wall.text import tile_text
from PySide6.QtCore import QEvent, QObject, QRect, QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from pytestqt.qtbot import QtBot

from tests.gui.test_wall import START, make_tiles

pytestmark = pytest.mark.gui

STATES = [CheckState.WARNING] * 3 + [CheckState.OK] * 497


class PaintLog(QObject):
    """The rectangles of the paint events a widget receives."""

    def __init__(self) -> None:
        super().__init__()
        self.rects: list[QRect] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QPaintEvent):
            self.rects.append(event.rect())
        return False


def grid_showing(qtbot: QtBot, tiles: list[ServiceTile], now: datetime, page: int = 0) -> TileGrid:
    """A shown 1920x1000 grid (the 1080p wall less its header) with ``tiles`` on ``page``."""
    grid = TileGrid(now)
    qtbot.addWidget(grid)
    grid.resize(1920, 1000)
    grid.show()
    qtbot.waitExposed(grid)
    grid.set_tiles(tiles, now)
    grid.set_page(page)
    return grid


def settle(qtbot: QtBot, grid: TileGrid) -> None:
    """Wait until the page shown and the next one are drawn (nothing else is drawn ahead)."""
    per_page = grid.grid.per_page
    qtbot.waitUntil(lambda: grid.images_held == 2 * per_page)
    drawn = grid.tiles_drawn
    qtbot.wait(50)
    assert grid.tiles_drawn == drawn


def painted(grid: TileGrid) -> QImage:
    return grid.grab().toImage()


def test_a_changed_tile_alone_is_drawn_again_and_repainted(qtbot: QtBot) -> None:
    now = START
    tiles = make_tiles(STATES, now)
    grid = grid_showing(qtbot, tiles, now)
    settle(qtbot, grid)
    assert grid.page_count > 2
    log = PaintLog()
    grid.installEventFilter(log)
    drawn = grid.tiles_drawn
    worst = tiles[1].worst
    assert worst is not None
    changed = [*tiles[:1], replace(tiles[1], worst=replace(worst, value=900.0)), *tiles[2:]]
    assert grid.set_tiles(changed, now)
    qtbot.waitUntil(lambda: bool(log.rects))
    qtbot.wait(50)
    x, y, w, h = grid.grid.cells(grid.width(), grid.height())[1]
    assert log.rects == [QRectF(x, y, w, h).toAlignedRect()]
    assert grid.tiles_drawn == drawn + 1
    assert grid.page_texts()[1].value == "p95 latency 900 ms"
    # What the incremental repaint left on screen is what drawing the page afresh gives.
    assert painted(grid) == painted(grid_showing(qtbot, changed, now))


def test_tiles_changed_together_are_drawn_in_turns_and_repainted_together(
    qtbot: QtBot,
) -> None:
    now = START
    tiles = make_tiles(STATES, now)
    grid = grid_showing(qtbot, tiles, now)
    settle(qtbot, grid)
    log = PaintLog()
    grid.installEventFilter(log)
    drawn = grid.tiles_drawn
    changed = list(tiles)
    for i in (0, 2):
        worst = tiles[i].worst
        assert worst is not None
        changed[i] = replace(tiles[i], worst=replace(worst, value=950.0 + i))
    grid.set_tiles(changed, now)
    assert grid.tiles_drawn == drawn, "nothing is drawn in the reading's own turn"
    qtbot.waitUntil(lambda: bool(log.rects))
    qtbot.wait(50)
    assert grid.tiles_drawn == drawn + 2
    cells = grid.grid.cells(grid.width(), grid.height())
    both = QRectF(*cells[0]).toAlignedRect().united(QRectF(*cells[2]).toAlignedRect())
    assert log.rects == [both], "one paint for both tiles"
    assert painted(grid) == painted(grid_showing(qtbot, changed, now))


def test_the_next_page_is_drawn_ahead_and_rotating_to_it_draws_nothing(qtbot: QtBot) -> None:
    now = START
    tiles = make_tiles(STATES, now)
    grid = grid_showing(qtbot, tiles, now)
    settle(qtbot, grid)
    drawn = grid.tiles_drawn
    grid.set_page(1)
    grid.repaint()
    assert grid.tiles_drawn == drawn, "the new page was drawn ahead: the paint only copies it"
    assert painted(grid) == painted(grid_showing(qtbot, tiles, now, page=1))
    # Then the page after it is drawn ahead, and the first page's images are let go.
    settle(qtbot, grid)
    assert grid.tiles_drawn == drawn + grid.grid.per_page
    assert grid.images_held == 2 * grid.grid.per_page


def test_tile_images_hold_what_painting_the_tiles_directly_does(qtbot: QtBot) -> None:
    now = START
    tiles = make_tiles([CheckState.CRITICAL, CheckState.WARNING, CheckState.UNKNOWN] * 3, now)
    grid = grid_showing(qtbot, tiles, now)
    direct = QImage(grid.size(), QImage.Format.Format_ARGB32_Premultiplied)
    direct.setDotsPerMeterX(round(grid.logicalDpiX() / 0.0254))
    direct.setDotsPerMeterY(round(grid.logicalDpiY() / 0.0254))
    direct.fill(QColor(WALL_THEME.window))
    painter = QPainter(direct)
    for tile, (x, y, w, h) in zip(
        grid.page_tiles(), grid.grid.cells(grid.width(), grid.height()), strict=False
    ):
        painter.save()
        painter.translate(round(x), round(y))
        _paint_tile(painter, QRectF(0, 0, w, h), tile, tile_text(tile, now), grid.fonts)
        painter.restore()
    painter.end()
    shown = painted(grid).convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    assert grid.devicePixelRatioF() == 1.0
    assert shown == direct


def test_tiles_given_before_the_grid_has_room_are_drawn_once_it_has(qtbot: QtBot) -> None:
    now = START
    tiles = make_tiles(STATES, now)
    grid = TileGrid(now)
    qtbot.addWidget(grid)
    grid.resize(20, 20)  # far too small for a tile: nothing can be drawn yet
    grid.set_tiles(tiles, now)
    grid.show()
    qtbot.waitExposed(grid)
    grid.repaint()
    assert grid.tiles_drawn == 0
    grid.resize(1920, 1000)
    assert painted(grid) == painted(grid_showing(qtbot, tiles, now))
