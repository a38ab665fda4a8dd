"""Scenarios: windowed recomputation equals a full one; deltas with known answers; refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from measures_grid import KEY, code, grid_of, layers, publish, square, town
from scipy import ndimage

from biostresstest.core.errors import Conflict, InvalidInput, NotLoaded
from biostresstest.core.settings import Settings
from biostresstest.measures import scenario as scenarios
from biostresstest.measures.baseline import load_baseline
from biostresstest.measures.catalogue import load_catalogue
from biostresstest.measures.effects import recompute
from biostresstest.measures.places import PlacedMeasure, parse_geometry, to_edit
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.pipeline.common import RunContext
from biostresstest.pipeline.potential import opportunities_document, potential_step
from biostresstest.pipeline.scenarios import rule_places, run_scenario, saved_scenarios
from biostresstest.web.app import create_app


def _rect(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"POLYGON(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"


@pytest.fixture
def town_store(tmp_path: Path) -> EmbeddedStore:
    return publish(tmp_path / "store", town())


def _full(
    store: EmbeddedStore, places: list[tuple[str, str]]
) -> tuple[object, dict[str, np.ndarray]]:
    """Windowed result and the full recomputation of the same changed land cover."""
    base = load_baseline(store, KEY)
    catalogue = load_catalogue()
    items = [PlacedMeasure(catalogue.get(m), parse_geometry(w)) for m, w in places]
    edits = [to_edit(base, item, i) for i, item in enumerate(items, 1)]
    rec = recompute(base, edits)
    new = base.landcover.copy()
    new[rec.classes_box] = rec.classes_new
    return rec, layers(new, base.grid, base.layer("natura2000_share"))


@pytest.mark.parametrize(
    ("measure", "row", "col", "rows", "cols"),
    [
        ("tegels_eruit_tuin", 20, 50, 6, 20),  # paving → planted: the paved threat goes
        ("stadsbos", 30, 5, 20, 25),  # 5 ha of arable land next to the wood: new core
        ("groendak_sedum", 12, 47, 3, 1),  # a roof: buildings and light threats go
    ],
)
def test_windowed_recompute_equals_a_full_run(
    town_store: EmbeddedStore, measure: str, row: int, col: int, rows: int, cols: int
) -> None:
    grid = load_baseline(town_store, KEY).grid
    rec, full = _full(town_store, [(measure, square(grid, row, col, rows, cols))])
    w = rec.window
    assert np.allclose(rec.quality, full["habitat_quality"][w], atol=2e-6, equal_nan=True)
    assert np.allclose(rec.baf, full["baf"][w], atol=1e-6, equal_nan=True)
    assert np.allclose(rec.distance, full["distance_to_core"][w], atol=1e-3)
    outside = np.ones(grid.shape, bool)
    outside[w] = False
    base = load_baseline(town_store, KEY)
    assert np.allclose(
        full["habitat_quality"][outside], base.layer("habitat_quality")[outside], equal_nan=True
    )
    assert np.array_equal(
        full["distance_to_core"][outside], base.layer("distance_to_core")[outside]
    )


def test_new_core_lowers_distance_far_beyond_the_place(town_store: EmbeddedStore) -> None:
    grid = load_baseline(town_store, KEY).grid
    rec, _ = _full(town_store, [("stadsbos", square(grid, 30, 5, 20, 25))])
    base = load_baseline(town_store, KEY)
    assert float(base.layer("distance_to_core").min()) == 5000.0  # no core before
    assert (rec.distance == 0).sum() == 500 + 625  # wood + new forest ≥ 10 ha → core
    assert rec.distance.shape == grid.shape  # the whole grid is within reach


def test_light_removal_lowers_degradation_around_and_not_on_the_place(
    town_store: EmbeddedStore,
) -> None:
    grid = load_baseline(town_store, KEY).grid
    wkt = square(grid, 10, 45, 30, 30)  # the village: buildings and paving
    base = load_baseline(town_store, KEY)
    catalogue = load_catalogue()
    edit = to_edit(base, PlacedMeasure(catalogue.get("minder_licht"), parse_geometry(wkt)), 1)
    rec = recompute(base, [edit])
    old = base.layer("habitat_quality")[rec.window]
    assert np.nanmin(rec.quality - old) >= -1e-7
    assert np.nanmax(rec.quality - old) > 0.001
    assert (rec.classes_old == rec.classes_new).all()


def test_half_covered_coarse_cells_change_half_their_surface_factor(tmp_path: Path) -> None:
    classes = np.full((20, 20), code("onbegroeid_onbepaald"), np.uint8)
    store = publish(tmp_path / "s", classes)
    grid = grid_of(classes)
    x0, y1 = grid.xmin + 50, grid.ymax - 50  # 10 m × 10 m shifted half a cell → 4 half cells…
    wkt = _rect(x0 + 5, y1 - 45, x0 + 45, y1 - 5)
    base = load_baseline(store, KEY)
    edit = to_edit(
        base, PlacedMeasure(load_catalogue().get("ontharden_openbaar"), parse_geometry(wkt)), 1
    )
    rec = recompute(base, [edit])
    # plantsoen BAF 1.0, bare 0.0: a cell half inside gets 0.5, a corner cell 0.25, inner 1.0
    values = sorted(set(np.round(rec.baf[rec.baf > 0], 3).tolist()))
    assert values == [0.25, 0.5, 1.0]
    assert float(rec.baf.sum()) == pytest.approx(16.0)  # 40 m × 40 m = 16 cells of BAF 1


def test_depaving_keeps_the_rain_of_the_scs_cn_worked_example(town_store: EmbeddedStore) -> None:
    grid = load_baseline(town_store, KEY).grid
    scenario = scenarios.build(
        "tegels", KEY, [{"measure": "tegels_eruit_tuin", "wkt": square(grid, 20, 50, 6, 20)}]
    )
    result = scenarios.run(town_store, scenario)
    area = 6 * 20 * 100.0
    assert result["water"]["place_m2"] == pytest.approx(area)
    for event in result["water"]["events"]:
        p = event["rain_mm"]

        def kept(cn: float, p: float = p) -> float:
            s = 25400 / cn - 254
            q = (p - 0.2 * s) ** 2 / (p + 0.8 * s) if p > 0.2 * s else 0.0
            return p - q

        assert event["kept_mm_before"] == pytest.approx(kept(98), abs=0.11)  # paved
        assert event["kept_mm_after"][0] == pytest.approx(kept(61), abs=0.11)  # plantsoen, B
    assert result["cost"]["total_eur"] == [2 * area, 5 * area]
    assert result["score"]["place"]["after"] > result["score"]["place"]["before"]
    s = result["score"]
    assert sum(s["area"]["classes_after"]) == sum(s["area"]["classes_before"])


def test_invalid_overlapping_outside_and_unfit_places_are_refused(
    town_store: EmbeddedStore,
) -> None:
    grid = load_baseline(town_store, KEY).grid

    def run(*places: tuple[str, str]) -> None:
        scenarios.run(
            town_store,
            scenarios.build("x", KEY, [{"measure": m, "wkt": w} for m, w in places]),
        )

    x0, y1 = grid.xmin, grid.ymax
    corners = [(x0, y1 - 100), (x0 + 100, y1), (x0 + 100, y1 - 100), (x0, y1), (x0, y1 - 100)]
    bowtie = "POLYGON((" + ", ".join(f"{x} {y}" for x, y in corners) + "))"
    with pytest.raises(InvalidInput, match="not a valid polygon: Self-intersection"):
        run(("stadsbos", bowtie))
    with pytest.raises(InvalidInput, match="is a LineString, not an area"):
        run(
            (
                "stadsbos",
                f"LINESTRING({grid.xmin} {grid.ymax - 5}, {grid.xmin + 50} {grid.ymax - 5})",
            )
        )
    with pytest.raises(InvalidInput, match="not a readable geometry"):
        run(("stadsbos", "POLYGON((1 2, 3"))
    a, b = square(grid, 0, 0, 10, 10), square(grid, 5, 5, 10, 10)
    with pytest.raises(
        InvalidInput, match=r"places #1 \(akkerrand\) and #2 \(poel\) overlap by 2500.0 m²"
    ):
        run(("akkerrand", a), ("poel", b))
    with pytest.raises(InvalidInput, match="outside the loaded area"):
        run(("akkerrand", "POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))"))
    with pytest.raises(InvalidInput, match="partly outside"):
        run(("akkerrand", square(grid, 0, -5, 10, 10)))
    roof = square(grid, 12, 47, 3, 1)  # one 300 m² building
    with pytest.raises(InvalidInput, match=r"needs .*Arable land.*this place has Building"):
        run(("akkerrand", roof))
    small = square(grid, 12, 47, 1, 1)  # 100 m² of roof: a retention roof fits from 100 m²
    run(("retentiedak", small))
    with pytest.raises(InvalidInput, match=r"needs at least 200 m² .* this place has 100 m²"):
        run(("tiny_forest", square(grid, 45, 50, 1, 1)))


def test_scenarios_are_saved_listed_loaded_and_compared(
    town_store: EmbeddedStore, tmp_path: Path
) -> None:
    grid = load_baseline(town_store, KEY).grid
    for name, measure in (("bos", "stadsbos"), ("rand", "akkerrand")):
        s = scenarios.build(name, KEY, [{"measure": measure, "wkt": square(grid, 0, 0, 30, 30)}])
        scenarios.run(town_store, s)
        scenarios.save(tmp_path, s)
    assert scenarios.list_names(tmp_path, KEY) == ["bos", "rand"]
    assert not list((tmp_path / "scenarios" / KEY).glob("*.part"))
    loaded = scenarios.load(tmp_path, KEY, "bos")
    assert loaded["places"][0]["measure"] == "stadsbos"
    both = scenarios.compare(tmp_path, KEY, "bos", "rand")
    gain = both["difference_b_minus_a"]["score_area_after"]
    assert gain == pytest.approx(
        both["b"]["score_area_after"] - both["a"]["score_area_after"], abs=1e-5
    )
    with pytest.raises(NotLoaded):
        scenarios.load(tmp_path, KEY, "geen")
    with pytest.raises(InvalidInput, match="not allowed"):
        scenarios.check_name("../etc")


def test_potential_step_is_cached_and_never_below_nothing(
    town_store: EmbeddedStore, settings: Settings
) -> None:
    base = load_baseline(town_store, KEY)
    names = ("habitat_quality", "baf", "distance_to_core", "natura2000_share", "score")
    given = {n: base.layer(n) for n in names}
    ctx = RunContext.create(settings, town_store, None)
    first = potential_step(ctx, base.landcover, given, base.grid, depends="t")
    again = potential_step(ctx, base.landcover, given, base.grid, depends="t")
    assert ctx.log.entries["potential"]["cached"] is True
    assert np.array_equal(first["potential"], again["potential"], equal_nan=True)
    current = base.score_before()
    assert np.allclose(first["opportunity"], first["potential"] - current, equal_nan=True)
    arable = base.landcover == code("akker")
    assert 0 < float(np.nanmean(first["opportunity"][arable])) < 0.05  # margins, not forest
    paved = base.landcover == code("verhard_overig")
    assert (first["opportunity"][paved] > 0).all()  # depaving is part of the potential


def test_breda_scenario_end_to_end(breda: tuple[Settings, object]) -> None:
    settings, _ = breda
    store = EmbeddedStore(settings.data_dir / "store")
    base = load_baseline(store, "GM0758")
    vegetated = (base.landcover == code("begroeid_onbepaald")) & ~np.isnan(base.layer("score"))
    density = ndimage.uniform_filter(vegetated.astype(np.float32), 10, mode="constant")
    r, c = np.unravel_index(int(np.argmax(density)), density.shape)
    g = base.grid
    x, y = g.xmin + (c - 5) * g.cell_size, g.ymax - (r - 5) * g.cell_size
    wkt = _rect(x, y - 100, x + 100, y)
    data = run_scenario(
        settings, "GM0758", "breda-bloemrijk", [{"measure": "bloemrijk_grasland", "wkt": wkt}]
    )
    result = data["result"]
    assert Path(data["file"]).exists()
    assert result["score"]["place"]["after"] > result["score"]["place"]["before"]
    assert result["score"]["area"]["after"] >= result["score"]["area"]["before"]


def test_otterlo_rule_scenario_end_to_end(otterlo: tuple[Settings, object]) -> None:
    settings, _ = otterlo
    store = EmbeddedStore(settings.data_dir / "store")
    g = load_baseline(store, "otterlo").grid
    cx, cy = g.xmin + 1000, g.ymax - 1000
    within = _rect(cx - 300, cy - 300, cx + 300, cy + 300)
    places = rule_places(settings, "otterlo", "groendak_sedum", "pand", 100.0, within)
    assert len(places) == 1, "a rule is one place"
    roofs = shapely.from_wkt(places[0]["wkt"])
    assert roofs.is_valid and roofs.area >= 200, "no two roofs of 100 m² or more"
    data = run_scenario(settings, "otterlo", "otterlo-daken", places)
    result = data["result"]
    assert result["score"]["window"]["after"] > result["score"]["window"]["before"]
    assert result["cost"]["total_eur"][0] >= 15 * 0.9 * roofs.area  # cells ≈ the roof area


def test_scenario_api(otterlo: tuple[Settings, object]) -> None:
    settings, _ = otterlo
    client = TestClient(create_app(settings))
    g = load_baseline(EmbeddedStore(settings.data_dir / "store"), "otterlo").grid
    base = load_baseline(EmbeddedStore(settings.data_dir / "store"), "otterlo")
    rows, cols = np.nonzero(base.landcover == code("akker"))
    r, c = int(rows[len(rows) // 2]), int(cols[len(cols) // 2])
    x, y = g.xmin + c, g.ymax - r
    wkt = _rect(x, y - 3, x + 3, y)
    body = {"area": "otterlo", "name": "api-rand", "places": [{"measure": "akkerrand", "wkt": wkt}]}
    answer = client.post("/api/scenarios", json=body)
    assert answer.status_code == 200, answer.text
    assert client.get("/api/scenarios", params={"area": "otterlo"}).json()["scenarios"]
    assert client.get("/api/scenarios/otterlo/api-rand").json()["result"]["score"]
    body["name"] = "api-rand-2"
    client.post("/api/scenarios", json=body)
    both = client.get(
        "/api/scenarios/compare", params={"area": "otterlo", "a": "api-rand", "b": "api-rand-2"}
    )
    assert both.status_code == 200
    bad = client.post(
        "/api/scenarios",
        json={**body, "name": "punt", "places": [{"measure": "akkerrand", "wkt": "POINT(1 2)"}]},
    )
    assert bad.status_code == 400 and "not an area" in bad.json()["message"]
    assert client.get("/api/scenarios/otterlo/nope").status_code == 404


PASSWORD = "correct horse battery staple"
OWNED = "proefgebied"
"""A synthetic study area lying in gemeente GM0228 (like otterlo)."""


@pytest.fixture
def owned_client(settings: Settings) -> tuple[TestClient, dict[str, str]]:
    """An app on a synthetic area of GM0228, with bearer tokens of two admins."""
    from biostresstest.model.accounts import AccountStore

    store = publish(settings.data_dir / "store", town(), key=OWNED, gemeente="GM0228")
    app = create_app(settings, store)
    accounts = AccountStore(settings.data_dir / "accounts.sqlite")
    accounts.add_user("ede@example.nl", "GM0228", PASSWORD)
    accounts.add_user("breda@example.nl", "GM0758", PASSWORD)
    app.state.accounts = accounts
    tokens = {
        who: accounts.login(f"{who}@example.nl", PASSWORD).token for who in ("ede", "breda")
    }
    return TestClient(app, base_url="http://testserver"), tokens


def _body(name: str, **extra: object) -> dict[str, object]:
    g = grid_of(town())
    place = {"measure": "tegels_eruit_tuin", "wkt": square(g, 20, 50, 6, 20)}
    return {"area": OWNED, "name": name, "places": [place], **extra}


def test_api_scenario_limits_names_and_try(
    owned_client: tuple[TestClient, dict[str, str]], settings: Settings
) -> None:
    client, _ = owned_client
    folder = settings.data_dir / "scenarios" / OWNED
    tried = client.post("/api/scenarios", json=_body("proef", save=False))
    assert tried.status_code == 200, tried.text
    assert tried.json()["saved"] is False and "file" not in tried.json()
    assert tried.json()["result"]["cost"]["partial"] == ["tegels_eruit_tuin"]
    assert not folder.exists() or not list(folder.glob("*.json"))
    many = _body("veel")
    many["places"] = many["places"] * 51  # type: ignore[operator]
    too_many = client.post("/api/scenarios", json=many)
    assert too_many.status_code == 413 and "at most 50 places" in too_many.json()["message"]
    ring = ", ".join(f"{150_100 + i * 0.01} 400_100" for i in range(10_001))
    jagged = {"measure": "tegels_eruit_tuin", "wkt": f"POLYGON(({ring}, 150100 400200, "
              "150100 400100))".replace("_", "")}  # fmt: skip
    corners = client.post("/api/scenarios", json={**_body("hoeken"), "places": [jagged]})
    assert corners.status_code == 413 and "10,000 corners" in corners.json()["message"]
    wordy = client.post("/api/scenarios", json=_body("lang", description="x" * 2001))
    assert wordy.status_code == 413 and "2,001 characters" in wordy.json()["message"]
    for bad in ("../etc", "a" * 65, "", "daken.v2", "dak en"):
        answer = client.post("/api/scenarios", json=_body(bad))
        assert answer.status_code == 400, bad
        assert "is not allowed" in answer.json()["message"]
    flag = client.post("/api/scenarios", json=_body("vlag", save="no"))
    assert flag.status_code == 400 and "save must be true or false" in flag.json()["message"]
    assert not folder.exists() or not list(folder.glob("*.json"))
    saved = client.post("/api/scenarios", json=_body("  Daken-Centrum "))
    assert saved.status_code == 200 and saved.json()["name"] == "daken-centrum"
    assert (folder / "daken-centrum.json").exists()


def test_api_scenario_names_are_not_overwritten_without_the_gemeente_admin(
    owned_client: tuple[TestClient, dict[str, str]], settings: Settings
) -> None:
    client, tokens = owned_client
    path = settings.data_dir / "scenarios" / OWNED / "plan.json"
    first = client.post("/api/scenarios", json=_body("plan", description="eerste"))
    assert first.status_code == 200, first.text
    again = client.post("/api/scenarios", json=_body("plan", description="tweede"))
    assert again.status_code == 409 and "already saved" in again.json()["message"]
    anonymous = client.post("/api/scenarios", json=_body("plan", replace=True))
    assert anonymous.status_code == 401
    other = client.post(
        "/api/scenarios",
        json=_body("plan", replace=True),
        headers={"Authorization": f"Bearer {tokens['breda']}"},
    )
    assert other.status_code == 403 and "not of GM0228" in other.json()["message"]
    login = {"email": "ede@example.nl", "password": PASSWORD}
    session = client.post("/api/admin/login", json=login)
    assert session.status_code == 200
    no_csrf = client.post("/api/scenarios", json=_body("plan", replace=True))  # cookie only
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["message"]
    client.cookies.clear()
    assert scenarios.load(settings.data_dir, OWNED, "plan")["description"] == "eerste"
    admin = client.post(
        "/api/scenarios",
        json=_body("plan", replace=True, description="tweede"),
        headers={"Authorization": f"Bearer {tokens['ede']}"},
    )
    assert admin.status_code == 200, admin.text
    assert scenarios.load(settings.data_dir, OWNED, "plan")["description"] == "tweede"
    assert path.exists()


def test_saving_is_atomic_and_refuses_a_taken_name(settings: Settings, tmp_path: Path) -> None:
    publish(settings.data_dir / "store", town())
    store = EmbeddedStore(settings.data_dir / "store")
    g = grid_of(town())
    places = [{"measure": "groendak_sedum", "wkt": square(g, 12, 47, 3, 1)}]
    scenario = scenarios.build("dak", KEY, places)
    scenarios.run(store, scenario)
    scenarios.save(settings.data_dir, scenario)
    with pytest.raises(Conflict, match="already saved"):
        scenarios.save(settings.data_dir, scenario)
    scenarios.save(settings.data_dir, scenario, replace=True)
    with pytest.raises(Conflict):
        run_scenario(settings, KEY, "DAK", places, store=store)


def test_saved_scenarios_summarise_for_the_report(settings: Settings) -> None:
    publish(settings.data_dir / "store", town())
    store = EmbeddedStore(settings.data_dir / "store")
    g = grid_of(town())
    run_scenario(
        settings, KEY, "daken", [{"measure": "groendak_sedum", "wkt": square(g, 12, 47, 3, 1)}],
        description="groene daken", store=store,
    )  # fmt: skip
    run_scenario(
        settings, KEY, "tuinen",
        [{"measure": "tegels_eruit_tuin", "wkt": square(g, 20, 50, 6, 20)}], store=store,
    )  # fmt: skip
    (settings.data_dir / "scenarios" / KEY / "kapot.json").write_text("{", "utf-8")
    rows = saved_scenarios(settings, KEY)
    assert [r["name"] for r in rows] == ["daken", "tuinen"]
    daken, tuinen = rows
    assert daken["measures"] == "groendak_sedum" and daken["description"] == "groene daken"
    assert daken["cost_low_eur"] == pytest.approx(15 * 300.0)  # 3 roof cells of 100 m²
    assert tuinen["cost_partial"] == "tegels_eruit_tuin"
    assert tuinen["area_gain"] > 0 and tuinen["score_after"] > tuinen["score_before"]
    assert tuinen["window_gain"] > 0


def test_opportunities_document_per_area_unit(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    from biostresstest.core.crs import RD_NEW
    from biostresstest.measures.potential import potential_score

    classes = town()
    store = publish(tmp_path / "store", classes)
    base = load_baseline(store, KEY)
    g = base.grid
    pot = potential_score(
        classes, base.layer("baf"), base.layer("natura2000_share"), base.score_before(), g
    )
    mid = g.xmin + 40 * g.cell_size  # west: fields and the wood; east: the village
    buurten = gpd.GeoDataFrame(
        {"code": ["BU01", "BU02"], "name": ["West", "Oost"]},
        geometry=[
            box(g.xmin, g.bounds[1], mid, g.ymax),
            box(mid, g.bounds[1], g.bounds[2], g.ymax),
        ],
        crs=RD_NEW,
    )
    doc = opportunities_document({"buurt": buurten}, {**pot}, g, classes)
    assert doc["about"]["level"] == "buurt" and doc["about"]["areas"] == 2
    rows = {r["code"]: r for r in doc["areas"]}
    east = pot["opportunity"][:, 40:]
    assert rows["BU02"]["mean_opportunity"] == pytest.approx(float(np.nanmean(east)), abs=1e-4)
    assert rows["BU02"]["share_with_gain"] == pytest.approx(
        float(np.mean(east[~np.isnan(east)] > 0.01)), abs=1e-4
    )
    assert doc["areas"][0]["mean_opportunity"] >= doc["areas"][1]["mean_opportunity"]
    village = rows["BU02"]["measures"]
    assert 1 <= len(village) <= 3
    assert village[0]["opportunity_ha"] >= village[-1]["opportunity_ha"]
    keys = [m["key"] for m in village]
    assert "tegels_eruit_tuin" in keys  # the paved yard of the village
    depave = village[keys.index("tegels_eruit_tuin")]
    assert depave["cost_partial"] is True
    yards = np.isin(classes[:, 40:], [code("erf"), code("verhard_overig")]).sum()
    assert depave["m2"] == pytest.approx(yards * 100.0 * 0.5)  # its cells × its share
    assert depave["cost_eur"] == [pytest.approx(2 * depave["m2"]), pytest.approx(5 * depave["m2"])]
    assert rows["BU02"]["cost_incomplete"] is True
    assert rows["BU02"]["best_measures"] == ", ".join(keys)
