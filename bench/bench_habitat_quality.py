"""Benchmark Habitat Quality: natcap.invest 3.20.2 against biostresstest, files in -> files out.

The case is the large one of ``shared/reference/invest.md`` §6: a synthetic 3000 x 3000 land-cover
map at 10 m in EPSG:28992, four threats (two linear, two exponential) for the current and the
future land cover, and a baseline land cover for rarity. Both tools read the same GeoTIFFs and
tables and write their GeoTIFFs; each runs as a child process, measured with ``os.wait4`` (wall
time, CPU time, peak RSS). Afterwards every output of ours is compared with InVEST's.

natcap.invest comes from a separate venv (``--invest-venv``, default /tmp/invest-venv, built by
``tests/golden/habitat_quality/generate.py``); without it only our side runs.

No threat has a ``base_path``: InVEST 3.20.2 raises ``KeyError: 'deg_sum_b'`` when every threat
has one, so the baseline serves rarity only, as in InVEST's own runs.

Writes bench/results/habitat_quality.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from _common import (
    RESULTS_DIR,
    best_ratios,
    environment,
    print_table,
    run_measured,
    run_row,
    side_by_side,
    write_json,
)
from affine import Affine
from rasterio.crs import CRS

OUTPUTS = (
    "deg_sum_c.tif",
    "quality_c.tif",
    "deg_sum_f.tif",
    "quality_f.tif",
    "rarity_c.tif",
    "rarity_f.tif",
)
THREATS = (  # name, max_dist (m), weight, decay, land-cover codes that are the threat
    ("urban", 2000.0, 1.0, "exponential", (1,)),
    ("roads", 500.0, 0.7, "linear", (2,)),
    ("agri", 1000.0, 0.5, "linear", (3,)),
    ("industry", 3000.0, 0.6, "exponential", (9,)),
)
CLASSES = (  # code, name, habitat, sensitivity to urban, roads, agri, industry
    (1, "urban", 0.0, 0.0, 0.0, 0.0, 0.0),
    (2, "road", 0.0, 0.0, 0.0, 0.0, 0.0),
    (3, "arable", 0.2, 0.2, 0.1, 0.0, 0.1),
    (4, "grassland", 0.6, 0.5, 0.4, 0.3, 0.2),
    (5, "forest", 1.0, 0.8, 0.7, 0.5, 0.35),
    (6, "heath", 0.9, 0.9, 0.6, 0.75, 0.5),
    (7, "water", 0.4, 0.3, 0.2, 0.6, 0.45),
    (8, "wetland", 0.8, 0.7, 0.9, 0.8, 1.0),
    (9, "industry", 0.0, 0.0, 0.0, 0.0, 0.0),
)
INVEST_RUNNER = r"""
import json, sys
from natcap.invest import habitat_quality
habitat_quality.execute(json.loads(sys.argv[1]))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=3000, help="rows = cols (default 3000)")
    parser.add_argument("--invest-venv", type=Path, default=Path("/tmp/invest-venv"))
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(tempfile.gettempdir()) / "bst-hq-bench",
        help="folder for the generated inputs (kept between runs)",
    )
    parser.add_argument("--runs", type=int, default=1, help="timed runs of each tool (default 1)")
    parser.add_argument("--timeout", type=float, default=1200.0)
    parser.add_argument("--no-invest", action="store_true", help="run only ours")
    return parser.parse_args()


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def _smooth(rng: np.random.Generator, n: int, scale: int) -> np.ndarray:
    """Coarse noise upsampled and box-smoothed (separable cumulative sums): a landscape field."""
    coarse = rng.random((n // scale + 3, n // scale + 3)).astype(np.float32)
    fine = np.repeat(np.repeat(coarse, scale, axis=0), scale, axis=1)
    for axis in (0, 1):
        c = np.cumsum(fine, axis=axis, dtype=np.float64)
        hi = np.take(c, np.arange(scale, c.shape[axis]), axis=axis)
        lo = np.take(c, np.arange(0, c.shape[axis] - scale), axis=axis)
        fine = ((hi - lo) / scale).astype(np.float32)
    return fine[:n, :n]


def _landscape(rng: np.random.Generator, n: int, town_share: float) -> np.ndarray:
    base = _smooth(rng, n, 60)
    wet = _smooth(rng, n, 90)
    towns = _smooth(rng, n, 40)
    lulc = np.full((n, n), 4, np.uint8)
    lulc[base < 0.42] = 3
    lulc[base > 0.58] = 5
    lulc[(base > 0.52) & (base <= 0.58) & (wet < 0.47)] = 6
    lulc[wet > 0.6] = 8
    lulc[wet > 0.64] = 7
    lulc[towns > np.quantile(towns, 1 - town_share)] = 1
    for r in range(int(rng.integers(20, 80)), n, int(rng.integers(250, 400))):
        lulc[r : r + 2, :] = 2
    for c in range(int(rng.integers(20, 80)), n, int(rng.integers(300, 450))):
        lulc[:, c : c + 2] = 2
    for _ in range(25):
        r, c = (int(v) for v in rng.integers(0, n - 30, size=2))
        lulc[r : r + 20, c : c + 30] = 9
    lulc[: n // 50, : n // 3] = 255  # a nodata corner
    return lulc


def _write(path: Path, array: np.ndarray, nodata: float | None) -> None:
    n = array.shape[0]
    profile = {
        "driver": "GTiff",
        "height": n,
        "width": n,
        "count": 1,
        "dtype": array.dtype.name,
        "crs": CRS.from_epsg(28992),
        "transform": Affine(10.0, 0, 120_000.0, 0, -10.0, 480_000.0),
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
    (folder / "threats").mkdir(parents=True)
    rng = np.random.default_rng(3000)
    cur = _landscape(rng, n, 0.08)
    fut = cur.copy()
    grow = (_smooth(rng, n, 40) > 0.55) & np.isin(cur, (3, 4))
    fut[grow] = 1
    fut[(fut == 8) & (_smooth(rng, n, 70) > 0.5)] = 3
    bas = _landscape(np.random.default_rng(1900), n, 0.02)
    bas[bas == 9] = 5
    for name, arr in (("cur", cur), ("fut", fut), ("bas", bas)):
        _write(folder / f"lulc_{name}.tif", arr, 255)
    lines = ["threat,max_dist,weight,decay,cur_path,fut_path,base_path"]
    for name, dist, weight, decay, codes in THREATS:
        for scen, arr in (("c", cur), ("f", fut)):
            _write(
                folder / "threats" / f"{name}_{scen}.tif",
                np.isin(arr, codes).astype(np.float32),
                -1.0,
            )
        lines.append(
            f"{name},{dist:g},{weight:g},{decay},threats/{name}_c.tif,threats/{name}_f.tif,"
        )
    (folder / "threats.csv").write_text("\n".join(lines) + "\n", "utf-8")
    sens = ["lucode,name,habitat," + ",".join(t[0] for t in THREATS)]
    sens += [",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in row) for row in CLASSES]
    (folder / "sensitivity.csv").write_text("\n".join(sens) + "\n", "utf-8")
    args = {
        "lulc_cur_path": str(folder / "lulc_cur.tif"),
        "lulc_fut_path": str(folder / "lulc_fut.tif"),
        "lulc_bas_path": str(folder / "lulc_bas.tif"),
        "threats_table_path": str(folder / "threats.csv"),
        "sensitivity_table_path": str(folder / "sensitivity.csv"),
        "access_vector_path": "",
        "half_saturation_constant": 0.05,
        "results_suffix": "",
        "n_workers": -1,
    }
    marker.write_text(json.dumps(args, indent=2), "utf-8")
    return args


# --------------------------------------------------------------------------------------------
# Runs and comparison
# --------------------------------------------------------------------------------------------


def ours_command(args: dict[str, Any], out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "biostresstest.invest_cli",
        "habitat-quality",
        "--lulc-cur",
        args["lulc_cur_path"],
        "--lulc-fut",
        args["lulc_fut_path"],
        "--lulc-bas",
        args["lulc_bas_path"],
        "--threats",
        args["threats_table_path"],
        "--sensitivity",
        args["sensitivity_table_path"],
        "--half-saturation",
        str(args["half_saturation_constant"]),
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
        result[name] = {
            "max_abs_diff": float(diff.max()) if diff.size else 0.0,
            "cells_differing": int(np.count_nonzero(diff)),
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
        print(
            f"natcap.invest venv {opts.invest_venv} not found: running only ours. Build it with "
            "tests/golden/habitat_quality/generate.py (recipe: shared/reference/invest.md §1)."
        )
    work = Path(tempfile.mkdtemp(prefix="bst-hq-bench-out-"))
    env = {"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1", "HOME": str(Path.home())}
    rows: list[list[str]] = []
    failed = False
    try:
        # untimed warm-up on the same inputs: compiles and caches our numba kernels once
        warm = run_measured(
            ours_command(args, work / "warmup"), env, RESULTS_DIR / "hq-ours-warmup", opts.timeout
        )
        rows.append(run_row("ours, warm-up (fills numba cache)", warm))

        def invest_command(i: int) -> list[str]:
            workspace = dict(args, workspace_dir=str(work / f"invest{i}"))
            return [str(invest_python), "-c", INVEST_RUNNER, json.dumps(workspace)]

        runs, failed_runs = side_by_side(
            opts.runs,
            invest_command if have_invest else None,
            lambda i: ours_command(args, work / f"ours{i}"),
            env,
            "hq",
            opts.timeout,
            rows,
        )
        failed |= failed_runs
        summary: dict[str, Any] = {}
        if have_invest and not failed:
            summary = {**best_ratios(runs), "diff": compare(work / "ours0", work / "invest0")}
            summary["targets_met"] = {
                "speedup_at_least_10": summary["speedup_wall"] >= 10.0,
                "memory_at_most_half": summary["memory_ratio"] <= 0.5,
            }
            print(
                f"\nspeed-up (wall, best of {opts.runs}): {summary['speedup_wall']}x "
                f"(target >= 10); peak RSS ours/InVEST: {summary['memory_ratio']:.2f} "
                "(target <= 0.5)"
            )
            print_table(
                ["output", "max |diff|", "cells differing", "masks equal", "dtype/nodata/grid"],
                [
                    [
                        k,
                        f"{v.get('max_abs_diff', float('nan')):.3g}",
                        str(v.get("cells_differing", "-")),
                        str(v.get("masks_equal", "-")),
                        str(v.get("same_dtype_nodata_grid", "-")),
                    ]
                    for k, v in summary["diff"].items()
                ],
            )
        path = write_json(
            "habitat_quality.json",
            {
                "benchmark": "habitat_quality",
                "case": {
                    "size": opts.size,
                    "cell_m": 10,
                    "threats": [t[:4] for t in THREATS],
                    "scenarios": ["cur", "fut", "bas (rarity)"],
                    "inputs": str(opts.data),
                },
                "environment": environment(),
                "warmup": warm.as_dict(),
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
