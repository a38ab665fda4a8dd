"""The value of a measure per m² of its place: biodiversity gain plus co-benefits.

Per m² changed, with the class parameters of the land-cover table::

    value = (0.5·ΔH + 0.25·ΔF) · m(t) + 0.15·ΔCC + 0.10·ΔR / P

* ΔH: change of habitat suitability (the class's, or the measure's floor or bonus; the
  habitat-quality component Q scales with it), ΔF: change of the surface factor (BAF);
  0.5 and 0.25 are their weights in the v2 score (``analysis.scoring.WEIGHTS``). The
  connectivity component (weight 0.25) depends on the surroundings and is left out here; the
  scenario recomputes it. So does it for removed threats (less light): their gain lies in
  the surroundings, so their value here is only what they change on the place itself.
* m(t) = 1/1.035^t, the BNG temporal multiplier for t years to the effect (§b.6, §d.2).
* ΔCC: change of the InVEST UCM cooling capacity 0.6·shade + 0.2·albedo + 0.2·kc/max kc
  (§b.2), ΔR/P: change of the share of the default rain event kept (SCS-CN, soil group B,
  at least the measure's own storage, §b.3).
* 0.15 (heat) and 0.10 (water) are our weights for the co-benefits: they count, but never
  outweigh a clear biodiversity gain.

The ranking divides ``value × m²`` by the middle of the cost range (at least €0.10 per m², so
cost-neutral measures rank first without dividing by zero). Measures whose cost methods.md
does not give rank after the priced ones, by value.
"""

from __future__ import annotations

import numpy as np

from biostresstest.analysis.runoff import retention_mm
from biostresstest.measures.catalogue import Measure
from biostresstest.model.landcover import load_classes
from biostresstest.model.rain_events import load_rain_events

BIODIVERSITY_WEIGHTS = {"habitat": 0.5, "surface_factor": 0.25}
CO_BENEFIT_WEIGHTS = {"heat": 0.15, "water": 0.10}
MIN_EUR_PER_M2 = 0.10
SOIL_GROUP = "B"


def cooling_capacity(shade: float, albedo: float, kc: float) -> float:
    """UCM CC with the default factor weights and uniform ET0."""
    kc_max = max(c.kc.value for c in load_classes())
    return 0.6 * shade + 0.2 * albedo + 0.2 * kc / kc_max


def parts(measure: Measure, class_key: str) -> dict[str, float]:
    """ΔH, ΔF, ΔCC and ΔR/P of ``measure`` on one m² of class ``class_key``."""
    table = load_classes()
    old = table.by_key(class_key)
    new = table.by_key(measure.to) if measure.to else old
    habitat = new.habitat.value
    if measure.habitat_floor is not None:
        habitat = max(habitat, measure.habitat_floor)
    habitat = min(habitat + measure.habitat_bonus, 1.0)
    baf = new.baf.value if measure.baf_floor is None else max(new.baf.value, measure.baf_floor)
    shade = (
        new.shade.value
        if measure.shade_floor is None
        else max(new.shade.value, measure.shade_floor)
    )
    event = load_rain_events().default_event
    p = event.depth_mm
    cn = np.array([old.curve_number.for_soil_group(SOIL_GROUP),
                   new.curve_number.for_soil_group(SOIL_GROUP)], np.float32)  # fmt: skip
    kept = retention_mm(p, cn)
    kept_new = max(float(kept[1]), min(p, measure.storage_mm[0] if measure.storage_mm else 0.0))
    return {
        "habitat": habitat - old.habitat.value,
        "surface_factor": baf - old.baf.value,
        "heat": cooling_capacity(shade, new.albedo.value, new.kc.value)
        - cooling_capacity(old.shade.value, old.albedo.value, old.kc.value),
        "water": (kept_new - float(kept[0])) / p,
    }


def value_per_m2(measure: Measure, class_key: str) -> float:
    """The value formula of the module doc for one m² of ``class_key``."""
    d = parts(measure, class_key)
    bio = BIODIVERSITY_WEIGHTS["habitat"] * d["habitat"]
    bio += BIODIVERSITY_WEIGHTS["surface_factor"] * d["surface_factor"]
    co = CO_BENEFIT_WEIGHTS["heat"] * d["heat"] + CO_BENEFIT_WEIGHTS["water"] * d["water"]
    return bio * measure.temporal_multiplier + co
