from __future__ import annotations

import pytest

from biostresstest.core.errors import InvalidInput
from biostresstest.model.areas import normalise_area_key
from biostresstest.model.study_area import parse_area


def test_named_area() -> None:
    otterlo = parse_area(" Otterlo ")
    assert otterlo.key == "otterlo" and otterlo.cell_size == 1.0 and otterlo.gemeente == "GM0228"
    assert parse_area("otterlo", cell_size=10).cell_size == 10


def test_bounding_box_in_rd() -> None:
    area = parse_area("180000,456000,181000,457000")
    assert area.bounds == (180000.0, 456000.0, 181000.0, 457000.0)
    assert area.key == "bbox-180000-456000-181000-457000"
    assert normalise_area_key(area.key) == area.key


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("atlantis", "neither a named area"),
        ("181000,456000,180000,457000", "empty"),
        ("5.7,52.0,5.8,52.1", "outside the Netherlands"),
        ("100000,400000,130000,430000", "larger than"),
    ],
)
def test_bad_areas_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_area(text)


@pytest.mark.parametrize("size", [0.5, 2.5, 500])
def test_bad_cell_sizes(size: float) -> None:
    with pytest.raises(InvalidInput, match="cell size"):
        parse_area("otterlo", cell_size=size)


@pytest.mark.parametrize("text", ["GM0758", "gm0758", "otterlo"])
def test_area_keys(text: str) -> None:
    assert normalise_area_key(text) in ("GM0758", "otterlo")


def test_bad_area_key() -> None:
    with pytest.raises(InvalidInput):
        normalise_area_key("../etc")
