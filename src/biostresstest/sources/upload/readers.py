"""Reading an upload whose format is known (see ``sniff``), with its limits checked first.

Sizes are checked before anything is parsed into geometries: the feature count from the file's
metadata, and the size of each geometry from the file's own index (the GeoPackage blob lengths,
the Shapefile ``.shx`` record lengths), so a polygon of ten million vertices is refused after
reading a few bytes, without building it. GeoJSON has no such index and is read as WKB in
batches first. GDAL only ever sees files we sniffed, under names we chose.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyogrio.raw
import rasterio
import rasterio.errors

from biostresstest.core.errors import CorruptInput, CRSMismatch, PayloadTooLarge
from biostresstest.sources.upload.archive import extract_shapefile
from biostresstest.sources.upload.csvio import read_csv_points
from biostresstest.sources.upload.limits import UploadLimits
from biostresstest.sources.upload.sniff import FileKind

BYTES_PER_VERTEX = 16
"""A 2D vertex in WKB; dividing a geometry's byte size by it over-counts Z data, never under."""
_GPKG_HEADER = 72
"""Bytes of the GeoPackage blob header with the largest envelope."""


@dataclass(frozen=True)
class RasterSummary:
    """What the GeoTIFF of an upload holds (band 1)."""

    path: Path
    crs: str | None
    width: int
    height: int
    bounds: tuple[float, float, float, float]
    valid_cells: int
    minimum: float
    maximum: float


def vector_path(path: Path, kind: FileKind, workdir: Path, limits: UploadLimits) -> Path:
    """The path GDAL should open for a vector upload (a zip is unpacked safely first)."""
    if kind is FileKind.ZIP:
        return extract_shapefile(path, workdir / "unzipped", limits)
    suffix = {FileKind.GPKG: ".gpkg", FileKind.GEOJSON: ".geojson"}[kind]
    target = workdir / f"data{suffix}"
    if not target.exists():
        target.hardlink_to(path)
    return target


def read_vector(
    path: Path, kind: FileKind, limits: UploadLimits, crs: str | None = None
) -> gpd.GeoDataFrame:
    """The features of a vector upload in their own CRS (``crs`` names it for CSV only)."""
    if kind is FileKind.CSV:
        return read_csv_points(path, limits, crs)
    layer = _only_layer(path)
    try:
        info = pyogrio.read_info(path, layer=layer)
    except Exception as exc:  # GDAL raises many kinds for damaged files
        raise CorruptInput(f"the file cannot be read: {exc}", hint=_REEXPORT) from exc
    if info["features"] > limits.max_features:
        raise PayloadTooLarge(
            f"the file holds {info['features']:,} features; at most "
            f"{limits.max_features:,} are accepted"
        )
    check_vertices(_geometry_sizes(path, layer, limits), limits)
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:
        raise CorruptInput(f"the file cannot be read: {exc}", hint=_REEXPORT) from exc
    if frame.empty:
        raise CorruptInput("the file holds no features", hint="check that you exported the data")
    return frame


_REEXPORT = "re-export the data from your GIS as GeoPackage and upload that"


def check_vertices(sizes: np.ndarray, limits: UploadLimits) -> None:
    """Refuse when one geometry or all together exceed the vertex limits (sizes in bytes)."""
    if sizes.size == 0:
        return
    vertices = sizes // BYTES_PER_VERTEX
    biggest = int(vertices.max())
    if biggest > limits.max_vertices_per_feature:
        raise PayloadTooLarge(
            f"feature {int(vertices.argmax()) + 1} has about {biggest:,} vertices; at most "
            f"{limits.max_vertices_per_feature:,} per feature are accepted",
            hint="simplify or split the geometry in your GIS before uploading",
        )
    if int(vertices.sum()) > limits.max_vertices_total:
        raise PayloadTooLarge(
            f"the file has about {int(vertices.sum()):,} vertices; at most "
            f"{limits.max_vertices_total:,} are accepted",
            hint="simplify the geometries or upload the data in parts",
        )


