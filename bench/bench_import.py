"""Benchmark the import of the Leeuwarden tree register (2,088 trees) as local data of GM0080.

Runs ``biostresstest local import --gemeente GM0080 --kind trees bomen.zip`` as a child process
and measures wall time, CPU time and peak memory (max RSS, ``os.wait4``):

cold      a fresh data dir: the CBS gemeenten outline is copied and read first, then the import
warm      the same data dir again (raw cache filled): replaces the live dataset atomically
imports   reference only: ``python -c "import biostresstest.sources.upload"``

Then, in this process, the two steps of an import apart (prepare = sniff, unzip, read, CRS,
geometry and extent checks; commit = mapping, GeoPackage write, fsync, atomic switch, audit),
median of ``--repeat`` runs. Writes bench/results/import.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from _common import (
    bench_env,
    cli_command,
    default_mirror,
    environment,
    print_table,
    run_measured,
    write_json,
)

TREES = "leeuwarden-monumentale-bomen-2015/monumentale_en_waardevolle_bomen"
GEMEENTE = "GM0080"


def tree_zip(mirror: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            zf.write(mirror / f"{TREES}{suffix}", f"bomen{suffix}")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mirror", type=Path, default=default_mirror())
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    archive = tree_zip(args.mirror, work / "bomen.zip")
    env = bench_env(work / "data", args.mirror)
    command = [
        *cli_command(),
        "local",
        "import",
        "--gemeente",
        GEMEENTE,
        "--kind",
        "trees",
        str(archive),
    ]
    rows, results = [], {}
    for phase, cmd in (
        ("cold", command),
        ("warm", command),
        ("imports", [sys.executable, "-c", "import biostresstest.sources.upload"]),
    ):
        run = run_measured(cmd, env, work / "logs" / phase, timeout_s=300)
        if run.exit_code != 0:
            print(f"{phase} failed, see {run.stderr_log}", file=sys.stderr)
            return 1
        results[phase] = run.as_dict()
        rows.append(
            [phase, f"{run.wall_s:.2f}", f"{run.user_s + run.sys_s:.2f}", f"{run.max_rss_mib:.0f}"]
        )
    print_table(["phase", "wall s", "cpu s", "max RSS MiB"], rows)

    from biostresstest.core.settings import Settings
    from biostresstest.sources.upload import commit_upload, prepare_upload

    settings = Settings(data_dir=work / "data", mirror=args.mirror, offline=True)
    prepare_upload(settings, GEMEENTE, archive, "bomen.zip", "trees", "bench", move=False)
    prepare_s, commit_s = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        preview = prepare_upload(
            settings, GEMEENTE, archive, "bomen.zip", "trees", "bench", move=False
        )
        middle = time.perf_counter()
        commit_upload(settings, GEMEENTE, preview["upload_id"], "bench")
        prepare_s.append(middle - started)
        commit_s.append(time.perf_counter() - middle)
    steps = {
        "prepare_median_s": round(statistics.median(prepare_s), 4),
        "commit_median_s": round(statistics.median(commit_s), 4),
        "repeat": args.repeat,
    }
    print_table(
        ["step", "median s"],
        [
            ["prepare", f"{steps['prepare_median_s']:.3f}"],
            ["commit", f"{steps['commit_median_s']:.3f}"],
        ],
    )
    path = write_json(
        "import.json",
        {"environment": environment(), "features": 2088, "children": results, "in_process": steps},
    )
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
