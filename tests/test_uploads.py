"""Uploads of local data: the Leeuwarden tree register end to end, and bad uploads refused.

Every bad upload must get a clear 4xx and change nothing (same live datasets, no upload kept).
"""

from __future__ import annotations

import io
import json
import socket
import socketserver
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import geopandas as gpd
import httpx
import numpy as np
import pyogrio
import pytest
import shapely
import uvicorn
from fastapi.testclient import TestClient
from shapely.geometry import Point, Polygon

from biostresstest.analysis.landcover import LandCoverLayer, merge_land_cover
from biostresstest.core.errors import InvalidInput, PayloadTooLarge, SourceUnavailable
from biostresstest.core.settings import Settings
from biostresstest.model.accounts import AccountStore
from biostresstest.model.confidence import Confidence
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.local_data import check_dataset_name, local_layers_for, local_store
from biostresstest.sources.upload import UploadLimits, prepare_upload
from biostresstest.sources.upload.csvio import neutralise_cell, write_csv
from biostresstest.sources.upload.remote import check_url, download, fetch_by_address
from biostresstest.web.app import create_app

TREES = "leeuwarden-monumentale-bomen-2015/monumentale_en_waardevolle_bomen"
LEEUWARDEN = "GM0080"
CENTRE = (182_500.0, 579_500.0)
"""A point in the city of Leeuwarden (RD New)."""
PASSWORD = "correct horse battery staple"


def tree_zip(
    mirror: Path, target: Path, parts: tuple[str, ...] = (".shp", ".shx", ".dbf", ".prj", ".cpg")
) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for suffix in parts:
            zf.write(mirror / f"{TREES}{suffix}", f"bomen{suffix}")
    return target


