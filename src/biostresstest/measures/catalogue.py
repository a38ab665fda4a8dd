"""The measures catalogue (package data ``data/measures.toml``), validated on load.

Every measure says who can take it, where it fits (land-cover classes, public or private ground,
position, minimum area and width, soil), what it changes (a class transition or a parameter
change), its effects, cost and upkeep ranges, the years until the effect is there and its
sources (ids of methods.md). Validation reports every problem at once, each with the measure key
and the field; unknown class keys, threats and source ids are refused.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from biostresstest.core.errors import CorruptInput, InvalidInput
from biostresstest.model.landcover import SOIL_GROUPS, LandCoverTable, load_classes
from biostresstest.model.threats import load_threats

AUDIENCES = ("gemeente", "bedrijf", "bewoner", "agrarier")
"""Who can take a measure: municipality, company, citizen, farmer."""
AUDIENCE_NAMES = {
    "gemeente": ("gemeente", "municipality"),
    "bedrijf": ("bedrijf", "company"),
    "bewoner": ("bewoner", "citizen"),
    "agrarier": ("agrariër", "farmer"),
}
POSITIONS = ("ground", "roof", "facade", "verge", "bank", "field_edge", "road", "water")
GROUNDS = ("public", "private", "any")
COST_UNITS = ("m2", "m", "tree", "box", "project")
_TEXT = ("key", "name_nl", "name_en", "description_nl", "description_en", "cooling", "drought")
_OPTIONAL = {
    "min_area_m2", "min_width_m", "soil", "groundwater", "to", "habitat_floor", "habitat_bonus",
    "baf_floor", "shade_floor", "remove_threats", "keep_threats", "storage_mm",
}  # fmt: skip
_REQUIRED = {
    *_TEXT, "audience", "position", "ground", "classes", "cost", "maintenance",
    "years_to_effect", "sources", "note", "potential_share",
}  # fmt: skip
_HINT = "Fix src/biostresstest/measures/data/measures.toml; every value needs a known source."


@dataclass(frozen=True)
class CostRange:
    """A cost range in euro per ``unit``; ``known`` False where methods.md has none (m).

    ``partial`` True: the range covers only part of the work (depaving: the planting, not the
    breaking out of the paving, for which methods.md has no figure). It is a lower bound, so
    the ranking does not divide by it (see :mod:`biostresstest.measures.recommend`).
    """

    low: float
    high: float
    unit: str
    known: bool = True
    area_per_unit_m2: float = 1.0
    """For per-unit costs (a tree, a project): the area one unit takes."""
    partial: bool = False

    def for_area(self, area_m2: float) -> tuple[float, float] | None:
        """(low, high) euro for a place of ``area_m2``, or None if the cost is unknown."""
        if not self.known:
            return None
        units = area_m2 if self.unit == "m2" else math.ceil(area_m2 / self.area_per_unit_m2)
        return (round(self.low * units, 2), round(self.high * units, 2))

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        if not self.known:
            return {"known": False, "partial": False, "unit": self.unit}
        return {
            "known": True,
            "partial": self.partial,
            "low": self.low,
            "high": self.high,
            "unit": self.unit,
            "area_per_unit_m2": self.area_per_unit_m2,
        }


@dataclass(frozen=True)
class Measure:
    """One measure of the catalogue."""

    key: str
    name_nl: str
    name_en: str
    description_nl: str
    description_en: str
    audience: tuple[str, ...]
    position: str
    ground: str
    classes: tuple[str, ...]
    min_area_m2: float
    min_width_m: float
    soil: tuple[str, ...]
    groundwater: str
    to: str | None
    habitat_floor: float | None
    habitat_bonus: float
    baf_floor: float | None
    shade_floor: float | None
    remove_threats: tuple[str, ...]
    keep_threats: bool
    storage_mm: tuple[float, float] | None
    cooling: str
    drought: str
    cost: CostRange
    maintenance: CostRange
    years_to_effect: float
    sources: tuple[str, ...]
    note: str
    potential_share: float
    """Share (0..1) of a fitting place this measure takes in the potential; 0: not in it."""

    def name(self, lang: str = "nl") -> str:
        """The name in ``lang`` (nl or en)."""
        return self.name_en if lang == "en" else self.name_nl

    def description(self, lang: str = "nl") -> str:
        """The plain-language description in ``lang``."""
        return self.description_en if lang == "en" else self.description_nl

    @property
    def temporal_multiplier(self) -> float:
        """BNG discount 1/1.035^t for t years to the effect; 0.32 beyond 30 years (§b.6)."""
        return 0.32 if self.years_to_effect > 30 else 1.0 / 1.035**self.years_to_effect

    @property
    def changes_class(self) -> bool:
        """True when the measure is a land-cover transition."""
        return self.to is not None

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        """JSON form (both languages unless ``lang`` picks one for name and description)."""
        names = {"name": self.name(lang), "description": self.description(lang)} if lang else {}
        return {
            "key": self.key,
            "name_nl": self.name_nl,
            "name_en": self.name_en,
            "description_nl": self.description_nl,
            "description_en": self.description_en,
            **names,
            "audience": list(self.audience),
            "applies": {
                "classes": list(self.classes),
                "position": self.position,
                "ground": self.ground,
                "min_area_m2": self.min_area_m2,
                "min_width_m": self.min_width_m,
                "soil": list(self.soil),
                "groundwater": self.groundwater,
            },
            "changes": {
                "to": self.to,
                "habitat_floor": self.habitat_floor,
                "habitat_bonus": self.habitat_bonus,
                "baf_floor": self.baf_floor,
                "shade_floor": self.shade_floor,
                "remove_threats": list(self.remove_threats),
                "keep_threats": self.keep_threats,
            },
            "effects": {
                "storage_mm": list(self.storage_mm) if self.storage_mm else None,
                "cooling": self.cooling,
                "drought": self.drought,
            },
            "cost": self.cost.as_dict(),
            "maintenance_per_year": self.maintenance.as_dict(),
            "years_to_effect": self.years_to_effect,
            "temporal_multiplier": round(self.temporal_multiplier, 4),
            "potential_share": self.potential_share,
            "sources": list(self.sources),
            "note": self.note,
        }


class Catalogue:
    """The validated measures in file order, with the cited sources and a digest."""

    def __init__(self, measures: list[Measure], sources: Mapping[str, str], digest: str) -> None:
        self.measures = tuple(measures)
        self._by_key = {m.key: m for m in measures}
        self.sources = dict(sources)
        self.digest = digest
        """Hash of the catalogue file, for cache keys of results that use it."""

    def __iter__(self) -> Iterator[Measure]:
        return iter(self.measures)

    def __len__(self) -> int:
        return len(self.measures)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    @property
    def keys(self) -> tuple[str, ...]:
        """All measure keys in file order."""
        return tuple(self._by_key)

    def get(self, key: str) -> Measure:
        """The measure ``key``; InvalidInput naming the known keys if there is none."""
        if key not in self._by_key:
            raise InvalidInput(
                f"unknown measure {key!r}",
                hint="see `biostresstest measures list` for the keys, e.g. "
                + ", ".join(self.keys[:4]),
            )
        return self._by_key[key]


def _range(raw: Any, at: str, p: list[str]) -> CostRange | None:
    if not isinstance(raw, Mapping):
        p.append(f"{at}: missing or not a table")
        return None
    unit = raw.get("unit")
    if unit not in COST_UNITS:
        p.append(f"{at}.unit: {unit!r} is not one of {list(COST_UNITS)}")
    extra = set(raw) - {"low", "high", "unit", "known", "area_per_unit_m2", "partial"}
    p.extend(f"{at}.{k}: unknown field" for k in sorted(extra))
    partial = raw.get("partial", False)
    if not isinstance(partial, bool):
        p.append(f"{at}.partial: must be true or false, got {partial!r}")
        partial = False
    if raw.get("known", True) is False:
        if partial:
            p.append(f"{at}.partial: an unknown cost cannot be partial")
        return CostRange(math.nan, math.nan, str(unit), known=False)
    low: Any = raw.get("low")
    high: Any = raw.get("high")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
        p.append(f"{at}: low and high must be numbers (or known = false where methods.md has none)")
        return None
    if not 0 <= float(low) <= float(high):
        p.append(f"{at}: needs 0 <= low <= high, got {low}..{high}")
    per = raw.get("area_per_unit_m2", 1.0)
    if unit != "m2" and unit in COST_UNITS and "area_per_unit_m2" not in raw:
        p.append(f"{at}.area_per_unit_m2: needed for a cost per {unit}")
    if not isinstance(per, int | float) or per <= 0:
        p.append(f"{at}.area_per_unit_m2: must be a number > 0")
        per = 1.0
    return CostRange(float(low), float(high), str(unit), True, float(per), partial)


def _fraction(raw: Mapping[str, Any], field: str, at: str, p: list[str]) -> float | None:
    value = raw.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        p.append(f"{at}.{field}: must be a number 0..1, got {value!r}")
        return None
    return float(value)


def _measure(
    raw: Mapping[str, Any],
    at: str,
    table: LandCoverTable,
    threats: tuple[str, ...],
    sources: Mapping[str, Any],
    p: list[str],
) -> Measure | None:
    p.extend(f"{at}.{k}: missing" for k in sorted(_REQUIRED - set(raw)))
    p.extend(f"{at}.{k}: unknown field" for k in sorted(set(raw) - _REQUIRED - _OPTIONAL))
    for field in _TEXT:
        if field in raw and (not isinstance(raw[field], str) or not raw[field].strip()):
            p.append(f"{at}.{field}: must be a non-empty text")
    audience = raw.get("audience", [])
    if not isinstance(audience, list) or not audience or set(audience) - set(AUDIENCES):
        p.append(f"{at}.audience: must be a non-empty list of {list(AUDIENCES)}, got {audience!r}")
    if raw.get("position") not in POSITIONS:
        p.append(f"{at}.position: {raw.get('position')!r} is not one of {list(POSITIONS)}")
    if raw.get("ground") not in GROUNDS:
        p.append(f"{at}.ground: {raw.get('ground')!r} is not one of {list(GROUNDS)}")
    classes = raw.get("classes", [])
    if not isinstance(classes, list) or not classes:
        p.append(f"{at}.classes: must be a non-empty list of land-cover class keys")
        classes = []
    p.extend(f"{at}.classes: unknown class key {c!r}" for c in classes if c not in table)
    if len(set(map(str, classes))) != len(classes):
        p.append(f"{at}.classes: a class key is listed twice")
    to = raw.get("to")
    if to is not None and to not in table:
        p.append(f"{at}.to: unknown class key {to!r}")
    removed = raw.get("remove_threats", [])
    p.extend(f"{at}.remove_threats: unknown threat {t!r}" for t in removed if t not in threats)
    soil = raw.get("soil", list(SOIL_GROUPS))
    p.extend(f"{at}.soil: unknown soil group {s!r}" for s in soil if s not in SOIL_GROUPS)
    floors = {f: _fraction(raw, f, at, p) for f in ("habitat_floor", "baf_floor", "shade_floor")}
    bonus = _fraction(raw, "habitat_bonus", at, p) or 0.0
    share = _fraction(raw, "potential_share", at, p)
    if to is None and not (removed or bonus or any(v is not None for v in floors.values())):
        p.append(f"{at}: changes nothing (give `to`, a floor, a habitat_bonus or remove_threats)")
    storage = raw.get("storage_mm")
    if storage is not None and (
        not isinstance(storage, list) or len(storage) != 2 or not 0 <= storage[0] <= storage[1]
    ):
        p.append(f"{at}.storage_mm: must be [low, high] mm with 0 <= low <= high")
        storage = None
    for field in ("min_area_m2", "min_width_m", "years_to_effect"):
        value = raw.get(field, 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            p.append(f"{at}.{field}: must be a number >= 0, got {value!r}")
    cited = raw.get("sources", [])
    if not isinstance(cited, list) or not cited:
        p.append(f"{at}.sources: must cite at least one source id")
        cited = []
    p.extend(f"{at}.sources: unknown source id {s!r}" for s in cited if s not in sources)
    cost = _range(raw.get("cost"), f"{at}.cost", p)
    upkeep = _range(raw.get("maintenance"), f"{at}.maintenance", p)
    if cost is None or upkeep is None:
        return None
    try:
        return Measure(
            key=str(raw["key"]),
            name_nl=str(raw["name_nl"]),
            name_en=str(raw["name_en"]),
            description_nl=str(raw["description_nl"]),
            description_en=str(raw["description_en"]),
            audience=tuple(audience),
            position=str(raw["position"]),
            ground=str(raw["ground"]),
            classes=tuple(classes),
            min_area_m2=float(raw.get("min_area_m2", 0)),
            min_width_m=float(raw.get("min_width_m", 0)),
            soil=tuple(soil),
            groundwater=str(raw.get("groundwater", "")),
            to=None if to is None else str(to),
            habitat_floor=floors["habitat_floor"],
            habitat_bonus=bonus,
            baf_floor=floors["baf_floor"],
            shade_floor=floors["shade_floor"],
            remove_threats=tuple(removed),
            keep_threats=bool(raw.get("keep_threats", False)),
            storage_mm=None if storage is None else (float(storage[0]), float(storage[1])),
            cooling=str(raw["cooling"]),
            drought=str(raw["drought"]),
            cost=cost,
            maintenance=upkeep,
            years_to_effect=float(raw["years_to_effect"]),
            sources=tuple(cited),
            note=str(raw["note"]),
            potential_share=0.0 if share is None else share,
        )
    except (KeyError, TypeError, ValueError):
        return None  # the problem is already listed


def validate_catalogue(data: Mapping[str, Any], digest: str = "") -> Catalogue:
    """Check a parsed catalogue and build it; every problem is reported in one CorruptInput."""
    table, threats = load_classes(), load_threats()
    threat_keys = tuple(t.key for t in threats.threats)
    p: list[str] = []
    meta = data.get("meta")
    if not isinstance(meta, Mapping) or not meta.get("version"):
        p.append("meta: missing, or without version")
    sources = data.get("sources")
    if not isinstance(sources, Mapping) or not sources:
        p.append("sources: missing")
        sources = {}
    entries = data.get("measure")
    if not isinstance(entries, list) or not entries:
        p.append("measure: no [[measure]] entries")
        entries = []
    measures: list[Measure] = []
    seen: set[str] = set()
    for i, raw in enumerate(entries, start=1):
        if not isinstance(raw, Mapping):
            p.append(f"measure #{i}: not a table")
            continue
        key = raw.get("key")
        at = f"measure {key}" if isinstance(key, str) and key else f"measure #{i}"
        if key in seen:
            p.append(f"{at}.key: duplicate")
        seen.add(str(key))
        built = _measure(raw, at, table, threat_keys, sources, p)
        if built is not None:
            measures.append(built)
    if p:
        listing = "\n  ".join(p)
        raise CorruptInput(f"measures catalogue: {len(p)} problem(s):\n  {listing}", hint=_HINT)
    return Catalogue(measures, {str(k): str(v) for k, v in sources.items()}, digest)


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """The package's catalogue, read and validated once per process."""
    resource = resources.files("biostresstest.measures").joinpath("data/measures.toml")
    try:
        text = resource.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CorruptInput(f"measures catalogue cannot be read: {exc}", hint=_HINT) from exc
    return validate_catalogue(data, hashlib.sha256(text.encode()).hexdigest()[:16])
