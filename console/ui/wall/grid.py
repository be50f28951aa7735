"""The tile grid: one widget paints every tile of the current page (no widget per tile).

One custom-painted widget draws a page of tiles in a few milliseconds where a frame and labels
per tile cost about twice as much (DESIGN.md: 500 tiles in about 9 ms against 16 ms). It repaints
only what changed: each tile is drawn once into an image kept while it looks the same (its
words, state and acknowledgement), a repaint only copies those images, and when a reading or
the once-a-second tick changes some tiles' words (a new value, a minute more in state) only
those tiles are redrawn and repainted. Reading the same data again (only older) changes
nothing. While the wall stands still, the next page's tiles are drawn ahead, one per event-loop
turn, so rotating to it only copies images: drawing a whole page at once (10 to 20 ms of the UI
thread, several times that while other threads hold the GIL) stalled the event loop here.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime, timedelta

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, QTimer
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPaintEvent,
    QPen,
)
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


#: Every field of a tile but its data age, read in one call.
_STABLE_FIELDS = operator.attrgetter(
    *(f.name for f in fields(ServiceTile) if f.name != "data_age_s")
)
#: How a tile looks: its words, its state (colour and shape) and whether it is unacknowledged.
Look = tuple[TileText, DisplayState, bool]
#: A drawn tile: how it looks, its size in pixels, the text size and the device pixel ratio.
_ImageKey = tuple[Look, int, int, float, float]
#: Metres per inch, to give a tile image the widget's dots per inch.
_INCH_M = 0.0254


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
        result.append((_STABLE_FIELDS(tile), newest))
    return tuple(result)


def look(tile: ServiceTile, now: datetime) -> Look:
    """Everything that decides how ``tile`` is painted at ``now``."""
    return tile_text(tile, now), tile.state, tile.unacknowledged


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
        # What the last refresh decided is shown: where, which tiles, and how each looks.
        self._shown_at: tuple[int, Grid] | None = None
        self._shown_tiles: Sequence[ServiceTile] = ()
        self._shown_looks: tuple[Look, ...] = ()
        self._images: dict[_ImageKey, QImage] = {}
        self._ahead: list[tuple[ServiceTile, Look]] = []  # tiles to draw in turns of their own
        self._unpainted: list[QRect] = []  # cells whose new image is drawn but not yet shown
        self._ahead_timer = QTimer(self)
        self._ahead_timer.setSingleShot(True)
        self._ahead_timer.setInterval(0)
        self._ahead_timer.timeout.connect(self._draw_ahead)
        #: How many times the grid has painted (tests check that nothing repaints needlessly).
        self.paint_count = 0
        #: How many tile images have been drawn (each tile once while it looks the same).
        self.tiles_drawn = 0

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

    @property
    def images_held(self) -> int:
        """How many tile images are kept (those of the page shown and of the next one)."""
        return len(self._images)

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
        self._refresh()
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
        """Repaint the tiles whose look changed (all of them for a new page or layout)."""
        tiles = self.page_tiles()
        looks = tuple(look(t, self._now) for t in tiles)
        at = (self._page, self._grid)
        if not force and at == self._shown_at and looks == self._shown_looks:
            self._plan_ahead()
            return
        changed = self._changed_cells(at, looks)
        self._shown_at, self._shown_tiles, self._shown_looks = at, tiles, looks
        # What a screen reader says for the painted page.
        self.setAccessibleDescription(
            "; ".join(f"{t.name}: {t.state}, {t.value}" for t, _state, _ack in looks)
        )
        if force or changed is None:
            self._unpainted = []
            self.update()  # a new page: what is not drawn ahead yet is drawn in the paint
        else:
            width, height = self._cell_size()
            for rect, tile_look in changed:
                if tile_look is None or self._key(tile_look, width, height) in self._images:
                    self.update(rect.toAlignedRect())
                # Otherwise it is drawn in a turn of its own, then repainted (_draw_ahead).
        self._plan_ahead()

    def _changed_cells(
        self, at: tuple[int, Grid], looks: tuple[Look, ...]
    ) -> list[tuple[QRectF, Look | None]] | None:
        """The cells whose look changed, with the new look (None: now empty).

        None when the page or the layout changed.
        """
        if at != self._shown_at:
            return None
        cells = self._grid.cells(self.width(), self.height())
        old = self._shown_looks
        return [
            (QRectF(*cells[i]), looks[i] if i < len(looks) else None)
            for i in range(min(len(cells), max(len(old), len(looks))))
            if i >= len(old) or i >= len(looks) or old[i] != looks[i]
        ]

    # -- tile images ---------------------------------------------------------------------------

    def _cell_size(self) -> tuple[float, float]:
        cells = self._grid.cells(self.width(), self.height())
        return (cells[0][2], cells[0][3]) if cells else (0.0, 0.0)

    def _key(self, tile_look: Look, width: float, height: float) -> _ImageKey:
        size = self._grid.point_size
        return tile_look, math.ceil(width), math.ceil(height), size, self.devicePixelRatioF()

    def _image(self, tile: ServiceTile, tile_look: Look, width: float, height: float) -> QImage:
        """The tile drawn into an image (drawn now unless it was drawn looking the same)."""
        key = self._key(tile_look, width, height)
        image = self._images.get(key)
        if image is None:
            image = self._images[key] = self._draw(tile, tile_look[0], width, height)
        return image

    def _draw(self, tile: ServiceTile, text: TileText, width: float, height: float) -> QImage:
        ratio = self.devicePixelRatioF()
        if width < 1 or height < 1:  # not laid out yet: nothing to draw on
            return QImage()
        image = QImage(
            math.ceil(width * ratio),
            math.ceil(height * ratio),
            QImage.Format.Format_ARGB32_Premultiplied,
        )
        image.setDevicePixelRatio(ratio)
        # Points become pixels as on the widget, whose metrics laid the text out.
        image.setDotsPerMeterX(round(self.logicalDpiX() / _INCH_M))
        image.setDotsPerMeterY(round(self.logicalDpiY() / _INCH_M))
        image.fill(QColor(WALL_THEME.window))
        painter = QPainter(image)
        _paint_tile(painter, QRectF(0, 0, width, height), tile, text, self.fonts)
        painter.end()
        self.tiles_drawn += 1
        return image

    def _plan_ahead(self) -> None:
        """Keep the images of the page shown and of the next one; draw the missing ones soon.

        The page shown comes first (its changed tiles wait for their image), then the next one.
        """
        width, height = self._cell_size()
        wanted = list(zip(self._shown_tiles, self._shown_looks, strict=True))
        if self.page_count > 1:
            following = self.page_tiles((self._page + 1) % self.page_count)
            wanted += [(t, look(t, self._now)) for t in following]
        keep = {self._key(lk, width, height) for _t, lk in wanted}
        for key in self._images.keys() - keep:
            del self._images[key]
        self._ahead = [
            (t, lk) for t, lk in wanted if self._key(lk, width, height) not in self._images
        ]
        if self._ahead and not self._ahead_timer.isActive():
            self._ahead_timer.start()

    def _draw_ahead(self) -> None:
        """Draw one missing tile image (one per event-loop turn keeps every turn short).

        Tiles of the page shown are repainted together once every one of them has its image.
        """
        width, height = self._cell_size()
        while self._ahead:
            tile, tile_look = self._ahead.pop(0)
            if self._key(tile_look, width, height) in self._images:
                continue  # a paint needed it first
            self._image(tile, tile_look, width, height)
            cells = self._grid.cells(self.width(), self.height())
            self._unpainted += [
                QRectF(*cell).toAlignedRect()
                for shown, cell in zip(self._shown_looks, cells, strict=False)
                if shown == tile_look
            ]
            break
        if self._unpainted and all(
            self._key(lk, width, height) in self._images for lk in self._shown_looks
        ):
            for rect in self._unpainted:
                self.update(rect)
            self._unpainted = []
        if self._ahead:
            self._ahead_timer.start()

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
        painter.fillRect(event.rect(), QColor(WALL_THEME.window))
        dirty = event.region()
        cells = self._grid.cells(self.width(), self.height())
        for tile, tile_look, (x, y, w, h) in zip(
            self._shown_tiles, self._shown_looks, cells, strict=False
        ):
            if not dirty.intersects(QRectF(x, y, w, h).toAlignedRect()):
                continue
            image = self._image(tile, tile_look, w, h)
            if not image.isNull():
                painter.drawImage(QPointF(x, y), image)
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
        if tile.unacknowledged or tile.drill
        else (text.duty, fonts.body, body, SECONDARY),
    ]
    for words, font, metrics, colour in lines:
        _line(painter, QRectF(x, top, width, fonts.line), words, font, metrics, colour)
        top += fonts.line