def admin_client(settings: Settings, limits: UploadLimits | None = None) -> TestClient:
    app = create_app(settings)
    app.state.recompute_after_import = None
    app.state.upload_limits = limits
    accounts = AccountStore(settings.data_dir / "accounts.sqlite")
    accounts.add_user("beheer@leeuwarden.example", LEEUWARDEN, PASSWORD)
    app.state.accounts = accounts
    client = TestClient(app)
    answer = client.post(
        "/api/admin/login", json={"email": "beheer@leeuwarden.example", "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
    client.cookies.clear()
    return client


def state(settings: Settings) -> dict[str, Any]:
    """What must not change when an upload is refused."""
    root = settings.data_dir / "local"
    uploads = root / ".uploads" / LEEUWARDEN
    return {
        "datasets": [r.as_dict() for r in local_store(settings).datasets(LEEUWARDEN)],
        "kept_uploads": sorted(p.name for p in uploads.iterdir()) if uploads.exists() else [],
        "staging": sorted(p.name for p in root.glob(".staging-*")),
    }


def post_file(client: TestClient, name: str, data: bytes, kind: str, **fields: str) -> Any:
    return client.post(
        f"/api/admin/{LEEUWARDEN}/uploads",
        data={"kind": kind, **fields},
        files={"file": (name, data, "application/octet-stream")},
    )


@pytest.fixture
def client(settings: Settings) -> TestClient:
    return admin_client(settings)


def test_leeuwarden_tree_register_end_to_end(
    client: TestClient, settings: Settings, mirror: Path, tmp_path: Path
) -> None:
    data = tree_zip(mirror, tmp_path / "bomen.zip").read_bytes()
    answer = post_file(client, "bomen.zip", data, "trees")
    assert answer.status_code == 201, answer.text
    preview = answer.json()
    assert preview["features"] == 2088
    assert preview["crs"] == "EPSG:28992"
    assert preview["geometry_types"] == ["Point"]
    assert preview["suggested_mapping"]["species"] == "BOOMSOORT"
    assert preview["suggested_mapping"]["planting_year"] == "PLANTJAAR"
    assert {c["name"] for c in preview["columns"]} >= {"BOOMSOORT", "STATUS", "PLANTJAAR"}

    mapping = {**preview["suggested_mapping"], "ref": "ELEMENTNR"}
    done = client.post(
        f"/api/admin/{LEEUWARDEN}/imports",
        json={"upload_id": preview["upload_id"], "mapping": mapping},
    )
    assert done.status_code == 201, done.text
    assert done.json()["dataset"]["features"] == 2088
    assert "imported_by" not in done.json()["dataset"]

    public = TestClient(client.app).get(f"/api/local/{LEEUWARDEN}").json()
    assert [(d["name"], d["kind"], d["features"]) for d in public["datasets"]] == [
        ("trees", "trees", 2088)
    ]
    stored = pyogrio.read_dataframe(local_store(settings).dataset_path(LEEUWARDEN, "trees"))
    assert stored.crs.to_epsg() == 28992
    assert "Carpinus betulus" in set(stored["species"])
    assert stored["planting_year"].between(1850, 2013).all()
    audit = client.get(f"/api/admin/{LEEUWARDEN}/audit").json()["entries"]
    assert [e["action"] for e in audit] == ["import"]
    assert audit[0]["who"] == "beheer@leeuwarden.example"
    assert audit[0]["sha256"] == public["datasets"][0]["sha256"]

    # the recompute hook: crowns on the grid, decided by municipal data
    layers = local_layers_for(settings, LEEUWARDEN)
    assert len(layers) == 1 and len(layers[0].polygons) == 2088
    grid = AnalysisGrid.covering(tuple(stored.total_bounds), 10.0)
    national = LandCoverLayer(np.full(grid.shape, 31, dtype="uint8"), Confidence.NATIONAL_RASTER)
    local = LandCoverLayer(layers[0].classes_on(grid), layers[0].confidence)
    classes, confidence = merge_land_cover([national, local])
    municipal = confidence == int(Confidence.MUNICIPAL)
    assert 500 < municipal.sum() < 2088 * 2  # an 8 m crown covers about half a 10 m cell
    assert (classes[municipal] == 40).all()  # loofbos
    assert (confidence[~municipal] == int(Confidence.NATIONAL_RASTER)).all()


def _zip_bytes(members: dict[str, bytes], symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            zf.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _shapefile_parts(mirror: Path) -> dict[str, bytes]:
    return {f"bomen{s}": (mirror / f"{TREES}{s}").read_bytes() for s in (".shp", ".shx", ".dbf")}


def _refused(
    answer: Any, status: int, code: str, settings: Settings, before: Any
) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == code and body["message"] and body["hint"]
    assert "Traceback" not in answer.text and "/tmp/" not in body["message"]
    assert state(settings) == before
    return dict(body)


def test_zip_slip_and_symlinks_are_refused(
    client: TestClient, settings: Settings, mirror: Path, tmp_path: Path
) -> None:
    before = state(settings)
    parts = _shapefile_parts(mirror)
    slip = {"../../evil.shp" if k.endswith(".shp") else k: v for k, v in parts.items()}
    body = _refused(
        post_file(client, "a.zip", _zip_bytes(slip), "trees"),
        422,
        "corrupt-input",
        settings,
        before,
    )
    assert "zip slip" in body["message"]
    assert not list(settings.data_dir.rglob("evil.shp"))
    absolute = {"/etc/cron.d/x.shp" if k.endswith(".shp") else k: v for k, v in parts.items()}
    _refused(
        post_file(client, "a.zip", _zip_bytes(absolute), "trees"),
        422,
        "corrupt-input",
        settings,
        before,
    )
    body = _refused(
        post_file(client, "a.zip", _zip_bytes(parts, symlink="bomen.prj"), "trees"),
        422,
        "corrupt-input",
        settings,
        before,
    )
    assert "symbolic link" in body["message"]


def test_zip_bomb_is_refused_before_unpacking(
    client: TestClient, settings: Settings, mirror: Path
) -> None:
    before = state(settings)
    parts = _shapefile_parts(mirror)
    parts["bomen.dbf"] = bytes(30 * 1024 * 1024)  # 30 MB of zeros: ~1000-fold compression
    data = _zip_bytes(parts)
    assert len(data) < 100_000
    body = _refused(
        post_file(client, "a.zip", data, "trees"), 413, "payload-too-large", settings, before
    )
    assert "zip bomb" in body["hint"]
    many = {f"x{i}.txt": b"x" for i in range(100)}
    _refused(
        post_file(client, "b.zip", _zip_bytes(many), "trees"),
        413,
        "payload-too-large",
        settings,
        before,
    )


def test_missing_and_wrong_crs_are_refused(
    client: TestClient, settings: Settings, mirror: Path
) -> None:
    before = state(settings)
    body = _refused(
        post_file(client, "a.zip", _zip_bytes(_shapefile_parts(mirror)), "trees"),
        422,
        "crs-mismatch",
        settings,
        before,
    )
    assert ".prj" in body["hint"]
    rd_in_geojson = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {"type": "Point", "coordinates": list(CENTRE)},
                }
            ],
        }
    )
    body = _refused(
        post_file(client, "a.geojson", rd_in_geojson.encode(), "trees"),
        422,
        "crs-mismatch",
        settings,
        before,
    )
    assert "RD New" in body["message"]
    # a wrong CRS puts the trees far from Leeuwarden: the extent check names it
    parts = _shapefile_parts(mirror)
    parts["bomen.prj"] = (
        b'PROJCS["WGS 84 / Pseudo-Mercator",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Mercator_1SP"],PARAMETER["central_meridian",0],PARAMETER["scale_factor",1],PARAMETER["false_easting",0],PARAMETER["false_northing",0],UNIT["metre",1],EXTENSION["PROJ4","+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +wktext +no_defs"]]'  # noqa: E501
    )
    body = _refused(
        post_file(client, "a.zip", _zip_bytes(parts), "trees"),
        422,
        "corrupt-input",
        settings,
        before,
    )
    assert "outside gemeente GM0080" in body["message"]


