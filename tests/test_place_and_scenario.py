"""The "mijn plek" card and the scenario panel in Debian's chromium (Playwright), with axe-core
and keyboard-only use; and the street names of the Otterlo BGT in the local search."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Page, sync_playwright

from biostresstest.analysis.scoring import SCORE_CLASSES, score_class
from biostresstest.core.settings import Settings
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.study_area import NAMED_AREAS
from biostresstest.pipeline.run import RunSummary
from biostresstest.web.app import check_frontend, create_app

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
STREET = "Dorpsstraat"
"""A street in the middle of the Otterlo square (its BGT label points lie inside it)."""
CARD = "#my-place:not([hidden]) .place-table"
TABLE = "#scenario-result table"


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
    app = create_app(settings, breda_store)
    instance = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
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
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server + "/")
        page.wait_for_function("window.bst && window.bst.ready === true", timeout=60_000)
        yield page
        assert not errors, errors
        browser.close()


def _get(page: Page, url: str) -> Any:
    answer = page.request.get(url)
    assert answer.ok, (url, answer.status, answer.text())
    return answer.json()


def _settle(page: Page) -> None:
    page.wait_for_timeout(150)
    page.wait_for_function(
        "window.bst.map.loaded() && window.bst.map.areTilesLoaded()", timeout=30_000
    )


def _label(klass: int, lang: str = "nl") -> str:
    c = SCORE_CLASSES[klass - 1]
    word = "klasse" if lang == "nl" else "class"
    return f"{word} {klass}: {c.label_nl if lang == 'nl' else c.label_en}"


def _search_and_choose(page: Page, query: str) -> None:
    page.fill("#search", query)
    page.press("#search", "Enter")
    page.wait_for_selector("#search-results button")
    page.locator("#search-results button", has_text=query).first.click()


def _check_card(page: Page, api: dict[str, Any], lang: str = "nl") -> None:
    """The card shows the API's classes (swatch and label), potential and measures."""
    card = page.locator("#my-place")
    text = card.inner_text()
    spot = api["spot"]
    now = card.locator("tr.place-now td").first
    assert now.get_attribute("data-class") == str(spot["score_class"])
    assert _label(spot["score_class"], lang) in now.inner_text()
    assert now.locator(".swatch").inner_text() == str(spot["score_class"])
    potential = int(score_class(spot["potential"]))
    assert card.locator("tr.place-potential td").first.get_attribute("data-class") == str(potential)
    buurt = card.locator("tr.place-now td").nth(1)
    assert buurt.get_attribute("data-class") == str(api["buurt"]["score_class"])
    assert api["text"] in text
    assert api["measures"], "the API gave no measures for this spot"
    names = card.locator(".place-measure strong").all_inner_texts()
    assert names == [m["name"] for m in api["measures"]]
    assert len(names) <= 3
    assert api["measures"][0]["effect"] in text


def _card_ms(page: Page) -> int:
    return int(page.evaluate("document.getElementById('my-place').dataset.ms"))


# --- street names -----------------------------------------------------------------------


def test_search_finds_otterlo_streets_with_rd_coordinates(page: Page, server: str) -> None:
    answer = _get(page, f"{server}/api/search?q={STREET}")
    [street] = [p for p in answer["places"] if p["type"] == "weg" and p["name"] == STREET]
    xmin, ymin, xmax, ymax = NAMED_AREAS["otterlo"].bounds
    assert street["gemeente"] == "otterlo" and street["source"] == "local"
    assert xmin < street["x"] < xmax and ymin < street["y"] < ymax  # RD metres, in the square
    assert 5.7 < street["lon"] < 5.85 and 52.05 < street["lat"] < 52.15


# --- "mijn plek" ------------------------------------------------------------------------


