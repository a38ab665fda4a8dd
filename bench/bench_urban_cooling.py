"""Benchmark Urban Cooling: natcap.invest 3.20.2 against biostresstest, files in -> files out.

The case is the large one of ``shared/reference/invest.md`` §6: a synthetic 3000 x 3000 town at
10 m in EPSG:28992 (buildings, streets, gardens, parks, woods, water, a nodata corner), an ET0
raster on a 100 m grid, an AOI covering the raster, InVEST's recommended distances (450 m cooling,
500 m air mixing). Both tools read the same files and write cc.tif, hm.tif and T_air.tif; each
runs as a child process measured with ``os.wait4`` (wall, CPU, peak RSS). Then every output of
ours is compared with InVEST's.

natcap.invest comes from a separate venv (``--invest-venv``, default /tmp/invest-venv, built by
``tests/golden/habitat_quality/generate.py``); without it only our side runs.

Writes bench/results/urban_cooling.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from _common import (
    best_ratios,
    environment,
    print_table,
    side_by_side,
    write_json,
)
from affine import Affine
from rasterio.crs import CRS

OUTPUTS = ("cc.tif", "hm.tif", "T_air.tif")
TOLERANCE = {"cc.tif": 1e-6, "hm.tif": 1e-6, "T_air.tif": 1e-4}
CLASSES = (  # code, kc, green_area, shade, albedo
    (1, 0.0, 0, 0.0, 0.15),  # building
    (2, 0.0, 0, 0.05, 0.1),  # road
    (3, 0.1, 0, 0.1, 0.2),  # paved
    (4, 0.7, 1, 0.3, 0.2),  # garden
    (5, 0.9, 1, 0.0, 0.25),  # grass
    (6, 1.0, 1, 0.8, 0.15),  # trees
    (7, 1.05, 0, 0.0, 0.08),  # water
)
PARAMS = {
    "green_area_cooling_distance": 450.0,
    "t_air_average_radius": 500.0,
    "t_ref": 24.1,
    "uhi_max": 2.0,
}
INVEST_RUNNER = r"""
import json, sys
from natcap.invest import urban_cooling_model
urban_cooling_model.execute(json.loads(sys.argv[1]))
"""
ORIGIN = (100_000.0, 420_000.0)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=3000, help="rows = cols (default 3000)")
    parser.add_argument("--invest-venv", type=Path, default=Path("/tmp/invest-venv"))
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "bst-uc-bench")
    parser.add_argument("--runs", type=int, default=1, help="timed runs of each tool")
    parser.add_argument("--timeout", type=float, default=1200.0)
    parser.add_argument("--no-invest", action="store_true", help="run only ours")
    return parser.parse_args()


def _smooth(rng: np.random.Generator, n: int, scale: int) -> np.ndarray:
    coarse = rng.random((n // scale + 3, n // scale + 3)).astype(np.float32)
    fine = np.repeat(np.repeat(coarse, scale, axis=0), scale, axis=1)
    for axis in (0, 1):
        c = np.cumsum(fine, axis=axis, dtype=np.float64)
        hi = np.take(c, np.arange(scale, c.shape[axis]), axis=axis)
        lo = np.take(c, np.arange(0, c.shape[axis] - scale), axis=axis)
        fine = ((hi - lo) / scale).astype(np.float32)
    return fine[:n, :n]


def _town(rng: np.random.Generator, n: int) -> np.ndarray:
    base = _smooth(rng, n, 12)
    parks = _smooth(rng, n, 150)
    lulc = np.full((n, n), 3, np.uint8)
    lulc[base > 0.52] = 1
    lulc[(base > 0.42) & (base <= 0.52)] = 4
    lulc[base < 0.36] = 5
    lulc[parks > 0.62] = 6
    lulc[parks < 0.3] = 5
    lulc[(parks < 0.26) & (base < 0.45)] = 7
    for r in range(int(rng.integers(5, 30)), n, int(rng.integers(40, 70))):
        lulc[r : r + 2, :] = 2
    for c in range(int(rng.integers(5, 30)), n, int(rng.integers(45, 80))):
        lulc[:, c : c + 2] = 2
    lulc[: n // 20, : n // 3] = 255  # outside the municipality
    return lulc


def _write(path: Path, array: np.ndarray, nodata: float | None, pixel: float) -> None:
    profile = {
        "driver": "GTiff",
        "height": array.shape[0],
        "width": array.shape[1],
        "count": 1,
        "dtype": array.dtype.name,
        "crs": CRS.from_epsg(28992),
        "transform": Affine(pixel, 0, ORIGIN[0], 0, -pixel, ORIGIN[1]),
        "nodata": nodata,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "lzw",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)


def make_inputs(folder: Path, n: int) -> dict[str, Any]:
    """Write the case (once per size) and return InVEST's args with absolute paths."""
    marker = folder / f"ready-{n}.json"
    if marker.exists():
        return dict(json.loads(marker.read_text("utf-8")))
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(3000)
    _write(folder / "lulc.tif", _town(rng, n), 255, 10.0)
    m = n // 10 + 1
    _write(folder / "ref_eto.tif", (4.2 + 1.6 * _smooth(rng, m, 8)).astype(np.float32), None, 100.0)
    side = n * 10.0
    aoi = shapely.box(ORIGIN[0], ORIGIN[1] - side, ORIGIN[0] + side, ORIGIN[1])
    gpd.GeoDataFrame({"name": ["aoi"]}, geometry=[aoi], crs="EPSG:28992").to_file(
        folder / "aoi.gpkg", driver="GPKG"
    )
    lines = ["lucode,kc,green_area,shade,albedo"]
    lines += [",".join(f"{v:g}" for v in row) for row in CLASSES]
    (folder / "biophysical.csv").write_text("\n".join(lines) + "\n", "utf-8")
    args = {
        "lulc_raster_path": str(folder / "lulc.tif"),
        "ref_eto_raster_path": str(folder / "ref_eto.tif"),
        "aoi_vector_path": str(folder / "aoi.gpkg"),
        "biophysical_table_path": str(folder / "biophysical.csv"),
        "cc_method": "factors",
        "do_energy_valuation": False,
        "do_productivity_valuation": False,
        "results_suffix": "",
        "n_workers": -1,
        **PARAMS,
    }
    marker.write_text(json.dumps(args, indent=2), "utf-8")
    return args


