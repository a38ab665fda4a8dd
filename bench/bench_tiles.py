"""Benchmark the tile endpoints of ``biostresstest serve`` under a bounded concurrent load.

Prepares a data dir (runs the pipeline for the gemeente and for the study area once unless it
already holds their results), starts the server on a free loopback port, then runs these phases
with an async httpx load generator:

vector        pre-built PMTiles, the three levels at zoom 10-15 (within each level's zoom range);
raster_cold   PNG tiles of the score classes at zoom 14-16, distinct tiles: LRU cache misses, each
              warped from the COG;
raster_warm   the raster tiles raster_cold got answered, again (cycled up to the same count):
              served from the in-process LRU cache;
area_cold     PNG tiles of the land cover of the study area (otterlo, 1 m) at zoom 15-18: every
              distinct tile once per pass, each pass on a freshly started server (the square has
              fewer distinct tiles than the requests wanted, and only a new process empties the
              LRU cache), so every request is a miss;
area_warm     the tiles the last area_cold pass got answered, again: LRU cache hits.

Only tiles that intersect Breda's outline (from /api/areas) or the study area's square (RD New,
converted with pyproj) are requested. Every phase is bounded by a request count and a time budget.
Writes bench/results/tiles.json.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import shapely
from _common import (
    GEMEENTE,
    RESULTS_DIR,
    bench_env,
    cli_command,
    default_mirror,
    environment,
    print_table,
    run_measured,
    tail,
    write_json,
)
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

BREDA_BBOX = (4.67, 51.50, 4.87, 51.66)
"""Fallback lon/lat bounds when the outline cannot be read from the API."""
VECTOR_ZOOMS = {"gemeente": (10, 13), "wijk": (10, 14), "buurt": (10, 15)}
"""Zoom 10-15 clipped to each level's pre-built range (gemeente 5-13, wijk 8-14, buurt 9-15)."""
RASTER_ZOOMS = (14, 16)
AREA = "otterlo"
AREA_ZOOMS = (15, 18)
AREA_LAYER = "landcover"
Tile = tuple[int, int, int]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemeente", default=GEMEENTE)
    parser.add_argument("--mirror", type=Path, default=default_mirror(),
                        help="folder with local copies of the sources (default: %(default)s)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="data dir to serve; the pipeline runs there first if it has no "
                             "results (default: a temporary dir, removed afterwards)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--vector-requests", type=int, default=1000,
                        help="vector tile requests (the tile list is cycled; default 1000)")
    parser.add_argument("--raster-requests", type=int, default=1000,
                        help="distinct raster tiles per pass (default 1000)")
    parser.add_argument("--area", default=AREA,
                        help="study area whose land-cover tiles are load-tested (default "
                             "%(default)s; its pipeline runs into the data dir if needed)")
    parser.add_argument("--no-area", action="store_true",
                        help="skip the study area (area_cold, area_warm)")
    parser.add_argument("--area-requests", type=int, default=1000,
                        help="least requests per area phase (default 1000); area_cold makes "
                             "as many passes over the distinct tiles as this needs")
    parser.add_argument("--phase-timeout", type=float, default=120.0,
                        help="hard cap in seconds per load phase (default 120)")
    parser.add_argument("--request-timeout", type=float, default=30.0)
    parser.add_argument("--startup-timeout", type=float, default=60.0)
    parser.add_argument("--run-timeout", type=float, default=900.0,
                        help="seconds before the preparing pipeline run is killed")
    return parser.parse_args()


# --- slippy-map math --------------------------------------------------------------------------


def lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    lat_r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees."""
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y)


def tiles_covering(outline: BaseGeometry, z: int) -> list[Tile]:
    """The tiles of zoom ``z`` that intersect ``outline`` (lon/lat)."""
    west, south, east, north = outline.bounds
    x0, y0 = lonlat_to_tile(west, north, z)
    x1, y1 = lonlat_to_tile(east, south, z)
    return [
        (z, x, y)
        for x in range(x0, x1 + 1)
        for y in range(y0, y1 + 1)
        if outline.intersects(box(*tile_bounds(z, x, y)))
    ]


def spread(items: list[Tile], count: int) -> list[Tile]:
    """At most ``count`` items, evenly spaced over ``items`` (keeps every zoom represented)."""
    if len(items) <= count:
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


# --- server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mib(pid: int) -> dict[str, float]:
    """Current and peak RSS of a process (Linux /proc)."""
    values: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values["rss_mib" if key == "VmRSS" else "peak_rss_mib"] = round(
                    int(rest.split()[0]) / 1024, 1
                )
    except OSError:
        pass
    return values


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; all its threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15)


class Server:
    """``biostresstest serve`` on a free 127.0.0.1 port; can be restarted (a new process on a new
    port, with empty in-process caches). Always stop it with :meth:`stop`."""

    def __init__(self, env: dict[str, str], log_path: Path, startup_timeout: float) -> None:
        self.env = env
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = ""
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> float:
        """Start a new server process; returns the seconds until it answered."""
        self.stop()
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "biostresstest.cli", "serve", "--host", "127.0.0.1",
                   "--port", str(port)]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab" if self.starts else "wb") as log:
            self.proc = subprocess.Popen(command, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT)
        self.starts += 1
        return wait_ready(self.proc, self.base, self.startup_timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)


def wait_ready(proc: subprocess.Popen[bytes], base: str, timeout_s: float) -> float:
    """Poll /api/config until it answers 200; returns the seconds it took."""
    start = time.perf_counter()
    with httpx.Client(base_url=base, trust_env=False, timeout=2.0) as client:
        while time.perf_counter() - start < timeout_s:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode} before answering")
            try:
                if client.get("/api/config").status_code == 200:
                    return time.perf_counter() - start
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer /api/config within {timeout_s:.0f} s")


def breda_outline(base: str, gemeente: str) -> tuple[BaseGeometry, str]:
    """The gemeente's outline in lon/lat from the API (or the fixed bbox if that fails)."""
    try:
        with httpx.Client(base_url=base, trust_env=False, timeout=60.0) as client:
            answer = client.get("/api/areas", params={"gemeente": gemeente, "level": "gemeente"})
            answer.raise_for_status()
            features = answer.json()["features"]
        return shape(features[0]["geometry"]), "api/areas"
    except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
        print(f"warning: no outline from the API ({exc}); using the fixed bbox", file=sys.stderr)
        return box(*BREDA_BBOX), "fixed bbox"


def warm_up(base: str, gemeente: str, outline: BaseGeometry) -> dict[str, int]:
    """One request per vector level and one raster tile at zoom 13 (outside the measured list),
    so lazy imports and opening the tile files are not charged to the first phase."""
    lon, lat = outline.representative_point().coords[0]
    paths = [f"/tiles/{gemeente}/{lvl}/{z}/{x}/{y}.mvt"
             for lvl in VECTOR_ZOOMS
             for z, (x, y) in [(12, lonlat_to_tile(lon, lat, 12))]]
    x, y = lonlat_to_tile(lon, lat, 13)
    paths.append(f"/tiles/{gemeente}/cells/score_class/13/{x}/{y}.png")
    with httpx.Client(base_url=base, trust_env=False, timeout=60.0) as client:
        return {path: client.get(path).status_code for path in paths}


