"""Compiled kernels of Habitat Quality: truncated exact distance transform, decay, degradation.

InVEST 3.20 (pygeoprocessing's Meijster transform, then numpy in float32) computes, per threat,
the Euclidean distance d in pixels from each cell centre to the nearest threat cell, then
``i = (m - d) / m`` (linear) or ``exp(-2.99 d / m) `` (exponential) for ``d <= m`` and 0 beyond,
where ``m = max_dist / pixel``; then ``i * S * w * access`` in float32, summed over threats.

Here the same numbers come from one fused pass per threat:

* the column pass keeps vertical distances only up to ``cap = floor(m) + 1`` pixels, so a strip
  of rows needs only ``cap`` rows of threat cells above and below it (the halo);
* the row pass is the Felzenszwalb-Huttenlocher lower envelope in exact integer arithmetic over
  the columns whose vertical distance is within ``cap``; every cell whose squared distance fits
  (d <= cap) gets the exact distance ``sqrt(float32(dx^2 + dy^2))``, as InVEST stores it;
* decay, sensitivity, weight and access are applied in float32 in InVEST's order and added to the
  running sum, skipping the exact zeros InVEST would add.

Exactness: identical to a full transform wherever ``d <= m`` (the only cells where decay is not
0) as long as ``m^2 < 2^24`` (InVEST squares distances in float32). A threat raster without any
threat cell is InVEST's special case: its "distance" is ``rows + cols + row`` (a pseudo-infinity
that still decays when ``m`` exceeds it); :func:`accumulate_threat` reproduces it with
``empty=True``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np

F = TypeVar("F", bound=Callable[..., Any])

LINEAR = 0
EXPONENTIAL = 1
DECAY_CODES = {"linear": LINEAR, "exponential": EXPONENTIAL}
_NO_CARRY = np.empty(0, np.int32)
EXP_FACTOR = np.float32(2.99)
"""InVEST's constant: the exponential decay keeps about 5 % of the impact at ``max_dist``."""


def _jit(parallel: bool) -> Callable[[F], F]:
    """``numba.njit`` with the on-disk cache, typed for mypy."""
    return cast(
        "Callable[[F], F]",
        numba.njit(cache=True, nogil=True, parallel=parallel, error_model="numpy"),
    )


def distance_cap(max_dist_px: float) -> int:
    """Pixels beyond which no cell can decay: ``floor(m) + 1`` (the halo of a strip)."""
    return int(np.floor(np.float32(max_dist_px))) + 1


