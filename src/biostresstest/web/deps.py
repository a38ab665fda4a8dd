"""Shared pieces of the request handlers: the store and coordinate handling."""

from __future__ import annotations

from functools import lru_cache

from fastapi import Request
from pyproj import Transformer

from biostresstest.core.crs import RD_NEW, WGS84
from biostresstest.core.errors import InvalidInput
from biostresstest.model.store import Store


def get_store(request: Request) -> Store:
    """The store of this app (set by the app factory)."""
    store: Store = request.app.state.store
    return store


@lru_cache(maxsize=8)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def to_rd(x: float, y: float, crs: str) -> tuple[float, float]:
    """RD New coordinates of a point given in ``crs`` (RD New or WGS84 lon/lat)."""
    normalised = crs.upper()
    if normalised in (RD_NEW, "28992"):
        return (x, y)
    if normalised in (WGS84, "4326", "CRS84", "OGC:CRS84"):
        rx, ry = _transformer(WGS84, RD_NEW).transform(x, y)
        return (float(rx), float(ry))
    raise InvalidInput(
        f"unsupported crs {crs!r}", hint="use EPSG:28992 (x, y) or EPSG:4326 (lon, lat)"
    )


def to_wgs84(x: float, y: float) -> tuple[float, float]:
    """Lon/lat of an RD point."""
    lon, lat = _transformer(RD_NEW, WGS84).transform(x, y)
    return (float(lon), float(lat))
