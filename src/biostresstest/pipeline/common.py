"""Steps and records shared by every kind of run (gemeente, study area)."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import rasterio
import shapely
from rasterio.features import rasterize

from biostresstest import __version__
from biostresstest.analysis import robustness
from biostresstest.analysis.aggregate import area_means
from biostresstest.analysis.coverage import coverage_share
from biostresstest.analysis.scoring import (
    CLASS_BOUNDS,
    CONNECTIVITY_SCALE_M,
    FORMULA,
    NO_CLASS,
    SCORE_CLASSES,
    SCORE_VERSION,
    WEIGHTS,
    connectivity,
    score_class,
    stress_score,
)
from biostresstest.core.errors import NotLoaded
from biostresstest.core.settings import Settings
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes
from biostresstest.model.store import RasterLayer, RunResult, Store
from biostresstest.model.stores import open_store
from biostresstest.model.threats import load_threats
from biostresstest.pipeline.steps import StepCache, StepLog, step_key
from biostresstest.sources import natura2000
from biostresstest.sources.base import FetchedFile

ProgressCallback = Callable[[str], None]
"""Called with a step's name when that step starts."""

INDICATOR_LAYERS = (
    "green_share",
    "natura2000_share",
    "score",
    "baf",
    "ugf",
    "habitat_quality",
    "degradation",
    "vulnerability",
    "distance_to_core",
    "connectivity",
)
"""Cell layers every run publishes (besides ``score_class``, ``landcover``, ``confidence``)."""

LEGEND = SCORE_CLASSES
"""The 7 classes of the score (colour, labels NL/EN, bounds) for the layers after pipeline."""

RASTER_DESCRIPTIONS = {
    "green_share": "share of green 0..1",
    "groenkaart_nodata_share": "share of the cell without a Groenkaart value 0..1",
    "natura2000_share": "share of the cell inside a Natura 2000 site 0..1",
    "score": f"stress-test score {SCORE_VERSION} 0..1",
    "baf": "Biotope Area Factor (Berlin) 0..1",
    "ugf": "Urban Greening Factor (London) 0..1",
    "habitat_quality": "InVEST 3.20 habitat quality 0..1 (threats from the land cover)",
    "degradation": "InVEST 3.20 habitat degradation (weighted threat sum)",
    "vulnerability": "pressure × sensitivity 0..1 (degradation curve × habitat suitability)",
    "distance_to_core": "distance to core habitat in metres, capped at 5000",
    "connectivity": "connectivity 0..1: exp(-distance to core / 1000 m)",
}


@dataclass
class RunContext:
    """The shared state of one run: settings, step cache, log and progress."""

    settings: Settings
    store: Store
    progress: ProgressCallback
    log: StepLog = field(default_factory=StepLog)

    @classmethod
    def create(
        cls, settings: Settings, store: Store | None, progress: ProgressCallback | None
    ) -> RunContext:
        """A context on ``store`` (default: the store the settings name, see ``open_store``)."""
        return cls(
            settings,
            store or open_store(settings),
            progress or (lambda _step: None),
        )

    @property
    def cache(self) -> StepCache:
        """The cache of finished steps."""
        return StepCache(self.settings.data_dir / "steps", self.log)

    def fetched(self, started: float) -> None:
        """Record the time the fetch step took."""
        self.log.record("fetch", "", False, time.perf_counter() - started)


@dataclass(frozen=True)
class RunSummary:
    """What a run did."""

    gemeente: str
    """The store key: a gemeente code or a study-area key."""
    name: str
    published: bool
    """False when the published results were already up to date."""
    manifest: dict[str, Any]


def natura2000_step(ctx: RunContext, file: FetchedFile, grid: AnalysisGrid) -> dict[str, Any]:
    """The share of every cell inside a Natura 2000 site (cached)."""
    key = step_key("natura2000", grid=grid_part(grid), natura2000=file.sha256)

    def compute() -> dict[str, np.ndarray]:
        sites = natura2000.read_sites(file, bbox=grid.bounds)
        return {"natura2000_share": coverage_share(sites.geometry, grid)}

    return {"key": key, **ctx.cache.arrays("natura2000", key, compute)}


