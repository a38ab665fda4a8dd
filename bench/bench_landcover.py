"""Benchmark the BGT land cover of the Otterlo square at 1 m, and project it to a gemeente.

Every phase is a child process (so the peak RSS from ``os.wait4`` is per phase) with a fresh
temporary data dir, except ``run-warm``, which re-runs on the data dir of ``run-cold``:

imports    reference: only importing the modules (the fixed floor under every phase);
read       ``bgt.read_land_cover(fetch(bgt.SPEC, settings))``: the CityGML zip parsed, classified;
harmonise  ``run_area._land_cover(file, AnalysisGrid.covering(bounds, 1.0))``: the read above plus
           rasterisation at 1 m, confidence, green share and the feature layers;
run-cold   ``biostresstest run --area otterlo`` from an empty data dir;
run-warm   the same again on that data dir (every step from the cache);
cells      reference: the pipeline's cell-array steps (merge/confidence, green share, class areas,
           Natura 2000 share, outline mask, score, score class) on SYNTHETIC inputs of the
           square's 2000 × 2000 grid, with the bytes each allocates (tracemalloc);
cells-100km2  the same synthetic cell steps on a 10,000 × 10,000 grid (10^8 cells): a real
           measurement of the array part at gemeente size (no BGT: the mirror has only the square).

The figures for a gemeente of 100 km² at 1 m are then PROJECTED from the square (not measured):
see ``project``. Writes bench/results/landcover.json.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import (
    RESULTS_DIR,
    ChildRun,
    bench_env,
    cli_command,
    default_mirror,
    environment,
    print_table,
    run_measured,
    tail,
    write_json,
)

AREA = "otterlo"
BOUNDS = (180000.0, 456000.0, 182000.0, 458000.0)
"""The Otterlo square in RD New (as in model/study_area.py)."""
CELL_SIZE = 1.0
TARGET_KM2 = 100.0
"""The gemeente the figures are projected to."""
MARKER = "BENCH_JSON "
"""Prefix of the line in which a child reports its own figures."""
MIB = 2**20
GIB = 2**30


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=default_mirror(),
                        help="folder with local copies of the sources (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds before a child is killed (default %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dirs")
    parser.add_argument("--target-km2", type=float, default=TARGET_KM2,
                        help="area of the gemeente to project to (default %(default)s km²)")
    parser.add_argument("--no-full-cells", action="store_true",
                        help="skip cells-100km2 (synthetic cell steps on 10^8 cells, ~5 GiB)")
    parser.add_argument("--child", choices=["read", "harmonise", "cells"], help=argparse.SUPPRESS)
    parser.add_argument("--side", type=int, default=2000, help=argparse.SUPPRESS)
    return parser.parse_args()


# --- children: each runs in its own process and reports on one line --------------------------


def _proc_status() -> dict[str, float]:
    values: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = round(int(rest.split()[0]) / 1024, 1)
    return values


def _timed(
    timings: dict[str, float], name: str, func: Any, keep: list[Any] | None = None
) -> Any:
    """``func`` wrapped so that its seconds add up in ``timings[name]`` (and its results are
    appended to ``keep``)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            result = func(*args, **kwargs)
        finally:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
        if keep is not None:
            keep.append(result)
        return result

    return wrapper


