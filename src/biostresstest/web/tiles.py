"""Map tiles from the store: vector tiles of area units, raster tiles of class layers."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from biostresstest.core.errors import InvalidInput
from biostresstest.model.areas import normalise_area_key, parse_level
from biostresstest.model.store import Store
from biostresstest.web.deps import get_store
from biostresstest.web.hotpath import vector_tile as cached_vector_tile
from biostresstest.web.map_layers import load_map_layers
from biostresstest.web.rendering import render_tile

router = APIRouter(prefix="/tiles", tags=["tiles"])
StoreDep = Annotated[Store, Depends(get_store)]
Zoom = Annotated[int, Path(ge=0, le=22)]
TileIndex = Annotated[int, Path(ge=0)]

def cell_layer_colours() -> dict[str, dict[int, str]]:
    """The class layers served as raster tiles, with the colour of every class value."""
    return {
        layer.id: layer.class_colours()
        for layer in load_map_layers().values()
        if layer.kind == "classes"
    }


_CACHE = {"Cache-Control": "public, max-age=3600"}


@router.get("/{area}/{level}/{z}/{x}/{y}.mvt")
def vector_tile(
    store: StoreDep, area: str, level: str, z: Zoom, x: TileIndex, y: TileIndex
) -> Response:
    """A Mapbox vector tile of the area units of one level (one layer named after the level)."""
    _check_tile(z, x, y)
    data = cached_vector_tile(store, normalise_area_key(area), parse_level(level), z, x, y)
    if not data:
        return Response(status_code=204, headers=_CACHE)
    headers = {**_CACHE, "Content-Encoding": "gzip"}
    return Response(data, media_type="application/vnd.mapbox-vector-tile", headers=headers)


@router.get("/{area}/cells/{layer}/{z}/{x}/{y}.png")
def raster_tile(
    store: StoreDep, area: str, layer: str, z: Zoom, x: TileIndex, y: TileIndex
) -> Response:
    """A PNG tile of a cell layer of the map (``/api/layers`` lists them with their legends)."""
    _check_tile(z, x, y)
    layers = load_map_layers()
    if layer not in layers:
        raise InvalidInput(f"no raster tiles for layer {layer!r}", hint=f"use {sorted(layers)}")
    path = str(store.raster_path(normalise_area_key(area), layer))
    png = _render(path, layer, z, x, y)
    if png is None:
        return Response(status_code=204, headers=_CACHE)
    return Response(png, media_type="image/png", headers=_CACHE)


@lru_cache(maxsize=8192)
def _render(path: str, layer: str, z: int, x: int, y: int) -> bytes | None:
    # Keyed on the run folder's path: a new run gets a new path, so entries never go stale.
    return render_tile(path, z, x, y, load_map_layers()[layer])


def _check_tile(z: int, x: int, y: int) -> None:
    if x >= 2**z or y >= 2**z:
        raise InvalidInput(f"tile {z}/{x}/{y} does not exist", hint=f"x and y must be < 2^{z}")
