"""InVEST 3.20.2 Urban Flood Risk Mitigation on InVEST's own inputs: files in, InVEST's rasters out.

Takes the land cover, the AOI (watersheds) vector, the rain depth, the hydrologic soil group
raster (1..4 = A..D) and the curve-number CSV (``lucode, cn_a, cn_b, cn_c, cn_d``). Validates
them (every problem names its file, row and column, all reported at once), aligns both rasters as
InVEST does (``mode`` resampling, the intersection of the LULC, soil and AOI bounding boxes with
its lower-left corner snapped to the LULC grid, the LULC pixel size), and writes
``Runoff_retention_index.tif``, ``Runoff_retention_m3.tif``, ``Q_mm.tif`` and, under
``intermediate_files/``, ``Q_m3.tif``, ``cn_raster.tif`` and ``s_max.tif`` with InVEST's names,
float32 and nodata values (:func:`biostresstest.analysis.runoff.urban_flood`).

Not written: ``flood_risk_service.shp`` (per-watershed sums and the optional building damage).
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.enums import Resampling
from rasterio.warp import transform_bounds

from biostresstest.analysis.habitat_quality import Problem
from biostresstest.analysis.runoff import (
    Q_M3_NODATA,
    Q_NODATA,
    RETENTION_NODATA,
    S_MAX_NODATA,
    urban_flood,
)
from biostresstest.core.errors import InvalidInput
from biostresstest.pipeline.invest_files import (
    Grid,
    geotiff_profile,
    open_raster,
    raise_problems,
    warped,
)

CN_COLUMNS = ("cn_a", "cn_b", "cn_c", "cn_d")
OUTPUTS = {
    "Runoff_retention_index": ("Runoff_retention_index.tif", RETENTION_NODATA),
    "Runoff_retention_m3": ("Runoff_retention_m3.tif", RETENTION_NODATA),
    "Q_mm": ("Q_mm.tif", Q_NODATA),
    "Q_m3": ("intermediate_files/Q_m3.tif", Q_M3_NODATA),
    "cn_raster": ("intermediate_files/cn_raster.tif", -1.0),
    "s_max": ("intermediate_files/s_max.tif", S_MAX_NODATA),
}
"""Output name → (path under the output folder, nodata), as InVEST 3.20.2 writes them."""


@dataclass(frozen=True)
class UrbanFloodArgs:
    """InVEST's arguments (``lulc_path`` ... ``curve_number_table_path``)."""

    lulc: Path
    aoi: Path
    rainfall_depth: float
    soils: Path
    curve_number_table: Path


