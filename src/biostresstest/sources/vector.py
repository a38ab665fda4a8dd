"""Reading vector source files with clear errors (shared by the vector sources)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import pyogrio
from rasterio.warp import transform_bounds

from biostresstest.core.crs import RD_NEW
from biostresstest.core.errors import CorruptInput, CRSMismatch
from biostresstest.sources.base import FetchedFile


def read_vector(
    fetched: FetchedFile,
    layer_hint: str = "",
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read a vector file (GeoJSON, Shapefile, GeoPackage, or one of these zipped) into RD New.

    ``bbox`` (RD New) keeps only the features that intersect it, filtered while reading.

    A file that cannot be parsed, has no CRS, or is empty gets a :class:`CorruptInput` naming
    the source and the file.
    """
    path = _gdal_path(fetched.path)
    what = f"source {fetched.spec.id!r} ({fetched.spec.title}), file {fetched.path}"
    try:
        layer = _pick_layer(path, layer_hint)
        frame = pyogrio.read_dataframe(path, layer=layer)
    except CorruptInput:
        raise
    except Exception as exc:  # pyogrio/GDAL raise many kinds for broken files
        raise CorruptInput(
            f"{what} cannot be read: {exc}",
            hint="the file is damaged or not a vector file: delete it from the raw cache "
            "(or fix the mirror copy) and run again",
        ) from exc
    if frame.crs is None:
        raise CRSMismatch(
            f"{what} has no coordinate reference system",
            hint="the file must declare its CRS (for instance a .prj beside a Shapefile)",
        )
    if frame.empty:
        raise CorruptInput(f"{what} holds no features", hint="check the file or its filter")
    if bbox is not None:
        # filter in the file's CRS, before reprojecting what is not needed (GeoJSON has no
        # spatial index, so a filter while reading would still parse every feature)
        xmin, ymin, xmax, ymax = transform_bounds(RD_NEW, frame.crs, *bbox, densify_pts=21)
        frame = frame.cx[xmin:xmax, ymin:ymax]
    return frame.to_crs(RD_NEW) if frame.crs.to_epsg() != 28992 else frame


def rename_columns(
    frame: gpd.GeoDataFrame,
    aliases: Mapping[str, Iterable[str]],
    fetched: FetchedFile,
) -> gpd.GeoDataFrame:
    """Rename the first present alias of each column to its model name; error on missing ones.

    Sources deliver the same field under different names per channel (a WFS gives
    ``gemeentecode``, a Shapefile ``GM_CODE``); the model knows one name.
    """
    renames: dict[str, str] = {}
    missing: list[str] = []
    lower = {c.lower(): c for c in frame.columns}
    for target, names in aliases.items():
        found = next((lower[n.lower()] for n in names if n.lower() in lower), None)
        if found is None:
            missing.append(f"{target} (one of {', '.join(names)})")
        else:
            renames[found] = target
    if missing:
        raise CorruptInput(
            f"source {fetched.spec.id!r}, file {fetched.path}: missing column(s) "
            + "; ".join(missing),
            hint=f"the file has the columns {', '.join(map(str, frame.columns))}",
        )
    return frame.rename(columns=renames)


def _gdal_path(path: Path) -> str:
    return f"/vsizip/{path}" if path.suffix.lower() == ".zip" else str(path)


def _pick_layer(path: str, hint: str) -> str | None:
    if not hint:
        return None  # the first layer; listing layers would parse a GeoJSON file twice
    layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    if not layers:
        raise CorruptInput(f"{path} holds no layers")
    if len(layers) == 1:
        return layers[0]
    matching = [name for name in layers if hint in name.lower()]
    return matching[0] if matching else layers[0]