def test_search_a_street_and_read_its_card(page: Page, server: str, artifacts: Path) -> None:
    _search_and_choose(page, STREET)
    page.wait_for_selector(CARD, timeout=30_000)
    assert page.evaluate("window.bst.state.current.code") == "otterlo"
    assert page.evaluate("window.bst.state.viewName") == "place"
    [street] = [
        p for p in _get(page, f"{server}/api/search?q={STREET}")["places"] if p["type"] == "weg"
    ]
    api = _get(page, f"{server}/api/place?x={street['x']}&y={street['y']}&lang=nl")
    _check_card(page, api)
    assert STREET in page.locator("#my-place .place-where").inner_text()
    pdf = page.locator("#my-place a[href^='/api/report']").get_attribute("href")
    assert pdf is not None and f"x={api['x']}" in pdf
    report = page.request.get(server + pdf)
    assert report.ok and report.body()[:5] == b"%PDF-"
    page.screenshot(path=str(artifacts / "place-card-street.png"))
    print(f"card after search: {_card_ms(page)} ms")


def test_click_the_map_and_read_the_card(page: Page, server: str, artifacts: Path) -> None:
    page.select_option("#area", "GM0758")
    page.wait_for_function("window.bst.ready === true", timeout=60_000)
    page.evaluate("window.bst.map.jumpTo({center: [4.776, 51.588], zoom: 15})")
    _settle(page)
    timings = []
    for x, y in ((420, 420), (300, 500)):
        page.mouse.click(x, y)
        lng, lat = page.evaluate(
            """([x, y]) => { const box = window.bst.map.getContainer().getBoundingClientRect();
              const p = window.bst.map.unproject([x - box.left, y - box.top]);
              return [p.lng, p.lat]; }""",
            [x, y],
        )
        api = _get(page, f"{server}/api/place?x={lng}&y={lat}&crs=EPSG:4326&lang=nl")
        page.wait_for_function(
            "([x, y]) => document.querySelector('#my-place .place-table') && "
            "window.bst.place.answer() && window.bst.place.answer().x === x && "
            "window.bst.place.answer().y === y",
            arg=[api["x"], api["y"]],
        )
        _check_card(page, api)
        assert api["buurt"]["code"] in page.locator("#my-place .place-where").inner_text()
        timings.append(_card_ms(page))
    page.screenshot(path=str(artifacts / "place-card-click.png"))
    print(f"card after a map click: {timings} ms")


def test_card_layers_and_language(page: Page, server: str, artifacts: Path) -> None:
    choices = page.locator("#my-place input[name=place-layer]")
    assert choices.count() == 3  # current, potential, opportunity: never more
    page.check("#my-place input[name=place-layer][value=potential]")
    assert page.evaluate("window.bst.state.layer") == "potential"
    assert page.is_checked("#layer-switcher input[value=potential]")
    page.check("#my-place input[name=place-layer][value=opportunity]")
    assert page.evaluate("window.bst.state.layer") == "opportunity"
    page.check("#my-place input[name=place-layer][value=score]")
    assert page.evaluate("window.bst.state.layer") == "score"
    x, y = page.evaluate("[window.bst.place.answer().x, window.bst.place.answer().y]")
    page.click("#lang")
    page.wait_for_function("document.querySelector('#my-place').innerText.includes('This spot')")
    page.wait_for_selector(CARD)
    api = _get(page, f"{server}/api/place?x={x}&y={y}&lang=en")
    _check_card(page, api, "en")
    assert "Three measures that fit well here" in page.locator("#my-place").inner_text()
    page.screenshot(path=str(artifacts / "place-card-english.png"))
    page.click("#lang")
    page.wait_for_function("document.querySelector('#my-place').innerText.includes('Deze plek')")


def test_print_shows_the_card_only(page: Page) -> None:
    page.emulate_media(media="print")
    try:
        assert page.locator("#my-place").is_visible()
        assert not page.locator("#map").is_visible()
        assert not page.locator("#legend").is_visible()
    finally:
        page.emulate_media(media="screen")


