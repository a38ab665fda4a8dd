"""Runoff and retention of a design storm per cell: the SCS curve-number method (TR-55).

Equations (methods.md §b.3, reference/invest.md §4), with P the rain depth in mm:

* maximum retention ``S = 25400 / CN − 254`` (mm); InVEST sets ``S = 100000`` for CN = 0;
* initial abstraction ``Ia = λ·S`` with ``λ = 0.2``;
* runoff ``Q = (P − Ia)² / (P − Ia + S) = (P − 0.2 S)² / (P + 0.8 S)`` when ``P > Ia``, else 0;
* retention ``P − Q`` (mm) and the retention index ``1 − Q/P`` (0..1);
* volumes ``mm · cell area · 1e-3`` (m³).

:func:`urban_flood` reproduces InVEST 3.20 Urban Flood Risk Mitigation's rasters bit for bit in
float32 (``Q_mm``, ``Runoff_retention_index``, ``Runoff_retention_m3``, ``Q_m3``, ``cn_raster``,
``s_max``, with InVEST's nodata values). The method has no time and no routing: it says how much
of a storm each surface keeps, not where water collects (the DPRA's water depth needs a flow
model; see docs/method.md).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from biostresstest.core.errors import InvalidInput
from biostresstest.model.landcover import SOIL_GROUPS, LandCoverTable

LAMBDA = 0.2
"""Initial abstraction ratio Ia/S (TR-55; hard-coded in InVEST)."""
S_MAX_CN_ZERO = 100000.0
"""InVEST's S for CN = 0 (more than any storm)."""
CN_NODATA = -1.0
S_MAX_NODATA = -9999.0
Q_NODATA = -9999.0
RETENTION_NODATA = -9999.0
Q_M3_NODATA = -1.0
"""InVEST 3.20's nodata values of cn_raster, s_max, Q_mm, the retention rasters and Q_m3."""


def soil_group_code(group: str | int) -> int:
    """InVEST's soil code 1..4 of group ``"A"``..``"D"`` (or of 1..4 itself)."""
    if isinstance(group, str) and group.upper() in SOIL_GROUPS:
        return SOIL_GROUPS.index(group.upper()) + 1
    if isinstance(group, int) and not isinstance(group, bool) and 1 <= group <= 4:
        return group
    raise InvalidInput(
        f"unknown hydrologic soil group {group!r}", hint="use A, B, C or D (or 1..4)"
    )


def curve_number_lookup(table: LandCoverTable) -> np.ndarray:
    """A 256 × 5 float32 look-up: row = class code, column = soil code 1..4 (0 and unknown NaN)."""
    lookup = np.full((256, 5), np.nan, dtype="float32")
    for cls in table:
        for i, group in enumerate(SOIL_GROUPS, start=1):
            lookup[cls.code, i] = cls.curve_number.for_soil_group(group)
    return lookup


def curve_numbers(
    classes: np.ndarray, table: LandCoverTable, soil_group: str | int | np.ndarray
) -> np.ndarray:
    """The CN of every cell from its land-cover class code and hydrologic soil group.

    ``soil_group`` is one group for the whole grid (``"A"``..``"D"``) or an array of soil codes
    1..4 (0 = unknown). Cells of class 0 (no data), of a code not in the table, or of an unknown
    soil get NaN.
    """
    lookup = curve_number_lookup(table)
    codes = np.asarray(classes).astype("int64", copy=False)
    if codes.size and (codes.min() < 0 or codes.max() > 255):
        raise InvalidInput("land-cover codes must be 0..255", hint="pass the landcover layer")
    if isinstance(soil_group, np.ndarray):
        soil = soil_group.astype("int64", copy=False)
        if soil.shape != codes.shape:
            raise InvalidInput(
                f"soil groups {soil.shape} and land cover {codes.shape} differ in shape",
                hint="put both on the same grid",
            )
        soil = np.where((soil >= 1) & (soil <= 4), soil, 0)
    else:
        soil = np.full(codes.shape, soil_group_code(soil_group), dtype="int64")
    return lookup[codes, soil]


def max_retention_mm(cn: np.ndarray) -> np.ndarray:
    """S = 25400/CN − 254 (mm), float32; CN = 0 gives 100000 as in InVEST, NaN stays NaN."""
    cn32 = np.asarray(cn, dtype="float32")
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (np.float32(25400) / cn32 - np.float32(254)).astype("float32")
    s[cn32 == 0] = S_MAX_CN_ZERO
    return s


def runoff_mm(rain_mm: float, cn: np.ndarray) -> np.ndarray:
    """Direct runoff Q (mm) of a storm of ``rain_mm`` on cells of curve number ``cn``."""
    if not rain_mm > 0:
        raise InvalidInput(f"rain depth {rain_mm} mm is not > 0", hint="give a depth in mm > 0")
    s = max_retention_mm(cn)
    p = float(rain_mm)
    with np.errstate(invalid="ignore"):
        q = ((p - LAMBDA * s) ** 2 / (p + (1 - LAMBDA) * s)).astype("float32")
        q[p <= LAMBDA * s] = 0
    return q


