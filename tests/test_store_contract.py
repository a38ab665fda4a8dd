"""One contract, two stores: every test runs against the embedded store and the PostGIS store.

The PostGIS runs need a server (``BIOSTRESSTEST_TEST_DATABASE_URL``, see tests/postgis_fixtures.py;
``make test`` starts one).
"""

from __future__ import annotations

import gzip
import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pandas as pd
import pytest
import rasterio
from pyproj import Transformer
from shapely.geometry import LineString, Point, box

from biostresstest.core.errors import NotLoaded
from biostresstest.model.areas import AreaLevel
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.store import GRACE_S, RasterLayer, RunResult, Store

GRID = AnalysisGrid(xmin=112000.0, ymax=400000.0, width=40, height=40, cell_size=10.0)
"""400 × 400 m in Breda (RD New)."""
X0, Y0 = GRID.xmin, GRID.ymax - 400.0
BUURT_CODES = ["BU07580001", "BU07580002", "BU07580003", "BU07580004"]
TO_WGS84 = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)


def _quadrants() -> list[tuple[float, float, float, float]]:
    return [
        (X0 + dx, Y0 + dy, X0 + dx + 200.0, Y0 + dy + 200.0)
        for dy in (200.0, 0.0)
        for dx in (0.0, 200.0)
    ]


def make_result(version: int, code: str = "GM0758") -> RunResult:
    """A small run whose every value tells its ``version``."""
    value = version / 10
    gemeente = gpd.GeoDataFrame(
        {"code": [code], "name": ["Breda"], "level": ["gemeente"], "score": [value]},
        geometry=[box(X0, Y0, X0 + 400.0, Y0 + 400.0)],
        crs="EPSG:28992",
    )
    buurten = gpd.GeoDataFrame(
        {
            "code": BUURT_CODES,
            "name": ["Ginneken", "Heuvel", "Fellenoord", "Brabantpark"],
            "level": ["buurt"] * 4,
            "inwoners": np.array([100, 200, 300, 400], dtype="int64"),
            "score": [value] * 4,
            "score_class": np.array([version % 7 + 1] * 4, dtype="int16"),
            "natura2000_share": [0.25, float("nan"), 0.0, 1.0],
        },
        geometry=[box(*q) for q in _quadrants()],
        crs="EPSG:28992",
    )
    verges = gpd.GeoDataFrame(
        {"kind": ["berm", "berm"], "length_m": [390.0, 190.0]},
        geometry=[
            LineString([(X0 + 5, Y0 + 5), (X0 + 395, Y0 + 5)]),
            LineString([(X0 + 300, Y0 + 205), (X0 + 300, Y0 + 395)]),
        ],
        crs="EPSG:28992",
    )
    trees = gpd.GeoDataFrame(
        {"soort": ["Quercus robur", "Tilia × europaea"]},
        geometry=[Point(X0 + 50, Y0 + 50), Point(X0 + 350, Y0 + 350)],
        crs="EPSG:28992",
    )
    score = RasterLayer(
        "score", np.full(GRID.shape, value, "float32"), GRID, float("nan"), "score 0..1"
    )
    classes = RasterLayer(
        "score_class", np.full(GRID.shape, version % 7 + 1, "uint8"), GRID, 0, "class 1..7"
    )
    return RunResult(
        code,
        {AreaLevel.GEMEENTE: gemeente, AreaLevel.BUURT: buurten},
        [score, classes],
        {"key": f"v{version}", "gemeente": code, "note": "één run"},
        features={"verges": verges, "trees": trees},
        documents={"landcover_areas": {"BU07580001": {"grass": 12.5, "water": None}}},
    )


@dataclass
class StoreCase:
    """A store under test and where its published run folders live."""

    store: Store
    run_folders: Callable[[], list[Path]]


@pytest.fixture(params=["embedded", "postgis"])
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreCase]:
    if request.param == "embedded":
        root = tmp_path / "store"
        yield StoreCase(
            EmbeddedStore(root), lambda: sorted(p for p in (root / ".runs").iterdir() if p.is_dir())
        )
        return
    from biostresstest.model.postgis import PostgisStore

    url = request.getfixturevalue("postgis_url")
    schema = request.getfixturevalue("postgis_schema")
    rasters = tmp_path / "rasters"
    with PostgisStore(url, rasters, schema=schema) as store:
        yield StoreCase(store, lambda: sorted((rasters / ".runs").iterdir()))


