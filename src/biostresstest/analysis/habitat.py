"""Habitat Quality on the harmonised land cover: the threats come from the classes themselves.

The land-cover classes carry habitat suitability and sensitivity per threat; the threat table
says which classes make each threat, how far it reaches and how much it weighs. The computation
is InVEST 3.20's own (:mod:`biostresstest.analysis.habitat_quality`), so a cell's degradation
and quality are what natcap.invest would give on the same rasters and tables.
"""

from __future__ import annotations

from typing import cast

import dask.array as da
import numpy as np

from biostresstest.analysis.habitat_quality import (
    DEG_NODATA,
    ClassTable,
    Decay,
    ThreatSpec,
    classify,
    degradation,
    habitat_of,
    quality,
)
from biostresstest.analysis.hq_kernels import distance_cap
from biostresstest.model.landcover import LandCoverTable
from biostresstest.model.threats import ThreatTable

CHUNK_CELLS = 2048
"""Edge of the square blocks a large grid is computed in (see :func:`habitat_quality`)."""
WHOLE_GRID_MAX_CELLS = 4096 * 4096
"""Grids up to this many cells are computed in one piece."""


def habitat_quality(
    classes: np.ndarray,
    table: LandCoverTable,
    threats: ThreatTable,
    cell_size: float,
    chunk: int | None = None,
    sensitivity_classes: np.ndarray | None = None,
    suitability: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Degradation and quality per cell (float32, NaN where a cell has no class).

    The threats always come from ``classes``. A coarse land cover, whose cells are fractions of
    classes, gives the class whose sensitivity a cell has in ``sensitivity_classes`` and its
    habitat suitability (0..1, the fraction-weighted suitability) in ``suitability``; both
    default to the cell's own class, as in InVEST.

    A grid larger than :data:`WHOLE_GRID_MAX_CELLS` (or any grid when ``chunk`` is given) is
    computed in blocks with dask, each with a halo as wide as the longest threat distance; the
    distance to the nearest threat cell is exact within that reach, so the result is identical
    to the whole-grid run (a test checks it bit for bit).
    """
    class_table, codes = _class_table(table, threats)
    sensitive = classes if sensitivity_classes is None else sensitivity_classes
    if chunk is None and classes.size > WHOLE_GRID_MAX_CELLS:
        chunk = CHUNK_CELLS
    if chunk is None:
        deg = _degradation(classes, sensitive, class_table, codes, table, threats, cell_size)
    else:
        halo = max(distance_cap(t.max_dist_m / cell_size) for t in threats.threats) + 1
        deg = da.map_overlap(
            _degradation,
            da.from_array(classes, chunks=chunk),
            da.from_array(sensitive, chunks=chunk),
            depth=halo,
            boundary="none",
            dtype=np.float32,
            class_table=class_table,
            codes=codes,
            table=table,
            threats=threats,
            cell_size=cell_size,
        ).compute(scheduler="threads")
    index, _ = classify(sensitive, codes, nodata=0)
    habitat = habitat_of(index, class_table)
    if suitability is not None:
        habitat = np.where(np.isnan(habitat), np.nan, suitability).astype(np.float32)
    qual = quality(deg, habitat, threats.half_saturation)
    for array in (deg, qual):
        array[array == np.float32(DEG_NODATA)] = np.nan
    return {
        "degradation": deg,
        "habitat_quality": qual,
        "vulnerability": vulnerability(deg, habitat, threats.half_saturation),
    }


def vulnerability(deg: np.ndarray, habitat: np.ndarray, k: float) -> np.ndarray:
    """Pressure × sensitivity, in the form of the DPRA stress test (0 none … 1 highest).

    Pressure is the degradation through the same half-saturation curve as quality,
    ``D^z / (D^z + k^z)`` (0 without threats, ½ at D = k); sensitivity is what there is to lose,
    the habitat suitability of the class. So a sealed cell (nothing to lose) and an untouched
    wood (no pressure) are not vulnerable, a wood along a motorway is. Equal to ``H − Q``.
    """
    d = deg.astype(np.float64)
    pressure = d**2.5 / (d**2.5 + k**2.5)
    with np.errstate(invalid="ignore"):
        result = (pressure * habitat).astype(np.float32)
    result[np.isnan(d)] = np.nan
    return result


def _degradation(
    classes: np.ndarray,
    sensitive: np.ndarray,
    class_table: ClassTable,
    codes: np.ndarray,
    table: LandCoverTable,
    threats: ThreatTable,
    cell_size: float,
) -> np.ndarray:
    """InVEST's deg_sum of one block (or the whole grid): threat cells from ``classes``, the
    sensitivity of each cell from its class in ``sensitive``."""
    index, _ = classify(sensitive, codes, nodata=0)
    specs = []
    for threat in threats.threats:
        sources = [table.by_key(key).code for key in threat.classes]
        decay = cast(Decay, threat.decay)
        spec = ThreatSpec(threat.key, threat.max_dist_m, threat.weight, decay)
        specs.append((spec, np.isin(classes, sources)))
    return degradation(index, specs, class_table, pixel_m=cell_size)


def _class_table(table: LandCoverTable, threats: ThreatTable) -> tuple[ClassTable, np.ndarray]:
    """InVEST's lookup arrays of the class table, and the sorted class codes."""
    ordered = sorted(table, key=lambda c: c.code)
    codes = np.array([c.code for c in ordered], dtype=np.int64)

    def lut(values: list[float]) -> np.ndarray:
        return np.array([*values, 0.0, 0.0], np.float64).astype(np.float32)

    class_table = ClassTable(
        codes,
        lut([c.habitat.value for c in ordered]),
        {t.key: lut([c.sensitivity[t.key] for c in ordered]) for t in threats.threats},
    )
    return class_table, codes