def habitat_step(
    ctx: RunContext,
    classes: np.ndarray,
    grid: AnalysisGrid,
    depends: str,
    coarse: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """InVEST Habitat Quality on the land cover, threats made of its classes (cached).

    ``coarse`` (a land cover of class fractions) holds ``sensitivity_classes`` and
    ``suitability`` per cell, see :func:`..analysis.habitat.habitat_quality`; ``depends`` must
    then cover their inputs.
    """
    table, threats = load_classes(), load_threats()
    key = step_key(
        "habitat",
        depends=depends,
        classes=table.digest,
        threats=threats.digest,
        k=threats.half_saturation,
        coarse=sorted(coarse or {}),
    )

    def compute() -> dict[str, np.ndarray]:
        from biostresstest.analysis.habitat import habitat_quality  # numba, dask: load on use

        found = coarse or {}
        return habitat_quality(
            classes,
            table,
            threats,
            grid.cell_size,
            sensitivity_classes=found.get("sensitivity_classes"),
            suitability=found.get("suitability"),
        )

    return {"key": key, **ctx.cache.arrays("habitat", key, compute)}


ROBUSTNESS_COLUMNS = ("natural_share", "ems_ha", "coherence_pct", "sicb_connectivity", "iic")
"""Per-area robustness figures added to every area unit."""


def robustness_step(
    ctx: RunContext,
    natural: np.ndarray,
    n2k_share: np.ndarray,
    areas: dict[str, gpd.GeoDataFrame],
    grid: AnalysisGrid,
    depends: str,
    barrier: np.ndarray | None = None,
) -> dict[str, Any]:
    """Natural patches, their 100 m clusters and distance to core habitat (cached).

    ``barrier``: barrier cells (``analysis.barriers.barrier_mask``); links across them are cut
    (the SICB exception to the 100 m rule). Returns the cell layer ``distance_to_core`` and,
    per level, one array per figure of :data:`ROBUSTNESS_COLUMNS` in the order of the level's
    area units.
    """
    import hashlib

    cut = "none"
    if barrier is not None:
        cut = hashlib.sha256(np.packbits(barrier).tobytes()).hexdigest()[:16]
    key = step_key("robustness", depends=depends, levels=sorted(areas), barrier=cut)

    def compute() -> dict[str, np.ndarray]:
        labels, patch_areas = robustness.patches(natural, grid)
        links = robustness.barrier_links(labels, grid, barrier)
        cluster_of_patch = robustness.clusters(labels, grid, links=links)
        core = robustness.core_mask(n2k_share, labels, patch_areas)
        result = {"distance_to_core": robustness.distance_to_core(core, grid)}
        for level, frame in areas.items():
            zones = rasterize(
                zip(frame.geometry, range(1, len(frame) + 1), strict=True),
                out_shape=grid.shape,
                transform=grid.transform,
                fill=0,
                dtype="int32",
            )
            mesh = robustness.mesh_metrics(labels, patch_areas, cluster_of_patch, zones, grid)
            integral = robustness.iic(labels, links, zones, grid)
            for column in ROBUSTNESS_COLUMNS:
                values = []
                for zone in range(1, len(frame) + 1):
                    m, i = mesh.get(zone, {}), integral.get(zone, {})
                    values.append(_robustness_value(column, m, i))
                result[f"{level}__{column}"] = np.array(values, dtype="float64")
        return result

    result: dict[str, Any] = {"key": key, **ctx.cache.arrays("robustness", key, compute)}
    return result


def _robustness_value(column: str, mesh: dict[str, Any], integral: dict[str, Any]) -> float:
    if not mesh:
        return float("nan")
    if column == "natural_share":
        return float(mesh["natural_m2"]) / float(mesh["zone_m2"]) if mesh["zone_m2"] else 0.0
    if column == "sicb_connectivity":
        coherence = float(mesh["coherence_pct"])
        return (
            float("nan")
            if np.isnan(coherence)
            else float(robustness.sicb_connectivity_points(coherence))
        )
    if column == "iic":
        return float(integral.get("iic", float("nan")))
    return float(mesh[column])


def with_robustness(
    aggregated: dict[str, gpd.GeoDataFrame], figures: dict[str, np.ndarray]
) -> dict[str, gpd.GeoDataFrame]:
    """The aggregated area units with the per-area robustness figures as columns."""
    result = {}
    for level, frame in aggregated.items():
        frame = frame.copy()
        for column in ROBUSTNESS_COLUMNS:
            frame[column] = figures[f"{level}__{column}"]
        result[level] = frame
    return result


def score_step(
    ctx: RunContext,
    components: dict[str, np.ndarray],
    outline: gpd.GeoDataFrame,
    grid: AnalysisGrid,
    depends: str,
) -> dict[str, Any]:
    """Connectivity, score and class per cell inside ``outline`` (cached).

    ``components`` holds the cell layers ``habitat_quality``, ``baf`` (the surface factor) and
    ``distance_to_core``.
    """
    key = step_key(
        "score", depends=depends, weights=WEIGHTS, v=SCORE_VERSION, scale=CONNECTIVITY_SCALE_M
    )

    def compute() -> dict[str, np.ndarray]:
        inside = rasterize(
            outline.geometry, out_shape=grid.shape, transform=grid.transform, all_touched=True
        ).astype(bool)
        linked = connectivity(components["distance_to_core"])
        score = stress_score(components["habitat_quality"], components["baf"], linked)
        score[~inside] = np.nan
        linked[~inside] = np.nan
        return {"score": score, "score_class": score_class(score), "connectivity": linked}

    return {"key": key, **ctx.cache.arrays("score", key, compute)}


def aggregate_step(
    ctx: RunContext,
    areas: dict[str, gpd.GeoDataFrame],
    layers: dict[str, np.ndarray],
    grid: AnalysisGrid,
    depends: str,
) -> tuple[str, dict[str, gpd.GeoDataFrame]]:
    """Area-weighted means of the cell layers per area unit of every level (cached)."""
    key = step_key("aggregate", depends=depends, layers=sorted(layers))

    def compute() -> dict[str, gpd.GeoDataFrame]:
        result = {}
        for level, frame in areas.items():
            means = area_means(frame, layers, grid)
            means["score_class"] = score_class(means["score"].to_numpy())
            result[level] = means
        return result

    return key, ctx.cache.frames("aggregate", key, compute)


def raster_layers(
    layers: dict[str, np.ndarray],
    classes: dict[str, np.ndarray],
    grid: AnalysisGrid,
    descriptions: dict[str, str] | None = None,
) -> list[RasterLayer]:
    """The cell layers to publish: float layers plus uint8 class layers (0 = none).

    ``descriptions`` adds the descriptions of layers made outside this module (climate …).
    """
    described = {**RASTER_DESCRIPTIONS, **(descriptions or {})}
    rasters = [
        RasterLayer(name, array, grid, float("nan"), described[name])
        for name, array in layers.items()
    ]
    described |= {
        "score_class": "stress-test class 1..7 (0 = none)",
        "landcover": "land-cover class code (model/data/landcover.toml; 0 = none)",
        "confidence": "confidence level of the land cover 0..4 (model/confidence.py)",
    }
    rasters += [
        RasterLayer(name, array, grid, NO_CLASS, described[name]) for name, array in classes.items()
    ]
    return rasters


def publish_step(ctx: RunContext, result: RunResult, name: str) -> RunSummary:
    """Publish unless the store already holds a run with the same key."""
    try:
        published_key = str(ctx.store.manifest(result.gemeente).get("key"))
    except NotLoaded:
        published_key = None
    used = {entry["key"] for entry in ctx.log.entries.values() if entry.get("key")}
    ctx.cache.prune(ctx.settings.step_cache_mib * 2**20, keep=used)
    if published_key == result.manifest["key"]:
        return RunSummary(result.gemeente, name, False, result.manifest)
    ctx.store.publish(result)
    return RunSummary(result.gemeente, name, True, result.manifest)


def grid_part(grid: AnalysisGrid) -> dict[str, Any]:
    """The grid as a step-key ingredient."""
    return {"bounds": grid.bounds, "cell": grid.cell_size}


def manifest(
    key_name: str,
    files: dict[str, FetchedFile],
    grid: AnalysisGrid,
    log: StepLog,
    final_key: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The run manifest: inputs with checksums, parameters, grid, steps and versions."""
    return {
        "gemeente": key_name,
        "key": final_key,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "score_version": SCORE_VERSION,
        "parameters": {
            "weights": WEIGHTS,
            "score_formula": FORMULA,
            "connectivity_scale_m": CONNECTIVITY_SCALE_M,
            "class_bounds": [round(b, 6) for b in CLASS_BOUNDS],
            **(extra or {}),
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
