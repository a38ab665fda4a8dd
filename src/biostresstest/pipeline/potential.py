"""The potential step: the score after the best feasible measures, and the opportunity map.

Wiring (a run adds after its score step, before aggregation)::

    pot = potential_step(ctx, land_cover["landcover"], layers, grid, depends=scored["key"])
    layers["potential"] = pot["potential"]
    layers["opportunity"] = pot["opportunity"]

with ``RASTER_DESCRIPTIONS`` entries for both (see :data:`DESCRIPTIONS`), and after it the
run document ``opportunities``::

    documents["opportunities"] = opportunities_document(areas, layers, grid, classes)
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
from rasterio.features import rasterize

from biostresstest.analysis.scoring import SCORE_VERSION
from biostresstest.core.errors import InvalidInput
from biostresstest.measures.baseline import COARSE_CLASSES, components_score
from biostresstest.measures.catalogue import Measure, load_catalogue
from biostresstest.measures.potential import best_measures, potential_score
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes
from biostresstest.model.threats import load_threats
from biostresstest.pipeline.common import RunContext
from biostresstest.pipeline.steps import step_key

DESCRIPTIONS = {
    "potential": "stress-test score after the best feasible measures (potentieel) 0..1",
    "opportunity": "opportunity: potential minus current score (kansenkaart)",
}
"""Raster descriptions of the two layers, for ``pipeline.common.RASTER_DESCRIPTIONS``."""


def potential_step(
    ctx: RunContext,
    classes: np.ndarray,
    layers: dict[str, np.ndarray],
    grid: AnalysisGrid,
    depends: str,
) -> dict[str, Any]:
    """Cell layers ``potential`` and ``opportunity`` (cached like the other steps).

    ``layers`` must hold ``habitat_quality``, ``baf``, ``distance_to_core``,
    ``natura2000_share`` and ``score`` (the score only says where the area is), and
    ``green_share`` for a coarse land cover.
    """
    table = load_classes()
    key = step_key(
        "potential",
        depends=depends,
        measures=load_catalogue().digest,
        classes=table.digest,
        threats=load_threats().digest,
        v=SCORE_VERSION,
    )

    def compute() -> dict[str, np.ndarray]:
        current = components_score(
            layers["habitat_quality"], layers["baf"], layers["distance_to_core"], layers["score"]
        )
        present = {int(c) for c in np.bincount(classes.ravel(), minlength=256).nonzero()[0]}
        coarse = present - {0} <= {table.by_key(k).code for k in COARSE_CLASSES}
        return potential_score(
            classes,
            layers["baf"],
            layers["natura2000_share"],
            current,
            grid,
            green_share=layers["green_share"] if coarse else None,
        )

    return {"key": key, **ctx.cache.arrays("potential", key, compute)}


GAIN_THRESHOLD = 0.01
"""A cell "gains" when its opportunity (potential − current score, 0..1) exceeds this."""
_FINEST = ("buurt", "gebied", "wijk", "gemeente")


def opportunities_document(
    areas: dict[str, gpd.GeoDataFrame],
    layers: dict[str, np.ndarray],
    grid: AnalysisGrid,
    classes: np.ndarray,
    top: int = 3,
) -> dict[str, Any]:
    """The run document ``opportunities``: per finest area unit, where the potential gains.

    ``areas`` are the run's area units by level (``buurt`` is used when there, else the study
    area ``gebied``, else ``wijk``, else ``gemeente``); ``layers`` must hold ``opportunity``;
    ``classes`` is the land cover the potential was computed from. Cells count by their
    centre. Per unit: ``mean_opportunity``, ``share_with_gain`` (share of its scored cells
    gaining more than :data:`GAIN_THRESHOLD`), and the ``top`` measures of the potential that
    gain most there (sum of the opportunity of the cells they were chosen for), each with the
    m² it takes (its cells × its share) and the cost range of that area (``cost_partial``: a
    lower bound; ``null``: unknown). Units are listed by mean opportunity, best first.
    """
    level = next((lv for lv in _FINEST if lv in areas and len(areas[lv])), None)
    if level is None:
        raise InvalidInput("no area units to summarise the opportunities by")
    frame = areas[level].reset_index(drop=True)
    zones = rasterize(
        ((geom, i + 1) for i, geom in enumerate(frame.geometry) if geom is not None),
        out_shape=(grid.height, grid.width),
        transform=grid.transform,
        fill=0,
        dtype="int32",
    )
    opportunity = layers["opportunity"]
    valid = np.isfinite(opportunity) & (zones > 0)
    zone, value = zones[valid].astype(np.int64), opportunity[valid].astype(np.float64)
    n = len(frame) + 1
    cells = np.bincount(zone, minlength=n)
    total = np.bincount(zone, weights=value, minlength=n)
    gaining = np.bincount(zone, weights=(value > GAIN_THRESHOLD).astype(np.float64), minlength=n)
    chosen, used = best_measures(classes, grid, load_catalogue())
    pick = chosen[valid].astype(np.int64)
    has = pick >= 0
    k = max(len(used), 1)
    pair = zone[has] * k + pick[has]
    cells_by = np.bincount(pair, minlength=n * k).reshape(n, k)
    gain_by = np.bincount(pair, weights=value[has], minlength=n * k).reshape(n, k)
    rows: list[dict[str, Any]] = []
    names = frame["name"] if "name" in frame else [""] * len(frame)
    for z, (code, name) in enumerate(zip(frame["code"], names, strict=True), start=1):
        if cells[z] == 0:
            continue
        order = [j for j in np.argsort(-gain_by[z], kind="stable") if gain_by[z, j] > 0][:top]
        best = [_measure_row(used[j], cells_by[z, j], gain_by[z, j], grid) for j in order]
        low = [b["cost_eur"][0] for b in best if b["cost_eur"] is not None]
        high = [b["cost_eur"][1] for b in best if b["cost_eur"] is not None]
        rows.append(
            {
                "code": str(code),
                "name": str(name),
                "mean_opportunity": round(float(total[z] / cells[z]), 4),
                "share_with_gain": round(float(gaining[z] / cells[z]), 4),
                "best_measures": ", ".join(b["key"] for b in best),
                "cost_low_eur": round(sum(low), 2) if low else None,
                "cost_high_eur": round(sum(high), 2) if high else None,
                "cost_incomplete": any(b["cost_eur"] is None or b["cost_partial"] for b in best),
                "measures": best,
            }
        )
    rows.sort(key=lambda r: (-float(r["mean_opportunity"]), str(r["code"])))
    scored = int(cells.sum())
    return {
        "about": {
            "level": level,
            "areas": len(rows),
            "mean_opportunity": round(float(total.sum() / scored), 4) if scored else None,
            "share_with_gain": round(float(gaining.sum() / scored), 4) if scored else None,
            "gain_threshold": GAIN_THRESHOLD,
            "catalogue": load_catalogue().digest,
            "note": "opportunity = potential − current score per cell (0..1); measures by the "
            "summed opportunity of the cells they were chosen for; costs for the m² each "
            "takes in the potential (see docs/measures.md)",
        },
        "areas": rows,
    }


def _measure_row(measure: Measure, cells: int, gain: float, grid: AnalysisGrid) -> dict[str, Any]:
    m2 = float(cells) * grid.cell_area * measure.potential_share
    cost = measure.cost.for_area(m2)
    return {
        "key": measure.key,
        "name_nl": measure.name_nl,
        "name_en": measure.name_en,
        "m2": round(m2, 1),
        "opportunity_ha": round(gain * grid.cell_area / 10_000, 4),
        "cost_eur": None if cost is None else [cost[0], cost[1]],
        "cost_partial": measure.cost.partial,
    }
