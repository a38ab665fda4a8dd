"""Vector tiles of the Breda run: PostGIS (ST_AsMVT per request) against the embedded PMTiles.

Runs the pipeline for the gemeente once into a data dir (unless it already holds its results),
copies the published area units into a PostGIS store (a schema of its own, dropped afterwards),
then asks both stores (in process, no HTTP) for every tile of the three levels at zoom 10-15
(clipped to each level's range) that meets Breda's outline: one pass on one thread (latency) and
one pass on ``--threads`` threads (throughput). Also checks that both stores put the same area
units in every tile. Needs ``BIOSTRESSTEST_TEST_DATABASE_URL`` or ``--database-url``
(``scripts/test-postgres.sh`` starts a throwaway server). Writes bench/results/store_tiles.json.
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import psycopg
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
from shapely.geometry import box

from biostresstest.model.areas import AreaLevel
from biostresstest.model.embedded import TILE_ZOOMS, EmbeddedStore
from biostresstest.model.postgis import PostgisStore
from biostresstest.model.store import RunResult, Store

ZOOMS = (10, 15)
LEVELS = (AreaLevel.GEMEENTE, AreaLevel.WIJK, AreaLevel.BUURT)
Tile = tuple[AreaLevel, int, int, int]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemeente", default=GEMEENTE)
    parser.add_argument("--mirror", type=Path, default=default_mirror())
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="data dir with (or to receive) the run; default a temporary dir")
    parser.add_argument("--database-url", default=os.environ.get("BIOSTRESSTEST_TEST_DATABASE_URL"))
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--max-tiles", type=int, default=1500)
    return parser.parse_args()


def tiles_of(outline: Any, max_tiles: int) -> list[Tile]:
    """Tiles of every level in its zoom range within ZOOMS that meet ``outline`` (lon/lat)."""
    west, south, east, north = outline.bounds
    found: list[Tile] = []
    for level in LEVELS:
        low, high = max(ZOOMS[0], TILE_ZOOMS[level][0]), min(ZOOMS[1], TILE_ZOOMS[level][1])
        for z in range(low, high + 1):
            n = 2**z
            x0, x1 = int((west + 180) / 360 * n), int((east + 180) / 360 * n)
            y0, y1 = _tile_y(north, n), _tile_y(south, n)
            for x in range(x0, x1 + 1):
                for y in range(y0, y1 + 1):
                    if outline.intersects(box(*_tile_bounds(x, y, n))):
                        found.append((level, z, x, y))
    return found[:max_tiles]


def _tile_y(lat: float, n: int) -> int:
    return int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def _tile_bounds(x: int, y: int, n: int) -> tuple[float, float, float, float]:
    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return (x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y))


def timed(store: Store, gemeente: str, tile: Tile) -> tuple[float, bytes | None]:
    level, z, x, y = tile
    start = time.perf_counter()
    data = store.vector_tile(gemeente, level, z, x, y)
    return time.perf_counter() - start, data


def measure(store: Store, gemeente: str, tiles: list[Tile], threads: int) -> dict[str, Any]:
    """One single-thread pass (latencies) and one pass on ``threads`` threads (throughput)."""
    latencies, sizes = [], []
    for tile in tiles:
        seconds, data = timed(store, gemeente, tile)
        latencies.append(seconds * 1000)
        sizes.append(len(data or b""))
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda t: timed(store, gemeente, t), tiles))
    wall = time.perf_counter() - start
    ordered = sorted(latencies)
    return {
        "tiles": len(tiles),
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
        "max_ms": round(ordered[-1], 2),
        "single_thread_tiles_per_s": round(len(tiles) / (sum(latencies) / 1000), 1),
        f"tiles_per_s_{threads}_threads": round(len(tiles) / wall, 1),
        "mean_kib": round(statistics.mean(sizes) / 1024, 2),
        "empty": sum(1 for s in sizes if s == 0),
    }


def codes(tile: bytes | None) -> set[str]:
    if not tile:
        return set()
    layers = mapbox_vector_tile.decode(gzip.decompress(tile))
    return {str(f["properties"]["code"]) for layer in layers.values() for f in layer["features"]}


def main() -> int:
    args = parse_args()
    if not args.database_url:
        print("no database: set BIOSTRESSTEST_TEST_DATABASE_URL or --database-url "
              "(or run under scripts/test-postgres.sh)", file=sys.stderr)
        return 2
    owned = args.data_dir is None
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-store-tiles-"))
    try:
        return run(args, data_dir)
    finally:
        if owned:
            shutil.rmtree(data_dir, ignore_errors=True)


def run(args: argparse.Namespace, data_dir: Path) -> int:
    embedded = EmbeddedStore(data_dir / "store")
    if args.gemeente not in embedded.gemeenten():
        print(f"running the pipeline for {args.gemeente} into {data_dir} …")
        done = run_measured([*cli_command(), "run", "--gemeente", args.gemeente],
                            bench_env(data_dir, args.mirror),
                            RESULTS_DIR / "logs" / "store_tiles_run", timeout_s=1800)
        if done.exit_code != 0:
            print(tail(done.stderr_log), file=sys.stderr)
            return 1
    areas = {level: embedded.areas(args.gemeente, level) for level in LEVELS}
    result = RunResult(args.gemeente, areas, [], embedded.manifest(args.gemeente))
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with PostgisStore(args.database_url, data_dir / "postgis-rasters", schema=schema) as postgis:
        try:
            start = time.perf_counter()
            postgis.publish(result)
            publish_s = time.perf_counter() - start
            outline = areas[AreaLevel.GEMEENTE].to_crs("EPSG:4326").geometry.union_all()
            tiles = tiles_of(outline, args.max_tiles)
            mismatches = sum(
                codes(embedded.vector_tile(args.gemeente, lvl, z, x, y))
                != codes(postgis.vector_tile(args.gemeente, lvl, z, x, y))
                for lvl, z, x, y in tiles
            )
            figures = {
                "embedded": measure(embedded, args.gemeente, tiles, args.threads),
                "postgis": measure(postgis, args.gemeente, tiles, args.threads),
            }
        finally:
            with psycopg.connect(postgis.dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    keys = list(figures["embedded"])
    print(f"\n{args.gemeente}: {len(tiles)} tiles (levels gemeente/wijk/buurt, zoom "
          f"{ZOOMS[0]}-{ZOOMS[1]}), in process; PostGIS publish of the area units "
          f"{publish_s:.2f} s; tiles whose area units differ between the stores: {mismatches}")
    print_table(["figure", "embedded (PMTiles)", "postgis (ST_AsMVT)"],
                [[k, str(figures["embedded"][k]), str(figures["postgis"][k])] for k in keys])
    path = write_json("store_tiles.json", {
        "environment": environment(),
        "gemeente": args.gemeente,
        "postgis_publish_s": round(publish_s, 3),
        "tiles_with_different_area_units": mismatches,
        "threads": args.threads,
        "figures": figures,
    })
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
