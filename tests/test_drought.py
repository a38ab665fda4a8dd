"""The drought indicator by hand, and the precipitation deficit of 2020 at Gilze-Rijen (KNMI)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from biostresstest.analysis import drought
from biostresstest.core.errors import InvalidInput
from biostresstest.model.landcover import load_classes

TABLE = load_classes()
CODE = {c.key: c.code for c in TABLE}


def _infiltrated_share(p: float, cn: float) -> float:
    s = 25400 / cn - 254
    q = (p - 0.2 * s) ** 2 / (p + 0.8 * s) if p > 0.2 * s else 0.0
    return 1 - q / p


def test_infiltration_share_by_hand() -> None:
    keys = ("gras_openbaar", "akker", "pand", "weg_lokaal", "water_stilstaand", "onverhard")
    classes = np.array([[CODE[k] for k in keys] + [0]], dtype="uint8")
    share = drought.infiltration_share(classes, TABLE, "B", rain_mm=20.0)[0]
    assert share[0] == 1.0  # CN 61: Ia = 32.5 mm > 20 mm
    assert share[1] == pytest.approx(_infiltrated_share(20, 78), abs=1e-5)  # ≈ 0.979
    assert share[2] == 0 and share[3] == 0  # sealed: nothing reaches the roots
    assert np.isnan(share[4]) and np.isnan(share[6])  # water, no data
    assert share[5] == pytest.approx(_infiltrated_share(20, 86), abs=1e-5)


def test_green_vulnerability_by_hand() -> None:
    keys = ("gras_openbaar", "loofbos", "pand", "groen_dak")
    classes = np.array([[CODE[k] for k in keys] + [0]], dtype="uint8")
    v = drought.green_vulnerability(classes, TABLE)[0]
    assert v[0] == pytest.approx(0.8 / 1.2 * (1 - 0.5 * 0.25))  # Kc 0.8, roots 0.5 m
    assert v[1] == pytest.approx(1.0 / 1.2 * (1 - 0.5 * 1.0))  # Kc 1.0, roots 2 m
    assert v[2] == 0.0
    assert v[3] == pytest.approx(0.4 / 1.2 * (1 - 0.5 * 0.05))  # green roof: 0.1 m substrate
    assert np.isnan(v[4])
    assert {c.key for c in TABLE if c.green} <= set(drought.ROOTING_DEPTH_M)


def test_a_street_tree_in_paving_is_stressed_a_tree_in_the_wood_is_not() -> None:
    shape = (101, 101)
    street = np.full(shape, CODE["weg_lokaal"], dtype="uint8")
    street[50, 50] = CODE["loofbos"]
    wood = np.full(shape, CODE["loofbos"], dtype="uint8")
    s_street = drought.drought_stress(street, TABLE, cell_size=1.0)
    s_wood = drought.drought_stress(wood, TABLE, cell_size=1.0)
    tree_v = 1.0 / 1.2 * 0.5
    # window of 51 × 51 cells, one of which takes water in
    assert s_street["drought_stress"][50, 50] == pytest.approx(tree_v * (1 - 1 / 51**2), abs=1e-4)
    assert s_wood["drought_stress"][50, 50] == pytest.approx(0.0, abs=1e-6)
    assert s_street["drought_stress"][0, 0] == 0.0  # a road has no vegetation to suffer
    assert s_street["drought_stress"].dtype == np.float32


def test_soil_group_changes_infiltration() -> None:
    classes = np.full((1, 1), CODE["akker"], dtype="uint8")
    a = drought.infiltration_share(classes, TABLE, "A", rain_mm=40.0)[0, 0]
    d = drought.infiltration_share(classes, TABLE, "D", rain_mm=40.0)[0, 0]
    assert a == pytest.approx(_infiltrated_share(40, 67), abs=1e-5)
    assert d == pytest.approx(_infiltrated_share(40, 89), abs=1e-5)
    assert a > d


def test_precipitation_deficit_by_hand() -> None:
    days = np.arange("2020-04-01", "2020-10-01", dtype="datetime64[D]")
    rain = np.zeros(len(days))
    rain[10] = 100.0  # a wet day cannot bank more than the deficit so far
    evaporation = np.full(len(days), 3.0)
    # 3 mm/day for 183 days, minus the 30 mm deficit wiped out on day 11 and 3 mm of that day
    assert drought.max_precipitation_deficit(days, rain, evaporation, 2020) == pytest.approx(
        3.0 * (len(days) - 11)
    )
    with pytest.raises(InvalidInput, match="182 of the 183 days"):
        drought.max_precipitation_deficit(days[1:], rain[1:], evaporation[1:], 2020)


def test_precipitation_deficit_2020_gilze_rijen(mirror: Path) -> None:
    weather = pd.read_csv(mirror / "brabant-knmi-daily-weather-2019-2020" / "weather_data.csv")
    station = weather[weather["station"] == "Gilze-Rijen"]
    deficit = drought.max_precipitation_deficit(
        station["date"].to_numpy(dtype="datetime64[D]"),
        station["sum_precipitation"].to_numpy(),
        station["crop_evaporation"].to_numpy(),
        2020,
    )
    # 2020 was a dry year in the south of the Netherlands: a deficit of a few hundred mm
    assert 150 < deficit < 400
