"""Koppelkansen by hand, the top places per buurt, and the cached climate steps."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from shapely.geometry import box

from biostresstest.analysis import koppelkansen as k
from biostresstest.analysis.urban_cooling import CoolingWeights, class_parameters, urban_cooling
from biostresstest.core.errors import InvalidInput
from biostresstest.core.settings import Settings
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes
from biostresstest.pipeline import climate
from biostresstest.pipeline.common import RunContext
from biostresstest.sources import cbs_wijkenbuurten
from biostresstest.sources.base import fetch

NAN = np.nan


LIMITS = k.StressThresholds(heat=0.6, water=0.6, drought=0.6)


def test_cells_by_hand() -> None:
    bio = np.array([[0.1, 0.1, 0.1, 0.1, 0.9, NAN]], dtype="float32")
    heat = np.array([[0.8, 0.2, 0.9, 0.1, 0.9, 0.9]], dtype="float32")
    water = np.array([[0.1, 0.7, 0.8, 0.5, 0.9, 0.9]], dtype="float32")
    out = k.koppelkansen(bio, heat=heat, water=water, thresholds=LIMITS)
    value, classes = out["koppelkans"][0], out["koppelkans_class"][0]
    assert value[:5] == pytest.approx([0.9 * 0.8, 0.9 * 0.7, 0.9 * 0.9, 0.9 * 0.5, 0.1 * 0.9])
    assert np.isnan(value[5])
    # heat only, water only, both, neither high, biodiversity fine, no data
    assert classes.tolist() == [2, 3, 4, 1, 1, 0]
    assert classes.dtype == np.uint8 and value.dtype == np.float32


def test_drought_counts_as_a_water_task_and_missing_stress_is_skipped() -> None:
    bio = np.array([[0.2, 0.2]], dtype="float32")
    heat = np.array([[NAN, 0.3]], dtype="float32")
    dry = np.array([[0.7, 0.65]], dtype="float32")
    out = k.koppelkansen(bio, heat=heat, drought=dry, thresholds=LIMITS)
    assert out["koppelkans"][0] == pytest.approx([0.8 * 0.7, 0.8 * 0.65])
    assert out["koppelkans_class"][0].tolist() == [3, 3]


def test_heat_stress_from_each_heat_layer() -> None:
    hm = np.array([0.0, 0.25, 1.0], dtype="float32")
    assert k.heat_stress(hm, "heat_mitigation").tolist() == [1.0, 0.75, 0.0]
    assert k.heat_stress(hm, "cooling_capacity").tolist() == [1.0, 0.75, 0.0]
    # the share of the heat island reached: T_ref 29 °C, UHI_max 2.3 °C; absolute, not ranked
    temps = np.array([28.0, 29.0, 30.15, 31.3, 33.0, NAN], dtype="float32")
    stress = k.heat_stress(temps, "air_temperature", t_ref=29.0, uhi_max=2.3)
    assert stress[:5] == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.0], abs=1e-6)
    assert np.isnan(stress[5])
    cooler_town = k.heat_stress(temps[:3], "air_temperature", t_ref=29.0, uhi_max=2.3)
    assert cooler_town.tolist() == stress[:3].tolist()  # no rescaling to the area's own range
    with pytest.raises(InvalidInput, match="unknown heat layer"):
        k.heat_stress(hm, "pet")
    with pytest.raises(InvalidInput, match="t_ref and a positive uhi_max"):
        k.heat_stress(temps, "air_temperature")
    with pytest.raises(InvalidInput, match="t_ref and a positive uhi_max"):
        k.heat_stress(temps, "air_temperature", t_ref=29.0, uhi_max=0.0)


def test_thresholds_are_the_stresses_of_a_half_sealed_place_by_hand() -> None:
    """begroeid_onbepaald: shade 0.3, albedo 0.2, Kc 0.8, CN(B) 61, rooting 0.8 m, green;
    onbegroeid_onbepaald: shade 0, albedo 0.14, Kc 0.1, CN 98, paved (the class table)."""
    limits = k.reference_thresholds()
    cc_green = 0.6 * 0.3 + 0.2 * 0.2 + 0.2 * 0.8  # 0.38
    cc_sealed = 0.6 * 0.0 + 0.2 * 0.14 + 0.2 * 0.1  # 0.048, below the park cooling 0.5 · 0.38
    assert cc_sealed < 0.5 * cc_green  # so the paving half takes the park's CC
    assert limits.heat == pytest.approx(1 - (cc_green + 0.5 * cc_green) / 2)  # 0.715
    # 70 mm: CN 61 runs off 7.04 mm, CN 98 64.14 mm (tests/test_runoff.py, methods.md §b.3)
    assert limits.water == pytest.approx((7.0435 / 70 + 64.1398 / 70) / 2, abs=1e-4)
    # demand 0.8/1.2 × rooting 1 − 0.5·0.8/2; a 20 mm shower all taken in on CN 61, none on paving
    assert limits.drought == pytest.approx((0.8 / 1.2) * (1 - 0.5 * 0.4) * (1 - 0.5))
    assert limits.as_dict() == {"heat": 0.715, "water": 0.5085, "drought": 0.2667}
    wetter = k.reference_thresholds(soil_group="D")  # CN 80: more of the storm runs off
    assert wetter.water > limits.water and wetter.heat == limits.heat


def test_heat_threshold_is_what_urban_cooling_gives_a_half_green_neighbourhood() -> None:
    """The real InVEST model on a fine checkerboard of the two reference classes."""
    table = load_classes()
    rows, cols = np.indices((120, 120))
    classes = np.where((rows + cols) % 2 == 0, 90, 91).astype("uint8")
    assert table.by_code(90).key == "begroeid_onbepaald"
    layers = class_parameters(classes, table)
    result = urban_cooling(
        layers["shade"],
        layers["albedo"],
        layers["kc"],
        layers["green_area"],
        np.full(classes.shape, 3.9, "float32"),
        cell_size=10.0,
        green_area_cooling_distance=450.0,
        t_air_average_radius=500.0,
        t_ref=29.0,
        uhi_max=2.3,
        weights=CoolingWeights(),
    )
    stress = k.heat_stress(result["t_air"], "air_temperature", t_ref=29.0, uhi_max=2.3)
    assert stress == pytest.approx(np.full(stress.shape, k.reference_thresholds().heat), abs=1e-4)


def test_each_stress_is_high_from_its_threshold_on() -> None:
    limits = k.reference_thresholds()
    eps = 1e-3
    bio = np.full((1, 6), 0.1, "float32")
    heat = np.array([[limits.heat, limits.heat - eps, 0, 0, 0, 0]], "float32")
    water = np.array([[0, 0, limits.water, limits.water - eps, 0, 0]], "float32")
    dry = np.array([[0, 0, 0, 0, limits.drought, limits.drought - eps]], "float32")
    out = k.koppelkansen(bio, heat=heat, water=water, drought=dry)
    assert out["koppelkans_class"][0].tolist() == [2, 1, 3, 1, 3, 1]
    bio_ok = np.full((1, 6), k.LOW_BIODIVERSITY, "float32")  # not below the bar: never a kans
    assert set(k.koppelkansen(bio_ok, heat=heat + 0.2)["koppelkans_class"][0]) == {1}


def test_bad_calls() -> None:
    bio = np.zeros((2, 2), "float32")
    with pytest.raises(InvalidInput, match="no climate stress"):
        k.koppelkansen(bio)
    with pytest.raises(InvalidInput, match="differ in shape"):
        k.koppelkansen(bio, water=np.zeros((3, 2), "float32"))


def _two_buurten() -> tuple[AnalysisGrid, gpd.GeoDataFrame]:
    grid = AnalysisGrid(xmin=0, ymax=100, width=20, height=10, cell_size=10.0)
    areas = gpd.GeoDataFrame(
        {"code": ["BU_WEST", "BU_EAST"], "name": ["West", "Oost"]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
        crs="EPSG:28992",
    )
    return grid, areas


def test_top_places_per_buurt_and_who_lives_there() -> None:
    grid, areas = _two_buurten()
    value = np.zeros(grid.shape, "float32")
    value[:, :10] = 0.6
    value[:, 10:] = 0.5
    classes = np.ones(grid.shape, "uint8")
    classes[:5, :10] = 2
    classes[:, 10:] = 4
    top = k.top_places(value, classes, areas, grid, n=2)
    assert top["code"].tolist() == ["BU_WEST", "BU_EAST"]
    assert top["koppelkans"].tolist() == pytest.approx([0.6, 0.5])
    assert top["share_koppelkans"].tolist() == pytest.approx([0.5, 1.0])
    assert top["share_water"].tolist() == pytest.approx([0.0, 1.0])
    residents = pd.Series({"BU_WEST": 0.0, "BU_EAST": 0.8})
    weighted = k.top_places(value, classes, areas, grid, n=1, residents=residents)
    assert weighted["code"].tolist() == ["BU_EAST"]
    assert weighted["priority"].iloc[0] == pytest.approx(0.5 * 1.4)
    with pytest.raises(InvalidInput):
        k.top_places(value, classes, areas, grid, n=0)


def test_climate_steps_compute_once_and_chain(settings: Settings) -> None:
    ctx = RunContext.create(settings, None, None)
    table = load_classes()
    grid, areas = _two_buurten()
    classes = np.full(grid.shape, table.by_key("weg_lokaal").code, "uint8")
    classes[:, 10:] = table.by_key("gras_openbaar").code
    water = climate.water_step(ctx, classes, grid, depends="test")
    again = climate.water_step(ctx, classes, grid, depends="test")
    assert ctx.log.entries["water"]["cached"] and again["key"] == water["key"]
    assert water["runoff_retention"][0, 0] == pytest.approx(0.0837, abs=1e-3)  # road, 70 mm
    assert water["runoff_retention"][0, 15] == pytest.approx(0.8994, abs=1e-3)  # grass on B
    assert float(water["soil_confidence"]) == 0.5
    assert "runoff_retention__boven_200mm_48h" in water
    dry = climate.drought_step(ctx, classes, grid, depends="test")
    ttt = climate.three_thirty_300_step(ctx, classes, grid, {"buurt": areas}, depends="test")
    assert ttt["distance_to_public_green"][0, 15] == 0  # 1 ha of public grass
    assert ttt["distance_to_public_green"][0, 0] == pytest.approx(100.0)
    assert not ttt["areas"]["buurt"]["meets_30"].any()
    heat = {"heat_mitigation": np.full(grid.shape, 0.2, "float32")}
    bio = np.where(classes == classes[0, 0], 0.1, 0.8).astype("float32")
    kk = climate.koppelkansen_step(
        ctx,
        bio,
        depends=f"{water['key']}-{dry['key']}",
        heat=heat,
        water_retention=water["runoff_retention"],
        drought_stress=dry["drought_stress"],
    )
    assert kk["heat_layer"] == "heat_mitigation"
    assert kk["koppelkans_class"][0, 0] == 4  # paved road, hot, runs off
    assert kk["koppelkans_class"][0, 15] == 1  # grass: biodiversity above the bar
    assert set(climate.CLIMATE_LAYERS) <= set(climate.CLIMATE_DESCRIPTIONS)


def _district(table_codes: tuple[int, int]) -> tuple[AnalysisGrid, np.ndarray]:
    """West: sealed with a green cell in 16; east: all green (10 m cells, 0.6 × 1.6 km)."""
    green, sealed = table_codes
    grid = AnalysisGrid(xmin=0, ymax=600, width=160, height=60, cell_size=10.0)
    rows, cols = np.indices(grid.shape)
    classes = np.full(grid.shape, green, "uint8")
    classes[:, :80] = np.where((rows[:, :80] % 4 == 0) & (cols[:, :80] % 4 == 0), green, sealed)
    return grid, classes


def test_green_in_a_stony_district_is_hot_and_green_in_a_park_is_not(settings: Settings) -> None:
    """One class, two classes of koppelkans: heat is a property of the neighbourhood."""
    table = load_classes()
    green, sealed = (table.by_key(key).code for key in k.REFERENCE_CLASSES)
    grid, classes = _district((green, sealed))
    layers = class_parameters(classes, table)
    cooled = urban_cooling(
        layers["shade"],
        layers["albedo"],
        layers["kc"],
        layers["green_area"],
        np.full(grid.shape, 3.9, "float32"),
        cell_size=grid.cell_size,
        green_area_cooling_distance=450.0,
        t_air_average_radius=500.0,
        t_ref=29.0,
        uhi_max=2.3,
        weights=CoolingWeights(),
    )
    heat = {"air_temperature": cooled["t_air"].astype("float32"), "heat_mitigation": cooled["hm"]}
    ctx = RunContext.create(settings, None, None)
    water = climate.water_step(ctx, classes, grid, depends="district")
    bio = np.where(classes == green, 0.2, 0.0).astype("float32")
    kk = climate.koppelkansen_step(
        ctx,
        bio,
        depends=f"district-{water['key']}",
        heat=heat,
        water_retention=water["runoff_retention"],
        heat_parameters={"t_ref": 29.0, "uhi_max": 2.3},
    )
    assert kk["heat_layer"] == "air_temperature"
    assert kk["thresholds"] == k.reference_thresholds().as_dict()
    out = kk["koppelkans_class"]
    assert out[28, 20] == 2  # a green cell among paving: hot, keeps its rain
    assert out[28, 150] == 1  # the same class in the park: not hot
    assert out[28, 21] == 4  # paving: hot and runs off
    assert set(np.unique(out[classes == green])) == {1, 2}
    # the per-cell index cannot tell them apart: both green cells keep HM = CC = 0.38
    by_index = climate.koppelkansen_step(
        ctx,
        bio,
        depends=f"district-{water['key']}",
        heat=heat,
        water_retention=water["runoff_retention"],
    )
    assert by_index["heat_layer"] == "heat_mitigation"
    assert set(np.unique(by_index["koppelkans_class"][classes == green])) == {1}
    with pytest.raises(InvalidInput, match="no usable heat layer"):
        climate.koppelkansen_step(
            ctx, bio, depends="district", heat={"air_temperature": heat["air_temperature"]}
        )


def test_breda_koppelkansen_discriminate(breda_store: EmbeddedStore) -> None:
    """The published Breda classes: all four occur, and not by land cover alone."""

    def read(name: str) -> np.ndarray:
        with rasterio.open(breda_store.raster_path("GM0758", name)) as src:
            return np.asarray(src.read(1))

    parameters = breda_store.manifest("GM0758")["parameters"]
    assert parameters["koppelkansen_heat_layer"] == "air_temperature"
    published, landcover, score = read("koppelkans_class"), read("landcover"), read("score")
    counts = dict(zip(*np.unique(published[np.isfinite(score)], return_counts=True), strict=True))
    assert {1, 2, 3, 4} <= set(counts) and min(counts[c] for c in (1, 2, 3, 4)) > 1000
    table = load_classes()
    green, sealed = (table.by_key(key).code for key in k.REFERENCE_CLASSES)
    assert {1, 2, 3, 4} <= set(np.unique(published[landcover == green]))  # green: every class
    assert {3, 4} <= set(np.unique(published[landcover == sealed]))  # paving: heat or not
    # recomputed from the published inputs with the run's T_ref and UHI_max: the same map
    heat = parameters["heat"]
    again = k.koppelkansen(
        score,
        heat=k.heat_stress(
            read("air_temperature"), "air_temperature", heat["t_ref"], heat["uhi_max"]
        ),
        water=k.water_stress(read("runoff_retention")),
        drought=read("drought_stress"),
    )
    assert np.array_equal(again["koppelkans_class"], published)


def test_heat_vulnerability_step_on_breda(settings: Settings) -> None:
    ctx = RunContext.create(settings, None, None)
    buurten = cbs_wijkenbuurten.read_buurten(fetch(cbs_wijkenbuurten.SPEC, settings), "GM0758")
    result = climate.heat_vulnerability_step(ctx, buurten, depends="breda-2020")
    frame = result["buurt"]
    assert len(frame) == 56 and frame["heat_vulnerability"].notna().all()
    cached = climate.heat_vulnerability_step(ctx, buurten, depends="breda-2020")
    assert ctx.log.entries["heat_vulnerability"]["cached"]
    assert cached["buurt"]["heat_vulnerability"].tolist() == pytest.approx(
        frame["heat_vulnerability"].tolist()
    )