def test_a_spot_outside_the_loaded_areas_says_so(page: Page) -> None:
    page.evaluate("window.bst.place.open(4.0, 52.0)")  # in the North Sea
    page.wait_for_selector("#my-place .place-error")
    text = page.locator("#my-place").inner_text()
    assert "geen gegevens" in text and "outside every loaded area" in text
    assert page.evaluate("window.bst.place.answer()") is None
    page.click("#my-place [data-action=close]")
    assert page.locator("#my-place").is_hidden()
    assert page.evaluate("document.activeElement.id") == "place-centre"


# --- scenario ---------------------------------------------------------------------------


def _compare_with_api(page: Page) -> dict[str, Any]:
    """The table holds the deltas the API gives for the same polygon and measure."""
    body = page.evaluate("window.bst.scenario.lastBody()")
    assert body["crs"] == "EPSG:4326" and body["save"] is False
    answer = page.request.post(page.url.rstrip("/") + "/api/scenarios", data=body)
    assert answer.ok, answer.text()
    result = answer.json()["result"]

    def cells(row: str) -> list[str | None]:
        tds = page.locator(f"{TABLE} tr[data-row='{row}'] td")
        return [tds.nth(i).get_attribute("data-value") for i in range(3)]

    def same(row: str, before: float | None, after: float | None) -> None:
        shown = cells(row)
        assert float(shown[0] or "nan") == pytest.approx(before), row
        assert float(shown[1] or "nan") == pytest.approx(after), row

    score, comp, cooling = result["score"], result["components"], result["cooling"]
    same("score_place", score["place"]["before"], score["place"]["after"])
    same("score_window", score["window"]["before"], score["window"]["after"])
    same("score_area", score["area"]["before"], score["area"]["after"])
    hq = comp["habitat_quality"]
    same("habitat_quality", hq["place_before"], hq["place_after"])
    sf = comp["surface_factor"]
    same("surface_factor", sf["place_before"], sf["place_after"])
    cc = cooling["cooling_capacity_place"]
    same("cooling", cc["before"], cc["after"])
    for event in result["water"]["events"]:
        same(f"water-{event['event']}", event["kept_mm_before"], event["kept_mm_after"][0])
    cost = page.locator("#scenario-result .scenario-cost")
    assert [
        float(cost.get_attribute("data-low") or 0),
        float(cost.get_attribute("data-high") or 0),
    ] == result["cost"]["total_eur"]
    klass = int(score_class(score["place"]["after"]))
    assert (
        _label(klass) in page.locator(f"{TABLE} tr[data-row='score_place'] td").nth(1).inner_text()
    )
    return result


def test_draw_a_scenario_in_otterlo(page: Page, artifacts: Path) -> None:
    page.select_option("#area", "otterlo")
    page.wait_for_function("window.bst.ready === true", timeout=60_000)
    page.evaluate("window.bst.map.jumpTo({center: [5.7745, 52.1016], zoom: 17})")
    _settle(page)
    page.click("#scenario-draw")
    assert page.evaluate("window.bst.state.drawing") is True
    info = page.locator("#info").inner_html()
    for x, y in ((300, 300), (520, 300), (520, 480)):
        page.mouse.click(x, y)
    assert "3" in page.locator("#scenario-status").inner_text()
    page.wait_for_timeout(300)
    assert page.locator("#info").inner_html() == info  # clicks while drawing are only corners
    page.mouse.dblclick(300, 480)
    page.wait_for_function("window.bst.scenario.polygon() !== null")
    assert page.evaluate("window.bst.state.drawing") is False
    assert len(page.evaluate("window.bst.scenario.polygon()")) == 5  # 4 corners, closed
    page.wait_for_selector("#scenario-measure optgroup[data-kind=recommended]", state="attached")
    options = page.locator("#scenario-measure optgroup[data-kind=recommended] option")
    chosen = options.nth(0).get_attribute("value")
    page.select_option("#scenario-measure", chosen)
    page.click("#scenario-compute")
    page.wait_for_selector(TABLE, timeout=60_000)
    assert page.evaluate("window.bst.state.viewName") == "scenario"
    result = _compare_with_api(page)
    assert result["score"]["window"]["cells_changed"] > 0
    page.locator("#scenario").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "scenario-otterlo.png"))
    print(
        "scenario in the browser:",
        page.evaluate("document.getElementById('scenario').dataset.ms"),
        "ms",
    )


