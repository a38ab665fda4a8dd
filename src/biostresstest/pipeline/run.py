"""``run``: one gemeente from its open sources to published results.

Steps: fetch the sources → area units → analysis grid → green share → Natura 2000 share →
score → area aggregation → publish. Every step is cached on its inputs, so a re-run with
unchanged inputs redoes nothing, and a run whose final key equals the published one stops early.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import rasterio
import shapely
from rasterio.features import rasterize

from biostresstest import __version__
from biostresstest.analysis.aggregate import area_means
from biostresstest.analysis.coverage import coverage_share
from biostresstest.analysis.scoring import (
    CLASS_BOUNDS,
    NO_CLASS,
    SCORE_VERSION,
    WEIGHTS,
    score_class,
    stress_score,
)
from biostresstest.core.crs import DEFAULT_CELL_SIZE
from biostresstest.core.errors import NotLoaded
from biostresstest.core.settings import Settings
from biostresstest.model.areas import AreaLevel, normalise_gemeente_code
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.store import RasterLayer, RunResult, Store
from biostresstest.pipeline.areas import area_units
from biostresstest.pipeline.steps import StepCache, StepLog, step_key
from biostresstest.sources import cbs_gemeenten, cbs_wijkenbuurten, natura2000, rivm_groenkaart
from biostresstest.sources.base import FetchedFile, fetch

STEPS = (
    "fetch",
    "areas",
    "green",
    "natura2000",
    "score",
    "aggregate",
    "publish",
)
"""The steps of a run, in order (the progress bar counts these)."""

ProgressCallback = Callable[[str], None]
"""Called with a step's name when that step starts."""

INDICATOR_LAYERS = ("green_share", "natura2000_share", "groenkaart_nodata_share", "score")


@dataclass(frozen=True)
class RunSummary:
    """What ``run_gemeente`` did."""

    gemeente: str
    name: str
    published: bool
    """False when the published results were already up to date."""
    manifest: dict[str, Any]


def run_gemeente(
    code: str,
    settings: Settings,
    store: Store | None = None,
    progress: ProgressCallback | None = None,
    cell_size: float = DEFAULT_CELL_SIZE,
) -> RunSummary:
    """Compute and publish the stress test of gemeente ``code``."""
    notify = progress or (lambda _step: None)
    store = store or EmbeddedStore(settings.data_dir / "store")
    log = StepLog()
    cache = StepCache(settings.data_dir / "steps", log)

    code = normalise_gemeente_code(code)
    notify("fetch")
    started = time.perf_counter()
    gemeenten_file = fetch(cbs_gemeenten.SPEC, settings)
    gemeenten = cbs_gemeenten.read_gemeenten(gemeenten_file)
    gemeente_row = cbs_gemeenten.find_gemeente(gemeenten, code)
    bbox = ",".join(f"{v:.0f}" for v in gemeente_row.total_bounds)
    files = {
        "gemeenten": gemeenten_file,
        "buurten": fetch(cbs_wijkenbuurten.SPEC, settings),
        "groenkaart": fetch(rivm_groenkaart.SPEC, settings, bbox=bbox),
        "natura2000": fetch(natura2000.SPEC, settings),
    }
    log.record("fetch", "", False, time.perf_counter() - started)
    sha = {name: f.sha256 for name, f in files.items()}

    notify("areas")
    areas_key = step_key("areas", gemeente=code, gemeenten=sha["gemeenten"], buurten=sha["buurten"])
    areas = cache.frames(
        "areas",
        areas_key,
        lambda: area_units(gemeente_row, cbs_wijkenbuurten.read_buurten(files["buurten"], code)),
    )
    grid = AnalysisGrid.covering(tuple(areas["gemeente"].total_bounds), cell_size)
    grid_part = {"bounds": grid.bounds, "cell": grid.cell_size}

    notify("green")
    green_key = step_key("green", grid=grid_part, groenkaart=sha["groenkaart"])
    green = cache.arrays("green", green_key, lambda: _green(files["groenkaart"], grid))

    notify("natura2000")
    n2k_key = step_key("natura2000", grid=grid_part, natura2000=sha["natura2000"])
    n2k = cache.arrays("natura2000", n2k_key, lambda: _natura(files["natura2000"], grid))

    notify("score")
    score_key = step_key("score", green=green_key, n2k=n2k_key, weights=WEIGHTS, v=SCORE_VERSION)
    scored = cache.arrays(
        "score",
        score_key,
        lambda: _score(green["green_share"], n2k["natura2000_share"], areas["gemeente"], grid),
    )
    layers = {
        "green_share": green["green_share"],
        "groenkaart_nodata_share": green["groenkaart_nodata_share"],
        "natura2000_share": n2k["natura2000_share"],
        "score": scored["score"],
    }

    notify("aggregate")
    agg_key = step_key("aggregate", areas=areas_key, score=score_key)
    aggregated = cache.frames("aggregate", agg_key, lambda: _aggregate(areas, layers, grid))

    notify("publish")
    final_key = step_key("publish", aggregate=agg_key)
    manifest = _manifest(code, files, grid, log, final_key)
    if _published_key(store, code) == final_key:
        return RunSummary(code, str(gemeente_row.iloc[0]["name"]), False, manifest)
    store.publish(
        RunResult(
            gemeente=code,
            areas={AreaLevel(level): frame for level, frame in aggregated.items()},
            rasters=_raster_layers(layers, scored["score_class"], grid),
            manifest=manifest,
        )
    )
    return RunSummary(code, str(gemeente_row.iloc[0]["name"]), True, manifest)


