"""Helpers of the tests that hold our InVEST models against natcap.invest's own outputs (the golden
files of ``tests/golden/``): comparing two rasters, and breaking a copied input raster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import rasterio


def raster_difference(expected: Path, ours: Path) -> tuple[float, int]:
    """The largest ``|ours - expected|`` over the valid cells, and how many cells are valid.

    Asserts first that both rasters share grid, CRS, dtype, nodata and nodata mask.
    """
    label = f"{expected.parent.parent.name}/{expected.name}"
    with rasterio.open(expected) as e_ds, rasterio.open(ours) as o_ds:
        e, o = e_ds.read(1), o_ds.read(1)
        assert o_ds.dtypes == e_ds.dtypes, f"{label}: dtype"
        assert o_ds.nodata == e_ds.nodata, f"{label}: nodata"
        assert o.shape == e.shape and o_ds.transform.almost_equals(e_ds.transform), f"{label}: grid"
        assert o_ds.crs == e_ds.crs, f"{label}: CRS"
        e_mask, o_mask = e == e_ds.nodata, o == o_ds.nodata
    assert np.array_equal(e_mask, o_mask), f"{label}: nodata masks differ"
    diff = np.abs(o[~o_mask].astype(np.float64) - e[~e_mask].astype(np.float64))
    return (float(diff.max()) if diff.size else 0.0), int(diff.size)


def rewrite_raster(source: Path, target: Path | None = None, **profile: Any) -> None:
    """Write the cells of ``source`` to ``target`` (by default ``source`` itself) with
    ``profile`` changed, e.g. another CRS or transform."""
    with rasterio.open(source) as ds:
        changed, data = {**ds.profile, **profile}, ds.read(1)
    with rasterio.open(target or source, "w", **changed) as ds:
        ds.write(data, 1)
