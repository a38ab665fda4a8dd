"""The OGC API – Features client against a real pygeoapi server, and faults through MockTransport.

The server runs in a subprocess on a free loopback port and serves a GeoJSON file written here:
2,345 points on a grid near Breda, in CRS84, with an id and a value. Its ``max_items`` is 1,000 as
on PDOK, so a full read takes three pages. Faults a real server does not produce (short results,
next-link loops, 503 storms) come from an in-process ``httpx.MockTransport``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pyproj import Transformer
from shapely.geometry import Point, box

from biostresstest.core.errors import CorruptInput, CRSMismatch, SourceUnavailable
from biostresstest.core.settings import Settings
from biostresstest.sources import ogcapi
from biostresstest.sources.ogcapi import CRS84, OGCFeaturesClient, crs_uri

N_FEATURES = 2345
ROWS = 47
RD = "http://www.opengis.net/def/crs/EPSG/0/28992"
TO_RD = Transformer.from_crs("OGC:CRS84", "EPSG:28992", always_xy=True)
TO_LONLAT = Transformer.from_crs("EPSG:28992", "OGC:CRS84", always_xy=True)

CONFIG = """
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  languages: [en-US]
  limits: {{default_items: 10, max_items: 1000}}
  map: {{url: "https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png", attribution: test}}
