"""What the live local datasets of a gemeente add to its land cover (the recompute hook).

``local_layers_for`` turns every dataset whose kind has a ``cover`` into polygons with a
land-cover class code and the municipal confidence level; the pipeline burns them on its grid
on top of the national sources, so where local data decides, the class and the confidence come
from it. A tree register becomes crowns: a disc per tree with the crown diameter of the register
or the documented default of the kind (``local_kinds.toml``).

A run resolves the live version **once** with ``local_cover`` and takes both its cache key and
its layers from that one :class:`LocalCover`; an import that switches a new version live in
between cannot put new data under the old key (the old version stays readable for the store's
grace period). ``local_data_key`` and ``local_layers_for`` each resolve on their own and are
kept for single uses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
from rasterio.features import rasterize

from biostresstest.core.crs import RD_NEW
from biostresstest.core.errors import StoreError
from biostresstest.core.settings import Settings
from biostresstest.model.confidence import Confidence
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes
from biostresstest.model.local_data.kinds import Kind, load_kinds
from biostresstest.model.local_data.records import DatasetRecord
from biostresstest.model.local_data.store import LocalDataStore, LocalVersion


@dataclass(frozen=True)
class LocalCoverLayer:
    """Land cover from one local dataset: polygons with a class ``code``, in EPSG:28992."""

    dataset: str
    kind: str
    sha256: str
    polygons: gpd.GeoDataFrame
    confidence: Confidence = Confidence.MUNICIPAL

    def classes_on(self, grid: AnalysisGrid) -> np.ndarray:
        """Class codes (uint8, 0 = not covered) of the polygons burnt on ``grid`` by cell centre."""
        if self.polygons.empty:
            return np.zeros(grid.shape, dtype="uint8")
        shapes = zip(self.polygons.geometry, self.polygons["code"].astype(int), strict=True)
        return rasterize(
            shapes, out_shape=grid.shape, transform=grid.transform, fill=0, dtype="uint8"
        )


def local_store(settings: Settings) -> LocalDataStore:
    """The local-data store in the data folder of ``settings``."""
    return LocalDataStore(settings.data_dir / "local")


@dataclass(frozen=True)
class LocalCover:
    """The land cover of one resolved version of a gemeente's local data: key and layers.

    ``key`` is a short hash of the datasets that feed the land cover (empty without any), for
    step keys; ``layers()`` reads those same datasets (on first use, then kept), so a cache
    lookup by ``key`` and the layers computed on a miss always belong together.
    """

    version: LocalVersion
    _layers: list[list[LocalCoverLayer]] = field(default_factory=list, repr=False, compare=False)

    @property
    def key(self) -> str:
        """A short hash of the covering datasets (name and checksum); "" when there are none."""
        parts = sorted(f"{r.name}:{r.sha256}" for r, _ in self._covering())
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16] if parts else ""

    def layers(self) -> list[LocalCoverLayer]:
        """The land-cover layers of this version (read once)."""
        folder = self.version.folder
        if not self._layers and folder is not None and not folder.is_dir():
            raise StoreError(
                f"the local data of {self.version.gemeente} this run started from has been "
                "replaced and removed in the meantime",
                hint="run again: it will use the local data that is live now",
            )
        if not self._layers:
            self._layers.append(
                [
                    LocalCoverLayer(
                        r.name, r.kind, r.sha256, _cover_polygons(k, r, self.version.path(r.name))
                    )
                    for r, k in self._covering()
                ]
            )
        return self._layers[0]

    def _covering(self) -> list[tuple[DatasetRecord, Kind]]:
        kinds = load_kinds()
        return [
            (r, kinds[r.kind])
            for r in self.version.records
            if r.kind in kinds and kinds[r.kind].cover
        ]


def local_cover(settings: Settings, gemeente: str) -> LocalCover:
    """The live local data of ``gemeente``, resolved once: use its ``key`` and ``layers()``."""
    return LocalCover(local_store(settings).snapshot(gemeente))


def local_layers_for(settings: Settings, gemeente: str) -> list[LocalCoverLayer]:
    """The land-cover layers of the live local datasets of ``gemeente`` (empty if none)."""
    return local_cover(settings, gemeente).layers()


def local_data_key(settings: Settings, gemeente: str) -> str:
    """A short hash of the live local datasets that feed the land cover (for step keys)."""
    return local_cover(settings, gemeente).key


def _cover_polygons(kind: Kind, record: DatasetRecord, path: Path) -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(path)
    table = load_classes()
    if kind.cover == "tree_canopy":
        diameter = np.full(len(frame), float(kind.options["default_crown_diameter_m"]))
        if "crown_diameter_m" in frame.columns:
            given = frame["crown_diameter_m"].to_numpy(dtype="float64", na_value=np.nan)
            diameter = np.where(np.isfinite(given) & (given > 0), given, diameter)
        geometry = frame.geometry.buffer(diameter / 2, quad_segs=8)
        codes = np.full(len(frame), table.by_key(str(kind.options["canopy_class"])).code)
    else:
        field = next(f for f in kind.fields.values() if f.type == "class")
        keys = frame[field.name].astype(str).map(dict(field.classes))
        codes = keys.map(lambda key: table.by_key(key).code if isinstance(key, str) else 0)
        geometry = frame.geometry
        width = float(kind.options.get("line_width_m", 0.0))
        lines = geometry.geom_type.isin(["LineString", "MultiLineString"])
        if width and lines.any():
            geometry = geometry.where(~lines, geometry.buffer(width / 2, cap_style="flat"))
    out = gpd.GeoDataFrame(
        {"code": np.asarray(codes, dtype="int64")}, geometry=geometry, crs=RD_NEW
    )
    return out[out["code"] > 0].reset_index(drop=True)
