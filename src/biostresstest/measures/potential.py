"""The potential (*potentieel*): the score after the best feasible measure everywhere.

Per patch of one class, among the measures that fit it by the recommender's rule (class,
ground, a patch large and wide enough) and take part in the potential, the one with the
highest gain per m² (value times the share of the place it takes, without cost) is applied;
the rule and the shares are in :mod:`biostresstest.measures.feasible`. Then habitat quality
(InVEST HQ with the new classes, floors and removed threats), the surface factor and
connectivity are recomputed on the whole grid and scored. The gap potential − current is the
opportunity map (*kansenkaart*).

On a coarse land cover (vegetated or not, type unknown) unvegetated cells take the depaving
and greening measures that list that class, at their share (it holds buildings and roads too).
The potential is the end state; how long it takes is in each measure's years to effect.
"""

from __future__ import annotations

from typing import cast

import numpy as np
from scipy import ndimage

from biostresstest.analysis import hq_kernels, robustness
from biostresstest.analysis.habitat_quality import (
    DEG_NODATA,
    ClassTable,
    Decay,
    ThreatSpec,
    classify,
    degradation,
)
from biostresstest.analysis.scoring import connectivity, stress_score
from biostresstest.measures.catalogue import Catalogue, Measure, load_catalogue
from biostresstest.measures.effects import MIN_CORE_HA, grow
from biostresstest.measures.feasible import Choice, potential_change, potential_options
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes
from biostresstest.model.threats import load_threats

_EIGHT = np.ones((3, 3), bool)


def candidates(class_key: str, catalogue: Catalogue) -> list[Choice]:
    """Measures of the potential for ``class_key``, best first (see ``feasible``)."""
    return potential_options(class_key, catalogue)


def best_measures(
    classes: np.ndarray, grid: AnalysisGrid, catalogue: Catalogue | None = None
) -> tuple[np.ndarray, list[Measure]]:
    """Index of the chosen measure per cell (-1 none) and the measures it indexes.

    Per class, on the box around its cells (one cell wider: every patch and the background
    next to it lie inside), the 8-connected patches are measured: their area, and whether
    they are wide enough for a measure (some cell at least half the width from the patch's
    edge, exact Euclidean distance).
    """
    catalogue = catalogue or load_catalogue()
    table = load_classes()
    chosen = np.full(classes.shape, -1, np.int16)
    used: list[Measure] = []
    boxes = ndimage.find_objects(np.asarray(classes, np.uint8))
    for cls in table:
        if not 0 < cls.code <= len(boxes):
            continue
        found = boxes[cls.code - 1]
        options = candidates(cls.key, catalogue)
        if not options or found is None:
            continue
        box = grow(found, 1, classes.shape)
        mask = classes[box] == cls.code
        labels, n = ndimage.label(mask, structure=_EIGHT)
        flat = np.flatnonzero(mask)
        cell_labels = labels.ravel()[flat]
        del labels
        area = np.bincount(cell_labels, minlength=n + 1) * grid.cell_area
        widths = [c.measure.min_width_m for c in options]
        wide = _wide_enough(mask, flat, cell_labels, n, widths, grid)
        pick = np.full(n + 1, -1, np.int16)
        free = np.ones(n + 1, bool)
        free[0] = False
        for option in options:  # per patch the first option it fits, as cell by cell
            m = option.measure
            ok = (area >= m.min_area_m2) & wide[m.min_width_m] & free
            if ok.any():
                if m not in used:
                    used.append(m)
                pick[ok] = used.index(m)
                free &= ~ok
        rows, cols = np.divmod(flat, mask.shape[1])
        chosen[box][rows, cols] = pick[cell_labels]
    return chosen, used


def _wide_enough(
    mask: np.ndarray,
    flat: np.ndarray,
    cell_labels: np.ndarray,
    n: int,
    widths: list[float],
    grid: AnalysisGrid,
) -> dict[float, np.ndarray]:
    """Per width: True per patch label that has a cell with ``2 · distance to edge >= width``.

    ``flat``: the flat indices of the cells of ``mask``, ``cell_labels`` their patch labels.
    The distance to the nearest cell outside ``mask`` is ``scipy.ndimage``'s exact Euclidean
    transform (float64 square root of the integer squared distance, times the cell size),
    computed only up to just past the largest width asked (farther cells pass every width).
    Every cell is at least one cell from the edge, so widths up to two cells pass everywhere.
    """
    result = {w: np.ones(n + 1, bool) for w in widths}
    needs = {w for w in widths if w > 2 * grid.cell_size}
    if not needs:
        return result
    if mask.all():  # no cell outside the patch: only scipy's convention gives the distances
        edt = ndimage.distance_transform_edt(mask).ravel()[flat] * grid.cell_size
    else:
        cap = int(np.ceil(max(needs) / (2 * grid.cell_size))) + 1
        outside = np.ascontiguousarray(~mask, dtype=np.uint8)
        column = hq_kernels.column_distance(outside, 0, mask.shape[0], cap, np.empty(0, np.int32))
        d2 = hq_kernels.squared_distance(column, cap).ravel()[flat]
        d2[(d2 < 0) | (d2 > cap * cap)] = 4 * cap * cap
        edt = np.sqrt(d2.astype(np.float64)) * grid.cell_size
    edt *= 2
    result |= {w: np.bincount(cell_labels[edt >= w], minlength=n + 1) > 0 for w in needs}
    return result


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
        if m.potential_share < 1:  # part of the place: the class and its threats stay
            continue
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
        habitat[cells], baf_new[cells] = potential_change(m, habitat[cells], baf_new[cells])
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
