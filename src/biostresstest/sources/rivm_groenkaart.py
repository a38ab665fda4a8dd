"""RIVM Groenkaart: the share of green (vegetation) per 10 m cell, 0–100 %."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.warp import reproject
from rasterio.windows import from_bounds

from biostresstest.core.errors import CorruptInput, CRSMismatch
from biostresstest.model.grid import AnalysisGrid
from biostresstest.sources.base import FetchedFile, Level, SourceSpec

SPEC = SourceSpec(
    id="rivm-groenkaart",
    title="RIVM Groenkaart van Nederland (10 m)",
    publisher="RIVM, Atlas Natuurlijk Kapitaal",
    level=Level.NL,
    licence="RIVM open data (cited elsewhere as CC BY 4.0)",
    theme="green",
    url="https://data.rivm.nl/geo/ank/wcs?service=WCS&version=1.0.0&request=GetCoverage"
    "&coverage=ank:rivm_groenkaart_10m&CRS=EPSG:28992&RESPONSE_CRS=EPSG:28992"
    "&BBOX={bbox}&RESX=10&RESY=10&FORMAT=GeoTIFF",
    mirror_path="breda-rivm-groenkaart-10m/rivm_groenkaart_10x10m_clip_breda.tif",
    online_name="groenkaart.tif",
    format="GeoTIFF",
    crs="EPSG:28992",
    resolution="10 m",
    date="2020",
    mirror_gemeenten=("GM0758",),
)

NODATA = 255
"""The Groenkaart's NoData: cells the map leaves out (mostly buildings and water)."""


@dataclass(frozen=True)
class GreenOnGrid:
    """The Groenkaart resampled onto an analysis grid."""

    green: np.ndarray
    """Share of green 0..1 (float32); NaN outside the map's extent."""
    nodata_share: np.ndarray
    """Share 0..1 of each cell that the map marks NoData (counted as not green)."""


def read_green(fetched: FetchedFile, grid: AnalysisGrid) -> GreenOnGrid:
    """The green share on ``grid``.

    Following the Atlas Natuurlijk Kapitaal method, NoData cells inside the map count as 0 %
    green (they are mostly buildings and water); their share is kept as a layer of its own.
    Cells of the grid outside the map's extent are NaN.
    """
    what = f"source {fetched.spec.id!r} ({fetched.spec.title}), file {fetched.path}"
    try:
        with rasterio.open(fetched.path) as src:
            _check(src, grid, what)
            window = (
                from_bounds(*grid.bounds, transform=src.transform)
                .round_offsets(op="floor")
                .round_lengths(op="ceil")
            )
            raw = src.read(1, window=window, boundless=True, fill_value=NODATA)
            transform = src.window_transform(window)
            crs = src.crs
            extent = _extent_mask(src, window)
    except (CorruptInput, CRSMismatch):
        raise
    except RasterioError as exc:
        raise CorruptInput(
            f"{what} cannot be read: {exc}",
            hint="the file is damaged: delete it from the raw cache (or fix the mirror copy) "
            "and run again",
        ) from exc
    if raw[raw != NODATA].max(initial=0) > 100:
        raise CorruptInput(f"{what} holds values above 100 %; is this the Groenkaart?")
    nodata = ((raw == NODATA) & extent).astype("float32")
    green = np.where(raw == NODATA, 0, raw).astype("float32") / 100.0
    green[~extent] = np.nan
    nodata[~extent] = np.nan
    return GreenOnGrid(
        green=_to_grid(green, transform, crs, grid),
        nodata_share=_to_grid(nodata, transform, crs, grid),
    )


def _check(src: rasterio.io.DatasetReader, grid: AnalysisGrid, what: str) -> None:
    if src.crs is None or src.crs.to_epsg() != 28992:
        raise CRSMismatch(
            f"{what} is in {src.crs or 'no CRS'}, not EPSG:28992 (RD New)",
            hint="reproject it first, for instance `gdalwarp -t_srs EPSG:28992 -tr 10 10 in out`",
        )
    left, bottom, right, top = src.bounds
    gx0, gy0, gx1, gy1 = grid.bounds
    if right <= gx0 or left >= gx1 or top <= gy0 or bottom >= gy1:
        raise CorruptInput(
            f"{what} does not cover the area (raster {src.bounds}, area {grid.bounds})",
            hint="this copy is cut to "
            + (", ".join(SPEC.mirror_gemeenten) or "another area")
            + "; unset BIOSTRESSTEST_MIRROR to fetch the area online",
        )


def _extent_mask(src: rasterio.io.DatasetReader, window: rasterio.windows.Window) -> np.ndarray:
    """True for cells of ``window`` that lie inside the raster."""
    rows = np.arange(window.row_off, window.row_off + window.height)
    cols = np.arange(window.col_off, window.col_off + window.width)
    in_rows = (rows >= 0) & (rows < src.height)
    in_cols = (cols >= 0) & (cols < src.width)
    return np.outer(in_rows, in_cols)


def _to_grid(
    array: np.ndarray, transform: rasterio.Affine, crs: rasterio.crs.CRS, grid: AnalysisGrid
) -> np.ndarray:
    """Area-weighted resampling onto the grid (an identity when the grids coincide)."""
    out = np.full(grid.shape, np.nan, dtype="float32")
    reproject(
        source=array,
        destination=out,
        src_transform=transform,
        src_crs=crs,
        src_nodata=np.nan,
        dst_transform=grid.transform,
        dst_crs=grid.crs,
        dst_nodata=np.nan,
        resampling=Resampling.average,
    )
    return out
