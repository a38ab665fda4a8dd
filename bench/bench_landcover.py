"""Benchmark the BGT land cover of the Otterlo square at 1 m, and project it to a gemeente.

Four phases, each a child process (so the peak RSS from ``os.wait4`` is per phase), each in a fresh
temporary data dir except ``run-warm``, which re-runs on the data dir of ``run-cold``:

read       ``bgt.read_land_cover(fetch(bgt.SPEC))``: the CityGML zip parsed and classified;
harmonise  ``run_area._land_cover(file, grid)`` on ``AnalysisGrid.covering(bounds, 1.0)``: the read
           above plus rasterisation at 1 m, confidence and the feature layers;
run-cold   ``biostresstest run --area otterlo`` from an empty data dir;
run-warm   the same again on that data dir (every step from the cache).

The figures are then PROJECTED (not measured) to a gemeente of 100 km² at 1 m: 25× the area and
25× the cells of the 2 × 2 km square. Writes bench/results/landcover.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
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
"""The Otterlo square in RD New (must match model/study_area.py)."""
CELL_SIZE = 1.0
TARGET_KM2 = 100.0
"""The gemeente the figures are projected to."""
MARKER = "BENCH_JSON "
"""Prefix of the line in which a child reports its own figures."""
MIB = 2**20

# Bytes per cell of the arrays a study-area run holds, read from the code (pipeline/run_area.py,
# pipeline/common.py, analysis/landcover.py, analysis/scoring.py, analysis/coverage.py).
HELD_ARRAYS = {
    "landcover (uint8)": 1,
    "confidence (uint8)": 1,
    "green_share (float32)": 4,
    "natura2000_share (float32)": 4,
    "score (float32)": 4,
    "score_class (uint8)": 1,
}
"""The cell layers a run keeps until publish (also the published COGs): 15 B/cell."""
TRANSIENTS = {
    "harmonise: rasterize uint8 + merge's class/confidence/mask copies": 4,
    "green: share_of isin mask + NaN mask": 2,
    "natura2000: coverage_share at 2×2 supersampling (uint8 4 + uint64 sums 8 + float64 8)": 20,
    "score: outline mask (uint8 + bool) + stress_score float32 temporaries": 14,
    "score_class: float64 copy 8 + int64 digitize 8 + int64 +1 8 + isnan 1 + int64 where 8": 33,
}
"""Short-lived arrays per step, bytes per cell (worst case: the step covers the whole grid)."""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=default_mirror(),
                        help="folder with local copies of the sources (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds before a child is killed (default %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dirs")
    parser.add_argument("--target-km2", type=float, default=TARGET_KM2,
                        help="area of the gemeente to project to (default %(default)s km²)")
    parser.add_argument("--child", choices=["read", "harmonise"], help=argparse.SUPPRESS)
    return parser.parse_args()


# --- child: runs in its own process, reports on one line ------------------------------------


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


def child(phase: str) -> int:
    """Run one phase in this process and print its figures (the parent measures the rest)."""
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
    bgt.classify = _timed(timings, "classify", bgt.classify)
    bgt._open_zip = _timed(timings, "zip_open_and_test", bgt._open_zip)
    reads: list[Any] = []
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
        timings["clip_and_feature_layers"] = timings["land_cover_total"] - sum(
            timings.get(k, 0.0) for k in ("read_land_cover", "rasterise", "merge_confidence")
        )
        report["grid"] = {"width": grid.width, "height": grid.height,
                          "cells": grid.width * grid.height}
        report["arrays"] = {name: {"dtype": str(a.dtype), "mib": round(a.nbytes / MIB, 2)}
                            for name, a in arrays.items()}
        report["feature_layers"] = {name: len(frame) for name, frame in features.items()}
        report["classified_cells"] = int((arrays["landcover"] != 0).sum())

    timings["total"] = time.perf_counter() - started
    if reads:
        report["objects"] = _object_counts(reads[0])
        if phase == "harmonise":  # after the measured part: counted, not timed
            from shapely.geometry import box

            square = box(*BOUNDS)
            read = reads[0]
            report["objects_in_square"] = {
                kind: int(getattr(read, kind).intersects(square).sum())
                for kind in ("polygons", "lines", "trees")
            }
    timings["parse_and_frame"] = timings.get("read_land_cover", 0.0) - timings.get(
        "classify", 0.0) - timings.get("zip_open_and_test", 0.0)
    report["seconds"] = {k: round(v, 3) for k, v in timings.items()}
    report["memory_mib"] = memory
    print(MARKER + json.dumps(report), flush=True)
    return 0


def _object_counts(read: Any) -> dict[str, int]:
    kinds = read.polygons["layer"].value_counts().to_dict()
    return {
        "polygons": len(read.polygons),
        "lines": len(read.lines),
        "trees": len(read.trees),
        "total": len(read.polygons) + len(read.lines) + len(read.trees),
        "historic_skipped": read.historic_skipped,
        "above_ground_skipped": read.above_ground_skipped,
        **{f"polygons_{k}": int(v) for k, v in sorted(kinds.items())},
    }


# --- parent ---------------------------------------------------------------------------------


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
    """Manifest step seconds and the published rasters' types of the study area."""
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


