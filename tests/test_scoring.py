from __future__ import annotations

import numpy as np

from biostresstest.analysis.scoring import (
    CLASS_BOUNDS,
    SCORE_CLASSES,
    WEIGHTS,
    score_class,
    stress_score,
)


def test_seven_classes_from_dark_red_to_dark_green() -> None:
    assert [c.value for c in SCORE_CLASSES] == [1, 2, 3, 4, 5, 6, 7]
    assert SCORE_CLASSES[0].colour == "#a50026" and SCORE_CLASSES[-1].colour == "#006837"
    assert len({c.colour for c in SCORE_CLASSES}) == 7


def test_thresholds_are_absolute_sevenths() -> None:
    assert np.allclose(CLASS_BOUNDS, np.arange(1, 7) / 7)
    edges = np.array([0.0, 1 / 7 - 1e-9, 1 / 7, 0.5, 6 / 7 - 1e-9, 6 / 7, 1.0])
    assert score_class(edges).tolist() == [1, 1, 2, 4, 6, 7, 7]


def test_no_score_gives_no_class() -> None:
    assert score_class(np.array([np.nan, 0.2])).tolist() == [0, 2]


def test_score_weights_green_and_natura2000() -> None:
    green = np.array([0.0, 1.0, 1.0, 0.5])
    n2k = np.array([1.0, 0.0, 1.0, 0.0])
    expected = [0.15, 0.85, 1.0, 0.425]
    assert stress_score(green, n2k).tolist() == np.float32(expected).tolist()
    assert sum(WEIGHTS.values()) == 1.0


def test_only_protected_green_reaches_the_top_class() -> None:
    assert score_class(stress_score(np.array([1.0]), np.array([0.0])))[0] == 6
    assert score_class(stress_score(np.array([1.0]), np.array([1.0])))[0] == 7


def test_score_is_nan_where_green_is_unknown() -> None:
    assert np.isnan(stress_score(np.array([np.nan]), np.array([0.0]))[0])
