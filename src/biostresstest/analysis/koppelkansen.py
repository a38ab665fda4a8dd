"""Koppelkansen: places where low biodiversity meets a climate task (heat, water, drought).

A measure there (trees, depaving, a wadi) serves biodiversity and climate adaptation at once,
which is what makes it fundable (methods.md §b.14). Per cell, with every input on 0..1:

* **biodiversity** ``B``: the stress-test score or InVEST habitat quality (high = good);
* **heat stress** ``H``: from the heat step — ``1 − heat_mitigation`` or ``1 − cooling_capacity``
  (InVEST UCM indices, high = cool), or the air temperature rescaled between its 5th and 95th
  percentile within the area (relative: hot for this place);
* **water stress** ``W``: the share of the design storm that runs off, ``Q/P`` (= 1 − retention
  index of :mod:`.runoff`);
* **drought stress** ``D`` (optional): :func:`.drought.drought_stress`.

``koppelkans = (1 − B) · max(H, W, D)`` over the stresses given (NaN where B or all stresses are
missing). Classes (uint8): 0 no data, 1 no koppelkans (B ≥ :data:`LOW_BIODIVERSITY` or every
stress < :data:`HIGH_STRESS`), 2 heat, 3 water (W or D), 4 heat and water.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from biostresstest.analysis.aggregate import area_means
from biostresstest.core.errors import InvalidInput
from biostresstest.model.grid import AnalysisGrid

LOW_BIODIVERSITY = 3 / 7
"""Below the lower three of the stress test's seven classes counts as low biodiversity."""
HIGH_STRESS = 0.6
"""A stress of at least this (0..1) counts as a high climate task."""
HEAT_KINDS = ("air_temperature", "heat_mitigation", "cooling_capacity")
CLASS_NAMES: Mapping[int, tuple[str, str]] = {
    0: ("geen gegevens", "no data"),
    1: ("geen koppelkans", "no opportunity"),
    2: ("biodiversiteit × hitte", "biodiversity × heat"),
    3: ("biodiversiteit × water", "biodiversity × water"),
    4: ("biodiversiteit × hitte en water", "biodiversity × heat and water"),
}


def heat_stress(layer: np.ndarray, kind: str) -> np.ndarray:
    """Heat stress 0..1 (high = hot) from one of the heat step's layers (:data:`HEAT_KINDS`)."""
    values = np.asarray(layer, dtype="float32")
    if kind in ("heat_mitigation", "cooling_capacity"):
        return np.clip(1 - values, 0, 1).astype("float32")
    if kind != "air_temperature":
        raise InvalidInput(f"unknown heat layer {kind!r}", hint=f"use one of {HEAT_KINDS}")
    known = values[np.isfinite(values)]
    if known.size == 0:
        return np.full(values.shape, np.nan, dtype="float32")
    low, high = np.percentile(known, [5, 95])
    if high <= low:
        return np.where(np.isfinite(values), np.float32(0), np.nan).astype("float32")
    return np.clip((values - low) / (high - low), 0, 1).astype("float32")


def water_stress(retention_index: np.ndarray) -> np.ndarray:
    """Share of the storm that runs off, Q/P = 1 − retention index (0..1)."""
    return np.clip(1 - np.asarray(retention_index, dtype="float32"), 0, 1).astype("float32")


def koppelkansen(
    biodiversity: np.ndarray,
    heat: np.ndarray | None = None,
    water: np.ndarray | None = None,
    drought: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Cell layers ``koppelkans`` (0..1, float32) and ``koppelkans_class`` (uint8, 0..4).

    ``heat``, ``water`` and ``drought`` are stresses 0..1 (high = worse); at least one is needed.
    """
    stresses = {
        k: v for k, v in (("heat", heat), ("water", water), ("drought", drought)) if v is not None
    }
    if not stresses:
        raise InvalidInput("no climate stress given", hint="pass heat, water or drought stress")
    bio = np.asarray(biodiversity, dtype="float32")
    for name, array in stresses.items():
        if array.shape != bio.shape:
            raise InvalidInput(
                f"{name} stress {array.shape} and biodiversity {bio.shape} differ in shape",
                hint="compute every layer on the same analysis grid",
            )
    stack = np.stack([np.asarray(v, dtype="float32") for v in stresses.values()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells stay NaN on purpose
        stress = np.nanmax(stack, axis=0)
    value = ((1 - np.clip(bio, 0, 1)) * stress).astype("float32")
    low = bio < LOW_BIODIVERSITY
    hot = _high(stresses.get("heat"))
    wet = _high(stresses.get("water")) | _high(stresses.get("drought"))
    classes = np.where(np.isfinite(value), 1, 0).astype("uint8")
    classes[low & hot & ~wet] = 2
    classes[low & wet & ~hot] = 3
    classes[low & hot & wet] = 4
    classes[~np.isfinite(value)] = 0
    return {"koppelkans": value, "koppelkans_class": classes}


def _high(stress: np.ndarray | None) -> np.ndarray:
    if stress is None:
        return np.zeros((), dtype=bool)
    with np.errstate(invalid="ignore"):
        return np.asarray(stress >= HIGH_STRESS)


def top_places(
    koppelkans: np.ndarray,
    classes: np.ndarray,
    areas: gpd.GeoDataFrame,
    grid: AnalysisGrid,
    n: int = 10,
    residents: pd.Series | None = None,
) -> pd.DataFrame:
    """The ``n`` area units with the largest koppelkansen, best first.

    Columns: ``code``, ``name``, ``koppelkans`` (area mean), ``share_koppelkans`` (share of the
    area in classes 2–4), ``share_heat``/``share_water`` (classes 2 and 4 / 3 and 4), and
    ``priority``: the mean, raised by up to half when ``residents`` (heat vulnerability 0..1 by
    area code) says vulnerable people live there: ``koppelkans · (1 + 0.5 · vulnerability)``.
    """
    if n < 1:
        raise InvalidInput(f"n must be at least 1, got {n}", hint="ask for 1 or more places")
    known = classes > 0
    layers = {
        "koppelkans": koppelkans,
        "share_koppelkans": np.where(known, classes >= 2, np.nan).astype("float32"),
        "share_heat": np.where(known, np.isin(classes, (2, 4)), np.nan).astype("float32"),
        "share_water": np.where(known, np.isin(classes, (3, 4)), np.nan).astype("float32"),
    }
    means = area_means(areas, layers, grid)
    table = pd.DataFrame(
        {
            "code": means["code"],
            "name": means.get("name", means["code"]),
            **{k: means[k] for k in layers},
        }
    )
    vulnerability = table["code"].map(residents) if residents is not None else 0.0
    table["priority"] = table["koppelkans"] * (
        1 + 0.5 * pd.Series(vulnerability, index=table.index).fillna(0)
    )
    table = table.dropna(subset=["priority"]).sort_values("priority", ascending=False)
    table["rank"] = range(1, len(table) + 1)
    return table.head(n).reset_index(drop=True)
