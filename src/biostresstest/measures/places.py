"""Places for measures: drawn polygons, features and rules, checked and turned into cells.

A place must be a valid polygon in RD New inside the loaded area; places of one scenario may
not overlap; and the measure must fit the place (:mod:`biostresstest.measures.applicability`).
Every refusal is an InvalidInput naming the place, the measure and what to do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from rasterio.features import shapes
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from biostresstest.analysis.coverage import coverage_share
from biostresstest.core.crs import RD_NEW
from biostresstest.core.errors import InvalidInput
from biostresstest.measures.applicability import Place, check
from biostresstest.measures.baseline import Baseline
from biostresstest.measures.catalogue import Measure
from biostresstest.measures.effects import CellEdit
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes

OVERLAP_TOLERANCE_M2 = 0.01
"""Places sharing less than this area only touch."""


@dataclass(frozen=True)
class PlacedMeasure:
    """One measure on one place."""

    measure: Measure
    geometry: BaseGeometry
    label: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON form (geometry as WKT in RD New)."""
        return {"measure": self.measure.key, "wkt": self.geometry.wkt, "label": self.label}


def parse_geometry(value: str | Mapping[str, Any], what: str = "the place") -> BaseGeometry:
    """A shapely geometry from WKT, a GeoJSON text, or a GeoJSON mapping (RD New)."""
    try:
        if isinstance(value, Mapping):
            data: Any = value
        elif value.lstrip().startswith("{"):
            data = json.loads(value)
        else:
            return shapely.from_wkt(value)
        if data.get("type") == "FeatureCollection":
            geoms = [shape(f["geometry"]) for f in data.get("features", [])]
            return shapely.union_all(geoms) if geoms else shapely.Polygon()
        if data.get("type") == "Feature":
            data = data["geometry"]
        return shape(data)
    except (shapely.errors.GEOSException, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidInput(
            f"{what} is not a readable geometry: {exc}",
            hint="give WKT such as POLYGON((x y, …)) or GeoJSON, in RD New (EPSG:28992) metres",
        ) from exc


def check_geometry(geometry: BaseGeometry, what: str) -> None:
    """Refuse empty, non-polygonal, invalid or zero-area geometries."""
    if geometry is None or geometry.is_empty:
        raise InvalidInput(f"{what} is empty", hint="draw an area with at least three corners")
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        raise InvalidInput(
            f"{what} is a {geometry.geom_type}, not an area",
            hint="draw a polygon; a line or point has no area to change",
        )
    if not geometry.is_valid:
        raise InvalidInput(
            f"{what} is not a valid polygon: {explain_validity(geometry)}",
            hint="redraw it without crossing edges or repeated corners",
        )
    if geometry.area <= 0:
        raise InvalidInput(f"{what} has no area", hint="draw an area larger than 0 m²")


def check_overlaps(items: list[PlacedMeasure]) -> None:
    """Refuse two places of one scenario that overlap (a cell can take one measure only)."""
    geoms = [item.geometry for item in items]
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i < j:
            shared = geoms[i].intersection(geoms[j]).area
            if shared > OVERLAP_TOLERANCE_M2:
                raise InvalidInput(
                    f"places #{i + 1} ({items[i].measure.key}) and #{j + 1} "
                    f"({items[j].measure.key}) overlap by {shared:.1f} m²",
                    hint="one cell can take one measure: cut the places so they only touch",
                )


def width_of(geometry: BaseGeometry) -> float:
    """The narrowest width: the short side of the minimum rotated rectangle."""
    rect = geometry.minimum_rotated_rectangle
    if rect.geom_type != "Polygon":
        return 0.0
    xy = np.asarray(rect.exterior.coords)
    sides = np.hypot(*np.diff(xy, axis=0).T)
    return float(sides.min()) if len(sides) else 0.0


def to_edit(base: Baseline, item: PlacedMeasure, number: int) -> CellEdit:
    """The cells of a placed measure, after checking that it lies inside and that it fits."""
    what = f"place #{number} ({item.measure.key})"
    check_geometry(item.geometry, what)
    grid = base.grid
    if not item.geometry.intersects(box(*grid.bounds)):
        raise InvalidInput(
            f"{what} lies outside the loaded area {base.key}",
            hint=f"draw it inside {tuple(round(v) for v in grid.bounds)} (RD New)",
        )
    if not item.geometry.within(box(*grid.bounds)):
        raise InvalidInput(f"{what} lies partly outside the loaded area {base.key}")
    window, sub = cells_of(grid, item.geometry)
    share = coverage_share(gpd.GeoSeries([item.geometry], crs=RD_NEW), sub)
    inside = ~np.isnan(base.layer("score")[window])
    if (share[~inside] > 0.5).any():
        raise InvalidInput(
            f"{what} lies partly outside the scored area of {base.key}",
            hint="keep places inside the area outline",
        )
    share[~inside] = 0
    table = load_classes()
    classes = base.landcover[window]
    class_m2 = {
        table.by_code(int(code)).key: float(share[classes == code].sum()) * grid.cell_area
        for code in np.unique(classes[share > 0])
        if code
    }
    verdict = check(item.measure, Place(class_m2, width_of(item.geometry)))
    if not verdict.fits:
        raise InvalidInput(f"{what}: {verdict.reason_en} ({verdict.reason_nl})")
    codes = [table.by_key(k).code for k in item.measure.classes]
    share[~np.isin(classes, codes)] = 0
    return CellEdit(item.measure, window, share)


def cells_of(
    grid: AnalysisGrid, geometry: BaseGeometry
) -> tuple[tuple[slice, slice], AnalysisGrid]:
    """The window of grid cells covering ``geometry`` and the sub-grid of that window."""
    xmin, ymin, xmax, ymax = geometry.bounds
    c0 = max(int(np.floor((xmin - grid.xmin) / grid.cell_size)), 0)
    c1 = min(int(np.ceil((xmax - grid.xmin) / grid.cell_size)), grid.width)
    r0 = max(int(np.floor((grid.ymax - ymax) / grid.cell_size)), 0)
    r1 = min(int(np.ceil((grid.ymax - ymin) / grid.cell_size)), grid.height)
    sub = AnalysisGrid(
        grid.xmin + c0 * grid.cell_size,
        grid.ymax - r0 * grid.cell_size,
        max(c1 - c0, 1),
        max(r1 - r0, 1),
        grid.cell_size,
    )
    return (slice(r0, r0 + sub.height), slice(c0, c0 + sub.width)), sub


def places_from_rule(
    base: Baseline,
    class_key: str,
    min_area_m2: float,
    within: BaseGeometry,
    feature_layer: str | None = None,
) -> list[BaseGeometry]:
    """Places chosen by a rule, e.g. every roof (``pand``) over 100 m² within a wijk.

    Uses the feature layer ``feature_layer`` of the published run when it has one (building
    outlines); otherwise the connected cells of ``class_key`` in the land cover, as polygons.
    Roof shape is not loaded, so "flat roof" cannot be told apart: every roof counts.
    """
    check_geometry(within, "the rule's area")
    if feature_layer and feature_layer in base.store.feature_layers(base.key):
        frame = base.store.features(base.key, feature_layer, bbox=within.bounds)
        geoms = [g.intersection(within) for g in frame.geometry if g.intersects(within)]
    else:
        window, sub = cells_of(base.grid, within)
        code = load_classes().by_key(class_key).code
        mask = base.landcover[window] == code
        geoms = [
            shape(g).intersection(within)
            for g, value in shapes(mask.astype("uint8"), mask=mask, transform=sub.transform)
            if value
        ]
    return [
        g for g in geoms if g.area >= min_area_m2 and g.geom_type in ("Polygon", "MultiPolygon")
    ]
