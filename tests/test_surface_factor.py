from __future__ import annotations

import numpy as np
import pytest

from biostresstest.analysis.surface_factor import (
    factor_of_classes,
    factor_of_fractions,
    lookup,
)
from biostresstest.model.areas import AreaLevel
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.landcover import load_classes


def test_lookup_and_cells() -> None:
    table = load_classes()
    values = lookup(table, "baf")
    pand, loofbos = table.by_key("pand").code, table.by_key("loofbos").code
    classes = np.array([[pand, loofbos], [0, loofbos]], dtype="uint8")
    result = factor_of_classes(classes, values)
    assert result[0].tolist() == [table.by_key("pand").baf.value, table.by_key("loofbos").baf.value]
    assert np.isnan(result[1, 0])
    with pytest.raises(ValueError):
        lookup(table, "xyz")


def test_fractions_weigh_by_area() -> None:
    values = np.zeros(256, dtype="float32")
    values[1], values[2] = 0.0, 1.0
    result = factor_of_fractions({1: np.array([0.75, 0.0]), 2: np.array([0.25, 0.0])}, values)
    assert result[0] == pytest.approx(0.25) and np.isnan(result[1])


def test_area_factor_equals_the_class_area_weighted_mean(otterlo: tuple) -> None:
    settings, _ = otterlo
    store = EmbeddedStore(settings.data_dir / "store")
    table = load_classes()
    areas = store.document("otterlo", "landcover")["classes"]["otterlo"]
    expected = sum(m2 * table.by_key(k).baf.value for k, m2 in areas.items()) / sum(areas.values())
    [row] = store.areas("otterlo", AreaLevel.GEBIED).itertuples()
    assert row.baf == pytest.approx(expected, abs=1e-4)
