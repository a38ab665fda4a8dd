"""Surface factors: the Berlin Biotope Area Factor (BAF) and the London Urban Greening Factor.

Both weigh every surface by how much it does for nature and water (0 sealed … 1 vegetated on
open ground). Per cell: the factor of its class, or the area-weighted mean over the class
fractions of a coarser cell; per area: the area-weighted mean of the cells, which is the
factor of the area as both methods define it (Σ factor × area / total area).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from biostresstest.analysis.spec import IndicatorSpec
from biostresstest.model.landcover import LandCoverTable

FACTORS = ("baf", "ugf")

SPECS = {
    "baf": IndicatorSpec(
        id="baf",
        title_nl="Biotoopoppervlaktefactor (Berlijn)",
        title_en="Biotope Area Factor (Berlin)",
        unit="factor 0–1",
        inputs=("landcover",),
        description="Area-weighted BAF of the land-cover classes (model/data/landcover.toml).",
    ),
    "ugf": IndicatorSpec(
        id="ugf",
        title_nl="Urban Greening Factor (Londen)",
        title_en="Urban Greening Factor (London)",
        unit="factor 0–1",
        inputs=("landcover",),
        description="Area-weighted UGF of the land-cover classes (model/data/landcover.toml).",
    ),
}


def lookup(table: LandCoverTable, factor: str) -> np.ndarray:
    """A 256-long table from class code to factor (NaN for codes without a class)."""
    if factor not in FACTORS:
        raise ValueError(f"unknown surface factor {factor!r}; use one of {FACTORS}")
    values = np.full(256, np.nan, dtype="float32")
    for land_cover in table:
        values[land_cover.code] = getattr(land_cover, factor).value
    return values


def factor_of_classes(classes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The factor of every cell's class (NaN where a cell has no class)."""
    return values[classes]


def factor_of_fractions(fractions: Mapping[int, np.ndarray], values: np.ndarray) -> np.ndarray:
    """The area-weighted factor of cells given as class fractions {code: share 0..1}."""
    arrays = list(fractions.values())
    total = np.zeros_like(arrays[0], dtype="float32")
    weighted = np.zeros_like(total)
    for code, share in fractions.items():
        total += share
        weighted += share * values[code]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, weighted / total, np.nan).astype("float32")