def area_outline(area: str) -> tuple[BaseGeometry, tuple[float, float, float, float]]:
    """The study area's RD New square in lon/lat (densified, so its curved edges stay exact)."""
    import numpy as np
    from pyproj import Transformer

    from biostresstest.model.study_area import parse_area

    bounds = parse_area(area).bounds
    to_wgs84 = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)

    def convert(coords: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    square = shapely.segmentize(box(*bounds), 50.0)
    return shapely.transform(square, convert), bounds


def warm_up_area(base: str, area: str, outline: BaseGeometry) -> dict[str, int]:
    """One land-cover tile at zoom 14 (outside the measured list): opens the study area's COG."""
    lon, lat = outline.centroid.coords[0]
    x, y = lonlat_to_tile(lon, lat, 14)
    path = f"/tiles/{area}/cells/{AREA_LAYER}/14/{x}/{y}.png"
    with httpx.Client(base_url=base, trust_env=False, timeout=60.0) as client:
        return {path: client.get(path).status_code}


# --- load generator ---------------------------------------------------------------------------


@dataclass
class PhaseResult:
    """The outcome of one load phase."""

    name: str
    planned: int
    distinct_tiles: int
    elapsed_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    bytes_total: int = 0
    truncated: bool = False
    errors: list[str] = field(default_factory=list)
    slowest: list[tuple[float, str]] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)
    """Paths answered 200 or 204, in order."""

    def absorb(self, other: PhaseResult) -> None:
        """Add the requests of a further pass of the same phase."""
        self.elapsed_s += other.elapsed_s
        self.latencies_ms += other.latencies_ms
        self.statuses.update(other.statuses)
        self.bytes_total += other.bytes_total
        self.truncated |= other.truncated
        self.errors = (self.errors + other.errors)[:10]
        self.slowest = sorted(self.slowest + other.slowest, reverse=True)[:5]
        self.answered = other.answered  # the last pass's: what the running server has cached

    def summary(self) -> dict[str, Any]:
        done = len(self.latencies_ms)
        ordered = sorted(self.latencies_ms)
        return {
            "phase": self.name,
            "planned_requests": self.planned,
            "requests": done,
            "distinct_tiles": self.distinct_tiles,
            "statuses": dict(sorted(self.statuses.items())),
            "elapsed_s": round(self.elapsed_s, 3),
            "throughput_rps": round(done / self.elapsed_s, 1) if self.elapsed_s else 0.0,
            "latency_ms": {
                "p50": percentile(ordered, 50),
                "p95": percentile(ordered, 95),
                "p99": percentile(ordered, 99),
                "max": round(ordered[-1], 2) if ordered else None,
                "mean": round(sum(ordered) / done, 2) if done else None,
            },
            "bytes_total": self.bytes_total,
            "truncated_by_time": self.truncated,
            "errors_sample": self.errors[:10],
            "slowest": [
                {"ms": round(ms, 1), "path": path}
                for ms, path in sorted(self.slowest, reverse=True)[:5]
            ],
        }


def percentile(ordered: list[float], pct: float) -> float | None:
    """Linear-interpolated percentile of sorted values."""
    if not ordered:
        return None
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (rank - low), 2)


async def load(
    base: str, name: str, paths: list[str], distinct: int, concurrency: int,
    budget_s: float, request_timeout: float,
) -> PhaseResult:
    """GET every path once with ``concurrency`` workers; stop issuing after ``budget_s``."""
    result = PhaseResult(name=name, planned=len(paths), distinct_tiles=distinct)
    queue = iter(paths)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(request_timeout)
    start = time.perf_counter()
    deadline = start + budget_s

    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=timeout, trust_env=False
    ) as client:

        async def worker() -> None:
            for path in queue:  # a shared iterator: each path is taken by one worker
                if time.perf_counter() > deadline:
                    result.truncated = True
                    return
                t0 = time.perf_counter()
                try:
                    response = await client.get(path)
                    status = str(response.status_code)
                    result.bytes_total += len(response.content)
                except httpx.HTTPError as exc:
                    status = f"error:{type(exc).__name__}"
                    if len(result.errors) < 10:
                        cause = exc.__cause__ or exc.__context__
                        result.errors.append(
                            f"{path}: {exc!r} (cause {cause!r}) at {t0 - start:.2f} s "
                            f"after {(time.perf_counter() - t0) * 1000:.0f} ms"
                        )
                ms = (time.perf_counter() - t0) * 1000.0
                result.latencies_ms.append(ms)
                result.statuses[status] += 1
                if status.isdigit() and status not in ("200", "204") and len(result.errors) < 10:
                    result.errors.append(f"{path}: HTTP {status}")
                if status in ("200", "204"):
                    result.answered.append(path)
                result.slowest.append((ms, path))
                if len(result.slowest) > 50:
                    result.slowest = sorted(result.slowest, reverse=True)[:5]

        workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
        try:
            await asyncio.wait_for(asyncio.gather(*workers), budget_s + request_timeout + 5)
        except TimeoutError:
            result.truncated = True
    result.elapsed_s = time.perf_counter() - start
    return result


# --- main -------------------------------------------------------------------------------------


