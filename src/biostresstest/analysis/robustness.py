"""Robustness of the green network: natural patches, SICB connectivity, IIC, distance to core.

Pure functions on grid arrays (no I/O). Natural cells form 8-connected patches of at least
1,000 m². Patches with an edge-to-edge gap of at most 100 m are linked, and the connected
components of these links are the clusters of the Singapore Index connectivity indicator
(methods.md §b.5, §d.2 component C). The formulas follow WRI ``city_metrix``
(``city_metrix/metrics/habitat_connectivity.py`` [S21d]); each function notes where this
raster version differs from it. The SICB barriers (roads ≥15 m wide or carrying >5,000 cars a
day, concreted rivers and canals) cut links: :func:`barrier_links` keeps only the links some
pair of cells can make past every barrier cell (``analysis/barriers.py``; the barrier classes are
declared in the class table). Dense built-up areas, the third SICB barrier, are not modelled.

Conventions: ``labels`` is int32 with 0 = no patch and patches 1..n. Arrays "per patch"
(``areas``, ``cluster_of_patch``) have length n + 1 and are indexed by label, with entry 0
unused. ``zones`` holds an int zone id per cell, with 0 = outside every zone.
"""

from __future__ import annotations

from typing import overload

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from biostresstest.core.errors import InvalidInput
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import LandCoverTable

MIN_PATCH_M2 = 1000.0
"""city_metrix ``MIN_PATCHSIZE``: smaller natural patches are left out [S21d]."""
LINK_DISTANCE_M = 100.0
"""city_metrix ``CONNECTIVITY_DISTANCE`` and the SICB rule: patches <100 m apart are connected."""
COHERENCE_BANDS = (20.0, 39.9, 59.9, 79.0)
"""WRI bands of SICB-2 coherence (%) for 1..4 points (methods.md §b.5 [S21c])."""
_EIGHT = np.ones((3, 3), dtype=bool)
_CORNERS = np.array([(0, 0), (0, 1), (1, 0), (1, 1)], dtype=np.float64)
_HALF_DIAGONAL = 0.5 * np.sqrt(2.0)
_CHUNK = 256


def natural_mask(
    classes: np.ndarray,
    table: LandCoverTable,
    threshold: float = 0.5,
    *,
    include_water: bool = False,
) -> np.ndarray:
    """Cells of natural or semi-natural habitat: classes with habitat suitability ≥ ``threshold``.

    With 0.5, the BNG "Medium" band of the class table, this picks woodland, shrubs, hedges,
    flower-rich and extensive grassland, heath, marsh and banks. It leaves out mown amenity
    grass, verges, gardens and farmland. Water is left out by default, as in city_metrix
    ``NaturalAreas``, which maps WorldCover's permanent water to 0 [S21d].
    On coarse grids that only know "vegetated, type unknown" (habitat 0.3), no class is natural
    and the mask is all False. Use ``natural_mask_from_share`` for those grids.
    """
    lut = np.zeros(256, dtype=bool)
    for cls in table:
        if cls.habitat.value >= threshold and (include_water or cls.group != "water"):
            lut[cls.code] = True
    return lut[np.asarray(classes, dtype=np.uint8)]


def natural_mask_from_share(green_share: np.ndarray, min_share: float = 0.75) -> np.ndarray:
    """The fallback for coarse grids: cells at least ``min_share`` green (NaN counts as not green).

    Green is not the same as natural, because mown grass also counts. This fallback therefore
    overstates natural area and connectivity. Only use it where ``natural_mask`` has no natural
    class to work with.
    """
    share = np.asarray(green_share, dtype=np.float64)
    return np.nan_to_num(share, nan=0.0) >= min_share