def _mem_total_mib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def project(results: dict[str, dict[str, Any]], target_km2: float) -> dict[str, Any]:
    """Figures for ``target_km2`` at 1 m from the measured ones: a projection, not a measurement."""
    xmin, ymin, xmax, ymax = BOUNDS
    area_km2 = (xmax - xmin) * (ymax - ymin) / 1e6
    cells = round((xmax - xmin) / CELL_SIZE) * round((ymax - ymin) / CELL_SIZE)
    target_cells = round(target_km2 * 1e6 / CELL_SIZE**2)
    k_area = target_km2 / area_km2
    k_cells = target_cells / cells
    out: dict[str, Any] = {
        "target_km2": target_km2,
        "measured_km2": area_km2,
        "measured_cells": cells,
        "target_cells": target_cells,
        "area_factor": k_area,
        "cell_factor": k_cells,
        "machine_mem_total_mib": _mem_total_mib(),
        "time_s": {},
        "memory_mib": {},
        "arrays_mib": {},
    }
    read = results.get("read", {}).get("child", {}).get("seconds", {})
    harm = results.get("harmonise", {}).get("child", {}).get("seconds", {})
    if read:
        out["time_s"]["read: parse + classify (× area)"] = {
            "measured": read.get("read_land_cover"),
            "projected": round(read.get("read_land_cover", 0.0) * k_area, 1),
        }
    if harm:
        raster = harm.get("rasterise", 0.0) + harm.get("merge_confidence", 0.0)
        rest = harm.get("clip_and_feature_layers", 0.0)
        out["time_s"]["harmonise: rasterise + confidence (× cells)"] = {
            "measured": round(raster, 3), "projected": round(raster * k_cells, 1)}
        out["time_s"]["harmonise: clip + feature layers (× area)"] = {
            "measured": round(rest, 3), "projected": round(rest * k_area, 1)}
        total = harm.get("read_land_cover", 0.0) * k_area + raster * k_cells + rest * k_area
        out["time_s"]["harmonise: total"] = {
            "measured": harm.get("land_cover_total"), "projected": round(total, 1)}
    cold = results.get("run-cold", {})
    if cold.get("wall_s"):
        out["time_s"]["run cold: whole CLI run (× area, imports fixed)"] = {
            "measured": cold["wall_s"],
            "projected": round(_fixed_plus_scaled(cold["wall_s"], _imports_s(results), k_area), 1),
        }

    # memory: the RSS a child had after its imports stays; everything above it scales
    baseline = _baseline_mib(results)
    for phase in ("read", "harmonise", "run-cold"):
        peak = results.get(phase, {}).get("max_rss_mib")
        if peak:
            out["memory_mib"][f"{phase} peak RSS"] = {
                "measured": peak,
                "baseline": baseline,
                "projected": round(_fixed_plus_scaled(peak, baseline, k_cells), 0),
            }
    held = sum(HELD_ARRAYS.values())
    worst = max(TRANSIENTS.values())
    out["arrays_mib"] = {
        "per_layer": {
            name: {"bytes_per_cell": b, "measured": round(b * cells / MIB, 1),
                   "projected": round(b * target_cells / MIB, 1)}
            for name, b in HELD_ARRAYS.items()
        },
        "transients": {
            name: {"bytes_per_cell": b, "projected": round(b * target_cells / MIB, 1)}
            for name, b in TRANSIENTS.items()
        },
        "held_bytes_per_cell": held,
        "held_projected": round(held * target_cells / MIB, 1),
        "peak_bytes_per_cell": held + worst,
        "peak_projected": round((held + worst) * target_cells / MIB, 1),
    }
    return out


