"""The stress-test score and its 7 fixed classes (dark red 1 → dark green 7).

Score v2, per cell, a weighted geometric mean of three components in 0..1 (methods.md §d.2)::

    score = Q^0.5 · F^0.25 · C^0.25

- Q, habitat quality: InVEST 3.20 Habitat Quality on the land cover (suitability lowered by
  threats within their reach);
- F, surface factor: the Berlin Biotope Area Factor of the land cover;
- C, connectivity: exp(−d / 1000 m) with d the distance to core habitat (Natura 2000 or a large
  natural patch), 1 inside core habitat, 0.37 at 1 km, 0.05 at 3 km.

A geometric mean lets no component hide behind the others: a cell with no habitat, or one that is
fully sealed, scores 0 whatever its neighbourhood. Habitat quality weighs half because it already
holds the pressure; the surface factor and connectivity weigh a quarter each. The classes have
**absolute** thresholds, the same for every gemeente and every scenario, so maps stay comparable
across places and years (never quantiles):

    class  1      2      3      4      5      6      7
    score  <1/7  <2/7   <3/7   <4/7   <5/7   <6/7   ≥6/7
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCORE_VERSION = "v2"
WEIGHTS = {"habitat_quality": 0.5, "surface_factor": 0.25, "connectivity": 0.25}
"""Exponents of the weighted geometric mean; they sum to 1."""
COMPONENT_LAYERS = {
    "habitat_quality": "habitat_quality",
    "surface_factor": "baf",
    "connectivity": "connectivity",
}
"""The published cell layer of each component."""
FORMULA = " · ".join(f"{COMPONENT_LAYERS[k]}^{w:g}" for k, w in WEIGHTS.items())
"""The score formula in words, for explanations and manifests."""
CONNECTIVITY_SCALE_M = 1000.0
"""Distance to core habitat at which connectivity has fallen to 1/e."""
CLASS_BOUNDS: tuple[float, ...] = tuple(k / 7 for k in range(1, 7))
"""Lower bounds of classes 2..7."""
NO_CLASS = 0
"""Class value of cells without a score (outside the data)."""


@dataclass(frozen=True)
class ScoreClass:
    """One of the 7 classes of the legend."""

    value: int
    colour: str
    label_nl: str
    label_en: str
    lower: float
    upper: float


_COLOURS = ("#8b0020", "#d73027", "#fc8d59", "#ffffbf", "#91cf60", "#1a9850", "#00522a")
"""Dark red → dark green, chosen so that neighbouring classes stay apart (CAM02-UCS ΔE ≥ 19)
also for deuteranopia, protanopia and tritanopia (tests/test_accessibility.py checks it)."""
_LABELS_NL = (
    "zeer kwetsbaar",
    "kwetsbaar",
    "matig kwetsbaar",
    "gemiddeld",
    "matig robuust",
    "robuust",
    "zeer robuust",
)
_LABELS_EN = (
    "very vulnerable",
    "vulnerable",
    "somewhat vulnerable",
    "average",
    "somewhat robust",
    "robust",
    "very robust",
)
_EDGES = (0.0, *CLASS_BOUNDS, 1.0)

SCORE_CLASSES: tuple[ScoreClass, ...] = tuple(
    ScoreClass(i + 1, _COLOURS[i], _LABELS_NL[i], _LABELS_EN[i], _EDGES[i], _EDGES[i + 1])
    for i in range(7)
)


def connectivity(distance_to_core: np.ndarray) -> np.ndarray:
    """Connectivity 0..1 per cell from the distance to core habitat in metres (NaN stays NaN)."""
    distance = np.asarray(distance_to_core, dtype="float32")
    return np.exp(-distance / np.float32(CONNECTIVITY_SCALE_M)).astype("float32")


def stress_score(
    habitat_quality: np.ndarray, surface_factor: np.ndarray, connectivity: np.ndarray
) -> np.ndarray:
    """Score 0..1 per cell: the weighted geometric mean of the components; NaN if one is NaN."""
    score = np.ones(np.shape(habitat_quality), dtype="float32")
    for values, weight in (
        (habitat_quality, WEIGHTS["habitat_quality"]),
        (surface_factor, WEIGHTS["surface_factor"]),
        (connectivity, WEIGHTS["connectivity"]),
    ):
        component = np.clip(np.asarray(values, dtype="float32"), 0.0, 1.0)
        score *= np.power(component, np.float32(weight))
    return score


def score_class(score: np.ndarray | float) -> np.ndarray:
    """Class 1..7 of each score (0 where the score is NaN), as uint8.

    Counted bound by bound in uint8 (2 bytes per cell at most besides the input), not through
    ``np.digitize`` whose int64 result costs 8 bytes per cell on a national grid.
    """
    values = np.asarray(score)
    classes = (~np.isnan(values)).astype("uint8")
    for bound in CLASS_BOUNDS:
        classes += values >= np.asarray(bound, dtype=values.dtype)
    return classes