def _gpkg(frame: gpd.GeoDataFrame, path: Path) -> bytes:
    pyogrio.write_dataframe(frame, path, driver="GPKG")
    return path.read_bytes()


def test_invalid_geometries_are_reported_not_fixed(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    x, y = CENTRE
    bowtie = Polygon([(x, y), (x + 50, y + 50), (x + 50, y), (x, y + 50), (x, y)])
    square = Point(x + 200, y).buffer(20)
    frame = gpd.GeoDataFrame(
        {"beheertype": ["gazon", "bloemrijk"]}, geometry=[square, bowtie], crs="EPSG:28992"
    )
    data = _gpkg(frame, tmp_path / "beheer.gpkg")
    before = state(settings)
    body = _refused(
        post_file(client, "beheer.gpkg", data, "green_maintenance"),
        422,
        "corrupt-input",
        settings,
        before,
    )
    assert "1 feature(s) have an invalid geometry" in body["message"]
    assert "row 2: Self-intersection" in body["message"]
    repaired = post_file(client, "beheer.gpkg", data, "green_maintenance", repair="true")
    assert repaired.status_code == 201, repaired.text
    assert repaired.json()["report"] == {"features": 2, "invalid": 1, "repaired": 1}


def test_a_polygon_of_ten_million_vertices_is_refused(settings: Settings, tmp_path: Path) -> None:
    x, y = CENTRE
    angles = np.linspace(0, 2 * np.pi, 10_000_000)
    ring = np.column_stack([x + 500 * np.cos(angles), y + 500 * np.sin(angles)])
    ring[-1] = ring[0]
    path = tmp_path / "huge.gpkg"
    frame = gpd.GeoDataFrame(
        {"beheertype": ["x"]}, geometry=[shapely.polygons(ring)], crs="EPSG:28992"
    )
    pyogrio.write_dataframe(frame, path, driver="GPKG")
    del frame, ring, angles
    before = state(settings)
    with pytest.raises(PayloadTooLarge, match=r"about (9,99\d|10,00\d),\d{3} vertices"):
        prepare_upload(
            settings, LEEUWARDEN, path, "huge.gpkg", "green_maintenance", "t", move=False
        )
    assert state(settings) == before


def test_vertex_limit_over_http(settings: Settings, tmp_path: Path) -> None:
    client = admin_client(settings, UploadLimits(max_vertices_per_feature=1000))
    circle = Point(CENTRE).buffer(100, quad_segs=1000)  # ~4000 vertices
    frame = gpd.GeoDataFrame({"beheertype": ["x"]}, geometry=[circle], crs="EPSG:28992")
    before = state(settings)
    data = _gpkg(frame, tmp_path / "a.gpkg")
    body = _refused(
        post_file(client, "a.gpkg", data, "green_maintenance"),
        413,
        "payload-too-large",
        settings,
        before,
    )
    assert "vertices" in body["message"]
    as_geojson = frame.to_crs(4326).to_json().encode()
    _refused(
        post_file(client, "a.geojson", as_geojson, "green_maintenance"),
        413,
        "payload-too-large",
        settings,
        before,
    )


def test_csv_formula_injection_is_refused_and_exports_are_neutralised(
    client: TestClient, settings: Settings
) -> None:
    x, y = CENTRE
    good = f"soort;aantal;x;y;opmerking\nErinaceus europaeus;2;{x};{y};-3,5\n"
    answer = post_file(client, "w.csv", good.encode(), "species")
    assert answer.status_code == 201, answer.text
    assert answer.json()["suggested_mapping"] == {"species": "soort", "count": "aantal"}
    before = state(settings)
    for cell in (
        '=HYPERLINK("http://evil.example","x")',
        "@SUM(1+1)",
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "\t=1+1",
    ):
        bad = f'soort;aantal;x;y\n"{cell}";1;{x};{y}\n'
        body = _refused(
            post_file(client, "w.csv", bad.encode(), "species"),
            422,
            "corrupt-input",
            settings,
            before,
        )
        assert "formula" in body["message"] and "line 2" in body["message"]
    out = io.StringIO()
    write_csv(out, ["a", "=b"], [["=1+1", "-3.5", "@x", "ok"]])
    assert out.getvalue().splitlines() == ["a,'=b", "'=1+1,-3.5,'@x,ok"]
    assert neutralise_cell(-2) == -2
    csv_audit = client.get(f"/api/admin/{LEEUWARDEN}/audit?f=csv")
    assert csv_audit.status_code == 200
    assert not any(line.startswith(("=", "+", "@")) for line in csv_audit.text.splitlines())


def test_files_that_lie_about_their_type_are_refused(
    client: TestClient, settings: Settings, mirror: Path, tmp_path: Path
) -> None:
    before = state(settings)
    gpkg = _gpkg(
        gpd.GeoDataFrame({"a": [1]}, geometry=[Point(CENTRE)], crs="EPSG:28992"),
        tmp_path / "t.gpkg",
    )
    body = _refused(
        post_file(client, "bomen.geojson", gpkg, "trees"), 422, "corrupt-input", settings, before
    )
    assert "content is gpkg" in body["message"]
    vrt = (
        b'<VRTDataset rasterXSize="1" rasterYSize="1"><VRTRasterBand dataType="Byte" band="1">'
        b"<SimpleSource><SourceFilename>/etc/passwd</SourceFilename></SimpleSource>"
        b"</VRTRasterBand></VRTDataset>"
    )
    _refused(post_file(client, "heat.tif", vrt, "heat"), 422, "corrupt-input", settings, before)
    html = b"<!doctype html><html><body>x,y</body></html>"
    _refused(post_file(client, "w.csv", html, "species"), 422, "corrupt-input", settings, before)
    elf = b"\x7fELF\x02\x01\x01" + bytes(100)
    _refused(post_file(client, "w.zip", elf, "trees"), 422, "corrupt-input", settings, before)
    sqlite_not_gpkg = (mirror / f"{TREES}.shp").read_bytes()  # a .shp called .gpkg
    _refused(
        post_file(client, "t.gpkg", sqlite_not_gpkg, "trees"),
        422,
        "corrupt-input",
        settings,
        before,
    )


# --- import by address (SSRF) ---------------------------------------------------------------


class _Counting(BaseHTTPRequestHandler):
    hits: list[str]
    redirect_to: str = ""

    def do_GET(self) -> None:
        self.hits.append(self.path)
        if self.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.redirect_to)
            self.end_headers()
            return
        body = b'{"type": "FeatureCollection", "features": []}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