def _fixed_plus_scaled(measured: float, fixed: float, factor: float) -> float:
    return fixed + max(measured - fixed, 0.0) * factor


def _imports_s(results: dict[str, dict[str, Any]]) -> float:
    return float(results.get("imports", {}).get("wall_s", 0.0))


def _baseline_mib(results: dict[str, dict[str, Any]]) -> float:
    return float(results.get("imports", {}).get("max_rss_mib", 0.0))


def _print_projection(proj: dict[str, Any], results: dict[str, dict[str, Any]]) -> None:
    k = proj["area_factor"]
    print(f"\nPROJECTION to a gemeente of {proj['target_km2']:.0f} km² at 1 m "
          f"({proj['target_cells']:.2e} cells; measured {proj['measured_km2']:.0f} km², "
          f"{proj['measured_cells']:.2e} cells; factor {k:.0f}×). NOT MEASURED: computed from "
          "the figures above.")
    objects = results.get("read", {}).get("child", {}).get("objects", {})
    if objects:
        print(f"object density assumed: Otterlo's {objects['total'] / proj['measured_km2']:.0f} "
              "BGT objects/km² (a village with farmland and woods; a town has more per km²)")
    rows = [[name, f"{v['measured']:.2f}", f"{v['projected']:.1f}"]
            for name, v in proj["time_s"].items() if v["measured"] is not None]
    print("\ntime (method: parse/classify/clip × area factor, rasterise × cell factor; "
          "run: import time fixed, the rest × area)")
    print_table(["part", "measured s", "projected s"], rows)
    print("\npeak RSS (method: RSS after imports fixed, the rest × cell factor)")
    print_table(
        ["phase", "measured MiB", "baseline MiB", "projected MiB"],
        [[name, f"{v['measured']:.0f}", f"{v['baseline']:.0f}", f"{v['projected']:.0f}"]
         for name, v in proj["memory_mib"].items()],
    )
    arrays = proj["arrays_mib"]
    print("\ncell arrays (method: bytes per cell read from the code × cells)")
    print_table(
        ["array", "B/cell", "measured MiB", "projected MiB"],
        [[name, str(v["bytes_per_cell"]), f"{v['measured']:.1f}", f"{v['projected']:.0f}"]
         for name, v in arrays["per_layer"].items()]
        + [["held together until publish", str(arrays["held_bytes_per_cell"]), "",
            f"{arrays['held_projected']:.0f}"]],
    )
    print_table(
        ["short-lived arrays per step", "B/cell", "projected MiB"],
        [[name, str(v["bytes_per_cell"]), f"{v['projected']:.0f}"]
         for name, v in arrays["transients"].items()],
    )
    total = proj["machine_mem_total_mib"]
    print(f"\npeak of cell arrays ≈ held + largest transient = {arrays['peak_bytes_per_cell']} "
          f"B/cell ≈ {arrays['peak_projected'] / 1024:.1f} GiB at {proj['target_cells']:.0e} "
          f"cells; this machine has {total / 1024:.1f} GiB.")
    for note in _memory_notes(proj):
        print(f"- {note}")


