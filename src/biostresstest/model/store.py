"""The store contract: what every store (embedded files, PostGIS) offers the rest of the tool.

A store holds the published results per gemeente. Publishing is atomic: readers see either the
previous results or the new ones, never a mix, and a failed publish leaves the previous state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import numpy as np

from biostresstest.model.areas import AreaLevel
from biostresstest.model.grid import AnalysisGrid

GRACE_S = 120.0
"""Seconds a superseded run stays readable after a publish switched past it.

A reader may have resolved the previous run (a raster path, a run folder) a moment before the
switch; both stores keep that run's files until it has been superseded this long, and keep the
most recent superseded run of each gemeente until the next publish.
"""


@dataclass(frozen=True)
class RasterLayer:
    """One cell layer on the analysis grid."""

    name: str
    array: np.ndarray
    grid: AnalysisGrid
    nodata: float | int
    description: str


@dataclass
class RunResult:
    """Everything one run publishes for one gemeente."""

    gemeente: str
    """The store key: a gemeente code (GM0758) or a study-area key (otterlo)."""
    areas: dict[AreaLevel, gpd.GeoDataFrame]
    rasters: list[RasterLayer]
    manifest: dict[str, Any] = field(default_factory=dict)
    features: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    """Feature layers of their own (verges, forests, water, erf, trees), in EPSG:28992."""
    documents: dict[str, Any] = field(default_factory=dict)
    """Small JSON documents (land-cover areas per area unit …)."""


class Store(Protocol):
    """The contract of a results store."""

    def publish(self, result: RunResult) -> None:
        """Make ``result`` the current state of its gemeente, atomically."""

    def gemeenten(self) -> list[str]:
        """Codes of the gemeenten with published results."""

    def areas(
        self, gemeente: str, level: AreaLevel, bbox: tuple[float, float, float, float] | None = None
    ) -> gpd.GeoDataFrame:
        """Area units of ``level`` with their indicator values, in EPSG:28992."""

    def raster_path(self, gemeente: str, name: str) -> Path:
        """Path of a published cell layer (a Cloud-Optimized GeoTIFF)."""

    def manifest(self, gemeente: str) -> dict[str, Any]:
        """The run manifest of the published results."""

    def vector_tile(self, gemeente: str, level: AreaLevel, z: int, x: int, y: int) -> bytes | None:
        """A Mapbox vector tile (gzip-compressed) of the area units, or None if empty."""

    def feature_layers(self, gemeente: str) -> list[str]:
        """Names of the feature layers of a published run."""

    def features(
        self, gemeente: str, layer: str, bbox: tuple[float, float, float, float] | None = None
    ) -> gpd.GeoDataFrame:
        """One feature layer, in EPSG:28992."""

    def document(self, gemeente: str, name: str) -> Any:
        """A JSON document of a published run."""