def child_bgt(phase: str) -> dict[str, Any]:
    """``read`` or ``harmonise`` on the real BGT copy, split into timed parts."""
    memory: dict[str, dict[str, float]] = {"start": _proc_status()}
    timings: dict[str, float] = {}
    started = time.perf_counter()
    from biostresstest.core.settings import Settings
    from biostresstest.model.grid import AnalysisGrid
    from biostresstest.pipeline import run_area
    from biostresstest.sources import bgt
    from biostresstest.sources.base import fetch

    timings["imports"] = time.perf_counter() - started
    memory["imports"] = _proc_status()

    # Wrap the module-level functions the code under test looks up at call time, to split the
    # phase into parts without changing it.
    reads: list[Any] = []
    bgt.classify = _timed(timings, "classify", bgt.classify)
    bgt._open_zip = _timed(timings, "zip_open_and_test", bgt._open_zip)
    bgt.read_land_cover = _timed(timings, "read_land_cover", bgt.read_land_cover, reads)
    run_area.rasterize_land_cover = _timed(timings, "rasterise", run_area.rasterize_land_cover)
    run_area.merge_land_cover = _timed(timings, "merge_confidence", run_area.merge_land_cover)

    settings = Settings()
    t0 = time.perf_counter()
    fetched = fetch(bgt.SPEC, settings)
    timings["fetch"] = time.perf_counter() - t0
    memory["fetch"] = _proc_status()
    report: dict[str, Any] = {
        "phase": phase,
        "bgt_file": str(fetched.path),
        "bgt_zip_mib": round(fetched.path.stat().st_size / MIB, 2),
    }
    if phase == "read":
        bgt.read_land_cover(fetched)
        memory["read"] = _proc_status()
    else:
        grid = AnalysisGrid.covering(BOUNDS, CELL_SIZE)
        t0 = time.perf_counter()
        arrays, features = run_area._land_cover(fetched, grid)
        timings["land_cover_total"] = time.perf_counter() - t0
        memory["harmonise"] = _proc_status()
        timings["clip_features_and_rest"] = timings["land_cover_total"] - sum(
            timings.get(k, 0.0) for k in ("read_land_cover", "rasterise", "merge_confidence")
        )
        report["grid"] = {"width": grid.width, "height": grid.height,
                          "cells": grid.width * grid.height}
        report["arrays"] = {name: f"{a.dtype} {a.shape}" for name, a in arrays.items()}
        report["feature_layers"] = {name: len(frame) for name, frame in features.items()}
        if "landcover" in arrays:
            report["classified_cells"] = int((arrays["landcover"] != 0).sum())
    timings["total"] = time.perf_counter() - started
    timings["parse_and_frame"] = (timings.get("read_land_cover", 0.0)
                                  - timings.get("classify", 0.0)
                                  - timings.get("zip_open_and_test", 0.0))
    if reads:  # after the measured part: counted, not timed
        report["objects"] = _object_counts(reads[0])
    report["seconds"] = {k: round(v, 3) for k, v in timings.items()}
    report["memory_mib"] = memory
    return report


def _object_counts(read: Any) -> dict[str, Any]:
    from shapely.geometry import box

    square = box(*BOUNDS)
    return {
        "polygons": len(read.polygons),
        "lines": len(read.lines),
        "trees": len(read.trees),
        "total": len(read.polygons) + len(read.lines) + len(read.trees),
        "historic_skipped": read.historic_skipped,
        "above_ground_skipped": read.above_ground_skipped,
        "in_square": {kind: int(getattr(read, kind).intersects(square).sum())
                      for kind in ("polygons", "lines", "trees")},
        "polygons_by_layer": {str(k): int(v) for k, v in
                              sorted(read.polygons["layer"].value_counts().items())},
    }


