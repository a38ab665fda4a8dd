"""Applicability: which measures fit a place, by which rule, or why not."""

from __future__ import annotations

from dataclasses import replace

from biostresstest.measures.applicability import Place, applicable, check, ground_of
from biostresstest.measures.catalogue import load_catalogue


def test_a_measure_fits_by_class_and_says_so() -> None:
    fit = check(load_catalogue().get("tegels_eruit_tuin"), Place({"erf": 40.0, "pand": 60.0}))
    assert fit.fits
    assert fit.usable_m2 == 40.0
    assert fit.reason_en.startswith("fits: 40 m² of Private yard")


def test_too_small_a_place_is_refused_with_the_numbers() -> None:
    fit = check(load_catalogue().get("retentiedak"), Place({"pand": 40.0}))
    assert not fit.fits
    assert fit.reason_en == "refused: needs at least 100 m² of Building, this place has 40 m²"
    assert fit.reason_nl == "past niet: vraagt minstens 100 m² Pand, deze plek heeft 40 m²"


def test_width_soil_class_and_audience_refusals() -> None:
    c = load_catalogue()
    narrow = check(c.get("tiny_forest"), Place({"gras_openbaar": 400.0}, width_m=3.0))
    assert narrow.reason_en == "refused: needs a width of at least 4 m, this place is 3.0 m wide"
    clay = check(c.get("wadi"), Place({"gras_openbaar": 400.0}, soil_group="D"))
    assert clay.reason_en == "refused: needs soil group A/B, here it is D"
    road = check(c.get("tiny_forest"), Place({"weg_lokaal": 400.0}))
    assert road.reason_en.startswith("refused: needs Mown public grass")
    assert "this place has Local road" in road.reason_en
    farmer = check(c.get("akkerrand"), Place({"akker": 400.0}), audience="bewoner")
    assert farmer.reason_en == "refused: this measure is not for bewoner"


def test_public_or_private_ground_is_decided_by_class() -> None:
    assert ground_of(["berm", "gras_openbaar"]) == "public"
    assert ground_of(["erf", "pand"]) == "private"
    assert ground_of(["erf", "berm"]) == "unknown"
    public = replace(load_catalogue().get("ecologisch_bermbeheer"), classes=("erf", "berm"))
    refused = check(public, Place({"erf": 100.0}))
    assert refused.reason_en == "refused: is for public ground, this is private ground"
    unknown = check(public, Place({"erf": 50.0, "berm": 50.0}))
    assert unknown.fits and "check that it is public ground" in unknown.reason_en


def test_applicable_splits_the_whole_catalogue() -> None:
    fits, refused = applicable(load_catalogue(), Place({"akker": 5000.0}, width_m=50.0))
    assert {f.measure.key for f in fits} >= {"akkerrand", "houtwal", "poel", "stadsbos"}
    assert len(fits) + len(refused) == len(load_catalogue())
    assert all(r.reason_en.startswith("refused:") for r in refused)
