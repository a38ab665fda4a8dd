from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box

from biostresstest.core.errors import InvalidInput
from biostresstest.model.areas import (
    AreaLevel,
    dissolve_wijken,
    level_of_code,
    normalise_gemeente_code,
    parse_level,
)


@pytest.mark.parametrize("given", ["GM0758", "gm0758", " 0758 ", "758"])
def test_gemeente_codes_are_normalised(given: str) -> None:
    assert normalise_gemeente_code(given) == "GM0758"


@pytest.mark.parametrize("given", ["Breda", "GM758", "WK075801", "GM07580", ""])
def test_malformed_gemeente_codes_are_refused_with_a_hint(given: str) -> None:
    with pytest.raises(InvalidInput) as info:
        normalise_gemeente_code(given)
    assert "GM0758" in info.value.hint


def test_level_of_code() -> None:
    assert level_of_code("BU07580101") is AreaLevel.BUURT
    assert level_of_code("WK075801") is AreaLevel.WIJK
    with pytest.raises(InvalidInput):
        level_of_code("XX1")


def test_unknown_level_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_level("straat")
    assert "gemeente, wijk, buurt" in info.value.hint


def test_wijken_are_the_union_of_their_buurten() -> None:
    buurten = gpd.GeoDataFrame(
        {
            "code": ["BU00010001", "BU00010002", "BU00010101"],
            "wijk_code": ["WK000100", "WK000100", "WK000101"],
            "wijk_name": ["Noord", "Noord", "Zuid"],
            "jaar": [2020, 2020, 2020],
        },
        geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(0, -10, 20, 0)],
        crs="EPSG:28992",
    )
    wijken = dissolve_wijken(buurten)
    assert wijken["code"].tolist() == ["WK000100", "WK000101"]
    assert wijken["parent_code"].tolist() == ["GM0001", "GM0001"]
    assert wijken.area.tolist() == pytest.approx([200.0, 200.0])
    assert wijken.loc[0, "name"] == "Noord"