def child_cells(side: int) -> dict[str, Any]:
    """The run's cell-array steps on synthetic inputs of a ``side`` × ``side`` m grid at 1 m.

    The same functions the pipeline calls, in its order, keeping what it keeps; the inputs are
    synthetic (random classes, one Natura 2000 site over the whole grid: the worst case), so
    the bytes are representative and the seconds of the array-bound steps too.
    """
    import tracemalloc

    import geopandas as gpd
    import numpy as np
    from rasterio.features import rasterize
    from shapely.geometry import box

    from biostresstest.analysis.coverage import coverage_share
    from biostresstest.analysis.landcover import LandCoverLayer, merge_land_cover, share_of
    from biostresstest.analysis.scoring import score_class, stress_score
    from biostresstest.model.confidence import Confidence
    from biostresstest.model.grid import AnalysisGrid
    from biostresstest.model.landcover import load_classes

    memory = {"imports": _proc_status()}
    xmin, ymin = BOUNDS[0], BOUNDS[1]
    grid = AnalysisGrid.covering((xmin, ymin, xmin + side, ymin + side), CELL_SIZE)
    cells = grid.width * grid.height
    table = load_classes()
    codes = np.array([c.code for c in table], dtype="uint8")
    green_codes = [c.code for c in table if c.green]
    rng = np.random.default_rng(228)
    # the rasterised BGT (1 B/cell, kept by _land_cover until it returns): the input
    classes = codes[rng.integers(0, len(codes), size=grid.shape, dtype=np.uint8)]
    memory["input"] = _proc_status()
    steps: dict[str, dict[str, float]] = {}
    tracemalloc.start()

    def step(name: str, func: Callable[[], Any]) -> Any:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        t0 = time.perf_counter()
        result = func()
        seconds = time.perf_counter() - t0
        current, peak = tracemalloc.get_traced_memory()
        steps[name] = {
            "seconds": round(seconds, 3),
            "peak_b_per_cell": round((peak - before) / cells, 2),
            "kept_b_per_cell": round((current - before) / cells, 2),
        }
        return result

    def scored() -> Any:
        # the cost of the score does not depend on the values: the green share and the
        # Natura 2000 share stand in for habitat quality, surface factor and connectivity
        score = stress_score(green, green, n2k)
        score[~inside] = np.nan
        return score

    merged, confidence = step(
        "merge + confidence (merge_land_cover)",
        lambda: merge_land_cover([LandCoverLayer(classes, Confidence.NATIONAL_VECTOR)]),
    )
    green = step("green share (share_of)", lambda: share_of(merged, green_codes))
    step("class areas (np.bincount ×2)", lambda: (np.bincount(merged.ravel(), minlength=256),
                                                  np.bincount(confidence.ravel(), minlength=256)))
    site = gpd.GeoSeries([box(*grid.bounds).buffer(-10)], crs=grid.crs)
    n2k = step("natura2000 share (coverage_share, 2×2)", lambda: coverage_share(site, grid))
    outline = gpd.GeoSeries([box(*grid.bounds)], crs=grid.crs)
    inside = step("outline mask (rasterize → bool)", lambda: rasterize(
        outline, out_shape=grid.shape, transform=grid.transform, all_touched=True
    ).astype(bool))
    score = step("score (stress_score + mask)", scored)
    klass = step("score class (score_class)", lambda: score_class(score))
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    memory["end"] = _proc_status()
    held = {name: f"{a.dtype}" for name, a in (
        ("rasterised", classes), ("landcover", merged), ("confidence", confidence),
        ("green_share", green), ("natura2000_share", n2k), ("inside", inside),
        ("score", score), ("score_class", klass))}
    return {
        "phase": "cells",
        "side_m": side,
        "cells": cells,
        "steps": steps,
        "held_arrays": held,
        "held_b_per_cell": round((current + classes.nbytes) / cells, 2),
        "peak_b_per_cell": round((peak + classes.nbytes) / cells, 2),
        "memory_mib": memory,
        "seconds_total": round(sum(s["seconds"] for s in steps.values()), 3),
    }


# --- parent -----------------------------------------------------------------------------------


def _child_report(run: ChildRun) -> dict[str, Any]:
    text = Path(run.stdout_log).read_text("utf-8", errors="replace")
    for line in reversed(text.splitlines()):
        if line.startswith(MARKER):
            report: dict[str, Any] = json.loads(line[len(MARKER):])
            return report
    return {}


def _cached_steps(run: ChildRun) -> list[str]:
    text = Path(run.stdout_log).read_text("utf-8", errors="replace")
    for line in text.splitlines():
        if "steps reused from the cache:" in line:
            return [s.strip() for s in line.split(":", 1)[1].split(",") if s.strip()]
    return []


def _dir_mib(path: Path) -> float:
    if not path.exists():
        return 0.0
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return round(total / MIB, 1)


