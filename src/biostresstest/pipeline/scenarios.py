"""Run, save and compare scenarios on published areas (the glue for the CLI, API and reports)."""

from __future__ import annotations

import json
from typing import Any

import shapely

from biostresstest.core.errors import NotLoaded
from biostresstest.core.settings import Settings
from biostresstest.measures import scenario as scenarios
from biostresstest.measures.baseline import load_baseline
from biostresstest.measures.places import parse_geometry, places_from_rule
from biostresstest.model.areas import normalise_area_key
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.store import Store
from biostresstest.model.study_area import NAMED_AREAS


def store_of(settings: Settings, store: Store | None = None) -> Store:
    """The given store, or the embedded store of the data folder."""
    return store or EmbeddedStore(settings.data_dir / "store")


def run_scenario(
    settings: Settings,
    area: str,
    name: str,
    places: list[dict[str, Any]],
    *,
    soil_group: str = scenarios.DEFAULT_SOIL_GROUP,
    description: str = "",
    save: bool = True,
    replace: bool = False,
    store: Store | None = None,
) -> dict[str, Any]:
    """Build, run and (by default) save a scenario of a published area; returns its JSON.

    Saving under a name that is taken is a ``Conflict`` (409) unless ``replace``; the check
    is made before the run as well, so a refused save costs no recomputation.
    """
    key = normalise_area_key(area)
    scenario = scenarios.build(name, key, places, soil_group, description)
    if save and not replace:
        scenarios.refuse_taken(settings.data_dir, key, scenario.name)
    scenarios.run(store_of(settings, store), scenario)
    data = scenario.as_dict()
    data["saved"] = save
    if save:
        data["file"] = str(scenarios.save(settings.data_dir, scenario, replace=replace))
    return data


def owner_gemeente(settings: Settings, area: str, store: Store | None = None) -> str | None:
    """The gemeente whose admins may replace the scenarios of ``area``, or None.

    A gemeente owns itself; a study area belongs to the gemeente it lies in (``otterlo`` →
    GM0228), from its run manifest or the named study areas; a bounding box has none.
    """
    key = normalise_area_key(area)
    if key.startswith("GM"):
        return key
    try:
        manifest = store_of(settings, store).manifest(key)
    except (NotLoaded, KeyError, FileNotFoundError):
        manifest = {}
    found = manifest.get("parameters", {}).get("area", {}).get("gemeente")
    if not found and key in NAMED_AREAS:
        found = NAMED_AREAS[key].gemeente
    return str(found) if found else None


def saved_scenarios(settings: Settings, area: str) -> list[dict[str, Any]]:
    """The saved scenarios of ``area`` for a report: name, measures and the main deltas.

    One record per scenario, by name: ``name``, ``description``, ``measures`` (keys, comma
    separated), ``places``, ``score_before`` / ``score_after`` (whole area), ``window_gain``,
    ``cost_low_eur`` / ``cost_high_eur``, ``cost_unknown`` (measures without a cost),
    ``cost_partial`` (measures whose cost is a lower bound) and
    ``years_to_full_effect``. Unreadable files are skipped, never fatal for a report.
    """
    key = normalise_area_key(area)
    rows = []
    for name in scenarios.list_names(settings.data_dir, key):
        try:
            data = scenarios.load(settings.data_dir, key, name)
            rows.append(_summary(data))
        except (NotLoaded, ValueError, KeyError, TypeError, IndexError, json.JSONDecodeError):
            continue
    return rows


def _summary(data: dict[str, Any]) -> dict[str, Any]:
    result = data["result"]
    score, cost = result["score"], result["cost"]
    measures = sorted({str(p["measure"]) for p in data["places"]})

    def gain(part: dict[str, Any]) -> float | None:
        before, after = part.get("before"), part.get("after")
        return None if before is None or after is None else round(after - before, 4)

    return {
        "name": data["name"],
        "description": data.get("description", ""),
        "measures": ", ".join(measures),
        "places": len(data["places"]),
        "score_before": score["area"]["before"],
        "score_after": score["area"]["after"],
        "area_gain": gain(score["area"]),
        "window_gain": gain(score["window"]),
        "cost_low_eur": cost["total_eur"][0],
        "cost_high_eur": cost["total_eur"][1],
        "cost_unknown": ", ".join(cost.get("unknown", [])),
        "cost_partial": ", ".join(cost.get("partial", [])),
        "years_to_full_effect": result["years_to_full_effect"],
    }


def rule_places(
    settings: Settings,
    area: str,
    measure: str,
    class_key: str,
    min_area_m2: float,
    within_wkt: str,
    feature_layer: str | None = "panden",
    store: Store | None = None,
) -> list[dict[str, Any]]:
    """The place of a rule, e.g. every ``pand`` over 100 m² within a polygon, for one measure.

    A rule is one place (the union of everything it selects, adjacent roofs merged so the
    geometry stays valid), so it counts once against the scenario's limit of places; an empty
    list when it selects nothing.
    """
    base = load_baseline(store_of(settings, store), normalise_area_key(area))
    within = parse_geometry(within_wkt, "the rule's area")
    geoms = places_from_rule(base, class_key, min_area_m2, within, feature_layer)
    polygons = [p for g in geoms for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon"]
    if not polygons:
        return []
    label = f"{class_key} ≥ {min_area_m2:g} m² ({len(geoms)})"
    return [{"measure": measure, "wkt": shapely.union_all(polygons).wkt, "label": label}]
