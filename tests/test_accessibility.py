"""WCAG 2.1 AA: axe-core inside Debian's chromium on every main view, keyboard-only use, and
the seven classes distinguishable with colour-vision deficiencies."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from colorspacious import cspace_convert, deltaE
from playwright.sync_api import Page
from web_server import settle

from biostresstest.analysis.scoring import SCORE_CLASSES

REPO = Path(__file__).resolve().parents[1]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
LAYERS = [
    "score",
    "habitat_quality",
    "baf",
    "ugf",
    "green_share",
    "natura2000_share",
    "vulnerability",
    "distance_to_core",
    "landcover",
    "confidence",
    "potential",
    "air_temperature",
    "koppelkans_class",
]
MIN_DELTA_E = 15.0
"""Smallest CAM02-UCS colour difference allowed between neighbouring classes."""


# --- colour vision --------------------------------------------------------------------------


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255.0


@pytest.mark.parametrize("cvd", ["deuteranomaly", "protanomaly", "tritanomaly", None])
def test_neighbouring_classes_stay_apart_for_colour_blind_users(cvd: str | None) -> None:
    colours = [_rgb(c.colour) for c in SCORE_CLASSES]
    if cvd is not None:
        space = {"name": "sRGB1+CVD", "cvd_type": cvd, "severity": 100}
        colours = [np.clip(cspace_convert(c, space, "sRGB1"), 0, 1) for c in colours]
    gaps = [float(deltaE(a, b, input_space="sRGB1")) for a, b in itertools.pairwise(colours)]
    assert min(gaps) >= MIN_DELTA_E, f"{cvd}: ΔE between neighbouring classes {gaps}"


def test_classes_run_from_dark_red_to_dark_green() -> None:
    first, last = _rgb(SCORE_CLASSES[0].colour), _rgb(SCORE_CLASSES[-1].colour)
    assert first[0] > 2 * first[1] and last[1] > 2 * last[0]  # red, then green
    lightness = [cspace_convert(_rgb(c.colour), "sRGB1", "CAM02-UCS")[0] for c in SCORE_CLASSES]
    assert lightness[0] < 40 and lightness[-1] < 40  # both ends dark
    assert max(lightness) == lightness[3]  # the middle class is the lightest


# --- the browser (fixtures ``server`` and ``page``: tests/web_server.py) -----------------------


def _axe(page: Page, context: str = "document") -> list[dict[str, Any]]:
    """Serious and critical WCAG 2.1 A/AA violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        assert AXE.is_file(), "axe-core is missing: run `npm ci` (make vendor)"
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        f"""async () => {{
          const r = await axe.run({context}, {{runOnly: {{type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}}});
          return r.violations.map(v => ({{id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}}));
        }}"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


@pytest.mark.browser
@pytest.mark.parametrize("layer", LAYERS)
def test_axe_map_view_with_each_layer(page: Page, layer: str) -> None:
    page.check(f"input[name=view][value={layer}]")
    settle(page)
    assert _axe(page) == []


@pytest.mark.browser
def test_axe_comparison_story_and_english(page: Page) -> None:
    page.click("#comparison-open")
    page.wait_for_function("window.bst.state.comparisonReady === true")
    assert _axe(page) == []
    page.click("#comparison-close")
    page.click("#story-open")
    page.wait_for_selector("#story-dialog[open]")
    assert _axe(page) == []
    page.keyboard.press("Escape")
    page.click("#lang")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert _axe(page) == []
    page.click("#lang")


@pytest.mark.browser
def test_axe_feedback_summary_page(page: Page, server: str) -> None:
    page.evaluate(
        """fetch('/api/feedback', {method: 'POST', headers: {'Content-Type': 'application/json'},
          body: JSON.stringify({role: 'beleidsmaker', view: 'comparison', clarity: 3,
                                comment: '<b>niet vet</b> =1+1'})})"""
    )
    browser = page.context.browser
    assert browser is not None
    summary = browser.new_page()
    summary.goto(server + "/feedback")
    summary.wait_for_function("window.bstSummaryReady === true")
    assert "<b>niet vet</b>" in summary.locator("#comments").inner_text()  # shown, not run
    assert summary.locator("td[data-role=beleidsmaker][data-view=comparison]").inner_text() != "–"
    assert _axe(summary) == []
    summary.close()


# --- keyboard only --------------------------------------------------------------------------


def _tab_to(page: Page, selector: str, limit: int = 120) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def _focus_is_visible(page: Page) -> bool:
    return bool(
        page.evaluate(
            """() => { const s = getComputedStyle(document.activeElement);
              return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
                || s.boxShadow !== 'none'; }"""
        )
    )


@pytest.mark.browser
def test_keyboard_only(page: Page, server: str, artifacts: Path) -> None:
    page.goto(server + "/")
    page.wait_for_function("window.bst && window.bst.ready === true", timeout=60_000)
    page.evaluate("document.activeElement.blur()")
    # skip link first, and it moves the focus to the panel
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('utrecht-skip-link')")
    assert _focus_is_visible(page)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "panel"
    # search: type, Enter, the first answer has the focus, Enter zooms to it
    page.evaluate("document.activeElement.blur()")
    _tab_to(page, "#search")
    assert _focus_is_visible(page)
    page.keyboard.type("Belcrum")
    page.keyboard.press("Enter")
    page.wait_for_selector("#search-results button")
    assert page.evaluate("document.activeElement.closest('#search-results') !== null")
    page.keyboard.press("Enter")
    settle(page)
    assert page.evaluate("window.bst.map.getZoom()") > 13
    # layer switcher: arrow keys move between the radio buttons
    _tab_to(page, "input[name=view]")
    assert _focus_is_visible(page)
    page.keyboard.press("ArrowDown")
    assert page.evaluate("window.bst.state.layer") == "habitat_quality"
    page.keyboard.press("ArrowUp")
    assert page.evaluate("window.bst.state.layer") == "score"
    # story: open with Enter, close with Escape, the focus returns to the button
    _tab_to(page, "#story-open")
    page.keyboard.press("Enter")
    page.wait_for_selector("#story-dialog[open]")
    assert "Wat kunt u ermee?" in page.locator("#story-dialog").inner_text()
    page.keyboard.press("Escape")
    assert page.evaluate("document.getElementById('story-dialog').open") is False
    assert page.evaluate("document.activeElement.id") == "story-open"
    # feedback: role by arrow keys, clarity by arrow keys, a comment, send with Enter
    _tab_to(page, "#fb-role")
    page.keyboard.press("ArrowDown")  # bewoner → bedrijf
    _tab_to(page, "#feedback-panel input[name=clarity]")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    _tab_to(page, "#fb-comment")
    page.keyboard.type("Met het toetsenbord ingevuld")
    _tab_to(page, "#feedback-panel button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "document.querySelector('#feedback-panel .status').textContent.includes('Dank')"
    )
    summary = page.evaluate("fetch('/api/feedback/summary').then(r => r.json())")
    assert any(
        c["comment"] == "Met het toetsenbord ingevuld" and c["role"] == "bedrijf"
        for c in summary["recent_comments"]
    )
    # language: Enter on the switch changes the texts and the lang attribute
    _tab_to(page, "#lang")
    page.keyboard.press("Enter")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("#legend-title").inner_text() == "Stress-test class"
    page.keyboard.press("Enter")
    assert page.evaluate("document.documentElement.lang") == "nl"
    # comparison: open, sort by keyboard
    _tab_to(page, "#comparison-open")
    page.keyboard.press("Enter")
    page.wait_for_function("window.bst.state.comparisonReady === true")
    _tab_to(page, "#comparison-table thead button[data-key=name]")
    page.keyboard.press("Enter")
    sort = page.locator("#comparison-table thead th[aria-sort=descending]").inner_text()
    assert sort.strip() == "Naam"
    page.screenshot(path=str(artifacts / "keyboard-comparison.png"))
    page.keyboard.press("Escape")
    assert page.locator("#comparison").is_hidden()
