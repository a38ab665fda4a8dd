"""Drought: where green is vulnerable to a dry spell and where the ground lets rain in.

A first, transparent indicator per cell (0..1, higher = more drought stress), built from the land
cover only; the DPRA drought theme has no standard map to match (methods.md §1.1).

* **Infiltration share** ``I``: the share of a reference summer shower that an unpaved cell
  takes in, the SCS retention index ``1 − Q/P`` of its curve number (:mod:`.runoff`) at
  :data:`REFERENCE_RAIN_MM`. Paved and built classes (``paved`` flag) get 0: what they "retain"
  is wetting and puddles that evaporate, not water for roots. Water gets NaN (not soil).
* **Local supply** ``L``: the mean of ``I`` over a square window of :data:`SUPPLY_RADIUS_M`
  around the cell (rain on the paving around a street tree runs to the sewer).
* **Green vulnerability** ``V`` (green classes only, else 0): water demand ``min(Kc/1.2, 1)``
  (FAO-56 crop coefficient from the class table) times a rooting factor ``1 − 0.5·min(Zr/2 m, 1)``
  with ``Zr`` the typical maximum rooting depth of :data:`ROOTING_DEPTH_M` (deep roots reach
  more stored water and groundwater).
* **Drought stress** ``D = V · (1 − L)``.

What is missing, and why the confidence is lowered: the BRO soil map (BOFEK soil physical units,
water-holding capacity) is not available offline. The ``dutchsoils`` package (PyPI 0.3.3) ships
the BOFEK profile tables but finds a profile for a location only through the PDOK WMS, so here
the soil group is one default (:data:`DEFAULT_SOIL_GROUP`) with :data:`DEFAULT_SOIL_CONFIDENCE`.
Groundwater depth (GHG/GLG), seepage and the yearly precipitation deficit per place are not in.
The seasonal deficit of a weather station can be computed with
:func:`max_precipitation_deficit` (KNMI's potential precipitation deficit, from 1 April).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

import numpy as np
from scipy import ndimage

from biostresstest.analysis.runoff import curve_numbers, retention_index
from biostresstest.core.errors import InvalidInput
from biostresstest.model.landcover import LandCoverClass, LandCoverTable

REFERENCE_RAIN_MM = 20.0
"""A heavy summer-day shower (mm) whose infiltration counts as the supply of a dry spell."""
SUPPLY_RADIUS_M = 25.0
"""Half-width of the window (m) whose mean infiltration feeds a cell's roots."""
KC_MAX = 1.2
"""Upper mid-season crop coefficient of FAO-56 (dense tall vegetation); demand is Kc / KC_MAX."""
DEFAULT_SOIL_GROUP = "B"
"""Used while no soil map is available: moderately well-drained (sandy loam, loamy sand)."""
DEFAULT_SOIL_CONFIDENCE = 0.5
"""Confidence of the soil input when the default group stands in for a soil map (1 = mapped)."""
ROOTING_DEPTH_M: Mapping[str, float] = MappingProxyType(
    {
        # grass and herbs: FAO-56 Table 22 turf / pasture grass 0.5–1.5 m (m) → 0.5–0.8
        "gras_openbaar": 0.5, "plantsoen": 0.6, "berm": 0.6, "groen_dak": 0.1,
        "kruidenrijk": 0.8, "grasland_overig": 0.8, "grasland_agrarisch": 0.8, "oever": 0.8,
        "riet_moeras": 1.0, "heide": 0.6, "akker": 1.0, "begroeid_onbepaald": 0.8,
        # woody: FAO-56 Table 22 trees and shrubs 1.0–2.0 m and more (m)
        "struiken": 1.2, "haag_houtwal": 1.5, "boomgaard_kwekerij": 1.5,
        "loofbos": 2.0, "naaldbos": 2.0, "gemengd_bos": 2.0,
    }
)  # fmt: skip
"""Typical maximum rooting depth (m) of the green classes; FAO-56 Table 22 ranges (marked (m):
recalled, not re-read) narrowed by our judgement; a green roof has its substrate depth only."""