def _overlay_state(page: Page) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """() => { const m = window.bst.map; const l = m.getLayer('scenario-after');
              return {layer: window.bst.state.layer, present: !!l,
                visible: !!l && m.getLayoutProperty('scenario-after', 'visibility') !== 'none',
                coordinates: l ? m.getSource('scenario-after').coordinates : null,
                switcher: [...document.querySelectorAll('#layer-switcher input')].map(i => i.value),
                checked: document.querySelector('#layer-switcher input:checked').value,
                panel: document.querySelector('input[name=scenario-map]:checked').value,
                legend: [...document.querySelectorAll('#legend li[data-class]')].length}; }"""
        )
    )


def test_scenario_with_measures_on_the_map(page: Page, artifacts: Path) -> None:
    """After "compute" (the test before) the classes with the measures lie on the map."""
    page.wait_for_selector(TABLE)
    overlay = page.evaluate("window.bst.scenario.lastResult().result.overlay")
    shown = _overlay_state(page)
    assert shown["layer"] == "with_measures" and shown["present"] and shown["visible"]
    assert shown["coordinates"] == overlay["coordinates"]
    assert "with_measures" in shown["switcher"] and shown["checked"] == "with_measures"
    assert shown["panel"] == "after" and shown["legend"] == 7
    label = page.locator("#layer-switcher label", has=page.locator("input[value=with_measures]"))
    assert "Met maatregelen" in label.inner_text()
    lons = [c[0] for c in overlay["coordinates"]]
    lats = [c[1] for c in overlay["coordinates"]]
    page.evaluate(
        "(b) => window.bst.map.fitBounds(b, {padding: 20, duration: 0})",
        [[min(lons), min(lats)], [max(lons), max(lats)]],
    )
    _settle(page)
    after_png = page.locator("#map").screenshot()
    page.screenshot(path=str(artifacts / "scenario-otterlo-with-measures.png"))
    page.check("input[name=scenario-map][value=before]")  # the panel's toggle
    shown = _overlay_state(page)
    assert shown["layer"] == "score" and shown["present"] and not shown["visible"]
    assert shown["checked"] == "score" and "with_measures" in shown["switcher"]
    _settle(page)
    assert page.locator("#map").screenshot() != after_png  # the map itself changed
    page.check("#layer-switcher input[value=with_measures]")  # and back from the switcher
    shown = _overlay_state(page)
    assert shown["visible"] and shown["panel"] == "after"
    page.click("#lang")
    page.wait_for_selector("#scenario fieldset.scenario-map legend:text('Map')")
    assert "With measures" in label.inner_text()
    assert _overlay_state(page)["panel"] == "after"
    assert _axe(page, "#scenario") == []
    assert _axe(page, "#layer-switcher") == []
    page.click("#lang")


def test_escape_cancels_drawing(page: Page) -> None:
    before = page.evaluate("window.bst.scenario.polygon()")
    page.click("#scenario-draw")
    page.mouse.click(400, 400)
    page.keyboard.press("Escape")
    assert page.evaluate("window.bst.state.drawing") is False
    assert page.evaluate("window.bst.scenario.polygon()") is None and before is not None
    assert page.evaluate("window.bst.map.getLayer('scenario-after')") is None  # result gone
    assert page.locator("#layer-switcher input[value=with_measures]").count() == 0
    assert page.evaluate("document.activeElement.id") == "scenario-draw"


