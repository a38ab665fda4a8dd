"""Online search: the PDOK Locatieserver, parsed from a real local HTTP server shaped like it,
merged after the local gazetteer, and a graceful fall back to local-only when it is unreachable."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient

from biostresstest.core.errors import CorruptInput, SourceUnavailable
from biostresstest.core.settings import Settings
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.pipeline.run import RunSummary
from biostresstest.sources import locatieserver
from biostresstest.web.app import create_app

GROTE_MARKT = {
    "type": "adres",
    "weergavenaam": "Grote Markt 38, 4811XS Breda",
    "id": "adr-7f1c2d0d1ee4c1c0a4b5b1c7b7c6a3a1",
    "centroide_ll": "POINT(4.77585 51.58864)",
    "centroide_rd": "POINT(112919.2 400929.5)",
    "gemeentecode": "0758",
    "gemeentenaam": "Breda",
    "wijkcode": "WK075801",
    "buurtcode": "BU07580100",
    "score": 14.2,
}
BELCRUM_BUURT = {
    "type": "buurt",
    "weergavenaam": "Belcrum, Breda",
    "id": "buu-BU07580100",
    "centroide_ll": "POINT(4.7721 51.5983)",
    "centroide_rd": "POINT(112680.0 401980.0)",
    "gemeentecode": "0758",
    "buurtcode": "BU07580100",
}


class _Locatieserver(BaseHTTPRequestHandler):
    mode = "ok"
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        type(self).requests.append(self.path)
        if self.mode == "error":
            self.send_response(503)
            self.end_headers()
            return
        if self.mode == "garbage":
            body = b"<html>maintenance</html>"
        elif url.path.endswith("/free"):
            docs = [GROTE_MARKT, BELCRUM_BUURT, {"type": "adres", "weergavenaam": "kapot"}]
            if "belcrum" not in query.get("q", [""])[0].lower():
                docs = [GROTE_MARKT]
            body = json.dumps({"response": {"numFound": len(docs), "docs": docs}}).encode()
        elif url.path.endswith("/suggest"):
            docs = [{"id": GROTE_MARKT["id"], "type": "adres", "weergavenaam": "Grote Markt 38"}]
            body = json.dumps({"response": {"docs": docs}, "highlighting": {}}).encode()
        elif url.path.endswith("/lookup"):
            found = query.get("id", [""])[0] == GROTE_MARKT["id"]
            body = json.dumps({"response": {"docs": [GROTE_MARKT] if found else []}}).encode()
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def fake_pdok() -> Iterator[str]:
    _Locatieserver.mode = "ok"
    _Locatieserver.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Locatieserver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/bzk/locatieserver/search/v3_1"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_free_parses_places(fake_pdok: str) -> None:
    places = locatieserver.free("Grote Markt Breda", base_url=fake_pdok)
    assert len(places) == 1
    place = places[0]
    assert (place.x, place.y) == (112919.2, 400929.5)
    assert (place.lon, place.lat) == (4.77585, 51.58864)
    assert place.gemeente == "GM0758" and place.type == "adres"
    assert place.as_dict()["source"] == "pdok-locatieserver"
    sent = parse_qs(urlparse(_Locatieserver.requests[-1]).query)
    assert sent["q"] == ["Grote Markt Breda"] and "centroide_rd" in sent["fl"][0]
    assert sent["fq"][0].startswith("type:(adres OR weg")


def test_suggest_then_lookup(fake_pdok: str) -> None:
    [(identifier, kind, name)] = locatieserver.suggest("grote markt", base_url=fake_pdok)
    assert kind == "adres" and name == "Grote Markt 38"
    place = locatieserver.lookup(identifier, base_url=fake_pdok)
    assert place.name == "Grote Markt 38, 4811XS Breda"
    with pytest.raises(SourceUnavailable):
        locatieserver.lookup("adr-unknown", base_url=fake_pdok)


def test_a_broken_answer_is_an_error(fake_pdok: str) -> None:
    _Locatieserver.mode = "garbage"
    with pytest.raises(CorruptInput):
        locatieserver.free("x", base_url=fake_pdok)
    _Locatieserver.mode = "error"
    with pytest.raises(SourceUnavailable, match="503"):
        locatieserver.free("x", base_url=fake_pdok)


def test_unreachable_server_fails_fast() -> None:
    started = time.monotonic()
    with pytest.raises(SourceUnavailable):
        locatieserver.free("x", base_url=f"http://127.0.0.1:{_closed_port()}", timeout=1.0)
    assert time.monotonic() - started < 2.0


@pytest.fixture(scope="module")
def breda_online(breda: tuple[Settings, RunSummary]) -> Settings:
    settings, _ = breda
    return settings.model_copy(update={"offline": False})


def test_search_merges_online_after_local(
    breda_online: Settings, breda_store: EmbeddedStore, fake_pdok: str
) -> None:
    settings = breda_online.model_copy(update={"locatieserver_url": fake_pdok})
    client = TestClient(create_app(settings, breda_store))
    body = client.get("/api/search", params={"q": "Belcrum"}).json()
    assert body["online"] == "ok" and "PDOK" in body["source"]
    sources = [p["source"] for p in body["places"]]
    assert sources[0] == "local" and sources[-1] == "pdok-locatieserver"
    assert sources == sorted(sources, key=lambda s: s != "local")  # local ones first
    codes = [p["code"] for p in body["places"]]
    assert codes.count("BU07580100") == 1  # the buurt PDOK also knows is not repeated
    address = body["places"][-1]
    assert address["name"] == "Grote Markt 38, 4811XS Breda" and address["type"] == "adres"


@pytest.mark.parametrize("url", ["closed", "https://api.pdok.nl/bzk/locatieserver/search/v3_1"])
def test_search_falls_back_to_local(
    breda_online: Settings, breda_store: EmbeddedStore, url: str
) -> None:
    """No internet here: the real PDOK address and a closed port both leave a local answer."""
    target = f"http://127.0.0.1:{_closed_port()}/v3_1" if url == "closed" else url
    settings = breda_online.model_copy(
        update={"locatieserver_url": target, "locatieserver_timeout": 1.0}
    )
    client = TestClient(create_app(settings, breda_store))
    started = time.monotonic()
    first = client.get("/api/search", params={"q": "Belcrum"}).json()
    assert time.monotonic() - started < 3.0
    assert first["online"] == "unavailable" and first["source"] == "local gazetteer"
    assert [p["code"] for p in first["places"]] == ["BU07580100"]
    started = time.monotonic()
    again = client.get("/api/search", params={"q": "Ginneken"}).json()
    assert again["online"] == "unavailable" and again["places"]
    assert time.monotonic() - started < 0.5  # not asked again for a while


def test_offline_setting_never_asks(
    breda: tuple[Settings, RunSummary], breda_store: EmbeddedStore, fake_pdok: str
) -> None:
    settings = breda[0].model_copy(update={"locatieserver_url": fake_pdok})
    assert settings.offline
    body = TestClient(create_app(settings, breda_store)).get("/api/search?q=Belcrum").json()
    assert body["online"] == "offline" and _Locatieserver.requests == []
