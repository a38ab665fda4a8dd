"""Area-weighted aggregation of cell layers to area units.

Each cell counts with the exact share of its area that lies inside the polygon (exactextract's
coverage fractions), so small buurten and ragged edges are weighed right. Cells without a value
(NaN) are left out; ``data_coverage`` tells which share of the area had values.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
from exactextract import exact_extract
from exactextract.raster import NumPyRasterSource

from biostresstest.model.grid import AnalysisGrid


def area_means(
    areas: gpd.GeoDataFrame, layers: Mapping[str, np.ndarray], grid: AnalysisGrid
) -> gpd.GeoDataFrame:
    """``areas`` with one column per layer: its area-weighted mean inside each polygon."""
    xmin, ymin, xmax, ymax = grid.bounds
    sources = [
        NumPyRasterSource(array, xmin, ymin, xmax, ymax, nodata=np.nan, name=name)
        for name, array in layers.items()
    ]
    vectors = areas[["code", "geometry"]].reset_index(drop=True)
    # one pass over the polygons for all layers: the coverage fractions are computed once
    stats = exact_extract(
        sources, vectors, ["mean", "count"], include_cols=["code"], output="pandas"
    )
    # exactextract prefixes the raster name only when it is given several rasters
    prefix = {name: f"{name}_" if len(sources) > 1 else "" for name in layers}
    result = areas.copy()
    for name in layers:
        result[name] = stats[f"{prefix[name]}mean"].to_numpy(dtype="float64")
    first = next(iter(layers))
    polygon_cells = vectors.geometry.area.to_numpy() / grid.cell_area
    counts = stats[f"{prefix[first]}count"].to_numpy()
    result["data_coverage"] = np.clip(counts / polygon_cells, 0, 1)
    return result
