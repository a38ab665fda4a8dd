"""InVEST 3.20.2 Urban Cooling on InVEST's own inputs: files in, cc/hm/T_air GeoTIFFs out.

Takes the land cover, the reference evapotranspiration (ET0) raster, the AOI vector and the
biophysical table (``lucode``, ``kc``, ``green_area``, ``shade``, ``albedo``; names matched
case-insensitively), checks them (every problem names its file, row and column, all reported at
once), aligns the rasters as InVEST does and writes InVEST's three maps with its dtypes and nodata
values (cc/hm float32 nodata -1, T_air float64 nodata -FLT_MAX).

Alignment (pygeoprocessing ``align_and_resize_raster_stack``): square pixels of min(|dx|, |dy|)
of the land cover, the intersection of the land-cover, ET0 and AOI bounding boxes with its lower
left corner snapped to the land-cover grid, land cover resampled with ``mode``, ET0 with
``cubicspline`` (GDAL's warper, as InVEST). The AOI polygon masks nothing.

Differences from InVEST, on purpose: ``green_area`` must be 0/1 (or true/false; InVEST takes any
non-zero number as green); radii below half a cell are refused (InVEST writes NaN); no
``uhi_results.shp``, no intermediate rasters, no energy or productivity valuation.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.warp import reproject, transform
from rasterio.windows import Window

from biostresstest.analysis import habitat_quality as hq
from biostresstest.analysis import urban_cooling as uc
from biostresstest.core.errors import InvalidInput
from biostresstest.pipeline.invest_files import (
    Grid,
    check_compression,
    geotiff_profile,
    open_raster,
    raise_problems,
    read_csv,
)

EDGE_SAMPLES = 11
"""Points per bounding-box edge when a box is moved to another CRS (pygeoprocessing's default)."""


@dataclass(frozen=True)
class UrbanCoolingArgs:
    """InVEST's arguments for ``cc_method=factors`` (no valuation)."""

    lulc: Path
    ref_eto: Path
    aoi: Path
    biophysical_table: Path
    green_area_cooling_distance: float
    t_air_average_radius: float
    t_ref: float
    uhi_max: float
    weights: uc.CoolingWeights = field(default_factory=uc.CoolingWeights)


@dataclass
class UrbanCoolingResult:
    """What a run wrote."""

    outputs: dict[str, Path]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _box_in(bounds: tuple[float, ...], source: CRS, target: CRS) -> tuple[float, ...]:
    """pygeoprocessing's ``transform_bounding_box``: the box around 11 points per edge."""
    if source == target:
        return tuple(float(b) for b in bounds)
    xmin, ymin, xmax, ymax = bounds
    steps = np.linspace(0, 1, EDGE_SAMPLES)
    edges = [((xmin, ymax), (xmin, ymin)), ((xmin, ymin), (xmax, ymin))]
    edges += [((xmax, ymin), (xmax, ymax)), ((xmax, ymax), (xmin, ymax))]
    out = []
    for (ax, ay), (bx, by) in edges:
        xs, ys = transform(
            source, target, list(ax * steps + bx * (1 - steps)), list(ay * steps + by * (1 - steps))
        )
        out.append((xs, ys))
    x0, y0, x1, y1 = min(out[0][0]), min(out[1][1]), max(out[2][0]), max(out[3][1])
    (x0, x1), (y0, y1) = sorted((x0, x1)), sorted((y0, y1))
    return x0, y0, x1, y1


def target_grid(
    lulc: rasterio.io.DatasetReader, boxes: list[tuple[float, ...]], where: str
) -> Grid:
    """The intersection of ``boxes`` snapped to the land cover and cut into square pixels."""
    box = list(boxes[0])
    for other in boxes[1:]:
        box = [
            max(box[0], other[0]),
            max(box[1], other[1]),
            min(box[2], other[2]),
            min(box[3], other[3]),
        ]
    if box[0] > box[2] or box[1] > box[3]:
        raise InvalidInput(
            f"the land cover, the ET0 raster and the AOI do not overlap ({where})",
            hint="all three must cover the same area; check their extents and CRSs",
        )
    left, bottom = lulc.bounds.left, lulc.bounds.bottom
    pixel = (lulc.transform.a, lulc.transform.e)
    for index, origin in ((0, left), (1, bottom)):
        n = int((box[index] - origin) / float(pixel[index]))
        box[index] = n * pixel[index] + origin
    cell = float(min(abs(pixel[0]), abs(pixel[1])))
    sizes = []
    for lo, hi in ((box[0], box[2]), (box[1], box[3])):
        n = int(abs(float(hi - lo) / cell))
        if not np.isclose(abs(n * cell) - (hi - lo), 0.0):
            n += 1
        sizes.append(max(n, 1))
    top = box[1] + cell * sizes[1]
    return Grid(lulc.crs, Affine(cell, 0.0, box[0], 0.0, -cell, top), sizes[0], sizes[1])


def _warp(ds: rasterio.io.DatasetReader, grid: Grid, method: Resampling) -> np.ndarray:
    """Band 1 of ``ds`` on ``grid`` (GDAL's warper; a window read when already aligned)."""
    t = ds.transform
    if (
        method is Resampling.mode
        and ds.crs == grid.crs
        and (t.a, t.e) == (grid.transform.a, grid.transform.e)
    ):
        col = (grid.transform.c - t.c) / t.a
        row = (grid.transform.f - t.f) / t.e
        if float(col).is_integer() and float(row).is_integer():
            window = Window(int(col), int(row), grid.width, grid.height)
            fill = ds.nodata if ds.nodata is not None else 0
            return ds.read(1, window=window, boundless=True, fill_value=fill)
    fill = ds.nodata if ds.nodata is not None else 0
    out = np.full((grid.height, grid.width), fill, ds.dtypes[0])
    reproject(
        rasterio.band(ds, 1),
        out,
        src_nodata=ds.nodata,
        dst_transform=grid.transform,
        dst_crs=grid.crs,
        dst_nodata=ds.nodata,
        resampling=method,
        init_dest_nodata=False,
        num_threads=os.cpu_count() or 1,
    )
    return out


def _aoi_box(path: Path, target: CRS, problems: list[hq.Problem]) -> tuple[float, ...] | None:
    import pyogrio

    if not Path(path).exists():
        problems.append(hq.Problem(str(path), "AOI vector: file not found"))
        return None
    try:
        info = pyogrio.read_info(path)
    except Exception as exc:  # pyogrio raises several kinds for unreadable files
        problems.append(
            hq.Problem(str(path), f"AOI vector: cannot read it ({exc})", kind="corrupt")
        )
        return None
    if not info.get("crs"):
        problems.append(hq.Problem(str(path), "AOI vector has no CRS", kind="crs"))
        return None
    if info["features"] == 0:
        problems.append(hq.Problem(str(path), "AOI vector has no features"))
        return None
    return _box_in(tuple(info["total_bounds"]), CRS.from_user_input(info["crs"]), target)


def _table(path: Path, problems: list[hq.Problem]) -> dict[int, dict[str, float]]:
    header, body = read_csv(path, "biophysical table", problems)
    if not header:
        return {}
    table, found = hq.check_table(uc.BIOPHYSICAL_TABLE, str(path), header, body)
    problems += found
    rows: dict[int, dict[str, float]] = {}
    for row, line in zip(table.rows, table.lines, strict=True):
        code = row.get("lucode")
        if not isinstance(code, int):
            continue
        if code in rows:
            problems.append(hq.Problem(str(path), f"lucode {code} appears twice", line, "lucode"))
        flag = row.get("green_area")
        rows[code] = {name: _number(row.get(name)) for name in ("kc", "shade", "albedo")}
        rows[code]["green_area"] = 1.0 if flag in ("1", "true") else 0.0
    return rows


def _number(value: object) -> float:
    """A checked table cell as float (NaN when the check found it wrong)."""
    return float(value) if isinstance(value, int | float) else float("nan")


def _raise(problems: list[hq.Problem]) -> None:
    raise_problems(problems, "Urban Cooling")


def _parameters(args: UrbanCoolingArgs, problems: list[hq.Problem]) -> None:
    for name in ("green_area_cooling_distance", "t_air_average_radius", "uhi_max"):
        value = getattr(args, name)
        if not value >= 0:
            problems.append(hq.Problem(f"--{name.replace('_', '-')}", f"{value} must be >= 0"))
    for name in ("shade", "albedo", "eti"):
        value = getattr(args.weights, name)
        if not 0 <= value <= 1:
            problems.append(hq.Problem(f"--cc-weight-{name}", f"{value} is outside 0..1"))


def _classify(
    lulc: np.ndarray,
    nodata: float | None,
    rows: dict[int, dict[str, float]],
    where: str,
    table: Path,
) -> tuple[dict[str, np.ndarray], list[hq.Problem]]:
    """The four parameter layers (NaN at nodata) and the codes missing from the table."""
    valid = np.ones(lulc.shape, bool) if nodata is None else lulc != nodata
    low = int(lulc[valid].min()) if valid.any() else 0
    index = lulc.astype(np.intp) - low
    counts = np.bincount(index[valid].ravel())
    index[~valid] = counts.size  # the NaN entry of every look-up table
    codes = np.flatnonzero(counts) + low
    problems = []
    layers = {}
    for name in ("shade", "albedo", "kc", "green_area"):
        lut = np.full(counts.size + 1, np.nan, np.float32)
        for code in codes:
            lut[code - low] = rows.get(int(code), {}).get(name, np.nan)
        layers[name] = lut[index]
    for code in codes:
        if int(code) not in rows:
            hits = np.flatnonzero(lulc == code)
            r, c = divmod(int(hits[0]), lulc.shape[1])
            problems.append(
                hq.Problem(
                    where,
                    f"land-cover value {code} ({hits.size} cells, first at row {r + 1}, column "
                    f"{c + 1} of the aligned grid) is missing from {table} column 'lucode'",
                )
            )
    return layers, problems


def run_urban_cooling(
    args: UrbanCoolingArgs, out_dir: Path, *, compress: str = "none"
) -> UrbanCoolingResult:
    """Validate, align, compute and write ``cc.tif``, ``hm.tif`` and ``T_air.tif``."""
    check_compression(compress)
    start = time.perf_counter()
    problems: list[hq.Problem] = []
    _parameters(args, problems)
    rows = _table(Path(args.biophysical_table), problems)
    lulc_ds = open_raster(Path(args.lulc), "land cover", problems)
    eto_ds = open_raster(Path(args.ref_eto), "reference evapotranspiration", problems)
    if lulc_ds is not None and (lulc_ds.crs is None or not lulc_ds.crs.is_projected):
        problems.append(
            hq.Problem(
                str(args.lulc),
                f"the land cover must be in a projected CRS in metres, not {lulc_ds.crs or 'none'}",
                kind="crs",
            )
        )
    elif lulc_ds is not None and lulc_ds.dtypes[0].startswith("float"):
        problems.append(
            hq.Problem(str(args.lulc), f"land cover must hold integers, not {lulc_ds.dtypes[0]}")
        )
    if eto_ds is not None and eto_ds.crs is None:
        problems.append(hq.Problem(str(args.ref_eto), "the ET0 raster has no CRS", kind="crs"))
    if problems or lulc_ds is None or eto_ds is None:
        _raise(problems)
    assert lulc_ds is not None and eto_ds is not None
    with lulc_ds, eto_ds:
        aoi = _aoi_box(Path(args.aoi), lulc_ds.crs, problems)
        _raise(problems)
        assert aoi is not None
        boxes = [tuple(lulc_ds.bounds), _box_in(tuple(eto_ds.bounds), eto_ds.crs, lulc_ds.crs), aoi]
        grid = target_grid(lulc_ds, boxes, f"{args.lulc}, {args.ref_eto}, {args.aoi}")
        lulc = _warp(lulc_ds, grid, Resampling.mode)
        layers, problems = _classify(
            lulc, lulc_ds.nodata, rows, str(args.lulc), Path(args.biophysical_table)
        )
        _raise(problems)
        # GDAL's warp of ET0 (one core, GIL released) runs while the green area is counted
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(_warp, eto_ds, grid, Resampling.cubic_spline)
            green_sum = uc.green_area_sum(
                layers["green_area"], grid.transform.a, args.green_area_cooling_distance
            )
            eto_raw = pending.result()
        eto = eto_raw.astype(np.result_type(np.float32, eto_raw.dtype))
        if eto_ds.nodata is not None:
            eto[eto_raw == eto_ds.nodata] = np.nan
    result = uc.compute(
        layers["shade"],
        layers["albedo"],
        layers["kc"],
        layers["green_area"],
        eto,
        cell_size=grid.transform.a,
        green_area_cooling_distance=args.green_area_cooling_distance,
        t_air_average_radius=args.t_air_average_radius,
        t_ref=args.t_ref,
        uhi_max=args.uhi_max,
        weights=args.weights,
        green_sum=green_sum,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = {
        "cc": _write(out_dir / "cc.tif", result.cc, "float32", uc.CC_NODATA, grid, compress),
        "hm": _write(out_dir / "hm.tif", result.hm, "float32", uc.CC_NODATA, grid, compress),
        "T_air": _write(
            out_dir / "T_air.tif", result.t_air, "float64", uc.T_AIR_NODATA, grid, compress
        ),
    }
    return UrbanCoolingResult(outputs, seconds=round(time.perf_counter() - start, 3))


def _write(
    path: Path, array: np.ndarray, dtype: str, nodata: float, grid: Grid, compress: str
) -> Path:
    profile = geotiff_profile(grid, dtype, nodata, compress)
    data = np.where(np.isnan(array), nodata, array).astype(dtype)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data, 1)
    return path
