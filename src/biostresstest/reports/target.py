"""What a report is about (an area unit or a point) and the store readings it rests on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
from rasterio.features import geometry_mask
from rasterio.windows import from_bounds
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from biostresstest.core.errors import NotLoaded, UnknownArea
from biostresstest.model.areas import AreaLevel, level_of_code, normalise_area_key
from biostresstest.model.store import Store
from biostresstest.reports.fmt import is_missing


@dataclass(frozen=True)
class AreaTarget:
    """One area unit of a published run, with its stored values."""

    key: str
    """The store key (gemeente code or study area)."""
    code: str
    level: AreaLevel
    values: dict[str, Any]
    geometry: BaseGeometry

    @property
    def name(self) -> str:
        """The area's name (falls back to its code)."""
        return str(self.values.get("name") or self.code)


@dataclass(frozen=True)
class PointTarget:
    """A point (RD New) inside a published run, with the area unit that holds it."""

    x: float
    y: float
    unit: AreaTarget
    cell: dict[str, Any]
    """Values of the cell layers at the point (name → value; missing layers left out)."""


def _clean(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    return None if is_missing(value) else value


def _row_values(frame: gpd.GeoDataFrame, index: int) -> dict[str, Any]:
    row = frame.iloc[index]
    return {c: _clean(row[c]) for c in frame.columns if c != "geometry"}


def resolve_area(store: Store, area: str) -> AreaTarget:
    """The area unit named by a code (GM…, WK…, BU…) or a study-area key, from the store."""
    text = area.strip()
    if text[:2].upper() in ("WK", "BU"):
        code = text.upper()
        level = level_of_code(code)
        key = f"GM{code[2:6]}"
    else:
        key = code = normalise_area_key(text)
        level = AreaLevel.GEMEENTE if key.startswith("GM") else AreaLevel.GEBIED
    frame = store.areas(key, level)
    matches = np.flatnonzero((frame["code"] == code).to_numpy())
    if len(matches) == 0:
        raise UnknownArea(
            f"there is no {level.value} {code} in the results of {key}",
            hint=f"see the {level.value} codes of {key} in /api/areas?gemeente={key}&level={level}",
        )
    index = int(matches[0])
    return AreaTarget(key, code, level, _row_values(frame, index), frame.geometry.iloc[index])


def units_of(store: Store, target: AreaTarget, level: AreaLevel) -> gpd.GeoDataFrame:
    """The units of ``level`` of the target's run (an empty frame if the run has none)."""
    if target.level is AreaLevel.GEBIED and level is not AreaLevel.GEBIED:
        return gpd.GeoDataFrame(geometry=[], crs="EPSG:28992")
    return store.areas(target.key, level)


def sample(store: Store, key: str, names: list[str], x: float, y: float) -> dict[str, Any]:
    """Values of the named cell layers at (x, y); layers the run lacks are left out."""
    values: dict[str, Any] = {}
    for name in names:
        try:
            path = store.raster_path(key, name)
        except NotLoaded:
            continue
        with rasterio.open(path) as src:
            left, bottom, right, top = src.bounds
            if not (left <= x < right and bottom < y <= top):
                continue
            raw = next(src.sample([(x, y)]))[0]
            nodata = src.nodata
        value = _clean(raw)
        if value is not None and nodata is not None and not is_missing(nodata) and value == nodata:
            value = None
        values[name] = value
    return values


def resolve_point(store: Store, x: float, y: float, layers: list[str]) -> PointTarget:
    """The point target at RD (x, y): its buurt (or study area) and its cell values."""
    for key in store.gemeenten():
        level = AreaLevel.BUURT if key.startswith("GM") else AreaLevel.GEBIED
        units = store.areas(key, level, bbox=(x, y, x, y))
        inside = np.flatnonzero(units.contains(Point(x, y)).to_numpy())
        if len(inside) == 0:
            continue
        index = int(inside[0])
        row = _row_values(units, index)
        unit = AreaTarget(key, str(row["code"]), level, row, units.geometry.iloc[index])
        return PointTarget(x, y, unit, sample(store, key, layers, x, y))
    raise NotLoaded(
        f"no published results at x={x:.0f}, y={y:.0f} (RD New)",
        hint="pick a point inside a loaded gemeente or study area (see /api/gemeenten)",
    )


def class_shares(store: Store, key: str, geometry: BaseGeometry) -> dict[int, float]:
    """Share of the scored area of ``geometry`` in each class 1..7 (cells whose centre is in it)."""
    with rasterio.open(store.raster_path(key, "score_class")) as src:
        window = from_bounds(*geometry.bounds, transform=src.transform)
        window = window.round_offsets().round_lengths()
        window = window.intersection(rasterio.windows.Window(0, 0, src.width, src.height))
        classes = src.read(1, window=window)
        transform = src.window_transform(window)
    outside = geometry_mask([geometry], classes.shape, transform)
    counts = np.bincount(classes[~outside].ravel(), minlength=8)[1:8]
    total = counts.sum()
    return {k + 1: (float(c) / total if total else 0.0) for k, c in enumerate(counts)}