def _published(data_dir: Path) -> dict[str, Any]:
    """Manifest step seconds and the published rasters of the study area."""
    import rasterio

    store = data_dir / "store" / AREA
    out: dict[str, Any] = {}
    manifest = store / "manifest.json"
    if manifest.exists():
        data = json.loads(manifest.read_text("utf-8"))
        out["step_seconds"] = {k: v.get("seconds") for k, v in data.get("steps", {}).items()}
        out["grid"] = data.get("grid")
    rasters = {}
    for path in sorted((store / "rasters").glob("*.tif")):
        with rasterio.open(path) as src:
            rasters[path.stem] = {"dtype": src.dtypes[0], "shape": [src.height, src.width],
                                  "file_mib": round(path.stat().st_size / MIB, 2)}
    out["rasters"] = rasters
    out["data_dir_mib"] = {sub: _dir_mib(data_dir / sub) for sub in ("raw", "steps", "store")}
    return out


def _meminfo_mib(key: str) -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def project(results: dict[str, dict[str, Any]], target_km2: float) -> dict[str, Any]:
    """Figures for ``target_km2`` at 1 m from the measured square: a projection, not a measurement.

    Time: parse/classify and clip/feature layers × the area factor (the object count is assumed
    to grow with the area, at Otterlo's density); rasterisation, confidence and the cell steps ×
    the cell factor; the whole run × the area factor with the import time fixed. Memory: the RSS
    after the imports is fixed, the rest of each phase's peak × the cell factor; the cell arrays
    as measured bytes per cell × cells.
    """
    xmin, ymin, xmax, ymax = BOUNDS
    area_km2 = (xmax - xmin) * (ymax - ymin) / 1e6
    cells = round((xmax - xmin) / CELL_SIZE) * round((ymax - ymin) / CELL_SIZE)
    target_cells = round(target_km2 * 1e6 / CELL_SIZE**2)
    k_area = target_km2 / area_km2
    k_cells = target_cells / cells
    base_s = float(results.get("imports", {}).get("wall_s", 0.0))
    base_mib = float(results.get("imports", {}).get("max_rss_mib", 0.0))
    time_rows: dict[str, dict[str, Any]] = {}
    memory_rows: dict[str, dict[str, Any]] = {}

    def row(table: dict[str, dict[str, Any]], name: str, method: str, measured: float,
            projected: float, check: float | None = None) -> None:
        table[name] = {"method": method, "measured": round(measured, 3),
                       "projected": round(projected, 1), "measured_at_target": check}

    read = results.get("read", {}).get("child", {}).get("seconds", {})
    if read:
        row(time_rows, "read: parse + classify", "× area", read["read_land_cover"],
            read["read_land_cover"] * k_area)
    harm = results.get("harmonise", {}).get("child", {}).get("seconds", {})
    if harm:
        raster = harm.get("rasterise", 0.0) + harm.get("merge_confidence", 0.0)
        rest = harm.get("clip_features_and_rest", 0.0)
        row(time_rows, "harmonise: rasterise + confidence", "× cells", raster, raster * k_cells)
        row(time_rows, "harmonise: clip, green share, areas, features", "× area", rest,
            rest * k_area)
        row(time_rows, "harmonise: total", "sum of the above", harm["land_cover_total"],
            harm.get("read_land_cover", 0.0) * k_area + raster * k_cells + rest * k_area)
    cells_small = results.get("cells", {}).get("child", {})
    cells_full = results.get("cells-100km2", {}).get("child", {})
    if cells_small:
        row(time_rows, "cell steps (synthetic)", "× cells", cells_small["seconds_total"],
            cells_small["seconds_total"] * k_cells, cells_full.get("seconds_total"))
    cold = results.get("run-cold", {})
    if cold.get("wall_s"):
        row(time_rows, "run cold: whole CLI run", "imports fixed, rest × area", cold["wall_s"],
            base_s + max(cold["wall_s"] - base_s, 0.0) * k_area)

    for phase in ("read", "harmonise", "run-cold"):
        peak = results.get(phase, {}).get("max_rss_mib")
        if peak:
            row(memory_rows, f"{phase} peak RSS", "imports fixed, rest × cells", peak,
                base_mib + max(peak - base_mib, 0.0) * k_cells)
    if cells_small:
        full_peak = results.get("cells-100km2", {}).get("max_rss_mib")
        per_cell = cells_small["peak_b_per_cell"]
        row(memory_rows, "cell arrays (synthetic)", "imports fixed + peak B/cell × cells",
            base_mib + per_cell * cells / MIB, base_mib + per_cell * target_cells / MIB,
            full_peak)
        # layers the run publishes that the synthetic steps do not make (they are held too)
        missing = {name: r["dtype"] for name, r in cold.get("rasters", {}).items()
                   if name not in cells_small.get("held_arrays", {})}
        if missing:
            import numpy as np

            extra = sum(np.dtype(d).itemsize for d in missing.values())
            names = ", ".join(missing)
            row(memory_rows, "cell arrays of the run",
                f"the above + the other published layers ({names}: +{extra} B/cell)",
                base_mib + (per_cell + extra) * cells / MIB,
                base_mib + (per_cell + extra) * target_cells / MIB)
    return {
        "target_km2": target_km2,
        "measured_km2": area_km2,
        "measured_cells": cells,
        "target_cells": target_cells,
        "area_factor": k_area,
        "cell_factor": k_cells,
        "imports_s": base_s,
        "imports_rss_mib": base_mib,
        "machine_mem_total_mib": _meminfo_mib("MemTotal"),
        "time_s": time_rows,
        "memory_mib": memory_rows,
        "layers": _layer_sizes(results, target_cells),
    }


