"""A gemeente's own data changes its results: a tree register decides the land cover and raises
the confidence where it lies (the Otterlo study area lies in Ede, GM0228)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio

from biostresstest.core.settings import Settings
from biostresstest.model.confidence import Confidence
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.landcover import load_classes
from biostresstest.model.study_area import StudyArea
from biostresstest.pipeline.run_area import run_area
from biostresstest.sources.upload import import_file

TREES = [(180_620.0, 456_610.0), (180_750.0, 456_880.0), (180_880.0, 456_700.0)]
AREA = StudyArea(
    key="otterlo",
    name="Otterlo, 500 m square of the BGT download",
    gemeente="GM0228",
    bounds=(180_500.0, 456_500.0, 181_000.0, 457_000.0),
    cell_size=1.0,
)
"""A quarter of a kilometre square inside the BGT download: small enough to run twice here."""


def _sample(store: EmbeddedStore, layer: str) -> list[int]:
    with rasterio.open(store.raster_path("otterlo", layer)) as src:
        return [int(v[0]) for v in src.sample(TREES)]


def test_a_tree_register_decides_the_land_cover_and_raises_confidence(
    settings: Settings, tmp_path: Path
) -> None:
    store = EmbeddedStore(settings.data_dir / "store")
    run_area(AREA, settings, store)
    before = _sample(store, "confidence")
    assert before == [int(Confidence.NATIONAL_VECTOR)] * 3
    with rasterio.open(store.raster_path("otterlo", "confidence")) as src:
        municipal_before = int((src.read(1) == Confidence.MUNICIPAL).sum())
    assert municipal_before == 0

    register = tmp_path / "bomen.csv"
    rows = [f"Quercus robur;{i};{x};{y}" for i, (x, y) in enumerate(TREES)]
    register.write_text("soort;boomnummer;x;y\n" + "\n".join(rows) + "\n", "utf-8")
    import_file(settings, "GM0228", register, "trees", who="test", crs="EPSG:28992")

    summary = run_area(AREA, settings, store)
    assert summary.published
    assert _sample(store, "confidence") == [int(Confidence.MUNICIPAL)] * 3
    assert _sample(store, "landcover") == [load_classes().by_key("loofbos").code] * 3
    with rasterio.open(store.raster_path("otterlo", "confidence")) as src:
        municipal = int((src.read(1) == Confidence.MUNICIPAL).sum())
    # three crowns of 8 m across at 1 m cells: about 3 · π · 4² ≈ 150 cells
    assert 120 <= municipal <= 200
    assert np.isfinite(summary.manifest["steps"]["landcover"]["seconds"])
