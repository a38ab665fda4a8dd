"""Koppelkansen: places where low biodiversity meets a climate task (heat, water, drought).

A measure there (trees, depaving, a wadi) serves biodiversity and climate adaptation at once,
which is what makes it fundable (methods.md §b.14). Per cell, with every input on 0..1:

* **biodiversity** ``B``: the stress-test score or InVEST habitat quality (high = good);
* **heat stress** ``H``: the share of the urban heat island the place reaches. From the air
  temperature (preferred): ``(T_air − T_ref) / UHI_max``, the InVEST UCM excess over the
  reference temperature after the air has mixed over the neighbourhood; from a heat index
  (``heat_mitigation`` or ``cooling_capacity``): ``1 − index``, the same quantity per cell before
  mixing (InVEST: ``T_nomix = T_ref + (1 − HM)·UHI_max``);
* **water stress** ``W``: the share of the design storm that runs off, ``Q/P`` (= 1 − retention
  index of :mod:`.runoff`);
* **drought stress** ``D`` (optional): :func:`.drought.drought_stress`.

``koppelkans = (1 − B) · max(H, W, D)`` over the stresses given (NaN where B or all stresses are
missing). Classes (uint8): 0 no data, 1 no koppelkans (B ≥ :data:`LOW_BIODIVERSITY` or no
stress high), 2 heat, 3 water (W or D), 4 heat and water.

When a stress counts as high (:func:`reference_thresholds`): when it reaches the stress the
same models give a *half-sealed place*, one half covered by the class table's generic urban green
(``begroeid_onbepaald``), the other half by its generic unvegetated surface
(``onbegroeid_onbepaald``), on the default soil group and the default rain event. The thresholds
follow from the class table and the model equations alone, not from the area's own
distribution, so the classes of two gemeenten mean the same; with the current table they are
H ≥ 0.715 (1.64 °C above ``T_ref`` at ``UHI_max`` 2.3 °C), W ≥ 0.508 and D ≥ 0.267.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from biostresstest.analysis import drought, runoff
from biostresstest.analysis.aggregate import area_means
from biostresstest.analysis.urban_cooling import CoolingWeights
from biostresstest.core.errors import InvalidInput
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import LandCoverClass, LandCoverTable, load_classes
from biostresstest.model.rain_events import load_rain_events

LOW_BIODIVERSITY = 3 / 7
"""Below the lower three of the stress test's seven classes counts as low biodiversity."""
REFERENCE_CLASSES = ("begroeid_onbepaald", "onbegroeid_onbepaald")
"""The class table's generic urban green and generic unvegetated surface."""
REFERENCE_GREEN_SHARE = 0.5
"""Green share of the reference place whose stresses set the thresholds (half sealed)."""
HEAT_KINDS = ("air_temperature", "heat_mitigation", "cooling_capacity")
CLASS_NAMES: Mapping[int, tuple[str, str]] = {
    0: ("geen gegevens", "no data"),
    1: ("geen koppelkans", "no opportunity"),
    2: ("biodiversiteit × hitte", "biodiversity × heat"),
    3: ("biodiversiteit × water", "biodiversity × water"),
    4: ("biodiversiteit × hitte en water", "biodiversity × heat and water"),
}


@dataclass(frozen=True)
class StressThresholds:
    """From these values on (0..1, inclusive) a stress counts as a high climate task."""

    heat: float
    water: float
    drought: float

    def as_dict(self) -> dict[str, float]:
        """The three thresholds rounded for a manifest or a step key."""
        return {name: round(value, 4) for name, value in asdict(self).items()}