def tile_of(x: float, y: float, z: int) -> tuple[int, int]:
    """The XYZ tile holding the RD point (x, y) at zoom ``z``."""
    lon, lat = TO_WGS84.transform(x, y)
    n = 2**z
    tx = int((lon + 180.0) / 360.0 * n)
    ty = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return tx, ty


def decoded(tile: bytes | None) -> dict[str, dict[str, object]]:
    assert tile is not None
    assert tile[:2] == b"\x1f\x8b", "vector tiles are gzip-compressed"
    layers: dict[str, dict[str, object]] = mapbox_vector_tile.decode(gzip.decompress(tile))
    return layers


def tile_properties(store: Store, level: AreaLevel, z: int, x: float, y: float) -> list[dict]:
    tx, ty = tile_of(x, y, z)
    layers = decoded(store.vector_tile("GM0758", level, z, tx, ty))
    assert list(layers) == [level.value]
    features = layers[level.value]["features"]
    assert isinstance(features, list)
    return [feature["properties"] for feature in features]


def tile_scores(store: Store, x: float, y: float) -> set[float]:
    """The distinct scores in the buurt tile over (x, y), rounded to 6 decimals."""
    return {round(p["score"], 6) for p in tile_properties(store, AreaLevel.BUURT, 14, x, y)}