def _green(file: FetchedFile, grid: AnalysisGrid) -> dict[str, np.ndarray]:
    on_grid = rivm_groenkaart.read_green(file, grid)
    return {"green_share": on_grid.green, "groenkaart_nodata_share": on_grid.nodata_share}


def _natura(file: FetchedFile, grid: AnalysisGrid) -> dict[str, np.ndarray]:
    sites = natura2000.read_sites(file, bbox=grid.bounds)
    return {"natura2000_share": coverage_share(sites.geometry, grid)}


def _score(
    green: np.ndarray, n2k: np.ndarray, gemeente: gpd.GeoDataFrame, grid: AnalysisGrid
) -> dict[str, np.ndarray]:
    inside = rasterize(
        gemeente.geometry, out_shape=grid.shape, transform=grid.transform, all_touched=True
    ).astype(bool)
    score = stress_score(green, n2k)
    score[~inside] = np.nan
    return {"score": score, "score_class": score_class(score)}


def _aggregate(
    areas: dict[str, gpd.GeoDataFrame], layers: dict[str, np.ndarray], grid: AnalysisGrid
) -> dict[str, gpd.GeoDataFrame]:
    result = {}
    for level, frame in areas.items():
        means = area_means(frame, layers, grid)
        means["score_class"] = score_class(means["score"].to_numpy())
        result[level] = means
    return result


def _raster_layers(
    layers: dict[str, np.ndarray], classes: np.ndarray, grid: AnalysisGrid
) -> list[RasterLayer]:
    described = {
        "green_share": "share of green 0..1 (RIVM Groenkaart)",
        "groenkaart_nodata_share": "share of the cell without a Groenkaart value 0..1",
        "natura2000_share": "share of the cell inside a Natura 2000 site 0..1",
        "score": f"stress-test score {SCORE_VERSION} 0..1",
    }
    rasters = [
        RasterLayer(name, layers[name], grid, float("nan"), described[name]) for name in described
    ]
    rasters.append(
        RasterLayer("score_class", classes, grid, NO_CLASS, "stress-test class 1..7 (0 = none)")
    )
    return rasters


def _published_key(store: Store, code: str) -> str | None:
    try:
        return str(store.manifest(code).get("key"))
    except NotLoaded:
        return None


def _manifest(
    code: str, files: dict[str, FetchedFile], grid: AnalysisGrid, log: StepLog, key: str
) -> dict[str, Any]:
    return {
        "gemeente": code,
        "key": key,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "score_version": SCORE_VERSION,
        "parameters": {
            "weights": WEIGHTS,
            "class_bounds": [round(b, 6) for b in CLASS_BOUNDS],
            "groenkaart_nodata_as_green_share": 0.0,
        },
        "grid": {
            "crs": grid.crs,
            "cell_size": grid.cell_size,
            "bounds": grid.bounds,
            "width": grid.width,
            "height": grid.height,
        },
        "inputs": [f.provenance().as_dict() for f in files.values()],
        "steps": log.entries,
        "versions": {
            "biostresstest": __version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "rasterio": rasterio.__version__,
            "gdal": rasterio.__gdal_version__,
            "geopandas": gpd.__version__,
            "pyogrio": pyogrio.__version__,
            "shapely": shapely.__version__,
        },
    }
