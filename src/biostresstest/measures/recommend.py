"""Recommendations: the measures that fit a place, ranked by value per euro, with reasons.

A place can be a point (the connected patch of its cell's class around it, at most
``POINT_RADIUS_M`` away), a drawn or stored feature (a polygon), or an area unit (buurt, wijk,
gemeente, study area: its land-cover areas as published). The value formula and its weights
are in :mod:`biostresstest.measures.value`.

The ranking divides by a cost only where the cost is complete. A partial cost (depaving: the
planting, without breaking out the paving, which methods.md does not price) is a lower bound,
so value per euro from it is an upper bound: such a measure ranks with the measures of unknown
cost, after every fully priced one, by value, and its figure is given as "at most".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
from scipy import ndimage
from shapely.geometry.base import BaseGeometry

from biostresstest.analysis.coverage import coverage_share
from biostresstest.core.crs import RD_NEW
from biostresstest.core.errors import InvalidInput
from biostresstest.measures.applicability import Fit, Place, applicable
from biostresstest.measures.baseline import Baseline
from biostresstest.measures.catalogue import Catalogue, load_catalogue
from biostresstest.measures.places import cells_of, width_of
from biostresstest.measures.value import MIN_EUR_PER_M2, parts, value_per_m2
from biostresstest.model.landcover import load_classes

POINT_RADIUS_M = 50.0
"""A point stands for the patch of its class around it, cut off at this distance."""


@dataclass(frozen=True)
class Recommendation:
    """One fitting measure with its estimated value, cost and plain reason."""

    fit: Fit
    value: float
    """value × usable m² (see :mod:`value`)."""
    cost_eur: tuple[float, float] | None
    per_euro: float | None
    """Value per euro of a complete cost; None for unknown and partial costs."""
    per_euro_at_most: float | None = None
    """For a partial cost: the value per euro of the known part, an upper bound."""

    def as_dict(self, lang: str = "nl") -> dict[str, Any]:
        """JSON form, names and reason in ``lang`` and both languages."""
        m = self.fit.measure
        return {
            "key": m.key,
            "name": m.name(lang),
            "name_nl": m.name_nl,
            "name_en": m.name_en,
            "description": m.description(lang),
            "audience": list(m.audience),
            "usable_m2": round(self.fit.usable_m2, 1),
            "value": round(self.value, 4),
            "value_per_1000_eur": None if self.per_euro is None else round(self.per_euro * 1000, 4),
            "value_per_1000_eur_at_most": None
            if self.per_euro_at_most is None
            else round(self.per_euro_at_most * 1000, 4),
            "cost_eur": None if self.cost_eur is None else list(self.cost_eur),
            "cost_partial": m.cost.partial,
            "cost_unit": m.cost.as_dict(),
            "potential_share": m.potential_share,
            "years_to_effect": m.years_to_effect,
            "reason": self.fit.reason(lang),
            "reason_nl": self.fit.reason_nl,
            "reason_en": self.fit.reason_en,
            "sources": list(m.sources),
        }


def rank(
    place: Place, catalogue: Catalogue | None = None, audience: str | None = None
) -> tuple[list[Recommendation], list[Fit]]:
    """(ranked recommendations, refused measures with their reason) for ``place``."""
    catalogue = catalogue or load_catalogue()
    fits, refused = applicable(catalogue, place, audience)
    ranked = []
    for fit in fits:
        m = fit.measure
        value = sum(
            value_per_m2(m, key) * m2 for key, m2 in place.class_m2.items() if key in m.classes
        )
        cost = m.cost.for_area(fit.usable_m2)
        ratio = None
        if cost is not None:
            ratio = value / max((cost[0] + cost[1]) / 2, MIN_EUR_PER_M2 * fit.usable_m2)
        if m.cost.partial:
            ranked.append(Recommendation(fit, value, cost, None, ratio))
        else:
            ranked.append(Recommendation(fit, value, cost, ratio))
    ranked.sort(key=lambda r: (r.per_euro is None, -(r.per_euro or 0.0), -r.value))
    keep = [r for r in ranked if r.value > 0 or r.fit.measure.remove_threats]
    refused += [
        replace(
            r.fit,
            fits=False,
            reason_nl="past, maar levert hier geen winst op "
            "(leefgebied, groenfactor, koeling, water)",
            reason_en="fits, but gains nothing here (habitat, surface factor, cooling, water)",
        )
        for r in ranked
        if r not in keep
    ]
    return keep, refused


def explain_gain(rec: Recommendation, place: Place, lang: str = "nl") -> str:
    """What the measure does on the main class of this place, in one plain sentence."""
    m = rec.fit.measure
    usable = {k: v for k, v in place.class_m2.items() if k in m.classes}
    d = parts(m, max(usable, key=lambda k: usable[k])) if usable else {}
    if lang == "en":
        cost = "cost unknown" if rec.cost_eur is None else "€{:,.0f}–{:,.0f}".format(*rec.cost_eur)
        if m.cost.partial:
            cost += " plus breaking out the paving (not priced)"
        return (
            f"{m.name_en}: habitat +{d.get('habitat', 0):.2f}, surface factor "
            f"+{d.get('surface_factor', 0):.2f}, rain kept +{100 * d.get('water', 0):.0f} %; "
            f"{cost}; full effect after {m.years_to_effect:g} years"
        )
    cost = "kosten onbekend" if rec.cost_eur is None else "€{:,.0f}–{:,.0f}".format(*rec.cost_eur)
    if m.cost.partial:
        cost += " plus uitbreken van de verharding (niet geprijsd)"
    return (
        f"{m.name_nl}: leefgebied +{d.get('habitat', 0):.2f}, groenfactor "
        f"+{d.get('surface_factor', 0):.2f}, regen vastgehouden +{100 * d.get('water', 0):.0f} %; "
        f"{cost}; volle effect na {m.years_to_effect:g} jaar"
    )


def place_at_point(base: Baseline, x: float, y: float) -> Place:
    """The patch of the cell's class around RD (x, y), within ``POINT_RADIUS_M``."""
    cell = base.grid.cell_of(x, y)
    if cell is None or not base.inside(x, y):
        raise InvalidInput(
            f"x={x:.0f}, y={y:.0f} lies outside the loaded area {base.key}",
            hint="pick a point inside a loaded gemeente or study area (see /api/gemeenten)",
        )
    reach = max(int(POINT_RADIUS_M / base.grid.cell_size), 1)
    r, c = cell
    rows = slice(max(r - reach, 0), r + reach + 1)
    cols = slice(max(c - reach, 0), c + reach + 1)
    classes = base.landcover[rows, cols]
    code = int(base.landcover[cell])
    if code == 0:
        raise InvalidInput(f"no land cover at x={x:.0f}, y={y:.0f}")
    labels, _ = ndimage.label(classes == code)
    patch = labels == labels[r - rows.start, c - cols.start]
    width = 2 * float(ndimage.distance_transform_edt(patch).max()) * base.grid.cell_size
    key = load_classes().by_code(code).key
    area = float(patch.sum()) * base.grid.cell_area
    return Place({key: area}, width, label=f"{key} at {x:.0f}, {y:.0f}")


def place_of_geometry(base: Baseline, geometry: BaseGeometry, label: str = "") -> Place:
    """The land-cover areas (m²) inside a polygon, and its width."""
    window, sub = cells_of(base.grid, geometry)
    share = coverage_share(gpd.GeoSeries([geometry], crs=RD_NEW), sub)
    classes = base.landcover[window]
    table = load_classes()
    class_m2 = {
        table.by_code(int(code)).key: float(share[classes == code].sum()) * base.grid.cell_area
        for code in np.unique(classes[share > 0])
        if code
    }
    return Place(class_m2, width_of(geometry), label=label)


def place_of_area(base: Baseline, code: str) -> Place:
    """An area unit (buurt, wijk, gemeente, study area) from its published land-cover areas."""
    document = base.store.document(base.key, "landcover")
    classes = document.get("classes", {})
    if code not in classes:
        raise InvalidInput(
            f"no land cover for {code} in {base.key}", hint="give a buurt, wijk or area code"
        )
    return Place({k: float(v) for k, v in classes[code].items()}, None, label=code)