def _layer_sizes(results: dict[str, dict[str, Any]], target_cells: int) -> dict[str, Any]:
    """The published cell layers (their dtypes from the COGs of run-cold) at the target size."""
    import numpy as np

    rasters = results.get("run-cold", {}).get("rasters", {})
    layers = {name: {"dtype": r["dtype"], "bytes_per_cell": np.dtype(r["dtype"]).itemsize}
              for name, r in rasters.items()}
    for entry in layers.values():
        entry["projected_mib"] = round(entry["bytes_per_cell"] * target_cells / MIB, 1)
    held = sum(e["bytes_per_cell"] for e in layers.values())
    return {"layers": layers, "bytes_per_cell": held,
            "projected_mib": round(held * target_cells / MIB, 1)}


def memory_notes(proj: dict[str, Any], results: dict[str, dict[str, Any]]) -> list[str]:
    cells = proj["target_cells"]
    layers = proj["layers"]
    notes = [
        f"each float32 layer of {cells:.0e} cells is {4 * cells / 1e6:.0f} MB "
        f"({4 * cells / MIB:.0f} MiB), each uint8 layer {cells / 1e6:.0f} MB; the published "
        f"layers take {layers['bytes_per_cell']} B/cell = {layers['projected_mib'] / 1024:.1f} "
        "GiB, all in memory at once until publish",
    ]
    steps = results.get("cells", {}).get("child", {}).get("steps", {})
    if steps:
        name, worst = max(steps.items(), key=lambda kv: kv[1]["peak_b_per_cell"])
        notes.append(
            f"the most memory-hungry cell step is {name}: {worst['peak_b_per_cell']:.0f} B/cell "
            f"= {worst['peak_b_per_cell'] * cells / GIB:.1f} GiB at its peak, on top of what "
            "is held")
    covered = {"fetch", "landcover", "natura2000", "score"}  # what the synthetic cells run
    others = [s for s in results.get("run-cold", {}).get("step_seconds") or {} if s not in covered]
    notes += [
        "not in the cell-array figures: the working arrays of the run's steps the synthetic "
        f"cells do not run ({', '.join([*others, 'publish'])}; e.g. exactextract's buffers in "
        "aggregate, the COG writer's in publish) and the vector objects (those grow with the "
        "object count; all of it is in the RSS projection of run-cold)",
        f"disk: the step cache (.npz, uncompressed) and the store grow by the same factor "
        f"({proj['cell_factor']:.0f}×)",
    ]
    peaks = [v["projected"] for v in proj["memory_mib"].values()]
    worst_mib = max(peaks, default=0.0)
    total = proj["machine_mem_total_mib"]
    for budget, label in ((8 * 1024, "an 8 GiB machine"), (16 * 1024, "a 16 GiB machine"),
                          (total, "this machine")):
        verdict = ("would NOT fit" if worst_mib > budget
                   else "fits only just (less than 25 % to spare)" if worst_mib > 0.75 * budget
                   else "would fit")
        notes.append(f"{label} ({budget / 1024:.1f} GiB): the largest projected peak "
                     f"({worst_mib / 1024:.1f} GiB) {verdict}, one run at a time with nothing "
                     "else running")
    return notes


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else (
        f"{value:.{digits}f}")


