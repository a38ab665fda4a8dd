"""The OGC API – Features at /ogc on the Breda and Otterlo results, in-process and through GDAL.

GDAL's OAPIF driver (Debian's ``ogrinfo``) is the independent client: it reads the landing page,
the collections and the OpenAPI document, and pages through the items by their ``next`` links.
It talks to a real uvicorn server on a free loopback port.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pyproj import Transformer
from shapely.geometry import box, shape

from biostresstest.core.settings import Settings
from biostresstest.model.areas import AreaLevel
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.pipeline.run import RunSummary
from biostresstest.web import ogc
from biostresstest.web.app import create_app

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
RD = "http://www.opengis.net/def/crs/EPSG/0/28992"
BUURT_ITEMS = "/ogc/collections/GM0758-buurt/items"
BREDA_BBOX = (4.75, 51.57, 4.78, 51.59)  # lon/lat, the centre of Breda
TO_RD = Transformer.from_crs("OGC:CRS84", "EPSG:28992", always_xy=True)


@pytest.fixture(scope="module")
def app(
    breda: tuple[Settings, RunSummary],
    otterlo: tuple[Settings, RunSummary],
    breda_store: EmbeddedStore,
) -> FastAPI:
    """The app over the store holding Breda and Otterlo, with the /ogc router."""
    settings, _ = breda
    app = create_app(settings, breda_store)
    if not any(getattr(route, "path", "") == "/ogc/collections" for route in app.routes):
        app.include_router(ogc.router)  # until create_app registers it itself
    return app


@pytest.fixture(scope="module")
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


@pytest.fixture(scope="module")
def buurt_codes(breda_store: EmbeddedStore) -> set[str]:
    return set(breda_store.areas("GM0758", AreaLevel.BUURT)["code"])


def _get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    answer = client.get(path, params=params or None)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _links(body: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {link["rel"]: link for link in body["links"]}


def _path(href: str) -> str:
    return href.removeprefix("http://testserver")


# -- landing page, API definition, conformance, collections --------------------------------------


def test_landing_page_links(client: TestClient) -> None:
    answer = client.get("/ogc")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    links = _links(answer.json())
    assert {"self", "service-desc", "conformance", "data"} <= set(links)
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert _path(links["data"]["href"]) == "/ogc/collections"
    assert _get(client, "/ogc", f="json") == answer.json()


def test_openapi_is_3_0_and_documents_the_parameters(client: TestClient) -> None:
    answer = client.get("/ogc/openapi")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    document = answer.json()
    assert document["openapi"].startswith("3.0.")
    assert document["servers"] == [{"url": "http://testserver/ogc"}]
    assert {"/", "/conformance", "/collections", "/collections/{collectionId}"} <= set(
        document["paths"]
    )
    items = document["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
    by_name = {p["name"]: p for p in items}
    names = {"collectionId", "limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "f"}
    assert set(by_name) == names
    limit = by_name["limit"]
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10}
    assert limit["style"] == "form" and limit["explode"] is False
    assert by_name["bbox"]["schema"]["minItems"] == 4 and by_name["bbox"]["schema"]["maxItems"] == 6
    assert "$ref" not in answer.text  # self-contained


def test_conformance_classes(client: TestClient) -> None:
    assert set(_get(client, "/ogc/conformance")["conformsTo"]) == {
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    }


def test_collections_one_per_level_and_layer(client: TestClient) -> None:
    body = _get(client, "/ogc/collections")
    assert _path(_links(body)["self"]["href"]) == "/ogc/collections"
    found = {c["id"]: c for c in body["collections"]}
    layers = ["bermen", "bos", "water", "erf", "hagen", "bomen"]
    expected = {"GM0758-gemeente", "GM0758-wijk", "GM0758-buurt", "otterlo-gebied"}
    assert expected | {f"otterlo-{layer}" for layer in layers} <= set(found)
    for collection in found.values():
        assert collection["itemType"] == "feature"
        assert collection["crs"][:2] == [CRS84, RD] and collection["storageCrs"] == RD
        x0, y0, x1, y1 = collection["extent"]["spatial"]["bbox"][0]
        assert 3.2 < x0 < x1 < 7.3 and 50.7 < y0 < y1 < 53.7  # lon/lat in the Netherlands
        links = _links(collection)
        assert _path(links["items"]["href"]) == f"/ogc/collections/{collection['id']}/items"
        assert links["items"]["type"] == "application/geo+json"
    buurt = found["GM0758-buurt"]
    assert buurt["title"] == "Breda – buurt"
    assert buurt["extent"]["temporal"]["interval"] == [
        ["2020-01-01T00:00:00Z", "2020-12-31T23:59:59Z"]
    ]
    assert "CBS Wijk- en buurtkaart 2020" in buurt["description"]
    licence = _links(buurt)["license"]
    assert licence["href"] == "https://creativecommons.org/licenses/by/4.0/"
    assert "CBS Wijk- en buurtkaart 2020" in licence["title"]
    bermen = found["otterlo-bermen"]
    assert "Basisregistratie Grootschalige Topografie" in bermen["description"]
    assert "https://creativecommons.org/publicdomain/zero/1.0/" in {
        link["href"] for link in bermen["links"] if link["rel"] == "license"
    }
    assert _get(client, "/ogc/collections/GM0758-buurt") == buurt


# -- items -------------------------------------------------------------------------------------


def test_first_page_of_buurten(client: TestClient, buurt_codes: set[str]) -> None:
    answer = client.get(BUURT_ITEMS)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/geo+json"
    assert answer.headers["content-crs"] == f"<{CRS84}>"
    body = answer.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == 56 and body["numberReturned"] == len(body["features"]) == 10
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["timeStamp"])
    links = _links(body)
    assert "prev" not in links and links["next"]["type"] == "application/geo+json"
    assert _path(links["collection"]["href"]) == "/ogc/collections/GM0758-buurt"
    feature = body["features"][0]
    assert feature["id"] == feature["properties"]["code"] and feature["id"] in buurt_codes
    assert {"code", "name", "level", "score", "score_class", "green_share"} <= set(
        feature["properties"]
    )
    lon, lat = feature["geometry"]["coordinates"][0][0]
    assert 4.6 < lon < 4.9 and 51.4 < lat < 51.7


@pytest.mark.parametrize("limit", [1, 7, 10, 56, 100])
def test_next_links_visit_every_buurt_once(
    client: TestClient, buurt_codes: set[str], limit: int
) -> None:
    seen: list[str] = []
    path: str | None = f"{BUURT_ITEMS}?limit={limit}"
    pages = 0
    while path is not None and pages < 100:
        body = _get(client, path)
        assert body["numberMatched"] == 56 and body["numberReturned"] <= limit
        seen += [f["id"] for f in body["features"]]
        nxt = _links(body).get("next")
        path = _path(nxt["href"]) if nxt else None
        pages += 1
    assert len(seen) == 56 and set(seen) == buurt_codes
    assert pages == -(-56 // limit)


def test_offset_paging_and_prev_links(client: TestClient, buurt_codes: set[str]) -> None:
    seen = []
    for offset in range(0, 60, 9):
        body = _get(client, BUURT_ITEMS, limit=9, offset=offset)
        seen += [f["id"] for f in body["features"]]
        links = _links(body)
        assert ("next" in links) == (offset + 9 < 56)
        assert ("prev" in links) == (offset > 0)
        if offset:
            assert "offset=" + str(offset - 9) in links["prev"]["href"]
    assert sorted(seen) == sorted(buurt_codes)
    beyond = _get(client, BUURT_ITEMS, offset=500)
    assert beyond["numberMatched"] == 56 and beyond["features"] == []


def test_limit_above_the_maximum_is_reduced(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _get(client, BUURT_ITEMS, limit=10**20)["numberReturned"] == 56  # max 10,000
    monkeypatch.setattr(ogc, "MAX_LIMIT", 20)
    body = _get(client, BUURT_ITEMS, limit=50)
    assert body["numberReturned"] == 20 and "limit=20" in _links(body)["next"]["href"]


def test_single_items(client: TestClient) -> None:
    answer = client.get(f"{BUURT_ITEMS}/BU07580001")
    assert answer.status_code == 200 and answer.headers["content-crs"] == f"<{CRS84}>"
    feature = answer.json()
    assert feature["type"] == "Feature" and feature["id"] == "BU07580001"
    assert feature["properties"]["name"] == "Valkenberg"
    assert {"self", "collection"} <= set(_links(feature))
    tree = _get(client, "/ogc/collections/otterlo-bomen/items", limit=1)["features"][0]
    again = _get(client, f"/ogc/collections/otterlo-bomen/items/{tree['id']}")
    assert again["geometry"] == tree["geometry"] and again["geometry"]["type"] == "Point"
    rd = client.get(f"{BUURT_ITEMS}/BU07580001", params={"crs": RD})
    assert rd.headers["content-crs"] == f"<{RD}>"
    x, y = rd.json()["geometry"]["coordinates"][0][0]
    assert 100_000 < x < 125_000 and 380_000 < y < 410_000


def test_bbox_in_crs84_and_in_rd(client: TestClient, breda_store: EmbeddedStore) -> None:
    buurten = breda_store.areas("GM0758", AreaLevel.BUURT)
    lonlat = buurten.to_crs("OGC:CRS84")
    expected = set(lonlat[lonlat.intersects(box(*BREDA_BBOX))]["code"])
    bbox = ",".join(map(str, BREDA_BBOX))
    body = _get(client, BUURT_ITEMS, bbox=bbox, limit=100)
    assert 0 < body["numberMatched"] < 56
    assert {f["id"] for f in body["features"]} == expected
    for feature in body["features"]:
        assert shape(feature["geometry"]).intersects(box(*BREDA_BBOX))
    x0, y0, x1, y1 = BREDA_BBOX
    six = _get(client, BUURT_ITEMS, bbox=f"{x0},{y0},0,{x1},{y1},100", limit=100)
    assert {f["id"] for f in six["features"]} == expected
    rd_box = (112_000.0, 399_000.0, 113_000.0, 400_000.0)
    in_rd = set(buurten[buurten.intersects(box(*rd_box))]["code"])
    body = _get(client, BUURT_ITEMS, bbox=",".join(map(str, rd_box)), **{"bbox-crs": RD})
    assert 0 < body["numberMatched"] == len(in_rd)
    assert {f["id"] for f in body["features"]} <= in_rd
    for outside in ("0,0,1,1", "-180,-90,-170,-80"):
        assert _get(client, BUURT_ITEMS, bbox=outside)["numberMatched"] == 0


def test_crs_28992_output(client: TestClient, breda_store: EmbeddedStore) -> None:
    answer = client.get(BUURT_ITEMS, params={"crs": RD, "limit": 56})
    assert answer.headers["content-crs"] == f"<{RD}>"
    stored = breda_store.areas("GM0758", AreaLevel.BUURT).set_index("code").geometry
    for feature in answer.json()["features"]:
        geometry = shape(feature["geometry"])
        assert geometry.symmetric_difference(stored[feature["id"]]).area < 1.0  # m², rounding
    in_rd = _get(client, f"{BUURT_ITEMS}/BU07580001", crs=RD)["geometry"]["coordinates"]
    lonlat = _get(client, f"{BUURT_ITEMS}/BU07580001", crs=CRS84)["geometry"]["coordinates"]
    x, y = TO_RD.transform(*lonlat[0][0])
    assert abs(x - in_rd[0][0][0]) < 0.05 and abs(y - in_rd[0][0][1]) < 0.05


@pytest.mark.parametrize(
    ("value", "matched"),
    [
        ("2020-06-01", 56),
        ("2020-01-01T00:00:00Z/..", 56),
        ("../2019-12-31", 0),
        ("2021-01-01/..", 0),
    ],
)
def test_datetime_matches_the_edition_year(client: TestClient, value: str, matched: int) -> None:
    assert _get(client, BUURT_ITEMS, datetime=value)["numberMatched"] == matched


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "foo=1",
        "limit=-1",
        "limit=0",
        "limit=abc",
        "limit=unlimited",
        "limit=1.5",
        "limit=1e9",
        "limit=",
        "offset=-1",
        "offset=abc",
        "offset=99999999999",
        "bbox=1,2,3",
        "bbox=1,2,3,4,5",
        "bbox=a,b,c,d",
        "bbox=",
        "bbox=4.7,51.5,nan,51.6",
        "bbox=4.7,51.5,inf,51.6",
        "bbox=4.8,51.5,4.7,51.6",
        "bbox=4.7,51.6,4.8,51.5",
        "bbox=4.7,51.5,4.8,91",
        "bbox=" + ",".join(["1"] * 500),
        "bbox=4.7,51.5,4.8,51.6" + "0" * 300 + "x",
        "bbox=1,2,3,4&bbox-crs=EPSG:3857",
        "crs=EPSG:3857",
        "crs=http://www.opengis.net/def/crs/EPSG/0/9999999",
        "f=html",
        "limit=5&limit=6",
        "datetime=2020-13-45",
        "datetime=../..",
        "datetime=2021-01-01/2020-01-01",
        "datetime=2020-01-01/2020-02-01/2020-03-01",
    ],
)
def test_invalid_or_unknown_query_parameters_are_400(client: TestClient, query: str) -> None:
    answer = client.get(f"{BUURT_ITEMS}?{query}")
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error"] == "invalid-input" and body["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/ogc?foo=1",
        "/ogc/conformance?f=xml",
        "/ogc/collections?limit=1",
        "/ogc/collections/GM0758-buurt?bbox=1,2,3,4",
        f"{BUURT_ITEMS}/BU07580001?limit=1",
        f"{BUURT_ITEMS}/BU07580001?crs=EPSG:3857",
    ],
)
def test_other_resources_refuse_unknown_parameters(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/ogc/collections/dUmmYColLection",
        "/ogc/collections/dUmmYColLection/items",
        "/ogc/collections/GM0363-buurt/items",
        "/ogc/collections/GM0758-straat/items",
        "/ogc/collections/otterlo-buurt",
        f"{BUURT_ITEMS}/BU99999999",
        f"{BUURT_ITEMS}/1'%20OR%20'1'='1",
        "/ogc/collections/otterlo-bomen/items/nope",
    ],
)
def test_unknown_collections_and_features_are_404(client: TestClient, path: str) -> None:
    started = time.monotonic()
    answer = client.get(path)
    assert answer.status_code == 404 and answer.json()["error"] == "not-loaded"
    assert time.monotonic() - started < 5


# -- a real client: GDAL's OAPIF driver against uvicorn on loopback ------------------------------


@pytest.fixture(scope="module")
def server(app: FastAPI) -> Iterator[str]:
    """URL of /ogc served by uvicorn in a thread on a free loopback port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uvicorn_server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uvicorn_server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/ogc"
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _ogrinfo(*args: str) -> str:
    executable = shutil.which("ogrinfo")
    if executable is None:
        pytest.fail(
            "ogrinfo not found: install Debian's gdal-bin (`apt-get install -y gdal-bin`, "
            "or scripts/install-system-deps.sh); this test uses GDAL as a real OGC API client"
        )
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    done = subprocess.run(
        [executable, "-ro", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "GDAL_HTTP_TIMEOUT": "30", "GDAL_HTTP_MAX_RETRY": "0"},
    )
    assert done.returncode == 0, f"ogrinfo {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


