"""The climate co-benefits of a run, after the biodiversity score: heat, water, drought,
3-30-300 and the koppelkansen where low biodiversity meets climate stress.

One function, :func:`co_benefit_steps`, runs them in order for both kinds of run (gemeente and
study area) and returns what the run publishes: cell layers, class layers, per-area columns,
documents and manifest parameters. Each step is cached on its own (``pipeline/climate.py``,
``pipeline/heat.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np

from biostresstest.analysis.koppelkansen import top_places
from biostresstest.model.grid import AnalysisGrid
from biostresstest.pipeline import climate, heat, potential
from biostresstest.pipeline.common import INDICATOR_LAYERS, RunContext
from biostresstest.sources.base import FetchedFile

CO_BENEFIT_LAYERS = (*heat.HEAT_LAYERS, *climate.CLIMATE_LAYERS)
"""Float cell layers of the co-benefit steps."""
POTENTIAL_LAYERS = tuple(potential.DESCRIPTIONS)
"""The potential score and the opportunity (gap) per cell."""
PUBLISHED_LAYERS = (*INDICATOR_LAYERS, *POTENTIAL_LAYERS, *CO_BENEFIT_LAYERS)
"""Every float cell layer a run publishes (besides the class layers)."""
DESCRIPTIONS = {
    **potential.DESCRIPTIONS,
    **heat.RASTER_DESCRIPTIONS,
    **climate.CLIMATE_DESCRIPTIONS,
}
"""Descriptions of the layers made outside ``common``, for :func:`~.common.raster_layers`."""
AREA_COLUMNS_3_30_300 = ("meets_30", "homes", "share_3_trees", "share_300m_green")
"""Per-area 3-30-300 figures added to the area units (when the run has homes)."""
TOP_PLACES = 10


@dataclass
class CoBenefits:
    """What the co-benefit steps add to a run."""

    key: str
    layers: dict[str, np.ndarray]
    classes: dict[str, np.ndarray]
    area_columns: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    """Per level: ``code`` plus the columns to join onto the aggregated area units."""
    documents: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)


def co_benefit_steps(
    ctx: RunContext,
    classes: np.ndarray,
    grid: AnalysisGrid,
    areas: Mapping[str, gpd.GeoDataFrame],
    score: np.ndarray,
    weather: FetchedFile,
    depends: str,
    *,
    fractions: Mapping[int, np.ndarray] | None = None,
    trees: gpd.GeoDataFrame | None = None,
    homes: gpd.GeoDataFrame | None = None,
    buurten: gpd.GeoDataFrame | None = None,
) -> CoBenefits:
    """Heat, water, drought, 3-30-300, who is hit and koppelkansen for one run.

    ``classes`` is the land-cover code layer, ``score`` the stress-test score per cell and
    ``depends`` the key of the step that made both. ``fractions`` (class code → share per cell)
    refines a coarse land cover; ``trees`` and ``homes`` feed the 3 and the 300 of 3-30-300;
    ``buurten`` with the CBS key figures gives heat vulnerability per buurt.
    """
    ctx.progress("heat")
    hot = heat.heat_step(ctx, classes, grid, weather, depends)
    ctx.progress("water")
    water = climate.water_step(ctx, classes, grid, depends, fractions=fractions)
    drought = climate.drought_step(ctx, classes, grid, depends)
    ctx.progress("3-30-300")
    green = climate.three_thirty_300_step(ctx, classes, grid, areas, depends, trees, homes)
    ctx.progress("koppelkansen")
    kansen = climate.koppelkansen_step(
        ctx,
        score,
        f"{depends}-{hot['key']}-{water['key']}-{drought['key']}",
        heat={name: hot[name] for name in heat.HEAT_LAYERS},
        water_retention=water["runoff_retention"],
        drought_stress=drought["drought_stress"],
        heat_parameters=hot["parameters"],
    )
    layers = {name: hot[name] for name in heat.HEAT_LAYERS}
    for step in (water, drought, green, kansen):
        layers |= {name: step[name] for name in climate.CLIMATE_LAYERS if name in step}
    # computed on the whole grid (a park beyond the border still cools), published only where
    # the run has a score: inside the gemeente or study area
    outside = ~np.isfinite(score)
    layers = {
        name: np.where(outside, np.nan, array).astype("float32") for name, array in layers.items()
    }
    result = CoBenefits(
        key="-".join(s["key"] for s in (hot, water, drought, green, kansen)),
        layers=layers,
        classes={"koppelkans_class": kansen["koppelkans_class"]},
        parameters={
            "heat": hot["parameters"],
            "koppelkansen_heat_layer": kansen["heat_layer"],
            "koppelkansen_thresholds": kansen.get("thresholds"),
        },
    )
    residents = None
    if buurten is not None:
        who = climate.heat_vulnerability_step(ctx, buurten, depends)
        frame = who["buurt"].drop(columns=["name", "geometry"])
        result.area_columns["buurt"] = frame
        residents = frame.set_index("code")["heat_vulnerability"]
        result.key += f"-{who['key']}"
    for level, frame in green["areas"].items():
        columns = [c for c in AREA_COLUMNS_3_30_300 if c in frame.columns]
        extra = frame[["code", *columns]]
        known = result.area_columns.get(level)
        result.area_columns[level] = extra if known is None else known.merge(extra, on="code")
    finest = "buurt" if "buurt" in areas else next(iter(areas))
    top = top_places(
        kansen["koppelkans"],
        kansen["koppelkans_class"],
        areas[finest],
        grid,
        n=min(TOP_PLACES, len(areas[finest])),
        residents=residents if finest == "buurt" else None,
    )
    result.documents["koppelkansen"] = {
        "level": finest,
        "heat_layer": kansen["heat_layer"],
        "places": top.replace({np.nan: None}).to_dict(orient="records"),
    }
    return result


def with_area_columns(
    aggregated: dict[str, gpd.GeoDataFrame], columns: Mapping[str, gpd.GeoDataFrame]
) -> dict[str, gpd.GeoDataFrame]:
    """The aggregated area units with the co-benefit columns joined on ``code``."""
    result = dict(aggregated)
    for level, extra in columns.items():
        if level in result:
            frame = result[level]
            extra = extra.drop(columns=[c for c in extra.columns if c in frame and c != "code"])
            result[level] = frame.merge(extra, on="code", how="left")
    return result
