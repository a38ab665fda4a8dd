"""Habitat Quality's grid and strips: InVEST's alignment, read and written STRIP_ROWS at a time.

Every raster is aligned to the current land cover as InVEST does (nearest neighbour, square
pixels of min(|dx|, |dy|), the current land cover's bounding box) and read strip by strip, so
nothing of the size of the map stays in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.enums import Resampling
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from biostresstest.analysis import habitat_quality as hq
from biostresstest.pipeline.invest_files import Grid, warped

STRIP_ROWS = 128
"""Rows per strip: small buffers (strips need no halo: see ``ThreatPresence.write_up``)."""


def target_grid(ds: rasterio.io.DatasetReader) -> Grid:
    """pygeoprocessing's ``warp_raster`` grid for the LULC bbox at min(|dx|, |dy|)."""
    minx, miny, maxx, maxy = ds.bounds
    px = min(abs(ds.transform.a), abs(ds.transform.e))
    sizes = []
    for extent in (maxx - minx, maxy - miny):
        n = int(abs(float(extent) / px))
        if not np.isclose(abs(n * px) - extent, 0.0):
            n += 1
        sizes.append(max(n, 1))
    top = miny + px * sizes[1]
    return Grid(ds.crs, Affine(px, 0.0, minx, 0.0, -px, top), sizes[0], sizes[1])


def on_grid(ds: rasterio.io.DatasetReader, grid: Grid) -> bool:
    """Whether ``ds`` already lies on ``grid`` (read as is, no warping)."""
    return bool(
        ds.crs == grid.crs
        and ds.transform.almost_equals(grid.transform, precision=1e-9)
        and (ds.width, ds.height) == (grid.width, grid.height)
    )


def overlaps(ds: rasterio.io.DatasetReader, grid: Grid) -> bool:
    """Whether ``ds`` (in any CRS) covers part of ``grid``."""
    if ds.crs is None:
        return False
    left, bottom, right, top = transform_bounds(ds.crs, grid.crs, *ds.bounds)
    g = rasterio.transform.array_bounds(grid.height, grid.width, grid.transform)
    return bool(min(right, g[2]) > max(left, g[0]) and min(top, g[3]) > max(bottom, g[1]))


def strips(ds: rasterio.io.DatasetReader, grid: Grid) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (row0, band-1 block) over the grid, warped (nearest) when not already on it."""
    source = ds if on_grid(ds, grid) else warped(ds, grid, Resampling.nearest)
    for r0 in range(0, grid.height, STRIP_ROWS):
        n = min(STRIP_ROWS, grid.height - r0)
        yield r0, source.read(1, window=Window(0, r0, grid.width, n))


def class_strips(path: Path, grid: Grid, table: hq.ClassTable) -> Iterator[np.ndarray]:
    """The spilled class indices of a land cover, strip by strip (STRIP_ROWS rows)."""
    dtype = np.uint8 if len(table.codes) < 254 else np.uint16  # as hq.classify makes them
    with path.open("rb") as src:
        for r0 in range(0, grid.height, STRIP_ROWS):
            n = min(STRIP_ROWS, grid.height - r0) * grid.width
            yield np.fromfile(src, dtype, n).reshape(-1, grid.width)


def cell_label(index: int, width: int) -> str:
    """A flat cell index as the 1-based row and column a user finds it at."""
    return f"row {index // width + 1}, column {index % width + 1}"
