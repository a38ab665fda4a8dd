"""The analysis grid: EPSG:28992 cells aligned to whole multiples of the cell size.

Aligning every grid to the RD origin makes the grids of neighbouring gemeenten (and of chunks of
one gemeente) fit together cell for cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from affine import Affine

from biostresstest.core.crs import DEFAULT_CELL_SIZE, RD_NEW
from biostresstest.core.errors import InvalidInput


@dataclass(frozen=True)
class AnalysisGrid:
    """A rectangular block of RD cells; ``xmin``/``ymax`` are multiples of ``cell_size``."""

    xmin: float
    ymax: float
    width: int
    height: int
    cell_size: float = DEFAULT_CELL_SIZE
    crs: str = RD_NEW

    def __post_init__(self) -> None:
        if self.cell_size <= 0:
            raise InvalidInput(f"cell size must be positive, got {self.cell_size}")
        for name, value in (("xmin", self.xmin), ("ymax", self.ymax)):
            if not _is_multiple(value, self.cell_size):
                raise InvalidInput(
                    f"grid {name}={value} is not a multiple of the cell size {self.cell_size}",
                    hint="build grids with AnalysisGrid.covering(bounds) so they stay aligned",
                )

    @classmethod
    def covering(
        cls, bounds: tuple[float, float, float, float], cell_size: float = DEFAULT_CELL_SIZE
    ) -> AnalysisGrid:
        """The smallest aligned grid that covers ``bounds`` (xmin, ymin, xmax, ymax) in RD."""
        xmin, ymin, xmax, ymax = bounds
        if not (xmax > xmin and ymax > ymin):
            raise InvalidInput(f"empty bounds {bounds}")
        gx0 = math.floor(xmin / cell_size) * cell_size
        gy0 = math.floor(ymin / cell_size) * cell_size
        gx1 = math.ceil(xmax / cell_size) * cell_size
        gy1 = math.ceil(ymax / cell_size) * cell_size
        width = round((gx1 - gx0) / cell_size)
        height = round((gy1 - gy0) / cell_size)
        return cls(xmin=gx0, ymax=gy1, width=width, height=height, cell_size=cell_size)

    @property
    def transform(self) -> Affine:
        """The affine transform of the top-left corner (GDAL convention)."""
        return Affine(self.cell_size, 0.0, self.xmin, 0.0, -self.cell_size, self.ymax)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return (self.height, self.width)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in RD."""
        return (
            self.xmin,
            self.ymax - self.height * self.cell_size,
            self.xmin + self.width * self.cell_size,
            self.ymax,
        )

    @property
    def cell_area(self) -> float:
        """Area of one cell in m²."""
        return self.cell_size * self.cell_size

    def cell_of(self, x: float, y: float) -> tuple[int, int] | None:
        """(row, col) of the cell holding RD point (x, y), or None outside the grid."""
        col = math.floor((x - self.xmin) / self.cell_size)
        row = math.floor((self.ymax - y) / self.cell_size)
        if 0 <= row < self.height and 0 <= col < self.width:
            return (row, col)
        return None


def _is_multiple(value: float, step: float) -> bool:
    ratio = value / step
    return abs(ratio - round(ratio)) < 1e-9
