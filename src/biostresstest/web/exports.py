"""Downloads for GIS users: area units and feature layers as GeoPackage, GeoJSON or CSV.

``GET /api/export/{area}/{layer}.{format}`` with ``layer`` an area level (gemeente, wijk, buurt,
gebied) or a feature layer of the run (bermen, bos …). Every indicator column goes along.

- GeoPackage: EPSG:28992 (RD New, the storage CRS), written by pyogrio to a temporary file.
- GeoJSON: WGS84 lon/lat as RFC 7946 requires.
- CSV: one row per unit with the RD coordinates of a point inside it; text cells that a
  spreadsheet would run as a formula get a leading quote (web/csv_safe.py).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import geopandas as gpd
import pyogrio
from fastapi import APIRouter, Depends
from fastapi.responses import Response

from biostresstest.core.crs import WGS84
from biostresstest.core.errors import InvalidInput, NotLoaded
from biostresstest.model.areas import AreaLevel, normalise_area_key
from biostresstest.model.store import Store
from biostresstest.web.csv_safe import write_csv
from biostresstest.web.deps import get_store
from biostresstest.web.explain import clean

EXPORT_FORMATS = {
    "gpkg": "application/geopackage+sqlite3",
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
}

router = APIRouter(prefix="/api/export", tags=["export"])
StoreDep = Annotated[Store, Depends(get_store)]


def export_frame(store: Store, key: str, layer: str) -> gpd.GeoDataFrame:
    """The area units of level ``layer``, or the feature layer ``layer``, of store ``key``."""
    if key not in store.gemeenten():
        raise NotLoaded(f"no results for {key!r}", hint="see /api/gemeenten for loaded areas")
    levels = (
        [AreaLevel.GEMEENTE, AreaLevel.WIJK, AreaLevel.BUURT]
        if key.startswith("GM")
        else [AreaLevel.GEBIED]
    )
    for level in levels:
        if layer == level.value:
            return store.areas(key, level)
    if layer in store.feature_layers(key):
        return store.features(key, layer)
    known = [level.value for level in levels] + store.feature_layers(key)
    raise InvalidInput(f"no layer {layer[:40]!r} for {key}", hint=f"use one of {known}")


@router.get("/{area}/{filename}")
def export(store: StoreDep, area: str, filename: str) -> Response:
    """Download a layer as ``.gpkg``, ``.geojson`` or ``.csv``."""
    layer, _, fmt = filename.rpartition(".")
    if fmt not in EXPORT_FORMATS or not layer:
        raise InvalidInput(
            f"cannot export {filename[:60]!r}",
            hint=f"ask for <layer>.{{{','.join(EXPORT_FORMATS)}}}, e.g. buurt.gpkg",
        )
    key = normalise_area_key(area)
    frame = export_frame(store, key, layer)
    body = {"gpkg": to_geopackage, "geojson": to_geojson, "csv": to_csv}[fmt](frame, layer)
    name = f"biostresstest-{key}-{layer}.{fmt}"
    return Response(
        body,
        media_type=EXPORT_FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def to_geopackage(frame: gpd.GeoDataFrame, layer: str) -> bytes:
    """A GeoPackage (EPSG:28992) with one layer named ``layer``."""
    with tempfile.TemporaryDirectory(prefix="bst-export-") as folder:
        path = Path(folder) / "export.gpkg"
        pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG")
        return path.read_bytes()


def to_geojson(frame: gpd.GeoDataFrame, layer: str) -> bytes:
    """A GeoJSON FeatureCollection in WGS84 with every column as a property."""
    wgs = frame.to_crs(WGS84)
    columns = [c for c in wgs.columns if c != "geometry"]
    features = [
        {
            "type": "Feature",
            "properties": {c: clean(row[c]) for c in columns},
            "geometry": row.geometry.__geo_interface__ if row.geometry is not None else None,
        }
        for _, row in wgs.iterrows()
    ]
    body = {"type": "FeatureCollection", "name": layer, "features": features}
    return json.dumps(body, default=_jsonable).encode()


def to_csv(frame: gpd.GeoDataFrame, layer: str) -> bytes:
    """A CSV table with every column and the RD coordinates of a point inside each feature."""
    columns = [c for c in frame.columns if c != frame.geometry.name]
    points = frame.geometry.representative_point()
    rows = (
        [*(clean(frame.iloc[i][c]) for c in columns), round(p.x, 2), round(p.y, 2)]
        for i, p in enumerate(points)
    )
    return write_csv([*columns, "x_rd", "y_rd"], rows).encode("utf-8")


def _jsonable(value: Any) -> Any:
    return str(value)
