"""Koppelkansen by hand, the top places per buurt, and the cached climate steps."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from biostresstest.analysis import koppelkansen as k
from biostresstest.core.errors import InvalidInput
from biostresstest.core.settings import Settings
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes
from biostresstest.pipeline import climate
from biostresstest.pipeline.common import RunContext
from biostresstest.sources import cbs_wijkenbuurten
from biostresstest.sources.base import fetch

NAN = np.nan


def test_cells_by_hand() -> None:
    bio = np.array([[0.1, 0.1, 0.1, 0.1, 0.9, NAN]], dtype="float32")
    heat = np.array([[0.8, 0.2, 0.9, 0.1, 0.9, 0.9]], dtype="float32")
    water = np.array([[0.1, 0.7, 0.8, 0.5, 0.9, 0.9]], dtype="float32")
    out = k.koppelkansen(bio, heat=heat, water=water)
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
    out = k.koppelkansen(bio, heat=heat, drought=dry)
    assert out["koppelkans"][0] == pytest.approx([0.8 * 0.7, 0.8 * 0.65])
    assert out["koppelkans_class"][0].tolist() == [3, 3]


def test_heat_stress_from_each_heat_layer() -> None:
    hm = np.array([0.0, 0.25, 1.0], dtype="float32")
    assert k.heat_stress(hm, "heat_mitigation").tolist() == [1.0, 0.75, 0.0]
    assert k.heat_stress(hm, "cooling_capacity").tolist() == [1.0, 0.75, 0.0]
    temps = np.linspace(20, 40, 101).astype("float32")  # 5th pct 21, 95th pct 39
    stress = k.heat_stress(temps, "air_temperature")
    assert stress[0] == 0 and stress[-1] == 1
    assert stress[50] == pytest.approx((30 - 21) / (39 - 21))
    with pytest.raises(InvalidInput, match="unknown heat layer"):
        k.heat_stress(hm, "pet")


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
