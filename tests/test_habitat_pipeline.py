"""Habitat Quality in the pipeline: threats from the land cover, the same as InVEST's own run."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from biostresstest.analysis.habitat import habitat_quality
from biostresstest.core.errors import CorruptInput
from biostresstest.model.areas import AreaLevel
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.landcover import load_classes
from biostresstest.model.threats import load_threats, validate_threats
from biostresstest.pipeline.invest_hq import HabitatQualityArgs, run_habitat_quality


def test_threat_table_is_complete() -> None:
    threats = load_threats()
    assert {t.key for t in threats.threats} == set(load_classes().threats)
    assert threats.half_saturation > 0


def test_broken_threat_table_lists_every_problem() -> None:
    data = {
        "meta": {"half_saturation": 0},
        "threat": [
            {
                "key": "roads_major",
                "classes": ["snelweg"],
                "max_dist": {"value": -5, "source": "expert"},
                "weight": {"value": 2, "source": "nobody"},
                "decay": {"value": "cubic", "source": "expert"},
            }
        ],
    }
    with pytest.raises(CorruptInput) as info:
        validate_threats(data)
    text = info.value.message
    for part in (
        "unknown or none ['snelweg']",
        "max_dist",
        "weight: must be",
        "unknown source",
        "decay",
        "missing from the table",
        "half_saturation",
    ):
        assert part in text


def test_same_as_invest_on_its_own_files(otterlo: tuple, tmp_path: Path) -> None:
    """Our land-cover HQ equals the InVEST file interface fed the same rasters and tables."""
    settings, _ = otterlo
    store = EmbeddedStore(settings.data_dir / "store")
    with rasterio.open(store.raster_path("otterlo", "landcover")) as src:
        window = Window(700, 700, 400, 400)
        classes = src.read(1, window=window)
        profile = {
            **src.profile,
            "driver": "GTiff",
            "width": 400,
            "height": 400,
            "transform": src.window_transform(window),
            "nodata": 0,
        }
    profile.pop("blockxsize", None), profile.pop("blockysize", None), profile.pop("tiled", None)
    table, threats = load_classes(), load_threats()
    ours = habitat_quality(classes, table, threats, 1.0)

    lulc = tmp_path / "lulc.tif"
    with rasterio.open(lulc, "w", **profile) as dst:
        dst.write(classes, 1)
    rows = []
    for threat in threats.threats:
        presence = np.isin(classes, [table.by_key(k).code for k in threat.classes])
        path = tmp_path / f"{threat.key}.tif"
        with rasterio.open(path, "w", **{**profile, "nodata": 255}) as dst:
            dst.write(presence.astype("uint8"), 1)
        rows.append([threat.key, threat.max_dist_m, threat.weight, threat.decay, path.name])
    with (tmp_path / "threats.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([["threat", "max_dist", "weight", "decay", "cur_path"], *rows])
    with (tmp_path / "sensitivity.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["lucode", "name", "habitat", *(t.key for t in threats.threats)])
        for c in table:
            writer.writerow(
                [c.code, c.key, c.habitat.value, *(c.sensitivity[t.key] for t in threats.threats)]
            )
    out = tmp_path / "out"
    run_habitat_quality(
        HabitatQualityArgs(
            lulc_cur=lulc,
            threats_table=tmp_path / "threats.csv",
            sensitivity_table=tmp_path / "sensitivity.csv",
            half_saturation=threats.half_saturation,
        ),
        out,
    )
    for name, key in (("quality_c.tif", "habitat_quality"), ("deg_sum_c.tif", "degradation")):
        with rasterio.open(out / name) as src:
            expected = src.read(1, masked=True).filled(np.nan)
        assert np.array_equal(np.isnan(expected), np.isnan(ours[key]))
        assert np.nanmax(np.abs(expected - ours[key])) <= 1e-6


def test_published_with_the_runs(otterlo: tuple, breda_store: EmbeddedStore) -> None:
    settings, _ = otterlo
    store = EmbeddedStore(settings.data_dir / "store")
    for key, level in (("otterlo", AreaLevel.GEBIED), ("GM0758", AreaLevel.BUURT)):
        frame = store.areas(key, level)
        assert frame["habitat_quality"].between(0, 1).all()
        assert store.raster_path(key, "habitat_quality").exists()


def test_chunked_run_is_identical_to_the_whole_grid(otterlo: tuple) -> None:
    """Blocks of 512 cells with a halo as wide as the longest threat give the same bits."""
    settings, _ = otterlo
    store = EmbeddedStore(settings.data_dir / "store")
    with rasterio.open(store.raster_path("otterlo", "landcover")) as src:
        classes = src.read(1)
    table, threats = load_classes(), load_threats()
    whole = habitat_quality(classes, table, threats, 1.0)
    chunked = habitat_quality(classes, table, threats, 1.0, chunk=512)
    for key in ("degradation", "habitat_quality"):
        assert np.array_equal(whole[key], chunked[key], equal_nan=True), key
    # the halo matters: with cells of 10 m the 1 km threat spans 100 cells, blocks of 64 do too
    coarse = classes[::10, ::10]
    assert np.array_equal(
        habitat_quality(coarse, table, threats, 10.0)["degradation"],
        habitat_quality(coarse, table, threats, 10.0, chunk=64)["degradation"],
        equal_nan=True,
    )


def test_vulnerability_is_pressure_times_sensitivity() -> None:
    from biostresstest.analysis.habitat import vulnerability

    deg = np.array([0.0, 0.15, 10.0, np.nan], np.float32)
    habitat = np.array([1.0, 0.8, 0.5, 1.0], np.float32)
    result = vulnerability(deg, habitat, 0.15)
    assert result[0] == 0.0
    assert result[1] == pytest.approx(0.4)  # half the pressure at D = k, times H
    assert result[2] == pytest.approx(0.5, abs=1e-3)
    assert np.isnan(result[3])


def test_vulnerability_equals_habitat_minus_quality(otterlo: tuple) -> None:
    settings, _ = otterlo
    store = EmbeddedStore(settings.data_dir / "store")
    with rasterio.open(store.raster_path("otterlo", "landcover")) as src:
        classes = src.read(1, window=Window(0, 0, 300, 300))
    table = load_classes()
    result = habitat_quality(classes, table, load_threats(), 1.0)
    habitat = np.array([table.by_code(c).habitat.value if c else np.nan for c in classes.ravel()])
    expected = habitat.reshape(classes.shape) - result["habitat_quality"]
    assert np.allclose(result["vulnerability"], expected, atol=1e-6, equal_nan=True)
