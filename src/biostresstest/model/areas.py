"""Area units: gemeente, wijk and buurt with their CBS codes.

CBS codes: ``GM`` + 4 digits (gemeente), ``WK`` + 6 (gemeente + wijk), ``BU`` + 8 (wijk + buurt).
The numeric part starts with the gemeente code, so a buurt code tells its wijk and gemeente
(for the year of the edition only: boundaries change on 1 January).
"""

from __future__ import annotations

import re
from enum import StrEnum

import geopandas as gpd

from biostresstest.core.errors import InvalidInput

AREA_COLUMNS = ["code", "name", "level", "parent_code", "jaar", "geometry"]
"""Columns every area layer has; indicator columns are added by the analysis."""


class AreaLevel(StrEnum):
    """The administrative levels the tool scores."""

    GEMEENTE = "gemeente"
    WIJK = "wijk"
    BUURT = "buurt"
    GEBIED = "gebied"
    """A study area that is no administrative unit (a named square or a bounding box)."""


_CODE_PATTERNS = {
    AreaLevel.GEMEENTE: re.compile(r"^GM\d{4}$"),
    AreaLevel.WIJK: re.compile(r"^WK\d{6}$"),
    AreaLevel.BUURT: re.compile(r"^BU\d{8}$"),
}


def parse_level(value: str) -> AreaLevel:
    """The level named ``value``, or a clear error listing the valid names."""
    try:
        return AreaLevel(value.strip().lower())
    except ValueError:
        valid = ", ".join(level.value for level in AreaLevel)
        raise InvalidInput(f"unknown area level {value!r}", hint=f"use one of: {valid}") from None


def level_of_code(code: str) -> AreaLevel:
    """The level of a CBS area code, checking its form."""
    for level, pattern in _CODE_PATTERNS.items():
        if pattern.match(code):
            return level
    raise InvalidInput(
        f"{code!r} is not a CBS area code",
        hint="codes look like GM0758 (gemeente Breda), WK075801 (wijk) or BU07580101 (buurt)",
    )


def normalise_gemeente_code(code: str) -> str:
    """``GM0758`` from ``gm0758``, ``0758`` or ``758``; an error for anything else."""
    text = code.strip().upper()
    if text.isdigit() and len(text) <= 4:
        text = f"GM{int(text):04d}"
    if not _CODE_PATTERNS[AreaLevel.GEMEENTE].match(text):
        raise InvalidInput(
            f"{code!r} is not a gemeente code",
            hint="gemeente codes look like GM0758 (Breda); list them with "
            "`biostresstest gemeenten --search NAME`",
        )
    return text


def dissolve_wijken(buurten: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Wijken as the union of their buurten (for sources without a wijk layer).

    ``buurten`` needs ``wijk_code``, ``wijk_name``, ``parent_code`` (the gemeente) and ``jaar``.
    """
    missing = {"wijk_code", "wijk_name", "jaar"} - set(buurten.columns)
    if missing:
        raise InvalidInput(f"buurten lack the columns {sorted(missing)} needed to form wijken")
    grouped = buurten.dissolve(
        by="wijk_code", aggfunc={"wijk_name": "first", "jaar": "first"}, as_index=False
    )
    wijken = gpd.GeoDataFrame(
        {
            "code": grouped["wijk_code"],
            "name": grouped["wijk_name"],
            "level": AreaLevel.WIJK.value,
            "parent_code": "GM" + grouped["wijk_code"].str[2:6],
            "jaar": grouped["jaar"],
        },
        geometry=grouped.geometry.values,
        crs=buurten.crs,
    )
    return wijken.sort_values("code").reset_index(drop=True)


_STUDY_KEY = re.compile(r"^[a-z][a-z0-9-]{1,80}$")


def normalise_area_key(text: str) -> str:
    """The store key of a gemeente (``GM0758``) or of a study area (``otterlo``)."""
    stripped = text.strip()
    if _STUDY_KEY.match(stripped) and not stripped.startswith("gm"):
        return stripped
    return normalise_gemeente_code(stripped)


def locate_area(text: str) -> tuple[str, str, AreaLevel]:
    """``(store key, area code, level)`` of an area named by a CBS code or a study-area key.

    ``WK075801`` → ``("GM0758", "WK075801", wijk)``; ``gm758`` → ``("GM0758", "GM0758",
    gemeente)``; ``otterlo`` → ``("otterlo", "otterlo", gebied)``.
    """
    cleaned = text.strip()
    if cleaned[:2].upper() in ("WK", "BU"):
        code = cleaned.upper()
        return f"GM{code[2:6]}", code, level_of_code(code)
    key = normalise_area_key(cleaned)
    return key, key, AreaLevel.GEMEENTE if key.startswith("GM") else AreaLevel.GEBIED
