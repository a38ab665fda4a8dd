"""Raster tiles of cell layers: each tile warped straight from the published COG.

The dataset stays open per published layer, and a tile is one GDAL warp onto the tile's own
Web Mercator grid (nearest neighbour: classes are never blended, and a continuous layer keeps
its cells visible) and a palette PNG; about 3 ms, where setting up the projection anew for every
tile cost tens of milliseconds. The map layer spec (``map_layers.py``) turns values into palette
indices, so class, score and continuous layers share one path.
"""

from __future__ import annotations

import io
import threading
from functools import lru_cache

import numpy as np
import rasterio
from affine import Affine
from PIL import Image
from rasterio.enums import Resampling
from rasterio.warp import reproject, transform_bounds

from biostresstest.core.crs import WEB_MERCATOR
from biostresstest.web.map_layers import MapLayer

TILE_SIZE = 256
_ORIGIN = 20037508.342789244
"""Half the width of the Web Mercator square, metres."""


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Web Mercator bounds (xmin, ymin, xmax, ymax) of XYZ tile z/x/y."""
    size = 2 * _ORIGIN / 2**z
    xmin = -_ORIGIN + x * size
    ymax = _ORIGIN - y * size
    return (xmin, ymax - size, xmin + size, ymax)


class _CellLayer:
    """A published COG, kept open and safe to read from many threads."""

    def __init__(self, path: str) -> None:
        self._src = rasterio.open(path)
        self._lock = threading.Lock()
        self.dtype = self._src.dtypes[0]
        nodata = self._src.nodata
        floating = self.dtype.startswith("float")
        self.nodata: float = float("nan") if nodata is None and floating else (nodata or 0)
        left, bottom, right, top = transform_bounds(self._src.crs, WEB_MERCATOR, *self._src.bounds)
        self.bounds = (left, bottom, right, top)

    def read(self, z: int, x: int, y: int) -> np.ndarray | None:
        """The tile's cells, warped straight from the source (nearest: classes never blend)."""
        xmin, ymin, xmax, ymax = tile_bounds(z, x, y)
        left, bottom, right, top = self.bounds
        if xmax <= left or xmin >= right or ymax <= bottom or ymin >= top:
            return None
        tile = np.full((TILE_SIZE, TILE_SIZE), self.nodata, dtype=self.dtype)
        size = (xmax - xmin) / TILE_SIZE
        with self._lock:  # a GDAL dataset must not be read by two threads at once
            reproject(
                rasterio.band(self._src, 1),
                tile,
                dst_transform=Affine(size, 0.0, xmin, 0.0, -size, ymax),
                dst_crs=WEB_MERCATOR,
                src_nodata=self.nodata,
                dst_nodata=self.nodata,
                resampling=Resampling.nearest,
            )
        return tile


@lru_cache(maxsize=64)
def _layer(path: str) -> _CellLayer:
    # A published run folder never changes (a new run gets a new path), so caching is safe.
    return _CellLayer(path)


def render_tile(path: str, z: int, x: int, y: int, layer: MapLayer) -> bytes | None:
    """A palette PNG of tile z/x/y of a cell layer; None when the tile holds no value."""
    data = _layer(path).read(z, x, y)
    if data is None:
        return None
    indices = layer.indices(data)
    if not indices.any():
        return None
    image = Image.fromarray(indices, mode="P")
    image.putpalette(layer.palette())
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", transparency=0, optimize=False)
    return buffer.getvalue()
