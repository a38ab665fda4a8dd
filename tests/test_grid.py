from __future__ import annotations

import pytest

from biostresstest.core.errors import InvalidInput
from biostresstest.model.grid import AnalysisGrid


def test_covering_grid_is_aligned_to_whole_cells() -> None:
    grid = AnalysisGrid.covering((104499.3, 388704.2, 119257.9, 406242.0), 10.0)
    assert grid.bounds == (104490.0, 388700.0, 119260.0, 406250.0)
    assert grid.shape == (1755, 1477)
    assert grid.transform.a == 10.0 and grid.transform.e == -10.0


def test_neighbouring_grids_share_cell_edges() -> None:
    left = AnalysisGrid.covering((1000.5, 0, 1999.5, 500), 2.0)
    right = AnalysisGrid.covering((1999.5, 0, 3000.1, 500), 2.0)
    assert (right.xmin - left.xmin) % 2.0 == 0


def test_misaligned_grid_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not a multiple"):
        AnalysisGrid(xmin=104495.0, ymax=406250.0, width=10, height=10, cell_size=10.0)


def test_cell_of_point() -> None:
    grid = AnalysisGrid(xmin=0.0, ymax=100.0, width=10, height=10, cell_size=10.0)
    assert grid.cell_of(0.0, 100.0) == (0, 0)
    assert grid.cell_of(99.9, 0.1) == (9, 9)
    assert grid.cell_of(100.0, 50.0) is None


def test_empty_bounds_are_refused() -> None:
    with pytest.raises(InvalidInput):
        AnalysisGrid.covering((10, 10, 10, 20))