logging: {{level: ERROR}}
metadata:
  identification:
    title: test
    description: test
    keywords: [test]
    terms_of_service: https://example.org
    url: https://example.org
  license: {{name: CC0, url: "https://creativecommons.org/publicdomain/zero/1.0/"}}
  provider: {{name: test, url: https://example.org}}
  contact: {{name: test}}
resources:
{resources}
"""
RESOURCE = """
  {name}:
    type: collection
    title: {name}
    description: grid of points
    keywords: [test]
    extents:
      spatial: {{bbox: [4.6, 51.5, 4.9, 51.7], crs: "{crs84}"}}
    providers:
      - type: feature
        name: GeoJSON
        data: {data}
        id_field: fid
        storage_crs: {crs84}
        crs: [{crs_list}]
"""

# a tiny launcher: write the OpenAPI document pygeoapi insists on, then serve with uvicorn
LAUNCHER = """
import os, sys
from pathlib import Path
from pygeoapi.openapi import generate_openapi_document
config, openapi, port = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
openapi.write_text(generate_openapi_document(config, "yaml"))
os.environ["PYGEOAPI_CONFIG"], os.environ["PYGEOAPI_OPENAPI"] = str(config), str(openapi)
import uvicorn
uvicorn.run("pygeoapi.starlette_app:APP", host="127.0.0.1", port=port, log_level="warning")
"""


def _grid() -> list[dict[str, Any]]:
    """The served features: points 0.002° apart, ``fid`` = 0 … 2344."""
    return [
        {
            "type": "Feature",
            "geometry": {
                "type": "Point",
                "coordinates": [
                    round(4.70 + (n // ROWS) * 0.002, 6),
                    round(51.55 + (n % ROWS) * 0.002, 6),
                ],
            },
            "properties": {"fid": n, "value": n % 7},
        }
        for n in range(N_FEATURES)
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def grid() -> list[dict[str, Any]]:
    return _grid()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, grid: list[dict[str, Any]]) -> Iterator[str]:
    """Base URL of a real pygeoapi serving ``pts`` (offers RD) and ``plain`` (CRS84 only)."""
    folder = tmp_path_factory.mktemp("pygeoapi")
    data = folder / "grid.geojson"
    data.write_text(json.dumps({"type": "FeatureCollection", "features": grid}))
    port = _free_port()
    resources = RESOURCE.format(name="pts", data=data, crs84=CRS84, crs_list=f"{CRS84}, {RD}")
    resources += RESOURCE.format(name="plain", data=data, crs84=CRS84, crs_list=CRS84)
    config = folder / "config.yml"
    config.write_text(CONFIG.format(port=port, resources=resources))
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, str(config), str(folder / "openapi.yml"), str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"pygeoapi exited: {(folder / 'server.log').read_text()}")
            try:
                if httpx.get(f"{base}/?f=json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"pygeoapi did not start: {(folder / 'server.log').read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _recording_client(sent: list[httpx.URL]) -> httpx.Client:
    return httpx.Client(event_hooks={"request": [lambda request: sent.append(request.url)]})


# -- against the real pygeoapi -----------------------------------------------------------------


def test_collections_lists_both(server: str) -> None:
    with OGCFeaturesClient(server) as client:
        ids = {c["id"] for c in client.collections()}
    assert {"pts", "plain"} <= ids


def test_all_features_arrive_exactly_once_over_three_pages(server: str) -> None:
    sent: list[httpx.URL] = []
    client = OGCFeaturesClient(server, client=_recording_client(sent))
    features = list(client.items("pts", limit=1000))
    assert len(features) == N_FEATURES
    assert sorted(f["properties"]["fid"] for f in features) == list(range(N_FEATURES))
    assert len(sent) == 3
    assert "offset" not in sent[0].params  # the client never builds offsets; pages 2, 3: server's
    assert sent[0].params["limit"] == "1000"
    assert sent[0].params["f"] == "json"
    assert all(url.host == "127.0.0.1" for url in sent)


def test_server_cap_below_the_requested_limit_still_pages(server: str) -> None:
    sent: list[httpx.URL] = []
    client = OGCFeaturesClient(server, client=_recording_client(sent))
    features = list(client.items("pts", limit=5000))  # server max_items is 1000
    assert len({f["id"] for f in features}) == N_FEATURES == len(features)
    assert len(sent) == 3


def test_bbox_in_crs84_filters(server: str, grid: list[dict[str, Any]]) -> None:
    bbox = (4.75, 51.58, 4.78, 51.60)
    expected = {
        f["properties"]["fid"]
        for f in grid
        if box(*bbox).intersects(Point(f["geometry"]["coordinates"]))
    }
    got = [f["properties"]["fid"] for f in OGCFeaturesClient(server).items("pts", bbox=bbox)]
    assert 0 < len(got) < N_FEATURES
    assert sorted(got) == sorted(expected)


def test_bbox_crs_in_rd_filters(server: str, grid: list[dict[str, Any]]) -> None:
    rd_bbox = (110000.0, 395000.0, 112000.0, 397500.0)
    # pygeoapi transforms the two corners of the bbox to its storage CRS (CRS84)
    x0, y0 = TO_LONLAT.transform(rd_bbox[0], rd_bbox[1])
    x1, y1 = TO_LONLAT.transform(rd_bbox[2], rd_bbox[3])
    area = box(x0, y0, x1, y1)
    expected = {
        f["properties"]["fid"] for f in grid if area.intersects(Point(f["geometry"]["coordinates"]))
    }
    client = OGCFeaturesClient(server)
    got = list(client.items("pts", bbox=rd_bbox, bbox_crs=28992))
    assert 0 < len(got) < N_FEATURES
    assert {f["properties"]["fid"] for f in got} == expected
    for feature in got:  # still CRS84 out, and inside the RD box (give or take the corner warp)
        x, y = TO_RD.transform(*feature["geometry"]["coordinates"])
        assert rd_bbox[0] - 50 <= x <= rd_bbox[2] + 50 and rd_bbox[1] - 50 <= y <= rd_bbox[3] + 50
    # a collection that does not list RD refuses bbox-crs=RD outright (400, not retried)
    with pytest.raises(SourceUnavailable, match=r"HTTP 400: bbox-crs .* not supported"):
        list(client.items("plain", bbox=rd_bbox, bbox_crs=28992))


def test_max_features_stops_early(server: str) -> None:
    sent: list[httpx.URL] = []
    client = OGCFeaturesClient(server, client=_recording_client(sent))
    assert len(list(client.items("pts", max_features=1500))) == 1500
    assert len(sent) == 2
    sent.clear()
    assert len(list(client.items("pts", max_features=10))) == 10
    assert len(sent) == 1 and sent[0].params["limit"] == "10"


def test_read_collection_in_rd_via_crs_parameter(server: str, grid: list[dict[str, Any]]) -> None:
    sent: list[httpx.URL] = []
    client = OGCFeaturesClient(server, client=_recording_client(sent))
    frame = client.read_collection("pts")
    assert frame.crs.to_epsg() == 28992
    assert len(frame) == N_FEATURES
    assert next(url.params.get("crs") for url in sent if url.path.endswith("/items")) == RD
    first = frame.set_index("fid").loc[0].geometry
    x, y = TO_RD.transform(*grid[0]["geometry"]["coordinates"])
    assert first.distance(Point(x, y)) < 0.01


def test_read_collection_reprojects_when_rd_not_offered(server: str) -> None:
    sent: list[httpx.URL] = []
    client = OGCFeaturesClient(server, client=_recording_client(sent))
    plain = client.read_collection("plain", bbox=(4.75, 51.58, 4.78, 51.60))
    assert all("crs" not in url.params for url in sent)
    assert plain.crs.to_epsg() == 28992
    served = client.read_collection("pts", bbox=(4.75, 51.58, 4.78, 51.60))
    joined = plain.set_index("fid").geometry.distance(served.set_index("fid").geometry)
    assert len(joined) == len(plain) > 0 and joined.max() < 0.01


def test_unknown_collection_is_404_without_retry(server: str) -> None:
    sent: list[httpx.URL] = []
    client = OGCFeaturesClient(server, client=_recording_client(sent), backoff=0)
    with pytest.raises(SourceUnavailable, match=r"404.*Collection not found"):
        list(client.items("nope"))
    assert len(sent) == 1


# -- faults through MockTransport --------------------------------------------------------------

BASE = "http://pdok.test/ogc/v1"


def _features(start: int, count: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "Feature",
            "id": n,
            "geometry": {"type": "Point", "coordinates": [5, 52]},
            "properties": {},
        }
        for n in range(start, start + count)
    ]


def _page(start: int, count: int, matched: int | None, next_href: str | None) -> dict[str, Any]:
    page: dict[str, Any] = {"type": "FeatureCollection", "features": _features(start, count)}
    if matched is not None:
        page["numberMatched"] = matched
    page["numberReturned"] = count
    page["links"] = (
        [{"rel": "next", "type": "application/geo+json", "href": next_href}] if next_href else []
    )
    return page


def _mock(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> OGCFeaturesClient:
    return OGCFeaturesClient(
        BASE, client=httpx.Client(transport=httpx.MockTransport(handler)), **kwargs
    )


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Waits the client asked for, without waiting."""
    waited: list[float] = []
    monkeypatch.setattr(ogcapi.time, "sleep", waited.append)
    return waited


def test_truncated_result_raises_corrupt_input() -> None:
    def handler(request: httpx.Request) -> httpx.Response:  # says 2,501, delivers 1,000 + 1,000
        cursor = request.url.params.get("cursor")
        if cursor is None:
            return httpx.Response(
                200, json=_page(0, 1000, 2501, f"{BASE}/collections/c/items?cursor=a")
            )
        return httpx.Response(200, json=_page(1000, 1000, 2501, None))

    with pytest.raises(
        CorruptInput, match=r"truncated result.*matched 2501 features but 2000 arrived"
    ):
        list(_mock(handler).items("c"))


def test_max_features_excuses_a_short_read() -> None:
    handler = lambda request: httpx.Response(200, json=_page(0, 5, 2501, f"{BASE}/x?cursor=b"))  # noqa: E731
    assert len(list(_mock(handler).items("c", max_features=5))) == 5


def test_page_that_is_not_a_feature_collection() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "cursor" in request.url.params:
            return httpx.Response(200, json={"type": "Feature", "geometry": None, "properties": {}})
        return httpx.Response(200, json=_page(0, 10, 20, "?cursor=2"))

    with pytest.raises(CorruptInput, match="not a GeoJSON FeatureCollection"):
        list(_mock(handler).items("c"))


def test_invalid_json_and_number_returned_mismatch() -> None:
    broken = _mock(lambda request: httpx.Response(200, text='{"type": "FeatureColl'))
    with pytest.raises(CorruptInput, match="no valid JSON"):
        list(broken.items("c"))
    page = _page(0, 10, 10, None) | {"numberReturned": 12}
    lying = _mock(lambda request: httpx.Response(200, json=page))
    with pytest.raises(CorruptInput, match="numberReturned=12 but holds 10"):
        list(lying.items("c"))


def test_relative_next_links_are_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        if cursor is None:
            return httpx.Response(200, json=_page(0, 3, 7, "items?cursor=p2"))
        if cursor == "p2":
            return httpx.Response(200, json=_page(3, 3, 7, "/ogc/v1/collections/c/items?cursor=p3"))
        return httpx.Response(200, json=_page(6, 1, 7, None))

    assert [f["id"] for f in _mock(handler).items("c", limit=3)] == list(range(7))


def test_next_link_loop_is_detected() -> None:
    first = f"{BASE}/collections/c/items?f=json&limit=1000"

    def handler(request: httpx.Request) -> httpx.Response:
        if "cursor" not in request.url.params:
            return httpx.Response(
                200, json=_page(0, 2, None, f"{BASE}/collections/c/items?cursor=2")
            )
        return httpx.Response(200, json=_page(2, 2, None, first))  # points back to page 1

    with pytest.raises(CorruptInput, match="loops"):
        list(_mock(handler).items("c"))


def test_server_ignoring_the_cursor_is_caught_by_repeated_ids() -> None:
    # the PDOK pitfall seen the other way round: every URL answers page 1 again
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, json=_page(0, 2, None, f"{BASE}/c?offset={2 * len(calls)}"))

    with pytest.raises(CorruptInput, match="repeats feature id 0"):
        list(_mock(handler).items("c"))
    assert len(calls) == 2


def test_two_503_then_success_gets_through(sleeps: list[float]) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) <= 2:
            return httpx.Response(503, text="Service Unavailable")
        return httpx.Response(200, json=_page(0, 4, 4, None))

    assert len(list(_mock(handler, backoff=0.5).items("c"))) == 4
    assert len(calls) == 3
    assert sleeps == [0.5, 1.0]


