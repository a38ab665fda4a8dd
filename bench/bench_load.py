"""Load benchmark of the web app on loopback: throughput and p50/p95/p99 latency.

Starts uvicorn with ``--workers N`` on the app factory (``biostresstest.web.app:create_app``)
over a data dir holding the Breda results (the pipeline runs there first if it has none), then
drives these endpoints with C concurrent keep-alive clients for D seconds each:

vector_tiles   pre-built PMTiles of buurten and wijken, zoom 12-15, cycled over the gemeente;
raster_tiles   PNG tiles of the stress-test classes at zoom 14-15 (after one warm-up pass: the
               in-process tile cache is warm, as on a served map);
point_query    ``/api/cell`` at points spread over the gemeente (the cell values under the map);
place_card     ``/api/place`` at the same points (the "my place" card: class, potential, measures);
search         ``/api/search`` with names and parts of names of wijken and buurten (offline).

The load generator is a small HTTP/1.1 client on asyncio streams (one connection per client,
keep-alive), cheap enough to leave most of the two cores to the server; it runs in this process
on the same machine, so the figures are conservative. Targets (reference/reliability.md §4):
tiles ≥ 400 req/s with p99 ≤ 150 ms; point query and search p95 ≤ 100 ms. Writes
bench/results/load.json; exits non-zero when a request fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
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
from bench_tiles import free_port, lonlat_to_tile, wait_ready

TARGETS = {
    "vector_tiles": {"rps": 400.0, "p99_ms": 150.0},
    "raster_tiles": {"rps": 400.0, "p99_ms": 150.0},
    "point_query": {"p95_ms": 100.0},
    "place_card": {"p95_ms": 100.0},
    "search": {"p95_ms": 100.0},
}
BREDA_BBOX = (4.69, 51.53, 4.85, 51.63)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=RESULTS_DIR / "load-data",
        help="data dir to serve (the Breda pipeline runs there if it is empty)",
    )
    parser.add_argument("--mirror", type=Path, default=default_mirror())
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--clients", type=int, default=32, help="concurrent connections for tiles (L-01: -c32)"
    )
    parser.add_argument(
        "--query-clients",
        type=int,
        default=16,
        help="concurrent connections for point query and search (L-05: -c16)",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="duration per endpoint")
    parser.add_argument("--run-timeout", type=float, default=1800.0)
    return parser.parse_args()


# --- the load generator -----------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection; GET returns (status, body length)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, int]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nAccept-Encoding: gzip\r\n\r\n"
        self.writer.write(request.encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {
            k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)
        }
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif status in (204, 304):
            body = b""
        else:
            raise RuntimeError(f"{path}: answer without Content-Length ({headers})")
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, len(body)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


def percentile(ordered: list[float], pct: float) -> float | None:
    if not ordered:
        return None
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


async def drive(port: int, paths: list[str], clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` connections GET the paths in turn for ``seconds``; latency figures."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    stop_at = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def client() -> None:
        connection = Connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop_at:
                path = paths[next(counter) % len(paths)]
                started = time.perf_counter()
                try:
                    status, _ = await connection.get(path)
                except (OSError, asyncio.IncompleteReadError, RuntimeError) as exc:
                    errors.append(f"{path}: {exc!r}"[:200])
                    await connection.close()
                    continue
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            await connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - began
    ordered = sorted(latencies)
    ms = lambda v: None if v is None else round(1000 * v, 1)  # noqa: E731
    return {
        "requests": len(ordered),
        "seconds": round(wall, 2),
        "rps": round(len(ordered) / wall, 1),
        "p50_ms": ms(percentile(ordered, 50)),
        "p95_ms": ms(percentile(ordered, 95)),
        "p99_ms": ms(percentile(ordered, 99)),
        "max_ms": ms(ordered[-1] if ordered else None),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": len(errors),
        "first_errors": errors[:5],
    }


# --- the request mixes ------------------------------------------------------------------------


def tiles(zooms: range, levels: list[str], raster: bool) -> list[str]:
    west, south, east, north = BREDA_BBOX
    paths = []
    for z in zooms:
        x0, y0 = lonlat_to_tile(west, north, z)
        x1, y1 = lonlat_to_tile(east, south, z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                if raster:
                    paths.append(f"/tiles/{GEMEENTE}/cells/score_class/{z}/{x}/{y}.png")
                else:
                    paths += [f"/tiles/{GEMEENTE}/{level}/{z}/{x}/{y}.mvt" for level in levels]
    random.Random(7).shuffle(paths)
    return paths


def points(count: int, endpoint: str = "/api/cell") -> list[str]:
    rng = random.Random(11)
    west, south, east, north = BREDA_BBOX
    return [
        f"{endpoint}?x={rng.uniform(west, east):.5f}&y={rng.uniform(south, north):.5f}"
        "&crs=EPSG:4326"
        for _ in range(count)
    ]


def searches(base: str) -> list[str]:
    with httpx.Client(base_url=base, trust_env=False, timeout=30) as client:
        names = [
            f["properties"]["name"]
            for level in ("wijk", "buurt")
            for f in client.get("/api/areas", params={"gemeente": GEMEENTE, "level": level}).json()[
                "features"
            ]
        ]
    queries = names + [n[: max(3, len(n) // 2)] for n in names] + ["Breda", "GM0758", "zzz"]
    return [f"/api/search?q={quote(q)}" for q in queries]


# --- main -------------------------------------------------------------------------------------


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    if (args.data_dir / "store" / GEMEENTE / "manifest.json").exists():
        return {"pipeline": "reused existing results"}
    print(f"preparing {args.data_dir}: biostresstest run --gemeente {GEMEENTE}", flush=True)
    run = run_measured(
        [*cli_command(), "run", "--gemeente", GEMEENTE],
        bench_env(args.data_dir, args.mirror),
        RESULTS_DIR / "load-prepare",
        args.run_timeout,
    )
    if run.exit_code != 0 or run.timed_out:
        raise RuntimeError(f"pipeline run failed (exit {run.exit_code}):\n{tail(run.stderr_log)}")
    return {"pipeline": "ran", "wall_s": run.wall_s}


def verdict(name: str, figures: dict[str, Any]) -> str:
    target = TARGETS[name]
    ok = figures["errors"] == 0
    for key, limit in target.items():
        value = figures[key]
        ok = ok and value is not None and (value >= limit if key == "rps" else value <= limit)
    return "met" if ok else "MISSED"


def main() -> int:
    args = parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    prepared = prepare(args)
    env = bench_env(args.data_dir, args.mirror)
    env["BIOSTRESSTEST_OFFLINE"] = "true"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "biostresstest.web.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(args.workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    log = RESULTS_DIR / "load-server.log"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        startup = wait_ready(server, base, 120)
        mixes = {
            "vector_tiles": tiles(range(12, 16), ["wijk", "buurt"], raster=False),
            "raster_tiles": tiles(range(14, 16), [], raster=True),
            "point_query": points(500),
            "place_card": points(500, "/api/place"),
            "search": searches(base),
        }
        results: dict[str, Any] = {}
        for name, paths in mixes.items():
            # warm-up: every path once (tile cache, gazetteer, raster handles in each worker)
            asyncio.run(drive(port, paths, 4, min(20.0, args.seconds)))
            clients = args.clients if name.endswith("tiles") else args.query_clients
            print(
                f"{name}: {len(paths)} distinct requests, {clients} clients, "
                f"{args.seconds:.0f} s",
                flush=True,
            )
            results[name] = asyncio.run(drive(port, paths, clients, args.seconds))
            results[name].update(distinct=len(paths), clients=clients)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    rows = []
    for name, r in results.items():
        target = ", ".join(
            f"{k} {'≥' if k == 'rps' else '≤'} {v:g}" for k, v in TARGETS[name].items()
        )
        rows.append(
            [
                name,
                str(r["clients"]),
                str(r["requests"]),
                f"{r['rps']:.0f}",
                str(r["p50_ms"]),
                str(r["p95_ms"]),
                str(r["p99_ms"]),
                str(r["errors"]),
                target,
                verdict(name, r),
            ]
        )
    print()
    print_table(
        [
            "endpoint",
            "clients",
            "requests",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "errors",
            "target",
            "verdict",
        ],
        rows,
    )
    env_info = environment()
    print(
        f"\n{args.workers} uvicorn workers, load generator in-process on "
        f"the same {os.cpu_count()}-core machine; load average before/after "
        f"{env_info['loadavg_1_5_15']} (shared machine: other work may run too)"
    )
    path = write_json(
        "load.json",
        {
            "environment": env_info,
            "prepare": prepared,
            "server_startup_s": round(startup, 2),
            "workers": args.workers,
            "clients": args.clients,
            "seconds": args.seconds,
            "targets": TARGETS,
            "results": results,
        },
    )
    print(f"written {path}")
    return 1 if any(r["errors"] for r in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
