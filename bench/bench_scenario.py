"""Benchmark scenarios: recompute a change of 0.1, 1 and 10 ha in Breda (10 m) and Otterlo (1 m).

Both areas are published first into a data folder of their own (``biostresstest run``, skipped
when already there). Then, in this process, a square place of each size is laid on a block of
the land cover the measure fits (Breda: flower-rich grassland on vegetated cells; Otterlo:
flower-rich field margin on arable land) and the scenario is run: changed cells → windowed
habitat quality, surface factor, connectivity → score, water, cooling and cost deltas.

The first run of an area also reads its published layers (cold); the figures per size are the
median of three warm runs. Target: 1 ha in at most 1 s. Writes bench/results/scenario.json.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import (
    bench_env,
    cli_command,
    default_mirror,
    environment,
    print_table,
    run_measured,
    write_json,
)
from scipy import ndimage

from biostresstest.measures import scenario as scenarios
from biostresstest.measures.baseline import load_baseline
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.landcover import load_classes

CASES = {
    "GM0758": ("bloemrijk_grasland", "begroeid_onbepaald", ["run", "--gemeente", "GM0758"]),
    "otterlo": ("akkerrand", "akker", ["run", "--area", "otterlo"]),
}
SIZES_HA = (0.1, 1.0, 10.0)
TARGET_S = 1.0


def square_on(store: EmbeddedStore, key: str, class_key: str, hectares: float) -> str:
    """WKT of a square of ``hectares`` on the block where ``class_key`` is densest."""
    base = load_baseline(store, key)
    side_m = float(np.sqrt(hectares * 1e4))
    cells = max(round(side_m / base.grid.cell_size), 1)
    mask = (base.landcover == load_classes().by_key(class_key).code).astype(np.float32)
    mask[np.isnan(base.layer("score"))] = 0
    density = ndimage.uniform_filter(mask, cells, mode="constant")
    r, c = np.unravel_index(int(np.argmax(density)), density.shape)
    g = base.grid
    x0 = g.xmin + (c - cells // 2) * g.cell_size
    y1 = g.ymax - (r - cells // 2) * g.cell_size
    x1, y0 = x0 + side_m, y1 - side_m
    return f"POLYGON(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/bst-bench-scenario"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env = bench_env(args.data_dir, default_mirror())
    results: dict[str, Any] = {"benchmark": "scenario", "environment": environment(), "areas": {}}
    rows = []
    for key, (measure, class_key, run_args) in CASES.items():
        store = EmbeddedStore(args.data_dir / "store")
        if key not in store.gemeenten():
            child = run_measured(
                [*cli_command(), *run_args], env, Path(f"bench/results/scenario-run-{key}"), 1800
            )
            if child.exit_code != 0:
                raise SystemExit(f"publishing {key} failed; see {child.stderr_log}")
            store = EmbeddedStore(args.data_dir / "store")
        area: dict[str, Any] = {"measure": measure, "sizes": {}}
        for i, hectares in enumerate(SIZES_HA):
            wkt = square_on(store, key, class_key, hectares)
            name = f"bench-{hectares:g}ha".replace(".", "_")  # scenario names: a-z 0-9 - _
            scenario = scenarios.build(name, key, [{"measure": measure, "wkt": wkt}])
            if i == 0:
                started = time.perf_counter()
                scenarios.run(store, scenario)
                area["cold_s"] = round(time.perf_counter() - started, 3)
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                result = scenarios.run(store, scenario)
                times.append(time.perf_counter() - started)
            median = statistics.median(times)
            window = result["score"]["window"]
            area["sizes"][str(hectares)] = {
                "median_s": round(median, 3),
                "runs_s": [round(t, 3) for t in times],
                "window_cells": window["cells"],
                "score_window": [window["before"], window["after"]],
                "score_area": [result["score"]["area"]["before"], result["score"]["area"]["after"]],
            }
            rows.append(
                [
                    key,
                    f"{hectares:g} ha",
                    f"{median:.3f}",
                    f"{window['cells']:,}",
                    "yes" if hectares != 1.0 or median <= TARGET_S else "NO",
                ]
            )
        results["areas"][key] = area
        print(f"{key}: first scenario incl. reading the layers {area['cold_s']} s")
    print_table(["area", "change", "median s", "window cells", "≤1 s at 1 ha"], rows)
    write_json("scenario.json", results)


if __name__ == "__main__":
    main()