def _only_layer(path: Path) -> str | None:
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as exc:
        raise CorruptInput(f"the file cannot be read: {exc}", hint=_REEXPORT) from exc
    if len(layers) > 1:
        raise CorruptInput(
            f"the file holds {len(layers)} layers ({', '.join(layers[:10])})",
            hint="upload a file with the one layer to import",
        )
    return layers[0] if layers else None


def _geometry_sizes(path: Path, layer: str | None, limits: UploadLimits) -> np.ndarray:
    if path.suffix == ".gpkg":
        return _gpkg_sizes(path)
    if path.suffix == ".shp":
        return _shx_sizes(path.with_suffix(".shx"))
    sizes: list[np.ndarray] = []
    batch = 20_000
    for skip in range(0, limits.max_features, batch):
        _, _, geometry, _ = pyogrio.raw.read(
            path, layer=layer, columns=[], skip_features=skip, max_features=batch
        )[:4]
        if geometry is None or len(geometry) == 0:
            break
        chunk = np.fromiter((len(g) if g is not None else 0 for g in geometry), dtype="int64")
        check_vertices(chunk, limits)
        sizes.append(chunk)
        if len(geometry) < batch:
            break
    return np.concatenate(sizes) if sizes else np.zeros(0, dtype="int64")


def _gpkg_sizes(path: Path) -> np.ndarray:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            found = db.execute(
                "SELECT table_name, column_name FROM gpkg_geometry_columns LIMIT 1"
            ).fetchone()
            if found is None:
                return np.zeros(0, dtype="int64")
            table, column = (str(v).replace('"', '""') for v in found)
            rows = db.execute(f'SELECT length("{column}") FROM "{table}"').fetchall()
    except sqlite3.Error as exc:
        raise CorruptInput(f"the GeoPackage cannot be read: {exc}", hint=_REEXPORT) from exc
    sizes = np.array([r[0] or 0 for r in rows], dtype="int64")
    return np.maximum(sizes - _GPKG_HEADER, 0)


def _shx_sizes(shx: Path) -> np.ndarray:
    data = shx.read_bytes()
    if len(data) < 100 or (len(data) - 100) % 8:
        raise CorruptInput("the Shapefile index (.shx) is damaged", hint=_REEXPORT)
    records = np.frombuffer(data, dtype=">i4", offset=100).reshape(-1, 2)
    return records[:, 1].astype("int64") * 2  # content length in 16-bit words


def read_raster(path: Path, limits: UploadLimits) -> RasterSummary:
    """Check a GeoTIFF's size on its metadata, then scan band 1 block by block."""
    try:
        with rasterio.open(path, driver="GTiff") as src:
            if src.count > limits.max_raster_bands or src.width * src.height > (
                limits.max_raster_cells
            ):
                raise PayloadTooLarge(
                    f"the GeoTIFF has {src.width}×{src.height} cells and {src.count} band(s); "
                    f"at most {limits.max_raster_cells:,} cells and "
                    f"{limits.max_raster_bands} bands are accepted",
                    hint="resample it to a coarser cell size or cut it to the gemeente",
                )
            crs = src.crs.to_string() if src.crs else None
            low, high, valid = np.inf, -np.inf, 0
            for _, window in src.block_windows(1):
                block = src.read(1, window=window, masked=True)
                values = block.compressed()
                values = values[np.isfinite(values)]
                if values.size:
                    low, high = min(low, float(values.min())), max(high, float(values.max()))
                    valid += int(values.size)
            return RasterSummary(
                path, crs, src.width, src.height, tuple(src.bounds), valid, low, high
            )
    except (PayloadTooLarge, CRSMismatch):
        raise
    except (rasterio.errors.RasterioError, ValueError) as exc:
        raise CorruptInput(f"the GeoTIFF cannot be read: {exc}", hint=_REEXPORT) from exc