def _memory_notes(proj: dict[str, Any]) -> list[str]:
    arrays = proj["arrays_mib"]
    cells = proj["target_cells"]
    score_class = next(v for k, v in arrays["transients"].items() if k.startswith("score_class"))
    notes = [
        f"each float32 layer of {cells:.0e} cells is {4 * cells / 1e6:.0f} MB "
        f"({4 * cells / MIB:.0f} MiB); a run holds three (green_share, natura2000_share, score) "
        "and three uint8 layers (landcover, confidence, score_class) until publish",
        f"score_class() alone goes through float64 and int64 copies: "
        f"{score_class['bytes_per_cell']} B/cell = {score_class['projected'] / 1024:.1f} GiB "
        "on top of the held layers",
        "not counted in the array figures: exactextract's copies in aggregate, the COG writer's "
        "buffer in publish, the vector objects (those scale with the object count and are in "
        "the RSS projection)",
        f"disk: the step cache (.npz, uncompressed) and the store grow by the same factor "
        f"({proj['cell_factor']:.0f}×)",
    ]
    peaks = [v["projected"] for v in proj["memory_mib"].values()]
    worst = max([arrays["peak_projected"], *peaks], default=0.0)
    total = proj["machine_mem_total_mib"]
    for budget, label in ((8 * 1024, "an 8 GiB machine"), (16 * 1024, "a 16 GiB machine"),
                          (total, "this machine")):
        verdict = "would NOT fit" if worst > budget else "would fit"
        notes.append(f"{label} ({budget / 1024:.1f} GiB): the largest projected peak "
                     f"{worst / 1024:.1f} GiB {verdict} (one run at a time, nothing else running)")
    return notes


def main() -> int:
    args = parse_args()
    if args.child:
        return child(args.child)
    if not args.mirror.is_dir():
        print(f"error: mirror folder {args.mirror} not found (set BIOSTRESSTEST_MIRROR)",
              file=sys.stderr)
        return 2
    results: dict[str, dict[str, Any]] = {}
    failed = False
    kept: list[Path] = []
    script = str(Path(__file__).resolve())

    def measure(phase: str, command: list[str], data_dir: Path) -> ChildRun:
        print(f"running {phase}: {' '.join(command)}  (data dir {data_dir})", flush=True)
        env = bench_env(data_dir, args.mirror)
        return run_measured(command, env, RESULTS_DIR / f"landcover-{phase}", args.timeout)

    def record(phase: str, run: ChildRun, **extra: Any) -> bool:
        results[phase] = {"phase": phase, **run.as_dict(), **extra}
        if run.exit_code != 0 or run.timed_out:
            print(f"error: {phase} failed (exit {run.exit_code}, timed out: {run.timed_out}):\n"
                  f"{tail(run.stderr_log)}", file=sys.stderr)
            return False
        return True

    modules = "biostresstest.cli, biostresstest.pipeline.run_area, biostresstest.sources.bgt"
    imports = [sys.executable, "-c", f"import {modules}"]
    data_dir = Path(tempfile.mkdtemp(prefix="bst-bench-lc-imports-"))
    try:
        failed |= not record("imports", measure("imports", imports, data_dir))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)

    for phase in ("read", "harmonise"):
        data_dir = Path(tempfile.mkdtemp(prefix=f"bst-bench-lc-{phase}-"))
        try:
            run = measure(phase, [sys.executable, script, "--child", phase], data_dir)
            report = _child_report(run)
            ok = record(phase, run, child=report)
            if ok and not report:
                print(f"error: {phase} printed no report", file=sys.stderr)
                ok = False
            failed |= not ok
        finally:
            _cleanup(data_dir, args.keep, kept)

    data_dir = Path(tempfile.mkdtemp(prefix="bst-bench-lc-run-"))
    command = [*cli_command(), "run", "--area", AREA]
    try:
        for phase in ("run-cold", "run-warm"):
            run = measure(phase, command, data_dir)
            extra: dict[str, Any] = {"cached_steps": _cached_steps(run)}
            if phase == "run-cold":
                extra.update(_published(data_dir))
            if not record(phase, run, **extra):
                failed = True
                break
    finally:
        _cleanup(data_dir, args.keep, kept)

    print()
    print_table(
        ["phase", "exit", "wall s", "CPU s", "user s", "sys s", "peak RSS MiB", "objects"],
        [
            [r["phase"], str(r["exit_code"]), f"{r['wall_s']:.2f}",
             f"{r['user_s'] + r['sys_s']:.2f}", f"{r['user_s']:.2f}", f"{r['sys_s']:.2f}",
             f"{r['max_rss_mib']:.1f}", _objects_cell(r)]
            for r in results.values()
        ],
    )
    _print_details(results)
    projection = project(results, args.target_km2) if not failed else {}
    if projection:
        _print_projection(projection, results)
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
            "projection": {
                "note": "PROJECTED from the measured square, not measured: parse/classify and "
                        "clip/feature-layer time × area factor, rasterisation time × cell "
                        "factor; RSS after imports fixed and the rest × cell factor; cell arrays "
                        "as bytes per cell (from the code) × cells",
                **projection,
                "notes": _memory_notes(projection) if projection else [],
            },
            "kept_data_dirs": [str(p) for p in kept],
            "ok": not failed,
        },
    )
    print(f"\nwrote {path}")
    return 1 if failed else 0