def patches(
    mask: np.ndarray, grid: AnalysisGrid, min_area_m2: float = MIN_PATCH_M2
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, areas): 8-connected patches of at least ``min_area_m2``, relabelled 1..n.

    city_metrix also uses 8-connectivity, but it differs in two ways. It keeps patches of area
    strictly greater than 1,000 m². Its polygons also keep only their exterior ring, so holes
    count as patch area. Here the limit is ≥, as methods.md §b.5 states it, and only natural
    cells count.
    """
    _check_shape(mask, grid, "mask")
    raw, n = ndimage.label(np.asarray(mask, dtype=bool), structure=_EIGHT)
    areas = np.bincount(raw.ravel(), minlength=n + 1).astype(np.float64) * grid.cell_area
    keep = areas >= min_area_m2
    keep[0] = False
    new_id = (np.cumsum(keep) * keep).astype(np.int32)
    return new_id[raw], np.concatenate(([0.0], areas[keep]))


def patch_links(
    labels: np.ndarray, grid: AnalysisGrid, link_distance_m: float = LINK_DISTANCE_M
) -> np.ndarray:
    """Pairs (lo, hi) of patch labels whose edge-to-edge gap is ≤ ``link_distance_m``: exact.

    The gap is measured between the outlines of the cells, as city_metrix measures it between
    polygons with ``buffer(100).intersects``, so touching at exactly 100 m counts. Cells are
    squares on one lattice, so the gap between two cells is the distance between their closest
    corners, and the gap between two patches is that between the closest corners of their
    boundary cells. For each patch, a cKDTree of its corners is queried with the boundary cells
    of the other patches within reach: a cell centre within L of a corner proves the link (the
    gap is at most that distance), a centre beyond L + ½√2 cell rules the cell out, and the
    corners of the cells in between are checked exactly. The result is the complete threshold
    graph that ``iic`` needs. Time grows with the number of patches: about 2 s for 300 patches
    on 2000 × 2000 cells of 1 m, and about 6 s for 18,000 small patches at 10 m.
    The half-distance trick (dilate by L/2, label the dilated mask) gives the same clusters in
    one pass, but only to about one cell (two dilations that touch without overlapping merge,
    and an odd L/cell cannot be halved on the grid), and no link graph, so it is not used.
    """
    _check_shape(labels, grid, "labels")
    n = int(labels.max(initial=0))
    if n < 2:
        return np.empty((0, 2), dtype=np.int32)
    lim = link_distance_m / grid.cell_size + 1e-9
    pad = int(np.ceil(lim)) + 1
    hi = ndimage.maximum_filter(labels, size=3, mode="constant", cval=0)
    lo = ndimage.minimum_filter(labels, size=3, mode="constant", cval=0)
    edge = np.where((hi != labels) | (lo != labels), labels, 0)
    rows, cols = np.nonzero(edge)
    owner = edge[rows, cols]
    order = np.argsort(owner, kind="stable")
    corners = (np.stack([rows[order], cols[order]], 1)[:, None, :] + _CORNERS).reshape(-1, 2)
    start = 4 * np.concatenate(([0], np.cumsum(np.bincount(owner, minlength=n + 1)[1:])))
    found = []
    for k, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        r0, c0 = max(box[0].start - pad, 0), max(box[1].start - pad, 0)
        window = edge[r0 : box[0].stop + pad, c0 : box[1].stop + pad]
        wr, wc = np.nonzero(window > k)
        if not wr.size:
            continue
        tree = cKDTree(corners[start[k - 1] : start[k]])
        centres = np.stack([wr + r0 + 0.5, wc + c0 + 0.5], 1)
        dist, _ = tree.query(centres, distance_upper_bound=lim + _HALF_DIAGONAL)
        hit = dist <= lim
        unsure = np.flatnonzero(~hit & np.isfinite(dist))
        if unsure.size:
            probe = (centres[unsure, None, :] - 0.5 + _CORNERS).reshape(-1, 2)
            exact, _ = tree.query(probe, distance_upper_bound=lim)
            hit[unsure] = (exact.reshape(-1, 4) <= lim).any(axis=1)
        near = np.unique(window[wr[hit], wc[hit]])
        found.append(np.stack([np.full(near.size, k), near], 1))
    if not found:
        return np.empty((0, 2), dtype=np.int32)
    return np.concatenate(found).astype(np.int32)


def barrier_cells(classes: np.ndarray, table: LandCoverTable, cell_size: float) -> np.ndarray:
    """Barrier cells (bool) of a class grid by the class table's ``barrier`` rules.

    See ``analysis/barriers.py``. A grid of classes without barrier rules (the coarse
    "vegetated / not vegetated" classes of a national raster) has none.
    """
    if not any(cls.barrier is not None and np.any(classes == cls.code) for cls in table):
        return np.zeros(np.shape(classes), dtype=bool)
    from biostresstest.analysis import barriers  # numba: loaded only when there are barriers

    return barriers.barrier_mask(classes, table, cell_size)


def barrier_links(
    labels: np.ndarray,
    grid: AnalysisGrid,
    barrier: np.ndarray | None,
    link_distance_m: float = LINK_DISTANCE_M,
    links: np.ndarray | None = None,
) -> np.ndarray:
    """``patch_links`` without the links that a barrier cuts (the SICB exception to 100 m).

    ``barrier``: bool per cell, e.g. ``barriers.barrier_mask(classes, table, cell)``; None or
    all False keeps every link. Pass ``links`` (from ``patch_links``) to reuse them.
    """
    if barrier is not None:
        _check_shape(barrier, grid, "barrier")
    if links is None:
        links = patch_links(labels, grid, link_distance_m)
    if barrier is None or not np.any(barrier):
        return links
    from biostresstest.analysis import barriers  # numba: loaded only when barriers are given

    return barriers.cut_links(labels, links, barrier, grid, link_distance_m)


def clusters(
    labels: np.ndarray,
    grid: AnalysisGrid,
    link_distance_m: float = LINK_DISTANCE_M,
    links: np.ndarray | None = None,
) -> np.ndarray:
    """Cluster id (1..k) per patch label, the connected components of ``patch_links``.

    Pass ``links`` to reuse them, or the links of :func:`barrier_links` to respect barriers.
    """
    n = int(labels.max(initial=0))
    if links is None:
        links = patch_links(labels, grid, link_distance_m)
    _, comp = csgraph.connected_components(_graph(links, n), directed=False)
    return np.concatenate(([0], comp + 1)).astype(np.int32)


def mesh_metrics(
    labels: np.ndarray,
    patch_areas: np.ndarray,
    cluster_of_patch: np.ndarray,
    zones: np.ndarray,
    grid: AnalysisGrid,
) -> dict[int, dict[str, float]]:
    """SICB connectivity per zone: effective mesh size and coherence of the natural clusters.

    Clusters come from the whole grid and are clipped to each zone. A_i is the area of cluster i
    inside the zone, so a link through land outside the zone still counts. city_metrix clips
    the raster to the zone first, which loses such links and drops edge fragments under
    1,000 m². Following city_metrix exactly [S21d], A_total is the natural area (patches
    ≥1,000 m²) in the zone, ``total_area = na_gdf.area.sum()``, for both measures. It is not the
    zone's land area:
    ``ems_ha = Σ A_i² / A_total / 10,000`` and ``coherence_pct = Σ A_i² / A_total² × 100``.
    Both are 0 when the zone has no natural patch. Also given:
    ``mesh_ha = Σ A_i² / A_zone / 10,000`` is Jaeger's effective mesh size over the zone's area
    (FRAGSTATS MESH, methods.md §b.13). ``mesh_cbc_ha = Σ A_i · A_i,complete / A_zone / 10,000``
    is its cross-boundary-connections variant (Moser et al. 2007), which weighs each clipped
    cluster by its complete area. A_zone is the area of the zone's cells, water included.
    """
    _check_shape(zones, grid, "zones")
    zone_ids, zone_m2 = _zone_areas(zones, grid)
    z, p, a = _zone_patch_areas(labels, zones, grid)
    full = np.bincount(cluster_of_patch, weights=patch_areas)
    k = int(cluster_of_patch.max(initial=0)) + 1
    zc, inverse = np.unique(z * k + cluster_of_patch[p], return_inverse=True)
    a_in = np.bincount(inverse, weights=a)
    zi = np.searchsorted(zone_ids, zc // k)
    m = zone_ids.size
    sum_sq = np.bincount(zi, weights=a_in**2, minlength=m)
    sum_cbc = np.bincount(zi, weights=a_in * full[zc % k], minlength=m)
    pz = np.searchsorted(zone_ids, z)
    natural = np.bincount(pz, weights=a, minlength=m)
    n_patches = np.bincount(pz, minlength=m)
    n_clusters = np.bincount(zi, minlength=m)
    largest = np.zeros(m)
    np.maximum.at(largest, pz, a)
    safe = np.where(natural > 0, natural, 1.0)
    return {
        int(zone_ids[i]): {
            "zone_m2": float(zone_m2[i]),
            "natural_m2": float(natural[i]),
            "ems_ha": float(sum_sq[i] / safe[i] / 1e4),
            "coherence_pct": float(sum_sq[i] / safe[i] ** 2 * 100),
            "mesh_ha": float(sum_sq[i] / zone_m2[i] / 1e4),
            "mesh_cbc_ha": float(sum_cbc[i] / zone_m2[i] / 1e4),
            "n_patches": float(n_patches[i]),
            "n_clusters": float(n_clusters[i]),
            "largest_patch_m2": float(largest[i]),
        }
        for i in range(m)
    }


def iic(
    labels: np.ndarray,
    links: np.ndarray,
    zones: np.ndarray,
    grid: AnalysisGrid,
    max_patches: int = 2000,
) -> dict[int, dict[str, float]]:
    """Integral Index of Connectivity per zone (Pascual-Hortal & Saura 2006, methods.md §b.13).

    ``IIC = Σ_i Σ_j a_i a_j / (1 + nl_ij) / A_L²``. Here a_i is the area of patch i inside the
    zone, and A_L is the zone's area. nl_ij is the number of links on the shortest path in the
    ``patch_links`` graph. That path may run through patches outside the zone. Pairs in
    different clusters contribute 0, and i = j contributes a_i².
    A zone with more than ``max_patches`` patches uses only its ``max_patches`` largest in the
    sum. The smaller ones remain stepping stones. ``iic`` is then a lower bound, and
    ``iic_upper`` adds the most the left-out pairs could contribute.
    """
    _check_shape(zones, grid, "zones")
    n = int(labels.max(initial=0))
    zone_ids, zone_m2 = _zone_areas(zones, grid)
    z, p, a = _zone_patch_areas(labels, zones, grid)
    graph = _graph(links, n)
    comp = csgraph.connected_components(graph, directed=False)[1] if n else np.zeros(0, int)
    result: dict[int, dict[str, float]] = {}
    for zone, area_l in zip(zone_ids.tolist(), zone_m2.tolist(), strict=True):
        sel = z == zone
        nodes, weights = p[sel] - 1, a[sel]
        order = np.argsort(-weights, kind="stable")[:max_patches]
        used, w = nodes[order], weights[order]
        sub = np.flatnonzero(np.isin(comp, comp[used]))
        sub_graph = graph[sub][:, sub]
        cols = np.searchsorted(sub, used)
        total = 0.0
        for start in range(0, used.size, _CHUNK):
            rows = slice(start, start + _CHUNK)
            hops = csgraph.shortest_path(
                sub_graph, directed=False, unweighted=True, indices=cols[rows]
            )[:, cols]
            total += float(np.sum(np.outer(w[rows], w) / (1.0 + hops)))
        missing = float(weights.sum() ** 2 - w.sum() ** 2)
        result[int(zone)] = {
            "iic": total / area_l**2,
            "iic_upper": (total + missing) / area_l**2,
            "n_patches": float(nodes.size),
            "n_used": float(used.size),
        }
    return result


def core_mask(
    n2k_share: np.ndarray | None,
    labels: np.ndarray,
    patch_areas: np.ndarray,
    min_core_ha: float = 10.0,
) -> np.ndarray:
    """Core habitat: cells ≥ 50 % Natura 2000, or in a natural patch of ≥ ``min_core_ha``."""
    core = patch_areas[labels] >= min_core_ha * 1e4
    core[labels == 0] = False
    if n2k_share is not None:
        core |= np.nan_to_num(np.asarray(n2k_share, dtype=np.float64), nan=0.0) >= 0.5
    return core


def distance_to_core(core: np.ndarray, grid: AnalysisGrid, max_m: float = 5000.0) -> np.ndarray:
    """Exact Euclidean distance (m, float32) from each cell centre to the nearest core cell centre.

    Core cells are 0. Distances are capped at ``max_m``, and with no core at all every cell is
    ``max_m``. Core outside the grid is not seen, so cells near the edge can read too far.
    """
    _check_shape(core, grid, "core")
    if not core.any():
        return np.full(core.shape, max_m, dtype=np.float32)
    dist = ndimage.distance_transform_edt(~np.asarray(core, dtype=bool), sampling=grid.cell_size)
    return np.minimum(dist, max_m).astype(np.float32)


@overload
def sicb_connectivity_points(coherence_pct: float) -> int: ...
@overload
def sicb_connectivity_points(coherence_pct: np.ndarray) -> np.ndarray: ...
def sicb_connectivity_points(coherence_pct: float | np.ndarray) -> int | np.ndarray:
    """SICB-2 points 0..4 from coherence (%) with the WRI bands <20, <39.9, <59.9, <79, ≥79.

    For arrays, NaN gives -1. For a single value, NaN raises InvalidInput.
    """
    values = np.asarray(coherence_pct, dtype=np.float64)
    points = np.where(np.isnan(values), -1, np.digitize(values, COHERENCE_BANDS)).astype(np.int8)
    if isinstance(coherence_pct, np.ndarray):
        return points
    if points < 0:
        raise InvalidInput("coherence is NaN", hint="score only zones that have a coherence")
    return int(points)


def _check_shape(array: np.ndarray, grid: AnalysisGrid, name: str) -> None:
    if array.shape != grid.shape:
        raise InvalidInput(f"{name} has shape {array.shape}, the grid {grid.shape}")


def _graph(links: np.ndarray, n: int) -> sparse.csr_matrix:
    ones = np.ones(len(links), dtype=np.int8)
    pairs = np.asarray(links, dtype=np.int64).reshape(-1, 2) - 1
    return sparse.csr_matrix((ones, (pairs[:, 0], pairs[:, 1])), shape=(n, n))


def _zone_areas(zones: np.ndarray, grid: AnalysisGrid) -> tuple[np.ndarray, np.ndarray]:
    ids, counts = np.unique(zones[zones > 0], return_counts=True)
    return ids.astype(np.int64), counts * grid.cell_area


def _zone_patch_areas(
    labels: np.ndarray, zones: np.ndarray, grid: AnalysisGrid
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(zone, patch, m²) for every patch with cells in a zone."""
    n = int(labels.max(initial=0))
    sel = (labels > 0) & (zones > 0)
    key = zones[sel].astype(np.int64) * (n + 1) + labels[sel]
    uniq, counts = np.unique(key, return_counts=True)
    return uniq // (n + 1), uniq % (n + 1), counts * grid.cell_area
