"""Climate steps of a run: water (runoff), drought, 3-30-300, who is hit by heat, koppelkansen.

Each step is cached like those of :mod:`.common` (its key hashes its inputs' keys, its parameters
and the tables it reads) and returns ``{"key": ..., <layer>: array, ...}``. The heat layers
themselves (``air_temperature``, ``heat_mitigation``, ``cooling_capacity``) come from the heat
step; :func:`koppelkansen_step` takes whichever of them the run has.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np

from biostresstest.analysis import drought, koppelkansen, runoff, three_thirty_300
from biostresstest.analysis.aggregate import area_means
from biostresstest.analysis.heat_vulnerability import OUTPUT_COLUMNS, heat_vulnerability
from biostresstest.core.errors import InvalidInput
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes
from biostresstest.model.rain_events import load_rain_events
from biostresstest.pipeline.common import RunContext
from biostresstest.pipeline.steps import step_key

DISTANCE_CAP_M = 5000.0
"""Distances to public green are capped here (as distance_to_core), so the layer stays finite."""

CLIMATE_LAYERS = (
    "runoff_mm",
    "runoff_retention",
    "infiltration_share",
    "drought_stress",
    "canopy_share",
    "distance_to_public_green",
    "koppelkans",
)
"""Float cell layers of the climate steps (``koppelkans_class`` is a uint8 class layer)."""

CLIMATE_DESCRIPTIONS = {
    "runoff_mm": "runoff Q in mm of the default rain event (SCS curve number, InVEST UFRM)",
    "runoff_retention": "share of the default rain event kept, 1 − Q/P 0..1",
    "infiltration_share": "share of a 20 mm shower taken in by the ground 0..1 (0 on paving)",
    "green_drought_vulnerability": "drought vulnerability of the vegetation 0..1 (Kc, rooting)",
    "drought_stress": "drought stress of green 0..1: vulnerability × (1 − local infiltration)",
    "canopy_share": "tree canopy share 0..1 (class canopy and single-tree crowns)",
    "distance_to_public_green": "Euclidean distance in metres to public green ≥ 0.5 ha, cap 5000",
    "koppelkans": "koppelkans 0..1: (1 − biodiversity) × the largest climate stress",
    "koppelkans_class": "koppelkans class 0..4 (0 none, 1 no, 2 heat, 3 water, 4 both)",
}
"""Descriptions for the published rasters (merge into ``common.RASTER_DESCRIPTIONS``)."""
HEAT_PREFERENCE = ("air_temperature", "heat_mitigation", "cooling_capacity")
"""Heat is felt in the air mixed over the neighbourhood, so the air temperature comes first;
the per-cell indices put every cell of one class in a uniform area at the same stress."""


def water_step(
    ctx: RunContext,
    classes: np.ndarray,
    grid: AnalysisGrid,
    depends: str,
    soil_group: str = drought.DEFAULT_SOIL_GROUP,
    fractions: Mapping[int, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Runoff of every standard rain event (cached).

    ``classes`` is the land-cover code layer; ``fractions`` (class code → share 0..1 per cell,
    as the Groenkaart run has for vegetated/bare) replaces the one class per cell when given,
    in the cells of those classes; cells of any other class (set by local data) keep their own
    class's curve number.
    Returns ``runoff_mm`` and ``runoff_retention`` of the default event, ``runoff_m3`` (its
    volume per cell) and ``runoff_retention__<event>`` for every event, plus
    ``soil_confidence`` (0-d: 0.5 with the default soil group).
    """
    table, events = load_classes(), load_rain_events()
    key = step_key(
        "water",
        depends=depends,
        classes=table.digest,
        events=events.digest,
        soil=soil_group,
        fractions=sorted(fractions) if fractions else None,
        other_classes="own curve number",
    )

    def compute() -> dict[str, np.ndarray]:
        result: dict[str, np.ndarray] = {}
        for event in events:
            q = _runoff(event.depth_mm, classes, soil_group, fractions)
            index = (1 - q / event.depth_mm).astype("float32")
            result[f"runoff_retention__{event.key}"] = index
            if event.key == events.default:
                result["runoff_mm"] = q
                result["runoff_retention"] = index
                result["runoff_m3"] = runoff.volume_m3(q, grid.cell_area)
        result["soil_confidence"] = np.array(drought.DEFAULT_SOIL_CONFIDENCE, dtype="float32")
        return result

    return {"key": key, **ctx.cache.arrays("water", key, compute)}


