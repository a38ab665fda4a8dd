"""The feasible measure of a place: one rule for the recommender and the potential.

Both ask :func:`biostresstest.measures.applicability.check` whether a measure fits: its class,
public or private ground, minimum area and width, and soil where the soil is known (no soil
map is loaded, so neither leaves soil-bound measures out). The potential (*potentieel*) then
applies, per patch of one class, the fitting measure with the highest gain per m² of the whole
patch: its value per m² (:mod:`biostresstest.measures.value`) times its ``potential_share``,
the share of a place it can realistically take (catalogue). A share of 0 keeps a measure out of
the potential (a change of use such as lawn → forest, a chosen spot such as a pond, or a
condition the rules cannot see), while the recommender still offers it.

A measure with a share below 1 does not change the class of the patch: its habitat and surface
factor move that share of the way to the measure's, area-true, as a scenario does for a cell
that a place covers in part. The class, and so the threats and the natural areas, stay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from biostresstest.measures.applicability import Place, check
from biostresstest.measures.catalogue import Catalogue, Measure
from biostresstest.measures.value import value_per_m2
from biostresstest.model.landcover import load_classes


@dataclass(frozen=True)
class Choice:
    """A measure that fits a class, with its value per m² of the part it changes."""

    measure: Measure
    value_per_m2: float

    @property
    def gain_per_m2(self) -> float:
        """Value per m² of the whole place: the value times the share the measure takes."""
        return self.value_per_m2 * self.measure.potential_share


def fits_class(measure: Measure, class_key: str) -> bool:
    """Whether ``measure`` fits a large, wide place of ``class_key`` (the recommender's rule)."""
    return check(measure, Place({class_key: math.inf})).fits


def potential_options(class_key: str, catalogue: Catalogue) -> list[Choice]:
    """The measures of the potential for ``class_key``, best gain per m² of the place first.

    Only measures that fit the class by :func:`fits_class`, take a share of it
    (``potential_share`` > 0) and gain something there; the potential takes, per patch, the
    first of them whose minimum area and width the patch reaches.
    """
    found = []
    for m in catalogue:
        if m.potential_share <= 0 or not fits_class(m, class_key):
            continue
        value = value_per_m2(m, class_key)
        if value > 0:
            found.append(Choice(m, value))
    return sorted(found, key=lambda c: (-c.gain_per_m2, c.measure.key))


def potential_change(
    measure: Measure, habitat: np.ndarray, baf: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Habitat suitability and surface factor of cells after ``measure`` in the potential.

    ``habitat`` and ``baf`` are the cells' values with the class the potential gave them: the
    measure's ``to`` class when it takes the whole place (share 1), else the old class. The
    measure's target (its class, floors and bonus) is reached in full at share 1 and that
    share of the way otherwise.
    """
    share = measure.potential_share
    whole = share >= 1
    to = load_classes().by_key(measure.to) if measure.to is not None and not whole else None
    target_h = np.full_like(habitat, to.habitat.value) if to is not None else habitat.copy()
    target_f = np.full_like(baf, to.baf.value) if to is not None else baf.copy()
    if measure.habitat_floor is not None:
        target_h = np.maximum(target_h, np.float32(measure.habitat_floor))
    if measure.habitat_bonus:
        target_h = np.minimum(target_h + np.float32(measure.habitat_bonus), np.float32(1.0))
    if measure.baf_floor is not None:
        target_f = np.maximum(target_f, np.float32(measure.baf_floor))
    if whole:
        return target_h.astype(habitat.dtype), target_f.astype(baf.dtype)
    s = np.float32(share)
    return (
        (habitat + s * (target_h - habitat)).astype(habitat.dtype),
        (baf + s * (target_f - baf)).astype(baf.dtype),
    )
