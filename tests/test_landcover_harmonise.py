from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, box

from biostresstest.analysis.landcover import (
    LandCoverLayer,
    class_areas,
    class_fractions,
    merge_land_cover,
    rasterize_land_cover,
    share_of,
)
from biostresstest.model.confidence import Confidence
from biostresstest.model.grid import AnalysisGrid

GRID = AnalysisGrid(xmin=0.0, ymax=10.0, width=10, height=10, cell_size=1.0)


def test_higher_priority_wins_where_objects_overlap() -> None:
    polygons = gpd.GeoDataFrame(
        {"code": [30, 1], "priority": [30, 90]},
        geometry=[box(0, 0, 10, 10), box(2, 2, 4, 4)],
        crs="EPSG:28992",
    )
    for order in ([0, 1], [1, 0]):  # the input order does not matter
        classes = rasterize_land_cover(polygons.iloc[order], GRID)
        assert class_areas(classes, 1.0) == {1: 4.0, 30: 96.0}


def test_hedge_lines_lie_on_top_as_strips() -> None:
    polygons = gpd.GeoDataFrame(
        {"code": [30], "priority": [30]}, geometry=[box(0, 0, 10, 10)], crs="EPSG:28992"
    )
    lines = gpd.GeoDataFrame(
        {"code": [33]}, geometry=[LineString([(0, 5.5), (10, 5.5)])], crs="EPSG:28992"
    )
    classes = rasterize_land_cover(polygons, GRID, lines)
    assert class_areas(classes, 1.0)[33] == 10.0  # the one row of cells under the strip
    assert (classes == 0).sum() == 0


def test_most_trusted_source_decides_and_confidence_records_it() -> None:
    national = np.full((2, 2), 90, dtype="uint8")
    bgt = np.array([[30, 0], [1, 0]], dtype="uint8")
    municipal = np.array([[0, 0], [0, 50]], dtype="uint8")
    classes, confidence = merge_land_cover(
        [
            LandCoverLayer(bgt, Confidence.NATIONAL_VECTOR),
            LandCoverLayer(municipal, Confidence.MUNICIPAL),
            LandCoverLayer(national, Confidence.NATIONAL_RASTER),
        ]
    )
    assert classes.tolist() == [[30, 90], [1, 50]]
    assert confidence.tolist() == [[3, 2], [3, 4]]


def test_class_fractions_are_area_true() -> None:
    classes = np.zeros((4, 4), dtype="uint8")
    classes[:2, :2] = 30
    classes[0, 2] = 1
    fractions = class_fractions(classes, 2, [1, 30])
    assert fractions.shape == (2, 2, 2)
    assert fractions[1].tolist() == [[1.0, 0.0], [0.0, 0.0]]
    assert fractions[0].tolist() == [[0.0, 0.25], [0.0, 0.0]]
    total = sum(frac.sum() for frac in fractions) * 4  # in fine cells
    assert total == (classes > 0).sum()
    with pytest.raises(ValueError):
        class_fractions(classes, 3, [1])


def test_share_of_marks_cells_without_class() -> None:
    share = share_of(np.array([[30, 1], [0, 30]], dtype="uint8"), [30])
    assert share[0].tolist() == [1.0, 0.0] and np.isnan(share[1, 0])
