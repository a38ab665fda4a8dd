"""InVEST's input and output files, as every InVEST model here reads and writes them.

Shared by Habitat Quality (:mod:`.invest_hq`), Urban Cooling (:mod:`.invest_uc`) and Urban Flood
Risk Mitigation (:mod:`.invest_uf`): the aligned output grid and a raster warped onto it, InVEST's
CSV tables, opening rasters with a located problem instead of an exception, raising all problems
of a run at once, and the GeoTIFF profile of the outputs.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT

from biostresstest.analysis.habitat_quality import Problem
from biostresstest.core.errors import CorruptInput, CRSMismatch, InvalidInput

COMPRESSIONS = ("none", "lzw", "zstd", "deflate")
"""GeoTIFF compressions the outputs may be written with (InVEST itself uses lzw)."""
REFUSED = "fix these in the files named; InVEST 3.20.2 would refuse them too"
"""The hint of every input error of an InVEST model."""


@dataclass(frozen=True)
class Grid:
    """The aligned grid every output of a run is written on."""

    crs: CRS
    transform: Affine
    width: int
    height: int

    @property
    def pixel(self) -> float:
        """Pixel size in metres."""
        return float(self.transform.a)


def warped(ds: rasterio.io.DatasetReader, grid: Grid, resampling: Resampling) -> WarpedVRT:
    """``ds`` seen on ``grid`` through GDAL's warper (its nodata kept), read lazily."""
    return WarpedVRT(
        ds,
        crs=grid.crs,
        transform=grid.transform,
        width=grid.width,
        height=grid.height,
        resampling=resampling,
        src_nodata=ds.nodata,
        nodata=ds.nodata,
    )


def check_compression(compress: str) -> None:
    """Refuse a compression GDAL is not asked for here."""
    if compress not in COMPRESSIONS:
        raise InvalidInput(f"unknown compression {compress!r}", hint=f"use one of {COMPRESSIONS}")


def read_csv(path: Path, role: str, problems: list[Problem]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV as InVEST reads it (UTF-8, optional BOM, sniffed separator).

    A missing, unreadable or empty file becomes a problem (``role`` names the table in it) and
    gives no header and no rows.
    """
    try:
        text = path.read_text("utf-8-sig")
    except FileNotFoundError:
        problems.append(Problem(str(path), f"the {role} does not exist"))
        return [], []
    except (UnicodeDecodeError, OSError) as exc:
        problems.append(
            Problem(str(path), f"cannot read the {role} as UTF-8 text: {exc}", kind="corrupt")
        )
        return [], []
    first = text.splitlines()[0] if text.strip() else ""
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(first, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        problems.append(Problem(str(path), f"the {role} is empty", kind="corrupt"))
        return [], []
    return rows[0], rows[1:]


def open_raster(path: Path, what: str, problems: list[Problem]) -> rasterio.io.DatasetReader | None:
    """The raster at ``path``, or None with a problem saying why not (``what`` names it)."""
    if not Path(path).exists():
        problems.append(Problem(str(path), f"{what}: file not found"))
        return None
    try:
        return rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        problems.append(
            Problem(str(path), f"{what}: not a raster GDAL can read ({exc})", kind="corrupt")
        )
        return None


def raise_problems(problems: list[Problem], model: str, hint: str = REFUSED) -> None:
    """Raise all ``problems`` of a ``model``'s inputs as one error; nothing when there are none.

    Only CRS problems → :class:`CRSMismatch`, only unreadable files → :class:`CorruptInput`,
    anything else (or a mix) → :class:`InvalidInput`.
    """
    if not problems:
        return
    kinds = {p.kind for p in problems}
    cls = (
        CRSMismatch if kinds == {"crs"} else CorruptInput if kinds == {"corrupt"} else InvalidInput
    )
    lines = "\n".join(f"  - {p}" for p in problems)
    raise cls(f"{len(problems)} problem(s) with the {model} inputs:\n{lines}", hint=hint)


def geotiff_profile(grid: Grid, dtype: str, nodata: float, compress: str) -> dict[str, object]:
    """A tiled one-band GeoTIFF on ``grid`` (BigTIFF when it might pass 4 GiB)."""
    profile: dict[str, object] = {
        "driver": "GTiff",
        "dtype": dtype,
        "count": 1,
        "nodata": nodata,
        "crs": grid.crs,
        "transform": grid.transform,
        "width": grid.width,
        "height": grid.height,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "BIGTIFF": "IF_SAFER",
    }
    if compress != "none":
        profile.update(compress=compress, num_threads="ALL_CPUS")
    return profile
