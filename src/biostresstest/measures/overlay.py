"""The *met maatregelen* map overlay of a scenario: the score classes after the measures.

Only the recomputed window is drawn (outside it the scenario changes nothing, so the current
map is already the state with measures). The classes are the 7 fixed score classes with the
colours of the current map (:data:`biostresstest.analysis.scoring.SCORE_CLASSES`, the same
table the ``score`` kind of the web's map layers draws). The overlay is a palette PNG
(index 0 transparent outside the scored cells), reduced by nearest neighbour to at most
``MAX_SIDE`` pixels a side, so a 1 ha change at 1 m (a window of 1–3 M cells) stays a small
answer, plus the four corners of the window in WGS84 for a MapLibre image source.

The overlay is part of the scenario result, so a saved scenario carries it too.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image
from pyproj import Transformer

from biostresstest.analysis.scoring import SCORE_CLASSES, score_class
from biostresstest.core.crs import RD_NEW, WGS84
from biostresstest.measures.baseline import Baseline, components_score
from biostresstest.measures.effects import Recomputed, Window
from biostresstest.model.grid import AnalysisGrid

MAX_SIDE = 1024
"""Pixels per side of the overlay at most; larger windows are reduced by nearest neighbour."""


@dataclass(frozen=True)
class WindowClasses:
    """Score classes after the measures in the recomputed window, ready to draw."""

    classes: np.ndarray
    """uint8 (rows, cols): class 1..7, 0 outside the scored cells; possibly reduced."""
    bounds: tuple[float, float, float, float]
    """(xmin, ymin, xmax, ymax) of the window in RD (EPSG:28992)."""
    cells: tuple[int, int]
    """(rows, cols) of the window in grid cells, before any reduction."""

    @property
    def cells_per_pixel(self) -> float:
        """How many grid cells one pixel spans along its longer side (1 = not reduced)."""
        rows, cols = self.cells
        return max(rows / self.classes.shape[0], cols / self.classes.shape[1])


def after_classes(base: Baseline, rec: Recomputed) -> np.ndarray:
    """Score class 1..7 after the measures per cell of the window (0 outside the area).

    The same score as the deltas' ``classes_after``: the published score marks the area, the
    recomputed components give the value.
    """
    published = base.layer("score")[rec.window]
    after = components_score(rec.quality, rec.baf, rec.distance, published)
    return score_class(after)


def nearest_indices(n: int, m: int) -> np.ndarray:
    """Source index of each of ``m`` output pixels over ``n`` cells (nearest neighbour).

    Pixel ``i`` takes the cell under its centre, ``floor((i + ½) n / m)``, so the image spans
    exactly the window whatever the ratio.
    """
    return ((np.arange(m, dtype=np.float64) + 0.5) * n / m).astype(np.int64)


def reduce_nearest(classes: np.ndarray, max_side: int = MAX_SIDE) -> np.ndarray:
    """``classes`` reduced to at most ``max_side`` pixels per side, keeping the aspect ratio."""
    rows, cols = classes.shape
    scale = min(1.0, max_side / max(rows, cols))
    if scale >= 1.0:
        return classes
    m_rows, m_cols = max(1, round(rows * scale)), max(1, round(cols * scale))
    return classes[np.ix_(nearest_indices(rows, m_rows), nearest_indices(cols, m_cols))]


def window_bounds(grid: AnalysisGrid, window: Window) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) in RD of a window of ``grid``."""
    rows, cols = window
    size = grid.cell_size
    return (
        grid.xmin + cols.start * size,
        grid.ymax - rows.stop * size,
        grid.xmin + cols.stop * size,
        grid.ymax - rows.start * size,
    )


def window_classes(base: Baseline, rec: Recomputed, max_side: int = MAX_SIDE) -> WindowClasses:
    """The classes after the measures in the window, reduced to ``max_side``, with bounds."""
    classes = after_classes(base, rec)
    return WindowClasses(
        reduce_nearest(classes, max_side),
        window_bounds(base.grid, rec.window),
        (int(classes.shape[0]), int(classes.shape[1])),
    )


@lru_cache(maxsize=1)
def _to_wgs84() -> Transformer:
    return Transformer.from_crs(RD_NEW, WGS84, always_xy=True)


def corners_wgs84(bounds: tuple[float, float, float, float]) -> list[list[float]]:
    """The four corners [lon, lat] of RD ``bounds``: top left, top right, bottom right, bottom left.

    That is the order of a MapLibre image source. MapLibre stretches the image between the
    corners as a quadrilateral; the true RD → WGS84 warp is not affine, but over a window of a
    few kilometres it departs from the straight-edged quadrilateral by far less than a cell
    (RD is a conformal stereographic projection with scale within 1 ± 10⁻⁴ of true near its
    centre), so mapping the corners only is close enough for cells of 1–10 m.
    """
    xmin, ymin, xmax, ymax = bounds
    lon, lat = _to_wgs84().transform([xmin, xmax, xmax, xmin], [ymax, ymax, ymin, ymin])
    return [[round(float(a), 7), round(float(b), 7)] for a, b in zip(lon, lat, strict=True)]


def _palette() -> list[int]:
    palette = [0] * 768
    for c in SCORE_CLASSES:
        palette[c.value * 3 : c.value * 3 + 3] = [int(c.colour[i : i + 2], 16) for i in (1, 3, 5)]
    return palette


def png_bytes(classes: np.ndarray) -> bytes:
    """A palette PNG of class values (index 0 transparent), colours of the score classes."""
    image = Image.fromarray(np.ascontiguousarray(classes, dtype=np.uint8), mode="P")
    image.putpalette(_palette())
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=6, transparency=0)
    return out.getvalue()


def overlay_json(found: WindowClasses) -> dict[str, Any]:
    """The overlay as JSON: PNG (base64), corners, sizes and the class legend."""
    return {
        "png_base64": base64.b64encode(png_bytes(found.classes)).decode("ascii"),
        "coordinates": corners_wgs84(found.bounds),
        "bounds_rd": [round(v, 3) for v in found.bounds],
        "cells": list(found.cells),
        "pixels": [int(found.classes.shape[0]), int(found.classes.shape[1])],
        "cells_per_pixel": round(found.cells_per_pixel, 4),
        "classes": [
            {"value": c.value, "colour": c.colour, "label_nl": c.label_nl, "label_en": c.label_en}
            for c in SCORE_CLASSES
        ],
    }


def window_overlay(base: Baseline, rec: Recomputed, max_side: int = MAX_SIDE) -> dict[str, Any]:
    """The *met maatregelen* overlay of a recomputed scenario (see the module doc)."""
    return overlay_json(window_classes(base, rec, max_side))
