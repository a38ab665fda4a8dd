"""End to end: the Otterlo BGT square at 1 m, from the real download to published results."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from fastapi.testclient import TestClient
from shapely.geometry import box

from biostresstest.core.errors import CorruptInput
from biostresstest.core.settings import Settings
from biostresstest.model.areas import AreaLevel
from biostresstest.model.confidence import Confidence
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.landcover import load_classes
from biostresstest.model.study_area import NAMED_AREAS
from biostresstest.pipeline.run import RunSummary
from biostresstest.pipeline.run_area import run_area
from biostresstest.sources import bgt, knmi
from biostresstest.sources.base import fetch
from biostresstest.web.app import create_app

SQUARE = box(180000, 456000, 182000, 458000)


@pytest.fixture(scope="module")
def store(otterlo: tuple[Settings, RunSummary]) -> EmbeddedStore:
    settings, _ = otterlo
    return EmbeddedStore(settings.data_dir / "store")


def _resolved_vector_areas(mirror: Path, data_dir: Path) -> pd.Series:
    """Area per class of the BGT inside the square, overlaps given to the higher layer."""
    read = bgt.read_land_cover(fetch(bgt.SPEC, Settings(data_dir=data_dir, mirror=mirror)))
    hedges = read.lines.copy()
    hedges["geometry"] = hedges.geometry.buffer(0.5, cap_style="flat")
    frame = pd.concat([read.polygons, hedges], ignore_index=True)
    taken = None
    parts = []
    for priority in sorted(frame["priority"].unique(), reverse=True):
        layer = frame[frame["priority"] == priority].copy()
        layer["geometry"] = layer.geometry.intersection(SQUARE)
        if taken is not None:
            layer["geometry"] = layer.geometry.difference(taken)
        union = layer.union_all()
        taken = union if taken is None else taken.union(union)
        parts.append(layer)
    resolved = gpd.GeoDataFrame(pd.concat(parts), crs=frame.crs)
    resolved["m2"] = resolved.area
    return resolved.groupby("class_key")["m2"].sum()


def test_class_areas_at_1_m_agree_with_the_vector_areas(
    store: EmbeddedStore, mirror: Path, tmp_path: Path
) -> None:
    expected = _resolved_vector_areas(mirror, tmp_path)
    table = load_classes()
    with rasterio.open(store.raster_path("otterlo", "landcover")) as src:
        assert src.res == (1.0, 1.0) and src.crs.to_epsg() == 28992
        classes = src.read(1)
    counts = np.bincount(classes.ravel(), minlength=256)
    for key, m2 in expected.items():
        raster_m2 = counts[table.by_key(key).code]
        assert raster_m2 == pytest.approx(m2, rel=0.005), key
    # every cell has a class except the real gaps of the BGT (0.03 ha)
    assert counts[0] < 400


def test_confidence_is_high_where_the_bgt_decides(store: EmbeddedStore) -> None:
    with rasterio.open(store.raster_path("otterlo", "landcover")) as src:
        classes = src.read(1)
    with rasterio.open(store.raster_path("otterlo", "confidence")) as src:
        confidence = src.read(1)
    assert np.array_equal(confidence > 0, classes > 0)
    assert set(np.unique(confidence[classes > 0]).tolist()) == {int(Confidence.NATIONAL_VECTOR)}


def test_feature_layers_of_their_own(store: EmbeddedStore) -> None:
    assert set(store.feature_layers("otterlo")) == {
        "bermen",
        "bos",
        "water",
        "erf",
        "hagen",
        "bomen",
        "panden",
        "straatnamen",
    }
    panden = store.features("otterlo", "panden")
    assert set(panden["class_key"]) == {"pand"} and len(panden) > 1500
    bermen = store.features("otterlo", "bermen")
    assert set(bermen["class_key"]) == {"berm"} and len(bermen) > 400
    assert set(store.features("otterlo", "bos")["class_key"]) <= {
        "loofbos",
        "naaldbos",
        "gemengd_bos",
    }
    assert len(store.features("otterlo", "bomen")) > 1500


def test_score_of_the_square(store: EmbeddedStore) -> None:
    [row] = store.areas("otterlo", AreaLevel.GEBIED).itertuples()
    assert 0.4 < row.green_share < 0.8  # farmland, woods and a village
    assert row.natura2000_share == pytest.approx(41.9e4 / 4e6, abs=0.01)  # Veluwe: 41.9 ha
    assert 1 <= row.score_class <= 7


def test_landcover_api(
    otterlo: tuple[Settings, RunSummary], store: EmbeddedStore, breda: tuple[Settings, RunSummary]
) -> None:
    settings, _ = otterlo
    client = TestClient(create_app(settings, store))
    body = client.get("/api/landcover", params={"area": "otterlo"}).json()
    assert body["total_m2"] == pytest.approx(4_000_000, abs=500)
    by_key = {c["key"]: c for c in body["classes"]}
    assert by_key["erf"]["m2"] == pytest.approx(986_500, rel=0.005)
    assert by_key["erf"]["name_nl"] and by_key["erf"]["name_en"]
    levels = {c["key"]: c["share"] for c in body["confidence"]}
    assert levels["national_vector"] > 0.999
    features = client.get("/api/features", params={"area": "otterlo", "layer": "bermen"})
    assert features.status_code == 200 and len(features.json()["features"]) > 400
    assert client.get("/api/landcover", params={"area": "nergens"}).status_code == 404
    assert client.get("/api/features", params={"area": "otterlo", "layer": "x"}).status_code == 404
    tile = client.get("/tiles/otterlo/cells/landcover/16/33624/21617.png")
    assert tile.status_code in (200, 204)
    breda_settings, _ = breda
    breda_client = TestClient(create_app(breda_settings))
    buurt = breda_client.get("/api/landcover", params={"area": "BU07580006"}).json()
    assert {c["key"] for c in buurt["classes"]} == {"begroeid_onbepaald", "onbegroeid_onbepaald"}
    assert {c["key"] for c in buurt["confidence"]} >= {"national_raster"}


def test_rerun_is_cached(otterlo: tuple[Settings, RunSummary]) -> None:
    settings, _ = otterlo
    again = run_area(NAMED_AREAS["otterlo"], settings)
    assert not again.published
    assert again.manifest["steps"]["landcover"]["cached"]


def test_bad_download_leaves_the_store_as_it_was(
    otterlo: tuple[Settings, RunSummary], store: EmbeddedStore, mirror: Path, tmp_path: Path
) -> None:
    settings, _ = otterlo
    before = (settings.data_dir / "store" / "otterlo").resolve()
    fake = tmp_path / "mirror"
    target = fake / bgt.SPEC.mirror_path
    target.parent.mkdir(parents=True)
    with zipfile.ZipFile(mirror / bgt.SPEC.mirror_path) as src, zipfile.ZipFile(target, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "bgt_waterdeel.gml":
                data = data.replace(b">watervlakte</class>", b">lavameer</class>")
            dst.writestr(name, data)
    (fake / "nl-natura2000-160").symlink_to(mirror / "nl-natura2000-160")
    weather = knmi.SPEC.mirror_path.split("/")[0]
    (fake / weather).symlink_to(mirror / weather)
    bad = Settings(data_dir=settings.data_dir, mirror=fake, offline=True)
    with pytest.raises(CorruptInput, match="lavameer"):
        run_area(NAMED_AREAS["otterlo"], bad)
    assert (settings.data_dir / "store" / "otterlo").resolve() == before
    assert store.areas("otterlo", AreaLevel.GEBIED)["score_class"].between(1, 7).all()


def test_coarser_cells_keep_area_true_class_fractions(
    otterlo: tuple[Settings, RunSummary], mirror: Path, tmp_path: Path
) -> None:
    from biostresstest.model.study_area import parse_area

    fine_settings, _ = otterlo
    fine = EmbeddedStore(fine_settings.data_dir / "store").areas("otterlo", AreaLevel.GEBIED)
    settings = Settings(data_dir=tmp_path / "data", mirror=mirror, offline=True)
    run_area(parse_area("otterlo", cell_size=10), settings)
    store = EmbeddedStore(settings.data_dir / "store")
    coarse = store.areas("otterlo", AreaLevel.GEBIED)
    assert coarse.iloc[0]["green_share"] == pytest.approx(fine.iloc[0]["green_share"], abs=1e-4)
    with rasterio.open(store.raster_path("otterlo", "green_share")) as src:
        assert src.res == (10.0, 10.0)
        shares = src.read(1)
    assert 0 < np.nanmin(shares[shares > 0]) < 1  # mixed cells keep their fractions
    document = store.document("otterlo", "landcover")
    assert document["classes"]["otterlo"]["erf"] == pytest.approx(986_500, rel=0.005)


def test_robustness_figures_of_the_square(store: EmbeddedStore) -> None:
    [row] = store.areas("otterlo", AreaLevel.GEBIED).itertuples()
    assert row.natural_share == pytest.approx(0.2165, abs=0.002)  # 86.6 ha of 400
    # the main road cuts the forest clusters apart (barriers): 31.2 % and 27.0 ha without them
    assert row.coherence_pct == pytest.approx(21.3, abs=0.2)
    assert row.sicb_connectivity == 1
    assert row.ems_ha == pytest.approx(18.5, abs=0.2)
    assert 0 < row.iic < 0.05
    with rasterio.open(store.raster_path("otterlo", "distance_to_core")) as src:
        distance = src.read(1)
    assert np.nanmin(distance) == 0 and np.nanmax(distance) <= 5000