def test_save_a_scenario_and_a_taken_name(page: Page) -> None:
    page.click("#scenario-square")
    page.wait_for_function("window.bst.scenario.polygon() !== null")
    page.click("#scenario-compute")
    page.wait_for_selector(TABLE, timeout=60_000)
    name = f"proef-{int(time.time() * 1000) % 10**9}"
    page.fill("#scenario-name", name)
    page.click("#scenario-save button[type=submit]")
    page.wait_for_function(
        "document.querySelector('#scenario-save-status').textContent.includes('Opgeslagen')"
    )
    listed = page.request.get(page.url.rstrip("/") + "/api/scenarios?area=otterlo").json()
    assert name in listed["scenarios"]
    page.click("#scenario-save button[type=submit]")
    page.wait_for_function(
        "document.querySelector('#scenario-save-status').textContent.includes('al in gebruik')"
    )
    page.fill("#scenario-name", "Niet Toegestaan!")
    page.click("#scenario-save button[type=submit]")
    assert "kleine letters" in page.locator("#scenario-save-status").inner_text()


# --- accessibility ----------------------------------------------------------------------


def _axe(page: Page, selector: str) -> list[dict[str, Any]]:
    """Serious and critical WCAG 2.1 A/AA violations inside ``selector``."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async (sel) => {
          const r = await axe.run(document.querySelector(sel), {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
          return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }""",
        selector,
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def test_axe_card_and_scenario_panel(page: Page) -> None:
    assert AXE.is_file(), "axe-core is missing: run `npm ci` (make vendor)"
    _search_and_choose(page, STREET)
    page.wait_for_selector(CARD, timeout=30_000)
    page.click("#scenario-square")
    page.wait_for_selector("#scenario-measure optgroup[data-kind=recommended]", state="attached")
    page.click("#scenario-compute")
    page.wait_for_selector(TABLE, timeout=60_000)
    assert _axe(page, "#my-place") == []
    assert _axe(page, "#scenario") == []
    assert _axe(page, "#panel") == []
    page.click("#lang")
    page.wait_for_function("document.querySelector('#my-place').innerText.includes('This spot')")
    page.wait_for_selector(TABLE)
    assert _axe(page, "#panel") == []
    page.click("#lang")


def _tab_to(page: Page, selector: str, limit: int = 150) -> None:
    for _ in range(limit):
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only_card_and_scenario(page: Page, server: str, artifacts: Path) -> None:
    page.goto(server + "/")
    page.wait_for_function("window.bst && window.bst.ready === true", timeout=60_000)
    page.evaluate("document.activeElement.blur()")
    # the card: search a street, Enter on the answer, the focus lands on the card
    _tab_to(page, "#search")
    page.keyboard.type(STREET)
    page.keyboard.press("Enter")
    page.wait_for_selector("#search-results button")
    page.keyboard.press("Enter")
    page.wait_for_selector(CARD, timeout=30_000)
    assert page.evaluate("document.activeElement.id") == "my-place-title"
    assert page.locator("#my-place .place-measure").count() >= 1
    # the card's layer choice by arrow keys
    _tab_to(page, "#my-place input[name=place-layer]")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("window.bst.state.layer") == "potential"
    page.keyboard.press("ArrowUp")
    assert page.evaluate("window.bst.state.layer") == "score"
    # the scenario: a square of 50 m in the centre of the map, a measure, compute
    _tab_to(page, "#scenario-size")
    page.keyboard.press("ArrowUp")  # 100 m → 50 m
    assert page.evaluate("document.getElementById('scenario-size').value") == "50"
    _tab_to(page, "#scenario-square")
    page.keyboard.press("Enter")
    page.wait_for_function("window.bst.scenario.polygon() !== null")
    page.wait_for_selector("#scenario-measure optgroup[data-kind=recommended]", state="attached")
    _tab_to(page, "#scenario-measure")
    _tab_to(page, "#scenario-compute")
    page.keyboard.press("Enter")
    page.wait_for_selector(TABLE, timeout=60_000)
    _compare_with_api(page)
    # drawing by keyboard: Enter starts, Escape stops, the focus stays on the button
    _tab_to(page, "#scenario-draw")
    page.keyboard.press("Enter")
    assert page.evaluate("window.bst.state.drawing") is True
    page.keyboard.press("Escape")
    assert page.evaluate("window.bst.state.drawing") is False
    assert page.evaluate("document.activeElement.id") == "scenario-draw"
    page.screenshot(path=str(artifacts / "keyboard-scenario.png"))
