"""Ranking by value per euro with known answers, the potential, and the measures API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from measures_grid import KEY, code, grid_of, layers, publish, town
from scipy import ndimage

from biostresstest.core.errors import InvalidInput
from biostresstest.core.settings import Settings
from biostresstest.measures.applicability import Place
from biostresstest.measures.baseline import Baseline, load_baseline
from biostresstest.measures.catalogue import load_catalogue
from biostresstest.measures.feasible import potential_change, potential_options
from biostresstest.measures.potential import best_measures, potential_score
from biostresstest.measures.recommend import place_at_point, place_of_area, rank
from biostresstest.measures.value import value_per_m2
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.landcover import load_classes
from biostresstest.web.app import create_app


def _by_hand(measure: str, class_key: str, p: float = 0.0) -> float:
    """The value formula of docs/measures.md, from the class table, without the module."""
    table, m = load_classes(), load_catalogue().get(measure)
    old, new = table.by_key(class_key), table.by_key(m.to or class_key)
    kc_max = max(c.kc.value for c in table)

    def cc(c: object) -> float:
        return 0.6 * c.shade.value + 0.2 * c.albedo.value + 0.2 * c.kc.value / kc_max  # type: ignore[attr-defined]

    def kept(cn: float) -> float:
        s = 25400 / cn - 254
        return p - ((p - 0.2 * s) ** 2 / (p + 0.8 * s) if p > 0.2 * s else 0.0)

    bio = 0.5 * (new.habitat.value - old.habitat.value) + 0.25 * (new.baf.value - old.baf.value)
    water = (
        max(kept(new.curve_number.B), min(p, m.storage_mm[0] if m.storage_mm else 0.0))
        - kept(old.curve_number.B)
    ) / p
    return bio / 1.035**m.years_to_effect + 0.15 * (cc(new) - cc(old)) + 0.10 * water


def test_value_per_m2_is_the_documented_formula() -> None:
    from biostresstest.model.rain_events import load_rain_events

    p = load_rain_events().default_event.depth_mm
    for measure, cls in (
        ("tegels_eruit_tuin", "verhard_overig"),
        ("waterdoorlatende_verharding", "verhard_overig"),
        ("poel", "akker"),
        ("stadsbos", "grasland_agrarisch"),
    ):
        assert value_per_m2(load_catalogue().get(measure), cls) == pytest.approx(
            _by_hand(measure, cls, p), rel=1e-5
        )


def test_ranking_is_value_per_euro_and_partial_or_unknown_costs_come_last() -> None:
    place = Place({"verhard_overig": 100.0}, width_m=10.0)
    ranked, refused = rank(place)
    keys = [r.fit.measure.key for r in ranked]
    # depaving is priced for the planting only (no removal cost in methods.md): its €2–5/m²
    # is a lower bound, so it may not beat permeable paving (€15–65/m², complete) per euro
    assert keys.index("waterdoorlatende_verharding") < keys.index("tegels_eruit_tuin")
    depave = ranked[keys.index("tegels_eruit_tuin")]
    assert depave.cost_eur == (200.0, 500.0)
    assert depave.per_euro is None
    assert depave.per_euro_at_most == pytest.approx(depave.value / 350.0)
    shown = depave.as_dict("en")
    assert shown["cost_partial"] is True and shown["value_per_1000_eur"] is None
    assert shown["value_per_1000_eur_at_most"] == pytest.approx(depave.value / 350.0 * 1000, 1e-3)
    priced = [r.per_euro for r in ranked if r.per_euro is not None]
    assert priced == sorted(priced, reverse=True)
    first_unpriced = next(i for i, r in enumerate(ranked) if r.per_euro is None)
    rest = ranked[first_unpriced:]
    assert all(r.per_euro is None for r in rest)
    assert [r.value for r in rest] == sorted((r.value for r in rest), reverse=True)
    assert all(f.reason_en.startswith("refused") for f in refused)


def test_every_depaving_cost_without_removal_is_marked_partial() -> None:
    for m in load_catalogue():
        planting_only = m.cost.known and m.cost.low == 2 and m.cost.high == 5 and m.to
        if planting_only and "S29a" in m.sources:
            assert m.cost.partial, f"{m.key}: the €2–5/m² planting cost must be partial"


def test_cost_neutral_verge_mowing_ranks_first_on_a_verge() -> None:
    ranked, _ = rank(Place({"berm": 500.0}, width_m=4.0))
    top = ranked[0]
    assert top.fit.measure.key == "ecologisch_bermbeheer"
    assert top.per_euro == pytest.approx(top.value / (0.10 * 500.0))


def test_points_and_areas_of_a_published_area(tmp_path: Path) -> None:
    store = publish(tmp_path / "store", town())
    base = load_baseline(store, KEY)
    g = base.grid
    x, y = g.xmin + 60 * g.cell_size + 5, g.ymax - 23 * g.cell_size - 5  # in the paved yard
    place = place_at_point(base, x, y)
    assert place.class_m2 == {"verhard_overig": pytest.approx(6 * 11 * 100.0)}  # within 50 m
    assert place.width_m == pytest.approx(60.0)  # 2 × the largest inscribed radius of 6 cells
    with pytest.raises(InvalidInput, match="outside the loaded area"):
        place_at_point(base, 0.0, 0.0)
    whole = place_of_area(base, KEY)
    assert whole.area_m2 == pytest.approx(80 * 80 * 100.0)


def test_potential_raises_arable_land_and_leaves_the_outside_empty(tmp_path: Path) -> None:
    classes = town()
    store = publish(tmp_path / "store", classes)
    base = load_baseline(store, KEY)
    chosen, used = best_measures(classes, base.grid)
    arable = classes == code("akker")
    assert (chosen[arable] >= 0).all()
    assert {used[i].key for i in np.unique(chosen[arable])} <= {
        m.key for m in load_catalogue() if "akker" in m.classes
    }
    current = base.score_before().copy()
    current[:5, :5] = np.nan  # outside the area
    result = potential_score(
        classes, base.layer("baf"), base.layer("natura2000_share"), current, base.grid
    )
    assert np.isnan(result["potential"][:5, :5]).all()
    # field margins on a share of the field: a gain, far from turning fields into forest
    assert 0 < np.nanmean(result["opportunity"][arable]) < 0.05
    assert np.allclose(result["opportunity"], result["potential"] - current, equal_nan=True)


def _potential_of(tmp_path: Path, classes: np.ndarray) -> tuple[dict[str, np.ndarray], Baseline]:
    store = publish(tmp_path / "store", classes)
    base = load_baseline(store, KEY)
    green = np.isin(classes, [c.code for c in load_classes() if c.green]).astype(np.float32)
    coarse = set(np.unique(classes)) <= {code("begroeid_onbepaald"), code("onbegroeid_onbepaald")}
    result = potential_score(
        classes,
        base.layer("baf"),
        base.layer("natura2000_share"),
        base.score_before(),
        base.grid,
        green_share=green if coarse else None,
    )
    return result, base


def test_a_bare_cell_gains_where_depaving_fits(tmp_path: Path) -> None:
    """Coarse land cover: the unvegetated block takes the greening the recommender offers."""
    classes = np.full((40, 40), code("begroeid_onbepaald"), np.uint8)
    classes[10:30, 10:30] = code("onbegroeid_onbepaald")
    result, base = _potential_of(tmp_path, classes)
    bare = classes == code("onbegroeid_onbepaald")
    assert (result["opportunity"][bare] > 0).all()
    chosen, used = best_measures(classes, base.grid)
    picked = {used[i].key for i in np.unique(chosen[bare])}
    assert len(picked) == 1
    (key,) = picked
    depaving = {"ontharden_openbaar", "bedrijfsterrein_vergroenen", "tegels_eruit_tuin"}
    assert key in depaving
    # one rule: the recommender offers the same measure for that place, and says why
    ranked, _ = rank(Place({"onbegroeid_onbepaald": float(bare.sum()) * 100.0}, width_m=200.0))
    fit = next(r for r in ranked if r.fit.measure.key == key)
    assert fit.fit.reason_en.startswith("fits:")


def test_a_lawn_gets_its_best_fitting_measure_not_forest(tmp_path: Path) -> None:
    classes = np.full((40, 40), code("akker"), np.uint8)
    classes[10:30, 10:30] = code("gras_openbaar")  # 4 ha of public lawn
    result, base = _potential_of(tmp_path, classes)
    lawn = classes == code("gras_openbaar")
    chosen, used = best_measures(classes, base.grid)
    assert {used[i].key for i in np.unique(chosen[lawn])} == {"bloemrijk_grasland"}
    # forest fits the lawn (the recommender offers it) but is no feasible default
    offered = {r.fit.measure.key for r in rank(Place({"gras_openbaar": 40_000.0}, 200.0))[0]}
    assert {"stadsbos", "tiny_forest", "bloemrijk_grasland"} <= offered
    catalogue = load_catalogue()
    assert catalogue.get("stadsbos").potential_share == 0
    # half the lawn flower-rich (share 0.5): habitat 0.2 → 0.5, the class stays a lawn
    m = catalogue.get("bloemrijk_grasland")
    h, f = potential_change(m, np.full(4, 0.2, np.float32), np.full(4, 1.0, np.float32))
    assert np.allclose(h, 0.2 + 0.5 * (0.8 - 0.2)) and np.allclose(f, 1.0)
    gain = float(np.nanmean(result["opportunity"][lawn]))
    assert gain > 0
    forest = classes.copy()
    forest[lawn] = code("gemengd_bos")
    forest_score = layers(forest, base.grid, base.layer("natura2000_share"))["score"]
    assert gain < float(np.nanmean(forest_score[lawn] - base.score_before()[lawn]))


def test_the_potential_picks_only_what_the_recommender_offers(tmp_path: Path) -> None:
    classes = town()
    grid = grid_of(classes)
    chosen, used = best_measures(classes, grid)
    for cls in np.unique(classes):
        mask = classes == cls
        patches, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
        for p in range(1, n + 1):
            patch = patches == p
            picks = np.unique(chosen[patch])
            assert len(picks) == 1
            if picks[0] < 0:
                continue
            width = 2 * float(ndimage.distance_transform_edt(patch).max()) * grid.cell_size
            key = load_classes().by_code(int(cls)).key
            place = Place({key: float(patch.sum()) * grid.cell_area}, width)
            offered = {r.fit.measure.key for r in rank(place)[0]}
            assert used[int(picks[0])].key in offered
            options = potential_options(key, load_catalogue())
            assert used[int(picks[0])].potential_share > 0
            assert options[0].gain_per_m2 >= options[-1].gain_per_m2


@pytest.fixture(scope="module")
def client(otterlo: tuple[Settings, object]) -> TestClient:
    settings, _ = otterlo
    return TestClient(create_app(settings))


def _arable_point(otterlo: tuple[Settings, object]) -> tuple[float, float]:
    settings, _ = otterlo
    base = load_baseline(EmbeddedStore(settings.data_dir / "store"), "otterlo")
    rows, cols = np.nonzero(base.landcover == code("akker"))
    r, c = int(rows[len(rows) // 2]), int(cols[len(cols) // 2])
    return base.grid.xmin + c + 0.5, base.grid.ymax - r - 0.5


def test_api_measures_answers_the_catalogue(client: TestClient) -> None:
    body = client.get("/api/measures", params={"lang": "en"}).json()
    assert len(body["measures"]) == len(load_catalogue())
    first = body["measures"][0]
    assert {"key", "name_nl", "name_en", "cost", "sources"} <= set(first)


def test_api_recommend_ranks_with_reasons_and_refuses_outside(
    client: TestClient, otterlo: tuple[Settings, object]
) -> None:
    x, y = _arable_point(otterlo)
    body = client.get("/api/recommend", params={"x": x, "y": y, "lang": "en"}).json()
    assert body["area"] == "otterlo"
    recs = body["recommendations"]
    assert recs and all(r["reason"].startswith("fits:") for r in recs)
    assert "akkerrand" in [r["key"] for r in recs]
    assert all(r["reason"].startswith("refused:") for r in body["refused"])
    outside = client.get("/api/recommend", params={"x": 0, "y": 0})
    assert outside.status_code == 400
    assert "outside every loaded area" in outside.json()["message"]
    assert client.get("/api/recommend", params={"x": "abc", "y": 1}).status_code in (400, 422)


def test_api_place_card(client: TestClient, otterlo: tuple[Settings, object]) -> None:
    x, y = _arable_point(otterlo)
    nl = client.get("/api/place", params={"x": x, "y": y}).json()
    assert nl["spot"]["landcover"] == "akker"
    assert 1 <= nl["spot"]["score_class"] <= 7
    assert len(nl["measures"]) == 3
    assert nl["text"].startswith("Deze plek is akker")
    en = client.get("/api/place", params={"x": x, "y": y, "lang": "en"}).json()
    assert en["text"].startswith("This spot is arable land")
