"""InVEST 3.20.2 Habitat Quality on InVEST's own inputs: files in, InVEST's files out.

Takes ``lulc_cur`` (and optionally ``lulc_fut``/``lulc_bas``), the threats CSV, the sensitivity
CSV, the half-saturation constant k and an optional access vector, validates them as InVEST does
(plus clearer checks: every problem names its file, row and column, and all are reported at
once), aligns every raster to the current land cover as InVEST does (nearest neighbour, square
pixels of min(|dx|, |dy|), the current land cover's bounding box), and writes ``deg_sum_c.tif``,
``quality_c.tif`` (``_f`` with a future), ``rarity_c.tif``/``rarity_f.tif`` and their CSVs (with
a baseline) under InVEST's names, dtypes and nodata values.

Differences from InVEST, on purpose: threat rasters that do not overlap the land cover are an
error (InVEST silently treats them as "no threat"); no intermediate rasters; GeoTIFFs are not
compressed unless asked (LZW costs ~0.7 s per 9-million-cell float map and saves ~10 %).

Memory: nothing of the size of the map stays in memory. Land covers are checked strip by strip
and read again when computing; threat presence is spilled to 1-bit files and read back per
window; outputs are written strip by strip. Peak memory is the imports (numba's LLVM alone is
~125 MiB) plus a few strips, about half of InVEST's (bench/bench_habitat_quality.py).
Like InVEST 3.20.2 the baseline gets no degradation or quality map: with a ``base_path`` for every
threat InVEST 3.20.2 itself stops with ``KeyError: 'deg_sum_b'``; here base paths are checked
and a warning says they are not used.

This module computes and writes; the inputs are checked and read by :mod:`.invest_hq_inputs`
(threat presence and the access layer by :mod:`.invest_hq_threats`), on the grid and strips of
:mod:`.invest_hq_strips`, with the file handling all InVEST models share in :mod:`.invest_files`.
Callers import what they need (``__all__``) from here.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from biostresstest.analysis import habitat_quality as hq
from biostresstest.analysis import hq_kernels
from biostresstest.pipeline.invest_files import (
    COMPRESSIONS,
    Grid,
    check_compression,
    geotiff_profile,
)
from biostresstest.pipeline.invest_hq_inputs import (
    PATH_COLUMN,
    HabitatQualityArgs,
    Plan,
    read_inputs,
)
from biostresstest.pipeline.invest_hq_strips import STRIP_ROWS, class_strips

__all__ = [
    "COMPRESSIONS",
    "PATH_COLUMN",
    "SCENARIOS",
    "STRIP_ROWS",
    "SUFFIX",
    "Grid",
    "HabitatQualityArgs",
    "HabitatQualityResult",
    "run_habitat_quality",
]

SCENARIOS = ("cur", "fut", "bas")
SUFFIX = {"cur": "c", "fut": "f", "bas": "b"}


@dataclass
class HabitatQualityResult:
    """What a run wrote, and what it wants the user to know."""

    outputs: dict[str, Path]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run_habitat_quality(
    args: HabitatQualityArgs, out_dir: Path, *, compress: str = "none"
) -> HabitatQualityResult:
    """Validate, align, compute and write InVEST's Habitat Quality outputs into ``out_dir``."""
    check_compression(compress)
    start = time.perf_counter()
    with (
        rasterio.Env(GDAL_CACHEMAX=8, GDAL_NUM_THREADS="ALL_CPUS"),
        tempfile.TemporaryDirectory(prefix="bst-hq-") as spill,
    ):
        plan = read_inputs(args, Path(spill))
        out_dir.mkdir(parents=True, exist_ok=True)
        result = HabitatQualityResult({}, plan.warnings)
        for scen in ("cur", "fut"):
            if scen in plan.lulc:
                result.outputs.update(
                    _write_scenario(scen, plan, args.half_saturation, out_dir, compress)
                )
    result.seconds = round(time.perf_counter() - start, 3)
    return result


