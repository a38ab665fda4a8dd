"""The measures catalogue: complete, cited, validated all at once, and printed by the CLI."""

from __future__ import annotations

import copy
import json
import tomllib
from importlib import resources
from typing import Any

import pytest
from click.testing import CliRunner

from biostresstest.cli import main
from biostresstest.core.errors import CorruptInput, InvalidInput
from biostresstest.measures.catalogue import AUDIENCES, load_catalogue, validate_catalogue
from biostresstest.model.landcover import load_classes

ISSUE_LIST = (
    "tegels_eruit_tuin", "groendak_sedum", "groendak_kruidenrijk", "retentiedak", "gevelgroen",
    "straatboom", "tiny_forest", "stadsbos", "ecologisch_bermbeheer", "bloemrijk_grasland",
    "haag", "houtwal", "poel", "natuurvriendelijke_slootkant", "natuurlijke_oever", "wadi",
    "regentuin", "nestkasten", "natuurinclusief_bouwen", "akkerrand", "buurttuin",
    "waterdoorlatende_verharding", "minder_licht", "faunapassage",
)  # fmt: skip


def _raw() -> dict[str, Any]:
    text = resources.files("biostresstest.measures").joinpath("data/measures.toml").read_text()
    return tomllib.loads(text)


def test_the_catalogue_covers_the_issue_with_thirty_or_more_cited_measures() -> None:
    catalogue = load_catalogue()
    assert len(catalogue) >= 30
    assert set(ISSUE_LIST) <= set(catalogue.keys)
    table = load_classes()
    for m in catalogue:
        assert m.name_nl and m.name_en and m.description_nl and m.description_en
        assert set(m.audience) <= set(AUDIENCES)
        assert all(c in table for c in m.classes)
        assert set(m.sources) <= set(catalogue.sources)
        if not m.cost.known:
            assert "(m)" in m.note, f"{m.key}: unknown cost must be flagged (m) in its note"
    farmer = [m for m in catalogue if "agrarier" in m.audience]
    assert len(farmer) >= 5


def test_every_problem_is_reported_at_once_with_key_and_field() -> None:
    data = copy.deepcopy(_raw())
    data["measure"][0]["classes"] = ["tegel"]
    data["measure"][1]["sources"] = ["S99"]
    data["measure"][2]["cost"] = {"low": 9, "high": 3, "unit": "m2"}
    data["measure"][3]["to"] = "maanlandschap"
    data["measure"][4]["remove_threats"] = ["noise"]
    del data["measure"][5]["years_to_effect"]
    with pytest.raises(CorruptInput) as caught:
        validate_catalogue(data)
    text = str(caught.value)
    keys = [m["key"] for m in data["measure"][:6]]
    assert "6 problem(s)" in text
    assert f"measure {keys[0]}.classes: unknown class key 'tegel'" in text
    assert f"measure {keys[1]}.sources: unknown source id 'S99'" in text
    assert f"measure {keys[2]}.cost: needs 0 <= low <= high, got 9..3" in text
    assert f"measure {keys[3]}.to: unknown class key 'maanlandschap'" in text
    assert f"measure {keys[4]}.remove_threats: unknown threat 'noise'" in text
    assert f"measure {keys[5]}.years_to_effect: missing" in text


def test_a_measure_that_changes_nothing_or_lacks_a_unit_area_is_refused() -> None:
    data = copy.deepcopy(_raw())
    first = data["measure"][0]
    first.pop("to")
    first["cost"] = {"low": 1, "high": 2, "unit": "tree"}
    with pytest.raises(CorruptInput) as caught:
        validate_catalogue(data)
    assert "changes nothing" in str(caught.value)
    assert "cost.area_per_unit_m2: needed for a cost per tree" in str(caught.value)


def test_costs_per_unit_round_up_to_whole_units() -> None:
    tree = load_catalogue().get("straatboom")
    assert tree.cost.for_area(16.0) == (350.0, 750.0)
    assert tree.cost.for_area(17.0) == (700.0, 1500.0)
    assert load_catalogue().get("haag").cost.for_area(10.0) is None
    with pytest.raises(InvalidInput, match="unknown measure 'boom'"):
        load_catalogue().get("boom")


def test_temporal_multiplier_is_the_bng_discount() -> None:
    forest = load_catalogue().get("stadsbos")
    assert forest.temporal_multiplier == pytest.approx(1 / 1.035**15)


def test_cli_lists_the_catalogue_as_text_and_json() -> None:
    runner = CliRunner()
    text = runner.invoke(main, ["measures", "list", "--lang", "en"])
    assert text.exit_code == 0, text.output
    assert "tiny_forest: Tiny forest" in text.output
    assert "€18000–18000 per project" in text.output
    as_json = runner.invoke(main, ["measures", "list", "--json"])
    rows = json.loads(as_json.output)
    assert len(rows) == len(load_catalogue())
    assert {"key", "name_nl", "name_en", "cost", "sources"} <= set(rows[0])


def test_partial_costs_and_potential_shares_are_validated() -> None:
    data = copy.deepcopy(_raw())
    data["measure"][0]["cost"] = {"known": False, "unit": "m2", "partial": True}
    data["measure"][1]["cost"] = {"low": 1, "high": 2, "unit": "m2", "partial": "yes"}
    data["measure"][2]["potential_share"] = 1.5
    del data["measure"][3]["potential_share"]
    data["measure"][4]["classes"] = ["pand", "pand"]
    with pytest.raises(CorruptInput) as caught:
        validate_catalogue(data)
    text = str(caught.value)
    keys = [m["key"] for m in data["measure"][:5]]
    assert f"measure {keys[0]}.cost.partial: an unknown cost cannot be partial" in text
    assert f"measure {keys[1]}.cost.partial: must be true or false, got 'yes'" in text
    assert f"measure {keys[2]}.potential_share: must be a number 0..1, got 1.5" in text
    assert f"measure {keys[3]}.potential_share: missing" in text
    assert f"measure {keys[4]}.classes: a class key is listed twice" in text
    depave = load_catalogue().get("ontharden_openbaar")
    assert depave.cost.partial and depave.as_dict()["cost"]["partial"] is True
    assert load_catalogue().get("tiny_forest").as_dict()["potential_share"] == 0
