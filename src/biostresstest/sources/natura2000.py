"""Natura 2000 sites (Habitat and Birds Directive) of the Netherlands."""

from __future__ import annotations

import geopandas as gpd

from biostresstest.sources.base import FetchedFile, Level, SourceSpec
from biostresstest.sources.vector import read_vector, rename_columns

SPEC = SourceSpec(
    id="natura2000",
    title="Natura 2000-gebieden",
    publisher="Ministerie van LNV / RVO (via PDOK)",
    level=Level.EU,
    licence="CC BY 4.0 (derived copy); PDOK source: public domain",
    theme="protected nature",
    url="https://api.pdok.nl/rvo/natura2000/ogc/v1",
    collection="natura2000",
    protocol="ogcapi-features",
    mirror_path="nl-natura2000-160/natura2000_nl_160.geojson",
    online_name="natura2000.geojson",
    format="GeoJSON",
    crs="OGC:CRS84",
    resolution="site boundaries",
    date="2026",
)

_ALIASES = {"name": ("naam", "naamN2K", "naam_n2k")}


def read_sites(
    fetched: FetchedFile, bbox: tuple[float, float, float, float] | None = None
) -> gpd.GeoDataFrame:
    """Natura 2000 sites (those meeting ``bbox``, in RD New), self-intersections repaired."""
    frame = rename_columns(read_vector(fetched, bbox=bbox), _ALIASES, fetched)
    frame["geometry"] = frame.geometry.make_valid()
    return frame[["name", "geometry"]]
