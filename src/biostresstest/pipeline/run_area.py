"""``run --area``: a study area (a named square or a bounding box) from the BGT, at 1 m.

Steps: fetch → land cover (BGT read, classified, burnt onto the grid, with confidence) → green
share from the classes → Natura 2000 share → score → aggregation → publish, with the verges,
forests, water, erf, hedges and trees as feature layers of their own.
"""

from __future__ import annotations

import time
from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry import box

from biostresstest.analysis import robustness
from biostresstest.analysis.landcover import (
    LandCoverLayer,
    class_fractions,
    merge_land_cover,
    rasterize_land_cover,
    share_of,
)
from biostresstest.analysis.surface_factor import (
    FACTORS,
    factor_of_classes,
    factor_of_fractions,
    lookup,
)
from biostresstest.core.crs import RD_NEW
from biostresstest.core.errors import CorruptInput
from biostresstest.core.settings import Settings
from biostresstest.model.areas import AreaLevel
from biostresstest.model.confidence import Confidence
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes
from biostresstest.model.local_data import LocalCoverLayer, local_cover
from biostresstest.model.store import RunResult, Store
from biostresstest.model.study_area import StudyArea
from biostresstest.pipeline.co_benefits import (
    DESCRIPTIONS,
    POTENTIAL_LAYERS,
    co_benefit_steps,
    with_area_columns,
)
from biostresstest.pipeline.common import (
    ProgressCallback,
    RunContext,
    RunSummary,
    aggregate_step,
    grid_part,
    habitat_step,
    manifest,
    natura2000_step,
    publish_step,
    raster_layers,
    robustness_step,
    score_step,
    with_robustness,
)
from biostresstest.pipeline.potential import opportunities_document, potential_step
from biostresstest.pipeline.steps import step_key
from biostresstest.sources import bgt, knmi, natura2000
from biostresstest.sources.base import FetchedFile, fetch
from biostresstest.sources.bgt_labels import LABEL_LAYER, read_street_names

STEPS = (
    "fetch",
    "landcover",
    "green",
    "habitat",
    "natura2000",
    "robustness",
    "score",
    "potential",
    "heat",
    "water",
    "3-30-300",
    "koppelkansen",
    "aggregate",
    "publish",
)
"""The steps of a study-area run, in order."""

FEATURE_LAYERS = {
    "bermen": ("berm",),
    "bos": ("loofbos", "naaldbos", "gemengd_bos"),
    "water": ("water_stilstaand", "water_stromend", "sloot", "oever"),
    "erf": ("erf",),
    "panden": ("pand",),
}
"""Land-cover classes kept as feature layers of their own (the mission names them)."""
FINE_CELL = 1.0
"""Metres: the BGT is always burnt at this resolution."""


