"""The potential's choice of measure per patch equals the plain cell-by-cell rule.

``best_measures`` works per class on the box around its cells, per patch instead of per cell,
and with a distance transform cut just past the widest measure. Here it is compared with the
rule written out plainly on the whole grid (scipy's exact distance transform and per-patch
maximum), on synthetic grids at several cell sizes.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from biostresstest.measures.catalogue import Measure, load_catalogue
from biostresstest.measures.potential import best_measures, candidates
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes

EIGHT = np.ones((3, 3), bool)


def plain_rule(classes: np.ndarray, grid: AnalysisGrid) -> tuple[np.ndarray, list[Measure]]:
    """Per cell, the first option whose whole patch is large and wide enough (whole grid)."""
    catalogue = load_catalogue()
    chosen = np.full(classes.shape, -1, np.int16)
    used: list[Measure] = []
    for cls in load_classes():
        options = candidates(cls.key, catalogue)
        mask = classes == cls.code
        if not options or not mask.any():
            continue
        labels, n = ndimage.label(mask, structure=EIGHT)
        area = np.bincount(labels.ravel(), minlength=n + 1) * grid.cell_area
        width = np.full(n + 1, np.inf)
        if any(c.measure.min_width_m > grid.cell_size for c in options):
            edt = ndimage.distance_transform_edt(mask) * grid.cell_size
            width[1:] = 2 * np.asarray(ndimage.maximum(edt, labels, np.arange(1, n + 1)))
        open_cells = mask.copy()
        for option in options:
            m = option.measure
            ok = (area >= m.min_area_m2) & (width >= m.min_width_m)
            ok[0] = False
            cells = open_cells & ok[labels]
            if cells.any():
                if m not in used:
                    used.append(m)
                chosen[cells] = used.index(m)
                open_cells &= ~cells
    return chosen, used


def synthetic(seed: int, shape: tuple[int, int], block: int) -> np.ndarray:
    """Blocks of random classes with scattered single cells (patches of every size)."""
    rng = np.random.default_rng(seed)
    codes = np.array(sorted(c.code for c in load_classes()), np.uint8)
    small = rng.choice(codes, size=(shape[0] // block + 1, shape[1] // block + 1))
    grid = np.repeat(np.repeat(small, block, 0), block, 1)[: shape[0], : shape[1]]
    noise = rng.random(shape) < 0.04
    return np.where(noise, rng.choice(codes, size=shape), grid).astype(np.uint8)


@pytest.mark.parametrize(
    ("seed", "shape", "block", "cell"),
    [
        (1, (160, 150), 9, 1.0),
        (2, (120, 170), 23, 0.5),
        (3, (90, 80), 30, 2.0),
        (4, (100, 100), 6, 10.0),
        (5, (1, 200), 7, 1.0),
    ],
)
def test_best_measures_follows_the_plain_rule(
    seed: int, shape: tuple[int, int], block: int, cell: float
) -> None:
    classes = synthetic(seed, shape, block)
    grid = AnalysisGrid(180_000.0, 458_000.0, shape[1], shape[0], cell)
    expected, expected_used = plain_rule(classes, grid)
    chosen, used = best_measures(classes, grid)
    assert (expected >= 0).any(), "the case must choose measures somewhere"
    assert [m.key for m in used] == [m.key for m in expected_used]
    np.testing.assert_array_equal(chosen, expected)


def test_a_class_filling_the_grid_is_measured_like_the_plain_rule() -> None:
    """No cell of another class at all: the distance convention of scipy decides the width."""
    catalogue = load_catalogue()
    wide = next(
        c
        for c in load_classes()
        if any(o.measure.min_width_m > 2.0 for o in candidates(c.key, catalogue))
    )
    classes = np.full((40, 60), wide.code, np.uint8)
    grid = AnalysisGrid(180_000.0, 458_000.0, 60, 40, 1.0)
    expected, expected_used = plain_rule(classes, grid)
    chosen, used = best_measures(classes, grid)
    assert [m.key for m in used] == [m.key for m in expected_used]
    np.testing.assert_array_equal(chosen, expected)
