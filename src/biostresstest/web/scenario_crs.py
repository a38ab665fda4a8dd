"""Scenario places drawn on a web map: their geometries from WGS84 (lon/lat) to RD New.

The map in the browser works in longitude/latitude; the scenario engine in RD New metres. A
scenario request may say ``"crs": "EPSG:4326"`` and give its places in lon/lat; they are
transformed here (pyproj, the same transformation as every point query) before the scenario
is built, so the limits and checks of :mod:`biostresstest.measures.scenario` apply unchanged.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer

from biostresstest.core.crs import RD_NEW, WGS84
from biostresstest.core.errors import InvalidInput, PayloadTooLarge
from biostresstest.measures import scenario as scenarios
from biostresstest.measures.places import parse_geometry
from biostresstest.web.deps import to_rd

_RD_NAMES = (RD_NEW, "28992")
_MAX_CHARS = scenarios.MAX_VERTICES * 64
"""Longest geometry text read before the scenario's own checks (as in the scenario module)."""


def places_in_rd(places: list[Any], crs: str) -> list[Any]:
    """``places`` with every geometry in RD New (as ``wkt``); unchanged when already RD New."""
    if not isinstance(crs, str):
        raise InvalidInput("crs must be a text such as EPSG:4326")
    if crs.upper() in _RD_NAMES:
        return places
    to_rd(0.0, 0.0, crs)  # refuses an unsupported crs with the usual message; else WGS84
    scenarios.check_limits(places, "")
    converted: list[Any] = []
    for i, raw in enumerate(places, start=1):
        if not isinstance(raw, dict):
            converted.append(raw)  # the scenario builder names the fault
            continue
        geometry = raw.get("wkt") or raw.get("geojson") or raw.get("geometry")
        if geometry is None:
            converted.append(raw)
            continue
        text = geometry if isinstance(geometry, str) else json.dumps(geometry)
        if len(text) > _MAX_CHARS:
            raise PayloadTooLarge(
                f"place #{i}: the geometry text is too long for "
                f"{scenarios.MAX_VERTICES:,} corners",
                hint="simplify the polygon",
            )
        shape = parse_geometry(geometry, f"place #{i}")
        lon_min, lat_min, lon_max, lat_max = shape.bounds if not shape.is_empty else (0, 0, 0, 0)
        if not (-180 <= lon_min <= lon_max <= 180 and -90 <= lat_min <= lat_max <= 90):
            raise InvalidInput(
                f"place #{i} has coordinates outside longitude/latitude ranges",
                hint="with crs EPSG:4326 give longitude, latitude; or send RD New without crs",
            )
        rd = shapely.transform(shape, _to_rd)
        place = {k: v for k, v in raw.items() if k not in ("wkt", "geojson", "geometry")}
        converted.append({**place, "wkt": rd.wkt})
    return converted


def _to_rd(lonlat: np.ndarray) -> np.ndarray:
    """RD New coordinates of an (n, 2) array of longitude, latitude."""
    x, y = _wgs84_to_rd().transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


@lru_cache(maxsize=1)
def _wgs84_to_rd() -> Transformer:
    return Transformer.from_crs(WGS84, RD_NEW, always_xy=True)
