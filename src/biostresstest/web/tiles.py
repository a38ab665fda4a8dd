"""Map tiles from the store: vector tiles of area units, raster tiles of cell layers."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from rio_tiler.errors import TileOutsideBounds
from rio_tiler.io import Reader

from biostresstest.analysis.scoring import SCORE_CLASSES
from biostresstest.core.errors import InvalidInput
from biostresstest.model.areas import normalise_gemeente_code, parse_level
from biostresstest.model.store import Store
from biostresstest.web.deps import get_store

router = APIRouter(prefix="/tiles", tags=["tiles"])
StoreDep = Annotated[Store, Depends(get_store)]
Zoom = Annotated[int, Path(ge=0, le=22)]
TileIndex = Annotated[int, Path(ge=0)]

CELL_LAYERS = {"score_class"}
"""Cell layers served as raster tiles."""
_CLASS_COLOURMAP = {
    c.value: (int(c.colour[1:3], 16), int(c.colour[3:5], 16), int(c.colour[5:7], 16), 255)
    for c in SCORE_CLASSES
}
_CACHE = {"Cache-Control": "public, max-age=3600"}


@router.get("/{gemeente}/{level}/{z}/{x}/{y}.mvt")
def vector_tile(
    store: StoreDep, gemeente: str, level: str, z: Zoom, x: TileIndex, y: TileIndex
) -> Response:
    """A Mapbox vector tile of the area units of one level (one layer named after the level)."""
    _check_tile(z, x, y)
    data = store.vector_tile(normalise_gemeente_code(gemeente), parse_level(level), z, x, y)
    if not data:
        return Response(status_code=204, headers=_CACHE)
    headers = {**_CACHE, "Content-Encoding": "gzip"}
    return Response(data, media_type="application/vnd.mapbox-vector-tile", headers=headers)


@router.get("/{gemeente}/cells/{layer}/{z}/{x}/{y}.png")
def raster_tile(
    store: StoreDep, gemeente: str, layer: str, z: Zoom, x: TileIndex, y: TileIndex
) -> Response:
    """A PNG tile of a cell layer, coloured with the 7 classes."""
    _check_tile(z, x, y)
    if layer not in CELL_LAYERS:
        raise InvalidInput(
            f"no raster tiles for layer {layer!r}", hint=f"use {sorted(CELL_LAYERS)}"
        )
    path = str(store.raster_path(normalise_gemeente_code(gemeente), layer))
    png = _render(path, z, x, y)
    if png is None:
        return Response(status_code=204, headers=_CACHE)
    return Response(png, media_type="image/png", headers=_CACHE)


@lru_cache(maxsize=4096)
def _render(path: str, z: int, x: int, y: int) -> bytes | None:
    # Keyed on the run folder's path: a new run gets a new path, so entries never go stale.
    with Reader(path) as cog:
        try:
            image = cog.tile(
                x, y, z, indexes=1, resampling_method="nearest", reproject_method="nearest"
            )
        except TileOutsideBounds:
            return None
    if not image.mask.any():
        return None
    png: bytes = image.render(img_format="PNG", colormap=_CLASS_COLOURMAP)
    return png


def _check_tile(z: int, x: int, y: int) -> None:
    if x >= 2**z or y >= 2**z:
        raise InvalidInput(f"tile {z}/{x}/{y} does not exist", hint=f"x and y must be < 2^{z}")
