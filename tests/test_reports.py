"""PDF reports from the stored Breda results: figures, maps, languages, CLI, HTTP, and safety."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from click.testing import CliRunner
from fastapi.testclient import TestClient
from PIL import Image
from pypdf import PdfReader
from scipy import ndimage
from shapely.geometry import box

from biostresstest.cli import main
from biostresstest.core.errors import NotLoaded, UnknownArea
from biostresstest.core.settings import Settings, get_settings
from biostresstest.measures.baseline import load_baseline
from biostresstest.measures.catalogue import load_catalogue
from biostresstest.model.areas import AreaLevel
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes
from biostresstest.model.store import RasterLayer, RunResult
from biostresstest.pipeline.common import LEGEND
from biostresstest.pipeline.scenarios import run_scenario, saved_scenarios
from biostresstest.reports.context import area_context
from biostresstest.reports.fmt import number, percent
from biostresstest.reports.pdf import SCHEME
from biostresstest.reports.render import RenderedPdf, address_report, area_report
from biostresstest.reports.spec import load_spec
from biostresstest.web.app import create_app

GM = "GM0758"


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return re.sub(r"\s+", " ", done.stdout.decode("utf-8"))


SECTION_TITLES = (
    "Koppelkansen: waar biodiversiteit en klimaat samenkomen",
    "Kansen en maatregelen",
    "Scenario's vergeleken",
    "Bronnen, licenties en betrouwbaarheid",
)


def section_text(text: str, title: str) -> str:
    """The PDF text from the heading ``title`` to the next section heading."""
    start = text.index(title) + len(title)
    ends = [text.find(t, start) for t in SECTION_TITLES]
    return text[start : min([e for e in ends if e >= 0], default=len(text))]


def section_ids(context: dict[str, object]) -> list[str]:
    return [s["id"] for s in context["sections"]]  # type: ignore[attr-defined]


def pages(pdf: bytes) -> int:
    return len(PdfReader(__import__("io").BytesIO(pdf)).pages)


def nl(value: float) -> str:
    return number(value, 2, "nl")


def assert_only_own_assets(rendered: RenderedPdf) -> None:
    assert rendered.fetcher.requested, "the report links its maps and charts"
    assert rendered.fetcher.outside == []
    assert all(u.startswith(SCHEME) for u in rendered.fetcher.requested)


@pytest.fixture(scope="module")
def breda_report(breda_store: EmbeddedStore) -> RenderedPdf:
    return area_report(breda_store, GM)


def test_gemeente_report_shows_the_stored_figures(
    breda_store: EmbeddedStore, breda_report: RenderedPdf, tmp_path: Path, artifacts: Path
) -> None:
    (artifacts / "report-breda.pdf").write_bytes(breda_report.pdf)
    text = pdf_text(breda_report.pdf, tmp_path)
    gemeente = breda_store.areas(GM, AreaLevel.GEMEENTE).iloc[0]
    buurten = breda_store.areas(GM, AreaLevel.BUURT).sort_values("score", ascending=False)
    label = next(c.label_nl for c in LEGEND if c.value == int(gemeente["score_class"]))
    assert "Biodiversiteitstresstest gemeente Breda" in text
    assert f"Breda scoort gemiddeld {nl(gemeente['score'])}" in text
    assert f"klasse {int(gemeente['score_class'])}: {label}" in text
    assert f"Aantal buurten {len(buurten)}" in text
    best, worst = buurten.iloc[0], buurten.iloc[-1]
    assert f"de sterkste buurt is {best['name']} ({nl(best['score'])}" in text
    assert f"De zwakste buurt is {worst['name']} ({nl(worst['score'])}" in text
    assert f"Aandeel groen {percent(gemeente['green_share'], 'nl')}" in text
    # sources from the manifest: publisher, licence, checksum
    for source in breda_store.manifest(GM)["inputs"]:
        assert source["sha256"][:16] in text.replace(" ", "")
        assert source["licence"].split(" ")[0] in text
    for heading in (
        "Bijsluiter",
        "Een stresstest is geen norm",
        "risicodialoog",
        "Buurten op volgorde",
    ):
        assert heading in text
    # koppelkansen: the ranked places of the stored document, with their figures
    kansen = section_text(text, SECTION_TITLES[0])
    places = breda_store.document(GM, "koppelkansen")["places"]
    assert "Belcrum" in kansen
    positions = [kansen.index(f"{p['name']} {p['code']}") for p in places]
    assert positions == sorted(positions), "in the order of the document"
    first = places[0]
    assert f"{first['name']} {first['code']} {nl(first['koppelkans'])}" in kansen
    assert f"{percent(first['share_heat'], 'nl')} {percent(first['share_water'], 'nl')}" in kansen
    assert nl(first["priority"]) in kansen
    heat = breda_store.document(GM, "koppelkansen")["heat_layer"]
    assert f"hittemaat: {load_spec().column(heat).label['nl']}" in kansen
    assert_only_own_assets(breda_report)


def test_first_page_map_is_not_blank(breda_report: RenderedPdf, tmp_path: Path) -> None:
    path = tmp_path / "r.pdf"
    path.write_bytes(breda_report.pdf)
    subprocess.run(
        ["pdftoppm", "-r", "100", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")],
        check=True,
    )
    image = np.asarray(Image.open(next(tmp_path.glob("p*.png"))).convert("RGB")).astype(int)
    found = {}
    for cls in LEGEND:
        rgb = np.array([int(cls.colour[i : i + 2], 16) for i in (1, 3, 5)])
        found[cls.value] = int((np.abs(image - rgb).sum(axis=2) < 30).sum())
    coloured = sum(found.values())
    assert coloured > 0.04 * image.shape[0] * image.shape[1], found
    assert sum(1 for n in found.values() if n > 400) >= 4, found


def test_wijk_and_buurt_reports(breda_store: EmbeddedStore, tmp_path: Path) -> None:
    buurten = breda_store.areas(GM, AreaLevel.BUURT)
    wijk = breda_store.areas(GM, AreaLevel.WIJK).iloc[0]
    rendered = area_report(breda_store, wijk["code"])
    text = pdf_text(rendered.pdf, tmp_path)
    in_wijk = buurten[buurten["parent_code"] == wijk["code"]]
    assert f"Biodiversiteitstresstest wijk {wijk['name']}" in text
    assert f"Aantal buurten {len(in_wijk)}" in text
    assert f"gemiddeld {nl(wijk['score'])}" in text
    assert_only_own_assets(rendered)
    # koppelkansen of a wijk: only the top places that are buurten of the wijk
    places = breda_store.document(GM, "koppelkansen")["places"]
    kansen = section_text(text, SECTION_TITLES[0])
    for place in places:
        inside = place["code"] in set(in_wijk["code"])
        assert (f"{place['name']} {place['code']}" in kansen) == inside, place["name"]

    ranked = buurten.sort_values(["score", "name"], ascending=[False, True]).reset_index()
    buurt = ranked.iloc[10]
    text = pdf_text(area_report(breda_store, buurt["code"]).pdf, tmp_path)
    assert f"Biodiversiteitstresstest buurt {buurt['name']}" in text
    assert f"staat op plaats 11 van de {len(buurten)} buurten van Breda" in text
    # koppelkansen of a buurt: its own row, or that it is not among the top places
    kansen = section_text(text, SECTION_TITLES[0])
    own = [p for p in places if p["code"] == buurt["code"]]
    others = [p for p in places if p["code"] != buurt["code"]]
    assert not any(f"{p['name']} {p['code']}" in kansen for p in others)
    if own:
        assert f"{buurt['name']} {buurt['code']}" in kansen
        assert nl(own[0]["koppelkans"]) in kansen
    else:
        assert f"{buurt['name']} staat niet bij de {len(places)} buurten van Breda" in kansen


def test_address_one_pager(breda_store: EmbeddedStore, tmp_path: Path) -> None:
    buurten = breda_store.areas(GM, AreaLevel.BUURT)
    buurt = buurten.iloc[5]
    point = buurt.geometry.representative_point()
    with rasterio.open(breda_store.raster_path(GM, "score")) as src:
        cell_score = float(next(src.sample([(point.x, point.y)]))[0])
    rendered = address_report(breda_store, point.x, point.y)
    assert pages(rendered.pdf) == 1
    text = pdf_text(rendered.pdf, tmp_path)
    assert "Hoe groen is het hier?" in text
    assert f"In uw buurt {buurt['name']}" in text
    assert f"Stresstestscore (0–1) {nl(cell_score)}" in text
    assert f"Score {nl(buurt['score'])}" in text
    assert_only_own_assets(rendered)
    english = pdf_text(address_report(breda_store, point.x, point.y, "en").pdf, tmp_path)
    assert "How green is it here?" in english and f"In your buurt {buurt['name']}" in english


def test_unknown_area_and_point_are_clear_errors(breda_store: EmbeddedStore) -> None:
    with pytest.raises(UnknownArea, match="BU07589999"):
        area_report(breda_store, "BU07589999")
    with pytest.raises(NotLoaded):
        area_report(breda_store, "GM0363")
    with pytest.raises(NotLoaded):
        address_report(breda_store, 0.0, 0.0)


@pytest.fixture
def breda_env(breda: tuple[Settings, object], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    settings, _ = breda
    monkeypatch.setenv("BIOSTRESSTEST_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_cli_writes_a_buurt_report_and_refuses_unknown_areas(
    breda_store: EmbeddedStore, breda_env: None, tmp_path: Path
) -> None:
    buurt = breda_store.areas(GM, AreaLevel.BUURT).iloc[0]
    out = tmp_path / "buurt.pdf"
    done = CliRunner().invoke(main, ["report", "--area", buurt["code"], "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert f"buurt {buurt['name']}" in pdf_text(out.read_bytes(), tmp_path)
    bad = CliRunner().invoke(main, ["report", "--area", "BU07589999", "--out", str(out)])
    assert bad.exit_code == UnknownArea.exit_code
    assert "BU07589999" in bad.output
    both = CliRunner().invoke(main, ["report", "--area", GM, "--x", "1", "--out", str(out)])
    assert both.exit_code == 2


def test_http_report_in_english_and_for_a_point(
    breda_store: EmbeddedStore, breda: tuple[Settings, object], tmp_path: Path
) -> None:
    settings, _ = breda
    client = TestClient(create_app(settings, store=breda_store))
    answer = client.get("/api/report", params={"area": GM, "lang": "en"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    text = pdf_text(answer.content, tmp_path)
    gemeente = breda_store.areas(GM, AreaLevel.GEMEENTE).iloc[0]
    assert "Summary for decision makers" in text and "Package leaflet" in text
    assert f"Breda scores {number(gemeente['score'], 2, 'en')} on average" in text
    point = breda_store.areas(GM, AreaLevel.BUURT).iloc[3].geometry.representative_point()
    answer = client.get("/api/report", params={"x": point.x, "y": point.y})
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    assert client.get("/api/report", params={"area": "BU07589999"}).status_code == 404
    assert client.get("/api/report", params={"area": GM, "lang": "xx"}).status_code == 400
    assert client.get("/api/report").status_code == 400


def test_http_reports_are_cached_per_run_and_limited_in_number(
    breda_store: EmbeddedStore, breda: tuple[Settings, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    from biostresstest.web import reports_api

    settings, _ = breda
    client = TestClient(create_app(settings, store=breda_store))
    point = breda_store.areas(GM, AreaLevel.BUURT).iloc[5].geometry.representative_point()
    params = {"x": point.x, "y": point.y}
    first = client.get("/api/report", params=params)
    renders: list[int] = []
    real = reports_api.address_report
    monkeypatch.setattr(
        reports_api, "address_report", lambda *a: renders.append(1) or real(*a)
    )
    again = client.get("/api/report", params=params)
    assert again.content == first.content and not renders, "a repeat comes from the cache"
    # every render slot taken: a new report is refused with 503 and a hint, not queued forever
    monkeypatch.setattr(reports_api, "RENDER_WAIT_S", 0.1)
    for _ in range(reports_api.RENDERS_AT_ONCE):
        reports_api._renders.acquire()
    try:
        busy = client.get("/api/report", params={"x": point.x + 10, "y": point.y})
    finally:
        for _ in range(reports_api.RENDERS_AT_ONCE):
            reports_api._renders.release()
    assert busy.status_code == 503 and busy.json()["error"] == "busy"
    assert busy.json()["hint"]


HOSTILE = '<img src="file:///etc/passwd">'


def _hostile_store(root: Path, canary: Path) -> EmbeddedStore:
    """A small synthetic run whose buurt names try to make the renderer fetch."""
    names = [
        HOSTILE,
        f'<link rel="attachment" href="file://{canary}">{{{{ 7*7 }}}}',
        f"<style>@import url(http://127.0.0.1:9/x.css);</style><svg><image href='file://{canary}'/></svg>",
    ]
    source = {
        "title": HOSTILE,
        "publisher": f"url(file://{canary})",
        "licence": "CC BY 4.0",
        "edition": "2020",
        "sha256": "ab" * 32,
        "url": f"file://{canary}",
    }
    store = EmbeddedStore(root)
    store.publish(_small_run(names, source))
    return store


def _small_run(
    names: list[str], source: dict[str, str], documents: dict | None = None
) -> RunResult:
    """A synthetic run GM9999 of three buurten in one wijk, 500 × 500 m."""
    grid = AnalysisGrid(xmin=100_000.0, ymax=400_500.0, width=50, height=50)
    cells = [
        box(100_000, 400_000, 100_250, 400_500),
        box(100_250, 400_000, 100_500, 400_250),
        box(100_250, 400_250, 100_500, 400_500),
    ]
    scores = [0.1, 0.5, 0.9]
    classes = [1, 4, 7]

    def frame(level: str, codes: list[str], parent: str, rows: list[int]) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(
            {
                "code": codes,
                "name": [names[i] if level == "buurt" else "Veilig" for i in rows],
                "level": level,
                "parent_code": parent,
                "jaar": 2020,
                "score": [scores[i] if level == "buurt" else 0.5 for i in rows],
                "score_class": [classes[i] if level == "buurt" else 4 for i in rows],
                "green_share": 0.5,
            },
            geometry=[cells[i] for i in rows] if level == "buurt" else [box(*grid.bounds)],
            crs="EPSG:28992",
        )

    score = np.full(grid.shape, 0.5, dtype="float32")
    score[:, :25] = 0.1
    klass = np.where(score < 0.2, 1, 4).astype("uint8")
    return RunResult(
        gemeente="GM9999",
        areas={
            AreaLevel.GEMEENTE: frame("gemeente", ["GM9999"], "", [0]),
            AreaLevel.WIJK: frame("wijk", ["WK999900"], "GM9999", [0]),
            AreaLevel.BUURT: frame(
                "buurt", ["BU99990001", "BU99990002", "BU99990003"], "WK999900", [0, 1, 2]
            ),
        },
        rasters=[
            RasterLayer("score", score, grid, float("nan"), "score"),
            RasterLayer("score_class", klass, grid, 0, "class"),
        ],
        manifest={
            "created": "2026-01-01T00:00:00+00:00",
            "score_version": "v1",
            "grid": {"cell_size": 10.0, "crs": "EPSG:28992"},
            "parameters": {"weights": {"green_share": 1.0}},
            "inputs": [source],
        },
        documents=documents or {},
    )


def test_names_from_data_are_text_and_nothing_is_fetched(tmp_path: Path) -> None:
    canary = tmp_path / "canary.txt"
    canary.write_text("CANARY-7f3a")
    store = _hostile_store(tmp_path / "store", canary)
    rendered = area_report(store, "GM9999")
    text = pdf_text(rendered.pdf, tmp_path)
    assert HOSTILE in text
    assert "{{ 7*7 }}" in text
    assert "CANARY-7f3a" not in text
    assert_only_own_assets(rendered)
    assert "/EmbeddedFile" not in rendered.pdf.decode("latin-1")
    assert HOSTILE.replace('"', "&#34;") in rendered.html or "&lt;img" in rendered.html


OPPORTUNITIES = {  # the form of pipeline.potential.opportunities_document
    "about": {"level": "buurt"},
    "areas": [
        {
            "code": "BU99990001",
            "name": "Oost",
            "mean_opportunity": 0.12,
            "share_with_gain": 0.4,
            "measures": [
                {"key": "bloemrijk_grasland", "cost_eur": [1200.0, 3400.0]},
                {"key": "stadsbos", "cost_eur": None},
            ],
        },
        {
            "code": "BU99990002",
            "name": "West",
            "mean_opportunity": 0.31,
            "share_with_gain": 0.8,
            "measures": [{"key": "tegels_eruit_tuin", "cost_eur": [500.0, 900.0]}],
        },
        {"code": "BU99990003", "name": "Noord", "mean_opportunity": 0.05, "share_with_gain": 0.1},
    ],
}
SOURCE = {
    "title": "Proef",
    "publisher": "Proef",
    "licence": "CC0",
    "edition": "1",
    "sha256": "0" * 64,
    "url": "https://example.org/proef",
}


def test_opportunities_section_appears_with_its_document_and_not_without(
    tmp_path: Path,
) -> None:
    names = ["Oost", "West", "Noord"]
    without = EmbeddedStore(tmp_path / "without")
    without.publish(_small_run(names, SOURCE))
    empty = Settings(data_dir=tmp_path / "data")
    context, _ = area_context(without, "GM9999", settings=empty)
    assert "opportunities" not in section_ids(context)
    assert "scenarios" not in section_ids(context), "no saved scenarios in the data folder"

    store = EmbeddedStore(tmp_path / "with")
    store.publish(_small_run(names, SOURCE, {"opportunities": OPPORTUNITIES}))
    rendered = area_report(store, "GM9999")
    text = pdf_text(rendered.pdf, tmp_path)
    section = section_text(text, "Kansen en maatregelen")
    catalogue = load_catalogue()
    assert "0,31 80 %" in section and "0,12 40 %" in section
    assert all(catalogue.get(k).name("nl") in section for k in ("tegels_eruit_tuin", "stadsbos"))
    context, _ = area_context(store, "GM9999")
    data = next(s["data"] for s in context["sections"] if s["id"] == "opportunities")
    assert [(r["rank"], r["name"], r["opportunity"], r["share_gain"]) for r in data["rows"]] == [
        (1, "West", "0,31", "80 %"),
        (2, "Oost", "0,12", "40 %"),
        (3, "Noord", "0,05", "10 %"),
    ]
    assert data["rows"][1]["measures"] == [
        f"{catalogue.get('bloemrijk_grasland').name('nl')} (€ 1.200–3.400)",
        f"{catalogue.get('stadsbos').name('nl')} (kosten onbekend)",
    ]
    assert_only_own_assets(rendered)
    # a buurt report shows its own row with its rank among all
    context, _ = area_context(store, "BU99990001")
    data = next(s["data"] for s in context["sections"] if s["id"] == "opportunities")
    assert [(r["rank"], r["name"]) for r in data["rows"]] == [(2, "Oost")]


def _vegetated_square(store: EmbeddedStore) -> str:
    """The 100 m square with the most vegetated cells (bloemrijk grasland fits there)."""
    base = load_baseline(store, GM)
    code = load_classes().by_key("begroeid_onbepaald").code
    vegetated = (base.landcover == code) & ~np.isnan(base.layer("score"))
    density = ndimage.uniform_filter(vegetated.astype(np.float32), 10, mode="constant")
    r, c = np.unravel_index(int(np.argmax(density)), density.shape)
    g = base.grid
    x, y = g.xmin + (c - 5) * g.cell_size, g.ymax - (r - 5) * g.cell_size
    return box(x, y - 100, x + 100, y).wkt


def test_saved_scenarios_are_compared_where_they_have_a_place(
    breda_store: EmbeddedStore, breda: tuple[Settings, object], tmp_path: Path
) -> None:
    session, _ = breda
    settings = Settings(data_dir=tmp_path / "data", mirror=session.mirror, offline=True)
    wkt = _vegetated_square(breda_store)
    run_scenario(
        settings,
        GM,
        "Proef1",
        [{"measure": "bloemrijk_grasland", "wkt": wkt}],
        description="Bloemrijk maaien <b>langs de sloot</b>",
        store=breda_store,
    )
    summary = saved_scenarios(settings, GM)[0]
    buurten = breda_store.areas(GM, AreaLevel.BUURT)
    touched = buurten.intersects(shapely.from_wkt(wkt))
    here, far = buurten[touched].iloc[0], buurten[~touched].iloc[0]
    # through the HTTP endpoint: the app's settings name the data folder with the scenario
    client = TestClient(create_app(settings, store=breda_store))
    answer = client.get("/api/report", params={"area": here["code"]})
    assert answer.status_code == 200
    text = pdf_text(answer.content, tmp_path)
    section = section_text(text, "Scenario's vergeleken")
    assert summary["name"] == "proef1" and "proef1" in section
    assert "<b>langs" in section, "the description is text"
    assert load_catalogue().get("bloemrijk_grasland").name("nl") in section
    before = number(summary["score_before"], 5, "nl")
    after = number(summary["score_after"], 5, "nl")
    assert f"{before} → {after}" in section
    assert f"Alleen scenario's met een maatregel in {here['name']}" in section
    # a buurt without a place of the scenario, and a report without a data folder: no section
    assert "scenarios" not in section_ids(
        area_context(breda_store, far["code"], settings=settings)[0]
    )
    assert "scenarios" not in section_ids(area_context(breda_store, here["code"])[0])
