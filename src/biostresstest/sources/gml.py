"""GML 3.1 geometries as the BGT delivers them, to shapely; arcs are linearised.

Handles Point, LineString, Curve (LineStringSegment, Arc, ArcString), Polygon with LinearRing or
Ring (curve members) boundaries, and MultiSurface / MultiCurve. Coordinates are 2D (a
``srsDimension`` of 3 is honoured by dropping z).
"""

from __future__ import annotations

import math

import numpy as np
from lxml import etree
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from biostresstest.core.errors import CorruptInput

GML = "{http://www.opengis.net/gml}"
ARC_STEP_DEGREES = 2.0
"""Largest angle between two points of a linearised arc (a chord error under 0.2 mm per metre
of radius)."""


def parse_geometry(element: etree._Element) -> BaseGeometry:
    """The shapely geometry of a GML geometry element."""
    tag = _local(element)
    if tag == "Point":
        return Point(_coords(_first(element, "pos", "posList", "coordinates"))[0])
    if tag == "LineString":
        return LineString(_coords(_first(element, "posList", "coordinates")))
    if tag in ("Curve", "CompositeCurve", "OrientableCurve"):
        return LineString(_curve_coords(element))
    if tag == "Polygon":
        return _polygon(element)
    if tag in ("MultiSurface", "CompositeSurface"):
        polygons = [_polygon(p) for p in element.iter(f"{GML}Polygon")]
        return MultiPolygon(polygons)
    if tag == "MultiCurve":
        lines = [LineString(_curve_coords(m[0])) for m in element.iter(f"{GML}curveMember")]
        return MultiLineString(lines)
    raise CorruptInput(f"unsupported GML geometry <{tag}>")


def _polygon(element: etree._Element) -> Polygon:
    exterior = element.find(f"{GML}exterior")
    if exterior is None or len(exterior) == 0:
        raise CorruptInput("GML polygon without an exterior ring")
    shell = _ring(exterior[0])
    holes = [_ring(interior[0]) for interior in element.findall(f"{GML}interior") if len(interior)]
    return Polygon(shell, holes)


def _ring(element: etree._Element) -> np.ndarray:
    tag = _local(element)
    if tag == "LinearRing":
        return _coords(_first(element, "posList", "coordinates", "pos"))
    if tag == "Ring":
        parts = [_curve_coords(member[0]) for member in element.findall(f"{GML}curveMember")]
        return _join(parts)
    raise CorruptInput(f"unsupported GML ring <{tag}>")


def _curve_coords(element: etree._Element) -> np.ndarray:
    tag = _local(element)
    if tag == "LineString":
        return _coords(_first(element, "posList", "coordinates"))
    if tag == "OrientableCurve":
        return _curve_coords(element.find(f"{GML}baseCurve")[0])
    if tag == "CompositeCurve":
        return _join([_curve_coords(m[0]) for m in element.findall(f"{GML}curveMember")])
    segments = element.find(f"{GML}segments")
    if segments is None:
        raise CorruptInput(f"GML <{tag}> without segments")
    parts = []
    for segment in segments:
        kind = _local(segment)
        points = _coords(_first(segment, "posList", "pos", "coordinates"))
        if kind in ("Arc", "ArcString"):
            parts.append(linearise_arcs(points))
        elif kind == "LineStringSegment":
            parts.append(points)
        else:
            raise CorruptInput(f"unsupported GML curve segment <{kind}>")
    return _join(parts)


def linearise_arcs(points: np.ndarray) -> np.ndarray:
    """Points along the circular arcs through (start, mid, end) triples of ``points``."""
    if len(points) < 3 or len(points) % 2 == 0:
        raise CorruptInput(f"a GML arc needs 2n+1 points (n ≥ 1), got {len(points)}")
    out = [points[:1]]
    for i in range(0, len(points) - 2, 2):
        out.append(_arc(points[i], points[i + 1], points[i + 2])[1:])
    return np.vstack(out)


def _arc(p1: np.ndarray, p2: np.ndarray, p3: np.ndarray) -> np.ndarray:
    (x1, y1), (x2, y2), (x3, y3) = p1, p2, p3
    det = 2 * (x1 * (y2 - y3) + x2 * (y3 - y1) + x3 * (y1 - y2))
    if abs(det) < 1e-9:  # collinear: a straight segment
        return np.vstack([p1, p2, p3])
    s1, s2, s3 = x1 * x1 + y1 * y1, x2 * x2 + y2 * y2, x3 * x3 + y3 * y3
    cx = (s1 * (y2 - y3) + s2 * (y3 - y1) + s3 * (y1 - y2)) / det
    cy = (s1 * (x3 - x2) + s2 * (x1 - x3) + s3 * (x2 - x1)) / det
    radius = math.hypot(x1 - cx, y1 - cy)
    a1, a2, a3 = (math.atan2(y - cy, x - cx) for x, y in (p1, p2, p3))
    sweep_to_mid = (a2 - a1) % (2 * math.pi)
    sweep = (a3 - a1) % (2 * math.pi)
    if sweep_to_mid > sweep:  # the arc runs clockwise through the middle point
        sweep -= 2 * math.pi
    steps = max(2, math.ceil(abs(math.degrees(sweep)) / ARC_STEP_DEGREES))
    angles = a1 + np.linspace(0.0, sweep, steps + 1)
    arc = np.column_stack([cx + radius * np.cos(angles), cy + radius * np.sin(angles)])
    arc[0], arc[-1] = p1, p3  # keep the end points exact, so rings close
    return arc


def _join(parts: list[np.ndarray]) -> np.ndarray:
    joined = [parts[0]]
    for part in parts[1:]:
        last = joined[-1][-1]
        same = abs(part[0][0] - last[0]) < 1e-9 and abs(part[0][1] - last[1]) < 1e-9
        joined.append(part[1:] if same else part)
    return np.vstack(joined)


def _local(element: etree._Element) -> str:
    """The tag without its namespace (faster than ``etree.QName`` in the hot loop)."""
    return str(element.tag).rpartition("}")[2]


def _first(element: etree._Element, *names: str) -> etree._Element:
    for name in names:
        found = element.find(f"{GML}{name}")
        if found is not None:
            return found
    raise CorruptInput(f"GML <{_local(element)}> without coordinates")


def _coords(element: etree._Element) -> np.ndarray:
    text = (element.text or "").replace(",", " ").split()
    dim = int(element.get("srsDimension") or element.get("dimension") or 2)
    try:
        values = np.array(text, dtype="float64")
    except ValueError as exc:
        raise CorruptInput(f"GML coordinates are not numbers: {exc}") from exc
    if values.size == 0 or values.size % dim:
        raise CorruptInput(f"GML coordinate list of {values.size} numbers is not {dim}D")
    return values.reshape(-1, dim)[:, :2]