def test_gdal_lists_every_collection(server: str) -> None:
    listing = _ogrinfo("-q", f"OAPIF:{server}")
    for layer in ("GM0758-gemeente", "GM0758-wijk", "GM0758-buurt", "otterlo-gebied"):
        assert re.search(rf"^\d+: {layer}\b", listing, re.MULTILINE), listing
    assert re.search(r"^\d+: otterlo-bomen\b", listing, re.MULTILINE)


def test_gdal_summary_of_the_buurten(server: str) -> None:
    summary = _ogrinfo("-so", f"OAPIF:{server}", "GM0758-buurt")
    assert "Feature Count: 56" in summary
    assert "Geometry: Polygon" in summary
    fields = dict(re.findall(r"^(\w+): (\w+) \(", summary, re.MULTILINE))
    assert fields["code"] == fields["name"] == "String"
    assert fields["score_class"] == "Integer" and fields["score"] == "Real"
    assert {"level", "parent_code", "green_share", "natura2000_share"} <= set(fields)
    extent = re.search(r"^Extent: \((.+), (.+)\) - \((.+), (.+)\)$", summary, re.MULTILINE)
    assert extent is not None
    x0, y0, x1, y1 = map(float, extent.groups())
    assert 4.6 < x0 < x1 < 4.9 and 51.4 < y0 < y1 < 51.7


def test_gdal_reads_every_buurt_once_over_six_pages(server: str, buurt_codes: set[str]) -> None:
    dump = _ogrinfo("-al", "-q", f"OAPIF:{server}", "GM0758-buurt")
    assert dump.count("OGRFeature(GM0758-buurt):") == 56
    codes = re.findall(r"^  code \(String\) = (\S+)$", dump, re.MULTILINE)
    assert len(codes) == 56 and set(codes) == buurt_codes
    assert len(re.findall(r"^  score_class \(Integer\) = [1-7]$", dump, re.MULTILINE)) == 56


def test_gdal_spatial_filter_sends_a_bbox(server: str, client: TestClient) -> None:
    expected = _get(client, BUURT_ITEMS, bbox=",".join(map(str, BREDA_BBOX)))["numberMatched"]
    x0, y0, x1, y1 = (str(v) for v in BREDA_BBOX)
    dump = _ogrinfo("-al", "-q", "-spat", x0, y0, x1, y1, f"OAPIF:{server}", "GM0758-buurt")
    assert dump.count("OGRFeature(GM0758-buurt):") == expected > 0