def _write_scenario(
    scen: str, plan: Plan, k: float, out_dir: Path, compress: str
) -> dict[str, Path]:
    """deg_sum, quality (and rarity with a baseline) in one pass of strips.

    Each threat's window reaches ``cap`` rows around the strip.
    """
    grid, table = plan.grid, plan.table
    rows, cols = grid.height, grid.width
    n = table.nodata_index
    weight_sum = sum(t.weight for t in plan.specs)
    threats = []
    for spec, presence in zip(plan.specs, plan.presence[scen], strict=True):
        m_px = spec.max_dist_m / grid.pixel
        cap = hq_kernels.distance_cap(m_px)
        carry = np.full(cols, cap + 1, np.int32)  # the downward distance between strips
        up_dtype = None if presence.empty else presence.write_up(cap, rows, cols)
        threats.append((spec, presence, m_px, cap, up_dtype, carry))
    s = SUFFIX[scen]
    paths = {name: out_dir / f"{name}.tif" for name in (f"deg_sum_{s}", f"quality_{s}")}
    rarity = None
    if scen in plan.counts:
        counts_x, counts_b = plan.counts[scen]
        values = hq.rarity_values(counts_x, counts_b, grid.pixel**2, grid.pixel**2)
        rarity = np.append(values.astype(np.float32), np.float32(hq.RARITY_NODATA))
        paths[f"rarity_{s}"] = out_dir / f"rarity_{s}.tif"
        paths[f"rarity_{s}_csv"] = out_dir / f"rarity_{s}.csv"
        lines = ["lucode,rarity_value"] + [
            f"{table.codes[i]},{float(values[i])!r}" for i in np.flatnonzero(counts_x)
        ]
        paths[f"rarity_{s}_csv"].write_text("\r\n".join(lines) + "\r\n", "utf-8")
    profile = geotiff_profile(grid, "float32", hq.DEG_NODATA, compress)
    with contextlib.ExitStack() as stack:
        deg_ds = stack.enter_context(rasterio.open(paths[f"deg_sum_{s}"], "w", **profile))
        q_ds = stack.enter_context(rasterio.open(paths[f"quality_{s}"], "w", **profile))
        strips = class_strips(plan.lulc[scen], grid, table)
        if rarity is not None:
            r_profile = geotiff_profile(grid, "float32", hq.RARITY_NODATA, compress)
            r_ds = stack.enter_context(rasterio.open(paths[f"rarity_{s}"], "w", **r_profile))
            baseline = class_strips(plan.lulc["bas"], grid, table)
        for r0, strip in zip(range(0, rows, STRIP_ROWS), strips, strict=True):
            r1 = r0 + strip.shape[0]
            place = Window(0, r0, cols, r1 - r0)
            if rarity is not None:
                b = next(baseline)
                r_ds.write(rarity[np.where((strip < n) & (b < n), strip, n)], 1, window=place)
            acc = np.zeros(strip.shape, np.float32)
            for spec, presence, m_px, _cap, up_dtype, carry in threats:
                # no halo: what lies above is in ``carry``, what lies below in the spilled ``up``
                empty = up_dtype is None
                window = np.empty((0, 0), np.uint8) if empty else presence.window(r0, r1, cols)
                up = None if up_dtype is None else presence.up_window(r0, r1, cols, up_dtype)
                hq_kernels.accumulate_threat(
                    window,
                    0,
                    strip,
                    table.sensitivity[spec.name],
                    max_dist_px=m_px,
                    decay=spec.decay,
                    weight=spec.weight / weight_sum,
                    acc=acc,
                    access=None if plan.access is None else plan.access[r0:r1],
                    empty_rows_cols=(rows, cols) if empty else None,
                    row0=r0,
                    carry=carry,
                    up=up,
                )
            acc[strip >= n] = hq.DEG_NODATA
            deg_ds.write(acc, 1, window=place)
            q_ds.write(hq.quality(acc, hq.habitat_of(strip, table), k), 1, window=place)
            del acc
    return paths
