from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from biostresstest.analysis.aggregate import area_means
from biostresstest.analysis.coverage import coverage_share
from biostresstest.model.grid import AnalysisGrid

GRID = AnalysisGrid(xmin=0.0, ymax=40.0, width=4, height=4, cell_size=10.0)


def test_coverage_share_is_area_true() -> None:
    share = coverage_share(gpd.GeoSeries([box(5, 35, 20, 40)], crs="EPSG:28992"), GRID)
    # top row: cell 0 half covered (x 5..10, y 35..40 of 10x10 → 0.25), cell 1 a quarter too
    assert share[0, 0] == pytest.approx(0.25)
    assert share[0, 1] == pytest.approx(0.5)
    assert share[1:].sum() == 0
    assert share.sum() * GRID.cell_area == pytest.approx(75.0)


def test_coverage_share_of_polygons_outside_the_grid_is_zero() -> None:
    share = coverage_share(gpd.GeoSeries([box(100, 100, 200, 200)], crs="EPSG:28992"), GRID)
    assert share.sum() == 0


def test_area_means_weigh_cells_by_their_covered_area() -> None:
    values = np.arange(16, dtype="float32").reshape(4, 4)
    values[3, 3] = np.nan
    areas = gpd.GeoDataFrame(
        {"code": ["a", "b", "c"]},
        geometry=[box(0, 30, 10, 40), box(5, 30, 15, 40), box(20, 0, 40, 20)],
        crs="EPSG:28992",
    )
    result = area_means(areas, {"v": values}, GRID)
    assert result["v"].tolist() == pytest.approx([0.0, 0.5, (10 + 11 + 14) / 3])
    assert result["data_coverage"].tolist() == pytest.approx([1.0, 1.0, 0.75])


def test_area_means_of_several_layers_in_one_pass() -> None:
    ones = np.ones((4, 4), dtype="float32")
    areas = gpd.GeoDataFrame({"code": ["a"]}, geometry=[box(0, 0, 40, 40)], crs="EPSG:28992")
    result = area_means(areas, {"one": ones, "two": ones * 2}, GRID)
    assert (result.loc[0, "one"], result.loc[0, "two"]) == (1.0, 2.0)
