"""The *met maatregelen* overlay of a scenario: a palette PNG of the classes after the measures
in the recomputed window, with its corners in WGS84 (Otterlo at 1 m, the real BGT)."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pyproj import Transformer

from biostresstest.analysis.scoring import SCORE_CLASSES, score_class
from biostresstest.core.settings import Settings
from biostresstest.measures import scenario as scenarios
from biostresstest.measures.baseline import components_score, load_baseline
from biostresstest.measures.effects import recompute
from biostresstest.measures.overlay import MAX_SIDE, window_overlay
from biostresstest.measures.places import to_edit
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.landcover import load_classes
from biostresstest.web.app import create_app
from biostresstest.web.map_layers import load_map_layers


def _decode(overlay: dict[str, Any]) -> tuple[np.ndarray, Image.Image]:
    image = Image.open(io.BytesIO(base64.b64decode(overlay["png_base64"])))
    assert image.format == "PNG" and image.mode == "P"
    return np.asarray(image), image


def _place(settings: Settings, side: float) -> tuple[str, list[dict[str, Any]]]:
    """A square of ``side`` m on farmland in the middle of Otterlo, with a field margin."""
    base = load_baseline(EmbeddedStore(settings.data_dir / "store"), "otterlo")
    g = base.grid
    rows, cols = np.nonzero(base.landcover == load_classes().by_key("akker").code)
    r, c = int(rows[len(rows) // 2]), int(cols[len(cols) // 2])
    x, y = g.xmin + c * g.cell_size, g.ymax - r * g.cell_size
    wkt = f"POLYGON(({x} {y - side},{x + side} {y - side},{x + side} {y},{x} {y},{x} {y - side}))"
    return "otterlo", [{"measure": "akkerrand", "wkt": wkt}]


@pytest.fixture(scope="module")
def answer(otterlo: tuple[Settings, object]) -> tuple[Settings, dict[str, Any]]:
    settings, _ = otterlo
    client = TestClient(create_app(settings))
    area, places = _place(settings, 100.0)
    body = {"area": area, "name": "overlay-rand", "places": places, "save": True}
    got = client.post("/api/scenarios", json=body)
    assert got.status_code == 200, got.text
    data = got.json()
    size = len(got.content)
    saved = client.get("/api/scenarios/otterlo/overlay-rand").json()
    assert saved["result"]["overlay"] == data["result"]["overlay"]  # saved scenarios carry it
    print(
        f"overlay: window {data['result']['overlay']['cells']} cells → "
        f"{data['result']['overlay']['pixels']} px, PNG "
        f"{len(base64.b64decode(data['result']['overlay']['png_base64'])) / 1024:.1f} KiB, "
        f"answer {size / 1024:.1f} KiB, scenario {data['result']['seconds']} s"
    )
    return settings, data


def _recomputed_classes(settings: Settings, data: dict[str, Any]) -> np.ndarray:
    """The classes after the measures at full resolution, through the same functions."""
    base = load_baseline(EmbeddedStore(settings.data_dir / "store"), "otterlo")
    scenario = scenarios.build("x", "otterlo", data["places"])
    edits = [to_edit(base, item, i) for i, item in enumerate(scenario.items, start=1)]
    rec = recompute(base, edits)
    after = components_score(rec.quality, rec.baf, rec.distance, base.layer("score")[rec.window])
    return score_class(after)


def test_overlay_is_the_after_classes_of_the_window(
    answer: tuple[Settings, dict[str, Any]],
) -> None:
    settings, data = answer
    overlay, score = data["result"]["overlay"], data["result"]["score"]
    full = _recomputed_classes(settings, data)
    counts = [int(n) for n in np.bincount(full.ravel(), minlength=8)[1:8]]
    assert counts == score["window"]["classes_after"]
    assert list(full.shape) == overlay["cells"]
    assert full.size == score["window"]["cells"]
    pixels, image = _decode(overlay)
    assert list(pixels.shape) == overlay["pixels"] and max(pixels.shape) <= MAX_SIDE
    assert image.info.get("transparency") == 0
    rows, cols = full.shape
    m_rows, m_cols = pixels.shape
    # nearest neighbour: pixel i shows the cell under its centre
    ri = np.floor((np.arange(m_rows) + 0.5) * rows / m_rows).astype(int)
    ci = np.floor((np.arange(m_cols) + 0.5) * cols / m_cols).astype(int)
    assert np.array_equal(pixels, full[np.ix_(ri, ci)])
    shown = np.bincount(pixels.ravel(), minlength=8)[1:8] / max(1, int(np.count_nonzero(pixels)))
    truth = np.array(counts) / max(1, sum(counts))
    assert np.abs(shown - truth).max() < 0.02  # the reduced image keeps the class shares


def test_overlay_counts_equal_the_deltas_when_not_reduced(
    answer: tuple[Settings, dict[str, Any]],
) -> None:
    settings, data = answer
    base = load_baseline(EmbeddedStore(settings.data_dir / "store"), "otterlo")
    scenario = scenarios.build("x", "otterlo", data["places"])
    edits = [to_edit(base, item, i) for i, item in enumerate(scenario.items, start=1)]
    rec = recompute(base, edits)
    full = window_overlay(base, rec, max_side=10**6)
    pixels, _ = _decode(full)
    assert full["cells_per_pixel"] == 1.0
    counts = [int(n) for n in np.bincount(pixels.ravel(), minlength=8)[1:8]]
    assert counts == data["result"]["score"]["window"]["classes_after"]
    # the place itself rose: its cells' classes after are at least those before, some higher
    before = score_class(base.score_before()[rec.window])
    changed = pixels != before
    assert changed.any() and (pixels[changed] > before[changed]).mean() > 0.5


def test_overlay_palette_and_corners(answer: tuple[Settings, dict[str, Any]]) -> None:
    _, data = answer
    overlay = data["result"]["overlay"]
    _, image = _decode(overlay)
    palette = image.getpalette() or []
    score_layer = load_map_layers()["score_class"]  # the current map's cells
    for c in SCORE_CLASSES:  # the colours of the current map's score tiles
        assert (
            palette[c.value * 3 : c.value * 3 + 3]
            == score_layer.palette()[c.value * 3 : c.value * 3 + 3]
        )
    assert [c["value"] for c in overlay["classes"]] == list(range(1, 8))
    xmin, ymin, xmax, ymax = overlay["bounds_rd"]
    to_wgs = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
    expected = [to_wgs.transform(x, y) for x, y in ((xmin, ymax), (xmax, ymax), (xmax, ymin))]
    expected.append(to_wgs.transform(xmin, ymin))
    for got, want in zip(overlay["coordinates"], expected, strict=True):
        assert got == pytest.approx(list(want), abs=1e-6)
    # close to affine: the window's centre maps within a fraction of a cell of the corners' mean
    lon, lat = to_wgs.transform((xmin + xmax) / 2, (ymin + ymax) / 2)
    mean = np.mean(np.array(overlay["coordinates"]), axis=0)
    off_m = np.hypot((lon - mean[0]) * 111320 * np.cos(np.radians(lat)), (lat - mean[1]) * 110574)
    assert off_m < 0.1
    print(f"overlay corners: centre off the quadrilateral's centre by {off_m * 1000:.2f} mm")