def ours_command(args: dict[str, Any], out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "biostresstest.invest_cli",
        "urban-cooling",
        "--lulc",
        args["lulc_raster_path"],
        "--ref-eto",
        args["ref_eto_raster_path"],
        "--aoi",
        args["aoi_vector_path"],
        "--biophysical-table",
        args["biophysical_table_path"],
        "--green-area-cooling-distance",
        str(args["green_area_cooling_distance"]),
        "--t-air-average-radius",
        str(args["t_air_average_radius"]),
        "--t-ref",
        str(args["t_ref"]),
        "--uhi-max",
        str(args["uhi_max"]),
        "--out",
        str(out),
    ]


def compare(ours: Path, invest: Path) -> dict[str, Any]:
    """Max |ours - InVEST| over cells valid in both, and whether the nodata masks agree."""
    result: dict[str, Any] = {}
    for name in OUTPUTS:
        a_path, b_path = ours / name, invest / name
        if not (a_path.exists() and b_path.exists()):
            result[name] = {"missing": [str(p) for p in (a_path, b_path) if not p.exists()]}
            continue
        with rasterio.open(a_path) as a_ds, rasterio.open(b_path) as b_ds:
            a, b = a_ds.read(1), b_ds.read(1)
            a_mask, b_mask = a == a_ds.nodata, b == b_ds.nodata
            same_meta = (
                a_ds.dtypes == b_ds.dtypes
                and a_ds.nodata == b_ds.nodata
                and a_ds.transform == b_ds.transform
                and a.shape == b.shape
            )
        valid = ~a_mask & ~b_mask
        diff = np.abs(a[valid].astype(np.float64) - b[valid].astype(np.float64))
        worst = float(diff.max()) if diff.size else 0.0
        result[name] = {
            "max_abs_diff": worst,
            "within_tolerance": worst <= TOLERANCE[name],
            "masks_equal": bool(np.array_equal(a_mask, b_mask)),
            "same_dtype_nodata_grid": bool(same_meta),
        }
    return result


def main() -> int:
    opts = parse_args()
    print(f"inputs: {opts.data} ({opts.size} x {opts.size})", flush=True)
    args = make_inputs(opts.data, opts.size)
    invest_python = opts.invest_venv / "bin" / "python"
    have_invest = invest_python.exists() and not opts.no_invest
    if not have_invest and not opts.no_invest:
        print(f"natcap.invest venv {opts.invest_venv} not found: running only ours.")
    work = Path(tempfile.mkdtemp(prefix="bst-uc-bench-out-"))
    env = {"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1", "HOME": str(Path.home())}
    rows: list[list[str]] = []
    failed = False
    try:

        def invest_command(i: int) -> list[str]:
            workspace = dict(args, workspace_dir=str(work / f"invest{i}"))
            return [str(invest_python), "-c", INVEST_RUNNER, json.dumps(workspace)]

        runs, failed_runs = side_by_side(
            opts.runs,
            invest_command if have_invest else None,
            lambda i: ours_command(args, work / f"ours{i}"),
            env,
            "uc",
            opts.timeout,
            rows,
        )
        failed |= failed_runs
        summary: dict[str, Any] = {}
        if have_invest and not failed:
            summary = {**best_ratios(runs), "diff": compare(work / "ours0", work / "invest0")}
            print(
                f"\nspeed-up (wall, best of {opts.runs}): {summary['speedup_wall']}x; "
                f"peak RSS ours/InVEST: {summary['memory_ratio']:.2f}"
            )
            print_table(
                ["output", "max |diff|", "within tolerance", "masks equal", "dtype/nodata/grid"],
                [
                    [
                        k,
                        f"{v.get('max_abs_diff', float('nan')):.3g}",
                        str(v.get("within_tolerance", "-")),
                        str(v.get("masks_equal", "-")),
                        str(v.get("same_dtype_nodata_grid", "-")),
                    ]
                    for k, v in summary["diff"].items()
                ],
            )
            failed |= not all(v.get("within_tolerance", False) for v in summary["diff"].values())
        path = write_json(
            "urban_cooling.json",
            {
                "benchmark": "urban_cooling",
                "case": {"size": opts.size, "cell_m": 10, "eto_cell_m": 100, **PARAMS},
                "environment": environment(),
                "runs": {k: [r.as_dict() for r in v] for k, v in runs.items()},
                "invest_skipped": not have_invest,
                **summary,
                "ok": not failed,
            },
        )
        print(f"\nwrote {path}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
