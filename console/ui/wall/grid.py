"""The tile grid: one widget paints every tile of the current page (no widget per tile).

One custom-painted widget draws a page of tiles in a few milliseconds where a frame and labels
per tile cost about twice as much (DESIGN.md: 500 tiles in about 9 ms against 16 ms). It repaints
only when what it shows changed: new tiles are compared with the old ones (ignoring how old the
data had grown by the time it was read), and the once-a-second clock tick repaints only when a
tile's words changed (a minute more in state, a STALE tile's age).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from console.core.status import DisplayState, ServiceTile
from console.ui.wall import layout
from console.ui.wall.layout import Grid, TileSize
from console.ui.wall.style import ON_STATE, WALL_THEME, draw_shape, state_colour, tint
from console.ui.wall.text import TileText, tile_text

#: Characters of body text a tile has room for at its narrowest.
TILE_CHARACTERS = 28
#: Secondary text: lighter than the theme's muted grey, so it stays readable across a room.
SECONDARY = "#c9d1d9"
HATCH = "#6e7681"


class TileFonts:
    """The fonts of a tile at one body text size, measured on a paint device."""

    def __init__(self, base: QFont, point_size: float, device: QWidget) -> None:
        """Fonts for body text of ``point_size`` points (state and name are larger)."""
        self.point_size = point_size
        self.body = QFont(base)
        self.body.setPointSizeF(point_size)
        self.strong = QFont(self.body)
        self.strong.setBold(True)
        self.name = QFont(base)
        self.name.setPointSizeF(point_size * 1.25)
        self.name.setBold(True)
        self.state = QFont(base)
        self.state.setPointSizeF(point_size * 1.1)
        self.state.setBold(True)
        body = QFontMetricsF(self.body, device)
        self.body_metrics = body
        self.strong_metrics = QFontMetricsF(self.strong, device)
        self.name_metrics = QFontMetricsF(self.name, device)
        self.state_metrics = QFontMetricsF(self.state, device)
        self.line = body.lineSpacing()
        self.name_line = self.name_metrics.lineSpacing()
        self.bar = self.state_metrics.height() * 1.5
        self.pad = self.line * 0.45

    def tile_size(self) -> TileSize:
        """What a tile needs: a state bar, the name, then four lines of body text."""
        height = self.bar + self.pad + self.name_line + 4 * self.line + self.pad
        width = self.body_metrics.averageCharWidth() * TILE_CHARACTERS + 2 * self.pad
        return TileSize(min_width=width, height=height, gap=round(self.line * 0.4))


def _signature(tiles: Sequence[ServiceTile], read_at: datetime) -> tuple[object, ...]:
    """The tiles with each data age turned into the moment of the newest data.

    Two reads of unchanged data differ only in how old the data had grown; this makes them
    compare equal, so nothing is repainted for them.
    """
    result = []
    for tile in tiles:
        newest = None
        if tile.data_age_s is not None:
            newest = (read_at - timedelta(seconds=tile.data_age_s)).replace(microsecond=0)
        result.append((replace(tile, data_age_s=None), newest))
    return tuple(result)


class TileGrid(QWidget):
    """Paints one page of service tiles, worst first, sized to fit the widget.

    Args:
        now: The current time (the grid is told the time; it never reads a clock).
    """

    def __init__(self, now: datetime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("wall-grid")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAccessibleName("Service tiles")
        self._tiles: tuple[ServiceTile, ...] = ()
        self._signature: tuple[object, ...] = ()
        self._now = now
        self._page = 0
        self._fonts_cache: dict[float, TileFonts] = {}
        self._grid = self._fit()
        self._shown: tuple[object, ...] = ()
        #: How many times the grid has painted (tests check that nothing repaints needlessly).
        self.paint_count = 0

    # -- state ---------------------------------------------------------------------------------

    @property
    def tiles(self) -> tuple[ServiceTile, ...]:
        """Every tile, worst first."""
        return self._tiles

    @property
    def grid(self) -> Grid:
        """The current grid (columns, rows and text size)."""
        return self._grid

    @property
    def fonts(self) -> TileFonts:
        """The fonts the tiles are drawn with."""
        return self._fonts(self._grid.point_size)

    @property
    def page(self) -> int:
        """The page shown (0-based)."""
        return self._page

    @property
    def page_count(self) -> int:
        """How many pages the tiles need."""
        return self._grid.pages(len(self._tiles))

    def page_tiles(self, number: int | None = None) -> Sequence[ServiceTile]:
        """The tiles on page ``number`` (default: the page shown)."""
        shown = self._page if number is None else number
        return layout.page(self._tiles, shown, self._grid.per_page)

    def page_texts(self) -> list[TileText]:
        """The words of every tile on the page shown, as they are painted now."""
        return [tile_text(t, self._now) for t in self.page_tiles()]

    def holds_unacknowledged(self, number: int) -> bool:
        """Whether page ``number`` holds an unacknowledged CRITICAL."""
        return any(
            t.unacknowledged and t.state is DisplayState.CRITICAL for t in self.page_tiles(number)
        )

    def set_tiles(self, tiles: Sequence[ServiceTile], read_at: datetime) -> bool:
        """Show ``tiles`` (read at ``read_at``); returns whether anything changed."""
        signature = _signature(tiles, read_at)
        if signature == self._signature:
            return False
        self._signature = signature
        self._tiles = tuple(tiles)
        self._now = max(self._now, read_at)
        grid = self._fit()
        if grid != self._grid:
            self._grid = grid
        self._page = min(self._page, self.page_count - 1)
        self._refresh(force=True)
        return True

    def set_page(self, number: int) -> None:
        """Show page ``number`` (wrapped into range)."""
        number %= self.page_count
        if number != self._page:
            self._page = number
            self._refresh(force=True)

    def set_now(self, now: datetime) -> None:
        """The time moved on: repaint only if a tile's words changed."""
        self._now = now
        self._refresh()

    def _refresh(self, force: bool = False) -> None:
        texts = tuple(self.page_texts())
        shown = (self._page, self._grid, texts)
        if force or shown != self._shown:
            self._shown = shown
            # What a screen reader says for the painted page.
            self.setAccessibleDescription(
                "; ".join(f"{t.name}: {t.state}, {t.value}" for t in texts)
            )
            self.update()

    # -- geometry ------------------------------------------------------------------------------

    def _fonts(self, point_size: float) -> TileFonts:
        fonts = self._fonts_cache.get(point_size)
        if fonts is None:
            fonts = self._fonts_cache[point_size] = TileFonts(self.font(), point_size, self)
        return fonts

    def _fit(self) -> Grid:
        return layout.fit(
            self.width(),
            self.height(),
            len(self._tiles),
            lambda size: self._fonts(size).tile_size(),
        )

    def resizeEvent(self, event: object) -> None:  # noqa: D102 - Qt override
        grid = self._fit()
        if grid != self._grid:
            self._grid = grid
            self._page = min(self._page, self.page_count - 1)
        self._refresh(force=True)

    # -- painting ------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: D102 - Qt override
        self.paint_count += 1
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(WALL_THEME.window))
        fonts = self.fonts
        cells = self._grid.cells(self.width(), self.height())
        for tile, (x, y, w, h) in zip(self.page_tiles(), cells, strict=False):
            text = tile_text(tile, self._now)
            _paint_tile(painter, QRectF(x, y, w, h), tile, text, fonts)
        painter.end()


