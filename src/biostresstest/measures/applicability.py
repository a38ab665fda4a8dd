"""Which measures fit a place, and why (or why not).

A place is what the user points at: a cell, a drawn polygon, a feature (verge, parcel, roof),
a buurt or a gemeente. It is described by the area of each land-cover class in it, its width,
whether it is public or private ground, and (where known) its soil group. Every measure is
checked rule by rule; the answer names the rule that made it fit, or the first rule that
refused it, in plain Dutch and English.

Public or private ground is decided by the land-cover class, since no cadastral ownership is
loaded: roads, paths, verges, public grass, plantsoen, rail and water are public; yards (erf),
buildings and farmland are private; every other class is unknown, and unknown ground fits both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from biostresstest.measures.catalogue import Catalogue, Measure
from biostresstest.model.landcover import load_classes

PUBLIC_CLASSES = frozenset(
    {"weg_hoofd", "weg_lokaal", "pad", "spoor", "berm", "gras_openbaar", "plantsoen",
     "water_stilstaand", "water_stromend"}
)  # fmt: skip
"""Classes taken as public ground (BGT: the road authority's or municipality's objects)."""
PRIVATE_CLASSES = frozenset({"erf", "pand", "akker", "grasland_agrarisch", "boomgaard_kwekerij"})
"""Classes taken as private ground (yards, buildings, farmland)."""
_GROUND_NL = {"public": "openbare grond", "private": "particuliere grond", "unknown": "onbekend"}
_GROUND_EN = {"public": "public ground", "private": "private ground", "unknown": "unknown"}


def ground_of(class_keys: Iterable[str]) -> str:
    """``public``, ``private`` or ``unknown`` for ground made of these classes."""
    keys = set(class_keys)
    if keys and keys <= PUBLIC_CLASSES:
        return "public"
    if keys and keys <= PRIVATE_CLASSES:
        return "private"
    return "unknown"


@dataclass(frozen=True)
class Place:
    """What the rules need to know of a place."""

    class_m2: Mapping[str, float]
    """Area (m²) of each land-cover class key in the place."""
    width_m: float | None = None
    """The narrowest width (m), e.g. the short side of its minimum rotated rectangle."""
    soil_group: str | None = None
    """Hydrologic soil group A..D where known."""
    label: str = ""

    @property
    def area_m2(self) -> float:
        """Total area of the place."""
        return float(sum(self.class_m2.values()))


@dataclass(frozen=True)
class Fit:
    """The verdict for one measure on one place."""

    measure: Measure
    fits: bool
    usable_m2: float
    """Area of the classes the measure can change."""
    ground: str
    reason_nl: str
    reason_en: str

    def reason(self, lang: str = "nl") -> str:
        """The reason in ``lang``."""
        return self.reason_en if lang == "en" else self.reason_nl

    def as_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "measure": self.measure.key,
            "fits": self.fits,
            "usable_m2": round(self.usable_m2, 1),
            "ground": self.ground,
            "reason_nl": self.reason_nl,
            "reason_en": self.reason_en,
        }


def _names(keys: Iterable[str], lang: str) -> str:
    table = load_classes()
    return ", ".join(table.by_key(k).name_en if lang == "en" else table.by_key(k).name_nl
                     for k in keys)  # fmt: skip


def check(measure: Measure, place: Place, audience: str | None = None) -> Fit:
    """Whether ``measure`` fits ``place`` (for ``audience`` if given), with the reason."""
    usable = {k: m2 for k, m2 in place.class_m2.items() if k in measure.classes and m2 > 0}
    area = float(sum(usable.values()))
    ground = ground_of(usable)

    def refuse(nl: str, en: str) -> Fit:
        return Fit(measure, False, area, ground, f"past niet: {nl}", f"refused: {en}")

    if audience is not None and audience not in measure.audience:
        return refuse(
            f"deze maatregel is niet voor {audience}", f"this measure is not for {audience}"
        )
    if not usable:
        here = sorted(place.class_m2, key=lambda k: -place.class_m2[k])[:3]
        return refuse(
            f"vraagt {_names(measure.classes, 'nl')}; hier ligt {_names(here, 'nl') or 'niets'}",
            f"needs {_names(measure.classes, 'en')}; this place has "
            f"{_names(here, 'en') or 'nothing'}",
        )
    if area < measure.min_area_m2:
        return refuse(
            f"vraagt minstens {measure.min_area_m2:g} m² {_names(measure.classes, 'nl')}, "
            f"deze plek heeft {area:.0f} m²",
            f"needs at least {measure.min_area_m2:g} m² of {_names(measure.classes, 'en')}, "
            f"this place has {area:.0f} m²",
        )
    if place.width_m is not None and place.width_m < measure.min_width_m:
        return refuse(
            f"vraagt minstens {measure.min_width_m:g} m breedte, deze plek is "
            f"{place.width_m:.1f} m breed",
            f"needs a width of at least {measure.min_width_m:g} m, this place is "
            f"{place.width_m:.1f} m wide",
        )
    if measure.ground != "any" and ground not in ("unknown", measure.ground):
        return refuse(
            f"is voor {_GROUND_NL[measure.ground]}, dit is {_GROUND_NL[ground]}",
            f"is for {_GROUND_EN[measure.ground]}, this is {_GROUND_EN[ground]}",
        )
    if place.soil_group is not None and place.soil_group not in measure.soil:
        return refuse(
            f"vraagt bodemgroep {'/'.join(measure.soil)}, hier is het {place.soil_group}",
            f"needs soil group {'/'.join(measure.soil)}, here it is {place.soil_group}",
        )
    extra_nl = extra_en = ""
    if measure.ground != "any" and ground == "unknown":
        extra_nl = f"; controleer of het {_GROUND_NL[measure.ground]} is"
        extra_en = f"; check that it is {_GROUND_EN[measure.ground]}"
    if measure.groundwater:
        extra_nl += f"; {measure.groundwater}"
        extra_en += "; check the groundwater condition in the note"
    return Fit(
        measure,
        True,
        area,
        ground,
        f"past: {area:.0f} m² {_names(usable, 'nl')}"
        + (f" (minimaal {measure.min_area_m2:g} m²)" if measure.min_area_m2 else "")
        + extra_nl,
        f"fits: {area:.0f} m² of {_names(usable, 'en')}"
        + (f" (at least {measure.min_area_m2:g} m²)" if measure.min_area_m2 else "")
        + extra_en,
    )


def applicable(
    catalogue: Catalogue, place: Place, audience: str | None = None
) -> tuple[list[Fit], list[Fit]]:
    """(fitting, refused) measures of the catalogue for ``place``, in catalogue order."""
    verdicts = [check(m, place, audience) for m in catalogue]
    return [v for v in verdicts if v.fits], [v for v in verdicts if not v.fits]
