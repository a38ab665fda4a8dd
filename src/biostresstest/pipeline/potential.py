"""The potential step: the score after the best feasible measures, and the opportunity map.

Wiring (a run adds after its score step, before aggregation)::

    pot = potential_step(ctx, land_cover["landcover"], layers, grid, depends=scored["key"])
    layers["potential"] = pot["potential"]
    layers["opportunity"] = pot["opportunity"]

with ``RASTER_DESCRIPTIONS`` entries for both (see :data:`DESCRIPTIONS`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from biostresstest.analysis.scoring import SCORE_VERSION
from biostresstest.measures.baseline import COARSE_CLASSES, components_score
from biostresstest.measures.catalogue import load_catalogue
from biostresstest.measures.potential import potential_score
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes
from biostresstest.model.threats import load_threats
from biostresstest.pipeline.common import RunContext
from biostresstest.pipeline.steps import step_key

DESCRIPTIONS = {
    "potential": "stress-test score after the best feasible measures (potentieel) 0..1",
    "opportunity": "opportunity: potential minus current score (kansenkaart)",
}
"""Raster descriptions of the two layers, for ``pipeline.common.RASTER_DESCRIPTIONS``."""


def potential_step(
    ctx: RunContext,
    classes: np.ndarray,
    layers: dict[str, np.ndarray],
    grid: AnalysisGrid,
    depends: str,
) -> dict[str, Any]:
    """Cell layers ``potential`` and ``opportunity`` (cached like the other steps).

    ``layers`` must hold ``habitat_quality``, ``baf``, ``distance_to_core``,
    ``natura2000_share`` and ``score`` (the score only says where the area is), and
    ``green_share`` for a coarse land cover.
    """
    table = load_classes()
    key = step_key(
        "potential",
        depends=depends,
        measures=load_catalogue().digest,
        classes=table.digest,
        threats=load_threats().digest,
        v=SCORE_VERSION,
    )

    def compute() -> dict[str, np.ndarray]:
        current = components_score(
            layers["habitat_quality"], layers["baf"], layers["distance_to_core"], layers["score"]
        )
        present = {int(c) for c in np.bincount(classes.ravel(), minlength=256).nonzero()[0]}
        coarse = present - {0} <= {table.by_key(k).code for k in COARSE_CLASSES}
        return potential_score(
            classes,
            layers["baf"],
            layers["natura2000_share"],
            current,
            grid,
            green_share=layers["green_share"] if coarse else None,
        )

    return {"key": key, **ctx.cache.arrays("potential", key, compute)}
