"""Exports for GIS users: GeoPackage, GeoJSON and CSV of area units and feature layers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyogrio
import pytest
from fastapi.testclient import TestClient

from biostresstest.core.settings import Settings
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.pipeline.run import RunSummary
from biostresstest.web.app import create_app


@pytest.fixture(scope="module")
def client(
    breda: tuple[Settings, RunSummary],
    otterlo: tuple[Settings, RunSummary],
    breda_store: EmbeddedStore,
) -> TestClient:
    return TestClient(create_app(breda[0], breda_store))


def test_buurten_as_geopackage(client: TestClient, tmp_path: Path) -> None:
    answer = client.get("/api/export/GM0758/buurt.gpkg")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/geopackage+sqlite3"
    assert 'filename="biostresstest-GM0758-buurt.gpkg"' in answer.headers["content-disposition"]
    path = tmp_path / "buurt.gpkg"
    path.write_bytes(answer.content)
    frame = pyogrio.read_dataframe(path, layer="buurt")
    assert len(frame) == 56 and frame.crs.to_epsg() == 28992
    assert {"code", "name", "score", "score_class", "habitat_quality", "baf"} <= set(frame.columns)


def test_wijken_as_geojson(client: TestClient) -> None:
    answer = client.get("/api/export/gm0758/wijk.geojson")
    assert answer.status_code == 200
    body = json.loads(answer.content)
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 11
    lon, lat = body["features"][0]["geometry"]["coordinates"][0][0][:2]
    assert 4.6 < lon < 4.9 and 51.5 < lat < 51.7
    assert "score" in body["features"][0]["properties"]


def test_buurten_as_csv(client: TestClient) -> None:
    answer = client.get("/api/export/GM0758/buurt.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 56
    assert {"code", "name", "score", "x_rd", "y_rd"} <= set(rows[0])
    x, y = float(rows[0]["x_rd"]), float(rows[0]["y_rd"])
    assert 100_000 < x < 130_000 and 380_000 < y < 420_000
    assert all(not row["name"].startswith(("=", "+", "-", "@")) for row in rows)


def test_feature_layer_of_otterlo(client: TestClient, tmp_path: Path) -> None:
    answer = client.get("/api/export/otterlo/bermen.gpkg")
    assert answer.status_code == 200
    path = tmp_path / "bermen.gpkg"
    path.write_bytes(answer.content)
    assert len(pyogrio.read_dataframe(path)) > 0
    assert client.get("/api/export/otterlo/gebied.csv").status_code == 200


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/export/GM0758/buurt.shp", 400),
        ("/api/export/GM0758/buurt", 400),
        ("/api/export/GM0758/straat.gpkg", 400),
        ("/api/export/GM9999/buurt.gpkg", 404),
        ("/api/export/%2E%2E/buurt.csv", 400),
    ],
)
def test_bad_exports(client: TestClient, url: str, status: int) -> None:
    answer = client.get(url)
    assert answer.status_code == status, answer.text
    assert answer.json()["hint"]


def test_ogc_collection_links_to_exports(client: TestClient) -> None:
    body = client.get("/ogc/collections/GM0758-buurt").json()
    downloads = [link for link in body["links"] if link["rel"] == "enclosure"]
    assert {link["type"] for link in downloads} == {
        "application/geopackage+sqlite3",
        "application/geo+json",
        "text/csv; charset=utf-8",
    }
    href = next(link["href"] for link in downloads if link["href"].endswith(".csv"))
    assert client.get(href).status_code == 200
