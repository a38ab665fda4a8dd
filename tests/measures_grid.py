"""A small synthetic area published into a real embedded store, for the measures tests.

The layers are computed with the same functions as a run (InVEST HQ, BAF look-up, patches,
core and distance, score v2), so a scenario recomputed in a window can be checked against a
full recomputation of the changed land cover.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely.geometry import box

from biostresstest.analysis import robustness
from biostresstest.analysis.habitat import habitat_quality
from biostresstest.analysis.scoring import connectivity, score_class, stress_score
from biostresstest.analysis.surface_factor import factor_of_classes, lookup
from biostresstest.core.crs import RD_NEW
from biostresstest.model.areas import AreaLevel
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes
from biostresstest.model.store import RasterLayer, RunResult
from biostresstest.model.threats import load_threats

KEY = "synthetisch"
CELL = 10.0
ORIGIN = (150_000.0, 400_000.0)
"""Lower-left corner of the synthetic grid in RD."""


def code(key: str) -> int:
    return load_classes().by_key(key).code


def town(rows: int = 80, cols: int = 80) -> np.ndarray:
    """Farmland with a village (buildings, yards, paving), a road, a wood and a verge."""
    classes = np.full((rows, cols), code("akker"), np.uint8)
    classes[:, 38:40] = code("weg_lokaal")
    classes[:, 40:41] = code("berm")
    classes[10:40, 45:75] = code("erf")
    for r in range(12, 38, 6):
        classes[r : r + 3, 47:72:6] = code("pand")
    classes[20:26, 50:70] = code("verhard_overig")
    classes[50:75, 5:30] = code("loofbos")
    classes[45:50, 50:60] = code("gras_openbaar")
    return classes


def layers(classes: np.ndarray, grid: AnalysisGrid, n2k: np.ndarray) -> dict[str, np.ndarray]:
    """Every published layer the measures read, computed as a run computes them."""
    table = load_classes()
    hq = habitat_quality(classes, table, load_threats(), grid.cell_size)
    baf = factor_of_classes(classes, lookup(table, "baf"))
    natural = robustness.natural_mask(classes, table)
    labels, areas = robustness.patches(natural, grid)
    core = robustness.core_mask(n2k, labels, areas)
    distance = robustness.distance_to_core(core, grid)
    score = stress_score(hq["habitat_quality"], baf, connectivity(distance))
    green = np.isin(classes, [c.code for c in table if c.green]).astype(np.float32)
    return {
        "habitat_quality": hq["habitat_quality"],
        "degradation": hq["degradation"],
        "baf": baf,
        "distance_to_core": distance,
        "score": score,
        "natura2000_share": n2k,
        "green_share": green,
    }


def publish(
    root: Path,
    classes: np.ndarray,
    n2k: np.ndarray | None = None,
    key: str = KEY,
    gemeente: str | None = None,
) -> EmbeddedStore:
    """Publish the synthetic area ``key`` (lying in ``gemeente``) into an embedded store."""
    rows, cols = classes.shape
    grid = AnalysisGrid(ORIGIN[0], ORIGIN[1] + rows * CELL, cols, rows, CELL)
    n2k = np.zeros(classes.shape, np.float32) if n2k is None else n2k
    values = layers(classes, grid, n2k)
    outline = gpd.GeoDataFrame(
        {"code": [key], "name": ["Synthetisch"], "level": ["gebied"], "parent_code": [""],
         "jaar": [2026], "score": [float(np.nanmean(values["score"]))],
         "score_class": [int(score_class(np.nanmean(values["score"])))]},
        geometry=[box(*grid.bounds)],
        crs=RD_NEW,
    )  # fmt: skip
    rasters = [RasterLayer(n, a, grid, float("nan"), n) for n, a in values.items()]
    rasters += [
        RasterLayer("landcover", classes, grid, 0, "landcover"),
        RasterLayer("score_class", score_class(values["score"]), grid, 0, "score_class"),
    ]
    m2 = np.bincount(classes.ravel(), minlength=256) * grid.cell_area
    table = load_classes()
    document = {"classes": {key: {table.by_code(c).key: float(v) for c, v in enumerate(m2) if v}}}
    store = EmbeddedStore(root)
    store.publish(
        RunResult(
            key,
            {AreaLevel.GEBIED: outline},
            rasters,
            manifest={
                "key": f"synthetic-{classes.sum()}-{n2k.sum()}",
                "grid": {"cell_size": CELL},
                "parameters": {"area": {"gemeente": gemeente or ""}},
            },
            documents={"landcover": document},
        )
    )
    return store


def grid_of(classes: np.ndarray) -> AnalysisGrid:
    rows, cols = classes.shape
    return AnalysisGrid(ORIGIN[0], ORIGIN[1] + rows * CELL, cols, rows, CELL)


def square(grid: AnalysisGrid, row: int, col: int, cells: int, cells_w: int | None = None) -> str:
    """WKT of the block of cells starting at (row, col)."""
    w = cells if cells_w is None else cells_w
    x0 = grid.xmin + col * grid.cell_size
    y1 = grid.ymax - row * grid.cell_size
    x1, y0 = x0 + w * grid.cell_size, y1 - cells * grid.cell_size
    return f"POLYGON(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"
