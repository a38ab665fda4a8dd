"""Apply measures to cells and recompute the indicators inside a window around the change.

A measure changes cells: their land-cover class (``to``), their habitat suitability (a floor
or a bonus), their surface factor, or the threats they give off. Only what can change is
recomputed, exactly as the full run would compute it:

* **Habitat quality** (InVEST HQ, §b.1): degradation is a sum over threats of
  ``S·w·decay(distance to the nearest threat cell)``. A threat whose source cells changed is
  recomputed on the changed cells' bounding box plus its maximum distance (reading threat cells
  one maximum distance further out); a threat whose sources did not change is recomputed only
  on the changed cells (their sensitivity changed). The difference old → new is added to the
  published degradation, and quality follows from the half-saturation curve.
* **Surface factor** (BAF, §b.8): the changed share of each cell takes the factor of its new
  cover (area-weighted, so a polygon covering half a 10 m cell changes half of it).
* **Connectivity** (§d.2 C): natural patches are relabelled on the whole grid (one pass); new
  core habitat lowers the distance to core in the cells that are closer to it than to the old
  core (an exact distance transform on that region). Lost core recomputes the whole distance.
* **Water** (SCS-CN, §b.3): retention per rain event of the changed cells, old and new class,
  with the measure's own storage (L/m²) as a lower bound of what it keeps.
* **Cooling**: the InVEST UCM cooling capacity ``CC = 0.6·shade + 0.2·albedo + 0.2·ETI`` of the
  changed cells (§b.2, uniform ET0 so ``ETI = kc / max kc``). The park effect (HM) and air
  temperature need a window of 5 cooling distances and the local ET0 and UHI, which are not
  loaded; they are not recomputed here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from biostresstest.analysis import robustness
from biostresstest.analysis.habitat_quality import SCALING, classify
from biostresstest.analysis.hq_kernels import accumulate_threat, distance_cap
from biostresstest.measures.baseline import Baseline
from biostresstest.measures.catalogue import Measure
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import LandCoverTable, load_classes
from biostresstest.model.threats import ThreatTable, load_threats

Window = tuple[slice, slice]
CHANGE_THRESHOLD = 0.5
"""A cell takes the new class when at least half of it is inside the place."""
MIN_CORE_HA = 10.0
"""Core habitat patches are at least this large (``robustness.core_mask``'s default)."""


@dataclass(frozen=True)
class CellEdit:
    """One measure on a block of cells: the share (0..1) of each cell it changes."""

    measure: Measure
    window: Window
    share: np.ndarray
    """float32, shape of the window; 0 outside the place or where the class does not fit."""

    @property
    def area_m2(self) -> float:
        """Changed area in cell units (multiply by the cell area)."""
        return float(self.share.sum(dtype=np.float64))


@dataclass
class Recomputed:
    """New values of the changed windows; ``None`` where a component did not change."""

    window: Window
    """Where any score component changed (the score is compared here)."""
    quality: np.ndarray
    baf: np.ndarray
    distance: np.ndarray
    classes_box: Window
    classes_old: np.ndarray
    classes_new: np.ndarray
    share: np.ndarray
    """Changed share per cell in ``classes_box``."""
    measure_of: np.ndarray
    """Index of the edit per cell in ``classes_box`` (-1 none)."""
    seconds_core: float = 0.0


def union_box(windows: list[Window]) -> Window:
    """The bounding window of several windows."""
    r0 = min(w[0].start for w in windows)
    r1 = max(w[0].stop for w in windows)
    c0 = min(w[1].start for w in windows)
    c1 = max(w[1].stop for w in windows)
    return slice(r0, r1), slice(c0, c1)


def grow(window: Window, cells: int, shape: tuple[int, int]) -> Window:
    """``window`` grown by ``cells`` on every side, clipped to ``shape``."""
    rows, cols = window
    return (
        slice(max(rows.start - cells, 0), min(rows.stop + cells, shape[0])),
        slice(max(cols.start - cells, 0), min(cols.stop + cells, shape[1])),
    )


def local_window(inner: Window, outer: Window) -> Window:
    """``inner`` in the coordinates of ``outer`` (which holds it)."""
    return (
        slice(inner[0].start - outer[0].start, inner[0].stop - outer[0].start),
        slice(inner[1].start - outer[1].start, inner[1].stop - outer[1].start),
    )


def _luts(table: LandCoverTable) -> dict[str, np.ndarray]:
    out = {name: np.full(256, np.nan, np.float32) for name in ("habitat", "baf", "green")}
    for c in table:
        out["habitat"][c.code] = c.habitat.value
        out["baf"][c.code] = c.baf.value
        out["green"][c.code] = 1.0 if c.green else 0.0
    return out


def apply_classes(
    base: Baseline, edits: list[CellEdit]
) -> tuple[Window, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(box, old classes, new classes, share, edit index) on the edits' bounding box."""
    table = load_classes()
    box = union_box([e.window for e in edits])
    old = base.landcover[box]
    new = old.copy()
    share = np.zeros(old.shape, np.float32)
    index = np.full(old.shape, -1, np.int16)
    for i, edit in enumerate(edits):
        local = local_window(edit.window, box)
        hit = edit.share > 0
        share[local] = np.where(hit, edit.share, share[local])
        index[local] = np.where(hit, i, index[local])
        if edit.measure.to is not None:
            code = table.by_key(edit.measure.to).code
            new[local] = np.where(edit.share >= CHANGE_THRESHOLD, code, new[local])
    return box, old, new, share, index


def recompute(base: Baseline, edits: list[CellEdit]) -> Recomputed:
    """The new habitat quality, BAF and distance to core of a set of edits (see module doc)."""
    table, threats = load_classes(), load_threats()
    grid = base.grid
    luts = _luts(table)
    box, old, new, share, index = apply_classes(base, edits)
    full = share >= CHANGE_THRESHOLD
    keep = np.zeros(old.shape, bool)
    removed: dict[str, np.ndarray] = {}
    habitat_new = luts["habitat"][new]
    baf_new = base.layer("baf")[box].copy()
    for i, edit in enumerate(edits):
        mine = (index == i) & full
        m = edit.measure
        if m.keep_threats:
            keep |= mine
        for threat in m.remove_threats:
            removed[threat] = removed.get(threat, np.zeros(old.shape, bool)) | mine
        if m.habitat_floor is not None:
            habitat_new[mine] = np.maximum(habitat_new[mine], m.habitat_floor)
        if m.habitat_bonus:
            habitat_new[mine] = np.minimum(habitat_new[mine] + m.habitat_bonus, 1.0)
        part = (index == i) & (share > 0)
        target = baf_new[part]
        if m.to is not None:
            target = np.full(target.shape, luts["baf"][table.by_key(m.to).code], np.float32)
        if m.baf_floor is not None:
            target = np.maximum(target, np.float32(m.baf_floor))
        s = share[part]
        baf_new[part] = baf_new[part] * (1 - s) + target * s

    delta, deg_window = _degradation_delta(base, box, old, new, keep, removed, table, threats)
    deg = base.layer("degradation")[deg_window] + delta
    habitat = luts["habitat"][base.landcover[deg_window]]
    local_box = local_window(box, deg_window)
    habitat[local_box] = habitat_new
    quality = _quality(deg, habitat, threats.half_saturation)
    distance, dist_window = _distance(base, box, old, new, share, luts, grid)
    window = union_box([deg_window, dist_window, box])
    q_all = base.layer("habitat_quality")[window].copy()
    q_all[local_window(deg_window, window)] = quality
    f_all = base.layer("baf")[window].copy()
    f_all[local_window(box, window)] = baf_new
    d_all = base.layer("distance_to_core")[window].copy()
    d_all[local_window(dist_window, window)] = distance
    return Recomputed(window, q_all, f_all, d_all, box, old, new, share, index)


def _quality(deg: np.ndarray, habitat: np.ndarray, k: float) -> np.ndarray:
    """``Q = H (1 - D^z / (D^z + k^z))`` in float32 as :func:`habitat_quality.quality`."""
    d = np.asarray(deg, np.float32)
    with np.errstate(invalid="ignore"):
        dz = d**SCALING
        out = (habitat * (np.float32(1) - dz / (dz + np.float32(k**2.5)))).astype(np.float32)
    out[np.isnan(d) | np.isnan(habitat)] = np.nan
    return out


def _class_luts(
    table: LandCoverTable, threat_keys: list[str]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    ordered = sorted(table, key=lambda c: c.code)
    codes = np.array([c.code for c in ordered], dtype=np.int64)
    sens = {
        t: np.array([*(c.sensitivity[t] for c in ordered), 0.0, 0.0], np.float32)
        for t in threat_keys
    }
    return codes, sens


def _degradation_delta(
    base: Baseline,
    box: Window,
    old: np.ndarray,
    new: np.ndarray,
    keep: np.ndarray,
    removed: dict[str, np.ndarray],
    table: LandCoverTable,
    threats: ThreatTable,
) -> tuple[np.ndarray, Window]:
    """The change of InVEST's deg_sum, on the smallest window that holds all of it."""
    grid, shape, landcover = base.grid, base.grid.shape, base.landcover
    codes, sens = _class_luts(table, [t.key for t in threats.threats])
    weight_sum = sum(t.weight for t in threats.threats)
    class_changed = old != new
    plans = []
    for threat in threats.threats:
        sources = np.array([table.by_key(k).code for k in threat.classes])
        before = np.isin(old, sources)
        after = np.where(keep, before, np.isin(new, sources))
        if threat.key in removed:
            after &= ~removed[threat.key]
        map_changed = bool((before != after).any())
        if not map_changed and not class_changed.any():
            continue
        cap = distance_cap(threat.max_dist_m / grid.cell_size)
        plans.append((threat, sources, after, map_changed, cap))
    reach = max((p[4] for p in plans if p[3]), default=0)
    window = grow(box, reach, shape)
    delta = np.zeros(
        (window[0].stop - window[0].start, window[1].stop - window[1].start), np.float32
    )
    for threat, sources, after, map_changed, cap in plans:
        out = grow(box, cap, shape) if map_changed else box
        inn = grow(out, cap, shape)
        present_old = np.isin(landcover[inn], sources).astype(np.uint8)
        present_new = present_old.copy()
        present_new[local_window(box, inn)] = after
        classes_old = landcover[out[0], inn[1]]
        classes_new = classes_old.copy()
        strip = (out[0], inn[1])
        classes_new[local_window(box, strip)] = new
        top = out[0].start - inn[0].start
        col = local_window(out, strip)[1]
        changes = []
        for present, classes in ((present_old, classes_old), (present_new, classes_new)):
            index, _ = classify(classes, codes, nodata=0)
            acc = np.zeros(index.shape, np.float32)
            accumulate_threat(
                present,
                top,
                index,
                sens[threat.key],
                max_dist_px=threat.max_dist_m / grid.cell_size,
                decay=threat.decay,
                weight=threat.weight / weight_sum,
                acc=acc,
            )
            changes.append(acc[:, col])
        delta[local_window(out, window)] += changes[1] - changes[0]
    return delta, window


def _distance(
    base: Baseline,
    box: Window,
    old: np.ndarray,
    new: np.ndarray,
    share: np.ndarray,
    luts: dict[str, np.ndarray],
    grid: AnalysisGrid,
) -> tuple[np.ndarray, Window]:
    """New distance to core habitat, on the window where it changed (the box if nowhere).

    Core is Natura 2000 or a natural patch of at least ``MIN_CORE_HA``. When natural cells are
    only added, the patches they join are found from the published patch labels: the new
    patch's area is the areas of the old patches it merges plus the added cells, so no whole-grid
    relabelling is needed. Lost natural cells recompute the patches and the distance in full.
    """
    published = base.layer("distance_to_core")
    mask, labels, areas = base.natural_patches()
    natural_old = mask[box]
    if base.coarse:
        green = base.layer("green_share")[box]
        changed = old != new
        green_new = np.where(changed, green * (1 - share) + luts["green"][new] * share, green)
        natural_new = robustness.natural_mask_from_share(green_new)
    else:
        natural_new = robustness.natural_mask(new, load_classes())
    if (natural_old == natural_new).all():
        return published[box].copy(), box
    if (natural_old & ~natural_new).any():
        return _distance_in_full(base, box, natural_new, grid)
    added = natural_new & ~natural_old
    around = grow(box, 1, grid.shape)
    merged = mask[around].copy()
    merged[local_window(box, around)] = natural_new
    parts, n = ndimage.label(merged, structure=np.ones((3, 3), bool))
    added_around = np.zeros(merged.shape, bool)
    added_around[local_window(box, around)] = added
    old_labels = labels[around]
    core_new = np.zeros(merged.shape, bool)
    groups = _merge_groups(parts, n, old_labels, added_around)
    whole = np.zeros(grid.shape, bool)
    for part_ids, label_ids in groups:
        area = (
            areas[label_ids].sum() + np.isin(parts, part_ids)[added_around].sum() * grid.cell_area
        )
        if area >= MIN_CORE_HA * 1e4:
            core_new |= np.isin(parts, part_ids) & added_around
            if label_ids.size:
                whole |= np.isin(labels, label_ids)
    whole[around] |= core_new
    core_old = published == 0
    added_core = whole & ~core_old
    if not added_core.any():
        return published[box].copy(), box
    return _lower_distance(published, added_core, grid)


def _merge_groups(
    parts: np.ndarray, n: int, old_labels: np.ndarray, added: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Window components with added cells, merged when they share an old patch label.

    Returns (window component ids, old patch labels) per merged group.
    """
    with_added = np.unique(parts[added])
    with_added = with_added[with_added > 0]
    pairs = np.unique(np.stack([parts.ravel(), old_labels.ravel()], 1), axis=0)
    pairs = pairs[(pairs[:, 0] > 0) & (pairs[:, 1] > 0) & np.isin(pairs[:, 0], with_added)]
    parent = {int(p): int(p) for p in with_added}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    owner: dict[int, int] = {}
    for part, label in pairs.tolist():
        if label in owner:
            parent[find(part)] = find(owner[label])
        else:
            owner[label] = part
    groups: dict[int, list[int]] = {}
    for part in parent:
        groups.setdefault(find(part), []).append(part)
    result = []
    for members in groups.values():
        ids = np.array(members)
        labels = np.unique(pairs[np.isin(pairs[:, 0], ids), 1]) if pairs.size else ids[:0]
        result.append((ids, labels.astype(np.int64)))
    del n
    return result


def _lower_distance(
    published: np.ndarray, added_core: np.ndarray, grid: AnalysisGrid
) -> tuple[np.ndarray, Window]:
    """min(published distance, distance to the added core) where that can be lower (exact)."""
    rows, cols = np.nonzero(added_core)
    seed = (
        slice(int(rows.min()), int(rows.max()) + 1),
        slice(int(cols.min()), int(cols.max()) + 1),
    )
    far = float(np.nanmax(published))
    region = grow(seed, int(np.ceil(far / grid.cell_size)) + 1, grid.shape)
    sub = AnalysisGrid(
        grid.xmin + region[1].start * grid.cell_size,
        grid.ymax - region[0].start * grid.cell_size,
        region[1].stop - region[1].start,
        region[0].stop - region[0].start,
        grid.cell_size,
    )
    to_added = robustness.distance_to_core(added_core[region], sub)
    return np.minimum(published[region], to_added), region


def _distance_in_full(
    base: Baseline, box: Window, natural_new: np.ndarray, grid: AnalysisGrid
) -> tuple[np.ndarray, Window]:
    """The slow, exact path: patches, core and distance of the whole grid."""
    mask = base.natural_patches()[0].copy()
    mask[box] = natural_new
    labels, areas = robustness.patches(mask, grid)
    core = robustness.core_mask(base.layer("natura2000_share"), labels, areas, MIN_CORE_HA)
    return robustness.distance_to_core(core, grid), (slice(0, grid.height), slice(0, grid.width))
