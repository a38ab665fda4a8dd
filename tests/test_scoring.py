from __future__ import annotations

import numpy as np
import pytest

from biostresstest.analysis.scoring import (
    CLASS_BOUNDS,
    FORMULA,
    SCORE_CLASSES,
    WEIGHTS,
    connectivity,
    score_class,
    stress_score,
)


def test_seven_classes_from_dark_red_to_dark_green() -> None:
    assert [c.value for c in SCORE_CLASSES] == [1, 2, 3, 4, 5, 6, 7]
    assert SCORE_CLASSES[0].colour == "#8b0020" and SCORE_CLASSES[-1].colour == "#00522a"
    assert len({c.colour for c in SCORE_CLASSES}) == 7


def test_thresholds_are_absolute_sevenths() -> None:
    assert np.allclose(CLASS_BOUNDS, np.arange(1, 7) / 7)
    edges = np.array([0.0, 1 / 7 - 1e-9, 1 / 7, 0.5, 6 / 7 - 1e-9, 6 / 7, 1.0])
    assert score_class(edges).tolist() == [1, 1, 2, 4, 6, 7, 7]


def test_no_score_gives_no_class() -> None:
    assert score_class(np.array([np.nan, 0.2])).tolist() == [0, 2]


def test_score_is_the_weighted_geometric_mean() -> None:
    quality = np.array([1.0, 0.25, 0.5, 1.0])
    surface = np.array([1.0, 1.0, 0.5, 1.0])
    linked = np.array([1.0, 1.0, 0.5, 0.0625])
    expected = [1.0, 0.5, 0.5, 0.5]  # 0.25^0.5; 0.5^1; 0.0625^0.25
    assert np.allclose(stress_score(quality, surface, linked), expected, atol=1e-6)
    assert sum(WEIGHTS.values()) == 1.0
    assert FORMULA == "habitat_quality^0.5 · baf^0.25 · connectivity^0.25"


def test_a_zero_component_cannot_hide_behind_the_others() -> None:
    score = stress_score(np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([1.0, 1.0]))
    assert score.tolist() == [0.0, 0.0]
    assert score_class(score).tolist() == [1, 1]


def test_only_good_connected_habitat_reaches_the_top_class() -> None:
    forest_in_core = stress_score(np.array([0.95]), np.array([1.0]), connectivity(np.array([0.0])))
    forest_far_away = stress_score(
        np.array([0.95]), np.array([1.0]), connectivity(np.array([3000.0]))
    )
    lawn = stress_score(np.array([0.2]), np.array([1.0]), connectivity(np.array([0.0])))
    assert score_class(forest_in_core)[0] == 7
    assert score_class(forest_far_away)[0] == 4
    assert score_class(lawn)[0] == 4


def test_connectivity_falls_with_distance_to_core() -> None:
    values = connectivity(np.array([0.0, 1000.0, np.nan]))
    assert values[0] == 1.0 and values[1] == pytest.approx(np.exp(-1), rel=1e-6)
    assert np.isnan(values[2])


def test_score_is_nan_where_a_component_is_unknown() -> None:
    assert np.isnan(stress_score(np.array([np.nan]), np.array([1.0]), np.array([1.0]))[0])
