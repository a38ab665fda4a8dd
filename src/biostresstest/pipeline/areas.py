"""Building the area units of a gemeente from the CBS sources."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from biostresstest.model.areas import AREA_COLUMNS, AreaLevel, dissolve_wijken


def area_units(
    gemeente_row: gpd.GeoDataFrame, buurten: gpd.GeoDataFrame
) -> dict[str, gpd.GeoDataFrame]:
    """Gemeente, wijk and buurt units of one gemeente, keyed by level name.

    The gemeente polygon is the union of its buurten (the 2023 gemeente layer is generalised,
    fine for finding a gemeente, not for areas); its name and population come from that layer.
    """
    wijken = dissolve_wijken(buurten)
    wijk_inwoners = buurten.groupby("wijk_code")["inwoners"].sum(min_count=1)
    wijken["inwoners"] = wijken["code"].map(wijk_inwoners)
    row = gemeente_row.iloc[0]
    gemeente = gpd.GeoDataFrame(
        {
            "code": [row["code"]],
            "name": [row["name"]],
            "level": [AreaLevel.GEMEENTE.value],
            "parent_code": [""],
            "jaar": [int(buurten["jaar"].iloc[0])],
            "inwoners": [pd.to_numeric(buurten["inwoners"], errors="coerce").sum(min_count=1)],
        },
        geometry=[buurten.geometry.union_all()],
        crs=buurten.crs,
    )
    columns = [*AREA_COLUMNS[:-1], "inwoners", "geometry"]
    return {
        AreaLevel.GEMEENTE.value: gemeente[columns],
        AreaLevel.WIJK.value: wijken[columns],
        AreaLevel.BUURT.value: buurten[columns],
    }