def retention_mm(rain_mm: float, cn: np.ndarray) -> np.ndarray:
    """Rain kept by the surface (mm): P − Q."""
    return (np.float32(rain_mm) - runoff_mm(rain_mm, cn)).astype("float32")


def retention_index(rain_mm: float, cn: np.ndarray) -> np.ndarray:
    """Share of the storm kept, 1 − Q/P (0..1)."""
    return (1 - runoff_mm(rain_mm, cn) / float(rain_mm)).astype("float32")


def volume_m3(depth_mm: np.ndarray, cell_area_m2: float) -> np.ndarray:
    """A depth per cell (mm) as a volume per cell (m³)."""
    return (np.asarray(depth_mm, dtype="float32") * float(cell_area_m2) * 0.001).astype("float32")


def urban_flood(
    lulc: np.ndarray,
    soil: np.ndarray,
    cn_table: Mapping[int, tuple[float, float, float, float]],
    rain_mm: float,
    cell_area_m2: float,
    lulc_nodata: float | None = None,
    soil_nodata: float | None = None,
) -> dict[str, np.ndarray]:
    """InVEST 3.20 Urban Flood Risk Mitigation's per-pixel rasters on aligned arrays.

    ``cn_table`` maps lucode → (CN_A, CN_B, CN_C, CN_D). Raises InvalidInput naming the
    land-cover codes without a row and the soil values outside 1..4 (InVEST raises ValueError).
    Returns float32 arrays ``cn_raster``, ``s_max``, ``Q_mm``, ``Runoff_retention_index``,
    ``Runoff_retention_m3`` and ``Q_m3`` with InVEST's nodata values.
    """
    if not rain_mm > 0:
        raise InvalidInput(f"rainfall depth {rain_mm} is not > 0", hint="give a depth in mm > 0")
    valid = np.ones(lulc.shape, dtype=bool)
    if lulc_nodata is not None:
        valid &= ~_equals_nodata(lulc, lulc_nodata)
    if soil_nodata is not None:
        valid &= ~_equals_nodata(soil, soil_nodata)
    codes = lulc[valid].astype("int64")
    missing = sorted(set(np.unique(codes).tolist()) - set(cn_table))
    if missing:
        raise InvalidInput(
            f"the curve number table has no row for lucode(s) {missing}",
            hint="add a row with cn_a..cn_d for every land-cover code in the raster",
        )
    soil_codes = soil[valid].astype("int64")
    bad = sorted(set(np.unique(soil_codes).tolist()) - {1, 2, 3, 4})
    if bad:
        raise InvalidInput(
            f"the soil group raster holds values {bad[:10]} other than 1, 2, 3, 4",
            hint="code hydrologic soil groups A..D as 1..4 (or set the other values as nodata)",
        )
    lookup = {code: np.asarray(row, dtype="float64") for code, row in cn_table.items()}
    table = np.zeros((max([0, *lookup]) + 1, 4), dtype="float64")
    for code, row in lookup.items():
        table[code] = row
    cn = np.full(lulc.shape, CN_NODATA, dtype="float32")
    cn[valid] = table[codes, soil_codes - 1]
    s_max = np.full(lulc.shape, S_MAX_NODATA, dtype="float32")
    ok = valid & (cn != 0)
    s_max[ok] = 25400 / cn[ok] - 254
    s_max[valid & (cn == 0)] = S_MAX_CN_ZERO
    p = float(rain_mm)
    q = np.full(lulc.shape, Q_NODATA, dtype="float32")
    zero = p <= LAMBDA * s_max
    flowing = valid & ~zero
    q[flowing] = (p - LAMBDA * s_max[flowing]) ** 2 / (p + (1 - LAMBDA) * s_max[flowing])
    q[zero & valid] = 0
    index = np.full(lulc.shape, RETENTION_NODATA, dtype="float32")
    index[valid] = 1 - (q[valid] / p)
    kept = np.full(lulc.shape, RETENTION_NODATA, dtype="float32")
    kept[valid] = index[valid] * p * float(cell_area_m2) * 1e-3
    q_m3 = np.full(lulc.shape, Q_M3_NODATA, dtype="float32")
    q_m3[valid] = q[valid] * float(cell_area_m2) * 0.001
    return {
        "cn_raster": cn,
        "s_max": s_max,
        "Q_mm": q,
        "Runoff_retention_index": index,
        "Runoff_retention_m3": kept,
        "Q_m3": q_m3,
    }


def _equals_nodata(array: np.ndarray, nodata: float) -> np.ndarray:
    """pygeoprocessing's array_equals_nodata: NaN-aware, isclose for floats."""
    if np.isnan(nodata):
        return np.isnan(array)
    if np.issubdtype(array.dtype, np.integer):
        return np.asarray(array == nodata)
    return np.isclose(array, nodata, equal_nan=True)