def _server(redirect_to: str = "") -> tuple[ThreadingHTTPServer, list[str]]:
    hits: list[str] = []
    handler = type("Handler", (_Counting,), {"hits": hits, "redirect_to": redirect_to})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, hits


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/a.geojson",
        "http://localhost:{port}/a.geojson",
        "http://[::1]:{port}/",
        "http://0x7f000001:{port}/",
        "http://2130706433:{port}/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://0.0.0.0:{port}/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:{port}/",
        "HTTP://127.0.0.1:{port}/",
    ],
)
def test_internal_addresses_are_refused_before_connecting(url: str) -> None:
    server, hits = _server()
    try:
        with pytest.raises(InvalidInput):
            check_url(url.format(port=server.server_port))
    finally:
        server.shutdown()
    assert hits == []


def test_import_by_address_refuses_loopback_over_http(
    client: TestClient, settings: Settings
) -> None:
    server, hits = _server()
    before = state(settings)
    try:
        answer = client.post(
            f"/api/admin/{LEEUWARDEN}/uploads",
            data={"kind": "trees", "url": f"http://127.0.0.1:{server.server_port}/a.geojson"},
        )
    finally:
        server.shutdown()
    body = _refused(answer, 400, "invalid-input", settings, before)
    assert "loopback" in body["message"]
    assert hits == []