def infiltration_share(
    classes: np.ndarray,
    table: LandCoverTable,
    soil_group: str | int | np.ndarray = DEFAULT_SOIL_GROUP,
    rain_mm: float = REFERENCE_RAIN_MM,
) -> np.ndarray:
    """Share 0..1 of a shower taken in by each cell; 0 on paving, NaN on water and no data."""
    cn = curve_numbers(classes, table, soil_group)
    share = retention_index(rain_mm, cn)
    paved = _flag(table, "paved")[classes]
    water = _codes(table, lambda c: c.group == "water")[classes]
    share[paved] = 0.0
    share[water] = np.nan
    return share


def local_supply(
    share: np.ndarray, cell_size: float, radius_m: float = SUPPLY_RADIUS_M
) -> np.ndarray:
    """Mean infiltration share in a square window of ±``radius_m`` (NaN cells left out)."""
    size = max(1, 2 * round(radius_m / cell_size) + 1)
    known = np.isfinite(share)
    total = ndimage.uniform_filter(
        np.where(known, share, 0).astype("float64"), size, mode="constant"
    )
    count = ndimage.uniform_filter(known.astype("float64"), size, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan).astype("float32")


def green_vulnerability(classes: np.ndarray, table: LandCoverTable) -> np.ndarray:
    """0..1 per cell: water demand × shallow rooting of green classes; 0 elsewhere, NaN no data."""
    values = np.full(256, np.nan, dtype="float32")
    for cls in table:
        if not cls.green:
            values[cls.code] = 0.0
            continue
        depth = ROOTING_DEPTH_M.get(cls.key)
        if depth is None:
            raise InvalidInput(
                f"green class {cls.key!r} has no rooting depth",
                hint="add it to ROOTING_DEPTH_M in analysis/drought.py",
            )
        demand = min(cls.kc.value / KC_MAX, 1.0)
        values[cls.code] = demand * (1.0 - 0.5 * min(depth / 2.0, 1.0))
    return values[classes]


def drought_stress(
    classes: np.ndarray,
    table: LandCoverTable,
    cell_size: float,
    soil_group: str | int | np.ndarray = DEFAULT_SOIL_GROUP,
) -> dict[str, np.ndarray]:
    """Cell layers ``infiltration_share``, ``green_drought_vulnerability``, ``drought_stress``."""
    share = infiltration_share(classes, table, soil_group)
    supply = local_supply(share, cell_size)
    vulnerable = green_vulnerability(classes, table)
    stress = (vulnerable * (1 - supply)).astype("float32")
    stress[classes == 0] = np.nan
    return {
        "infiltration_share": share,
        "green_drought_vulnerability": vulnerable,
        "drought_stress": stress,
    }


def max_precipitation_deficit(
    dates: Sequence[np.datetime64] | np.ndarray,
    precipitation_mm: np.ndarray,
    evaporation_mm: np.ndarray,
    year: int,
) -> float:
    """The largest potential precipitation deficit (mm) of ``year``'s growing season.

    KNMI's definition: from 1 April to 30 September, the running sum of reference evaporation
    minus precipitation; here floored at 0 (a wet spell cannot bank water beyond field capacity,
    (m)). Raises InvalidInput when days of the season are missing.
    """
    day = np.asarray(dates, dtype="datetime64[D]")
    start, end = np.datetime64(f"{year}-04-01"), np.datetime64(f"{year}-09-30")
    season = (day >= start) & (day <= end)
    expected = int((end - start).astype(int)) + 1
    if int(season.sum()) != expected or len(set(day[season].tolist())) != expected:
        raise InvalidInput(
            f"the weather series has {int(season.sum())} of the {expected} days of 1 April – "
            f"30 September {year}",
            hint="give one row per day for the whole season",
        )
    order = np.argsort(day[season])
    surplus = (np.asarray(evaporation_mm)[season] - np.asarray(precipitation_mm)[season])[order]
    if not np.isfinite(surplus).all():
        raise InvalidInput("the weather series has missing values in the season", hint="fill them")
    running, peak = 0.0, 0.0
    for value in surplus:
        running = max(0.0, running + float(value))
        peak = max(peak, running)
    return peak


def _flag(table: LandCoverTable, name: str) -> np.ndarray:
    return _codes(table, lambda c: bool(getattr(c, name)))


def _codes(table: LandCoverTable, keep: Callable[[LandCoverClass], bool]) -> np.ndarray:
    mask = np.zeros(256, dtype=bool)
    for cls in table:
        if keep(cls):
            mask[cls.code] = True
    return mask
