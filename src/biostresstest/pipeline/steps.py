"""Caching of finished steps: a step whose inputs and parameters are unchanged is not redone.

A step's key is a hash of everything it depends on (input checksums, parameters, the code
version). Its outputs are stored under that key; a later run with the same key reads them back.
Outputs are written to a temporary name and renamed, so an interrupted step leaves nothing that
looks finished. The cache is bounded: every read marks an entry as used, and :meth:`StepCache.prune`
removes the least recently used entries beyond a size budget (never the ones the current run used).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio

from biostresstest import __version__


def step_key(name: str, **parts: Any) -> str:
    """A stable hash of a step's name, its dependencies and the code version."""
    text = json.dumps({"step": name, "version": __version__, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class StepLog:
    """What happened to each step of a run (for the manifest)."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def record(self, name: str, key: str, cached: bool, seconds: float) -> None:
        """Note one finished step."""
        self.entries[name] = {"key": key, "cached": cached, "seconds": round(seconds, 3)}


class StepCache:
    """Finished step outputs under ``root`` (arrays as .npz, area layers as GeoPackage)."""

    def __init__(self, root: Path, log: StepLog) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.log = log

    def arrays(
        self, name: str, key: str, compute: Callable[[], dict[str, np.ndarray]]
    ) -> dict[str, np.ndarray]:
        """The arrays of step ``name``: from the cache, or computed and stored."""
        path = self.root / f"{name}-{key}.npz"
        started = time.perf_counter()
        if path.exists():
            with np.load(path) as data:
                result = {k: data[k] for k in data.files}
            _touch(path)
            self.log.record(name, key, True, time.perf_counter() - started)
            return result
        result = compute()
        tmp = path.with_name(path.name + ".part.npz")
        np.savez(tmp, **result)  # type: ignore[arg-type]
        os.replace(tmp, path)
        self.log.record(name, key, False, time.perf_counter() - started)
        return result

    def arrays_and_frames(
        self,
        name: str,
        key: str,
        compute: Callable[[], tuple[dict[str, np.ndarray], dict[str, gpd.GeoDataFrame]]],
    ) -> tuple[dict[str, np.ndarray], dict[str, gpd.GeoDataFrame]]:
        """A step with both kinds of output: reused only when both are in the cache."""
        done = (self.root / f"{name}-{key}.npz").exists() and (
            self.root / f"{name}-{key}.gpkg"
        ).exists()
        if not done:
            started = time.perf_counter()
            arrays, frames = compute()
            self.arrays(name, key, lambda: arrays)
            self.frames(name, key, lambda: frames)
            self.log.record(name, key, False, time.perf_counter() - started)
            return arrays, frames
        return self.arrays(name, key, dict), self.frames(name, key, dict)

    def frames(
        self, name: str, key: str, compute: Callable[[], dict[str, gpd.GeoDataFrame]]
    ) -> dict[str, gpd.GeoDataFrame]:
        """The GeoDataFrames of step ``name``: from the cache, or computed and stored."""
        path = self.root / f"{name}-{key}.gpkg"
        started = time.perf_counter()
        if path.exists():
            layers = [str(row[0]) for row in pyogrio.list_layers(path)]
            result = {layer: pyogrio.read_dataframe(path, layer=layer) for layer in layers}
            _touch(path)
            self.log.record(name, key, True, time.perf_counter() - started)
            return result
        result = compute()
        tmp = path.with_name(path.name + ".part.gpkg")
        tmp.unlink(missing_ok=True)
        for layer, frame in result.items():
            pyogrio.write_dataframe(frame, tmp, layer=layer, driver="GPKG")
        os.replace(tmp, path)
        self.log.record(name, key, False, time.perf_counter() - started)
        return result

    def prune(self, budget_bytes: int, keep: set[str] | None = None) -> list[Path]:
        """Remove least recently used entries until the cache fits ``budget_bytes``.

        Entries whose key is in ``keep`` (the current run's) stay whatever their size. Leftovers
        of interrupted writes (``*.part.*``) older than an hour go first. Returns what was removed.
        """
        keep = keep or set()
        removed: list[Path] = []
        now = time.time()
        entries = []
        for path in self.root.iterdir():
            if not path.is_file():
                continue
            stat = path.stat()
            if ".part." in path.name:
                if now - stat.st_mtime > 3600:
                    path.unlink(missing_ok=True)
                    removed.append(path)
                continue
            entries.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= budget_bytes:
                break
            if _key_of(path) in keep:
                continue
            path.unlink(missing_ok=True)
            removed.append(path)
            total -= size
        return removed


def _touch(path: Path) -> None:
    """Mark a cache entry as used now (its modification time orders the pruning)."""
    with contextlib.suppress(OSError):  # a read-only cache still serves reads
        os.utime(path)


def _key_of(path: Path) -> str:
    """The step key of an entry named ``<step>-<key>.<ext>``."""
    return path.name.split(".", 1)[0].rsplit("-", 1)[-1]
