"""How many tiles fit on a wall page, and at what text size (never below the readable minimum).

Text on a wall is read from across a room: no tile text is ever smaller than
:data:`MIN_POINT_SIZE` (24 pt, about 32 px on a 96 dpi 1080p screen). The grid tries larger
sizes first while every tile still fits on one page; when even the minimum size does not fit,
the tiles are paginated at the minimum size instead of being shrunk.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

#: The smallest text the wall ever draws, in points.
MIN_POINT_SIZE = 24.0
#: Text sizes tried, largest first (every one at least MIN_POINT_SIZE).
POINT_SIZES: tuple[float, ...] = (40.0, 36.0, 32.0, 28.0, MIN_POINT_SIZE)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TileSize:
    """What one tile needs at some text size, in pixels.

    Attributes:
        min_width: The narrowest a tile may be (room for about 26 characters of body text).
        height: The height of its lines plus padding.
        gap: The space between tiles and around the grid.
    """

    min_width: float
    height: float
    gap: float


@dataclass(frozen=True, slots=True)
class Grid:
    """A page's grid: columns by rows of tiles at one text size.

    Attributes:
        columns: Tiles across.
        rows: Tiles down.
        point_size: The body text size in points (never below MIN_POINT_SIZE).
        gap: Pixels between tiles and around the grid.
    """

    columns: int
    rows: int
    point_size: float
    gap: float

    @property
    def per_page(self) -> int:
        """How many tiles one page holds."""
        return self.columns * self.rows

    def pages(self, count: int) -> int:
        """How many pages ``count`` tiles need (at least one, even for none)."""
        return max(1, math.ceil(count / self.per_page))

    def cells(self, width: float, height: float) -> list[tuple[float, float, float, float]]:
        """Each cell's (x, y, w, h), row by row: the grid stretched over the whole area."""
        gap = self.gap
        cell_w = (width - gap * (self.columns + 1)) / self.columns
        cell_h = (height - gap * (self.rows + 1)) / self.rows
        return [
            (gap + col * (cell_w + gap), gap + row * (cell_h + gap), cell_w, cell_h)
            for row in range(self.rows)
            for col in range(self.columns)
        ]


def _fits(width: float, height: float, size: TileSize) -> tuple[int, int]:
    columns = int((width - size.gap) // (size.min_width + size.gap))
    rows = int((height - size.gap) // (size.height + size.gap))
    return max(1, columns), max(1, rows)


def fit(
    width: float,
    height: float,
    count: int,
    measure: Callable[[float], TileSize],
    sizes: Sequence[float] = POINT_SIZES,
) -> Grid:
    """The grid for ``count`` tiles in a ``width`` x ``height`` pixel area.

    Args:
        width: The area's width in pixels.
        height: The area's height in pixels.
        count: How many tiles there are.
        measure: What a tile needs at a given point size.
        sizes: Text sizes to try, largest first; the last one is used (and paginated) when no
            size fits every tile on one page. Sizes below MIN_POINT_SIZE are ignored.

    Returns:
        The largest text size whose grid holds every tile on one page, else the smallest size.
    """
    usable = [s for s in sizes if s >= MIN_POINT_SIZE] or [MIN_POINT_SIZE]
    grid: Grid | None = None
    for point_size in usable:
        size = measure(point_size)
        columns, rows = _fits(width, height, size)
        grid = Grid(columns, rows, point_size, size.gap)
        if grid.per_page >= count:
            return _tighten(grid, count)
    assert grid is not None
    return grid


def _tighten(grid: Grid, count: int) -> Grid:
    """Drop columns and rows that would stay empty, so a few tiles use the room they have."""
    columns, rows = grid.columns, grid.rows
    if count <= 0:
        return grid
    while columns > 1 and (columns - 1) * rows >= count:
        columns -= 1
    while rows > 1 and columns * (rows - 1) >= count:
        rows -= 1
    return Grid(columns, rows, grid.point_size, grid.gap)


def page(items: Sequence[T], number: int, per_page: int) -> Sequence[T]:
    """The items on page ``number`` (0-based) of ``per_page`` each."""
    return items[number * per_page : (number + 1) * per_page]
