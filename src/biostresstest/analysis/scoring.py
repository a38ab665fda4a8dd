"""The stress-test score and its 7 fixed classes (dark red 1 → dark green 7).

First score (v1), per cell::

    score = 0.85 · green_share + 0.15 · natura2000_share

Green is the basis; lying in a Natura 2000 site adds the last 15 %, so only protected green
reaches the top class. The classes have **absolute** thresholds, the same for every gemeente and
every scenario, so maps stay comparable across places and years (never quantiles):

    class  1      2      3      4      5      6      7
    score  <1/7  <2/7   <3/7   <4/7   <5/7   <6/7   ≥6/7
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCORE_VERSION = "v1"
WEIGHTS = {"green_share": 0.85, "natura2000_share": 0.15}
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


_COLOURS = ("#a50026", "#d73027", "#f46d43", "#fee08b", "#a6d96a", "#1a9850", "#006837")
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


def stress_score(green_share: np.ndarray, natura2000_share: np.ndarray) -> np.ndarray:
    """Score 0..1 per cell; NaN where the green share is unknown."""
    score = WEIGHTS["green_share"] * green_share + WEIGHTS["natura2000_share"] * natura2000_share
    return np.clip(score, 0.0, 1.0).astype("float32")


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
