"""Helpers shared by the benchmarks: paths, environment, running the CLI with its rusage."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "bench" / "results"
GEMEENTE = "GM0758"


def default_mirror() -> Path:
    """``BIOSTRESSTEST_MIRROR`` if set, else the shared data folder beside the checkout."""
    env = os.environ.get("BIOSTRESSTEST_MIRROR")
    return Path(env) if env else (REPO_ROOT / ".." / "shared" / "data").resolve()


def cli_command() -> list[str]:
    """The venv's ``biostresstest`` script, or ``python -m biostresstest.cli`` without one."""
    script = Path(sys.executable).parent / "biostresstest"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "biostresstest.cli"]


def bench_env(data_dir: Path, mirror: Path) -> dict[str, str]:
    """The environment of a child process: this one plus the biostresstest settings."""
    env = dict(os.environ)
    env.update(
        {
            "BIOSTRESSTEST_DATA_DIR": str(data_dir),
            "BIOSTRESSTEST_MIRROR": str(mirror),
            "BIOSTRESSTEST_BASEMAP_URL": "",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@dataclass
class ChildRun:
    """One finished child process with its resource usage."""

    command: list[str]
    exit_code: int
    wall_s: float
    user_s: float
    sys_s: float
    max_rss_mib: float
    timed_out: bool
    stdout_log: str
    stderr_log: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_measured(
    command: list[str], env: dict[str, str], log_stem: Path, timeout_s: float
) -> ChildRun:
    """Run ``command`` and measure wall time and max RSS with ``os.wait4`` (bounded by time)."""
    log_stem.parent.mkdir(parents=True, exist_ok=True)
    out_path = log_stem.with_suffix(".stdout.log")
    err_path = log_stem.with_suffix(".stderr.log")
    timed_out = False
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=err, cwd=REPO_ROOT)
        deadline = start + timeout_s
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if time.perf_counter() > deadline:
                timed_out = True
                os.kill(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        wall = time.perf_counter() - start
    exit_code = os.waitstatus_to_exitcode(status)
    proc.returncode = exit_code  # reaped by wait4: keep Popen from waiting again
    return ChildRun(
        command=command,
        exit_code=exit_code,
        wall_s=round(wall, 3),
        user_s=round(usage.ru_utime, 3),
        sys_s=round(usage.ru_stime, 3),
        max_rss_mib=round(usage.ru_maxrss / 1024, 1),  # Linux: ru_maxrss in KiB
        timed_out=timed_out,
        stdout_log=str(out_path),
        stderr_log=str(err_path),
    )


def tail(path: str, lines: int = 15) -> str:
    """The last lines of a log file (for error messages)."""
    text = Path(path).read_text("utf-8", errors="replace").replace("\r", "\n")
    return "\n".join([ln for ln in text.splitlines() if ln.strip()][-lines:])


def environment() -> dict[str, Any]:
    """What the figures were measured on."""
    commit = ""
    git = shutil.which("git")
    if git:
        done = subprocess.run(
            [git, "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        commit = done.stdout.strip()
    try:
        from biostresstest import __version__ as version
    except ImportError:  # pragma: no cover - the bench runs in the project's venv
        version = "?"
    return {
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": commit,
        "biostresstest_version": version,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "loadavg_1_5_15": [round(v, 2) for v in os.getloadavg()],
    }


def write_json(name: str, payload: dict[str, Any]) -> Path:
    """Write ``payload`` to ``bench/results/<name>``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / name
    path.write_text(json.dumps(payload, indent=2) + "\n", "utf-8")
    return path


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """Print a plain aligned table (first column left, the others right)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


RUN_HEADERS = ["run", "exit", "wall s", "user s", "sys s", "peak RSS MiB"]
"""Columns of :func:`run_row`."""


def run_row(label: str, run: ChildRun) -> list[str]:
    """One measured child process as a table row (see :data:`RUN_HEADERS`)."""
    return [
        label,
        str(run.exit_code),
        f"{run.wall_s:.2f}",
        f"{run.user_s:.2f}",
        f"{run.sys_s:.2f}",
        f"{run.max_rss_mib:.0f}",
    ]


def side_by_side(
    rounds: int,
    invest_command: Any,
    ours_command: Any,
    env: dict[str, str],
    log_prefix: str,
    timeout: float,
    rows: list[list[str]],
) -> tuple[dict[str, list[ChildRun]], bool]:
    """natcap.invest and ours, alternating, ``rounds`` times; rows appended to ``rows``.

    ``invest_command(i)`` and ``ours_command(i)`` give the command of round ``i``
    (``invest_command`` may be None to run only ours). Returns the runs by side and whether any
    failed (their error output is printed).
    """
    runs: dict[str, list[ChildRun]] = {"invest": [], "ours": []}
    failed = False
    for i in range(rounds):
        sides = [
            ("invest", invest_command, "natcap.invest 3.20.2"),
            ("ours", ours_command, "biostresstest"),
        ]
        for side, command, label in sides:
            if command is None:
                continue
            run = run_measured(command(i), env, RESULTS_DIR / f"{log_prefix}-{side}{i}", timeout)
            runs[side].append(run)
            rows.append(run_row(f"{label} #{i + 1}", run))
            failed |= run.exit_code != 0
    for side, measured in runs.items():
        for run in measured:
            if run.exit_code != 0:
                print(f"{side} failed:\n{tail(run.stderr_log)}", file=sys.stderr)
    print()
    print_table(RUN_HEADERS, rows)
    return runs, failed


def best_ratios(runs: dict[str, list[ChildRun]]) -> dict[str, float]:
    """Speed-up (wall, best run of each side) and peak memory of ours over InVEST's."""
    invest = min(runs["invest"], key=lambda r: r.wall_s)
    ours = min(runs["ours"], key=lambda r: r.wall_s)
    return {
        "speedup_wall": round(invest.wall_s / ours.wall_s, 2),
        "memory_ratio": round(ours.max_rss_mib / invest.max_rss_mib, 3),
    }
