"""Our own JSON/GeoJSON API: sources, gemeenten, areas with their scores, cell values."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from biostresstest.analysis.scoring import SCORE_CLASSES, SCORE_VERSION
from biostresstest.core.crs import WGS84
from biostresstest.core.errors import NotLoaded
from biostresstest.model.areas import (
    AreaLevel,
    level_of_code,
    normalise_area_key,
    parse_level,
)
from biostresstest.model.confidence import Confidence
from biostresstest.model.landcover import load_classes
from biostresstest.model.store import Store
from biostresstest.sources.registry import SOURCES
from biostresstest.web.deps import get_store, to_rd
from biostresstest.web.explain import cell_at, clean
from biostresstest.web.search import merged_places

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
    "baf",
    "ugf",
    "habitat_quality",
    "degradation",
    "vulnerability",
    "distance_to_core",
    "natural_share",
    "ems_ha",
    "coherence_pct",
    "sicb_connectivity",
    "iic",
]


@router.get("/legend")
def legend() -> dict[str, Any]:
    """The 7 fixed classes of the stress-test score."""
    return {
        "score_version": SCORE_VERSION,
        "classes": [vars(c) for c in SCORE_CLASSES],
    }


@router.get("/search")
def search_places(
    request: Request,
    store: StoreDep,
    q: Annotated[str, Query(min_length=1, max_length=100, description="a place name or code")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> dict[str, Any]:
    """Places in the loaded data (gemeente, wijk, buurt, study area) matching ``q``, then
    addresses and streets of the PDOK Locatieserver when online."""
    places, online = merged_places(store, request.app.state.settings, q, limit)
    source = "local gazetteer" + (" + PDOK Locatieserver" if online == "ok" else "")
    return {"query": q, "source": source, "online": online, "places": places}


@router.get("/classes")
def classes() -> list[dict[str, Any]]:
    """The harmonised land-cover classes (key, code, names, colour, group, flags)."""
    return [
        {
            "key": c.key,
            "code": c.code,
            "name_nl": c.name_nl,
            "name_en": c.name_en,
            "colour": c.colour,
            "group": c.group,
            "green": c.green,
            "paved": c.paved,
        }
        for c in load_classes()
    ]


@router.get("/sources")
def sources() -> list[dict[str, str]]:
    """The declarative specs of all sources."""
    return [spec.as_row() for spec in SOURCES]


@router.get("/gemeenten")
def gemeenten(store: StoreDep) -> list[dict[str, Any]]:
    """The gemeenten and study areas with published results, with bounds and sources."""
    answer = []
    for code in store.gemeenten():
        kind = AreaLevel.GEMEENTE if code.startswith("GM") else AreaLevel.GEBIED
        unit = store.areas(code, kind)
        manifest = store.manifest(code)
        row = unit.iloc[0]
        answer.append(
            {
                "code": code,
                "kind": kind.value,
                "cell_size": manifest.get("grid", {}).get("cell_size"),
                "feature_layers": store.feature_layers(code),
                "name": row["name"],
                "score": clean(row["score"]),
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
    gemeente: Annotated[str, Query(description="gemeente code (GM0758) or study area (otterlo)")],
    level: Annotated[str, Query(description="gemeente, wijk, buurt or gebied")] = "buurt",
) -> Response:
    """Area units with their indicator values as a GeoJSON FeatureCollection (WGS84)."""
    code = normalise_area_key(gemeente)
    area_level = parse_level(level)
    frame = store.areas(code, area_level).to_crs(WGS84)
    return _feature_collection(frame, AREA_PROPERTIES, id_column="code")


@router.get("/landcover")
def landcover(
    store: StoreDep,
    area: Annotated[str, Query(description="otterlo, GM0758, a wijk or a buurt code")],
) -> dict[str, Any]:
    """Area (m²) of each land-cover class in an area, and the share of each confidence level."""
    key, code = _store_key(area)
    document = store.document(key, "landcover")
    if code not in document["classes"]:
        raise NotLoaded(f"no land cover for {code} in the results of {key}")
    table = load_classes()
    areas = document["classes"][code]
    total = sum(areas.values()) or 1.0
    classes = [
        {
            "key": class_key,
            "code": table.by_key(class_key).code,
            "name_nl": table.by_key(class_key).name_nl,
            "name_en": table.by_key(class_key).name_en,
            "colour": table.by_key(class_key).colour,
            "m2": round(m2, 1),
            "share": round(m2 / total, 6),
        }
        for class_key, m2 in sorted(areas.items(), key=lambda item: -item[1])
    ]
    levels = document["confidence"][code]
    level_total = sum(levels.values()) or 1.0
    confidence = [
        {
            "level": int(Confidence[name]),
            "key": name.lower(),
            "label_nl": Confidence[name].label_nl,
            "label_en": Confidence[name].label_en,
            "m2": round(m2, 1),
            "share": round(m2 / level_total, 6),
        }
        for name, m2 in sorted(levels.items(), key=lambda item: -Confidence[item[0]])
    ]
    return {
        "area": code,
        "store": key,
        "method": document.get("method"),
        "total_m2": round(total, 1),
        "classes": classes,
        "confidence": confidence,
    }


@router.get("/features")
def features(
    store: StoreDep,
    area: Annotated[str, Query(description="a loaded study area or gemeente, e.g. otterlo")],
    layer: Annotated[str, Query(description="bermen, bos, water, erf, hagen or bomen")],
) -> Response:
    """A feature layer of its own (verges, forests, water, erf, hedges, trees) as GeoJSON."""
    key = normalise_area_key(area)
    frame = store.features(key, layer).to_crs(WGS84)
    columns = [c for c in frame.columns if c != "geometry"]
    return _feature_collection(frame, columns, id_column="lokaal_id")


def _store_key(area: str) -> tuple[str, str]:
    """(store key, area code) of a study area, gemeente, wijk or buurt code."""
    text = area.strip()
    if text[:2].upper() in ("WK", "BU"):
        code = text.upper()
        level_of_code(code)
        return f"GM{code[2:6]}", code
    key = normalise_area_key(text)
    return key, key


def _feature_collection(frame: Any, columns: list[str], id_column: str) -> Response:
    features = [
        {
            "type": "Feature",
            "id": clean(row[id_column]) if id_column in row else None,
            "properties": {k: clean(row[k]) for k in columns if k in row},
            "geometry": row.geometry.__geo_interface__,
        }
        for _, row in frame.iterrows()
    ]
    body = {"type": "FeatureCollection", "features": features}
    return Response(json.dumps(body), media_type="application/geo+json")


@router.get("/cell", response_class=JSONResponse)
def cell(
    store: StoreDep,
    x: Annotated[float, Query(description="x (RD) or longitude")],
    y: Annotated[float, Query(description="y (RD) or latitude")],
    crs: Annotated[str, Query(description="EPSG:28992 (default) or EPSG:4326")] = "EPSG:28992",
) -> JSONResponse:
    """The values of the grid cell at a point, its area unit, and the sources they come from."""
    found = cell_at(store, *to_rd(x, y, crs))
    found.pop("unit_values")
    return JSONResponse(found)  # plain JSON values already: no re-encoding of each one