def centre(bounds: tuple[float, float, float, float]) -> tuple[float, float]:
    return ((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)


# --- publish and read back ---------------------------------------------------------------------


def test_publish_then_read_back_areas(case: StoreCase) -> None:
    store = case.store
    published = make_result(3)
    store.publish(published)
    assert store.gemeenten() == ["GM0758"]
    for level, expected in published.areas.items():
        got = store.areas("GM0758", level)
        assert got.crs is not None and got.crs.to_epsg() == 28992
        attributes = [c for c in expected.columns if c != "geometry"]
        assert [c for c in got.columns if c != "geometry"] == attributes
        pd.testing.assert_frame_equal(
            pd.DataFrame(got[attributes]), pd.DataFrame(expected[attributes])
        )
        assert got.geometry.geom_equals_exact(expected.geometry, tolerance=1e-6).all()


def test_areas_in_a_bounding_box(case: StoreCase) -> None:
    case.store.publish(make_result(3))
    x, y = centre(_quadrants()[1])
    got = case.store.areas("GM0758", AreaLevel.BUURT, bbox=(x - 10, y - 10, x + 10, y + 10))
    assert got["code"].tolist() == [BUURT_CODES[1]]
    far = case.store.areas("GM0758", AreaLevel.BUURT, bbox=(0.0, 300000.0, 10.0, 300010.0))
    assert len(far) == 0


def test_manifest_and_documents(case: StoreCase) -> None:
    published = make_result(3)
    case.store.publish(published)
    assert case.store.manifest("GM0758") == published.manifest
    assert case.store.document("GM0758", "landcover_areas") == published.documents[
        "landcover_areas"
    ]
    with pytest.raises(NotLoaded):
        case.store.document("GM0758", "no_such_document")


def test_raster_path_is_a_cog_with_the_values(case: StoreCase) -> None:
    case.store.publish(make_result(3))
    path = case.store.raster_path("GM0758", "score")
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 28992
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert np.allclose(src.read(1), 0.3)
    with rasterio.open(case.store.raster_path("GM0758", "score_class")) as src:
        assert src.read(1).dtype == np.uint8 and src.nodata == 0
    with pytest.raises(NotLoaded):
        case.store.raster_path("GM0758", "no_such_layer")


def test_vector_tiles_hold_the_area_units(case: StoreCase) -> None:
    case.store.publish(make_result(3))
    for code, quadrant in zip(BUURT_CODES, _quadrants(), strict=True):
        properties = tile_properties(case.store, AreaLevel.BUURT, 14, *centre(quadrant))
        by_code = {p["code"]: p for p in properties}
        assert code in by_code
        assert by_code[code]["score"] == pytest.approx(0.3)
        assert by_code[code]["name"] and by_code[code]["level"] == "buurt"
        assert by_code[code]["score_class"] == 4
    corner = tile_properties(case.store, AreaLevel.BUURT, 14, X0 + 1, Y0 + 399)
    first = {p["code"]: p for p in corner}
    assert first[BUURT_CODES[0]]["inwoners"] == 100
    assert first[BUURT_CODES[0]]["natura2000_share"] == pytest.approx(0.25)
    gemeente = tile_properties(case.store, AreaLevel.GEMEENTE, 10, X0 + 200, Y0 + 200)
    assert [p["code"] for p in gemeente] == ["GM0758"]


def test_vector_tiles_are_empty_away_from_the_area_and_beyond_the_zoom_range(
    case: StoreCase,
) -> None:
    case.store.publish(make_result(3))
    x, y = tile_of(X0 + 200, Y0 + 200, 14)
    assert case.store.vector_tile("GM0758", AreaLevel.BUURT, 14, x + 3, y + 3) is None
    assert case.store.vector_tile("GM0758", AreaLevel.BUURT, 3, *tile_of(X0, Y0, 3)) is None


def test_feature_layers_and_features(case: StoreCase) -> None:
    published = make_result(3)
    case.store.publish(published)
    assert case.store.feature_layers("GM0758") == ["verges", "trees"]
    trees = case.store.features("GM0758", "trees")
    assert trees["soort"].tolist() == ["Quercus robur", "Tilia × europaea"]
    assert trees.crs is not None and trees.crs.to_epsg() == 28992
    verges = case.store.features("GM0758", "verges", bbox=(X0 + 290, Y0 + 300, X0 + 310, Y0 + 310))
    assert verges["length_m"].tolist() == [190.0]
    with pytest.raises(NotLoaded) as info:
        case.store.features("GM0758", "hedges")
    assert "verges" in info.value.hint


def test_unknown_gemeente_is_not_loaded_with_a_hint(case: StoreCase) -> None:
    store = case.store
    reads: list[Callable[[], object]] = [
        lambda: store.areas("GM0002", AreaLevel.BUURT),
        lambda: store.manifest("GM0002"),
        lambda: store.raster_path("GM0002", "score"),
        lambda: store.vector_tile("GM0002", AreaLevel.BUURT, 14, 8000, 5000),
        lambda: store.feature_layers("GM0002"),
    ]
    for read in reads:
        with pytest.raises(NotLoaded) as info:
            read()
        assert "biostresstest run --gemeente GM0002" in info.value.hint
    assert store.gemeenten() == []


def test_several_areas_side_by_side(case: StoreCase) -> None:
    case.store.publish(make_result(3))
    case.store.publish(make_result(5, code="otterlo"))
    assert case.store.gemeenten() == ["GM0758", "otterlo"]
    assert case.store.manifest("otterlo")["key"] == "v5"
    assert case.store.manifest("GM0758")["key"] == "v3"


# --- atomic switch -----------------------------------------------------------------------------


def no_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Superseded runs expire at once (both stores read the shared GRACE_S by their own name)."""
    for module in ("embedded", "postgis"):
        monkeypatch.setattr(f"biostresstest.model.{module}.GRACE_S", 0.0)


def test_republish_switches_everything_and_drops_the_old_run(
    case: StoreCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a store keeps a superseded run readable for a grace period (readers that resolved the
    # old run just before the switch); with no grace it goes at the next publish
    no_grace(monkeypatch)
    case.store.publish(make_result(3))
    old_raster = case.store.raster_path("GM0758", "score")
    case.store.publish(make_result(5))
    case.store.publish(make_result(7))
    assert case.store.areas("GM0758", AreaLevel.BUURT)["score"].tolist() == [0.7] * 4
    assert case.store.manifest("GM0758")["key"] == "v7"
    with rasterio.open(case.store.raster_path("GM0758", "score")) as src:
        assert np.allclose(src.read(1), 0.7)
    x, y = centre(_quadrants()[0])
    assert tile_scores(case.store, x, y) == {0.7}
    assert not old_raster.exists()
    assert len(case.run_folders()) <= 2  # the current run and at most the one it replaced


def test_a_superseded_run_stays_readable_for_the_grace_period(
    case: StoreCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert GRACE_S >= 60.0, "long enough for a request that resolved the old run"
    store = case.store
    store.publish(make_result(3))
    first = store.raster_path("GM0758", "score")
    store.publish(make_result(5))
    second = store.raster_path("GM0758", "score")
    store.publish(make_result(7))
    # within the grace period both superseded runs are still there for readers that hold them
    for path, value in ((first, 0.3), (second, 0.5)):
        with rasterio.open(path) as src:
            assert np.allclose(src.read(1), value)
    assert len(case.run_folders()) == 3
    assert store.manifest("GM0758")["key"] == "v7"
    # past the grace period they go at the next publish, but the latest superseded run stays
    no_grace(monkeypatch)
    store.publish(make_result(9))
    assert not first.exists() and not second.exists()
    assert len(case.run_folders()) == 2
    with rasterio.open(store.raster_path("GM0758", "score")) as src:
        assert np.allclose(src.read(1), 0.9)


def _broken_raster(result: RunResult) -> RunResult:
    result.rasters.append(RasterLayer("bad", np.zeros((2, 2), dtype=object), GRID, 0, "x"))
    return result


def _broken_feature_layer(result: RunResult) -> RunResult:
    # after the areas have been written: a layer without a CRS cannot be put in RD New
    result.features["broken"] = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)])
    return result


@pytest.mark.parametrize("breakage", [_broken_raster, _broken_feature_layer])
def test_failed_publish_leaves_the_previous_state(
    case: StoreCase, breakage: Callable[[RunResult], RunResult]
) -> None:
    case.store.publish(make_result(3))
    folders = case.run_folders()
    with pytest.raises(Exception):  # noqa: B017 - any failure while writing
        case.store.publish(breakage(make_result(9)))
    assert case.store.gemeenten() == ["GM0758"]
    assert case.store.areas("GM0758", AreaLevel.BUURT)["score"].tolist() == [0.3] * 4
    assert case.store.manifest("GM0758")["key"] == "v3"
    assert case.store.feature_layers("GM0758") == ["verges", "trees"]
    with rasterio.open(case.store.raster_path("GM0758", "score")) as src:
        assert np.allclose(src.read(1), 0.3)
    x, y = centre(_quadrants()[0])
    assert tile_scores(case.store, x, y) == {0.3}
    assert case.run_folders() == folders, "the failed run left files behind"


def test_readers_during_publishes_see_one_whole_version(case: StoreCase) -> None:
    store = case.store
    store.publish(make_result(1))
    versions = range(2, 7)
    failures: list[BaseException] = []

    def publish_all() -> None:
        try:
            for version in versions:
                store.publish(make_result(version))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    writer = threading.Thread(target=publish_all)
    writer.start()
    seen: list[float] = []
    tile_xyz = tile_of(*centre(_quadrants()[0]), 14)
    reads = 0
    while writer.is_alive() or reads < 5:
        scores = set(store.areas("GM0758", AreaLevel.BUURT)["score"].round(6))
        assert len(scores) == 1, f"one read mixed versions: {scores}"
        layers = decoded(store.vector_tile("GM0758", AreaLevel.BUURT, 14, *tile_xyz))
        in_tile = {round(f["properties"]["score"], 6) for f in layers["buurt"]["features"]}
        assert len(in_tile) == 1, f"one tile mixed versions: {in_tile}"
        key = store.manifest("GM0758")["key"]
        assert key in {f"v{v}" for v in range(1, 7)}
        seen.append(scores.pop())
        reads += 1
    writer.join()
    assert not failures, failures
    assert seen == sorted(seen), "a reader went back to an older version"
    assert store.areas("GM0758", AreaLevel.BUURT)["score"].tolist() == [0.6] * 4
    assert store.manifest("GM0758")["key"] == "v6"