def print_projection(proj: dict[str, Any], results: dict[str, dict[str, Any]]) -> None:
    print(f"\nPROJECTION to a gemeente of {proj['target_km2']:.0f} km² at 1 m "
          f"({proj['target_cells']:.0e} cells) from the {proj['measured_km2']:.0f} km² square "
          f"({proj['measured_cells']:.0e} cells): factor {proj['area_factor']:.0f}× by area, "
          f"{proj['cell_factor']:.0f}× by cells. NOT MEASURED (except the last column): "
          "computed from the figures above.")
    objects = results.get("read", {}).get("child", {}).get("objects", {})
    if objects:
        print(f"assumed object density: Otterlo's {objects['total'] / proj['measured_km2']:.0f} "
              "current BGT land-cover objects per km² (village, farmland, woods; a town has more)")
    print()
    print_table(
        ["time", "method", "measured s", "projected s", "measured at 10^8 cells"],
        [[name, v["method"], _fmt(v["measured"], 2), _fmt(v["projected"]),
          _fmt(v["measured_at_target"])] for name, v in proj["time_s"].items()],
    )
    print()
    print_table(
        ["memory", "method", "measured MiB", "projected MiB", "measured at 10^8 cells"],
        [[name, v["method"], _fmt(v["measured"], 0), _fmt(v["projected"], 0),
          _fmt(v["measured_at_target"], 0)] for name, v in proj["memory_mib"].items()],
    )
    layers = proj["layers"]
    if layers["layers"]:
        print()
        print_table(
            ["published layer", "dtype", "B/cell", "projected MiB"],
            [[name, v["dtype"], str(v["bytes_per_cell"]), _fmt(v["projected_mib"], 0)]
             for name, v in layers["layers"].items()]
            + [["together", "", str(layers["bytes_per_cell"]),
                _fmt(layers["projected_mib"], 0)]],
        )
    print(f"\nbaseline: imports {proj['imports_s']:.2f} s, {proj['imports_rss_mib']:.0f} MiB; "
          f"this machine has {proj['machine_mem_total_mib'] / 1024:.1f} GiB")
    for note in memory_notes(proj, results):
        print(f"- {note}")


