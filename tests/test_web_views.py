"""The main views in Debian's chromium, each with a screenshot: layers, stories, feedback,
language, and the buurt comparison."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page
from web_server import settle

pytestmark = pytest.mark.browser  # fixtures ``server`` and ``page``: tests/web_server.py


def test_switch_layers(page: Page, artifacts: Path) -> None:
    page.evaluate("window.bst.map.jumpTo({center: [4.776, 51.588], zoom: 12.5})")
    page.check("input[name=view][value=habitat_quality]")
    settle(page)
    assert page.locator("#legend-title").inner_text().startswith("Habitatkwaliteit")
    assert page.locator("#legend li").count() == 7
    paint = page.evaluate("window.bst.map.getPaintProperty('buurt-fill', 'fill-color')")
    assert paint[0] == "step" and paint[1][1] == ["get", "habitat_quality"]
    page.screenshot(path=str(artifacts / "layer-habitat-quality.png"))
    page.check("input[name=view][value=distance_to_core]")
    settle(page)
    assert "hoger is slechter" in page.locator("#legend-title").inner_text()
    page.check("input[name=view][value=landcover]")
    settle(page)
    assert page.evaluate("window.bst.map.getLayoutProperty('cells-landcover', 'visibility')") == (
        "visible"
    )
    assert page.evaluate("window.bst.map.getLayoutProperty('buurt-fill', 'visibility')") == "none"
    page.screenshot(path=str(artifacts / "layer-landcover.png"))
    page.check("input[name=view][value=koppelkans_class]")  # a layer the run published
    settle(page)
    visible = "window.bst.map.getLayoutProperty('cells-koppelkans_class', 'visibility')"
    assert page.evaluate(visible) == "visible"
    assert page.locator("#legend-title").inner_text() == "Koppelkansen"
    assert page.locator("#legend li").count() >= 3
    page.screenshot(path=str(artifacts / "layer-koppelkansen.png"))


def test_open_a_story_and_send_feedback_on_it(page: Page, artifacts: Path) -> None:
    page.check("input[name=view][value=baf]")
    page.click("#story-open")
    page.wait_for_selector("#story-dialog[open]")
    dialog = page.locator("#story-dialog")
    assert page.locator("#story-title").inner_text() == "Biotoopfactor (BAF)"
    text = dialog.inner_text()
    for heading in ("Wat de kaart laat zien", "Hoe de kaart is gemaakt", "Onzekerheid"):
        assert heading in text
    assert "Berlin" in text and "Bewoner" in text
    page.screenshot(path=str(artifacts / "story-baf.png"))
    page.select_option("#fb-story-role", "agrarier")
    page.check("#feedback-story input[name=clarity][value='5']")
    page.fill("#fb-story-comment", "Heldere uitleg over de biotoopfactor")
    page.click("#feedback-story button[type=submit]")
    page.wait_for_function(
        "document.querySelector('#feedback-story .status').textContent.includes('Dank')"
    )
    page.screenshot(path=str(artifacts / "feedback-sent.png"))
    summary = page.evaluate("fetch('/api/feedback/summary').then(r => r.json())")
    sent = next(c for c in summary["recent_comments"] if c["comment"].startswith("Heldere"))
    assert (sent["role"], sent["view"], sent["layer"], sent["area"], sent["clarity"]) == (
        "agrarier",
        "story",
        "baf",
        "GM0758",
        5,
    )
    page.keyboard.press("Escape")
    page.check("input[name=view][value=score]")


def test_feedback_without_clarity_is_not_sent(page: Page) -> None:
    before = page.evaluate("fetch('/api/feedback/summary').then(r => r.json())")["total"]
    page.click("#feedback-panel button[type=submit]")
    assert "Kies eerst" in page.locator("#feedback-panel .status").inner_text()
    after = page.evaluate("fetch('/api/feedback/summary').then(r => r.json())")["total"]
    assert after == before


def test_switch_language(page: Page, artifacts: Path) -> None:
    page.click("#lang")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("#legend-title").inner_text() == "Stress-test class"
    assert "very vulnerable" in page.locator("#legend").inner_text()
    labels = page.locator("#layer-switcher").inner_text()
    assert "Habitat quality" in labels and "Land cover" in labels
    assert page.locator("#lang").get_attribute("lang") == "nl"
    page.click("#story-open")
    assert page.locator("#story-title").inner_text() == "Biodiversity stress test"
    assert "What can you do with it?" in page.locator("#story-dialog").inner_text()
    page.screenshot(path=str(artifacts / "english-story.png"))
    page.keyboard.press("Escape")
    page.click("#lang")
    assert page.evaluate("document.documentElement.lang") == "nl"


def test_comparison_table_and_chart(page: Page, artifacts: Path) -> None:
    page.click("#comparison-open")
    page.wait_for_function("window.bst.state.comparisonReady === true")
    rows = page.locator("#comparison-table tbody tr")
    assert rows.count() == 56
    assert page.locator("#comparison-chart svg rect").count() == 56
    cells = "#comparison-table tbody tr td:nth-child({})"
    scores = [float(v) for v in page.locator(cells.format(2)).all_inner_texts()]
    assert scores == sorted(scores, reverse=True)  # by score, best first
    page.click("#comparison-table thead button[data-key=habitat_quality]")
    header = page.locator("#comparison-table thead th[aria-sort=descending]")
    assert header.inner_text().startswith("Habitatkwaliteit")
    column = page.evaluate(
        "[...document.querySelectorAll('#comparison-table thead th')]"
        ".findIndex(th => th.getAttribute('aria-sort') === 'descending') + 1"
    )
    values = [
        float(v)
        for v in page.locator(
            f"#comparison-table tbody tr td:nth-child({column})"
        ).all_inner_texts()
    ]
    assert values == sorted(values, reverse=True)
    assert "habitatkwaliteit" in page.locator("#chart-caption").inner_text()
    page.screenshot(path=str(artifacts / "comparison-buurten.png"))
    page.select_option("#comparison-level", "wijk")
    page.wait_for_function("document.querySelectorAll('#comparison-table tbody tr').length === 11")
    page.screenshot(path=str(artifacts / "comparison-wijken.png"))
    page.click("#comparison-close")
    assert page.locator("#comparison").is_hidden()
