"""The map page in a real browser: Debian's chromium driven by Playwright (the ``server``
fixture: tests/web_server.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page
from web_server import open_map, settle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Page]:
    """The map at 1200 x 800: the clicks below are placed for that size."""
    with open_map(server, viewport={"width": 1200, "height": 800}) as page:
        yield page


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
    settle(page)
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
    settle(page)
    page.mouse.click(250, 600)
    page.wait_for_function("document.querySelector('#info').innerText.includes('Cel 10')")
    page.screenshot(path=str(artifacts / "map-cells.png"))


def test_land_cover_and_confidence_of_otterlo(page: Page, artifacts: Path) -> None:
    page.select_option("#area", "otterlo")
    page.wait_for_function("window.bst.ready === true", timeout=60_000)
    page.check("input[name=view][value=landcover]")
    settle(page)
    items = page.locator("#legend li").all_inner_texts()
    assert len(items) >= 20 and any("Erf" in item or "erf" in item for item in items)
    assert any("ha" in item for item in items)
    page.evaluate("window.bst.map.jumpTo({center: [5.776, 52.097], zoom: 16})")
    settle(page)
    page.check("#feature-layers input[value=bermen]")
    page.check("#feature-layers input[value=bomen]")
    settle(page)
    shown = page.evaluate(
        "window.bst.map.queryRenderedFeatures({layers: ['features-bermen', 'features-bomen']})"
        ".length"
    )
    assert shown > 10
    page.screenshot(path=str(artifacts / "otterlo-landcover.png"))
    page.check("input[name=view][value=confidence]")
    settle(page)
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
    settle(page)
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