@_jit(parallel=True)
def column_distance(
    present: np.ndarray, top: int, n: int, cap: int, carry: np.ndarray
) -> np.ndarray:
    """Vertical distance (pixels) to the nearest present cell in the same column.

    ``present`` is a window of rows (uint8, 1 = threat); the result covers its rows
    ``top .. top + n - 1``. Distances above ``cap`` are stored as ``cap + 1``. Rows of the
    window outside the result are the halo: present cells there count.
    ``carry`` (int32 per column, or empty): the downward distance entering the window's first
    row, as the previous strip left it; it is updated to the value after row ``top + n - 1``,
    so strips taken in order need no halo above (exact: the distances are whole pixels).
    """
    win_rows, cols = present.shape
    big = cap + 1
    out = np.empty((n, cols), np.int32)
    n_chunks = max(1, min(16, cols // 64))
    step = (cols + n_chunks - 1) // n_chunks
    carried = carry.size > 0
    for chunk in numba.prange(n_chunks):
        x0 = chunk * step
        x1 = min(cols, x0 + step)
        run = np.full(x1 - x0, big, np.int32)
        if carried:
            for x in range(x0, x1):
                run[x - x0] = carry[x]
        for i in range(0, top + n):
            for x in range(x0, x1):
                v = min(run[x - x0] + 1, big)
                run[x - x0] = 0 if present[i, x] else v
            if i >= top:
                for x in range(x0, x1):
                    out[i - top, x] = run[x - x0]
        if carried:
            for x in range(x0, x1):
                carry[x] = run[x - x0]
        run[:] = big
        for i in range(win_rows - 1, top - 1, -1):
            for x in range(x0, x1):
                v = min(run[x - x0] + 1, big)
                run[x - x0] = 0 if present[i, x] else v
            if i < top + n:
                for x in range(x0, x1):
                    out[i - top, x] = min(out[i - top, x], run[x - x0])
    return out


@_jit(parallel=True)
def column_up(present: np.ndarray, cap: int, carry: np.ndarray, out: np.ndarray) -> None:
    """The upward half of :func:`column_distance` for strips taken from the bottom up.

    ``out`` (rows of ``present``) gets the distance to the nearest present cell at or below,
    capped at ``cap + 1``; ``carry`` (per column) enters as the value just below the strip
    and leaves as the value at its first row.
    """
    rows, cols = present.shape
    big = cap + 1
    n_chunks = max(1, min(16, cols // 64))
    step = (cols + n_chunks - 1) // n_chunks
    for chunk in numba.prange(n_chunks):
        x0 = chunk * step
        x1 = min(cols, x0 + step)
        for i in range(rows - 1, -1, -1):
            for x in range(x0, x1):
                v = min(carry[x] + 1, big)
                carry[x] = 0 if present[i, x] else v
                out[i, x] = carry[x]


@_jit(parallel=True)
def column_down_min(present: np.ndarray, up: np.ndarray, cap: int, carry: np.ndarray) -> np.ndarray:
    """:func:`column_distance` of a strip from its upward half ``up`` and the downward carry.

    No halo is needed: ``up`` already holds what lies below, ``carry`` what lies above.
    """
    rows, cols = present.shape
    big = cap + 1
    out = np.empty((rows, cols), np.int32)
    n_chunks = max(1, min(16, cols // 64))
    step = (cols + n_chunks - 1) // n_chunks
    for chunk in numba.prange(n_chunks):
        x0 = chunk * step
        x1 = min(cols, x0 + step)
        for i in range(rows):
            for x in range(x0, x1):
                v = min(carry[x] + 1, big)
                carry[x] = 0 if present[i, x] else v
                out[i, x] = min(carry[x], np.int32(up[i, x]))
    return out


@_jit(parallel=False)
def _envelope(
    grow: np.ndarray, cap: int, site: np.ndarray, height: np.ndarray, start: np.ndarray
) -> int:
    """Lower envelope of the parabolas ``(x - u)^2 + g(u)^2`` over columns with ``g <= cap``.

    Fills ``site``/``height``/``start`` and returns the index of the last parabola (-1: none).
    Exact integer heights; intersections in float64, which separates distinct candidates
    exactly for rows narrower than 2^20 cells.
    """
    k = -1
    for u in range(grow.size):
        gu = np.int64(grow[u])
        if gu > cap:
            continue
        fu = gu * gu
        s = -np.inf
        while k >= 0:
            v = site[k]
            s = (fu + u * u - height[k] - v * v) / (2.0 * (u - v))
            if s <= start[k]:
                k -= 1
            else:
                break
        k += 1
        site[k] = u
        height[k] = fu
        start[k] = s if k > 0 else -np.inf
    return k


@_jit(parallel=True)
def squared_distance(g: np.ndarray, cap: int) -> np.ndarray:
    """Row pass: squared Euclidean distance per cell from the column distances ``g``.

    Cells with no column within ``cap`` get -1.
    """
    n, cols = g.shape
    out = np.empty((n, cols), np.int64)
    for y in numba.prange(n):
        site = np.empty(cols, np.int64)
        height = np.empty(cols, np.int64)
        start = np.empty(cols, np.float64)
        k = _envelope(g[y], cap, site, height, start)
        if k < 0:
            out[y, :] = -1
            continue
        j = 0
        for x in range(cols):
            while j < k and start[j + 1] <= x:
                j += 1
            dx = np.int64(x) - site[j]
            out[y, x] = dx * dx + height[j]
    return out


@_jit(parallel=True)
def _reach(
    g: np.ndarray,
    cap: int,
    empty_base: int,
    m32: np.float32,
    sens: np.ndarray,
    cls: np.ndarray,
    out: np.ndarray,
) -> None:
    """float32 distance where the threat reaches a sensitive cell (d <= m), else NaN.

    NaN (not -1) lets the decay run in place on this array: it stays NaN, and
    :func:`_accumulate` skips it.
    """
    n, cols = cls.shape
    cap2 = np.int64(cap) * cap
    for y in numba.prange(n):
        if empty_base >= 0:
            d = np.float32(empty_base + y)
            for x in range(cols):
                out[y, x] = d if (d <= m32 and sens[cls[y, x]] != 0) else np.float32(np.nan)
            continue
        site = np.empty(cols, np.int64)
        height = np.empty(cols, np.int64)
        start = np.empty(cols, np.float64)
        k = _envelope(g[y], cap, site, height, start)
        j = 0
        for x in range(cols):
            out[y, x] = np.nan
            if k < 0 or sens[cls[y, x]] == 0:
                continue
            while j < k and start[j + 1] <= x:
                j += 1
            dx = np.int64(x) - site[j]
            q = dx * dx + height[j]
            if q <= cap2:
                d = np.sqrt(np.float32(q))
                if d <= m32:
                    out[y, x] = d


@_jit(parallel=True)
def _accumulate(
    decayed: np.ndarray,
    sens: np.ndarray,
    w32: np.float32,
    cls: np.ndarray,
    access: np.ndarray,
    acc: np.ndarray,
) -> None:
    """``acc += decayed * S * w * access`` (float32, InVEST's order) where not NaN."""
    n, cols = cls.shape
    has_access = access.shape[0] > 0
    for y in numba.prange(n):
        for x in range(cols):
            if np.isnan(decayed[y, x]):
                continue
            val = decayed[y, x] * sens[cls[y, x]] * w32
            if has_access:
                val = val * access[y, x]
            acc[y, x] += val


def accumulate_threat(
    present: np.ndarray,
    top: int,
    cls: np.ndarray,
    sens: np.ndarray,
    *,
    max_dist_px: float,
    decay: str,
    weight: float,
    acc: np.ndarray,
    access: np.ndarray | None = None,
    empty_rows_cols: tuple[int, int] | None = None,
    row0: int = 0,
    carry: np.ndarray | None = None,
    up: np.ndarray | None = None,
) -> None:
    """Add one threat's degradation to ``acc`` (float32, the rows of ``cls``) in place.

    ``present``: uint8 window of threat presence whose row ``top`` is the first row of ``cls``
    (it must reach ``distance_cap`` rows beyond the strip on both sides, or the raster edge).
    ``cls``: class index per cell; ``sens``: float32 sensitivity per class index (0 for the
    nodata index). ``weight``: the normalised weight w / sum(w). ``empty_rows_cols``: the full
    raster's (rows, cols) when the threat raster has no threat cell at all (InVEST's
    pseudo-infinite distance ``rows + cols + row``); ``row0`` is then the strip's first row.
    ``carry``: see :func:`column_distance` (strips in order, windows without a halo above).
    ``up``: the strip's upward column distances (:func:`column_up`); with it and ``carry``,
    ``present`` is the strip's own rows, without any halo.
    The decay itself runs in numpy (its float32 ``exp`` is InVEST's, bit for bit).
    """
    m32 = np.float32(max_dist_px)
    cap = distance_cap(max_dist_px)
    n, cols = cls.shape
    dist = np.empty((n, cols), np.float32)
    if empty_rows_cols is not None:
        base = empty_rows_cols[0] + empty_rows_cols[1] + row0
        g = np.empty((0, 0), np.int32)
    else:
        base = -1
        if up is not None and carry is not None:
            g = column_down_min(present, up, cap, carry)
        else:
            g = column_distance(present, top, n, cap, _NO_CARRY if carry is None else carry)
    _reach(g, cap, base, m32, sens, cls, dist)
    del g
    globals()[f"_decay_{decay}"](dist, m32)
    no_access = np.empty((0, 0), np.float32)
    _accumulate(dist, sens, np.float32(weight), cls, no_access if access is None else access, acc)


def _decay_linear(d: np.ndarray, m32: np.float32) -> None:
    """``(m - d) / m`` in place, the same float32 operations as InVEST's."""
    np.subtract(m32, d, out=d)
    d /= m32


def _decay_exponential(d: np.ndarray, m32: np.float32) -> None:
    """``exp(-d * 2.99 / m)`` in place, the same float32 operations as InVEST's."""
    np.negative(d, out=d)
    d *= EXP_FACTOR
    d /= m32
    with np.errstate(over="ignore"):
        np.exp(d, out=d)


def distance_transform(present: np.ndarray, max_dist_px: float | None = None) -> np.ndarray:
    """Exact Euclidean distance (float32 pixels) to the nearest present cell, as InVEST's.

    With ``max_dist_px`` the result is exact up to that distance and ``inf`` beyond; without
    it the whole raster is transformed. No present cell at all gives InVEST's pseudo-infinity
    ``rows + cols + row``.
    """
    mask = np.ascontiguousarray(present, dtype=np.uint8)
    rows, cols = mask.shape
    if not mask.any():
        return (np.float32(rows + cols) + np.arange(rows, dtype=np.float32))[:, None].repeat(
            cols, axis=1
        )
    cap = rows + cols if max_dist_px is None else distance_cap(max_dist_px)
    d2 = squared_distance(column_distance(mask, 0, rows, cap, _NO_CARRY), cap)
    out = np.full(d2.shape, np.inf, np.float32)
    reach = (d2 >= 0) & (d2 <= np.int64(cap) * cap)
    out[reach] = np.sqrt(d2[reach].astype(np.float32))
    return out


def decay(distance: np.ndarray, max_dist_px: float, kind: str) -> np.ndarray:
    """InVEST's ``_decay_distance`` on a float32 distance array (numpy, float32 throughout)."""
    d = np.asarray(distance, dtype=np.float32)
    m = np.float32(max_dist_px)
    if kind == "linear":
        return np.where(d > m, np.float32(0), (m - d) / m).astype(np.float32)
    with np.errstate(over="ignore"):
        return np.where(d > m, np.float32(0), np.exp((-d * EXP_FACTOR) / m)).astype(np.float32)


@_jit(parallel=False)
def _threat_scan(
    values: np.ndarray,
    nodata: float,
    has_nodata: bool,
    integer: bool,
    single: bool,
    out: np.ndarray,
) -> tuple[int, float]:
    """Threat presence into ``out`` (uint8) and the first value outside 0..1, as InVEST does.

    Present: not 0 and not ``numpy.isclose`` to nodata (pygeoprocessing's distance-transform
    mask; float32 rasters compare in float32 as numpy 1.x did; a NaN nodata is never "close",
    so NaN cells count as threat). The 0..1 check skips nodata cells as
    ``array_equals_nodata`` does: equality for integers, ``isclose`` with NaN == NaN for floats.
    Returns (flat index of the first bad value or -1, that value).
    """
    flat = values.ravel()
    res = out.ravel()
    tol = 1e-8 + 1e-5 * abs(nodata)
    tol32 = np.float32(tol)
    nd32 = np.float32(nodata)
    nd_nan = np.isnan(nodata)
    first = -1
    bad = 0.0
    for i in range(flat.size):
        v = np.float64(flat[i])
        close: bool = False
        skip: bool = False
        if has_nodata:
            if single:
                close = bool(flat[i] == nd32 or abs(flat[i] - nd32) <= tol32)
            else:
                close = bool(v == nodata or abs(v - nodata) <= tol)
            skip = bool(v == nodata) if integer else bool(close or (nd_nan and np.isnan(v)))
        res[i] = 1 if (v != 0 and not close) else 0
        if first < 0 and not skip and (v < 0 or v > 1):
            first = i
            bad = v
    return first, bad


def threat_scan(values: np.ndarray, nodata: float | None, out: np.ndarray) -> tuple[int, float]:
    """See :func:`_threat_scan`; ``nodata`` None means the raster has none."""
    return _threat_scan(
        np.ascontiguousarray(values),
        0.0 if nodata is None else float(nodata),
        nodata is not None,
        values.dtype.kind in "iub",
        values.dtype == np.float32,
        out,
    )


@_jit(parallel=True)
def classify_codes(
    values: np.ndarray, codes: np.ndarray, nodata: int, has_nodata: bool, out: np.ndarray
) -> int:
    """Class index per cell (binary search in the sorted ``codes``) into ``out``.

    Nodata cells get ``len(codes)`` unless the table lists the nodata code (then they are that
    class, as pygeoprocessing's reclassification does); codes missing from the table get
    ``len(codes) + 1``. Returns the number of cells with a missing code.
    """
    flat = values.ravel()
    res = out.ravel()
    n = codes.size
    nodata_listed = False
    if has_nodata:
        for c in codes:
            if c == nodata:
                nodata_listed = True
    missing = 0
    for i in numba.prange(flat.size):
        v = np.int64(flat[i])
        if has_nodata and v == nodata and not nodata_listed:
            res[i] = n
            continue
        lo = 0
        hi = n
        while lo < hi:
            mid = (lo + hi) // 2
            if codes[mid] < v:
                lo = mid + 1
            else:
                hi = mid
        if lo < n and codes[lo] == v:
            res[i] = lo
        else:
            res[i] = n + 1
            missing += 1
    return missing
