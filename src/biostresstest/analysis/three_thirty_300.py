"""The 3-30-300 rule of urban green (Konijnendijk; methods.md §b.9), measured from open data.

* **3** — at least three trees visible from every home: counted here as the tree points within
  :data:`VIEW_DISTANCE_M` of the home's outline (footprint polygon or address point). There is no
  line of sight: no window positions, walls or crowns in the open data, so a tree behind the
  house counts too. The "3" is the most parameter-sensitive part of the rule (methods.md §b.9);
  20 m is about the width of a Dutch residential street with front gardens. Tygron counts ≥ 1
  tree within 100 m ([S25c]); that is far looser.
* **30** — tree canopy cover per area unit against 30 %: canopy per cell is the class's canopy
  share (the ``shade`` parameter of the class table: share of tree canopy ≥ 2 m, InVEST UCM's
  definition) plus the crowns of single trees, discs of :data:`CROWN_RADIUS_M` around tree
  points burnt on the grid (the BGT has no crown sizes).
* **300** — every home within 300 m of public green of at least :data:`MIN_PUBLIC_GREEN_HA`
  (WHO's ≥ 0.5–1 ha, (m)). Distance is **Euclidean**, not along the street network (no network
  data here), so it flatters places behind barriers (rail, water, motorways).
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from rasterio.features import rasterize
from scipy import ndimage

from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import LandCoverTable

VIEW_DISTANCE_M = 20.0
"""Trees within this distance of a home's outline count as visible."""
TREES_VISIBLE = 3
CANOPY_TARGET = 0.30
GREEN_DISTANCE_M = 300.0
MIN_PUBLIC_GREEN_HA = 0.5
CROWN_RADIUS_M = 3.0
"""Crown radius of a single tree point (a young to middle-aged street tree), m."""
PUBLIC_GREEN_CLASSES = (
    "gras_openbaar", "plantsoen", "struiken", "kruidenrijk", "grasland_overig", "heide",
    "loofbos", "naaldbos", "gemengd_bos", "oever", "riet_moeras", "begroeid_onbepaald",
)  # fmt: skip
"""Classes that count as (usable, publicly accessible) green. Not erf (private gardens), berm
(verges are not for staying), farmland or green roofs. ``begroeid_onbepaald`` (the Groenkaart's
vegetated cells) is in: with the national raster public and private green cannot be told apart,
which flatters the "300" there (noted in the step's confidence)."""


def trees_near(
    homes: gpd.GeoDataFrame, trees: gpd.GeoDataFrame, distance_m: float = VIEW_DISTANCE_M
) -> np.ndarray:
    """For each home, the number of tree points within ``distance_m`` of its outline."""
    if homes.crs != trees.crs:
        trees = trees.to_crs(homes.crs)
    points = shapely.get_coordinates(trees.geometry.centroid.to_numpy())
    tree_points = shapely.points(points)
    tree = shapely.STRtree(tree_points)
    home_index, _ = tree.query(homes.geometry.to_numpy(), predicate="dwithin", distance=distance_m)
    return np.bincount(home_index, minlength=len(homes)).astype("int64")


def canopy_share(
    classes: np.ndarray,
    table: LandCoverTable,
    grid: AnalysisGrid,
    trees: gpd.GeoDataFrame | None = None,
    crown_radius_m: float = CROWN_RADIUS_M,
) -> np.ndarray:
    """Tree canopy share 0..1 per cell: class canopy, raised to 1 under single-tree crowns.

    Crowns are burnt area-true at sub-cell precision when cells are ≥ 2 m: each crown disc adds
    its overlap with the cell (so a 10 m cell with one 3 m crown gets ~0.28). NaN where the land
    cover has no data.
    """
    shade = np.full(256, np.nan, dtype="float32")
    for cls in table:
        shade[cls.code] = cls.shade.value
    canopy = shade[classes]
    if trees is None or trees.empty:
        return canopy
    discs = trees.geometry.centroid.buffer(crown_radius_m, quad_segs=8)
    if grid.cell_size <= 1.0:
        crowns = rasterize(
            ((g, 1) for g in discs), out_shape=grid.shape, transform=grid.transform, dtype="uint8"
        ).astype(bool)
        canopy = np.where(crowns, np.float32(1.0), canopy)
    else:
        crown_share = _coverage(discs, grid)
        canopy = np.minimum(1.0, canopy + crown_share * (1.0 - canopy)).astype("float32")
    canopy[classes == 0] = np.nan
    return canopy