def _runoff(
    rain: float,
    classes: np.ndarray,
    soil_group: str,
    fractions: Mapping[int, np.ndarray] | None,
) -> np.ndarray:
    """Runoff in mm per cell; with ``fractions`` only for the cells of a fraction class.

    A cell whose class is not one of the fraction codes was decided by other data (the
    gemeente's tree register or own land cover replaces the Groenkaart's vegetated/bare there)
    and runs off with its own class's curve number.
    """
    table = load_classes()
    own = runoff.runoff_mm(rain, runoff.curve_numbers(classes, table, soil_group))
    if not fractions:
        return own
    total = np.zeros(classes.shape, dtype="float32")
    for code, share in fractions.items():
        cn = runoff.curve_numbers(np.full(classes.shape, code, "uint8"), table, soil_group)
        total += np.nan_to_num(share, nan=0.0) * runoff.runoff_mm(rain, cn)
    known = np.any([np.isfinite(s) for s in fractions.values()], axis=0)
    coarse = np.isin(classes, list(fractions))
    mixed = np.where(known, total, np.nan)
    return np.where(coarse, mixed, own).astype("float32")


def drought_step(
    ctx: RunContext,
    classes: np.ndarray,
    grid: AnalysisGrid,
    depends: str,
    soil_group: str = drought.DEFAULT_SOIL_GROUP,
) -> dict[str, Any]:
    """``infiltration_share``, ``green_drought_vulnerability``, ``drought_stress`` (cached)."""
    table = load_classes()
    key = step_key(
        "drought",
        depends=depends,
        classes=table.digest,
        soil=soil_group,
        rain=drought.REFERENCE_RAIN_MM,
        radius=drought.SUPPLY_RADIUS_M,
        rooting=dict(drought.ROOTING_DEPTH_M),
    )
    return {
        "key": key,
        **ctx.cache.arrays(
            "drought",
            key,
            lambda: drought.drought_stress(classes, table, grid.cell_size, soil_group),
        ),
    }


def three_thirty_300_step(
    ctx: RunContext,
    classes: np.ndarray,
    grid: AnalysisGrid,
    areas: Mapping[str, gpd.GeoDataFrame],
    depends: str,
    trees: gpd.GeoDataFrame | None = None,
    homes: gpd.GeoDataFrame | None = None,
) -> dict[str, Any]:
    """Canopy share, distance to public green, and per-area 3-30-300 figures (cached).

    ``trees``: tree points (BGT ``bomen``), ``homes``: building footprints or address points;
    both optional (the Groenkaart run has neither). Returns the cell layers ``canopy_share`` and
    ``distance_to_public_green``, ``trees_near_home`` (one count per home, in order), and
    ``areas``: per level the frame with ``canopy_share``, ``meets_30`` and, with homes,
    ``homes``, ``share_3_trees`` (NaN without trees) and ``share_300m_green``.
    """
    table = load_classes()
    n_trees = 0 if trees is None else len(trees)
    n_homes = 0 if homes is None else len(homes)
    key = step_key(
        "three_thirty_300",
        depends=depends,
        classes=table.digest,
        levels=sorted(areas),
        trees=n_trees,
        homes=n_homes,
        view=three_thirty_300.VIEW_DISTANCE_M,
        crown=three_thirty_300.CROWN_RADIUS_M,
        green=three_thirty_300.PUBLIC_GREEN_CLASSES,
    )

    def cells() -> dict[str, np.ndarray]:
        patches = three_thirty_300.public_green_patches(classes, table, grid)
        distance = np.minimum(three_thirty_300.distance_to_green(patches, grid), DISTANCE_CAP_M)
        distance[classes == 0] = np.nan
        result = {
            "canopy_share": three_thirty_300.canopy_share(classes, table, grid, trees),
            "distance_to_public_green": distance.astype("float32"),
        }
        if homes is not None and n_homes:
            counted = (
                three_thirty_300.trees_near(homes, trees)
                if trees is not None and n_trees
                else np.full(n_homes, -1, dtype="int64")
            )
            result["trees_near_home"] = counted
        return result

    arrays = ctx.cache.arrays("three_thirty_300", key, cells)

    def per_area() -> dict[str, gpd.GeoDataFrame]:
        result = {}
        for level, frame in areas.items():
            means = area_means(frame, {"canopy_share": arrays["canopy_share"]}, grid)
            means["meets_30"] = means["canopy_share"] >= three_thirty_300.CANOPY_TARGET
            if "trees_near_home" in arrays and homes is not None:
                distance = three_thirty_300.value_at(
                    arrays["distance_to_public_green"], grid, homes
                )
                summary = three_thirty_300.homes_summary(
                    homes, arrays["trees_near_home"], distance, frame
                )
                for column in ("homes", "share_3_trees", "share_300m_green"):
                    means[column] = summary[column].to_numpy()
                if not n_trees:
                    means["share_3_trees"] = np.nan
            result[level] = means.drop(columns=["data_coverage"])
        return result

    frames = ctx.cache.frames("three_thirty_300_areas", key, per_area)
    return {"key": key, **arrays, "areas": frames}


