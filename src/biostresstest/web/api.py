"""Our own JSON/GeoJSON API: sources, gemeenten, areas with their scores, cell values."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

import rasterio
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from shapely.geometry import Point

from biostresstest.analysis.scoring import SCORE_CLASSES, SCORE_VERSION
from biostresstest.core.crs import WGS84
from biostresstest.core.errors import NotLoaded
from biostresstest.model.areas import AreaLevel, normalise_gemeente_code, parse_level
from biostresstest.model.store import Store
from biostresstest.pipeline.run import INDICATOR_LAYERS
from biostresstest.sources.registry import SOURCES
from biostresstest.web.deps import get_store, to_rd

router = APIRouter(prefix="/api", tags=["api"])
StoreDep = Annotated[Store, Depends(get_store)]

AREA_PROPERTIES = [
    "code",
    "name",
    "level",
    "parent_code",
    "jaar",
    "inwoners",
    "green_share",
    "natura2000_share",
    "groenkaart_nodata_share",
    "data_coverage",
    "score",
    "score_class",
]


@router.get("/legend")
def legend() -> dict[str, Any]:
    """The 7 fixed classes of the stress-test score."""
    return {
        "score_version": SCORE_VERSION,
        "classes": [vars(c) for c in SCORE_CLASSES],
    }


@router.get("/sources")
def sources() -> list[dict[str, str]]:
    """The declarative specs of all sources."""
    return [spec.as_row() for spec in SOURCES]


@router.get("/gemeenten")
def gemeenten(store: StoreDep) -> list[dict[str, Any]]:
    """The gemeenten with published results, with bounds and the sources used."""
    answer = []
    for code in store.gemeenten():
        unit = store.areas(code, AreaLevel.GEMEENTE)
        manifest = store.manifest(code)
        row = unit.iloc[0]
        answer.append(
            {
                "code": code,
                "name": row["name"],
                "score": _clean(row["score"]),
                "score_class": int(row["score_class"]),
                "bounds_wgs84": [float(v) for v in unit.to_crs(WGS84).total_bounds],
                "created": manifest.get("created"),
                "inputs": manifest.get("inputs", []),
            }
        )
    return answer


@router.get("/areas")
def areas(
    store: StoreDep,
    gemeente: Annotated[str, Query(description="CBS gemeente code, e.g. GM0758")],
    level: Annotated[str, Query(description="gemeente, wijk or buurt")] = "buurt",
) -> Response:
    """Area units with their indicator values as a GeoJSON FeatureCollection (WGS84)."""
    code = normalise_gemeente_code(gemeente)
    area_level = parse_level(level)
    frame = store.areas(code, area_level).to_crs(WGS84)
    features = [
        {
            "type": "Feature",
            "id": row["code"],
            "properties": {k: _clean(row[k]) for k in AREA_PROPERTIES},
            "geometry": row.geometry.__geo_interface__,
        }
        for _, row in frame.iterrows()
    ]
    body = {"type": "FeatureCollection", "features": features}
    return Response(json.dumps(body), media_type="application/geo+json")


@router.get("/cell")
def cell(
    store: StoreDep,
    x: Annotated[float, Query(description="x (RD) or longitude")],
    y: Annotated[float, Query(description="y (RD) or latitude")],
    crs: Annotated[str, Query(description="EPSG:28992 (default) or EPSG:4326")] = "EPSG:28992",
) -> dict[str, Any]:
    """The values of the grid cell at a point, its buurt, and the sources they come from."""
    rx, ry = to_rd(x, y, crs)
    for code in store.gemeenten():
        buurt = store.areas(code, AreaLevel.BUURT, bbox=(rx, ry, rx, ry))
        buurt = buurt[buurt.contains(Point(rx, ry))]
        if buurt.empty:
            continue
        values: dict[str, Any] = {}
        for name in (*INDICATOR_LAYERS, "score_class"):
            with rasterio.open(store.raster_path(code, name)) as src:
                values[name] = _clean(next(src.sample([(rx, ry)]))[0])
        row = buurt.iloc[0]
        return {
            "x": round(rx, 2),
            "y": round(ry, 2),
            "gemeente": code,
            "buurt": {
                "code": row["code"],
                "name": row["name"],
                "score_class": int(row["score_class"]),
            },
            "cell": values,
            "sources": store.manifest(code).get("inputs", []),
        }
    raise NotLoaded(
        f"no published results at x={rx:.0f}, y={ry:.0f} (RD)",
        hint="pick a point inside a loaded gemeente (see /api/gemeenten)",
    )


def _clean(value: Any) -> Any:
    """JSON-safe scalars: NaN → None, numpy numbers → Python numbers."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    return value
