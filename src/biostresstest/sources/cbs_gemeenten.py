"""CBS gemeenten 2023: the boundaries and key figures of all Dutch gemeenten."""

from __future__ import annotations

import difflib

import geopandas as gpd

from biostresstest.core.errors import UnknownArea
from biostresstest.model.areas import AreaLevel, normalise_gemeente_code
from biostresstest.sources.base import FetchedFile, Level, SourceSpec
from biostresstest.sources.vector import read_vector, rename_columns

SPEC = SourceSpec(
    id="cbs-gemeenten-2023",
    title="CBS Wijk- en buurtkaart 2023, gemeenten",
    publisher="CBS / Kadaster (via PDOK)",
    level=Level.NL,
    licence="CC BY 4.0",
    theme="area units",
    url="https://api.pdok.nl/cbs/wijken-en-buurten-2023/ogc/v1",
    collection="gemeenten",
    protocol="ogcapi-features",
    mirror_path="nl-cbs-gemeenten-2023/gemeenten_2023_wgs84.geojson",
    online_name="gemeenten_2023.geojson",
    format="GeoJSON",
    crs="OGC:CRS84",
    resolution="generalised boundaries (not for exact areas)",
    date="2023",
)

_ALIASES = {
    "code": ("gemeentecode", "GM_CODE", "statcode"),
    "name": ("gemeentenaam", "GM_NAAM", "statnaam"),
    "inwoners": ("aantalInwoners", "AANT_INW", "aantal_inwoners"),
}


def read_gemeenten(fetched: FetchedFile) -> gpd.GeoDataFrame:
    """All gemeenten (code, name, inwoners, jaar) in RD New."""
    frame = rename_columns(read_vector(fetched), _ALIASES, fetched)
    frame["code"] = frame["code"].astype(str).str.strip()
    frame["level"] = AreaLevel.GEMEENTE.value
    frame["parent_code"] = ""
    frame["jaar"] = 2023
    return frame[["code", "name", "level", "parent_code", "jaar", "inwoners", "geometry"]]


def find_gemeente(gemeenten: gpd.GeoDataFrame, code: str) -> gpd.GeoDataFrame:
    """The one row of gemeente ``code``; an error that helps find the right code otherwise."""
    normalised = normalise_gemeente_code(code)
    row = gemeenten[gemeenten["code"] == normalised]
    if row.empty:
        raise UnknownArea(
            f"there is no gemeente with code {normalised} in the CBS gemeenten of 2023",
            hint="find codes with `biostresstest gemeenten --search NAME` "
            "(Breda is GM0758); codes change when gemeenten merge",
        )
    return row


def search_gemeenten(gemeenten: gpd.GeoDataFrame, text: str) -> gpd.GeoDataFrame:
    """Gemeenten whose name contains ``text`` or resembles it (case-insensitive)."""
    names = gemeenten["name"].astype(str)
    contains = names.str.lower().str.contains(text.lower(), regex=False)
    close = set(difflib.get_close_matches(text, names.tolist(), n=5, cutoff=0.75))
    return gemeenten[contains | names.isin(close)].sort_values("name")
