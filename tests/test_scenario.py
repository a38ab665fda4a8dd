"""Scenarios: windowed recomputation equals a full one; deltas with known answers; refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from measures_grid import KEY, code, grid_of, layers, publish, square, town
from scipy import ndimage

from biostresstest.core.errors import InvalidInput, NotLoaded
from biostresstest.core.settings import Settings
from biostresstest.measures import scenario as scenarios
from biostresstest.measures.baseline import load_baseline
from biostresstest.measures.catalogue import load_catalogue
from biostresstest.measures.effects import recompute
from biostresstest.measures.places import PlacedMeasure, parse_geometry, to_edit
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.pipeline.common import RunContext
from biostresstest.pipeline.potential import potential_step
from biostresstest.pipeline.scenarios import rule_places, run_scenario
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
    assert float(np.nanmean(first["opportunity"][arable])) > 0.05


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
    assert places, "no roof of 100 m² or more in the village centre"
    data = run_scenario(settings, "otterlo", "otterlo-daken", places)
    result = data["result"]
    assert result["score"]["window"]["after"] > result["score"]["window"]["before"]
    assert result["cost"]["total_eur"][0] >= 15 * 100 * len(places)


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
        "/api/scenarios", json={**body, "places": [{"measure": "akkerrand", "wkt": "POINT(1 2)"}]}
    )
    assert bad.status_code == 400 and "not an area" in bad.json()["message"]
    assert client.get("/api/scenarios/otterlo/nope").status_code == 404
