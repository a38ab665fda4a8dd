"""How a score came about: the values of a cell, the components, their inputs and sources."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from biostresstest.analysis.indicators import (
    CONNECTIVITY,
    GREEN_SHARE,
    HABITAT_QUALITY,
    NATURA2000_SHARE,
    VULNERABILITY,
)
from biostresstest.analysis.scoring import (
    CLASS_BOUNDS,
    COMPONENT_LAYERS,
    FORMULA,
    SCORE_CLASSES,
    SCORE_VERSION,
    WEIGHTS,
)
from biostresstest.analysis.spec import IndicatorSpec
from biostresstest.analysis.surface_factor import SPECS as FACTOR_SPECS
from biostresstest.core.errors import InvalidInput, NotLoaded
from biostresstest.model.areas import AreaLevel, locate_area
from biostresstest.model.confidence import Confidence
from biostresstest.model.landcover import load_classes
from biostresstest.model.store import Store
from biostresstest.pipeline.co_benefits import CO_BENEFIT_LAYERS, DESCRIPTIONS, PUBLISHED_LAYERS
from biostresstest.pipeline.common import ROBUSTNESS_COLUMNS
from biostresstest.web.deps import get_store, to_rd
from biostresstest.web.hotpath import manifest, raster_path, run_identity, sample, units_at

router = APIRouter(prefix="/api", tags=["api"])
StoreDep = Annotated[Store, Depends(get_store)]

SCORE_COMPONENTS: tuple[IndicatorSpec, ...] = (HABITAT_QUALITY, FACTOR_SPECS["baf"], CONNECTIVITY)
CONTEXT_INDICATORS: tuple[IndicatorSpec, ...] = (
    GREEN_SHARE,
    NATURA2000_SHARE,
    VULNERABILITY,
    FACTOR_SPECS["ugf"],
)
CLASS_LAYERS = ("score_class", "landcover", "confidence", "koppelkans_class")
"""The published class layers (uint8, 0 = none)."""
COMPONENT_WEIGHTS = {layer: WEIGHTS[component] for component, layer in COMPONENT_LAYERS.items()}
"""The exponent of each score component, by its cell layer."""


def cell_at(
    store: Store, rx: float, ry: float, layers: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """The published values of the cell at RD (rx, ry) and the area unit that holds it.

    ``layers`` limits the cell layers read (default: all the run published, and the class
    layers); ``landcover`` is always read.
    """
    for key in store.gemeenten():
        level = AreaLevel.BUURT if key.startswith("GM") else AreaLevel.GEBIED
        units = units_at(store, key, level, rx, ry)
        if units.empty:
            continue
        values: dict[str, Any] = {}
        run = run_identity(store, key)
        wanted = (*PUBLISHED_LAYERS, *CLASS_LAYERS) if layers is None else (*layers, "landcover")
        for name in wanted:
            try:
                path = raster_path(store, run, key, name)
            except NotLoaded:  # a run published before this layer existed
                continue
            values[name] = clean(sample(path, rx, ry))
        row = units.iloc[0]
        unit = {"code": row["code"], "name": row["name"], "score_class": int(row["score_class"])}
        land_cover = load_classes().by_code(values["landcover"]) if values["landcover"] else None
        return {
            "x": round(rx, 2),
            "y": round(ry, 2),
            "gemeente": key,
            "area": {**unit, "level": level.value},
            "buurt": unit if level is AreaLevel.BUURT else None,
            "cell": values,
            "landcover": None
            if land_cover is None
            else {
                "key": land_cover.key,
                "name_nl": land_cover.name_nl,
                "name_en": land_cover.name_en,
            },
            "sources": manifest(store, run, key).get("inputs", []),
            "unit_values": {k: clean(row[k]) for k in PUBLISHED_LAYERS if k in row},
        }
    raise NotLoaded(
        f"no published results at x={rx:.0f}, y={ry:.0f} (RD)",
        hint="pick a point inside a loaded gemeente or study area (see /api/gemeenten)",
    )


@router.get("/explain")
def explain(
    store: StoreDep,
    x: Annotated[float | None, Query(description="x (RD) or longitude")] = None,
    y: Annotated[float | None, Query(description="y (RD) or latitude")] = None,
    crs: Annotated[str, Query(description="EPSG:28992 (default) or EPSG:4326")] = "EPSG:28992",
    area: Annotated[str | None, Query(description="or an area: GM…, WK…, BU… or otterlo")] = None,
) -> dict[str, Any]:
    """How the score of a cell (``x``, ``y``) or of an area unit (``area``) came about."""
    if area is not None:
        if x is not None or y is not None:
            raise InvalidInput("give either x and y or area, not both")
        return _explain_area(store, area)
    if x is None or y is None:
        raise InvalidInput("give x and y (a point) or area (a code)", hint="e.g. ?area=GM0758")
    found = cell_at(store, *to_rd(x, y, crs))
    values = found["cell"]
    manifest = store.manifest(found["gemeente"])
    score_class = values["score_class"] or 0
    label = next((c for c in SCORE_CLASSES if c.value == score_class), None)
    return {
        "x": found["x"],
        "y": found["y"],
        "gemeente": found["gemeente"],
        "area": found["area"],
        "cell_size_m": manifest.get("grid", {}).get("cell_size"),
        "score": {
            "version": SCORE_VERSION,
            "value": values["score"],
            "class": score_class,
            "label_nl": label.label_nl if label else None,
            "label_en": label.label_en if label else None,
            "formula": FORMULA,
            "class_bounds": [round(b, 6) for b in CLASS_BOUNDS],
            "area_value": found["unit_values"].get("score"),
        },
        "components": [
            _component(spec, values, found["unit_values"], COMPONENT_WEIGHTS.get(spec.id))
            for spec in SCORE_COMPONENTS
        ],
        "context": [
            _component(spec, values, found["unit_values"], None) for spec in CONTEXT_INDICATORS
        ],
        "landcover": _land_cover(values),
        "climate": _climate(values, found["unit_values"]),
        "sources": found["sources"],
    }


def _explain_area(store: Store, area: str) -> dict[str, Any]:
    """The explanation of one area unit: its area-weighted values and what they rest on."""
    key, code, level = locate_area(area)
    frame = store.areas(key, level)
    rows = frame[frame["code"] == code]
    if rows.empty:
        raise NotLoaded(f"no area {code} in the results of {key}")
    row = rows.iloc[0]
    values = {k: clean(row[k]) for k in frame.columns if k != "geometry"}
    score_class = int(values.get("score_class") or 0)
    label = next((c for c in SCORE_CLASSES if c.value == score_class), None)
    land_cover = store.document(key, "landcover")
    composition = land_cover["classes"].get(code, {})
    total = sum(composition.values()) or 1.0
    table = load_classes()
    return {
        "area": {"code": code, "name": values.get("name"), "level": level.value},
        "gemeente": key,
        "score": {
            "version": SCORE_VERSION,
            "value": values.get("score"),
            "class": score_class,
            "label_nl": label.label_nl if label else None,
            "label_en": label.label_en if label else None,
            "formula": FORMULA,
            "aggregation": "area-weighted mean of the cell scores (exact coverage fractions); "
            "the component values are area means too, so they do not multiply to the score",
            "class_bounds": [round(b, 6) for b in CLASS_BOUNDS],
        },
        "components": [
            _component(spec, values, values, COMPONENT_WEIGHTS.get(spec.id), per_cell=False)
            for spec in SCORE_COMPONENTS
        ],
        "context": [_component(spec, values, values, None) for spec in CONTEXT_INDICATORS],
        "robustness": {k: values.get(k) for k in ROBUSTNESS_COLUMNS},
        "landcover": [
            {
                "key": k,
                "name_nl": table.by_key(k).name_nl,
                "name_en": table.by_key(k).name_en,
                "share": round(m2 / total, 6),
            }
            for k, m2 in sorted(composition.items(), key=lambda item: -item[1])
        ],
        "confidence": land_cover["confidence"].get(code, {}),
        "sources": store.manifest(key).get("inputs", []),
    }


def _component(
    spec: IndicatorSpec,
    cell: dict[str, Any],
    unit: dict[str, Any],
    weight: float | None,
    per_cell: bool = True,
) -> dict[str, Any]:
    """One component or context indicator. ``factor`` (``value^weight``; the factors of a cell
    multiply to its score) only for a cell: an area's score is the mean of its cells' scores,
    which the factors of the area means do not give."""
    value = cell.get(spec.id)
    return {
        "id": spec.id,
        "title_nl": spec.title_nl,
        "title_en": spec.title_en,
        "unit": spec.unit,
        "value": value,
        "area_value": unit.get(spec.id),
        "weight": weight,
        "factor": None
        if weight is None or value is None or not per_cell
        else round(max(float(value), 0.0) ** weight, 6),
        "inputs": list(spec.inputs),
        "description": spec.description,
    }


def _climate(cell: dict[str, Any], unit: dict[str, Any]) -> list[dict[str, Any]]:
    """The climate co-benefit layers of the cell and its area unit (those the run has)."""
    return [
        {
            "id": name,
            "value": cell[name],
            "area_value": unit.get(name),
            "description": DESCRIPTIONS[name],
        }
        for name in CO_BENEFIT_LAYERS
        if name in cell
    ]


def _land_cover(values: dict[str, Any]) -> dict[str, Any] | None:
    if not values["landcover"]:
        return None
    land_cover = load_classes().by_code(values["landcover"])
    level = Confidence(values["confidence"] or 0)
    parameters = {}
    for name in ("habitat", "baf", "ugf"):
        sourced = getattr(land_cover, name)
        parameters[name] = {"value": sourced.value, "source": sourced.source, "note": sourced.note}
    return {
        "key": land_cover.key,
        "name_nl": land_cover.name_nl,
        "name_en": land_cover.name_en,
        "parameters": parameters,
        "confidence": {"level": int(level), "label_nl": level.label_nl, "label_en": level.label_en},
    }


def clean(value: Any) -> Any:
    """JSON-safe scalars: NaN → None, numpy numbers → Python numbers."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    return value
