"""Caches for the requests a map makes most: vector tiles, cell values, area units at a point.

Every cache is keyed on the published run's identity: the resolved path of its score-class
layer, which lies inside the run's own folder. A publish swaps the store's link to a new folder,
so the identity changes and old entries are simply never asked for again (and age out of the
LRU). Nothing here can serve a mix of two runs.

Open raster datasets are shared between the request threads, each behind its own lock (a GDAL
dataset handle must not be read by two threads at once).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
from affine import Affine
from rasterio.io import DatasetReader
from rasterio.windows import Window
from shapely.geometry import Point

from biostresstest.model.areas import AreaLevel
from biostresstest.model.store import Store

TILE_CACHE_BYTES = 64 * 1024 * 1024
"""Memory for pre-built vector tiles kept per process."""


def run_identity(store: Store, key: str) -> str:
    """A string that changes whenever ``key`` is published again."""
    return str(store.raster_path(key, "score_class"))


class _TileCache:
    """An LRU of tile bytes bounded by their total size."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._items: OrderedDict[tuple[Any, ...], bytes | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> tuple[bool, bytes | None]:
        with self._lock:
            if key not in self._items:
                return False, None
            self._items.move_to_end(key)
            return True, self._items[key]

    def put(self, key: tuple[Any, ...], value: bytes | None) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self.size += len(value or b"")
            while self.size > self.limit and self._items:
                _, dropped = self._items.popitem(last=False)
                self.size -= len(dropped or b"")


_TILES = _TileCache(TILE_CACHE_BYTES)


def vector_tile(store: Store, key: str, level: AreaLevel, z: int, x: int, y: int) -> bytes | None:
    """The store's vector tile, from memory after the first request."""
    cache_key = (id(store), run_identity(store, key), level, z, x, y)
    found, tile = _TILES.get(cache_key)
    if not found:
        tile = store.vector_tile(key, level, z, x, y)
        _TILES.put(cache_key, tile)
    return tile


@lru_cache(maxsize=256)
def _dataset(path: str) -> tuple[DatasetReader, Affine, threading.Lock]:
    dataset = rasterio.open(path)
    return dataset, ~dataset.transform, threading.Lock()


def sample(path: str, x: float, y: float) -> Any:
    """The value of a raster at RD (x, y) (its nodata outside), from a dataset opened once.

    The COG's internal block holding the cell is decoded once and kept (:data:`_BLOCKS`), so a
    later point in the same block is an array look-up instead of a GDAL read under the
    dataset's lock (the lock made concurrent point queries wait for each other).
    """
    dataset, inverse, lock = _dataset(path)
    col_f, row_f = inverse @ (x, y)
    col, row = math.floor(col_f), math.floor(row_f)
    if not (0 <= col < dataset.width and 0 <= row < dataset.height):
        return dataset.nodata
    height, width = dataset.block_shapes[0]
    block_row, block_col = row // height, col // width
    block = _BLOCKS.get((path, block_row, block_col))
    if block is None:
        window = Window(block_col * width, block_row * height, width, height).intersection(
            Window(0, 0, dataset.width, dataset.height)
        )
        with lock:
            block = dataset.read(1, window=window)
        _BLOCKS.put((path, block_row, block_col), block)
    return block[row - block_row * height, col - block_col * width]


class _BlockCache:
    """An LRU of decoded raster blocks bounded by their total size in bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._items: OrderedDict[tuple[str, int, int], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int, int]) -> np.ndarray | None:
        with self._lock:
            block = self._items.get(key)
            if block is not None:
                self._items.move_to_end(key)
            return block

    def put(self, key: tuple[str, int, int], block: np.ndarray) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = block
            self.size += block.nbytes
            while self.size > self.limit and self._items:
                _, dropped = self._items.popitem(last=False)
                self.size -= dropped.nbytes


BLOCK_CACHE_BYTES = 384 * 1024 * 1024
"""Memory for decoded raster blocks kept per process (point queries): the cell layers of a
gemeente like Breda take about 300 MiB decoded, so a worker keeps all of them."""
_BLOCKS = _BlockCache(BLOCK_CACHE_BYTES)


_MANIFESTS: dict[tuple[int, str], dict[str, Any]] = {}


def manifest(store: Store, run: str, key: str) -> dict[str, Any]:
    """``store.manifest(key)`` read once per run (``run`` from :func:`run_identity`)."""
    cache_key = (id(store), run)
    found = _MANIFESTS.get(cache_key)
    if found is None:
        found = store.manifest(key)
        if len(_MANIFESTS) > 64:
            _MANIFESTS.clear()
        _MANIFESTS[cache_key] = found
    return found


_PATHS: dict[tuple[int, str, str], str] = {}


def raster_path(store: Store, run: str, key: str, name: str) -> str:
    """``store.raster_path`` remembered per run (``run`` from :func:`run_identity`; NotLoaded
    when the run lacks the layer)."""
    cache_key = (id(store), run, name)
    found = _PATHS.get(cache_key)
    if found is None:
        found = str(store.raster_path(key, name))
        if len(_PATHS) > 4096:
            _PATHS.clear()
        _PATHS[cache_key] = found
    return found


_UNITS: dict[tuple[int, str, AreaLevel], gpd.GeoDataFrame] = {}
_UNITS_LOCK = threading.Lock()


def units_at(store: Store, key: str, level: AreaLevel, x: float, y: float) -> gpd.GeoDataFrame:
    """The area units of ``level`` containing RD (x, y), from a frame read once per run."""
    cache_key = (id(store), run_identity(store, key), level)
    with _UNITS_LOCK:
        frame = _UNITS.get(cache_key)
    if frame is None:
        frame = store.areas(key, level)
        frame.sindex  # noqa: B018 - build the spatial index once, outside the request path
        with _UNITS_LOCK:
            if len(_UNITS) > 32:
                _UNITS.clear()
            _UNITS[cache_key] = frame
    hits = frame.sindex.query(Point(x, y), predicate="within")
    return frame.iloc[sorted(hits)]