def test_connection_errors_are_retried(sleeps: list[float]) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        if len(calls) == 2:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, json=_page(0, 1, 1, None))

    assert len(list(_mock(handler).items("c"))) == 1 and len(sleeps) == 2


def test_always_failing_raises_source_unavailable_naming_the_url(sleeps: list[float]) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(502, json={"code": "BadGateway", "description": "upstream down"})

    with pytest.raises(SourceUnavailable) as caught:
        list(_mock(handler, retries=3).items("c"))
    message = str(caught.value)
    assert f"{BASE}/collections/c/items" in message and "limit=1000" in message
    assert "after 4 attempts" in message and "HTTP 502: upstream down" in message
    assert len(calls) == 4 and sleeps == [0.5, 1.0, 2.0]


def test_429_honours_retry_after_with_a_cap(sleeps: list[float]) -> None:
    answers = [
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(429, headers={"Retry-After": "86400"}),
        httpx.Response(200, json=_page(0, 1, 1, None)),
    ]
    assert len(list(_mock(lambda request: answers.pop(0)).items("c"))) == 1
    assert sleeps == [7.0, ogcapi.MAX_RETRY_AFTER]


def test_404_is_not_retried(sleeps: list[float]) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(404, json={"code": "NotFound", "description": "Collection not found"})

    with pytest.raises(SourceUnavailable, match=r"items\?f=json&limit=1000 answered HTTP 404"):
        list(_mock(handler).items("c"))
    assert len(calls) == 1 and sleeps == []