@dataclass
class UrbanFloodResult:
    """What a run wrote."""

    outputs: dict[str, Path]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def read_cn_table(
    path: Path, problems: list[Problem]
) -> dict[int, tuple[float, float, float, float]]:
    """``lucode → (cn_a..cn_d)``; column names are matched case-insensitively as InVEST does."""
    where = str(path)
    try:
        text = path.read_text("utf-8-sig")
    except FileNotFoundError:
        problems.append(Problem(where, "the curve number table does not exist"))
        return {}
    except (UnicodeDecodeError, OSError) as exc:
        problems.append(Problem(where, f"cannot read it as UTF-8 text: {exc}", kind="corrupt"))
        return {}
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not any(c.strip() for c in rows[0]):
        problems.append(Problem(where, "the curve number table is empty", kind="corrupt"))
        return {}
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in ("lucode", *CN_COLUMNS) if c not in header]
    for column in missing:
        problems.append(Problem(where, "required column is missing", 1, column))
    if missing:
        return {}
    table: dict[int, tuple[float, float, float, float]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        cells = dict(zip(header, (c.strip() for c in row), strict=False))
        try:
            code = int(float(cells.get("lucode", "")))
            if code != float(cells["lucode"]) or code < 0:
                raise ValueError
        except (ValueError, KeyError):
            problems.append(
                Problem(
                    where, f"{cells.get('lucode', '')!r} is not a whole number >= 0", line, "lucode"
                )
            )
            continue
        values = []
        for column in CN_COLUMNS:
            try:
                value = float(cells.get(column, ""))
            except ValueError:
                value = float("nan")
            if not 0 < value <= 100:
                problems.append(
                    Problem(
                        where,
                        f"{cells.get(column, '')!r} is not a number in 0 < CN <= 100",
                        line,
                        column,
                    )
                )
            values.append(value)
        if code in table:
            problems.append(Problem(where, f"lucode {code} appears twice", line, "lucode"))
        table[code] = (values[0], values[1], values[2], values[3])
    return table


def _open(path: Path, what: str, problems: list[Problem]) -> rasterio.io.DatasetReader | None:
    ds = open_raster(path, what, problems)
    if ds is not None and ds.crs is None:
        problems.append(
            Problem(str(path), f"{what}: has no coordinate reference system", kind="crs")
        )
    return ds


def _aoi_bounds(path: Path, problems: list[Problem]) -> tuple[tuple[float, ...], str] | None:
    import pyogrio

    if not path.exists():
        problems.append(Problem(str(path), "AOI vector: file not found"))
        return None
    try:
        info = pyogrio.read_info(path)
    except Exception as exc:  # pyogrio raises several kinds for unreadable files
        problems.append(Problem(str(path), f"AOI vector: cannot read it ({exc})", kind="corrupt"))
        return None
    if not info.get("features"):
        problems.append(Problem(str(path), "AOI vector has no features"))
        return None
    if not info.get("crs"):
        problems.append(
            Problem(str(path), "AOI vector has no coordinate reference system", kind="crs")
        )
        return None
    return tuple(float(v) for v in info["total_bounds"]), str(info["crs"])


def target_grid(lulc: rasterio.io.DatasetReader, boxes: list[tuple[float, ...]]) -> Grid | None:
    """pygeoprocessing's aligned grid: the boxes' intersection, lower-left snapped to the LULC."""
    px, py = lulc.transform.a, lulc.transform.e
    minx = max(b[0] for b in boxes)
    miny = max(b[1] for b in boxes)
    maxx = min(b[2] for b in boxes)
    maxy = min(b[3] for b in boxes)
    if minx >= maxx or miny >= maxy:
        return None
    ax, ay = lulc.bounds.left, lulc.bounds.bottom
    minx = int((minx - ax) / float(px)) * px + ax
    miny = int((miny - ay) / float(py)) * py + ay
    sizes = []
    for extent, pixel in ((maxx - minx, px), (maxy - miny, py)):
        n = int(abs(float(extent) / pixel))
        if not np.isclose(abs(n * pixel) - extent, 0.0):
            n += 1
        sizes.append(max(n, 1))
    top = miny + abs(py) * sizes[1]
    return Grid(lulc.crs, Affine(px, 0.0, minx, 0.0, py, top), sizes[0], sizes[1])


def _read(ds: rasterio.io.DatasetReader, grid: Grid) -> np.ndarray:
    with warped(ds, grid, Resampling.mode) as vrt:
        return vrt.read(1)


def _cell(mask: np.ndarray, file: str, what: str) -> Problem:
    row, col = (int(v) + 1 for v in np.argwhere(mask)[0])
    return Problem(file, f"{what} (first at pixel row {row}, column {col} of the aligned grid)")


def run_urban_flood(args: UrbanFloodArgs, out_dir: Path) -> UrbanFloodResult:
    """Validate, align, compute and write InVEST's Urban Flood Risk Mitigation rasters."""
    start = time.perf_counter()
    problems: list[Problem] = []
    if not args.rainfall_depth > 0:
        problems.append(Problem("--rainfall-depth", f"{args.rainfall_depth} must be > 0 (mm)"))
    table = read_cn_table(Path(args.curve_number_table), problems)
    lulc = _open(Path(args.lulc), "land cover", problems)
    soil = _open(Path(args.soils), "soil group raster", problems)
    aoi = _aoi_bounds(Path(args.aoi), problems)
    _raise(problems)
    assert lulc is not None and soil is not None and aoi is not None
    with lulc, soil:
        boxes = [tuple(lulc.bounds), transform_bounds(soil.crs, lulc.crs, *soil.bounds)]
        boxes.append(transform_bounds(aoi[1], lulc.crs, *aoi[0]))
        grid = target_grid(lulc, boxes)
        if grid is None:
            raise InvalidInput(
                f"{args.lulc}, {args.soils} and {args.aoi} do not overlap",
                hint="the land cover, soil raster and AOI must cover a common area",
            )
        classes, soils = _read(lulc, grid), _read(soil, grid)
        valid = np.ones(classes.shape, bool)
        for array, nodata in ((classes, lulc.nodata), (soils, soil.nodata)):
            if nodata is not None:
                valid &= ~(np.isnan(array) if np.isnan(nodata) else np.isclose(array, nodata))
        missing = valid & ~np.isin(classes, list(table))
        if missing.any():
            codes = sorted({int(v) for v in np.unique(classes[missing])})
            problems.append(
                _cell(
                    missing,
                    str(args.curve_number_table),
                    f"no row for lucode(s) {codes[:20]} found in {args.lulc}",
                )
            )
        bad = valid & ~np.isin(soils, [1, 2, 3, 4])
        if bad.any():
            values = sorted({float(v) for v in np.unique(soils[bad])})[:10]
            problems.append(
                _cell(bad, str(args.soils), f"values {values} are not soil groups 1, 2, 3, 4")
            )
        _raise(problems)
        cell_area = abs(grid.transform.a * grid.transform.e)
        arrays = urban_flood(
            classes, soils, table, args.rainfall_depth, cell_area, lulc.nodata, soil.nodata
        )
    result = UrbanFloodResult({})
    for name, (relative, nodata) in OUTPUTS.items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        profile = geotiff_profile(grid, "float32", nodata, "none")
        with rasterio.open(path, "w", **profile) as ds:
            ds.write(arrays[name], 1)
        result.outputs[name] = path
    result.seconds = round(time.perf_counter() - start, 3)
    return result


def _raise(problems: list[Problem]) -> None:
    raise_problems(problems, "Urban Flood Risk Mitigation")