def run_area(
    area: StudyArea,
    settings: Settings,
    store: Store | None = None,
    progress: ProgressCallback | None = None,
) -> RunSummary:
    """Compute and publish the stress test of a study area from the BGT."""
    ctx = RunContext.create(settings, store, progress)
    ctx.progress("fetch")
    started = time.perf_counter()
    bgt_file = fetch(
        bgt.SPEC,
        settings,
        bounds=",".join(f"{v:.0f}" for v in area.bounds),
        featuretypes=",".join((*bgt.LAND_COVER_LAYERS, LABEL_LAYER)),
    )
    files = {
        "bgt": bgt_file,
        "natura2000": fetch(natura2000.SPEC, settings),
        "weather": fetch(knmi.SPEC, settings),
    }
    ctx.fetched(started)
    grid = AnalysisGrid.covering(area.bounds, area.cell_size)
    outline = _outline(area)

    ctx.progress("landcover")
    local = local_cover(settings, area.gemeente)
    lc_key = step_key(
        "landcover",
        grid=grid_part(grid),
        bgt=files["bgt"].sha256,
        classes=load_classes().digest,
        features=[*sorted(FEATURE_LAYERS), "straatnamen"],
        local=local.key,
    )
    land_cover, features = ctx.cache.arrays_and_frames(
        "landcover",
        lc_key,
        lambda: _land_cover(files["bgt"], grid, local.layers()),
    )

    ctx.progress("green")
    green = land_cover["green_share"]

    ctx.progress("habitat")
    habitat = habitat_step(ctx, land_cover["landcover"], grid, depends=lc_key)

    ctx.progress("natura2000")
    n2k = natura2000_step(ctx, files["natura2000"], grid)

    ctx.progress("robustness")
    robust = robustness_step(
        ctx,
        robustness.natural_mask(land_cover["landcover"], load_classes()),
        n2k["natura2000_share"],
        {AreaLevel.GEBIED.value: outline},
        grid,
        depends=f"{lc_key}-{n2k['key']}",
        barrier=robustness.barrier_cells(land_cover["landcover"], load_classes(), grid.cell_size),
    )

    ctx.progress("score")
    scored = score_step(
        ctx,
        {
            "habitat_quality": habitat["habitat_quality"],
            "baf": land_cover["baf"],
            "distance_to_core": robust["distance_to_core"],
        },
        outline,
        grid,
        depends=f"{habitat['key']}-{lc_key}-{robust['key']}",
    )
    layers = {
        "green_share": green,
        "natura2000_share": n2k["natura2000_share"],
        "score": scored["score"],
        "baf": land_cover["baf"],
        "ugf": land_cover["ugf"],
        "habitat_quality": habitat["habitat_quality"],
        "degradation": habitat["degradation"],
        "vulnerability": habitat["vulnerability"],
        "distance_to_core": robust["distance_to_core"],
        "connectivity": scored["connectivity"],
    }
    ctx.progress("potential")
    pot = potential_step(ctx, land_cover["landcover"], layers, grid, depends=scored["key"])
    layers |= {name: pot[name] for name in POTENTIAL_LAYERS}
    co = co_benefit_steps(
        ctx,
        land_cover["landcover"],
        grid,
        {AreaLevel.GEBIED.value: outline},
        scored["score"],
        files["weather"],
        scored["key"],
        trees=features["bomen"],
        homes=features["panden"],
    )
    layers |= co.layers

    ctx.progress("aggregate")
    agg_key, aggregated = aggregate_step(
        ctx,
        {AreaLevel.GEBIED.value: outline},
        layers,
        grid,
        depends=f"{scored['key']}-{pot['key']}-{co.key}",
    )

    aggregated = with_area_columns(with_robustness(aggregated, robust), co.area_columns)

    ctx.progress("publish")
    final_key = step_key("publish", area=area.key, aggregate=agg_key, landcover=lc_key)
    result = RunResult(
        gemeente=area.key,
        areas={AreaLevel.GEBIED: aggregated[AreaLevel.GEBIED.value]},
        rasters=raster_layers(
            layers,
            {
                "score_class": scored["score_class"],
                "landcover": land_cover["landcover"],
                "confidence": land_cover["confidence"],
                **co.classes,
            },
            grid,
            DESCRIPTIONS,
        ),
        manifest=manifest(
            area.key, files, grid, ctx.log, final_key, {"area": area.__dict__, **co.parameters}
        ),
        features=features,
        documents={
            "landcover": _landcover_document(
                area.key, land_cover["class_m2"], land_cover["confidence_m2"]
            ),
            "opportunities": opportunities_document(
                {AreaLevel.GEBIED.value: outline}, layers, grid, land_cover["landcover"]
            ),
            **co.documents,
        },
    )
    return publish_step(ctx, result, area.name)


def _outline(area: StudyArea) -> gpd.GeoDataFrame:
    """The study area as the one area unit of its run (level ``gebied``)."""
    return gpd.GeoDataFrame(
        {
            "code": [area.key],
            "name": [area.name],
            "level": [AreaLevel.GEBIED.value],
            "parent_code": [area.gemeente],
            "jaar": [int(bgt.SPEC.date[:4])],
        },
        geometry=[box(*area.bounds)],
        crs=RD_NEW,
    )


