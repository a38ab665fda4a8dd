"""Checks on an upload: CRS, geometry, extent within the gemeente, and the column mapping.

Each check either passes or raises one error that says what was found (counts and the first
examples) and what to do. Invalid geometries are reported, not silently fixed; with
``repair=True`` they are made valid with ``shapely.make_valid`` and the count is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from biostresstest.core.crs import RD_NEW
from biostresstest.core.errors import CorruptInput, CRSMismatch, InvalidInput
from biostresstest.model.local_data.kinds import FieldSpec, Kind

EXTENT_TOLERANCE_M = 100.0
"""Features may lie this far outside the CBS outline, which is generalised."""
EXAMPLES = 5
_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LineString",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
}


def to_rd(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` in EPSG:28992, after checking its CRS says what the coordinates are."""
    if frame.crs is None:
        raise CRSMismatch(
            "the data has no coordinate reference system (CRS)",
            hint="export it with its CRS (a Shapefile needs its .prj file; a CSV with x/y is "
            "read as RD New and with lon/lat as WGS84; or give the CRS, e.g. crs=EPSG:28992)",
        )
    try:
        crs = CRS.from_user_input(frame.crs)
    except CRSError as exc:
        raise CRSMismatch(
            f"the CRS of the data is not understood: {exc}",
            hint="export the data in EPSG:28992 (RD New)",
        ) from exc
    xmin, _, xmax, ymax = frame.total_bounds
    if crs.is_geographic and (abs(xmin) > 180 or abs(xmax) > 180 or abs(ymax) > 90):
        raise CRSMismatch(
            f"the data says its coordinates are longitude/latitude ({crs.name}) but they run "
            f"to {xmax:.0f}, {ymax:.0f}: they look like RD New metres",
            hint="GeoJSON is always WGS84 (RFC 7946): export it in WGS84, or upload a "
            "GeoPackage in EPSG:28992",
        )
    if not crs.is_projected and not crs.is_geographic:
        raise CRSMismatch(
            f"the CRS {crs.name} is neither projected nor geographic",
            hint="export the data in EPSG:28992 (RD New)",
        )
    if crs.to_epsg() == 28992:
        return frame
    try:
        moved = frame.to_crs(RD_NEW)
    except Exception as exc:  # pyproj raises several kinds
        raise CRSMismatch(
            f"the data cannot be transformed from {crs.name} to EPSG:28992: {exc}",
            hint="export the data in EPSG:28992 (RD New)",
        ) from exc
    if not np.isfinite(moved.total_bounds).all():
        raise CRSMismatch(
            f"transforming from {crs.name} to EPSG:28992 gives no coordinates",
            hint="check that the CRS is the one the coordinates are in",
        )
    return moved