def test_a_redirect_to_an_internal_address_is_refused(tmp_path: Path) -> None:
    inner, inner_hits = _server()
    outer, outer_hits = _server(redirect_to=f"http://127.0.0.1:{inner.server_port}/secret")
    allow = {f"127.0.0.1:{outer.server_port}"}  # only the first hop is allowed (a test host)
    try:
        with pytest.raises(InvalidInput, match="loopback"):
            download(
                f"http://127.0.0.1:{outer.server_port}/data.geojson",
                tmp_path / "x",
                UploadLimits(),
                allow,
            )
        # the allowed host itself is fetched fine, so the refusal above is the redirect's
        download(
            f"http://127.0.0.1:{inner.server_port}/ok",
            tmp_path / "y",
            UploadLimits(),
            {f"127.0.0.1:{inner.server_port}"},
        )
    finally:
        inner.shutdown()
        outer.shutdown()
    assert outer_hits == ["/data.geojson"]
    assert inner_hits == ["/ok"]


# --- one deadline, size caps, and the event loop stays free ---------------------------------


class _Trickle(socketserver.BaseRequestHandler):
    """A slow server: ``mode`` says what it trickles (one piece every ``pause`` seconds).

    ``body``: headers at once, then the body a byte at a time; ``headers``: the header lines a
    byte at a time; ``pages``: an OGC API collection whose every page (with a ``next`` link to
    one more) takes ``pause`` · 10 seconds; ``big-pages``: such pages of ``page_bytes`` at once.
    """

    mode = "body"
    pause = 0.1
    page_bytes = 0
    last_page = 10**9
    served: list[float]

    def handle(self) -> None:
        self.served.append(time.monotonic())
        started = time.monotonic()
        request = self.request.recv(65536).decode("latin-1")
        path = request.split(" ", 2)[1] if " " in request else "/"
        try:
            if self.mode == "headers":
                self.request.sendall(b"HTTP/1.1 200 OK\r\n")
                while time.monotonic() - started < 60:
                    self.request.sendall(b"X")
                    time.sleep(self.pause)
            elif self.mode == "body":
                self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
                while time.monotonic() - started < 60:
                    self.request.sendall(b" ")
                    time.sleep(self.pause)
            else:
                number = int(path.rsplit("/", 1)[-1]) if path[-1:].isdigit() else 0
                body = _page(number, self.page_bytes, number < self.last_page)
                self.request.sendall(
                    f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                )
                step = len(body) // 10 + 1
                for piece in (body[i : i + step] for i in range(0, len(body), step)):
                    self.request.sendall(piece)
                    if self.mode == "pages":
                        time.sleep(self.pause)
        except OSError:
            pass  # the client hung up: that is what the deadline does


