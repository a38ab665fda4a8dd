"""Benchmark the full indicator runs: Breda (GM0758, 10 m) and Otterlo (BGT, 1 m), step by step.

Each case is the whole ``run`` (land cover, habitat quality, Natura 2000, robustness, score,
aggregation, publication) from a warm fetch cache and a cold step cache: the sources are already
in the data folder's raw cache (the first invocation fills it with an untimed run), and the
finished-step cache and the store are emptied before the timed run. Each run is a child process;
its wall time, CPU time and peak RSS come from ``os.wait4``. Inside the child a progress callback
notes the time and the peak RSS so far at the start of every step, so the table shows how long
each step took and how high memory had risen by its end (peak RSS is monotone: a step that does
not raise it shows the same figure as the step before).

Writes bench/results/indicators.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import (
    RESULTS_DIR,
    ChildRun,
    bench_env,
    default_mirror,
    environment,
    print_table,
    run_measured,
    tail,
    write_json,
)

CASES = {
    "breda": ("GM0758", "Breda (GM0758), RIVM Groenkaart at 10 m"),
    "otterlo": ("otterlo", "Otterlo (Ede), BGT 2 x 2 km at 1 m"),
}
RUNNER = r"""
import json, resource, sys, time
from biostresstest.core.settings import get_settings
marks = []
def progress(step):
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    marks.append([step, time.perf_counter(), rss])
progress("start")
if sys.argv[1] == "breda":
    from biostresstest.pipeline.run import run_gemeente
    summary = run_gemeente("GM0758", get_settings(), progress=progress)
else:
    from biostresstest.model.study_area import parse_area
    from biostresstest.pipeline.run_area import run_area
    summary = run_area(parse_area("otterlo"), get_settings(), progress=progress)
progress("end")
result = {"marks": marks, "steps": summary.manifest["steps"], "published": summary.published}
print("RESULT " + json.dumps(result))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=["breda", "otterlo"])
    parser.add_argument(
        "--mirror",
        type=Path,
        default=default_mirror(),
        help="folder with local copies of the sources (default: %(default)s)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(tempfile.gettempdir()) / "bst-bench-indicators",
        help="data folders, one per case, kept between runs for their fetch cache",
    )
    parser.add_argument("--timeout", type=float, default=1800.0)
    return parser.parse_args()


def _result(run: ChildRun) -> dict[str, Any]:
    text = Path(run.stdout_log).read_text("utf-8", errors="replace")
    for line in text.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[len("RESULT ") :]))
    return {}


def _steps(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per step: seconds between its start and the next one's, and peak RSS at its end."""
    marks = result.get("marks", [])
    cached = {name for name, entry in result.get("steps", {}).items() if entry.get("cached")}
    return [
        {
            "step": name,
            "seconds": round(nxt[1] - started, 3),
            "peak_rss_mib_at_end": round(nxt[2], 1),
            "cached": name in cached,
        }
        for (name, started, _), nxt in itertools.pairwise(marks[1:])
    ]


def run_case(case: str, opts: argparse.Namespace) -> dict[str, Any]:
    """Fill the fetch cache if needed, empty the step cache and store, run and measure."""
    code, label = CASES[case]
    data_dir = opts.data / case
    env = bench_env(data_dir, opts.mirror)
    command = [sys.executable, "-c", RUNNER, case]
    if not (data_dir / "raw").is_dir():
        print(f"{case}: filling the fetch cache in {data_dir} (untimed run)", flush=True)
        first = run_measured(command, env, RESULTS_DIR / f"indicators-{case}-fill", opts.timeout)
        if first.exit_code != 0:
            shutil.rmtree(data_dir / "raw", ignore_errors=True)
            raise SystemExit(f"{case}: the first run failed:\n{tail(first.stderr_log)}")
    for sub in ("steps", "store"):
        shutil.rmtree(data_dir / sub, ignore_errors=True)
    print(f"{case}: timed run (warm fetch cache, cold step cache)", flush=True)
    run = run_measured(command, env, RESULTS_DIR / f"indicators-{case}", opts.timeout)
    result = _result(run)
    if run.exit_code != 0 or not result:
        print(f"{case} failed:\n{tail(run.stderr_log)}", file=sys.stderr)
    imports = result.get("marks", [[None, 0.0, 0.0]])[0][2]
    return {
        "case": case,
        "key": code,
        "label": label,
        "run": run.as_dict(),
        "imports_peak_rss_mib": imports,
        "steps": _steps(result),
        "ok": run.exit_code == 0 and bool(result),
    }


def main() -> int:
    opts = parse_args()
    if not opts.mirror.is_dir():
        print(f"error: mirror folder {opts.mirror} not found", file=sys.stderr)
        return 2
    cases = [run_case(case, opts) for case in opts.cases]
    for entry in cases:
        run = entry["run"]
        print(
            f"\n{entry['label']}: wall {run['wall_s']:.1f} s, CPU "
            f"{run['user_s'] + run['sys_s']:.1f} s, peak RSS {run['max_rss_mib']:.0f} MiB "
            f"(exit {run['exit_code']})"
        )
        if entry["steps"]:
            print_table(
                ["step", "seconds", "peak RSS MiB at end", "cached"],
                [
                    [
                        s["step"],
                        f"{s['seconds']:.2f}",
                        f"{s['peak_rss_mib_at_end']:.0f}",
                        "yes" if s["cached"] else "no",
                    ]
                    for s in entry["steps"]
                ],
            )
    path = write_json(
        "indicators.json",
        {
            "benchmark": "indicators",
            "mirror": str(opts.mirror),
            "environment": environment(),
            "cases": cases,
            "ok": all(c["ok"] for c in cases),
        },
    )
    print(f"\nwrote {path}")
    return 0 if all(c["ok"] for c in cases) else 1


if __name__ == "__main__":
    sys.exit(main())
