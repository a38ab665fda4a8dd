"""Area-true rasterisation of polygons: the share of each cell covered."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from rasterio.features import rasterize

from biostresstest.model.grid import AnalysisGrid


def supersample_for(cell_size: float) -> int:
    """Sub-cells per cell edge: 10 (shares exact to 1 % of a cell) for cells of 5 m and more,
    2 for finer grids, where a 1 m cell is already finer than the boundaries it shows."""
    return 10 if cell_size >= 5 else 2


def coverage_share(polygons: gpd.GeoSeries, grid: AnalysisGrid) -> np.ndarray:
    """Share 0..1 of each grid cell that lies inside the union of ``polygons``.

    The polygons are burnt at a finer resolution (:func:`supersample_for`), only inside their
    own bounding box, and counted back per cell; so a cell half inside gets 0.5, not 0 or 1.
    """
    share = np.zeros(grid.shape, dtype="float32")
    if polygons.empty:
        return share
    clipped = polygons.clip(grid.bounds)
    clipped = clipped[~clipped.is_empty]
    if clipped.empty:
        return share
    xmin, ymin, xmax, ymax = clipped.total_bounds
    sub = AnalysisGrid.covering((xmin, ymin, xmax, ymax), grid.cell_size)
    factor = supersample_for(grid.cell_size)
    fine_size = grid.cell_size / factor
    fine = rasterize(
        ((geom, 1) for geom in clipped.geometry),
        out_shape=(sub.height * factor, sub.width * factor),
        transform=(fine_size, 0.0, sub.xmin, 0.0, -fine_size, sub.ymax),
        fill=0,
        dtype="uint8",
    )
    counts = fine.reshape(sub.height, factor, sub.width, factor).sum(axis=(1, 3), dtype="uint16")
    row0 = round((grid.ymax - sub.ymax) / grid.cell_size)
    col0 = round((sub.xmin - grid.xmin) / grid.cell_size)
    share[row0 : row0 + sub.height, col0 : col0 + sub.width] = counts * np.float32(1 / factor**2)
    return share
