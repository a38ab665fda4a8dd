from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from biostresstest.core.errors import NotLoaded
from biostresstest.model.areas import AreaLevel
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.store import RasterLayer, RunResult

GRID = AnalysisGrid(xmin=150000.0, ymax=450000.0, width=20, height=20, cell_size=10.0)


def _result(value: float, code: str = "GM0001") -> RunResult:
    area = gpd.GeoDataFrame(
        {"code": [code], "name": ["Test"], "level": ["gemeente"], "score": [value]},
        geometry=[box(*GRID.bounds)],
        crs="EPSG:28992",
    )
    raster = RasterLayer("score", np.full(GRID.shape, value, "float32"), GRID, float("nan"), "s")
    return RunResult(code, {AreaLevel.GEMEENTE: area}, [raster], {"key": str(value)})


def test_publish_then_read(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    store.publish(_result(0.5))
    assert store.gemeenten() == ["GM0001"]
    assert store.areas("GM0001", AreaLevel.GEMEENTE)["score"].tolist() == [0.5]
    assert store.manifest("GM0001") == {"key": "0.5"}
    assert store.raster_path("GM0001", "score").exists()
    assert store.vector_tile("GM0001", AreaLevel.GEMEENTE, 5, 16, 10) is not None


def test_republish_keeps_the_old_run_for_its_readers_then_removes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = EmbeddedStore(tmp_path)
    store.publish(_result(0.5))
    first = (tmp_path / "GM0001").resolve()
    store.publish(_result(0.7))
    assert store.areas("GM0001", AreaLevel.GEMEENTE)["score"].tolist() == [0.7]
    # a reader that resolved the link just before the switch can still read the old run
    assert (first / "areas.gpkg").exists()
    store.publish(_result(0.8))
    assert first.exists(), "still inside its grace period"
    monkeypatch.setattr("biostresstest.model.embedded.GRACE_S", 0.0)
    second = sorted(p for p in (tmp_path / ".runs").iterdir() if p.is_dir())
    store.publish(_result(0.9))
    remaining = sorted(p for p in (tmp_path / ".runs").iterdir() if p.is_dir())
    assert not first.exists() and len(remaining) == 2, "the current run and the one it replaced"
    assert len(second) == 3 and (tmp_path / "GM0001").resolve() in remaining


def test_failed_publish_leaves_the_previous_state(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    store.publish(_result(0.5))
    broken = _result(0.9)
    broken.rasters.append(RasterLayer("bad", np.zeros((2, 2), dtype=object), GRID, 0, "x"))
    with pytest.raises(Exception):  # noqa: B017 - any failure while writing
        store.publish(broken)
    assert store.areas("GM0001", AreaLevel.GEMEENTE)["score"].tolist() == [0.5]
    assert store.manifest("GM0001") == {"key": "0.5"}
    assert not list(tmp_path.glob(".staging-*"))


def test_leftovers_of_an_interrupted_publish_are_cleaned_on_open(tmp_path: Path) -> None:
    EmbeddedStore(tmp_path).publish(_result(0.5))
    (tmp_path / ".staging-GM0001-dead").mkdir()
    (tmp_path / ".staging-GM0001-dead" / "areas.gpkg").write_bytes(b"half")
    store = EmbeddedStore(tmp_path)
    assert not list(tmp_path.glob(".staging-*"))
    assert store.gemeenten() == ["GM0001"]


def test_unknown_gemeente_is_not_loaded_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(NotLoaded) as info:
        EmbeddedStore(tmp_path).areas("GM0002", AreaLevel.BUURT)
    assert "biostresstest run --gemeente GM0002" in info.value.hint
