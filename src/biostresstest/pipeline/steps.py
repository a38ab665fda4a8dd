"""Caching of finished steps: a step whose inputs and parameters are unchanged is not redone.

A step's key is a hash of everything it depends on (input checksums, parameters, the code
version). Its outputs are stored under that key; a later run with the same key reads them back.
Outputs are written to a temporary name and renamed, so an interrupted step leaves nothing that
looks finished.
"""

from __future__ import annotations

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
