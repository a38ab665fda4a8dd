"""The JSON/GeoJSON API and the tiles, on the Breda results."""

from __future__ import annotations

import gzip
import io
import math

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from biostresstest.core.settings import Settings
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.pipeline.run import RunSummary
from biostresstest.web.app import create_app


@pytest.fixture(scope="module")
def client(breda: tuple[Settings, RunSummary], breda_store: EmbeddedStore) -> TestClient:
    settings, _ = breda
    return TestClient(create_app(settings, breda_store))


def test_buurten_as_feature_collection(client: TestClient) -> None:
    answer = client.get("/api/areas", params={"gemeente": "GM0758", "level": "buurt"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/geo+json")
    body = answer.json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 56
    props = body["features"][0]["properties"]
    assert {"code", "name", "level", "green_share", "score", "score_class"} <= set(props)
    assert props["level"] == "buurt" and 1 <= props["score_class"] <= 7
    lon, lat = body["features"][0]["geometry"]["coordinates"][0][0][:2]
    assert 4.6 < lon < 4.9 and 51.5 < lat < 51.7  # RFC 7946: WGS84 lon/lat


@pytest.mark.parametrize(("level", "count"), [("gemeente", 1), ("wijk", 11), ("BUURT", 56)])
def test_every_level(client: TestClient, level: str, count: int) -> None:
    answer = client.get("/api/areas", params={"gemeente": "gm0758", "level": level})
    assert answer.status_code == 200 and len(answer.json()["features"]) == count


@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        ({"gemeente": "Breda"}, 400, "invalid-input"),
        ({"gemeente": "GM0758", "level": "straat"}, 400, "invalid-input"),
        ({"gemeente": "GM0363"}, 404, "not-loaded"),
        ({}, 400, "invalid-input"),
    ],
)
def test_area_errors_are_clear(
    client: TestClient, params: dict[str, str], status: int, error: str
) -> None:
    answer = client.get("/api/areas", params=params)
    assert answer.status_code == status
    body = answer.json()
    assert body["error"] == error and body["message"]


def test_loaded_gemeenten_with_sources_and_licences(client: TestClient) -> None:
    loaded = {a["code"]: a for a in client.get("/api/gemeenten").json()}
    breda = loaded["GM0758"]
    assert breda["code"] == "GM0758" and breda["name"] == "Breda"
    licences = {i["source_id"]: i["licence"] for i in breda["inputs"]}
    assert licences["cbs-wijkenbuurten-2020"] == "CC BY 4.0"
    assert len(client.get("/api/sources").json()) == 5


def test_legend_has_seven_classes(client: TestClient) -> None:
    classes = client.get("/api/legend").json()["classes"]
    assert [c["value"] for c in classes] == list(range(1, 8))


def test_cell_values_at_a_point(client: TestClient) -> None:
    body = client.get("/api/cell", params={"x": 112000, "y": 399000}).json()
    assert body["gemeente"] == "GM0758" and body["buurt"]["code"].startswith("BU0758")
    assert set(body["cell"]) >= {"green_share", "score", "score_class"}
    lonlat = client.get("/api/cell", params={"x": 4.776, "y": 51.585, "crs": "EPSG:4326"})
    assert lonlat.status_code == 200


def test_cell_outside_loaded_gemeenten(client: TestClient) -> None:
    answer = client.get("/api/cell", params={"x": 155000, "y": 463000})
    assert answer.status_code == 404 and answer.json()["error"] == "not-loaded"
    assert client.get("/api/cell", params={"x": 1, "y": 2, "crs": "EPSG:3035"}).status_code == 400


def test_vector_tile_holds_the_buurten(client: TestClient) -> None:
    answer = client.get("/tiles/GM0758/buurt/12/2102/1361.mvt")
    assert answer.status_code == 200
    data = answer.content
    if data[:2] == b"\x1f\x8b":  # a client that did not undo the Content-Encoding
        data = gzip.decompress(data)
    tile = mapbox_vector_tile.decode(data)
    features = tile["buurt"]["features"]
    assert features and all(1 <= f["properties"]["score_class"] <= 7 for f in features)


def test_empty_and_invalid_tiles(client: TestClient) -> None:
    assert client.get("/tiles/GM0758/buurt/12/0/0.mvt").status_code == 204
    assert client.get("/tiles/GM0758/buurt/3/8/0.mvt").status_code == 400
    assert client.get("/tiles/GM0758/straat/12/2102/1361.mvt").status_code == 400
    assert client.get("/tiles/GM0758/buurt/-1/0/0.mvt").status_code == 400


def test_raster_tile_of_cells_is_a_coloured_png(client: TestClient) -> None:
    answer = client.get("/tiles/GM0758/cells/score_class/14/8408/5446.png")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(answer.content)).convert("RGBA")
    assert image.size == (256, 256)
    colours = {c for _, c in image.getcolors(maxcolors=65536)}
    # Breda's coarse land cover gives classes 1, 3 and 4 (docs/method.md); here at least two
    assert len({c for c in colours if c[3] == 255}) >= 2
    assert client.get("/tiles/GM0758/cells/score_class/14/0/0.png").status_code == 204
    assert client.get("/tiles/GM0758/cells/secret/14/8408/5446.png").status_code == 400