def _paint_body(painter: QPainter, rect: QRectF, tile: ServiceTile, fonts: TileFonts) -> None:
    state = tile.state
    if state is DisplayState.STALE:
        painter.fillRect(rect, QColor(WALL_THEME.surface_alt))
        painter.fillRect(rect, QBrush(QColor(HATCH), Qt.BrushStyle.BDiagPattern))
        pen = QPen(state_colour(state), max(3.0, fonts.pad / 3), Qt.PenStyle.DashLine)
    elif state is DisplayState.OK:
        painter.fillRect(rect, QColor(WALL_THEME.surface))
        pen = QPen(QColor(WALL_THEME.border), 2)
    else:
        painter.fillRect(rect, tint(state, 0.22))
        pen = QPen(state_colour(state), max(4.0, fonts.pad / 2.5))
    half = pen.widthF() / 2
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(rect.adjusted(half, half, -half, -half))


def _paint_bar(
    painter: QPainter, rect: QRectF, tile: ServiceTile, text: TileText, fonts: TileFonts
) -> None:
    bar = QRectF(rect.left(), rect.top(), rect.width(), fonts.bar)
    painter.fillRect(bar, state_colour(tile.state))
    side = fonts.bar * 0.55
    icon = QRectF(bar.left() + fonts.pad, bar.center().y() - side / 2, side, side)
    draw_shape(painter, tile.state, icon, QColor(ON_STATE))
    painter.setPen(QColor(ON_STATE))
    painter.setFont(fonts.state)
    text_rect = bar.adjusted(icon.right() - bar.left() + fonts.pad * 0.7, 0, -fonts.pad, 0)
    align = Qt.AlignmentFlag.AlignVCenter
    painter.drawText(text_rect, align | Qt.AlignmentFlag.AlignLeft, text.state)
    if text.time_in_state:
        painter.drawText(text_rect, align | Qt.AlignmentFlag.AlignRight, text.time_in_state)


def _line(
    painter: QPainter, box: QRectF, words: str, font: QFont, metrics: QFontMetricsF, colour: str
) -> None:
    if not words:
        return
    painter.setFont(font)
    painter.setPen(QColor(colour))
    shown = metrics.elidedText(words, Qt.TextElideMode.ElideRight, box.width())
    painter.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, shown)


def _paint_tile(
    painter: QPainter, rect: QRectF, tile: ServiceTile, text: TileText, fonts: TileFonts
) -> None:
    _paint_body(painter, rect, tile, fonts)
    _paint_bar(painter, rect, tile, text, fonts)
    x, width = rect.left() + fonts.pad, rect.width() - 2 * fonts.pad
    top = rect.top() + fonts.bar + fonts.pad * 0.6
    bright, body, strong = WALL_THEME.text, fonts.body_metrics, fonts.strong_metrics
    name_font, name_metrics = fonts.name, fonts.name_metrics
    if name_metrics.horizontalAdvance(text.name) > width:  # a long name steps down, not below
        name_font, name_metrics = fonts.strong, fonts.strong_metrics  # the body size
    name_box = QRectF(x, top, width, fonts.name_line)
    _line(painter, name_box, text.name, name_font, name_metrics, bright)
    top += fonts.name_line
    lines = [
        (text.value, fonts.strong, strong, bright),
        (text.detail, fonts.body, body, SECONDARY),
        (text.team, fonts.body, body, SECONDARY),
        (text.duty, fonts.strong, strong, bright)
        if tile.unacknowledged
        else (text.duty, fonts.body, body, SECONDARY),
    ]
    for words, font, metrics, colour in lines:
        _line(painter, QRectF(x, top, width, fonts.line), words, font, metrics, colour)
        top += fonts.line