def heat_vulnerability_step(
    ctx: RunContext, buurten: gpd.GeoDataFrame, depends: str
) -> dict[str, Any]:
    """Who is hit by heat, per buurt (cached): ``{"key", "buurt": frame}``.

    ``buurten`` must carry the CBS key figures of ``sources.cbs_wijkenbuurten.read_buurten``
    (``p_65_eo_jr``, ``p_00_14_jr``, ``bev_dichth``, ``inwoners``); the frame returned holds
    ``code``, ``name``, the geometry and :data:`..analysis.heat_vulnerability.OUTPUT_COLUMNS`.
    """
    key = step_key("heat_vulnerability", depends=depends, columns=OUTPUT_COLUMNS)

    def compute() -> dict[str, gpd.GeoDataFrame]:
        frame = heat_vulnerability(buurten)
        return {"buurt": frame[["code", "name", *OUTPUT_COLUMNS, "geometry"]]}

    return {"key": key, **ctx.cache.frames("heat_vulnerability", key, compute)}


def koppelkansen_step(
    ctx: RunContext,
    biodiversity: np.ndarray,
    depends: str,
    heat: Mapping[str, np.ndarray] | None = None,
    water_retention: np.ndarray | None = None,
    drought_stress: np.ndarray | None = None,
    heat_parameters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``koppelkans`` and ``koppelkans_class`` per cell (cached).

    ``biodiversity``: the score or habitat quality (0..1, high = good); ``heat``: the heat
    step's layers by name, the first of :data:`HEAT_PREFERENCE` usable is taken (the air
    temperature only with ``heat_parameters``, the heat step's ``parameters`` holding ``t_ref``
    and ``uhi_max``); ``water_retention``: ``runoff_retention`` of :func:`water_step`;
    ``drought_stress`` of :func:`drought_step`. ``depends`` must cover every input's step key.
    Returns also ``heat_layer`` (the layer used) and ``thresholds`` (from when a stress is high).
    """
    t_ref, uhi_max = (heat_parameters or {}).get("t_ref"), (heat_parameters or {}).get("uhi_max")
    usable = [
        k
        for k in HEAT_PREFERENCE
        if heat and k in heat and (k != "air_temperature" or None not in (t_ref, uhi_max))
    ]
    if heat and not usable:
        raise InvalidInput(
            f"no usable heat layer in {sorted(heat)}",
            hint="pass heat_mitigation or cooling_capacity, or the air temperature together "
            "with heat_parameters holding t_ref and uhi_max",
        )
    heat_kind = usable[0] if usable else None
    thresholds = koppelkansen.reference_thresholds()
    key = step_key(
        "koppelkansen",
        depends=depends,
        heat=heat_kind,
        t_ref=t_ref if heat_kind == "air_temperature" else None,
        uhi_max=uhi_max if heat_kind == "air_temperature" else None,
        water=water_retention is not None,
        drought=drought_stress is not None,
        low=koppelkansen.LOW_BIODIVERSITY,
        high=thresholds.as_dict(),
    )

    def compute() -> dict[str, np.ndarray]:
        return koppelkansen.koppelkansen(
            biodiversity,
            heat=koppelkansen.heat_stress(heat[heat_kind], heat_kind, t_ref, uhi_max)
            if heat and heat_kind
            else None,
            water=koppelkansen.water_stress(water_retention)
            if water_retention is not None
            else None,
            drought=drought_stress,
            thresholds=thresholds,
        )

    return {
        "key": key,
        "heat_layer": heat_kind,
        "thresholds": thresholds.as_dict(),
        **ctx.cache.arrays("koppelkansen", key, compute),
    }
