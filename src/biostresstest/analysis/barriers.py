"""Barriers of the SICB connectivity rule: which cells are barriers, and which links they cut.

The Singapore Index counts natural patches less than 100 m apart as connected, unless a barrier
lies between (methods.md §b.5, §d.2 component C). Which land-cover classes are barriers, and
under which rule, is declared in the class table (``barrier`` in ``model/data/landcover.toml``):

* ``always``: every cell of the class (main roads, railways);
* ``wide``: only where the class is at least ``min_width_m`` across (local roads ≥ 15 m). The test
  is a morphological opening with a Euclidean disc whose diameter is the smallest odd number of
  cells that spans ``min_width_m``: exact at 1 m cells for 15 m (a 15-cell road is a barrier, a
  14-cell one is not). On cells coarser than half the width the disc is 3 cells, so only roads
  three cells across count (at 10 m: 30 m); the test cannot see 15 m there;
* ``hard_bank``: water bodies (8-connected cells of the class) at least ``min_hard_share`` of
  whose edge cells are paved or built (``paved`` in the class table): quays and sheet piling.

Densely built-up areas, the SICB's third barrier, are not modelled. A link between two patches
survives when at least one pair of their cells within the link distance (gap measured corner to
corner, as :func:`robustness.patch_links` measures it) can see each other: the straight segment
between the two cell centres crosses no barrier cell. A segment through the exact corner of a
barrier cell counts as crossing it, so a diagonal line of barrier cells has no gaps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from scipy import ndimage

from biostresstest.analysis import hq_kernels
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import LandCoverTable

_EIGHT = np.ones((3, 3), dtype=bool)
F = TypeVar("F", bound=Callable[..., Any])
_jit = cast("Callable[[F], F]", numba.njit(cache=True, nogil=True))


def barrier_mask(classes: np.ndarray, table: LandCoverTable, cell_size: float) -> np.ndarray:
    """Barrier cells (bool) of a class grid, by the ``barrier`` rules of the class table."""
    codes = np.asarray(classes, dtype=np.uint8)
    mask = np.zeros(codes.shape, dtype=bool)
    paved = np.zeros(256, dtype=bool)
    for cls in table:
        paved[cls.code] = cls.paved
    widths: dict[float, list[int]] = {}
    for cls in table:
        rule = cls.barrier
        if rule is None:
            continue
        if rule.rule == "always":
            mask |= codes == cls.code
        elif rule.rule == "wide" and rule.min_width_m is not None:
            widths.setdefault(rule.min_width_m, []).append(cls.code)
        elif rule.rule == "hard_bank" and rule.min_hard_share is not None:
            mask |= hard_banked(codes == cls.code, paved[codes], rule.min_hard_share)
    for width, members in widths.items():
        mask |= wide_parts(np.isin(codes, members), cell_size, width)
    return mask


def disc_radius(cell_size: float, min_width_m: float) -> int:
    """Radius r (cells) of the opening disc: the smallest odd 2r + 1 cells spanning the width."""
    return max(0, math.ceil((min_width_m / cell_size - 1.0) / 2.0 - 1e-9))


def wide_parts(mask: np.ndarray, cell_size: float, min_width_m: float) -> np.ndarray:
    """The cells of ``mask`` covered by a disc of ``min_width_m`` that fits inside the mask.

    The morphological opening by a Euclidean disc of :func:`disc_radius` cells, done with two
    exact distance transforms (erode: farther than r from every outside cell; dilate back by r).
    A road cut by the grid edge is taken to go on beyond it (the edge row is repeated), so it
    keeps its full width up to the edge.
    """
    mask = np.asarray(mask, dtype=bool)
    r = disc_radius(cell_size, min_width_m)
    if r == 0 or not mask.any():
        return mask.copy()
    rows, cols = np.nonzero(mask)
    r0, r1 = max(rows.min() - 1, 0), min(rows.max() + 2, mask.shape[0])
    c0, c1 = max(cols.min() - 1, 0), min(cols.max() + 2, mask.shape[1])
    # the margin of one cell around the bounding box is outside the mask, except at the grid
    # edge: repeating the outer rows continues what the edge cuts and keeps the rest outside
    pad = r + 1
    crop = np.pad(mask[r0:r1, c0:c1], pad, mode="edge")
    # exact Euclidean distances, computed only up to r + 1 cells (HQ's truncated transform)
    inner = hq_kernels.distance_transform((~crop).astype(np.uint8), r + 1) > r
    out = np.zeros(mask.shape, dtype=bool)
    if inner.any():
        opened = (hq_kernels.distance_transform(inner.astype(np.uint8), r + 1) <= r) & crop
        out[r0:r1, c0:c1] = opened[pad:-pad, pad:-pad]
    return out


def hard_banked(water: np.ndarray, paved: np.ndarray, min_share: float) -> np.ndarray:
    """Water bodies (8-connected) whose edge cells are at least ``min_share`` paved or built.

    The edge of a body is the cells outside it that touch it (8 neighbours); a cell touching
    two bodies counts for the one with the larger label.
    """
    labels, n = ndimage.label(np.asarray(water, dtype=bool), structure=_EIGHT)
    if n == 0:
        return np.zeros(water.shape, dtype=bool)
    ring_owner = ndimage.maximum_filter(labels, size=3, mode="constant", cval=0)
    ring = (labels == 0) & (ring_owner > 0)
    owner = ring_owner[ring]
    cells = np.bincount(owner, minlength=n + 1)
    hard = np.bincount(owner, weights=np.asarray(paved, dtype=bool)[ring], minlength=n + 1)
    share = np.divide(hard, cells, out=np.zeros(n + 1), where=cells > 0)
    keep = share >= min_share
    keep[0] = False
    return keep[labels]


def cut_links(
    labels: np.ndarray,
    links: np.ndarray,
    barrier: np.ndarray | None,
    grid: AnalysisGrid,
    link_distance_m: float,
) -> np.ndarray:
    """The ``links`` (pairs of patch labels) that no barrier cuts, in their order.

    A link is kept when some pair of edge cells, one of each patch, is within
    ``link_distance_m`` (corner to corner) and sees the other past every barrier cell. Two
    shortcuts decide most links exactly: patches whose joint bounding box holds no barrier cell
    keep their link, and patches in different regions of the land between barriers
    (4-connected) lose it, since a clear segment is a 4-connected chain of non-barrier cells.
    """
    if barrier is None or len(links) == 0 or not np.any(barrier):
        return links
    block = np.ascontiguousarray(barrier, dtype=np.uint8)
    count = np.pad(block.astype(np.int32).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    regions = _patch_regions(labels, block)
    boxes = ndimage.find_objects(labels)
    lim = link_distance_m / grid.cell_size + 1e-9
    edge = _edge_cells(labels)
    keep = np.ones(len(links), dtype=bool)
    for i, (a, b) in enumerate(np.asarray(links, dtype=np.int64)):
        ba, bb = boxes[a - 1], boxes[b - 1]
        if ba is None or bb is None:
            continue
        r0, r1 = min(ba[0].start, bb[0].start), max(ba[0].stop, bb[0].stop)
        c0, c1 = min(ba[1].start, bb[1].start), max(ba[1].stop, bb[1].stop)
        if count[r1, c1] - count[r0, c1] - count[r1, c0] + count[r0, c0] == 0:
            continue
        if not regions[a] & regions[b]:
            keep[i] = False
            continue
        near_a = _within(edge[a], bb, lim)
        near_b = _within(edge[b], ba, lim)
        keep[i] = bool(_any_clear(near_a, near_b, lim * lim, block))
    return links[keep]


def _patch_regions(labels: np.ndarray, block: np.ndarray) -> list[set[int]]:
    """Per patch label, the regions (4-connected land between barriers) its cells lie in."""
    regions, _ = ndimage.label(block == 0)
    n = int(labels.max(initial=0))
    sel = (labels > 0) & (regions > 0)
    key = np.unique(labels[sel].astype(np.int64) * (int(regions.max()) + 1) + regions[sel])
    out: list[set[int]] = [set() for _ in range(n + 1)]
    for patch, region in zip(
        (key // (regions.max() + 1)).tolist(), (key % (regions.max() + 1)).tolist(), strict=True
    ):
        out[patch].add(region)
    return out


def _within(cells: np.ndarray, box: tuple[slice, ...], lim: float) -> np.ndarray:
    """The cells whose row and column are within ``lim`` (+1) of a bounding box."""
    reach = math.floor(lim) + 1
    r, c = cells[:, 0], cells[:, 1]
    ok = (r >= box[0].start - reach) & (r < box[0].stop + reach)
    ok &= (c >= box[1].start - reach) & (c < box[1].stop + reach)
    return np.ascontiguousarray(cells[ok])


def _edge_cells(labels: np.ndarray) -> dict[int, np.ndarray]:
    """(row, col) of the cells of each patch that touch another label (8 neighbours)."""
    hi = ndimage.maximum_filter(labels, size=3, mode="constant", cval=0)
    lo = ndimage.minimum_filter(labels, size=3, mode="constant", cval=0)
    rows, cols = np.nonzero((labels > 0) & ((hi != labels) | (lo != labels)))
    owner = labels[rows, cols]
    order = np.argsort(owner, kind="stable")
    cells = np.stack([rows[order], cols[order]], 1).astype(np.int64)
    bounds = np.searchsorted(owner[order], np.arange(int(labels.max(initial=0)) + 2))
    return {k: cells[bounds[k] : bounds[k + 1]] for k in range(1, len(bounds) - 1)}


@_jit
def _any_clear(pa: np.ndarray, pb: np.ndarray, lim2: float, barrier: np.ndarray) -> bool:
    """Whether a cell of ``pa`` and one of ``pb`` within the corner gap see each other."""
    for i in range(pa.shape[0]):
        ra, ca = pa[i, 0], pa[i, 1]
        for j in range(pb.shape[0]):
            gr = max(abs(pb[j, 0] - ra) - 1, 0)
            gc = max(abs(pb[j, 1] - ca) - 1, 0)
            if gr * gr + gc * gc <= lim2 and _clear(ra, ca, pb[j, 0], pb[j, 1], barrier):
                return True
    return False


@_jit
def _clear(r0: int, c0: int, r1: int, c1: int, barrier: np.ndarray) -> bool:
    """Whether the segment between the centres of two cells crosses no barrier cell.

    Walks every cell the segment passes through (a supercover line in exact integer
    arithmetic); at an exact corner both side cells count. The end cells are not tested.
    """
    nr, nc = abs(r1 - r0), abs(c1 - c0)
    sr = 1 if r1 > r0 else -1
    sc = 1 if c1 > c0 else -1
    r, c = r0, c0
    ir, ic = 0, 0
    while ir < nr or ic < nc:
        # the next crossing: of a row boundary at t = (2 ir + 1) / 2 nr, of a column one at
        # t = (2 ic + 1) / 2 nc; compare without division
        step_r = (2 * ir + 1) * nc
        step_c = (2 * ic + 1) * nr
        if ic >= nc or (ir < nr and step_r < step_c):
            r += sr
            ir += 1
        elif ir >= nr or step_c < step_r:
            c += sc
            ic += 1
        else:  # through a corner: both cells beside it count
            if barrier[r + sr, c] or barrier[r, c + sc]:
                return False
            r += sr
            c += sc
            ir += 1
            ic += 1
        if (r != r1 or c != c1) and barrier[r, c]:
            return False
    return True
