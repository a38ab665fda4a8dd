"""The before/after figures of a recomputed scenario: score, components, water, cooling, cost.

Score figures are given for three extents: the changed cells (``place``), the window where
anything changed (``window``), and the whole area (``area``, the published state plus the
window's change). Class counts use the 7 fixed classes of the score.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from biostresstest.analysis.runoff import curve_numbers, retention_mm
from biostresstest.analysis.scoring import connectivity, score_class
from biostresstest.analysis.three_thirty_300 import CANOPY_TARGET
from biostresstest.analysis.urban_cooling import class_parameters
from biostresstest.measures.baseline import Baseline, components_score
from biostresstest.measures.effects import CHANGE_THRESHOLD, CellEdit, Recomputed, local_window
from biostresstest.model.landcover import load_classes
from biostresstest.model.rain_events import load_rain_events


def _mean(values: np.ndarray) -> float | None:
    finite = values[~np.isnan(values)]
    return round(float(finite.mean(dtype=np.float64)), 5) if finite.size else None


def _counts(score: np.ndarray) -> list[int]:
    classes = score_class(score)
    return [int(n) for n in np.bincount(classes.ravel(), minlength=8)[1:8]]


def score_deltas(base: Baseline, rec: Recomputed) -> dict[str, Any]:
    """Score means and class counts before/after for place, window and area."""
    published = base.layer("score")[rec.window]
    before = base.score_before()[rec.window]
    after = components_score(rec.quality, rec.baf, rec.distance, published)
    place = np.zeros(before.shape, bool)
    place[local_window(rec.classes_box, rec.window)] = rec.share > 0
    total_before, n, counts_full = base.score_totals()
    total_after = total_before - float(np.nansum(before, dtype=np.float64))
    total_after += float(np.nansum(after, dtype=np.float64))
    counts_after = counts_full - np.array(_counts(before)) + np.array(_counts(after))
    changed = int(np.count_nonzero(np.abs(np.nan_to_num(after - before)) > 1e-6))
    return {
        "place": {"before": _mean(before[place]), "after": _mean(after[place])},
        "window": {
            "cells": int(before.size),
            "cells_changed": changed,
            "before": _mean(before),
            "after": _mean(after),
            "classes_before": _counts(before),
            "classes_after": _counts(after),
        },
        "area": {
            "before": round(total_before / n, 5) if n else None,
            "after": round(total_after / n, 5) if n else None,
            "classes_before": [int(v) for v in counts_full],
            "classes_after": [int(v) for v in counts_after],
        },
    }


def component_deltas(base: Baseline, rec: Recomputed) -> dict[str, Any]:
    """Mean habitat quality Q, surface factor F and connectivity C, before/after."""
    w = rec.window
    pairs = {
        "habitat_quality": (base.layer("habitat_quality")[w], rec.quality),
        "surface_factor": (base.layer("baf")[w], rec.baf),
        "connectivity": (
            connectivity(base.layer("distance_to_core")[w]),
            connectivity(rec.distance),
        ),
    }
    place = np.zeros(rec.quality.shape, bool)
    place[local_window(rec.classes_box, w)] = rec.share > 0
    return {
        name: {
            "window_before": _mean(old),
            "window_after": _mean(new),
            "place_before": _mean(old[place]),
            "place_after": _mean(new[place]),
        }
        for name, (old, new) in pairs.items()
    }


def water_deltas(
    base: Baseline, rec: Recomputed, edits: list[CellEdit], soil_group: str
) -> dict[str, Any]:
    """Rain kept (mm over the place, m³ in all) per rain event, before and after (SCS-CN).

    After the measure a cell keeps at least the measure's own storage (L/m² = mm), so the
    result is a range low–high where the catalogue gives a storage range.
    """
    table = load_classes()
    cell_area = base.grid.cell_area
    share = rec.share.astype(np.float64)
    area_m2 = float(share.sum()) * cell_area
    cn_old = curve_numbers(rec.classes_old, table, soil_group)
    cn_new = curve_numbers(rec.classes_new, table, soil_group)
    low_store = np.zeros(share.shape, np.float32)
    high_store = np.zeros(share.shape, np.float32)
    for i, edit in enumerate(edits):
        if edit.measure.storage_mm is not None:
            mine = rec.measure_of == i
            low_store[mine], high_store[mine] = edit.measure.storage_mm
    events = []
    for event in load_rain_events():
        p = event.depth_mm
        old = np.nan_to_num(retention_mm(p, cn_old))
        new = np.nan_to_num(retention_mm(p, cn_new))
        low = np.minimum(np.maximum(new, low_store), p)
        high = np.minimum(np.maximum(new, high_store), p)
        kept = {
            name: float((values * share).sum()) * cell_area / 1000
            for name, values in (("before", old), ("low", low), ("high", high))
        }
        events.append(
            {
                "event": event.key,
                "name_nl": event.name_nl,
                "name_en": event.name_en,
                "rain_mm": p,
                "kept_mm_before": round(kept["before"] * 1000 / area_m2, 1) if area_m2 else None,
                "kept_mm_after": [
                    round(kept[k] * 1000 / area_m2, 1) if area_m2 else None for k in ("low", "high")
                ],
                "kept_m3_before": round(kept["before"], 1),
                "kept_m3_after": [round(kept["low"], 1), round(kept["high"], 1)],
            }
        )
    return {"soil_group": soil_group, "place_m2": round(area_m2, 1), "events": events}


def cooling_deltas(rec: Recomputed, edits: list[CellEdit]) -> dict[str, Any]:
    """Cooling capacity CC (InVEST UCM, uniform ET0) and tree canopy share of the place."""
    table = load_classes()
    share = rec.share.astype(np.float64)
    kc_max = max(c.kc.value for c in table)
    out: dict[str, Any] = {}
    canopy: dict[str, float | None] = {}
    for name, classes in (("before", rec.classes_old), ("after", rec.classes_new)):
        p = class_parameters(classes, table)
        shade = p["shade"].copy()
        if name == "after":
            for i, edit in enumerate(edits):
                if edit.measure.shade_floor is not None:
                    mine = (rec.measure_of == i) & (rec.share >= CHANGE_THRESHOLD)
                    shade[mine] = np.maximum(shade[mine], edit.measure.shade_floor)
        cc = 0.6 * shade + 0.2 * p["albedo"] + 0.2 * p["kc"] / kc_max
        weight = share.sum()
        out[name] = round(float(np.nansum(cc * share) / weight), 4) if weight else None
        canopy[name] = round(float(np.nansum(shade * share) / weight), 4) if weight else None
    return {
        "cooling_capacity_place": out,
        "canopy_share_place": canopy,
        "canopy_target": CANOPY_TARGET,
        "note": "CC = 0.6 shade + 0.2 albedo + 0.2 kc/max kc (UCM factors, uniform ET0). "
        "Heat mitigation (HM) and air temperature need the local ET0, T_ref and UHI_max, "
        "which are not loaded: not recomputed.",
    }


def cost_deltas(edits: list[CellEdit], cell_area: float) -> dict[str, Any]:
    """The cost range of each placed measure and in total (unknown costs listed apart).

    A partial cost (depaving without breaking out the paving) counts in the total, which is
    then a lower bound: its measures are listed under ``partial``.
    """
    rows = []
    low = high = 0.0
    unknown = []
    partial = sorted({e.measure.key for e in edits if e.measure.cost.partial})
    for edit in edits:
        m2 = edit.area_m2 * cell_area
        cost = edit.measure.cost.for_area(m2)
        upkeep = edit.measure.maintenance.for_area(m2)
        if cost is None:
            unknown.append(edit.measure.key)
        else:
            low, high = low + cost[0], high + cost[1]
        rows.append(
            {
                "measure": edit.measure.key,
                "m2": round(m2, 1),
                "cost_eur": None if cost is None else list(cost),
                "cost_partial": edit.measure.cost.partial,
                "maintenance_eur_per_year": None if upkeep is None else list(upkeep),
                "years_to_effect": edit.measure.years_to_effect,
                "sources": list(edit.measure.sources),
            }
        )
    return {
        "measures": rows,
        "total_eur": [round(low, 2), round(high, 2)],
        "unknown": unknown,
        "partial": partial,
    }
