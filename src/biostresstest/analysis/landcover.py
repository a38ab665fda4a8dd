"""Harmonising land-cover sources onto the analysis grid, with a confidence per cell.

Vector sources (the BGT) are burnt at the grid's cell size by cell centre, in order of their
layer priority, so where two objects overlap the higher layer decides. Several sources merge
cell by cell: the most trusted source with a class decides (municipal survey > BGT > national
raster > European raster), and the confidence raster records its level. Aggregating to coarser
cells keeps area-true class fractions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from rasterio.features import rasterize

from biostresstest.model.confidence import Confidence
from biostresstest.model.grid import AnalysisGrid

NO_CLASS = 0
HEDGE_WIDTH = 1.0
"""Metres; hedges come as lines and are burnt as strips this wide."""


@dataclass(frozen=True)
class LandCoverLayer:
    """One source's land cover on the grid: class codes (0 = no data) and its confidence."""

    classes: np.ndarray
    confidence: Confidence


def rasterize_land_cover(
    polygons: gpd.GeoDataFrame,
    grid: AnalysisGrid,
    lines: gpd.GeoDataFrame | None = None,
) -> np.ndarray:
    """Class codes (uint8) per cell from polygons with ``code`` and ``priority`` columns.

    ``lines`` (with ``code``) lie on top of the partition, as strips ``HEDGE_WIDTH`` wide.
    """
    ordered = polygons.sort_values("priority", kind="stable")
    shapes = list(zip(ordered.geometry, ordered["code"].astype(int), strict=True))
    if lines is not None and not lines.empty:
        strips = lines.geometry.buffer(HEDGE_WIDTH / 2, cap_style="flat")
        shapes += list(zip(strips, lines["code"].astype(int), strict=True))
    if not shapes:
        return np.zeros(grid.shape, dtype="uint8")
    return rasterize(
        shapes, out_shape=grid.shape, transform=grid.transform, fill=NO_CLASS, dtype="uint8"
    )


def merge_land_cover(layers: Sequence[LandCoverLayer]) -> tuple[np.ndarray, np.ndarray]:
    """(classes, confidence): per cell the class of the most trusted layer that has one."""
    if not layers:
        raise ValueError("no land-cover layers to merge")
    shape = layers[0].classes.shape
    classes = np.zeros(shape, dtype="uint8")
    confidence = np.zeros(shape, dtype="uint8")
    for layer in sorted(layers, key=lambda item: item.confidence):
        has = layer.classes != NO_CLASS
        classes[has] = layer.classes[has]
        confidence[has] = int(layer.confidence)
    return classes, confidence


def class_fractions(classes: np.ndarray, factor: int, codes: Sequence[int]) -> np.ndarray:
    """Area-true fractions (len(codes), h/factor, w/factor) of each class in coarser cells.

    Cells without a class count in no fraction, so fractions of a cell sum to its covered share.
    """
    rows, cols = classes.shape
    if rows % factor or cols % factor:
        raise ValueError(f"a {rows}×{cols} grid does not divide into blocks of {factor}")
    blocks = classes.reshape(rows // factor, factor, cols // factor, factor)
    out = np.empty((len(codes), rows // factor, cols // factor), dtype="float32")
    for i, code in enumerate(codes):
        out[i] = (blocks == code).mean(axis=(1, 3))
    return out


def class_areas(classes: np.ndarray, cell_area: float) -> dict[int, float]:
    """Area in m² of every class code present (0 excluded)."""
    counts = np.bincount(classes.ravel(), minlength=256)
    return {code: float(n) * cell_area for code, n in enumerate(counts) if n and code}


def share_of(classes: np.ndarray, codes: Sequence[int]) -> np.ndarray:
    """Per cell 1.0 where the class is one of ``codes``, 0.0 otherwise, NaN without a class."""
    share = np.isin(classes, list(codes)).astype("float32")
    share[classes == NO_CLASS] = np.nan
    return share