def check_geometry(
    frame: gpd.GeoDataFrame, kind: Kind, repair: bool = False
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Geometry types, emptiness and validity; returns the frame and a report of counts."""
    geoms = frame.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(missing)[:EXAMPLES])
        raise CorruptInput(
            f"{int(missing.sum())} feature(s) have no geometry (e.g. rows {rows})",
            hint="remove them or give them a location",
        )
    names = {_TYPE_NAMES.get(t, "GeometryCollection") for t in shapely.get_type_id(geoms)}
    if bad := sorted(names - set(kind.geometry)):
        raise CorruptInput(
            f"a {kind.name_en.lower()} needs {' or '.join(kind.geometry)} geometries; "
            f"the data has {', '.join(bad)}",
            hint="check that you chose the right kind of data",
        )
    invalid = ~shapely.is_valid(geoms)
    report = {"features": len(frame), "invalid": int(invalid.sum()), "repaired": 0}
    if invalid.any() and not repair:
        idx = np.flatnonzero(invalid)[:EXAMPLES]
        examples = "; ".join(f"row {i + 1}: {shapely.is_valid_reason(geoms[i])}" for i in idx)
        raise CorruptInput(
            f"{int(invalid.sum())} feature(s) have an invalid geometry ({examples})",
            hint="repair them in your GIS, or import again with repair=true to have them made "
            "valid (shapely make_valid) and counted",
        )
    if invalid.any():
        frame = frame.copy()
        frame.loc[invalid, frame.geometry.name] = shapely.make_valid(geoms[invalid])
        report["repaired"] = int(invalid.sum())
    return frame, report


def check_extent(
    frame: gpd.GeoDataFrame,
    outline: BaseGeometry,
    gemeente: str,
    tolerance: float = EXTENT_TOLERANCE_M,
) -> None:
    """Every feature must lie in the gemeente (its CBS outline, ``tolerance`` metres wider)."""
    zone = outline.buffer(tolerance)
    outside = ~shapely.intersects(zone, frame.geometry.to_numpy())
    if outside.any():
        idx = np.flatnonzero(outside)[:EXAMPLES]
        where = "; ".join(
            f"row {i + 1} at {frame.geometry.iloc[i].representative_point().x:.0f}, "
            f"{frame.geometry.iloc[i].representative_point().y:.0f}"
            for i in idx
        )
        raise CorruptInput(
            f"{int(outside.sum())} of {len(frame)} feature(s) lie outside gemeente {gemeente} "
            f"(RD New: {where})",
            hint="upload only data of this gemeente, and check the CRS (swapped x/y or a wrong "
            "CRS puts data far away)",
        )


def suggest_mapping(columns: list[str], kind: Kind) -> dict[str, str]:
    """Model field → column, for the columns whose name is a known alias of the field."""
    lower = {c.lower(): c for c in columns}
    found: dict[str, str] = {}
    for field in kind.fields.values():
        hit = next((lower[a] for a in (field.name, *field.aliases) if a in lower), None)
        if hit is not None and hit not in found.values():
            found[field.name] = hit
    return found


def apply_mapping(
    frame: gpd.GeoDataFrame,
    kind: Kind,
    mapping: Mapping[str, str],
    values: Mapping[str, Mapping[str, str]] | None = None,
) -> gpd.GeoDataFrame:
    """The model fields of ``kind`` from the mapped columns, every value checked."""
    unknown = sorted(set(mapping) - set(kind.fields))
    if unknown:
        raise InvalidInput(
            f"the mapping names unknown field(s) {unknown} for {kind.key}",
            hint=f"fields of {kind.key}: {', '.join(kind.fields)}",
        )
    absent = sorted(c for c in mapping.values() if c not in frame.columns)
    if absent:
        raise InvalidInput(
            f"the mapping names column(s) {absent} the data does not have",
            hint=f"its columns: {', '.join(map(str, frame.columns[:40]))}",
        )
    required = [f.name for f in kind.fields.values() if f.required and f.name not in mapping]
    if required:
        raise InvalidInput(
            f"a {kind.name_en.lower()} needs the field(s) {required} mapped",
            hint="map them to columns of the data",
        )
    problems: list[str] = []
    out: dict[str, Any] = {}
    for name, column in mapping.items():
        spec = kind.fields[name]
        extra = (values or {}).get(name, {})
        out[name] = _convert(frame[column], spec, extra, problems, column)
    if problems:
        raise CorruptInput(
            "the values do not fit the model: " + "; ".join(problems),
            hint="fix the data, or map the values (values: {field: {source: "
            "model}}) in the mapping step",
        )
    return gpd.GeoDataFrame(out, geometry=frame.geometry.to_numpy(), crs=frame.crs)


def _convert(
    column: pd.Series, spec: FieldSpec, extra: Mapping[str, str], problems: list[str], source: str
) -> pd.Series:
    missing = column.isna() | column.astype(str).str.strip().isin(
        ["", *(str(m) for m in spec.missing), *(f"{m}.0" for m in spec.missing)]
    )
    if spec.type == "text":
        return column.astype("string").where(~missing)
    if spec.type == "date":
        parsed = pd.to_datetime(column.where(~missing), errors="coerce", dayfirst=True)
        _report(parsed.isna() & ~missing, column, spec, source, "not a date", problems)
        return parsed.dt.strftime("%Y-%m-%d").astype("string")
    if spec.type in ("integer", "number"):
        text = column.astype(str).str.strip().str.replace(",", ".", regex=False)
        numbers = pd.to_numeric(text.where(~missing), errors="coerce")
        _report(numbers.isna() & ~missing, column, spec, source, "not a number", problems)
        low = spec.min if spec.min is not None else -np.inf
        high = spec.max if spec.max is not None else np.inf
        out_of_range = numbers.notna() & ((numbers < low) | (numbers > high))
        _report(out_of_range, column, spec, source, f"outside {spec.min}..{spec.max}", problems)
        if spec.type == "integer":
            _report(
                numbers.notna() & (numbers % 1 != 0), column, spec, source, "not whole", problems
            )
            return numbers.round().astype("Int64")
        return numbers.astype("Float64")
    lookup = {**spec.values, **{str(k).lower(): v for k, v in extra.items()}}
    if bad := sorted(set(lookup.values()) - set(spec.classes)):
        problems.append(f"{spec.name}: value map onto unknown class value(s) {bad}")
    text = column.astype(str).str.strip()
    mapped = text.str.lower().map(lambda v: lookup.get(v, v))
    unknown = ~mapped.isin(list(spec.classes)) & ~missing
    if unknown.any():
        seen = sorted(set(text[unknown]))[:10]
        problems.append(
            f"{spec.name} (column {source!r}): unknown value(s) {seen}; allowed: "
            f"{', '.join(list(spec.classes)[:20])}"
        )
    return mapped.where(~missing).astype("string")


def _report(
    bad: pd.Series, column: pd.Series, spec: FieldSpec, source: str, what: str, problems: list[str]
) -> None:
    if bad.any():
        first = bad.to_numpy().nonzero()[0][:EXAMPLES]
        examples = ", ".join(f"row {i + 1}: {column.iloc[i]!r}" for i in first)
        problems.append(
            f"{spec.name} (column {source!r}): {int(bad.sum())} value(s) {what} ({examples})"
        )