def print_results(results: dict[str, dict[str, Any]]) -> None:
    print()
    print_table(
        ["phase", "exit", "wall s", "CPU s", "user s", "sys s", "peak RSS MiB", "objects/cells"],
        [
            [r["phase"], str(r["exit_code"]), f"{r['wall_s']:.2f}",
             f"{r['user_s'] + r['sys_s']:.2f}", f"{r['user_s']:.2f}", f"{r['sys_s']:.2f}",
             f"{r['max_rss_mib']:.1f}", _count_cell(r)]
            for r in results.values()
        ],
    )
    read = results.get("read", {}).get("child", {})
    if read:
        o, s, m = read["objects"], read["seconds"], read["memory_mib"]
        print(f"\nread: {o['total']:,} objects ({o['polygons']:,} polygons, {o['lines']:,} lines, "
              f"{o['trees']:,} trees; {o['in_square']['polygons']:,} polygons in the square; "
              f"skipped {o['historic_skipped']:,} historic, {o['above_ground_skipped']:,} above "
              f"ground) from a {read['bgt_zip_mib']} MiB zip")
        print(f"  seconds: imports {s['imports']:.2f}, fetch {s['fetch']:.2f}, zip open + CRC "
              f"{s.get('zip_open_and_test', 0):.2f}, parse + frame {s['parse_and_frame']:.2f}, "
              f"classify {s.get('classify', 0):.2f} (read_land_cover {s['read_land_cover']:.2f})")
        print(f"  RSS MiB: after imports {m['imports']['VmRSS']}, after read {m['read']['VmRSS']}")
    harm = results.get("harmonise", {}).get("child", {})
    if harm:
        s, m = harm["seconds"], harm["memory_mib"]
        print(f"\nharmonise: grid {harm['grid']['width']}×{harm['grid']['height']} = "
              f"{harm['grid']['cells']:,} cells, {harm.get('classified_cells', 0):,} with a "
              f"class; arrays {harm['arrays']}")
        print(f"  seconds: read_land_cover {s['read_land_cover']:.2f}, rasterise "
              f"{s.get('rasterise', 0):.2f}, merge + confidence {s.get('merge_confidence', 0):.2f}"
              f", clip/green/areas/features {s['clip_features_and_rest']:.2f} (_land_cover "
              f"{s['land_cover_total']:.2f})")
        print(f"  feature layers: {harm['feature_layers']}")
        print(f"  RSS MiB: after imports {m['imports']['VmRSS']}, after harmonise "
              f"{m['harmonise']['VmRSS']}")
    cold = results.get("run-cold", {})
    if cold.get("step_seconds") is not None:
        steps = ", ".join(f"{k} {v:.2f}" for k, v in cold["step_seconds"].items())
        print(f"\nrun-cold step seconds (manifest): {steps}")
        print(f"run-cold data dir MiB: {cold['data_dir_mib']}")
        print("published rasters: " + ", ".join(
            f"{k} {v['dtype']}" for k, v in cold.get("rasters", {}).items()))
    warm = results.get("run-warm", {})
    if warm:
        print(f"run-warm cached steps: {', '.join(warm.get('cached_steps', [])) or 'none'}")
    for phase in ("cells", "cells-100km2"):
        report = results.get(phase, {}).get("child", {})
        if report:
            print(f"\n{phase}: {report['cells']:.0e} cells, held {report['held_b_per_cell']} "
                  f"B/cell, peak {report['peak_b_per_cell']} B/cell (numpy, tracemalloc)")
            print_table(
                ["  cell step", "seconds", "peak B/cell", "kept B/cell"],
                [[f"  {name}", f"{v['seconds']:.3f}", f"{v['peak_b_per_cell']:.1f}",
                  f"{v['kept_b_per_cell']:.1f}"] for name, v in report["steps"].items()],
            )


def _count_cell(result: dict[str, Any]) -> str:
    report = result.get("child", {})
    if "objects" in report:
        return f"{report['objects']['total']:,} objects"
    if "cells" in report:
        return f"{report['cells']:.0e} cells"
    if result["phase"] == "run-warm":
        return f"{len(result.get('cached_steps', []))} steps cached"
    if result["phase"] == "run-cold" and result.get("grid"):
        return f"{result['grid']['width'] * result['grid']['height']:.0e} cells"
    return "-"


