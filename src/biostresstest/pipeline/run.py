"""``run --gemeente``: one gemeente from its open sources to published results.

Steps: fetch the sources → area units → green share (and the coarse land cover it implies) →
Natura 2000 share → score → area aggregation → publish. Every step is cached on its inputs, so a
re-run with unchanged inputs redoes nothing, and a run whose final key equals the published one
does not publish again.
"""

from __future__ import annotations

import time
from typing import Any

import geopandas as gpd
import numpy as np

from biostresstest.analysis import robustness
from biostresstest.analysis.surface_factor import FACTORS, factor_of_fractions, lookup
from biostresstest.core.crs import DEFAULT_CELL_SIZE
from biostresstest.core.settings import Settings
from biostresstest.model.areas import AreaLevel, normalise_gemeente_code
from biostresstest.model.confidence import Confidence
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes
from biostresstest.model.local_data import LocalCoverLayer, local_cover
from biostresstest.model.store import RunResult, Store
from biostresstest.pipeline.areas import area_units
from biostresstest.pipeline.co_benefits import (
    DESCRIPTIONS,
    POTENTIAL_LAYERS,
    co_benefit_steps,
    with_area_columns,
)
from biostresstest.pipeline.common import (
    INDICATOR_LAYERS,
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
from biostresstest.sources import (
    cbs_gemeenten,
    cbs_wijkenbuurten,
    knmi,
    natura2000,
    rivm_groenkaart,
)
from biostresstest.sources.base import FetchedFile, fetch

__all__ = ["INDICATOR_LAYERS", "STEPS", "RunSummary", "run_gemeente"]

STEPS = (
    "fetch",
    "areas",
    "green",
    "natura2000",
    "habitat",
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
"""The steps of a gemeente run, in order (the progress bar counts these)."""

VEGETATED_AND_BARE = ("begroeid_onbepaald", "onbegroeid_onbepaald")
"""The two classes of the coarse land cover the Groenkaart gives."""
NATURAL_CLASSES = (
    "loofbos",
    "naaldbos",
    "gemengd_bos",
    "kruidenrijk",
    "heide",
    "riet_moeras",
    "oever",
)
"""Near-natural classes of the class table: green in a Natura 2000 site is one of these."""
GREEN_MAJORITY = 0.5
"""A Groenkaart cell counts as vegetated land cover when at least half of it is green."""


def run_gemeente(
    code: str,
    settings: Settings,
    store: Store | None = None,
    progress: ProgressCallback | None = None,
    cell_size: float = DEFAULT_CELL_SIZE,
) -> RunSummary:
    """Compute and publish the stress test of gemeente ``code``."""
    code = normalise_gemeente_code(code)
    ctx = RunContext.create(settings, store, progress)
    ctx.progress("fetch")
    gemeente_row, files = _fetch_sources(ctx, code)
    name = str(gemeente_row.iloc[0]["name"])

    ctx.progress("areas")
    areas_key = step_key(
        "areas", gemeente=code, gemeenten=files["gemeenten"].sha256, buurten=files["buurten"].sha256
    )
    areas = ctx.cache.frames(
        "areas",
        areas_key,
        lambda: area_units(gemeente_row, cbs_wijkenbuurten.read_buurten(files["buurten"], code)),
    )
    grid = AnalysisGrid.covering(tuple(areas["gemeente"].total_bounds), cell_size)

    ctx.progress("green")
    local = local_cover(ctx.settings, code)
    green_key = step_key(
        "green",
        grid=grid_part(grid),
        groenkaart=files["groenkaart"].sha256,
        classes=load_classes().digest,
        local=local.key,
    )
    green = ctx.cache.arrays(
        "green",
        green_key,
        lambda: _green(files["groenkaart"], grid, local.layers()),
    )

    ctx.progress("natura2000")
    n2k = natura2000_step(ctx, files["natura2000"], grid)

    ctx.progress("habitat")
    habitat = habitat_step(
        ctx,
        green["landcover"],
        grid,
        depends=f"{green_key}-{n2k['key']}",
        coarse=coarse_habitat(green["landcover"], green["green_share"], n2k["natura2000_share"]),
    )

    ctx.progress("robustness")
    robust = robustness_step(
        ctx,
        robustness.natural_mask_from_share(green["green_share"]),
        n2k["natura2000_share"],
        areas,
        grid,
        depends=f"{green_key}-{n2k['key']}-{areas_key}",
    )

    ctx.progress("score")
    scored = score_step(
        ctx,
        {
            "habitat_quality": habitat["habitat_quality"],
            "baf": green["baf"],
            "distance_to_core": robust["distance_to_core"],
        },
        areas["gemeente"],
        grid,
        depends=f"{habitat['key']}-{green_key}-{robust['key']}",
    )
    layers = {
        "green_share": green["green_share"],
        "groenkaart_nodata_share": green["groenkaart_nodata_share"],
        "natura2000_share": n2k["natura2000_share"],
        "score": scored["score"],
        "baf": green["baf"],
        "ugf": green["ugf"],
        "habitat_quality": habitat["habitat_quality"],
        "degradation": habitat["degradation"],
        "vulnerability": habitat["vulnerability"],
        "distance_to_core": robust["distance_to_core"],
        "connectivity": scored["connectivity"],
    }
    ctx.progress("potential")
    pot = potential_step(ctx, green["landcover"], layers, grid, depends=scored["key"])
    layers |= {name: pot[name] for name in POTENTIAL_LAYERS}
    vegetated, bare = (load_classes().by_key(k).code for k in VEGETATED_AND_BARE)
    co = co_benefit_steps(
        ctx,
        green["landcover"],
        grid,
        areas,
        scored["score"],
        files["weather"],
        scored["key"],
        fractions={vegetated: green["green_share"], bare: 1 - green["green_share"]},
        buurten=cbs_wijkenbuurten.read_buurten(files["buurten"], code),
    )
    layers |= co.layers

    ctx.progress("aggregate")
    agg_key, aggregated = aggregate_step(
        ctx, areas, layers, grid, depends=f"{areas_key}-{scored['key']}-{pot['key']}-{co.key}"
    )

    aggregated = with_area_columns(with_robustness(aggregated, robust), co.area_columns)

    ctx.progress("publish")
    final_key = step_key("publish", aggregate=agg_key, landcover="rivm-v1")
    result = RunResult(
        gemeente=code,
        areas={AreaLevel(level): frame for level, frame in aggregated.items()},
        rasters=raster_layers(
            layers,
            {
                "score_class": scored["score_class"],
                "landcover": green["landcover"],
                "confidence": green["confidence"],
                **co.classes,
            },
            grid,
            DESCRIPTIONS,
        ),
        manifest=manifest(
            code,
            files,
            grid,
            ctx.log,
            final_key,
            {
                "groenkaart_nodata_as_green_share": 0.0,
                "green_majority": GREEN_MAJORITY,
                **co.parameters,
            },
        ),
        documents={
            "landcover": _landcover_document(aggregated),
            "opportunities": opportunities_document(areas, layers, grid, green["landcover"]),
            **co.documents,
        },
    )
    return publish_step(ctx, result, name)


def _fetch_sources(ctx: RunContext, code: str) -> tuple[gpd.GeoDataFrame, dict[str, FetchedFile]]:
    """The gemeente's row in the CBS gemeenten, and every source file of the run."""
    started = time.perf_counter()
    gemeenten_file = fetch(cbs_gemeenten.SPEC, ctx.settings)
    gemeenten = cbs_gemeenten.read_gemeenten(gemeenten_file)
    gemeente_row = cbs_gemeenten.find_gemeente(gemeenten, code)
    bbox = ",".join(f"{v:.0f}" for v in gemeente_row.total_bounds)
    files = {
        "gemeenten": gemeenten_file,
        "buurten": fetch(cbs_wijkenbuurten.SPEC, ctx.settings),
        "groenkaart": fetch(rivm_groenkaart.SPEC, ctx.settings, bbox=bbox),
        "natura2000": fetch(natura2000.SPEC, ctx.settings),
        "weather": fetch(knmi.SPEC, ctx.settings),
    }
    ctx.fetched(started)
    return gemeente_row, files


def _green(
    file: FetchedFile, grid: AnalysisGrid, local: list[LocalCoverLayer] | None = None
) -> dict[str, np.ndarray]:
    """Green share, and the coarse land cover it implies (vegetated or not, type unknown).

    The gemeente's own data (``local``: a tree register, verges, its own land cover) decides
    the class of the cells it covers, at the municipal confidence level, and their surface
    factors; the green share stays the Groenkaart's.
    """
    on_grid = rivm_groenkaart.read_green(file, grid)
    table = load_classes()
    vegetated, bare = (table.by_key(k).code for k in VEGETATED_AND_BARE)
    known = ~np.isnan(on_grid.green)
    landcover = np.zeros(grid.shape, dtype="uint8")
    landcover[known] = np.where(on_grid.green[known] >= GREEN_MAJORITY, vegetated, bare)
    confidence = np.where(known, int(Confidence.NATIONAL_RASTER), 0).astype("uint8")
    fractions = {vegetated: on_grid.green, bare: 1 - on_grid.green}
    factors = {factor: factor_of_fractions(fractions, lookup(table, factor)) for factor in FACTORS}
    for layer in local or []:
        decided = layer.classes_on(grid)
        has = decided != 0
        landcover[has] = decided[has]
        confidence[has] = int(layer.confidence)
        for factor, values in factors.items():
            values[has] = lookup(table, factor)[decided[has]]
    return {
        "green_share": on_grid.green,
        **factors,
        "groenkaart_nodata_share": on_grid.nodata_share,
        "landcover": landcover,
        "confidence": confidence,
    }


def coarse_habitat(
    landcover: np.ndarray, green_share: np.ndarray, natura2000_share: np.ndarray
) -> dict[str, np.ndarray]:
    """Sensitivity class and habitat suitability of the cells of the Groenkaart land cover.

    A Groenkaart cell is a fraction of vegetation of unknown type. Its suitability is that
    fraction times the suitability of its vegetation: inside a Natura 2000 site (designated for
    its habitats) the mean suitability of the table's natural classes (:data:`NATURAL_CLASSES`),
    elsewhere that of ``begroeid_onbepaald``, in proportion to the cell's share in the site. Its
    sensitivity to threats is that of vegetation everywhere, so a half-paved cell is degraded
    like the green in it. Cells the gemeente's own data decided keep their own class.
    """
    table = load_classes()
    vegetated, bare = (table.by_key(k).code for k in VEGETATED_AND_BARE)
    natural = float(np.mean([table.by_key(k).habitat.value for k in NATURAL_CLASSES]))
    urban = table.by_key("begroeid_onbepaald").habitat.value
    coarse = np.isin(landcover, (vegetated, bare))
    own = np.array([0.0] * 256, dtype="float32")
    for land_cover in table:
        own[land_cover.code] = land_cover.habitat.value
    mixed = np.nan_to_num(green_share) * (
        natura2000_share * natural + (1 - natura2000_share) * urban
    )
    return {
        "sensitivity_classes": np.where(coarse, vegetated, landcover).astype("uint8"),
        "suitability": np.where(coarse, mixed, own[landcover]).astype("float32"),
    }


def _landcover_document(aggregated: dict[str, gpd.GeoDataFrame]) -> dict[str, Any]:
    """Area-true land cover per area unit: the green share splits each area in two classes."""
    classes: dict[str, dict[str, float]] = {}
    confidence: dict[str, dict[str, float]] = {}
    for frame in aggregated.values():
        for row in frame.itertuples():
            covered = float(row.geometry.area) * float(row.data_coverage)
            green = float(row.green_share)
            classes[row.code] = {
                "begroeid_onbepaald": round(covered * green, 1),
                "onbegroeid_onbepaald": round(covered * (1 - green), 1),
            }
            confidence[row.code] = {
                Confidence.NATIONAL_RASTER.name: round(covered, 1),
                Confidence.NONE.name: round(float(row.geometry.area) - covered, 1),
            }
    return {"classes": classes, "confidence": confidence, "method": "rivm-groenkaart"}
