"""Ranking by value per euro with known answers, the potential, and the measures API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from measures_grid import KEY, code, publish, town

from biostresstest.core.errors import InvalidInput
from biostresstest.core.settings import Settings
from biostresstest.measures.applicability import Place
from biostresstest.measures.baseline import load_baseline
from biostresstest.measures.catalogue import load_catalogue
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


def test_ranking_is_value_per_euro_and_unknown_costs_come_last() -> None:
    place = Place({"verhard_overig": 100.0}, width_m=10.0)
    ranked, refused = rank(place)
    keys = [r.fit.measure.key for r in ranked]
    # depaving (€2–5/m², to planted green) beats permeable paving (€15–65/m²) per euro
    assert keys.index("tegels_eruit_tuin") < keys.index("waterdoorlatende_verharding")
    depave = ranked[keys.index("tegels_eruit_tuin")]
    assert depave.cost_eur == (200.0, 500.0)
    assert depave.per_euro == pytest.approx(depave.value / 350.0)
    priced = [r.per_euro for r in ranked if r.per_euro is not None]
    assert priced == sorted(priced, reverse=True)
    first_unknown = next(i for i, r in enumerate(ranked) if r.per_euro is None)
    assert all(r.per_euro is None for r in ranked[first_unknown:])
    assert all(f.reason_en.startswith("refused") for f in refused)


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
    assert np.nanmean(result["opportunity"][arable]) > 0.05
    assert np.allclose(result["opportunity"], result["potential"] - current, equal_nan=True)


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
