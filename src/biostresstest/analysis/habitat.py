"""Habitat Quality on the harmonised land cover: the threats come from the classes themselves.

The land-cover classes carry habitat suitability and sensitivity per threat; the threat table
says which classes make each threat, how far it reaches and how much it weighs. The computation
is InVEST 3.20's own (:mod:`biostresstest.analysis.habitat_quality`), so a cell's degradation
and quality are what natcap.invest would give on the same rasters and tables.
"""

from __future__ import annotations

import numpy as np

from biostresstest.analysis.habitat_quality import (
    DEG_NODATA,
    ClassTable,
    ThreatSpec,
    classify,
    degradation,
    habitat_of,
    quality,
)
from biostresstest.analysis.spec import IndicatorSpec
from biostresstest.model.landcover import LandCoverTable
from biostresstest.model.threats import ThreatTable

SPEC = IndicatorSpec(
    id="habitat_quality",
    title_nl="Habitatkwaliteit",
    title_en="Habitat quality",
    unit="index 0–1",
    inputs=("landcover",),
    description=(
        "InVEST 3.20 Habitat Quality: habitat suitability of the class, lowered by threats "
        "(roads, rail, buildings, paving, intensive agriculture, light) within their reach."
    ),
)


def habitat_quality(
    classes: np.ndarray, table: LandCoverTable, threats: ThreatTable, cell_size: float
) -> dict[str, np.ndarray]:
    """Degradation and quality per cell (float32, NaN where a cell has no class)."""
    ordered = sorted(table, key=lambda c: c.code)
    codes = np.array([c.code for c in ordered], dtype=np.int64)

    def lut(values: list[float]) -> np.ndarray:
        return np.array([*values, 0.0, 0.0], np.float64).astype(np.float32)

    class_table = ClassTable(
        codes,
        lut([c.habitat.value for c in ordered]),
        {t.key: lut([c.sensitivity[t.key] for c in ordered]) for t in threats.threats},
    )
    index, _ = classify(classes, codes, nodata=0)
    specs = []
    for threat in threats.threats:
        sources = [table.by_key(key).code for key in threat.classes]
        spec = ThreatSpec(threat.key, threat.max_dist_m, threat.weight, threat.decay)  # type: ignore[arg-type]
        specs.append((spec, np.isin(classes, sources)))
    deg = degradation(index, specs, class_table, pixel_m=cell_size)
    qual = quality(deg, habitat_of(index, class_table), threats.half_saturation)
    for array in (deg, qual):
        array[array == np.float32(DEG_NODATA)] = np.nan
    return {"degradation": deg, "habitat_quality": qual}