def test_offline_fetches_nothing(tmp_path: Path) -> None:
    handler = lambda request: pytest.fail("no request may be sent offline")  # noqa: E731
    settings = Settings(data_dir=tmp_path, offline=True, http_timeout=5)
    client = OGCFeaturesClient.from_settings(
        BASE, settings, client=httpx.Client(transport=httpx.MockTransport(handler))
    )
    assert client.timeout == 5
    with pytest.raises(SourceUnavailable, match="offline"):
        client.collections()


def test_read_collection_checks_content_crs() -> None:
    meta = {"id": "c", "crs": [CRS84, RD]}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/c"):
            return httpx.Response(200, json=meta)
        return httpx.Response(
            200,
            json=_page(0, 2, 2, None),
            headers={"Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/3857>"},
        )

    with pytest.raises(CRSMismatch, match="EPSG/0/3857"):
        _mock(handler).read_collection("c")


def test_read_collection_without_header_reprojects_lonlat() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/c"):
            return httpx.Response(200, json={"id": "c"})  # no crs list: just ask
        return httpx.Response(200, json=_page(0, 2, 2, None))  # ignores crs=, no header, lon/lat

    frame = _mock(handler).read_collection("c")
    assert frame.crs.to_epsg() == 28992 and list(frame["id"]) == [0, 1]
    x, y = TO_RD.transform(5, 52)
    assert frame.geometry.iloc[0].distance(Point(x, y)) < 0.01


def test_crs_uri_forms() -> None:
    assert crs_uri(28992) == crs_uri("EPSG:28992") == RD
    assert crs_uri("CRS84") == CRS84 == crs_uri(CRS84)


def test_a_source_fetched_through_the_ogc_api(server: str, tmp_path: Path) -> None:
    """fetch() of an ``ogcapi-features`` source pages through the real server into GeoJSON."""
    import dataclasses

    from biostresstest.core.settings import Settings
    from biostresstest.sources import natura2000
    from biostresstest.sources.base import fetch

    spec = dataclasses.replace(natura2000.SPEC, url=server, collection="pts")
    fetched = fetch(spec, Settings(data_dir=tmp_path, mirror=None, offline=False))
    body = json.loads(fetched.path.read_text("utf-8"))
    assert body["type"] == "FeatureCollection" and len(body["features"]) == N_FEATURES
    assert fetched.retrieved_from == f"{server}/collections/pts/items"