def test_raster_tile_matches_sampling_at_pixel_centres(
    client: TestClient, breda_store: EmbeddedStore
) -> None:
    """Every tile pixel shows the class of the cell under its centre (an independent check)."""
    import numpy as np
    import rasterio
    from pyproj import Transformer

    z, x, y = 15, 16817, 10893
    answer = client.get(f"/tiles/GM0758/cells/score_class/{z}/{x}/{y}.png")
    values = np.array(Image.open(io.BytesIO(answer.content)))  # palette indices = classes
    size = 2 * 20037508.342789244 / 2**z
    left, top = -20037508.342789244 + x * size, 20037508.342789244 - y * size
    centres = (np.arange(256) + 0.5) * size / 256
    mx, my = np.meshgrid(left + centres, top - centres)
    rx, ry = Transformer.from_crs(3857, 28992, always_xy=True).transform(mx, my)
    with rasterio.open(breda_store.raster_path("GM0758", "score_class")) as src:
        classes = src.read(1)
        rows, cols = rasterio.transform.rowcol(src.transform, rx.ravel(), ry.ravel())
    expected = classes[np.array(rows), np.array(cols)].reshape(256, 256)
    assert (values == expected).mean() > 0.995


@pytest.mark.parametrize(
    ("query", "first_code"),
    [
        ("breda", "GM0758"),
        ("chasse", "BU07580002"),
        ("BU07580006", "BU07580006"),
        ("CENTRUM", "WK075800"),
    ],
)
def test_search_the_loaded_places(client: TestClient, query: str, first_code: str) -> None:
    body = client.get("/api/search", params={"q": query}).json()
    first = body["places"][0]
    assert first["code"] == first_code
    assert 100000 < first["x"] < 120000 and 4.6 < first["lon"] < 4.9
    assert first["gemeente"] == "GM0758"


def test_search_without_a_match_or_query(client: TestClient) -> None:
    assert client.get("/api/search", params={"q": "Atlantis"}).json()["places"] == []
    assert client.get("/api/search", params={"q": ""}).status_code == 400
    assert client.get("/api/search", params={"q": "x" * 101}).status_code == 400


def test_explain_a_cell(client: TestClient) -> None:
    body = client.get("/api/explain", params={"x": 112000, "y": 399000}).json()
    assert body["gemeente"] == "GM0758" and body["area"]["level"] == "buurt"
    score = body["score"]
    assert score["formula"] == "habitat_quality^0.5 · baf^0.25 · connectivity^0.25"
    parts = {c["id"]: c for c in body["components"]}
    assert set(parts) == {"habitat_quality", "baf", "connectivity"}
    assert [parts[k]["weight"] for k in ("habitat_quality", "baf", "connectivity")] == [
        0.5,
        0.25,
        0.25,
    ]
    product = math.prod(c["factor"] for c in body["components"])
    assert product == pytest.approx(score["value"], abs=1e-4)
    assert 1 <= score["class"] <= 7 and score["label_nl"]
    assert {c["id"] for c in body["context"]} == {
        "green_share",
        "natura2000_share",
        "vulnerability",
        "ugf",
    }
    assert body["landcover"]["parameters"]["habitat"]["source"]
    assert body["landcover"]["confidence"]["level"] == 2
    assert {s["source_id"] for s in body["sources"]} >= {"rivm-groenkaart", "natura2000"}


def test_explain_outside_and_bad_input(client: TestClient) -> None:
    assert client.get("/api/explain", params={"x": 155000, "y": 463000}).status_code == 404
    assert client.get("/api/explain", params={"x": "abc", "y": 1}).status_code == 400


@pytest.mark.parametrize("code", ["BU07580006", "WK075800", "GM0758"])
def test_explain_an_area(client: TestClient, code: str) -> None:
    body = client.get("/api/explain", params={"area": code}).json()
    assert body["area"]["code"] == code and body["gemeente"] == "GM0758"
    # the area score is the area-weighted mean of the cell scores: the area means of the
    # components do not multiply to it, so no factor is given; by Jensen's inequality the mean
    # of the cells' geometric means never exceeds the geometric mean of the component means
    parts = body["components"]
    assert all(c["factor"] is None and c["weight"] for c in parts)
    product = math.prod(max(c["value"], 0.0) ** c["weight"] for c in parts)
    assert 0 <= body["score"]["value"] <= product + 1e-6
    assert set(body["robustness"]) >= {"ems_ha", "coherence_pct", "iic"}
    assert sum(c["share"] for c in body["landcover"]) == pytest.approx(1.0, abs=1e-3)
    assert body["sources"]


def test_explain_needs_a_point_or_an_area(client: TestClient) -> None:
    assert client.get("/api/explain").status_code == 400
    both = client.get("/api/explain", params={"x": 1, "y": 2, "area": "GM0758"})
    assert both.status_code == 400
    assert client.get("/api/explain", params={"area": "BU07589999"}).status_code == 404
