"""Benchmark ``biostresstest run --gemeente GM0758``: wall time and peak memory, cold and warm.

cold: a fresh, empty data dir (sources copied from the mirror, every step computed);
warm: a re-run on the same data dir (every step from the cache, nothing republished);
imports (reference): only ``import biostresstest.pipeline.run``, the floor under a warm run.
Each run is a child process; its max RSS comes from ``os.wait4``. Writes bench/results/run.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import (
    GEMEENTE,
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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemeente", default=GEMEENTE)
    parser.add_argument("--mirror", type=Path, default=default_mirror(),
                        help="folder with local copies of the sources (default: %(default)s)")
    parser.add_argument("--warm-runs", type=int, default=1, help="warm re-runs (default 1)")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds before a run is killed (default %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    parser.add_argument("--no-imports", action="store_true",
                        help="skip the reference run that only imports the pipeline")
    return parser.parse_args()


def _cached_steps(run: ChildRun) -> list[str]:
    text = Path(run.stdout_log).read_text("utf-8", errors="replace")
    for line in text.splitlines():
        if "steps reused from the cache:" in line:
            return [s.strip() for s in line.split(":", 1)[1].split(",") if s.strip()]
    return []


def _step_seconds(data_dir: Path, gemeente: str) -> dict[str, float]:
    manifest = data_dir / "store" / gemeente / "manifest.json"
    if not manifest.exists():
        return {}
    steps = json.loads(manifest.read_text("utf-8")).get("steps", {})
    return {name: entry.get("seconds") for name, entry in steps.items()}


def _dir_mib(path: Path) -> float:
    if not path.exists():
        return 0.0
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return round(total / 2**20, 1)


def main() -> int:
    args = parse_args()
    if not args.mirror.is_dir():
        print(f"error: mirror folder {args.mirror} not found (set BIOSTRESSTEST_MIRROR)",
              file=sys.stderr)
        return 2
    command = [*cli_command(), "run", "--gemeente", args.gemeente]
    data_dir = Path(tempfile.mkdtemp(prefix="bst-bench-run-"))
    env = bench_env(data_dir, args.mirror)
    results: list[dict[str, Any]] = []
    failed = False
    try:
        phases = ["cold"] + [f"warm{i + 1}" if args.warm_runs > 1 else "warm"
                             for i in range(args.warm_runs)]
        for phase in phases:
            print(f"running {phase}: {' '.join(command)}  (data dir {data_dir})", flush=True)
            run = run_measured(command, env, RESULTS_DIR / f"run-{phase}", args.timeout)
            entry: dict[str, Any] = {"phase": phase, **run.as_dict()}
            entry["cached_steps"] = _cached_steps(run)
            if phase == "cold":
                entry["step_seconds"] = _step_seconds(data_dir, args.gemeente)
                entry["data_dir_mib"] = {
                    sub: _dir_mib(data_dir / sub) for sub in ("raw", "steps", "store")
                }
            results.append(entry)
            if run.exit_code != 0 or run.timed_out:
                failed = True
                print(f"error: {phase} run failed (exit {run.exit_code}, "
                      f"timed out: {run.timed_out}):\n{tail(run.stderr_log)}", file=sys.stderr)
                break
        if not failed and not args.no_imports:
            imports = [sys.executable, "-c", "import biostresstest.pipeline.run"]
            print(f"running imports: {' '.join(imports)}", flush=True)
            run = run_measured(imports, env, RESULTS_DIR / "run-imports", args.timeout)
            results.append({"phase": "imports", **run.as_dict(), "cached_steps": []})
    finally:
        if args.keep:
            print(f"kept data dir {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)

    print()
    print_table(
        ["phase", "exit", "wall s", "user s", "sys s", "peak RSS MiB", "cached steps"],
        [
            [r["phase"], str(r["exit_code"]), f"{r['wall_s']:.2f}", f"{r['user_s']:.2f}",
             f"{r['sys_s']:.2f}", f"{r['max_rss_mib']:.1f}",
             "-" if r["phase"] == "imports" else str(len(r["cached_steps"]))]
            for r in results
        ],
    )
    cold = results[0] if results else {}
    if cold.get("step_seconds"):
        steps = ", ".join(f"{k} {v:.2f}" for k, v in cold["step_seconds"].items())
        print(f"\ncold step seconds (manifest): {steps}")
    path = write_json(
        "run.json",
        {
            "benchmark": "run",
            "gemeente": args.gemeente,
            "mirror": str(args.mirror),
            "command": command,
            "environment": environment(),
            "runs": results,
            "ok": not failed,
        },
    )
    print(f"\nwrote {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