def _coverage(shapes: Iterable[shapely.Geometry], grid: AnalysisGrid) -> np.ndarray:
    """Share of each cell covered by the union of ``shapes`` (0.5 m sub-cells, in strips)."""
    fine, strip = min(20, max(1, round(grid.cell_size / 0.5))), 32
    shapes = list(shapes)
    rows, cols = grid.shape
    share = np.zeros(grid.shape, dtype="float32")
    for r0 in range(0, rows, strip):
        n = min(strip, rows - r0)
        top = grid.ymax - r0 * grid.cell_size
        step = grid.cell_size / fine
        transform = rasterio.Affine(step, 0.0, grid.xmin, 0.0, -step, top)
        burnt = rasterize(
            ((g, 1) for g in shapes),
            out_shape=(n * fine, cols * fine),
            transform=transform,
            dtype="uint8",
        )
        share[r0 : r0 + n] = burnt.reshape(n, fine, cols, fine).mean(axis=(1, 3))
    return share


def public_green_patches(
    classes: np.ndarray,
    table: LandCoverTable,
    grid: AnalysisGrid,
    min_area_ha: float = MIN_PUBLIC_GREEN_HA,
) -> np.ndarray:
    """Cells of public green patches (8-connected) of at least ``min_area_ha``."""
    codes = [table.by_key(k).code for k in PUBLIC_GREEN_CLASSES if k in table]
    green = np.isin(classes, codes)
    labels, n = ndimage.label(green, structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        return green
    sizes = np.bincount(labels.ravel()) * grid.cell_area
    big = sizes >= min_area_ha * 10_000
    big[0] = False
    return np.asarray(big[labels])


def distance_to_green(patches: np.ndarray, grid: AnalysisGrid) -> np.ndarray:
    """Euclidean distance (m) from each cell centre to the nearest patch cell; inf without any."""
    if not patches.any():
        return np.full(patches.shape, np.inf, dtype="float32")
    distance = ndimage.distance_transform_edt(~patches, sampling=grid.cell_size)
    return np.asarray(distance, dtype="float32")


def value_at(layer: np.ndarray, grid: AnalysisGrid, places: gpd.GeoDataFrame) -> np.ndarray:
    """The cell value under each place's representative point (NaN outside the grid)."""
    points = places.geometry.representative_point()
    out = np.full(len(places), np.nan, dtype="float64")
    for i, (x, y) in enumerate(zip(points.x, points.y, strict=True)):
        cell = grid.cell_of(float(x), float(y))
        if cell is not None:
            out[i] = float(layer[cell])
    return out


def homes_summary(
    homes: gpd.GeoDataFrame,
    trees_counted: np.ndarray,
    green_distance_m: np.ndarray,
    areas: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Per area unit: homes counted, share with ≥ 3 trees, share within 300 m of public green."""
    frame = gpd.GeoDataFrame(
        {
            "three": trees_counted >= TREES_VISIBLE,
            "three_hundred": green_distance_m <= GREEN_DISTANCE_M,
        },
        geometry=homes.geometry.representative_point().to_numpy(),
        crs=homes.crs,
    )
    joined = gpd.sjoin(frame, areas[["code", "geometry"]], predicate="within", how="inner")
    grouped = joined.groupby("code")
    result = areas.copy()
    result["homes"] = result["code"].map(grouped.size()).fillna(0).astype("int64")
    result["share_3_trees"] = result["code"].map(grouped["three"].mean())
    result["share_300m_green"] = result["code"].map(grouped["three_hundred"].mean())
    return result
