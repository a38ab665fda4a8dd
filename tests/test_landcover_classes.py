"""The harmonised land-cover class table: the real table loads and is complete, broken ones fail."""

from __future__ import annotations

import copy
import math
import tomllib
from importlib import resources
from typing import Any

import pytest

from biostresstest.core.errors import CorruptInput
from biostresstest.model.landcover import (
    CLASS_KEYS,
    SCALARS,
    THREATS,
    LandCoverTable,
    load_classes,
    validate_table,
)

PARAMETERS = (*SCALARS, "sensitivity", "curve_number")


def raw_table() -> dict[str, Any]:
    """A fresh, mutable copy of the packaged table as tomllib parses it."""
    text = resources.files("biostresstest.model").joinpath("data/landcover.toml").read_text("utf-8")
    return copy.deepcopy(tomllib.loads(text))


def entry(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(c for c in data["class"] if c["key"] == key)


def problems_of(data: dict[str, Any]) -> str:
    with pytest.raises(CorruptInput) as caught:
        validate_table(data)
    return caught.value.message


@pytest.fixture(scope="module")
def table() -> LandCoverTable:
    return load_classes()


# --------------------------------------------------------------------------- the real table


def test_the_real_table_loads_and_is_cached(table: LandCoverTable) -> None:
    assert isinstance(table, LandCoverTable)
    assert load_classes() is table
    assert table.meta["version"]
    assert table.meta["description"]


def test_every_fixed_key_is_there_and_nothing_else(table: LandCoverTable) -> None:
    assert len(table) >= 30
    assert set(table.keys) == set(CLASS_KEYS)
    assert len(table.keys) == len(CLASS_KEYS) == 32
    for key in CLASS_KEYS:
        assert key in table
        assert table.by_key(key).key == key


def test_threats_are_the_fixed_list(table: LandCoverTable) -> None:
    assert table.threats == (
        "roads_major",
        "roads_minor",
        "rail",
        "buildings",
        "paved",
        "agriculture_intensive",
        "light",
    )
    assert table.threats == THREATS


def test_codes_are_unique_and_in_byte_range(table: LandCoverTable) -> None:
    codes = [c.code for c in table]
    assert len(codes) == len(set(codes))
    assert all(1 <= code <= 255 for code in codes)
    assert table.codes == tuple(codes)
    for c in table:
        assert table.by_code(c.code) is c


def test_unknown_key_or_code_is_a_key_error(table: LandCoverTable) -> None:
    with pytest.raises(KeyError, match="tuin"):
        table.by_key("tuin")
    with pytest.raises(KeyError):
        table.by_code(0)


def test_every_parameter_has_a_value_and_a_known_source_with_a_note(table: LandCoverTable) -> None:
    for c in table:
        for name in PARAMETERS:
            parameter = getattr(c, name)
            assert parameter.source in table.sources, f"{c.key}.{name}: {parameter.source}"
            assert parameter.note.strip(), f"{c.key}.{name} has no note"
        for name in SCALARS:
            assert not math.isnan(getattr(c, name).value), f"{c.key}.{name}"
        assert set(c.sensitivity.values) == set(THREATS)


def test_every_source_is_cited_and_used(table: LandCoverTable) -> None:
    used = {getattr(c, name).source for c in table for name in PARAMETERS}
    used |= {c.barrier.source for c in table if c.barrier is not None}
    assert used == set(table.sources)
    for source in table.sources.values():
        assert source.title.strip()
        assert source.citation.strip()
    assert "expert" in table.sources


def test_values_are_in_range(table: LandCoverTable) -> None:
    for c in table:
        for name, hi in SCALARS.items():
            assert 0.0 <= getattr(c, name).value <= hi, f"{c.key}.{name}"
        for threat in THREATS:
            assert 0.0 <= c.sensitivity[threat] <= 1.0
        cn = c.curve_number
        assert 30 <= cn.A <= cn.B <= cn.C <= cn.D <= 100, c.key
        if c.habitat.value == 0:
            assert all(v == 0 for v in c.sensitivity.values.values()), c.key


def test_names_groups_and_colours(table: LandCoverTable) -> None:
    colours = [c.colour.lower() for c in table]
    assert len(colours) == len(set(colours))
    for c in table:
        assert c.name_nl.strip()
        assert c.name_en.strip()
        assert c.colour.startswith("#")
        assert len(c.colour) == 7
    assert table.by_key("loofbos").group == "forest"
    assert table.by_key("sloot").group == "water"
    assert table.by_key("begroeid_onbepaald").group == "unknown"


def test_green_and_paved_flags_are_consistent(table: LandCoverTable) -> None:
    for c in table:
        assert not (c.green and c.paved), c.key
    pand, loofbos = table.by_key("pand"), table.by_key("loofbos")
    assert pand.paved
    assert not pand.green
    assert loofbos.green
    assert not loofbos.paved
    for key in ("weg_hoofd", "weg_lokaal", "verhard_overig", "onbegroeid_onbepaald"):
        assert table.by_key(key).paved, key
    for key in ("gras_openbaar", "heide", "riet_moeras", "begroeid_onbepaald", "groen_dak"):
        assert table.by_key(key).green, key
    for key in ("water_stilstaand", "water_stromend", "sloot", "erf"):
        c = table.by_key(key)
        assert not c.green
        assert not c.paved
    # the flags agree with the parameters: sealed surfaces score 0, vegetated ground fully
    for c in table:
        if c.group in ("built", "paved"):
            assert c.habitat.value == 0
            assert c.baf.value <= 0.3
        if c.green and c.key != "groen_dak":
            assert c.baf.value == 1.0, c.key


def test_some_values_follow_their_tables(table: LandCoverTable) -> None:
    assert table.by_key("pand").curve_number.for_soil_group("B") == 98
    lawn = table.by_key("gras_openbaar")
    assert [lawn.curve_number.for_soil_group(g) for g in (1, 2, 3, 4)] == [39, 61, 74, 80]
    assert table.by_key("gras_openbaar").ugf.value == 0.4
    assert table.by_key("groen_dak").ugf.value == 0.3
    assert table.by_key("half_verhard").ugf.value == 0.1
    assert table.by_key("loofbos").habitat.value > table.by_key("gras_openbaar").habitat.value
    assert table.by_key("loofbos").shade.value == 1.0
    assert table.by_key("pand").kc.value == pytest.approx(0.1)
    with pytest.raises(KeyError):
        lawn.curve_number.for_soil_group("E")
    with pytest.raises(KeyError):
        lawn.curve_number.for_soil_group(5)


def test_the_raw_table_validates_to_the_same_classes(table: LandCoverTable) -> None:
    again = validate_table(raw_table())
    assert again.keys == table.keys
    assert [c for c in again] == [c for c in table]


# --------------------------------------------------------------------------- broken tables


def test_a_missing_kc_names_class_and_field() -> None:
    data = raw_table()
    del entry(data, "loofbos")["kc"]
    assert "class loofbos: kc: missing" in problems_of(data)


def test_a_missing_value_inside_a_parameter_fails() -> None:
    data = raw_table()
    del entry(data, "heide")["albedo"]["value"]
    assert "class heide: albedo: missing" in problems_of(data)


def test_a_curve_number_out_of_order_fails() -> None:
    data = raw_table()
    entry(data, "akker")["curve_number"]["B"] = 95
    assert "class akker: curve_number: must rise A <= B <= C <= D" in problems_of(data)


def test_a_curve_number_out_of_range_fails() -> None:
    data = raw_table()
    entry(data, "pand")["curve_number"]["D"] = 101
    assert "class pand: curve_number.D: 101 is outside 30..100" in problems_of(data)


def test_an_unknown_source_fails() -> None:
    data = raw_table()
    entry(data, "pand")["habitat"]["source"] = "wikipedia"
    assert "class pand: habitat: source: unknown source id 'wikipedia'" in problems_of(data)


def test_a_missing_source_or_note_fails() -> None:
    data = raw_table()
    del entry(data, "berm")["baf"]["source"]
    entry(data, "berm")["ugf"]["note"] = "  "
    message = problems_of(data)
    assert "class berm: baf: source: missing" in message
    assert "class berm: ugf: note: missing" in message


def test_a_sensitivity_outside_0_1_fails() -> None:
    data = raw_table()
    entry(data, "heide")["sensitivity"]["light"] = 1.5
    assert "class heide: sensitivity.light: 1.5 is outside 0..1" in problems_of(data)


def test_a_sensitivity_missing_a_threat_or_with_an_unknown_one_fails() -> None:
    data = raw_table()
    sensitivity = entry(data, "loofbos")["sensitivity"]
    del sensitivity["rail"]
    sensitivity["noise"] = 0.3
    message = problems_of(data)
    assert "class loofbos: sensitivity.rail: missing" in message
    assert "class loofbos: sensitivity.noise: unknown threat" in message


def test_a_non_habitat_class_with_sensitivity_fails() -> None:
    data = raw_table()
    entry(data, "pand")["sensitivity"]["light"] = 0.2
    assert "class pand: sensitivity: non-habitat class" in problems_of(data)


def test_a_duplicate_code_fails() -> None:
    data = raw_table()
    entry(data, "naaldbos")["code"] = entry(data, "loofbos")["code"]
    assert "class naaldbos: code: duplicate 40 (also class loofbos)" in problems_of(data)


def test_a_duplicate_key_fails() -> None:
    data = raw_table()
    data["class"].append(copy.deepcopy(entry(data, "pad")) | {"code": 200})
    assert "class pad: key: duplicate 'pad'" in problems_of(data)


def test_a_missing_or_extra_class_fails() -> None:
    data = raw_table()
    data["class"] = [c for c in data["class"] if c["key"] != "sloot"]
    data["class"].append(copy.deepcopy(entry(data, "berm")) | {"key": "wadi", "code": 201})
    message = problems_of(data)
    assert "class sloot: key: missing from the table" in message
    assert "class wadi: key: not one of the fixed class keys" in message


def test_bad_plain_fields_fail() -> None:
    data = raw_table()
    pad = entry(data, "pad")
    pad["code"] = 300
    pad["group"] = "road"
    pad["colour"] = "red"
    pad["green"] = True
    pad["albedo_x"] = {"value": 0.1}
    message = problems_of(data)
    for expected in (
        "class pad: code: 300 is outside 1..255",
        "class pad: group: 'road' is not one of",
        "class pad: colour: 'red' is not a #rrggbb hex colour",
        "class pad: green/paved: a class cannot be both green and paved",
        "class pad: albedo_x: unknown field",
    ):
        assert expected in message


def test_a_wrong_threat_list_or_source_table_fails() -> None:
    data = raw_table()
    data["threats"] = [*THREATS, "noise"]
    del data["sources"]["expert"]["citation"]
    message = problems_of(data)
    assert "threats: must be exactly" in message
    assert "sources.expert: citation: missing" in message


def test_several_problems_are_reported_together() -> None:
    data = raw_table()
    del entry(data, "loofbos")["kc"]
    entry(data, "akker")["curve_number"]["B"] = 95
    entry(data, "pand")["habitat"]["source"] = "wikipedia"
    entry(data, "heide")["sensitivity"]["light"] = -0.1
    entry(data, "naaldbos")["code"] = entry(data, "loofbos")["code"]
    with pytest.raises(CorruptInput) as caught:
        validate_table(data)
    message = caught.value.message
    assert message.startswith("land-cover table: 5 problem(s):")
    for expected in (
        "class loofbos: kc: missing",
        "class akker: curve_number:",
        "class pand: habitat: source: unknown source id",
        "class heide: sensitivity.light:",
        "class naaldbos: code: duplicate",
    ):
        assert expected in message
    assert caught.value.hint


def test_an_empty_document_reports_its_top_level_problems() -> None:
    message = problems_of({})
    for expected in ("meta: missing", "sources: missing", "threats:", "class: no [[class]]"):
        assert expected in message
