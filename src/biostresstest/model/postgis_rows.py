"""GeoDataFrames to and from rows of the PostGIS store.

The attribute columns of a layer go into one ``jsonb`` value per row (ST_AsMVT turns its keys
into tile properties, like the embedded store's PMTiles); the column names and dtypes are kept
per layer, so a frame read back has the columns, order and dtypes it was published with.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pandas.api.types import pandas_dtype

from biostresstest.core.crs import RD_NEW

RD_SRID = 28992

Columns = list[tuple[str, str]]
"""A layer's attribute columns as (name, dtype) pairs, in order."""


def layer_columns(frame: gpd.GeoDataFrame) -> Columns:
    """The attribute columns of ``frame`` (everything but the active geometry)."""
    geometry = frame.geometry.name
    return [(str(name), str(frame[name].dtype)) for name in frame.columns if name != geometry]


def _plain(value: Any) -> Any:
    """A JSON-ready value: NaN/NaT/inf become null, numpy scalars Python ones."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str | int | bool):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def property_rows(frame: gpd.GeoDataFrame) -> Iterator[str]:
    """One JSON object per row with the row's attribute values."""
    names = [name for name, _ in layer_columns(frame)]
    attributes = pd.DataFrame(frame[names])
    for record in attributes.itertuples(index=False, name=None):
        values = {name: _plain(value) for name, value in zip(names, record, strict=True)}
        yield json.dumps(values, ensure_ascii=False, allow_nan=False)


def geometry_ewkb(frame: gpd.GeoDataFrame) -> list[str | None]:
    """The geometries of ``frame`` in RD New as hex EWKB with SRID 28992 (None stays None)."""
    geometries = shapely.set_srid(np.asarray(frame.to_crs(RD_NEW).geometry.values), RD_SRID)
    encoded = shapely.to_wkb(geometries, hex=True, include_srid=True)
    return [None if value is None else str(value) for value in encoded]


def to_frame(columns: Columns, rows: Sequence[tuple[Any, bytes | None]]) -> gpd.GeoDataFrame:
    """A GeoDataFrame in RD New from (properties, WKB) rows and the layer's columns."""
    names = [name for name, _ in columns]
    attributes = pd.DataFrame([properties for properties, _ in rows], columns=names)
    wkb = np.array([None if g is None else bytes(g) for _, g in rows], dtype=object)
    geometries = shapely.from_wkb(wkb) if len(wkb) else np.array([], dtype=object)
    for name, dtype in columns:
        attributes[name] = _restore(attributes[name], dtype)
    return gpd.GeoDataFrame(attributes, geometry=gpd.GeoSeries(geometries), crs=RD_NEW)


def _restore(series: pd.Series, dtype: str) -> pd.Series:
    """``series`` cast back to ``dtype`` where the values allow it (else left as read)."""
    try:
        if dtype.startswith("datetime64"):
            return pd.to_datetime(series).astype(pandas_dtype(dtype))
        if dtype in ("object", "geometry"):
            return series
        return series.astype(pandas_dtype(dtype))
    except (TypeError, ValueError, OverflowError):
        return series
