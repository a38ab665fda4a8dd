"""Run, save and compare scenarios on published areas (the glue for the CLI and the API)."""

from __future__ import annotations

from typing import Any

from biostresstest.core.settings import Settings
from biostresstest.measures import scenario as scenarios
from biostresstest.measures.baseline import load_baseline
from biostresstest.measures.places import parse_geometry, places_from_rule
from biostresstest.model.areas import normalise_area_key
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.store import Store


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
    store: Store | None = None,
) -> dict[str, Any]:
    """Build, run and (by default) save a scenario of a published area; returns its JSON."""
    key = normalise_area_key(area)
    scenario = scenarios.build(name, key, places, soil_group, description)
    scenarios.run(store_of(settings, store), scenario)
    data = scenario.as_dict()
    if save:
        data["file"] = str(scenarios.save(settings.data_dir, scenario))
    return data


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
    """Places of a rule, e.g. every ``pand`` over 100 m² within a polygon, for one measure."""
    base = load_baseline(store_of(settings, store), normalise_area_key(area))
    within = parse_geometry(within_wkt, "the rule's area")
    geoms = places_from_rule(base, class_key, min_area_m2, within, feature_layer)
    return [{"measure": measure, "wkt": g.wkt, "label": f"{class_key} ≥ {min_area_m2:g} m²"}
            for g in geoms]  # fmt: skip
