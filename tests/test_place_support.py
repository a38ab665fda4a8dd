"""Street names from the BGT labels, and scenario places drawn in lon/lat on the web map."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer

from biostresstest.core.errors import CorruptInput
from biostresstest.core.settings import Settings
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.pipeline.run import RunSummary
from biostresstest.sources import bgt
from biostresstest.sources.base import FetchedFile, fetch
from biostresstest.sources.bgt_labels import read_street_names
from biostresstest.web.app import create_app

SQUARE = (180000, 456000, 182000, 458000)
_LABEL = """<cityObjectMember><imgeo:OpenbareRuimteLabel gml:id="a{i}">
  {end}<imgeo:identificatie><imgeo:NEN3610ID><imgeo:lokaalID>G0228.{i}</imgeo:lokaalID>
  </imgeo:NEN3610ID></imgeo:identificatie>
  <imgeo:openbareRuimteNaam><imgeo:Label><imgeo:tekst>{name}</imgeo:tekst>
  <imgeo:positie><imgeo:Labelpositie><imgeo:plaatsingspunt><gml:Point>
  <gml:pos>{x} {y}</gml:pos></gml:Point></imgeo:plaatsingspunt></imgeo:Labelpositie>
  </imgeo:positie></imgeo:Label></imgeo:openbareRuimteNaam>
  <imgeo:openbareRuimteType>Weg</imgeo:openbareRuimteType>
</imgeo:OpenbareRuimteLabel></cityObjectMember>"""
_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>{doctype}<CityModel '
    'xmlns:gml="http://www.opengis.net/gml" xmlns:imgeo="http://www.geostandaarden.nl/imgeo/2.1" '
    'xmlns="http://www.opengis.net/citygml/2.0">'
)


def _zip(tmp_path: Path, body: str, doctype: str = "") -> FetchedFile:
    path = tmp_path / "bgt.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "bgt_openbareruimtelabel.gml", _HEAD.format(doctype=doctype) + body + "</CityModel>"
        )
    return FetchedFile(bgt.SPEC, path, "", "", "")


def test_street_names_of_otterlo(mirror: Path, tmp_path: Path) -> None:
    names = read_street_names(fetch(bgt.SPEC, Settings(data_dir=tmp_path, mirror=mirror)))
    assert {"Dorpsstraat", "Onderlangs", "Sportlaan", "Van Broekhuyzenstraat"} <= set(names["naam"])
    assert set(names["ruimte_type"]) >= {"Weg"}
    assert str(names.crs).endswith("28992")
    inside = names[names.within(shapely.box(*SQUARE))]
    assert inside["naam"].nunique() > 30  # the village's streets lie in the square
    assert (names.geometry.geom_type == "Point").all()


def test_historic_labels_are_skipped_and_each_placement_is_a_point(tmp_path: Path) -> None:
    body = "".join(
        [
            _LABEL.format(i=1, end="", name="Dorpsstraat", x=181500.5, y=457100.25),
            _LABEL.format(i=2, end="", name="Dorpsstraat", x=181600.0, y=457150.0),
            _LABEL.format(
                i=3,
                end="<imgeo:eindRegistratie>2019-01-01</imgeo:eindRegistratie>",
                name="Oude Naam",
                x=181000,
                y=457000,
            ),
            _LABEL.format(i=4, end="", name="  Lange   Heideweg ", x=180500, y=456500),
        ]
    )
    names = read_street_names(_zip(tmp_path, body))
    assert list(names["naam"]) == ["Dorpsstraat", "Dorpsstraat", "Lange Heideweg"]
    assert (names.geometry.x.iloc[0], names.geometry.y.iloc[0]) == (181500.5, 457100.25)
    assert list(names["lokaal_id"]) == ["G0228.1", "G0228.2", "G0228.4"]


def test_labels_with_a_doctype_or_a_bad_position_are_refused(tmp_path: Path) -> None:
    label = _LABEL.format(i=1, end="", name="Dorpsstraat", x=1, y=2)
    with pytest.raises(CorruptInput, match="DOCTYPE"):
        read_street_names(_zip(tmp_path, label, '<!DOCTYPE CityModel [<!ENTITY a "b">]>'))
    bad = _LABEL.format(i=1, end="", name="Dorpsstraat", x="noord", y="")
    with pytest.raises(CorruptInput, match="unreadable position"):
        read_street_names(_zip(tmp_path, bad))


def test_a_download_without_labels_gives_no_names(tmp_path: Path) -> None:
    path = tmp_path / "bgt.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("bgt_pand.gml", _HEAD.format(doctype="") + "</CityModel>")
    names = read_street_names(FetchedFile(bgt.SPEC, path, "", "", ""))
    assert names.empty and "naam" in names.columns


def test_otterlo_publishes_its_street_names(otterlo: tuple[Settings, RunSummary]) -> None:
    settings, _ = otterlo
    store = EmbeddedStore(settings.data_dir / "store")
    streets = store.features("otterlo", "straatnamen")
    assert "Dorpsstraat" in set(streets["naam"])
    assert streets.within(shapely.box(*SQUARE)).all()


def test_a_scenario_drawn_in_lon_lat_equals_the_same_place_in_rd(
    otterlo: tuple[Settings, RunSummary],
) -> None:
    settings, _ = otterlo
    client = TestClient(create_app(settings, EmbeddedStore(settings.data_dir / "store")))
    # in the village, every cell scored; edges off the 1 m cell lines (a millimetre of
    # transformation error must not touch another row of cells)
    rd = shapely.box(181400.5, 457150.5, 181479.5, 457219.5)
    to_wgs84 = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
    ring = [list(to_wgs84.transform(x, y)) for x, y in rd.exterior.coords]
    common = {"area": "otterlo", "name": "proef", "save": False}
    measure = "ontharden_openbaar"
    by_lonlat = client.post(
        "/api/scenarios",
        json={
            **common,
            "crs": "EPSG:4326",
            "places": [{"measure": measure, "geojson": {"type": "Polygon", "coordinates": [ring]}}],
        },
    )
    by_rd = client.post(
        "/api/scenarios", json={**common, "places": [{"measure": measure, "wkt": rd.wkt}]}
    )
    assert by_rd.status_code == 200, by_rd.json()
    assert by_lonlat.status_code == 200, by_lonlat.json()
    back = shapely.from_wkt(by_lonlat.json()["places"][0]["wkt"])
    assert back.symmetric_difference(rd).area < 0.5  # 300 m of edge, a millimetre apart at most
    a, b = by_lonlat.json()["result"], by_rd.json()["result"]
    for part in ("place", "window", "area"):
        for when in ("before", "after"):
            assert a["score"][part][when] == pytest.approx(b["score"][part][when], abs=1e-4)
    assert a["cost"]["total_eur"] == pytest.approx(b["cost"]["total_eur"], rel=1e-4)
    assert a["water"]["place_m2"] == pytest.approx(b["water"]["place_m2"], abs=1.0)
    wrong = client.post(
        "/api/scenarios",
        json={**common, "crs": "EPSG:4326", "places": [{"measure": measure, "wkt": rd.wkt}]},
    )
    assert wrong.status_code == 400 and "longitude" in wrong.json()["message"]
    unknown = client.post("/api/scenarios", json={**common, "crs": "EPSG:3857", "places": []})
    assert unknown.status_code == 400 and "crs" in unknown.json()["message"]
