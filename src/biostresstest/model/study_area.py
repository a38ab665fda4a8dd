"""Study areas that are no gemeente: a named square or a bounding box in RD New.

The street-level pilot is such an area: the 2 × 2 km BGT square around Otterlo (gemeente Ede),
computed at 1 m. A study area is stored and served under its key, like a gemeente under its code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from biostresstest.core.errors import InvalidInput

_BBOX = re.compile(
    r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,"
    r"\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$"
)
MAX_BBOX_KM2 = 400.0
"""Largest bounding box accepted for a study area (a gemeente-sized piece of work)."""
RD_EXTENT = (-7000.0, 289000.0, 300000.0, 629000.0)
"""The area of validity of RD New (EPSG:28992)."""


@dataclass(frozen=True)
class StudyArea:
    """A rectangle in RD New with a key, a name and the gemeente it lies in."""

    key: str
    name: str
    gemeente: str
    bounds: tuple[float, float, float, float]
    cell_size: float


NAMED_AREAS = {
    "otterlo": StudyArea(
        key="otterlo",
        name="Otterlo (Ede), BGT-proefgebied 2 × 2 km",
        gemeente="GM0228",
        bounds=(180000.0, 456000.0, 182000.0, 458000.0),
        cell_size=1.0,
    ),
}


def parse_area(text: str, cell_size: float | None = None) -> StudyArea:
    """A named area (``otterlo``) or a bounding box ``xmin,ymin,xmax,ymax`` in RD New.

    ``cell_size`` (whole metres, 1–100) overrides the area's own; the land cover is always
    burnt at 1 m and aggregated area-true to coarser cells.
    """
    if cell_size is not None and not (1 <= cell_size <= 100 and float(cell_size).is_integer()):
        raise InvalidInput(
            f"cell size {cell_size} m is not supported", hint="use whole metres from 1 to 100"
        )
    key = text.strip().lower()
    if key in NAMED_AREAS:
        named = NAMED_AREAS[key]
        return replace(named, cell_size=cell_size) if cell_size else named
    match = _BBOX.match(text)
    if not match:
        raise InvalidInput(
            f"{text!r} is neither a named area nor a bounding box",
            hint=f"use one of {', '.join(NAMED_AREAS)} or xmin,ymin,xmax,ymax in RD New metres",
        )
    xmin, ymin, xmax, ymax = (float(v) for v in match.groups())
    if not (xmax > xmin and ymax > ymin):
        raise InvalidInput(f"bounding box {text!r} is empty", hint="xmin < xmax and ymin < ymax")
    ex0, ey0, ex1, ey1 = RD_EXTENT
    if xmin < ex0 or xmax > ex1 or ymin < ey0 or ymax > ey1:
        raise InvalidInput(
            f"bounding box {text!r} lies outside the Netherlands in RD New",
            hint="give RD New metres (x about 0–300,000, y about 300,000–620,000), not lon/lat",
        )
    if (xmax - xmin) * (ymax - ymin) / 1e6 > MAX_BBOX_KM2:
        raise InvalidInput(f"bounding box {text!r} is larger than {MAX_BBOX_KM2:.0f} km²")
    name = f"{xmin:.0f},{ymin:.0f},{xmax:.0f},{ymax:.0f}"
    cell_size = cell_size or 1.0
    return StudyArea(
        f"bbox-{name.replace(',', '-')}", name, "", (xmin, ymin, xmax, ymax), cell_size
    )
