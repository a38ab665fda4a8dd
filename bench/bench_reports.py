"""Time and peak memory to render the Breda gemeente report and an address page (PDF).

Runs the pipeline into the data dir first when it holds no Breda results, then measures, each in
a child process (wall time, CPU, max RSS through ``os.wait4``):

- ``cli-gemeente`` / ``cli-address``: ``biostresstest report`` from a cold start (imports included);
- ``warm``: one process rendering the gemeente report and the address page several times,
  printing the time of each render (the figure a running web server sees).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from _common import (
    GEMEENTE,
    bench_env,
    cli_command,
    default_mirror,
    environment,
    print_table,
    run_measured,
    tail,
    write_json,
)

ADDRESS = (112500.0, 400300.0)
"""A point in the centre of Breda (RD New)."""
WARM = """
import json, sys, time
from pathlib import Path
from biostresstest.core.settings import Settings
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.reports.render import address_report, area_report
settings = Settings(data_dir=Path(sys.argv[1]))  # saved scenarios are read as the server does
store = EmbeddedStore(settings.data_dir / "store")
times = {"gemeente": [], "address": []}
for _ in range(int(sys.argv[2])):
    t = time.perf_counter(); pdf = area_report(store, sys.argv[3], "nl", settings).pdf
    times["gemeente"].append(time.perf_counter() - t); times["gemeente_kib"] = len(pdf) // 1024
    t = time.perf_counter(); pdf = address_report(store, float(sys.argv[4]), float(sys.argv[5])).pdf
    times["address"].append(time.perf_counter() - t); times["address_kib"] = len(pdf) // 1024
print(json.dumps(times))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemeente", default=GEMEENTE)
    parser.add_argument("--mirror", type=Path, default=default_mirror())
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data dir with results (default: a temporary dir; the run goes first)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="renders per kind in the warm phase")
    parser.add_argument("--timeout", type=float, default=900.0)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bst-bench-reports-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        env = bench_env(data_dir, args.mirror)
        logs = Path(tmp) / "logs" if args.data_dir is None else data_dir / "bench-logs"
        if not (data_dir / "store" / args.gemeente).exists():
            prep = run_measured(
                [*cli_command(), "run", "--gemeente", args.gemeente],
                env,
                logs / "run",
                args.timeout,
            )
            if prep.exit_code != 0:
                print(tail(prep.stderr_log), file=sys.stderr)
                return 1
        out = Path(tmp) / "out"
        out.mkdir()
        runs = {
            "cli-gemeente": run_measured(
                [*cli_command(), "report", "--area", args.gemeente, "--out", str(out / "g.pdf")],
                env,
                logs / "cli-gemeente",
                args.timeout,
            ),
            "cli-address": run_measured(
                [
                    *cli_command(),
                    "report",
                    "--address",
                    f"{ADDRESS[0]},{ADDRESS[1]}",
                    "--out",
                    str(out / "a.pdf"),
                ],
                env,
                logs / "cli-address",
                args.timeout,
            ),
            "warm": run_measured(
                [
                    sys.executable,
                    "-c",
                    WARM,
                    str(data_dir),
                    str(args.repeat),
                    args.gemeente,
                    str(ADDRESS[0]),
                    str(ADDRESS[1]),
                ],
                env,
                logs / "warm",
                args.timeout,
            ),
        }
        failed = [name for name, run in runs.items() if run.exit_code != 0]
        for name in failed:
            print(f"{name} failed:\n{tail(runs[name].stderr_log)}", file=sys.stderr)
        if failed:
            return 1
        warm = json.loads(Path(runs["warm"].stdout_log).read_text("utf-8").strip().splitlines()[-1])
    rows = [
        [name, f"{r.wall_s:.2f}", f"{r.user_s + r.sys_s:.2f}", f"{r.max_rss_mib:.0f}"]
        for name, r in runs.items()
    ]
    print_table(["phase", "wall s", "cpu s", "max RSS MiB"], rows)
    print()
    print_table(
        ["warm render", "median s", "min s", "PDF KiB"],
        [
            [
                kind,
                f"{statistics.median(warm[kind]):.2f}",
                f"{min(warm[kind]):.2f}",
                str(warm[f"{kind}_kib"]),
            ]
            for kind in ("gemeente", "address")
        ],
    )
    path = write_json(
        "reports.json",
        {
            "benchmark": "reports",
            "gemeente": args.gemeente,
            "address_rd": ADDRESS,
            "environment": environment(),
            "runs": {name: run.as_dict() for name, run in runs.items()},
            "warm_seconds": warm,
        },
    )
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
