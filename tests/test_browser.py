"""The map page in a real browser: Debian's chromium driven by Playwright."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, sync_playwright

from biostresstest.core.settings import Settings
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.pipeline.run import RunSummary
from biostresstest.web.app import check_frontend, create_app

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def server(
    breda: tuple[Settings, RunSummary],
    otterlo: tuple[Settings, RunSummary],
    breda_store: EmbeddedStore,
) -> Iterator[str]:
    check_frontend()
    settings, _ = breda
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings, breda_store), host="127.0.0.1", port=port, log_level="warning"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started:
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Page]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: scripts/install-system-deps.sh"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server + "/")
        page.wait_for_function("window.bst && window.bst.ready === true", timeout=60_000)
        assert not errors, errors
        yield page
        browser.close()


def _settle(page: Page) -> None:
    page.wait_for_timeout(200)
    page.wait_for_function(
        "window.bst.map.loaded() && window.bst.map.areTilesLoaded()", timeout=30_000
    )


def test_map_shows_legend_and_areas(page: Page, artifacts: Path) -> None:
    assert page.locator("#legend li").count() == 7
    labels = page.locator("#legend li").all_inner_texts()
    assert labels[0].startswith("1") and "zeer kwetsbaar" in labels[0]
    assert "Breda" in page.locator("#gemeente-name").inner_text()
    wijken = page.evaluate("window.bst.map.queryRenderedFeatures({layers: ['wijk-fill']}).length")
    assert wijken > 0
    page.screenshot(path=str(artifacts / "map-gemeente.png"))


def test_buurten_are_rendered_and_explained_on_click(page: Page, artifacts: Path) -> None:
    page.evaluate("window.bst.map.jumpTo({center: [4.776, 51.588], zoom: 13})")
    _settle(page)
    codes = page.evaluate(
        "[...new Set(window.bst.map.queryRenderedFeatures({layers: ['buurt-fill']})"
        ".map(f => f.properties.code))]"
    )
    assert len(codes) >= 3 and all(code.startswith("BU0758") for code in codes)
    page.mouse.click(420, 420)
    page.wait_for_selector("#info table")
    info = page.locator("#info").inner_text()
    assert "Aandeel groen" in info and "BU0758" in info
    assert "CC BY 4.0" in info and "RIVM" in info  # sources and licences with the values
    page.screenshot(path=str(artifacts / "map-buurten.png"))


def test_cells_at_street_zoom(page: Page, artifacts: Path) -> None:
    page.evaluate("window.bst.map.jumpTo({center: [4.776, 51.588], zoom: 15.5})")
    _settle(page)
    page.mouse.click(250, 600)
    page.wait_for_function("document.querySelector('#info').innerText.includes('Cel 10')")
    page.screenshot(path=str(artifacts / "map-cells.png"))


def test_land_cover_and_confidence_of_otterlo(page: Page, artifacts: Path) -> None:
    page.select_option("#area", "otterlo")
    page.wait_for_function("window.bst.ready === true", timeout=60_000)
    page.check("input[name=view][value=landcover]")
    _settle(page)
    items = page.locator("#legend li").all_inner_texts()
    assert len(items) >= 20 and any("Erf" in item or "erf" in item for item in items)
    assert any("ha" in item for item in items)
    page.evaluate("window.bst.map.jumpTo({center: [5.776, 52.097], zoom: 16})")
    _settle(page)
    page.check("#feature-layers input[value=bermen]")
    page.check("#feature-layers input[value=bomen]")
    _settle(page)
    shown = page.evaluate(
        "window.bst.map.queryRenderedFeatures({layers: ['features-bermen', 'features-bomen']})"
        ".length"
    )
    assert shown > 10
    page.screenshot(path=str(artifacts / "otterlo-landcover.png"))
    page.check("input[name=view][value=confidence]")
    _settle(page)
    assert "BGT" in page.locator("#legend").inner_text()
    page.screenshot(path=str(artifacts / "otterlo-confidence.png"))
    page.check("input[name=view][value=score]")
    page.select_option("#area", "GM0758")
    page.wait_for_function("window.bst.ready === true", timeout=60_000)
    assert page.locator("#legend li").count() == 7


def test_search_a_buurt_and_zoom_to_it(page: Page, artifacts: Path) -> None:
    page.fill("#search", "Belcrum")
    page.press("#search", "Enter")
    page.wait_for_selector("#search-results button")
    assert "BU07580100" in page.locator("#search-results").inner_text()
    page.click("#search-results button")
    _settle(page)
    assert page.evaluate("window.bst.map.getZoom()") > 13
    codes = page.evaluate(
        "window.bst.map.queryRenderedFeatures({layers: ['buurt-fill']}).map(f => f.properties.code)"
    )
    assert "BU07580100" in codes
    page.screenshot(path=str(artifacts / "search-belcrum.png"))


def test_language_switch(page: Page) -> None:
    page.click("#lang")
    assert page.locator("#legend-title").inner_text() == "Stress-test class"
    assert page.evaluate("document.documentElement.lang") == "en"
    page.click("#lang")
    assert page.locator("#legend-title").inner_text() == "Stresstestklasse"