def _objects_cell(result: dict[str, Any]) -> str:
    child_report = result.get("child", {})
    if "objects" in child_report:
        return str(child_report["objects"]["total"])
    if "feature_layers" in child_report:
        return f"{child_report['classified_cells']:,} cells"
    if result.get("cached_steps"):
        return f"{len(result['cached_steps'])} steps cached"
    return "-"


def _print_details(results: dict[str, dict[str, Any]]) -> None:
    read = results.get("read", {}).get("child", {})
    if read:
        o = read["objects"]
        s = read["seconds"]
        print(f"\nread: {o['total']:,} objects ({o['polygons']:,} polygons, {o['lines']:,} lines, "
              f"{o['trees']:,} trees; skipped {o['historic_skipped']:,} historic, "
              f"{o['above_ground_skipped']:,} above ground) from a {read['bgt_zip_mib']} MiB zip")
        print(f"      seconds: imports {s['imports']:.2f}, fetch {s['fetch']:.2f}, zip open+CRC "
              f"{s.get('zip_open_and_test', 0):.2f}, parse+frame {s['parse_and_frame']:.2f}, "
              f"classify {s.get('classify', 0):.2f} (read_land_cover {s['read_land_cover']:.2f})")
        m = read["memory_mib"]
        print(f"      RSS MiB: after imports {m['imports']['VmRSS']}, after read "
              f"{m['read']['VmRSS']} (peak {m['read']['VmHWM']})")
    harm = results.get("harmonise", {}).get("child", {})
    if harm:
        s = harm["seconds"]
        print(f"\nharmonise: grid {harm['grid']['width']}×{harm['grid']['height']} = "
              f"{harm['grid']['cells']:,} cells, {harm['classified_cells']:,} with a class; "
              f"arrays {harm['arrays']}")
        print(f"      seconds: read_land_cover {s['read_land_cover']:.2f}, rasterise "
              f"{s['rasterise']:.2f}, merge+confidence {s['merge_confidence']:.2f}, clip + "
              f"feature layers {s['clip_and_feature_layers']:.2f} "
              f"(_land_cover {s['land_cover_total']:.2f})")
        print(f"      feature layers: {harm['feature_layers']}")
        m = harm["memory_mib"]
        print(f"      RSS MiB: after imports {m['imports']['VmRSS']}, after harmonise "
              f"{m['harmonise']['VmRSS']} (peak {m['harmonise']['VmHWM']})")
    cold = results.get("run-cold", {})
    if cold.get("step_seconds"):
        steps = ", ".join(f"{k} {v:.2f}" for k, v in cold["step_seconds"].items())
        print(f"\nrun-cold step seconds (manifest): {steps}")
        print(f"run-cold data dir MiB: {cold['data_dir_mib']}")
        print("published rasters: " + ", ".join(
            f"{k} {v['dtype']}" for k, v in cold.get("rasters", {}).items()))
    warm = results.get("run-warm", {})
    if warm:
        print(f"run-warm cached steps: {', '.join(warm.get('cached_steps', [])) or 'none'}")


def _cleanup(data_dir: Path, keep: bool, kept: list[Path]) -> None:
    if keep:
        kept.append(data_dir)
        print(f"kept data dir {data_dir}")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