def _page(number: int, size: int, more: bool) -> bytes:
    x, y = CENTRE
    feature = {
        "type": "Feature",
        "properties": {"boomnummer": number, "filler": "x" * max(0, size - 300)},
        "geometry": {"type": "Point", "coordinates": [x + number, y]},
    }
    links = [{"rel": "next", "href": f"/collections/bomen/items/{number + 1}"}] if more else []
    document = {"type": "FeatureCollection", "features": [feature], "links": links}
    return json.dumps(document).encode()


def _trickle_server(
    mode: str, pause: float = 0.1, page_bytes: int = 400, last_page: int = 10**9
) -> tuple[socketserver.ThreadingTCPServer, list[float], str]:
    served: list[float] = []
    settings = {"mode": mode, "pause": pause, "served": served, "page_bytes": page_bytes}
    handler = type("Handler", (_Trickle,), {**settings, "last_page": last_page})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, served, f"127.0.0.1:{server.server_address[1]}"


@pytest.mark.parametrize("mode", ["body", "headers"])
def test_a_trickling_server_is_cut_off_at_the_deadline(mode: str, tmp_path: Path) -> None:
    server, served, host = _trickle_server(mode)
    started = time.monotonic()
    try:
        with pytest.raises(SourceUnavailable, match="longer than 2 s"):
            download(
                f"http://{host}/a.geojson", tmp_path / "x", UploadLimits(url_timeout_s=2), {host}
            )
    finally:
        server.shutdown()
    assert abs(time.monotonic() - started - 2.0) < 1.0
    assert len(served) == 1


def test_one_deadline_runs_through_all_pages(tmp_path: Path) -> None:
    # every page takes ~0.5 s and links to one more: a deadline per page would never end
    server, served, host = _trickle_server("pages", pause=0.05)
    started = time.monotonic()
    try:
        with pytest.raises(SourceUnavailable, match="longer than 3 s"):
            fetch_by_address(
                f"http://{host}/collections/bomen/items/0",
                tmp_path / "x",
                UploadLimits(url_timeout_s=3),
                {host},
            )
    finally:
        server.shutdown()
    assert abs(time.monotonic() - started - 3.0) < 1.0
    assert 3 <= len(served) <= 8  # several pages were fetched, all within the one deadline
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"]  # no page or half-joined file


def test_pages_are_capped_each_and_together(tmp_path: Path) -> None:
    server, served, host = _trickle_server("big-pages", page_bytes=2000)
    ending, _, ending_host = _trickle_server("big-pages", page_bytes=2000, last_page=2)
    url = "http://{}/collections/bomen/items/0"
    try:
        with pytest.raises(PayloadTooLarge, match=r"first page .* larger than 1,000 bytes"):
            fetch_by_address(
                url.format(host), tmp_path / "a", UploadLimits(max_page_bytes=1000), {host}
            )
        assert len(served) == 1
        limits = UploadLimits(max_bytes=9000, max_page_bytes=4000)
        with pytest.raises(PayloadTooLarge, match=r"at most [0-9,]+ are accepted"):
            fetch_by_address(url.format(host), tmp_path / "b", limits, {host})
        assert len(served) - 1 == 5  # 9,000 bytes in all hold four pages of ~2,000 bytes
        # a collection that ends within the limits is joined page by page
        fetch_by_address(url.format(ending_host), tmp_path / "c", limits, {ending_host})
        with pytest.raises(PayloadTooLarge, match="more than 2 pages"):
            fetch_by_address(
                url.format(ending_host), tmp_path / "d", UploadLimits(max_pages=2), {ending_host}
            )
    finally:
        server.shutdown()
        ending.shutdown()
    joined = json.loads((tmp_path / "c").read_text("utf-8"))
    assert [f["properties"]["boomnummer"] for f in joined["features"]] == [0, 1, 2]