def _land_cover(
    file: FetchedFile, grid: AnalysisGrid, local: list[LocalCoverLayer] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, gpd.GeoDataFrame]]:
    """Land cover on the grid from the BGT and the gemeente's own data, and the feature layers.

    The BGT is always burnt at 1 m; a coarser analysis grid gets area-true class fractions of
    those 1 m cells: its green share is the green part of each cell, its class the largest.
    The gemeente's own layers (``local``) are merged by confidence: they decide where they lie.
    """
    read = bgt.read_land_cover(file)
    table = load_classes()
    frame = box(*grid.bounds)
    polygons = read.polygons[read.polygons.intersects(frame)].copy()
    if polygons.empty:
        raise CorruptInput(
            f"source 'bgt', file {file.path} has no objects in {grid.bounds}",
            hint="the BGT copy covers another area; pick an area inside it",
        )
    polygons["code"] = [table.by_key(key).code for key in polygons["class_key"]]
    lines = read.lines[read.lines.intersects(frame)].copy()
    lines["code"] = [table.by_key(key).code for key in lines["class_key"]]
    fine = AnalysisGrid.covering(grid.bounds, FINE_CELL)
    layer = LandCoverLayer(rasterize_land_cover(polygons, fine, lines), Confidence.NATIONAL_VECTOR)
    own = [LandCoverLayer(one.classes_on(fine), one.confidence) for one in local or []]
    classes, confidence = merge_land_cover([layer, *own])
    arrays = _on_analysis_grid(classes, confidence, round(grid.cell_size / FINE_CELL))
    arrays["class_m2"] = np.bincount(classes.ravel(), minlength=256) * fine.cell_area
    arrays["confidence_m2"] = np.bincount(confidence.ravel(), minlength=256) * fine.cell_area
    columns = [
        "layer",
        "lokaal_id",
        "bronhouder",
        "class_key",
        "fysiek",
        "functie",
        "type",
        "plus",
        "geometry",
    ]
    features = {
        name: polygons.loc[polygons["class_key"].isin(keys), columns].reset_index(drop=True)
        for name, keys in FEATURE_LAYERS.items()
    }
    features["hagen"] = lines[columns].reset_index(drop=True)
    features["bomen"] = read.trees[read.trees.intersects(frame)].reset_index(drop=True)
    names = read_street_names(file)  # street names for the search (empty without labels)
    names = names[names.within(frame)].reset_index(drop=True)
    if not names.empty:
        features["straatnamen"] = names
    return arrays, features


def _on_analysis_grid(
    classes: np.ndarray, confidence: np.ndarray, factor: int
) -> dict[str, np.ndarray]:
    """Class, confidence and green share per analysis cell from the 1 m cells."""
    table = load_classes()
    green_codes = [c.code for c in table if c.green]
    factors = {name: lookup(table, name) for name in FACTORS}
    if factor == 1:
        return {
            "landcover": classes,
            "confidence": confidence,
            "green_share": share_of(classes, green_codes),
            **{name: factor_of_classes(classes, values) for name, values in factors.items()},
        }
    codes = sorted(int(c) for c in np.unique(classes) if c)
    fractions = class_fractions(classes, factor, codes)
    covered = fractions.sum(axis=0)
    green = fractions[[i for i, c in enumerate(codes) if c in green_codes]].sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        green_share = np.where(covered > 0, green / covered, np.nan).astype("float32")
    dominant = np.asarray(codes, dtype="uint8")[fractions.argmax(axis=0)]
    levels = sorted(int(c) for c in np.unique(confidence) if c)
    level_fractions = class_fractions(confidence, factor, levels)
    # the level that decided most of the cell (the gemeente's own data where it covers most)
    level = np.asarray(levels, dtype="uint8")[level_fractions.argmax(axis=0)]
    by_code = dict(zip(codes, fractions, strict=True))
    return {
        **{name: factor_of_fractions(by_code, values) for name, values in factors.items()},
        "landcover": np.where(covered > 0, dominant, 0).astype("uint8"),
        "confidence": np.where(covered > 0, level, 0).astype("uint8"),
        "green_share": green_share,
    }


def _landcover_document(
    key: str, class_m2: np.ndarray, confidence_m2: np.ndarray
) -> dict[str, Any]:
    table = load_classes()
    return {
        "classes": {
            key: {
                table.by_code(code).key: float(m2)
                for code, m2 in enumerate(class_m2)
                if m2 and code
            }
        },
        "confidence": {
            key: {
                Confidence(level).name: float(m2)
                for level, m2 in enumerate(confidence_m2)
                if m2 and level <= max(Confidence)
            }
        },
        "method": "bgt (1 m)",
    }