def prepare(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    """Run the pipeline into ``data_dir`` unless it already holds published results."""
    if (data_dir / "store" / args.gemeente / "manifest.json").exists():
        return {"pipeline": "reused existing results"}
    print(f"preparing {data_dir}: biostresstest run --gemeente {args.gemeente}", flush=True)
    run = run_measured(
        [*cli_command(), "run", "--gemeente", args.gemeente],
        bench_env(data_dir, args.mirror), RESULTS_DIR / "tiles-prepare", args.run_timeout,
    )
    if run.exit_code != 0 or run.timed_out:
        raise RuntimeError(f"pipeline run failed (exit {run.exit_code}):\n{tail(run.stderr_log)}")
    return {"pipeline": "ran", "wall_s": run.wall_s, "max_rss_mib": run.max_rss_mib}


def prepare_area(args: argparse.Namespace, data_dir: Path, key: str) -> dict[str, Any]:
    """Run the study area's pipeline into ``data_dir`` unless it already holds its results."""
    if (data_dir / "store" / key / "manifest.json").exists():
        return {"pipeline": "reused existing results"}
    print(f"preparing {data_dir}: biostresstest run --area {args.area}", flush=True)
    run = run_measured(
        [*cli_command(), "run", "--area", args.area],
        bench_env(data_dir, args.mirror), RESULTS_DIR / "tiles-prepare-area", args.run_timeout,
    )
    if run.exit_code != 0 or run.timed_out:
        raise RuntimeError(f"study-area run failed (exit {run.exit_code}):\n"
                           f"{tail(run.stderr_log)}")
    return {"pipeline": "ran", "wall_s": run.wall_s, "max_rss_mib": run.max_rss_mib}


@dataclass
class Usage:
    """CPU spent by the server and the load generator over one or more passes."""

    server_s: float = 0.0
    client_s: float = 0.0


def run_load(
    srv: Server, args: argparse.Namespace, name: str, paths: list[str], distinct: int,
    budget_s: float, usage: Usage,
) -> PhaseResult:
    """One pass of ``paths`` against the running server, its CPU added to ``usage``."""
    if not srv.alive():
        raise RuntimeError(f"server exited with {srv.proc.returncode if srv.proc else '?'}")
    server_cpu, client_cpu = cpu_seconds(srv.pid), time.process_time()
    result = asyncio.run(load(srv.base, name, paths, distinct, args.concurrency, budget_s,
                              args.request_timeout))
    usage.server_s += cpu_seconds(srv.pid) - server_cpu
    usage.client_s += time.process_time() - client_cpu
    return result


def summarise(result: PhaseResult, usage: Usage, srv: Server) -> dict[str, Any]:
    summary = result.summary()
    done = max(summary["requests"], 1)
    summary["cpu"] = {
        "server_s": round(usage.server_s, 2),
        "server_ms_per_request": round(usage.server_s * 1000 / done, 2),
        "client_s": round(usage.client_s, 2),
        "client_ms_per_request": round(usage.client_s * 1000 / done, 2),
    }
    summary["server_rss_after"] = rss_mib(srv.pid)
    summary["loadavg_1min_after"] = round(os.getloadavg()[0], 2)  # other work on the machine?
    return summary


def cycled(paths: list[str], count: int) -> list[str]:
    """``count`` paths, going round ``paths`` in order."""
    return [paths[i % len(paths)] for i in range(count)] if paths else []


def gemeente_phases(
    srv: Server, args: argparse.Namespace, info: dict[str, Any], rng: random.Random
) -> list[dict[str, Any]]:
    """vector, raster_cold, raster_warm on the running server."""
    outline, info["outline_from"] = breda_outline(srv.base, args.gemeente)
    info["outline_bounds"] = [round(v, 5) for v in outline.bounds]
    vector_tiles = [
        (level, tile)
        for level, (z0, z1) in VECTOR_ZOOMS.items()
        for z in range(z0, z1 + 1)
        for tile in tiles_covering(outline, z)
    ]
    vector_paths = [f"/tiles/{args.gemeente}/{lvl}/{z}/{x}/{y}.mvt"
                    for lvl, (z, x, y) in vector_tiles]
    rng.shuffle(vector_paths)
    raster_all = [t for z in range(RASTER_ZOOMS[0], RASTER_ZOOMS[1] + 1)
                  for t in tiles_covering(outline, z)]
    raster_tiles = spread(raster_all, args.raster_requests)
    raster_paths = [f"/tiles/{args.gemeente}/cells/score_class/{z}/{x}/{y}.png"
                    for z, x, y in raster_tiles]
    rng.shuffle(raster_paths)
    info["tile_counts"] = {
        "vector_distinct": len(vector_paths),
        "vector_by_level_zoom": dict(Counter(f"{lvl}/z{t[0]}" for lvl, t in vector_tiles)),
        "raster_intersecting_z14_16": len(raster_all),
        "raster_used": len(raster_paths),
        "raster_by_zoom": dict(Counter(f"z{z}" for z, _, _ in raster_tiles)),
    }
    print(f"tiles: {len(vector_paths)} distinct vector, {len(raster_paths)} of "
          f"{len(raster_all)} raster; concurrency {args.concurrency}", flush=True)
    info["warmup"] = warm_up(srv.base, args.gemeente, outline)

    phases = []
    vector_load = cycled(vector_paths, max(args.vector_requests, 1))
    print(f"phase vector: {len(vector_load)} requests ...", flush=True)
    usage = Usage()
    result = run_load(srv, args, "vector", vector_load, len(vector_paths), args.phase_timeout,
                      usage)
    phases.append(summarise(result, usage, srv))

    print(f"phase raster_cold: {len(raster_paths)} requests ...", flush=True)
    usage = Usage()
    result = run_load(srv, args, "raster_cold", raster_paths, len(raster_paths),
                      args.phase_timeout, usage)
    phases.append(summarise(result, usage, srv))

    # Only tiles the cold pass rendered (all in the LRU cache, which holds 8192), cycled up to
    # the same request count, so a cut-short cold pass does not leave misses in the warm one.
    seen = list(dict.fromkeys(result.answered))
    warm = cycled(seen, len(raster_paths))
    print(f"phase raster_warm: {len(warm)} requests ...", flush=True)
    usage = Usage()
    result = run_load(srv, args, "raster_warm", warm, len(seen), args.phase_timeout, usage)
    phases.append(summarise(result, usage, srv))
    return phases


def area_phases(
    srv: Server, args: argparse.Namespace, key: str, info: dict[str, Any], rng: random.Random
) -> list[dict[str, Any]]:
    """area_cold (passes over the distinct tiles, a fresh server each) and area_warm."""
    outline, bounds = area_outline(args.area)
    tiles = [t for z in range(AREA_ZOOMS[0], AREA_ZOOMS[1] + 1)
             for t in tiles_covering(outline, z)]
    paths = [f"/tiles/{key}/cells/{AREA_LAYER}/{z}/{x}/{y}.png" for z, x, y in tiles]
    rng.shuffle(paths)
    passes = max(1, math.ceil(args.area_requests / max(len(paths), 1)))
    info["area"] = {
        **info.get("area", {}),
        "key": key,
        "layer": AREA_LAYER,
        "bounds_rd": list(bounds),
        "bounds_lonlat": [round(v, 5) for v in outline.bounds],
        "tiles_by_zoom": dict(Counter(f"z{z}" for z, _, _ in tiles)),
        "distinct_tiles": len(paths),
        "cold_passes": passes,
        "warmup": warm_up_area(srv.base, key, outline),
        "restart_s": [],
    }
    print(f"area tiles: {len(paths)} distinct {AREA_LAYER} tiles of {key} at zoom "
          f"{AREA_ZOOMS[0]}-{AREA_ZOOMS[1]}; area_cold: {passes} pass(es), a fresh server each",
          flush=True)
    cold: PhaseResult | None = None
    usage = Usage()
    for n in range(passes):
        spent = cold.elapsed_s if cold is not None else 0.0
        if cold is not None and spent >= args.phase_timeout:
            cold.truncated = True
            break
        if n:  # a new process: empty LRU cache, the COG not yet open
            info["area"]["restart_s"].append(round(srv.start(), 2))
            warm_up_area(srv.base, key, outline)
        print(f"phase area_cold pass {n + 1}/{passes}: {len(paths)} requests ...", flush=True)
        result = run_load(srv, args, "area_cold", paths, len(paths), args.phase_timeout - spent,
                          usage)
        if cold is None:
            cold = result
        else:
            cold.absorb(result)
    assert cold is not None
    cold.planned = passes * len(paths)
    phases = [summarise(cold, usage, srv)]

    seen = list(dict.fromkeys(cold.answered))  # the last pass's: in this server's cache
    warm = cycled(seen, cold.planned)
    print(f"phase area_warm: {len(warm)} requests ...", flush=True)
    usage = Usage()
    result = run_load(srv, args, "area_warm", warm, len(seen), args.phase_timeout, usage)
    phases.append(summarise(result, usage, srv))
    return phases


def main() -> int:
    args = parse_args()
    if not args.mirror.is_dir():
        print(f"error: mirror folder {args.mirror} not found (set BIOSTRESSTEST_MIRROR)",
              file=sys.stderr)
        return 2
    temporary = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="bst-bench-tiles-")) if temporary else args.data_dir
    data_dir = data_dir.resolve()
    phases: list[dict[str, Any]] = []
    info: dict[str, Any] = {}
    expected = 3 if args.no_area else 5
    srv = Server(bench_env(data_dir, args.mirror), RESULTS_DIR / "tiles-server.log",
                 args.startup_timeout)
    try:
        info["prepare"] = prepare(args, data_dir)
        area_key = ""
        if not args.no_area:
            from biostresstest.model.study_area import parse_area

            area_key = parse_area(args.area).key
            info["area"] = {"prepare": prepare_area(args, data_dir, area_key)}
        info["server_startup_s"] = round(srv.start(), 2)
        print(f"server on {srv.base} (pid {srv.pid}), ready in {info['server_startup_s']} s")
        info["server_rss_start"] = rss_mib(srv.pid)
        rng = random.Random(758)  # fixed seed: the same request order every time
        phases += gemeente_phases(srv, args, info, rng)
        if area_key:
            phases += area_phases(srv, args, area_key, info, rng)
        info["server_alive_at_end"] = srv.alive()
        info["server_starts"] = srv.starts
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        info["error"] = str(exc)
    finally:
        srv.stop()
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)
        server_log = RESULTS_DIR / "tiles-server.log"
        if server_log.exists() and server_log.stat().st_size:
            info["server_log_tail"] = tail(str(server_log), 20)

    if phases:
        print()
        print_table(
            ["phase", "requests", "distinct", "statuses", "req/s", "p50 ms", "p95 ms", "p99 ms",
             "max ms", "srv CPU ms/req", "srv RSS MiB"],
            [
                [p["phase"], str(p["requests"]), str(p["distinct_tiles"]),
                 " ".join(f"{k}:{v}" for k, v in p["statuses"].items()),
                 f"{p['throughput_rps']:.1f}", _ms(p["latency_ms"]["p50"]),
                 _ms(p["latency_ms"]["p95"]), _ms(p["latency_ms"]["p99"]),
                 _ms(p["latency_ms"]["max"]), f"{p['cpu']['server_ms_per_request']:.1f}",
                 str(p["server_rss_after"].get("rss_mib", "?"))]
                for p in phases
            ],
        )
        for p in phases:
            if p["truncated_by_time"]:
                print(f"note: {p['phase']} hit the {args.phase_timeout:.0f} s cap after "
                      f"{p['requests']} of {p['planned_requests']} requests")
            if p["errors_sample"]:
                print(f"note: {p['phase']} errors: {p['errors_sample'][:3]}")
        if "area" in info and "cold_passes" in info["area"]:
            area = info["area"]
            print(f"note: area_cold = {area['cold_passes']} pass(es) over {area['distinct_tiles']}"
                  f" distinct tiles ({area['tiles_by_zoom']}), server restarted between passes "
                  f"(restart s: {area['restart_s']}; not in the phase time)")
    # A phase cut short by the time cap is a (slow) result, not a failure of the benchmark;
    # errors and statuses other than 200/204 are.
    ok = "error" not in info and len(phases) == expected and all(
        set(p["statuses"]) <= {"200", "204"} for p in phases
    )
    complete = ok and all(p["requests"] == p["planned_requests"] for p in phases)
    path = write_json(
        "tiles.json",
        {
            "benchmark": "tiles",
            "gemeente": args.gemeente,
            "concurrency": args.concurrency,
            "phase_timeout_s": args.phase_timeout,
            "data_dir": None if temporary else str(data_dir),
            "environment": environment(),
            **info,
            "phases": phases,
            "ok": ok,
            "complete": complete,
        },
    )
    print(f"\nwrote {path}")
    return 0 if ok else 1


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    sys.exit(main())
