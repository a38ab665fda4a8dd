"""The embedded store: a data folder of GeoPackage files, COGs and PMTiles; no server.

Layout under ``root``::

    GM0758 -> .runs/GM0758-20261128T101500-1a2b3c   (symlink: the published state)
    .runs/GM0758-.../areas.gpkg                     (layers gemeente, wijk, buurt)
    .runs/GM0758-.../rasters/<name>.tif             (Cloud-Optimized GeoTIFFs)
    .runs/GM0758-.../tiles/<level>.pmtiles          (vector tiles of the area units)
    .runs/GM0758-.../manifest.json
    .staging-*                                      (being written; removed on open)

A publish writes a complete run folder first and then swaps the symlink with one atomic
``rename``; readers never see half-written results, and a crash leaves only a staging folder.
A superseded run folder is not removed at once: a reader may have resolved the old link a moment
before the switch. It gets a ``.superseded`` marker and goes once it has been superseded for
:data:`GRACE_S` seconds, except the most recent one of each gemeente, which stays until the next
publish.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import rasterio
from pmtiles.reader import MmapSource, Reader
from shapely.geometry import box

from biostresstest.core.crs import RD_NEW, WGS84
from biostresstest.core.errors import NotLoaded, StoreError
from biostresstest.model.areas import AreaLevel
from biostresstest.model.store import GRACE_S, RasterLayer, RunResult

TILE_ZOOMS = {
    AreaLevel.GEMEENTE: (5, 13),
    AreaLevel.WIJK: (8, 14),
    AreaLevel.BUURT: (9, 15),
    AreaLevel.GEBIED: (5, 15),
}
"""Zoom range of the pre-built vector tiles per level; MapLibre overzooms beyond the maximum."""


class EmbeddedStore:
    """Results as files under one folder (see the module docstring for the layout)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._runs = self.root / ".runs"
        self._runs.mkdir(parents=True, exist_ok=True)
        self._clean_staging()

    # --- writing -----------------------------------------------------------------------------

    def publish(self, result: RunResult) -> None:
        """Write ``result`` into a staging folder, then switch it live in one rename."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        staging = self.root / f".staging-{result.gemeente}-{uuid.uuid4().hex[:8]}"
        try:
            staging.mkdir()
            self._write_run(staging, result)
            final = self._runs / f"{result.gemeente}-{stamp}-{uuid.uuid4().hex[:6]}"
            staging.rename(final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._switch(result.gemeente, final)

    def _write_run(self, folder: Path, result: RunResult) -> None:
        gpkg = folder / "areas.gpkg"
        (folder / "rasters").mkdir()
        (folder / "tiles").mkdir()
        for level, frame in result.areas.items():
            pyogrio.write_dataframe(frame.to_crs(RD_NEW), gpkg, layer=level.value, driver="GPKG")
            _write_pmtiles(frame, folder / "tiles" / f"{level.value}.pmtiles", level)
        for layer in result.rasters:
            write_cog(layer, folder / "rasters" / f"{layer.name}.tif")
        for name, frame in result.features.items():
            pyogrio.write_dataframe(
                frame.to_crs(RD_NEW), folder / "features.gpkg", layer=name, driver="GPKG"
            )
        documents = {"manifest": result.manifest, **result.documents}
        for name, document in documents.items():
            (folder / f"{name}.json").write_text(
                json.dumps(document, indent=2, ensure_ascii=False, default=str), "utf-8"
            )

    def _switch(self, gemeente: str, target: Path) -> None:
        link = self.root / gemeente
        previous = link.resolve() if link.is_symlink() else None
        tmp_link = self.root / f".link-{gemeente}-{uuid.uuid4().hex[:8]}"
        os.symlink(os.path.relpath(target, self.root), tmp_link)
        os.replace(tmp_link, link)
        if previous is not None and previous != target.resolve():
            previous.with_name(previous.name + ".superseded").touch()
        self._remove_superseded(gemeente)

    def _remove_superseded(self, gemeente: str) -> None:
        """Remove superseded runs past their grace period, keeping the latest of each one."""
        markers = sorted(
            self._runs.glob(f"{gemeente}-*.superseded"), key=lambda m: m.stat().st_mtime
        )
        now = time.time()
        for marker in markers[:-1]:
            if now - marker.stat().st_mtime > GRACE_S:
                shutil.rmtree(marker.with_suffix(""), ignore_errors=True)
                marker.unlink(missing_ok=True)

    def _clean_staging(self) -> None:
        for leftover in self.root.glob(".staging-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in self.root.glob(".link-*"):
            leftover.unlink(missing_ok=True)

    # --- reading -----------------------------------------------------------------------------

    def gemeenten(self) -> list[str]:
        """Codes of the gemeenten with published results."""
        return sorted(p.name for p in self.root.iterdir() if p.is_symlink() and p.exists())

    def _run_dir(self, gemeente: str) -> Path:
        link = self.root / gemeente
        if not link.exists():
            raise NotLoaded(
                f"no results for {gemeente} in the store at {self.root}",
                hint=f"compute them first: `biostresstest run --gemeente {gemeente}`",
            )
        return link.resolve()

    def areas(
        self, gemeente: str, level: AreaLevel, bbox: tuple[float, float, float, float] | None = None
    ) -> gpd.GeoDataFrame:
        """Area units of ``level`` with their indicator values, in EPSG:28992."""
        gpkg = self._run_dir(gemeente) / "areas.gpkg"
        try:
            frame = pyogrio.read_dataframe(gpkg, layer=level.value, bbox=bbox)
        except Exception as exc:  # pyogrio raises several kinds for a damaged file
            raise StoreError(
                f"cannot read {level.value} of {gemeente} from {gpkg}: {exc}",
                hint=f"re-run `biostresstest run --gemeente {gemeente}`",
            ) from exc
        if bbox is not None and len(frame):
            frame = frame[frame.intersects(box(*bbox))]
        return frame

    def raster_path(self, gemeente: str, name: str) -> Path:
        """Path of a published cell layer (a Cloud-Optimized GeoTIFF)."""
        path = self._run_dir(gemeente) / "rasters" / f"{name}.tif"
        if not path.exists():
            raise NotLoaded(f"{gemeente} has no cell layer {name!r}")
        return path

    def manifest(self, gemeente: str) -> dict[str, Any]:
        """The run manifest of the published results."""
        data: dict[str, Any] = self.document(gemeente, "manifest")
        return data

    def document(self, gemeente: str, name: str) -> Any:
        """A JSON document of a published run."""
        path = self._run_dir(gemeente) / f"{name}.json"
        if not path.exists():
            raise NotLoaded(f"{gemeente} has no {name!r} in the store")
        return json.loads(path.read_text("utf-8"))

    def feature_layers(self, gemeente: str) -> list[str]:
        """Names of the feature layers of a published run."""
        path = self._run_dir(gemeente) / "features.gpkg"
        return [str(row[0]) for row in pyogrio.list_layers(path)] if path.exists() else []

    def features(
        self, gemeente: str, layer: str, bbox: tuple[float, float, float, float] | None = None
    ) -> gpd.GeoDataFrame:
        """One feature layer, in EPSG:28992."""
        if layer not in self.feature_layers(gemeente):
            raise NotLoaded(
                f"{gemeente} has no feature layer {layer!r}",
                hint=f"its layers: {', '.join(self.feature_layers(gemeente)) or 'none'}",
            )
        gpkg = self._run_dir(gemeente) / "features.gpkg"
        return pyogrio.read_dataframe(gpkg, layer=layer, bbox=bbox)

    def vector_tile(self, gemeente: str, level: AreaLevel, z: int, x: int, y: int) -> bytes | None:
        """A gzip-compressed Mapbox vector tile of the area units, or None if empty."""
        path = self._run_dir(gemeente) / "tiles" / f"{level.value}.pmtiles"
        reader = _pmtiles_reader(str(path))
        tile: bytes | None = reader.get(z, x, y)
        return tile


def write_cog(layer: RasterLayer, path: Path) -> None:
    """Write ``layer`` as a Cloud-Optimized GeoTIFF (deflate, 512² blocks, overviews)."""
    grid = layer.grid
    profile = {
        "driver": "COG",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": str(layer.array.dtype),
        "crs": grid.crs,
        "transform": grid.transform,
        "nodata": layer.nodata,
        "compress": "deflate",
        "blocksize": 512,
        "overview_resampling": "nearest" if layer.array.dtype.kind in "iu" else "average",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(layer.array, 1)
        dst.update_tags(1, description=layer.description)


def _write_pmtiles(frame: gpd.GeoDataFrame, path: Path, level: AreaLevel) -> None:
    minzoom, maxzoom = TILE_ZOOMS[level]
    pyogrio.write_dataframe(
        frame.to_crs(WGS84),
        path,
        layer=level.value,
        driver="PMTiles",
        dataset_options={"MINZOOM": str(minzoom), "MAXZOOM": str(maxzoom), "NAME": level.value},
    )


@lru_cache(maxsize=64)
def _pmtiles_reader(path: str) -> Reader:
    # The run folder of a path never changes after publish (a new run gets a new folder),
    # so caching the memory-mapped reader per path is safe.
    handle = open(path, "rb")  # noqa: SIM115 - kept open for the mmap of the cached reader
    return Reader(MmapSource(handle))
