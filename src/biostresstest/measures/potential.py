"""The potential (*potentieel*): the score after the best feasible measure everywhere.

Per cell, among the measures that fit its class (on ground of the right kind, on a patch of
that class large and wide enough, and without soil conditions where the soil is unknown),
the one with the highest value per m² (:mod:`biostresstest.measures.value`, without cost) is
applied. Then habitat quality (InVEST HQ with the new classes, floors and removed threats),
the surface factor and connectivity are recomputed on the whole grid and scored. The gap
potential − current is the opportunity map (*kansenkaart*).

On a coarse land cover (vegetated or not, type unknown) only vegetated cells get measures:
an unvegetated cell may be a building or a road, so depaving it is not known to be feasible.
The potential is the end state; how long it takes is in each measure's years to effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
from scipy import ndimage

from biostresstest.analysis import robustness
from biostresstest.analysis.habitat_quality import (
    DEG_NODATA,
    ClassTable,
    Decay,
    ThreatSpec,
    classify,
    degradation,
)
from biostresstest.analysis.scoring import connectivity, stress_score
from biostresstest.measures.applicability import ground_of
from biostresstest.measures.catalogue import Catalogue, Measure, load_catalogue
from biostresstest.measures.effects import MIN_CORE_HA
from biostresstest.measures.value import value_per_m2
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import SOIL_GROUPS, load_classes
from biostresstest.model.threats import load_threats

_EIGHT = np.ones((3, 3), bool)


@dataclass(frozen=True)
class Choice:
    """The measure chosen for the cells of one class."""

    measure: Measure
    value_per_m2: float


def candidates(class_key: str, catalogue: Catalogue) -> list[Choice]:
    """Measures that can change ``class_key``, best value first (soil-bound ones left out)."""
    ground = ground_of([class_key])
    found = []
    for m in catalogue:
        if class_key not in m.classes or (
            m.ground != "any" and ground not in ("unknown", m.ground)
        ):
            continue
        if set(m.soil) != set(SOIL_GROUPS):
            continue
        value = value_per_m2(m, class_key)
        if value > 0:
            found.append(Choice(m, value))
    return sorted(found, key=lambda c: -c.value_per_m2)


def best_measures(
    classes: np.ndarray, grid: AnalysisGrid, catalogue: Catalogue | None = None
) -> tuple[np.ndarray, list[Measure]]:
    """Index of the chosen measure per cell (-1 none) and the measures it indexes."""
    catalogue = catalogue or load_catalogue()
    table = load_classes()
    chosen = np.full(classes.shape, -1, np.int16)
    used: list[Measure] = []
    coarse_bare = table.by_key("onbegroeid_onbepaald").code
    for cls in table:
        if cls.code == coarse_bare:
            continue
        options = candidates(cls.key, catalogue)
        mask = classes == cls.code
        if not options or not mask.any():
            continue
        labels, n = ndimage.label(mask, structure=_EIGHT)
        area = np.bincount(labels.ravel(), minlength=n + 1) * grid.cell_area
        width = np.zeros(n + 1)
        if any(c.measure.min_width_m > grid.cell_size for c in options):
            edt = ndimage.distance_transform_edt(mask) * grid.cell_size
            width[1:] = 2 * np.asarray(ndimage.maximum(edt, labels, np.arange(1, n + 1)))
        else:
            width[:] = np.inf
        open_cells = mask.copy()
        for option in options:
            m = option.measure
            ok = (area >= m.min_area_m2) & (width >= m.min_width_m)
            ok[0] = False
            cells = open_cells & ok[labels]
            if cells.any():
                if m not in used:
                    used.append(m)
                chosen[cells] = used.index(m)
                open_cells &= ~cells
    return chosen, used


def potential_score(
    classes: np.ndarray,
    baf: np.ndarray,
    natura2000_share: np.ndarray,
    current_score: np.ndarray,
    grid: AnalysisGrid,
    green_share: np.ndarray | None = None,
    catalogue: Catalogue | None = None,
) -> dict[str, np.ndarray]:
    """``potential`` score and ``opportunity`` (potential − current) per cell, float32.

    ``green_share`` is given for a coarse land cover (its natural areas come from it, as in the
    gemeente run). Cells where ``current_score`` is NaN stay NaN.
    """
    table = load_classes()
    chosen, used = best_measures(classes, grid, catalogue)
    new = classes.copy()
    habitat_lut = np.zeros(256, np.float32)
    baf_lut = np.full(256, np.nan, np.float32)
    green_lut = np.zeros(256, np.float32)
    for c in table:
        habitat_lut[c.code], baf_lut[c.code] = c.habitat.value, c.baf.value
        green_lut[c.code] = 1.0 if c.green else 0.0
    keep = np.zeros(classes.shape, bool)
    removed: dict[str, np.ndarray] = {}
    for i, m in enumerate(used):
        if m.to is not None:
            new[chosen == i] = table.by_key(m.to).code
        if m.keep_threats:
            keep |= chosen == i
        for t in m.remove_threats:
            removed[t] = removed.get(t, np.zeros(classes.shape, bool)) | (chosen == i)
    habitat = habitat_lut[new]
    baf_new = np.where(new != classes, baf_lut[new], baf).astype(np.float32)
    for i, m in enumerate(used):
        cells = chosen == i
        if m.habitat_floor is not None:
            habitat[cells] = np.maximum(habitat[cells], m.habitat_floor)
        if m.habitat_bonus:
            habitat[cells] = np.minimum(habitat[cells] + m.habitat_bonus, 1.0)
        if m.baf_floor is not None:
            baf_new[cells] = np.maximum(baf_new[cells], m.baf_floor)
    quality = _quality(classes, new, habitat, keep, removed, grid)
    if green_share is not None:
        green = np.where(new != classes, green_lut[new], green_share)
        natural = robustness.natural_mask_from_share(green)
    else:
        natural = robustness.natural_mask(new, table)
    labels, areas = robustness.patches(natural, grid)
    core = robustness.core_mask(natura2000_share, labels, areas, MIN_CORE_HA)
    distance = robustness.distance_to_core(core, grid)
    potential = stress_score(quality, baf_new, connectivity(distance))
    outside = np.isnan(current_score)
    potential[outside] = np.nan
    return {"potential": potential, "opportunity": (potential - current_score).astype(np.float32)}


def _quality(
    old: np.ndarray,
    new: np.ndarray,
    habitat: np.ndarray,
    keep: np.ndarray,
    removed: dict[str, np.ndarray],
    grid: AnalysisGrid,
) -> np.ndarray:
    """InVEST HQ of the new classes, with kept and removed threat cells and habitat overrides."""
    table, threats = load_classes(), load_threats()
    ordered = sorted(table, key=lambda c: c.code)
    codes = np.array([c.code for c in ordered], dtype=np.int64)

    def lut(values: list[float]) -> np.ndarray:
        return np.array([*values, 0.0, 0.0], np.float32)

    class_table = ClassTable(
        codes,
        lut([c.habitat.value for c in ordered]),
        {t.key: lut([c.sensitivity[t.key] for c in ordered]) for t in threats.threats},
    )
    specs = []
    for t in threats.threats:
        sources = [table.by_key(k).code for k in t.classes]
        present = np.where(keep, np.isin(old, sources), np.isin(new, sources))
        if t.key in removed:
            present &= ~removed[t.key]
        specs.append((ThreatSpec(t.key, t.max_dist_m, t.weight, cast(Decay, t.decay)), present))
    index, _ = classify(new, codes, nodata=0)
    deg = degradation(index, specs, class_table, pixel_m=grid.cell_size)
    d = deg.astype(np.float32)
    d[d == np.float32(DEG_NODATA)] = np.nan
    k = np.float32(threats.half_saturation**2.5)
    with np.errstate(invalid="ignore"):
        dz = d**2.5
        quality = (habitat * (np.float32(1) - dz / (dz + k))).astype(np.float32)
    quality[np.isnan(d) | (new == 0)] = np.nan
    return quality
