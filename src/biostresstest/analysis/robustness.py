"""Robustness of the green network: natural patches, SICB connectivity, IIC, distance to core.

Pure functions on grid arrays (no I/O). Natural cells form 8-connected patches of at least
1,000 m². Patches with an edge-to-edge gap of at most 100 m are linked, and the connected
components of these links are the clusters of the Singapore Index connectivity indicator
(methods.md §b.5, §d.2 component C). The formulas follow WRI ``city_metrix``
(``city_metrix/metrics/habitat_connectivity.py`` [S21d]); each function notes where this
raster version differs from it. **Barriers are not handled yet.** The SICB barriers are roads
≥15 m wide or carrying >5,000 cars a day, concreted rivers and canals, and dense built-up areas.
A link ignores whatever lies in the gap.

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
_MARGIN = 4.0
"""Cells. Two patches with an approximate gap (see ``patch_links``) this close to the link
distance are checked exactly."""
_CHUNK = 256


def natural_mask(
    classes: np.ndarray, table: LandCoverTable, threshold: float = 0.5, *, include_water: bool = False
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
    """Pairs (lo, hi) of patch labels whose edge-to-edge gap is ≤ ``link_distance_m``.

    The gap is measured between cell edges, as city_metrix does between polygons with
    ``buffer(100).intersects``. This uses the half-distance trick. Two patches are within L of
    each other exactly when some point lies within L/2 of both. That point is the midpoint of
    their closest pair of points, so the Voronoi regions of the two patches meet there. A
    Euclidean distance transform therefore gives every cell within L/2 + 4 cells its nearest
    patch cell. Each pair of neighbouring cells that belong to different patches yields a
    candidate pair, with the exact gap between their two nearest cells as an upper bound.
    Candidates with a bound ≤ L are linked. Those within 4 cells above L are checked exactly
    on the corners of their boundary cells (cKDTree).
    Accuracy is therefore exact to the cell edges of the raster. What the raster itself costs is
    at most one cell size in the outlines. The graph is planar, as in Graphab's planar
    topology: a link that passes through a third patch's Voronoi region is replaced by the
    two links through that patch. Clusters stay the same, but nl_ij in ``iic`` can differ.
    """
    _check_shape(labels, grid, "labels")
    n = int(labels.max(initial=0))
    if n < 2:
        return np.empty((0, 2), dtype=np.int32)
    link = link_distance_m / grid.cell_size
    dist, (rows, cols) = ndimage.distance_transform_edt(labels == 0, return_indices=True)
    owner = labels[rows, cols]
    near = dist <= link / 2 + _MARGIN
    height, width = labels.shape
    keys, gaps2 = [], []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        p = (slice(0, height - dr), slice(max(-dc, 0), width - max(dc, 0)))
        q = (slice(dr, height), slice(max(dc, 0), width - max(-dc, 0)))
        hit = (owner[p] != owner[q]) & near[p] & near[q]
        a, b = owner[p][hit].astype(np.int64), owner[q][hit].astype(np.int64)
        di = np.abs(rows[p][hit] - rows[q][hit]).astype(np.int64) - 1
        dj = np.abs(cols[p][hit] - cols[q][hit]).astype(np.int64) - 1
        keys.append(np.minimum(a, b) * (n + 1) + np.maximum(a, b))
        gaps2.append(np.maximum(di, 0) ** 2 + np.maximum(dj, 0) ** 2)
    key, gap2 = np.concatenate(keys), np.concatenate(gaps2)
    order = np.lexsort((gap2, key))
    key, gap2 = key[order], gap2[order]
    first = np.r_[True, key[1:] != key[:-1]] if key.size else np.zeros(0, dtype=bool)
    key, gap2 = key[first], gap2[first]
    linked = gap2 <= link**2 + 1e-9
    check = np.flatnonzero(~linked & (gap2 <= (link + _MARGIN) ** 2))
    if check.size:
        boxes = ndimage.find_objects(labels)
        reach = int(np.ceil(link + _MARGIN)) + 1
        for i in check:
            lo, hi = divmod(int(key[i]), n + 1)
            linked[i] = _exact_gap(labels, boxes, lo, hi, reach) <= link + 1e-9
    key = key[linked]
    return np.stack([key // (n + 1), key % (n + 1)], axis=1).astype(np.int32)


def clusters(
    labels: np.ndarray,
    grid: AnalysisGrid,
    link_distance_m: float = LINK_DISTANCE_M,
    links: np.ndarray | None = None,
) -> np.ndarray:
    """Cluster id (1..k) per patch label, the connected components of ``patch_links``.

    Barriers are not handled yet (see the module docstring). Pass ``links`` to reuse them.
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
    1,000 m². Following city_metrix exactly [S21d], A_total is the natural area in the zone
    (``total_area = na_gdf.area.sum()``) for both measures, as in the SICB manual's "total area
    of all natural areas":
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
    _, comp = csgraph.connected_components(graph, directed=False)
    result = {}
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
        missing = weights.sum() ** 2 - w.sum() ** 2
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


def _exact_gap(labels: np.ndarray, boxes: list[tuple[slice, slice] | None], a: int, b: int,
               reach: int) -> float:
    """Exact edge-to-edge gap (cells) of patches a and b: the closest corners of their cells."""
    corners = []
    for own, other in ((a, b), (b, a)):
        box, obox = boxes[own - 1], boxes[other - 1]
        assert box is not None and obox is not None
        r0 = max(box[0].start - 1, obox[0].start - reach, 0)
        r1 = min(box[0].stop + 1, obox[0].stop + reach, labels.shape[0])
        c0 = max(box[1].start - 1, obox[1].start - reach, 0)
        c1 = min(box[1].stop + 1, obox[1].stop + reach, labels.shape[1])
        if r0 >= r1 or c0 >= c1:
            return float("inf")
        cells = labels[r0:r1, c0:c1] == own
        edge = cells & ~ndimage.binary_erosion(cells, structure=_EIGHT, border_value=0)
        r, c = np.nonzero(edge)
        if r.size == 0:
            return float("inf")
        r, c = r + r0, c + c0
        corners.append(np.concatenate([np.stack([r + i, c + j], 1) for i in (0, 1) for j in (0, 1)]))
    dist, _ = cKDTree(corners[1]).query(corners[0], k=1)
    return float(dist.min())