def test_a_slow_import_by_address_does_not_hold_up_other_requests(settings: Settings) -> None:
    slow, served, host = _trickle_server("body", pause=0.2)
    app = create_app(settings)
    app.state.recompute_after_import = None
    app.state.upload_limits = UploadLimits(url_timeout_s=4)
    app.state.import_allow_hosts = {host}  # the slow test server stands in for a public one
    accounts = AccountStore(settings.data_dir / "accounts.sqlite")
    accounts.add_user("beheer@leeuwarden.example", LEEUWARDEN, PASSWORD)
    app.state.accounts = accounts
    listener = socket.create_server(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    running = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    running.start()
    answers: dict[str, httpx.Response] = {}
    try:
        while not server.started:
            time.sleep(0.02)
        login = {"email": "beheer@leeuwarden.example", "password": PASSWORD}
        token = httpx.post(f"{base}/api/admin/login", json=login).json()["token"]

        def slow_import() -> None:
            answers["import"] = httpx.post(
                f"{base}/api/admin/{LEEUWARDEN}/uploads",
                data={"kind": "trees", "url": f"http://{host}/bomen.geojson"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )

        importing = threading.Thread(target=slow_import)
        importing.start()
        while not served:
            time.sleep(0.02)
        time.sleep(0.5)  # the download is under way
        waited = []
        for path in ("/api/config", f"/api/local/{LEEUWARDEN}", "/api/config"):
            started = time.monotonic()
            assert httpx.get(base + path, timeout=10).status_code == 200
            waited.append(time.monotonic() - started)
        assert importing.is_alive(), "the other requests were answered during the import"
        assert max(waited) < 1.0, waited
        importing.join(timeout=30)
    finally:
        server.should_exit = True
        running.join(timeout=10)
        slow.shutdown()
    answer = answers["import"]
    assert answer.status_code == 502 and "longer than 4 s" in answer.json()["message"]
    assert local_store(settings).audit(LEEUWARDEN)[-1]["action"] == "upload-by-address"


@pytest.mark.parametrize("name", ["bömen", "ｂomen", "Bomen"])
def test_dataset_names_are_plain_ascii(name: str, client: TestClient, settings: Settings) -> None:
    x, y = CENTRE
    csv = f"soort;aantal;x;y\nErinaceus europaeus;2;{x};{y}\n".encode()
    preview = post_file(client, "w.csv", csv, "species").json()
    before = state(settings)
    answer = client.post(
        f"/api/admin/{LEEUWARDEN}/imports",
        json={"upload_id": preview["upload_id"], "name": name},
    )
    if name == "Bomen":  # upper case is folded, not refused
        assert answer.status_code == 201, answer.text
        assert answer.json()["dataset"]["name"] == "bomen"
        return
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error"] == "invalid-input" and "not allowed" in body["message"]
    assert "a-z, 0-9, - and _" in body["hint"]
    assert state(settings) == before
    for bad in (name, "bomen\u0661", "bo men", "b/../x", "", "a" * 65):
        with pytest.raises(InvalidInput, match="not allowed"):
            check_dataset_name(bad)
    assert check_dataset_name("bomen_2024-b") == "bomen_2024-b"
    assert check_dataset_name("a" * 64) == "a" * 64
