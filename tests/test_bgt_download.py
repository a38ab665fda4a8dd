"""The PDOK BGT download flow, against a stand-in server on loopback that speaks its protocol.

PDOK itself cannot be reached from the test machines; the stand-in answers as the PDOK
documentation describes (202 with a request id, a status to poll, a download link) and serves
the real Otterlo download.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse

from biostresstest.core.errors import SourceUnavailable
from biostresstest.core.settings import Settings
from biostresstest.sources import bgt
from biostresstest.sources.base import fetch

BASE = "/lv/bgt/download/v1_0/full/custom"


def _stand_in(zip_path: Path, outcome: str, seen: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI()
    polls: dict[str, int] = {}

    @app.post(BASE)
    async def request(body: Request) -> JSONResponse:
        seen.append(await body.json())
        return JSONResponse({"downloadRequestId": "req-1"}, status_code=202)

    @app.get(BASE + "/{request_id}/status")
    def status(request_id: str) -> dict[str, Any]:
        polls[request_id] = polls.get(request_id, 0) + 1
        if polls[request_id] == 1:
            return {"status": "RUNNING", "progress": 40}
        if outcome == "error":
            return {"status": "ERROR", "progress": 40}
        return {
            "status": "COMPLETED",
            "progress": 100,
            "_links": {"download": {"href": f"/downloads/{request_id}.zip"}},
        }

    @app.get("/downloads/{name}")
    def download(name: str) -> FileResponse:
        return FileResponse(zip_path)

    return app


@pytest.fixture
def server(mirror: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, list[Any]]]:
    seen: list[dict[str, Any]] = []
    app = _stand_in(mirror / bgt.SPEC.mirror_path, request.param, seen)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    instance = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}{BASE}", seen
    instance.should_exit = True
    thread.join(timeout=10)


def _fetch(url: str, tmp_path: Path) -> Path:
    spec = dataclasses.replace(bgt.SPEC, url=url)
    settings = Settings(data_dir=tmp_path, mirror=None, offline=False, http_timeout=10)
    fetched = fetch(
        spec,
        settings,
        bounds="180000,456000,182000,458000",
        featuretypes=",".join(bgt.LAND_COVER_LAYERS),
    )
    return fetched.path


@pytest.mark.parametrize("server", ["ok"], indirect=True)
def test_request_poll_download(server: tuple[str, list[Any]], tmp_path: Path) -> None:
    url, seen = server
    path = _fetch(url, tmp_path)
    assert path.read_bytes()[:2] == b"PK"
    [body] = seen
    assert body["format"] == "citygml"
    assert set(body["featuretypes"]) == set(bgt.LAND_COVER_LAYERS)
    assert body["geofilter"].startswith("POLYGON((180000.0 456000.0,")
    assert not list(tmp_path.rglob("*.part"))


@pytest.mark.parametrize("server", ["error"], indirect=True)
def test_failed_download_is_a_clear_error(server: tuple[str, list[Any]], tmp_path: Path) -> None:
    url, _ = server
    with pytest.raises(SourceUnavailable, match="ended with ERROR"):
        _fetch(url, tmp_path)


def test_unreachable_api(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable) as info:
        _fetch("http://127.0.0.1:9" + BASE, tmp_path)
    assert "127.0.0.1:9" in info.value.message and "BIOSTRESSTEST_MIRROR" in info.value.hint