def reference_thresholds(
    table: LandCoverTable | None = None,
    soil_group: str = drought.DEFAULT_SOIL_GROUP,
    rain_mm: float | None = None,
    weights: CoolingWeights | None = None,
) -> StressThresholds:
    """The stresses of the half-sealed reference place (see the module docstring).

    * heat: ``1 − HM`` averaged over the place. Cooling capacity per class is InVEST's
      ``w_s·shade + w_a·albedo + w_e·ETI`` with ``ETI = Kc`` (one ET0 over the area, as a run
      uses); in a uniform half-green neighbourhood the park cooling ``CC_park`` is the green
      share times the green class's CC (the green area within the cooling distance is far above
      InVEST's 2 ha for any distance ≥ 113 m), and ``HM = max(CC, CC_park)`` per class;
    * water: the green-share weighted ``Q/P`` of both classes for ``rain_mm`` (default: the
      default rain event) on ``soil_group``;
    * drought: the green class's vulnerability times ``1 − supply``, the supply being the
      green-share weighted infiltration of both classes (the cell's window half sealed).
    """
    table = table or load_classes()
    green, sealed = (table.by_key(key) for key in REFERENCE_CLASSES)
    share = REFERENCE_GREEN_SHARE
    w_s, w_a, w_e = (weights or CoolingWeights()).normalised()

    def cooling(cls: LandCoverClass) -> float:
        return w_s * cls.shade.value + w_a * cls.albedo.value + w_e * cls.kc.value

    park = share * cooling(green) if green.green else 0.0
    mitigation = share * max(cooling(green), park) + (1 - share) * max(cooling(sealed), park)

    rain = load_rain_events().default_event.depth_mm if rain_mm is None else rain_mm
    codes = np.array([[green.code, sealed.code]], dtype="uint8")
    runs_off = runoff.runoff_mm(rain, runoff.curve_numbers(codes, table, soil_group))[0] / rain
    infiltration = drought.infiltration_share(codes, table, soil_group)[0]
    vulnerable = float(drought.green_vulnerability(codes, table)[0, 0])

    def mix(pair: np.ndarray) -> float:
        return float(share * pair[0] + (1 - share) * pair[1])

    return StressThresholds(
        heat=1 - mitigation, water=mix(runs_off), drought=vulnerable * (1 - mix(infiltration))
    )


def heat_stress(
    layer: np.ndarray,
    kind: str,
    t_ref: float | None = None,
    uhi_max: float | None = None,
) -> np.ndarray:
    """Heat stress 0..1 (high = hot) from one of the heat step's layers (:data:`HEAT_KINDS`).

    ``air_temperature`` needs the run's ``t_ref`` and ``uhi_max`` (°C): the stress is the share
    of the heat island reached, ``(T_air − t_ref) / uhi_max``; the indices give ``1 − index``.
    """
    values = np.asarray(layer, dtype="float32")
    if kind in ("heat_mitigation", "cooling_capacity"):
        return np.clip(1 - values, 0, 1).astype("float32")
    if kind != "air_temperature":
        raise InvalidInput(f"unknown heat layer {kind!r}", hint=f"use one of {HEAT_KINDS}")
    if t_ref is None or uhi_max is None or not uhi_max > 0:
        raise InvalidInput(
            f"air temperature needs t_ref and a positive uhi_max, got {t_ref!r} and {uhi_max!r}",
            hint="pass the heat step's parameters (t_ref, uhi_max)",
        )
    excess = (values.astype("float64") - t_ref) / uhi_max
    return np.clip(excess, 0, 1).astype("float32")


def water_stress(retention_index: np.ndarray) -> np.ndarray:
    """Share of the storm that runs off, Q/P = 1 − retention index (0..1)."""
    return np.clip(1 - np.asarray(retention_index, dtype="float32"), 0, 1).astype("float32")


def koppelkansen(
    biodiversity: np.ndarray,
    heat: np.ndarray | None = None,
    water: np.ndarray | None = None,
    drought: np.ndarray | None = None,
    thresholds: StressThresholds | None = None,
) -> dict[str, np.ndarray]:
    """Cell layers ``koppelkans`` (0..1, float32) and ``koppelkans_class`` (uint8, 0..4).

    ``heat``, ``water`` and ``drought`` are stresses 0..1 (high = worse); at least one is needed.
    ``thresholds`` default to :func:`reference_thresholds`.
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
    limits = thresholds or reference_thresholds()
    stack = np.stack([np.asarray(v, dtype="float32") for v in stresses.values()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells stay NaN on purpose
        stress = np.nanmax(stack, axis=0)
    value = ((1 - np.clip(bio, 0, 1)) * stress).astype("float32")
    low = bio < LOW_BIODIVERSITY
    hot = _high(stresses.get("heat"), limits.heat)
    wet = _high(stresses.get("water"), limits.water) | _high(
        stresses.get("drought"), limits.drought
    )
    classes = np.where(np.isfinite(value), 1, 0).astype("uint8")
    classes[low & hot & ~wet] = 2
    classes[low & wet & ~hot] = 3
    classes[low & hot & wet] = 4
    classes[~np.isfinite(value)] = 0
    return {"koppelkans": value, "koppelkans_class": classes}


def _high(stress: np.ndarray | None, threshold: float) -> np.ndarray:
    if stress is None:
        return np.zeros((), dtype=bool)
    with np.errstate(invalid="ignore"):
        return np.asarray(np.asarray(stress) >= np.float32(threshold))


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
