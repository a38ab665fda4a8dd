"""The map's cell layers: declared once, drawn as tiles and explained in legends alike."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from biostresstest.core.errors import CorruptInput
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.web.app import create_app
from biostresstest.web.map_layers import load_map_layers, validate_map_layers


@pytest.fixture(scope="module")
def client(breda_store: EmbeddedStore) -> TestClient:
    return TestClient(create_app(store=breda_store))


def test_every_layer_has_a_legend_in_both_languages() -> None:
    layers = load_map_layers()
    assert {"score_class", "potential", "air_temperature", "koppelkans_class"} <= set(layers)
    for layer in layers.values():
        legend = layer.legend()
        assert len(legend) >= 2 and all(e.label_nl and e.label_en for e in legend)


def test_a_ramp_maps_its_fixed_domain_onto_the_palette() -> None:
    heat = load_map_layers()["air_temperature"]
    values = np.array([[np.nan, 20.0, 28.0, 30.0, 32.0, 40.0]], dtype="float32")
    indices = heat.indices(values)
    assert indices.tolist() == [[0, 1, 1, 127, 254, 254]]  # clamped beyond the domain
    palette = heat.palette()
    # the ends of the palette are the ends of the ramp, and so are the legend's ends
    assert palette[3:6] == [0xFF, 0xFF, 0xB2] and palette[254 * 3 : 255 * 3] == [0xB1, 0, 0x26]
    assert heat.legend()[0].colour == "#ffffb2" and heat.legend()[-1].colour == "#b10026"


def test_a_score_layer_is_drawn_in_the_seven_fixed_classes() -> None:
    potential = load_map_layers()["potential"]
    values = np.array([0.0, 1 / 7, 0.5, 6 / 7, 1.0, np.nan], dtype="float32")
    assert potential.indices(values).tolist() == [1, 2, 4, 7, 7, 0]


def test_bad_specs_are_refused_with_every_problem_named() -> None:
    raw = {
        "ramps": {"one": ["#ffffff"]},
        "layer": [
            {"id": "a", "kind": "ramp", "ramp": "none", "group": "climate", "title": {"nl": "A"}},
            {"id": "b", "kind": "pie", "group": "x", "title": {"nl": "B", "en": "B"}},
        ],
    }
    with pytest.raises(CorruptInput) as error:
        validate_map_layers(raw)
    message = str(error.value)
    for problem in ("ramp one", "layer a: title", "unknown ramp", "layer b: kind", "group"):
        assert problem in message


def test_layers_of_a_run_with_their_legends(client: TestClient) -> None:
    body = client.get("/api/layers", params={"area": "GM0758"}).json()
    ids = [layer["id"] for layer in body["layers"]]
    assert {"score_class", "air_temperature", "runoff_retention", "koppelkans_class"} <= set(ids)
    heat = next(layer for layer in body["layers"] if layer["id"] == "air_temperature")
    assert heat["domain"] == [28.0, 32.0] and heat["better"] == "low"
    assert len(heat["legend"]) == 7 and heat["legend"][0]["label_nl"] == "28 °C"
    assert client.get("/api/layers", params={"area": "GM0999"}).status_code == 404
    assert len(client.get("/api/layers").json()["layers"]) == len(load_map_layers())


def test_a_continuous_layer_tile_shows_the_ramp(client: TestClient) -> None:
    answer = client.get("/tiles/GM0758/cells/air_temperature/14/8408/5446.png")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(answer.content)).convert("RGBA")
    opaque = {c for _, c in image.getcolors(maxcolors=65536) if c[3] == 255}
    assert len(opaque) >= 5, "a town has a range of temperatures"
    assert client.get("/tiles/GM0758/cells/nonsense/14/8408/5446.png").status_code == 400


def test_ranked_tables_of_a_run(client: TestClient, breda_store: EmbeddedStore) -> None:
    body = client.get("/api/koppelkansen", params={"area": "GM0758"}).json()
    assert body["area"] == "GM0758" and body["level"] == "buurt"
    places = body["places"]
    assert places == breda_store.document("GM0758", "koppelkansen")["places"]
    assert [p["rank"] for p in places] == list(range(1, len(places) + 1))
    assert all(p["code"].startswith("BU0758") for p in places)
    kansen = client.get("/api/opportunities", params={"area": "GM0758"}).json()
    rows = kansen["areas"]
    assert len(rows) == 56 and all(0 <= r["share_with_gain"] <= 1 for r in rows)
    means = [r["mean_opportunity"] for r in rows]
    assert means == sorted(means, reverse=True)
    assert client.get("/api/koppelkansen", params={"area": "GM0999"}).status_code == 404
