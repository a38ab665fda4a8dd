"""The cache of finished steps stays within its size budget, least recently used first."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from biostresstest.pipeline.steps import StepCache, StepLog, step_key


def _entry(cache: StepCache, name: str, size: int, age_s: float) -> str:
    key = step_key(name, size=size)
    cache.arrays(name, key, lambda: {"a": np.zeros(size, dtype="uint8")})
    path = cache.root / f"{name}-{key}.npz"
    then = time.time() - age_s
    os.utime(path, (then, then))
    return key


def test_prune_removes_least_recently_used_beyond_the_budget(tmp_path: Path) -> None:
    cache = StepCache(tmp_path, StepLog())
    old = _entry(cache, "habitat", 100_000, 300)
    middle = _entry(cache, "score", 100_000, 200)
    new = _entry(cache, "green", 100_000, 100)
    # reading the oldest marks it as used: now the middle one is least recently used
    cache.arrays("habitat", old, dict)
    removed = cache.prune(budget_bytes=250_000)
    assert [p.name for p in removed] == [f"score-{middle}.npz"]
    assert {p.name for p in tmp_path.iterdir()} == {f"habitat-{old}.npz", f"green-{new}.npz"}


def test_prune_keeps_the_current_runs_entries_and_clears_stale_leftovers(tmp_path: Path) -> None:
    cache = StepCache(tmp_path, StepLog())
    kept = _entry(cache, "habitat", 100_000, 500)
    other = _entry(cache, "score", 100_000, 100)
    stale = tmp_path / "green-0123456789abcdef.npz.part.npz"
    stale.write_bytes(b"x")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    fresh = tmp_path / "robustness-0123456789abcdef.npz.part.npz"
    fresh.write_bytes(b"x")  # a step being written right now by another run
    cache.prune(budget_bytes=0, keep={kept})
    names = {p.name for p in tmp_path.iterdir()}
    assert f"habitat-{kept}.npz" in names and fresh.name in names
    assert f"score-{other}.npz" not in names and stale.name not in names
