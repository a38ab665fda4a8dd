"""CBS Wijk- en buurtkaart 2020: buurten (with their wijk codes) and key figures."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from biostresstest.core.errors import CorruptInput
from biostresstest.model.areas import AreaLevel
from biostresstest.sources.base import FetchedFile, Level, SourceSpec
from biostresstest.sources.vector import read_vector, rename_columns

SPEC = SourceSpec(
    id="cbs-wijkenbuurten-2020",
    title="CBS Wijk- en buurtkaart 2020, buurten",
    publisher="CBS / Kadaster",
    level=Level.NL,
    licence="CC BY 4.0",
    theme="area units",
    url="https://geodata.cbs.nl/files/Wijkenbuurtkaart/WijkBuurtkaart_2020_v3.zip",
    mirror_path="breda-cbs-buurten-2020/breda_buurten.shp",
    online_name="WijkBuurtkaart_2020_v3.zip",
    format="ESRI Shapefile / GeoPackage (zip)",
    crs="EPSG:28992",
    resolution="buurt boundaries 1:10,000",
    date="2020",
    companion_suffixes=(".shx", ".dbf", ".prj", ".cpg"),
    mirror_gemeenten=("GM0758",),
)

_ALIASES = {
    "code": ("BU_CODE", "buurtcode"),
    "name": ("BU_NAAM", "buurtnaam"),
    "wijk_code": ("WK_CODE", "wijkcode"),
    "wijk_name": ("WK_NAAM", "wijknaam"),
    "gemeente_code": ("GM_CODE", "gemeentecode"),
    "inwoners": ("AANT_INW", "aantal_inwoners", "aantalInwoners"),
}

CBS_SENTINELS = (-99997, -99995, -99999999)
"""CBS codes for secret / unknown values in key figures; never average them."""

KEY_FIGURES = {
    "p_00_14_jr": ("P_00_14_JR", "percentage_personen_0_tot_15_jaar"),
    "p_65_eo_jr": ("P_65_EO_JR", "percentage_personen_65_jaar_en_ouder"),
    "bev_dichth": ("BEV_DICHTH", "bevolkingsdichtheid_inwoners_per_km2"),
}
"""Optional CBS key figures (% aged 0–14, % aged 65+, inhabitants per km² of land), kept as
numbers; NaN when the file lacks them or holds a CBS sentinel."""


def read_buurten(fetched: FetchedFile, gemeente: str) -> gpd.GeoDataFrame:
    """The buurten of ``gemeente`` in RD New, with wijk code and name."""
    frame = rename_columns(read_vector(fetched, layer_hint="buurt"), _ALIASES, fetched)
    frame["gemeente_code"] = frame["gemeente_code"].astype(str).str.strip()
    frame = frame[frame["gemeente_code"] == gemeente].copy()
    if frame.empty:
        covered = ", ".join(fetched.spec.mirror_gemeenten) or "all gemeenten"
        raise CorruptInput(
            f"source {fetched.spec.id!r}, file {fetched.path} holds no buurten of {gemeente}",
            hint=f"this copy covers {covered}; unset BIOSTRESSTEST_MIRROR to fetch "
            f"{fetched.spec.url}",
        )
    inwoners = pd.to_numeric(frame["inwoners"], errors="coerce")
    frame["inwoners"] = inwoners.where(~inwoners.isin(CBS_SENTINELS))
    frame["geometry"] = frame.geometry.make_valid()
    frame["level"] = AreaLevel.BUURT.value
    frame["parent_code"] = frame["wijk_code"]
    frame["jaar"] = int(fetched.spec.date)
    lower = {str(c).lower(): c for c in frame.columns}
    for target, names in KEY_FIGURES.items():
        found = next((lower[n.lower()] for n in names if n.lower() in lower), None)
        raw = frame[found] if found else pd.Series(pd.NA, index=frame.index)
        figure = pd.to_numeric(raw, errors="coerce")
        frame[target] = figure.where(~figure.isin(CBS_SENTINELS)).astype("float64")
    columns = ["code", "name", "level", "parent_code", "jaar", "wijk_code", "wijk_name"]
    kept = [*columns, "inwoners", *KEY_FIGURES, "geometry"]
    return frame[kept].sort_values("code").reset_index(drop=True)
