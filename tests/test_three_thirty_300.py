"""3-30-300 on synthetic cases with known answers, and on the real Otterlo BGT trees and panden."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from biostresstest.analysis import three_thirty_300 as t
from biostresstest.core.settings import Settings
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes
from biostresstest.sources import bgt
from biostresstest.sources.base import fetch

RD = "EPSG:28992"
TABLE = load_classes()
CODE = {key: TABLE.by_key(key).code for key in ("pand", "loofbos", "gras_openbaar", "erf")}


def test_trees_within_view_distance_of_the_outline() -> None:
    homes = gpd.GeoDataFrame(
        {"id": ["a", "b", "c"]},
        geometry=[box(0, 0, 10, 10), box(100, 0, 110, 10), Point(300, 300)],
        crs=RD,
    )
    trees = gpd.GeoDataFrame(
        geometry=[
            Point(15, 5),  # 5 m east of a
            Point(5, 25),  # 15 m north of a
            Point(-19.9, 5),  # 19.9 m west of a
            Point(5, -25),  # 25 m south of a: too far
            Point(125, 5),  # 15 m from b
            Point(300, 321),  # 21 m from c: too far
        ],
        crs=RD,
    )
    assert t.trees_near(homes, trees).tolist() == [3, 1, 0]
    assert t.trees_near(homes, trees, distance_m=25.0).tolist() == [4, 1, 1]


def test_canopy_from_classes_and_crowns_on_a_1_m_grid() -> None:
    grid = AnalysisGrid(xmin=0, ymax=20, width=20, height=20, cell_size=1.0)
    classes = np.full(grid.shape, CODE["pand"], dtype="uint8")
    classes[:, :10] = CODE["loofbos"]
    trees = gpd.GeoDataFrame(geometry=[Point(15.5, 10.5)], crs=RD)
    canopy = t.canopy_share(classes, TABLE, grid, trees, crown_radius_m=3.0)
    assert (canopy[:, :10] == 1.0).all()  # forest: shade 1
    assert canopy[9, 15] == 1.0  # the crown's centre cell
    assert canopy[0, 19] == 0.0 and canopy[19, 19] == 0.0  # building far from the crown
    crown_cells = int((canopy[:, 10:] == 1).sum())
    assert 24 <= crown_cells <= 32  # π · 3² ≈ 28 cells whose centre lies in the disc


def test_canopy_of_a_coarse_cell_is_the_crown_area_share() -> None:
    grid = AnalysisGrid(xmin=0, ymax=10, width=1, height=1, cell_size=10.0)
    classes = np.full(grid.shape, CODE["pand"], dtype="uint8")
    trees = gpd.GeoDataFrame(geometry=[Point(5, 5)], crs=RD)
    share = t.canopy_share(classes, TABLE, grid, trees, crown_radius_m=3.0)
    assert share[0, 0] == pytest.approx(np.pi * 9 / 100, abs=0.03)


def test_distance_to_public_green_of_at_least_half_a_hectare() -> None:
    grid = AnalysisGrid(xmin=0, ymax=500, width=50, height=50, cell_size=10.0)
    classes = np.full(grid.shape, CODE["pand"], dtype="uint8")
    classes[0:5, 0:10] = CODE["gras_openbaar"]  # 50 cells × 100 m² = 0.5 ha: counts
    classes[40:47, 40:47] = CODE["gras_openbaar"]  # 49 cells = 0.49 ha: too small
    classes[20:30, 20:30] = CODE["erf"]  # 1 ha of gardens: private, never counts
    patches = t.public_green_patches(classes, TABLE, grid)
    assert patches.sum() == 50 and not patches[40:47, 40:47].any()
    distance = t.distance_to_green(patches, grid)
    assert distance[2, 5] == 0
    assert distance[20, 5] == pytest.approx(160.0)  # 16 cells below the patch's last row
    assert distance[4 + 3, 9 + 4] == pytest.approx(50.0)  # a 3-4-5 triangle of cells
    assert distance[45, 45] > 300
    nothing = t.distance_to_green(np.zeros(grid.shape, bool), grid)
    assert np.isinf(nothing).all()


def test_homes_summary_per_area() -> None:
    areas = gpd.GeoDataFrame(
        {"code": ["BU1", "BU2"]}, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=RD
    )
    homes = gpd.GeoDataFrame(
        geometry=[box(10, 10, 20, 20), box(50, 50, 60, 60), box(150, 10, 160, 20)], crs=RD
    )
    summary = t.homes_summary(homes, np.array([3, 1, 5]), np.array([100.0, 400.0, 50.0]), areas)
    assert summary["homes"].tolist() == [2, 1]
    assert summary["share_3_trees"].tolist() == [0.5, 1.0]
    assert summary["share_300m_green"].tolist() == [0.5, 1.0]


@pytest.fixture(scope="module")
def otterlo_bgt(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> bgt.BgtLandCover:
    settings = Settings(data_dir=tmp_path_factory.mktemp("bgt"), mirror=mirror)
    return bgt.read_land_cover(fetch(bgt.SPEC, settings))


def test_otterlo_trees_seen_from_the_panden(otterlo_bgt: bgt.BgtLandCover) -> None:
    panden = otterlo_bgt.polygons[otterlo_bgt.polygons["layer"] == "pand"].reset_index(drop=True)
    trees = otterlo_bgt.trees
    counted = t.trees_near(panden, trees)
    assert len(counted) == 1711 and counted.sum() > 0
    # independent check on every 50th pand: plain distances, no spatial index
    for i in range(0, len(panden), 50):
        by_hand = int((trees.geometry.distance(panden.geometry.iloc[i]) <= 20.0).sum())
        assert counted[i] == by_hand
    share = float((counted >= 3).mean())
    assert 0.05 < share < 0.95  # a village with street trees, farms and woods: neither extreme