def main() -> int:
    args = parse_args()
    if args.child:
        report = child_cells(args.side) if args.child == "cells" else child_bgt(args.child)
        print(MARKER + json.dumps(report), flush=True)
        return 0
    if not args.mirror.is_dir():
        print(f"error: mirror folder {args.mirror} not found (set BIOSTRESSTEST_MIRROR)",
              file=sys.stderr)
        return 2
    results: dict[str, dict[str, Any]] = {}
    kept: list[Path] = []
    skipped: dict[str, str] = {}
    script = str(Path(__file__).resolve())
    modules = "biostresstest.cli, biostresstest.pipeline.run_area, biostresstest.sources.bgt"

    def measure(phase: str, command: list[str], data_dir: Path, **extra: Any) -> bool:
        """Run one phase in ``data_dir``; False when it failed."""
        print(f"running {phase}: {' '.join(command)}  (data dir {data_dir})", flush=True)
        env = bench_env(data_dir, args.mirror)
        run = run_measured(command, env, RESULTS_DIR / f"landcover-{phase}", args.timeout)
        entry: dict[str, Any] = {"phase": phase, **run.as_dict(), **extra}
        if "--child" in command:
            entry["child"] = _child_report(run)
        if command[-2:] == ["--area", AREA]:
            entry["cached_steps"] = _cached_steps(run)
            if phase == "run-cold":
                entry.update(_published(data_dir))
        results[phase] = entry
        if run.exit_code != 0 or run.timed_out or ("--child" in command and not entry["child"]):
            print(f"error: {phase} failed (exit {run.exit_code}, timed out: {run.timed_out}):\n"
                  f"{tail(run.stderr_log)}", file=sys.stderr)
            return False
        return True

    plan: list[tuple[str, list[str], str]] = [
        ("imports", [sys.executable, "-c", f"import {modules}"], "imports"),
        ("read", [sys.executable, script, "--child", "read"], "read"),
        ("harmonise", [sys.executable, script, "--child", "harmonise"], "harmonise"),
        ("run-cold", [*cli_command(), "run", "--area", AREA], "run"),
        ("run-warm", [*cli_command(), "run", "--area", AREA], "run"),
        ("cells", [sys.executable, script, "--child", "cells", "--side", "2000"], "cells"),
    ]
    if args.no_full_cells:
        skipped["cells-100km2"] = "--no-full-cells"
    else:
        side = round(math.sqrt(args.target_km2) * 1000)
        need_mib = 8 * 1024  # ~48 B/cell at its peak plus the interpreter, with a margin
        available = _meminfo_mib("MemAvailable")
        if available < need_mib:
            skipped["cells-100km2"] = f"only {available:.0f} MiB available, {need_mib} needed"
        else:
            plan.append(("cells-100km2", [sys.executable, script, "--child", "cells", "--side",
                                          str(side)], "cells-100km2"))
    failed = False
    dirs: dict[str, Path] = {}
    try:
        for phase, command, dir_key in plan:
            if dir_key not in dirs:
                dirs[dir_key] = Path(tempfile.mkdtemp(prefix=f"bst-bench-lc-{dir_key}-"))
            if not measure(phase, command, dirs[dir_key]):
                failed = True
                if phase == "run-cold":
                    break
    finally:
        for data_dir in dirs.values():
            if args.keep:
                kept.append(data_dir)
                print(f"kept data dir {data_dir}")
            else:
                shutil.rmtree(data_dir, ignore_errors=True)
    for phase, why in skipped.items():
        print(f"skipped {phase}: {why}")

    print_results(results)
    projection = project(results, args.target_km2)
    print_projection(projection, results)
    path = write_json(
        "landcover.json",
        {
            "benchmark": "landcover",
            "area": AREA,
            "bounds_rd": BOUNDS,
            "cell_size": CELL_SIZE,
            "mirror": str(args.mirror),
            "environment": environment(),
            "phases": list(results.values()),
            "skipped": skipped,
            "projection": {
                "note": "PROJECTED from the measured square, not measured; method: "
                        + " ".join((project.__doc__ or "").split("\n\n", 1)[1].split()),
                **projection,
                "notes": memory_notes(projection, results),
            },
            "kept_data_dirs": [str(p) for p in kept],
            "ok": not failed,
        },
    )
    print(f"\nwrote {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
