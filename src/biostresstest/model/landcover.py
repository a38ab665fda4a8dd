"""The one harmonised land-cover class table (package data ``data/landcover.toml``).

Every class has a stable raster code, Dutch and English names and its model parameters (InVEST HQ
habitat and sensitivity, Berlin BAF, London UGF, SCS curve numbers, InVEST UCM shade/albedo/Kc),
each with the id of its source and a note. Validation reports every problem in one CorruptInput.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from types import MappingProxyType
from typing import Any

from biostresstest.core.errors import CorruptInput

# fmt: off
CLASS_KEYS: tuple[str, ...] = (
    "pand", "bouwwerk", "weg_hoofd", "weg_lokaal", "pad", "verhard_overig", "spoor",
    "half_verhard", "onverhard", "erf", "gras_openbaar", "plantsoen", "grasland_agrarisch",
    "grasland_overig", "kruidenrijk", "struiken", "haag_houtwal", "loofbos", "naaldbos",
    "gemengd_bos", "heide", "riet_moeras", "water_stilstaand", "water_stromend", "sloot", "oever",
    "akker", "boomgaard_kwekerij", "berm", "groen_dak", "begroeid_onbepaald",
    "onbegroeid_onbepaald",
)
"""The fixed class keys; other code depends on them."""
THREATS: tuple[str, ...] = (
    "roads_major", "roads_minor", "rail", "buildings", "paved", "agriculture_intensive", "light",
)
"""The fixed threat keys of the sensitivity tables."""
GROUPS = frozenset(
    {"built", "paved", "unpaved", "green", "forest", "nature", "water", "agriculture", "unknown"}
)
# fmt: on
SOIL_GROUPS: tuple[str, ...] = ("A", "B", "C", "D")
SCALARS: Mapping[str, float] = MappingProxyType(
    {"habitat": 1.0, "baf": 1.0, "ugf": 1.0, "shade": 1.0, "albedo": 1.0, "kc": 1.5}
)
"""Single-value parameters and their upper bound (the lower bound is 0)."""
_PLAIN: Mapping[str, type] = MappingProxyType(
    {"key": str, "code": int, "name_nl": str, "name_en": str, "group": str, "colour": str,
     "green": bool, "paved": bool}
)  # fmt: skip
_FIELDS = frozenset((*_PLAIN, *SCALARS, "sensitivity", "curve_number", "barrier"))
BARRIER_RULES = ("always", "wide", "hard_bank")
"""How a barrier class cuts links between natural patches (SICB connectivity, methods.md §b.5):
``always``; ``wide``: only where the class is at least ``min_width_m`` across; ``hard_bank``:
only water bodies whose edge is mostly paved or built (quays, sheet piling)."""
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_HINT = "Fix src/biostresstest/model/data/landcover.toml; every value needs a known source."


@dataclass(frozen=True)
class Source:
    """A cited source that parameter values refer to by ``id``."""

    id: str
    title: str
    citation: str
    url: str = ""


@dataclass(frozen=True)
class Sourced:
    """One parameter value with the id of its source and a note on how it was derived."""

    value: float
    source: str
    note: str


@dataclass(frozen=True)
class Sensitivity:
    """Sensitivity 0..1 of a class to each threat (InVEST Habitat Quality S_jr)."""

    values: Mapping[str, float]
    source: str
    note: str

    def __getitem__(self, threat: str) -> float:
        return self.values[threat]


@dataclass(frozen=True)
class CurveNumbers:
    """SCS curve numbers per hydrologic soil group A..D."""

    A: float
    B: float
    C: float
    D: float
    source: str
    note: str

    def for_soil_group(self, group: str | int) -> float:
        """The CN of soil group ``"A"``..``"D"``, or of InVEST's soil code 1..4."""
        letter = "ABCD"[group - 1] if isinstance(group, int) and 1 <= group <= 4 else group
        if letter not in SOIL_GROUPS:
            raise KeyError(f"unknown hydrologic soil group {group!r}")
        return float(getattr(self, str(letter)))


@dataclass(frozen=True)
class Barrier:
    """The class as a barrier to the connectivity of natural patches (optional field)."""

    rule: str
    """One of :data:`BARRIER_RULES`."""
    min_width_m: float | None
    """``wide``: the width from which the class is a barrier (None for other rules)."""
    min_hard_share: float | None
    """``hard_bank``: the share of the edge that must be paved or built (None otherwise)."""
    source: str
    note: str


@dataclass(frozen=True)
class LandCoverClass:
    """One harmonised land-cover class with all its sourced model parameters."""

    key: str
    code: int
    name_nl: str
    name_en: str
    group: str
    colour: str
    green: bool
    paved: bool
    habitat: Sourced
    sensitivity: Sensitivity
    baf: Sourced
    ugf: Sourced
    curve_number: CurveNumbers
    shade: Sourced
    albedo: Sourced
    kc: Sourced
    barrier: Barrier | None = None
    """None: not a barrier."""


class LandCoverTable:
    """The validated class table: look-ups by key and by code, iteration in file order."""

    def __init__(
        self,
        classes: Sequence[LandCoverClass],
        threats: Sequence[str],
        sources: Mapping[str, Source],
        meta: Mapping[str, Any],
    ) -> None:
        self.digest = ""
        """Hash of the table file, so cached results computed with other values are not reused."""
        self._classes = tuple(classes)
        self._by_key = {c.key: c for c in self._classes}
        self._by_code = {c.code: c for c in self._classes}
        self.keys: tuple[str, ...] = tuple(self._by_key)
        """All class keys in file order."""
        self.codes: tuple[int, ...] = tuple(self._by_code)
        """All class codes in file order."""
        self.threats: tuple[str, ...] = tuple(threats)
        self.sources: Mapping[str, Source] = MappingProxyType(dict(sources))
        self.meta: Mapping[str, Any] = MappingProxyType(dict(meta))

    def by_key(self, key: str) -> LandCoverClass:
        """The class with this key; KeyError if there is none."""
        if key not in self._by_key:
            raise KeyError(f"unknown land-cover class key {key!r}")
        return self._by_key[key]

    def by_code(self, code: int) -> LandCoverClass:
        """The class with this raster code; KeyError if there is none."""
        if code not in self._by_code:
            raise KeyError(f"unknown land-cover class code {code!r}")
        return self._by_code[code]

    def __iter__(self) -> Iterator[LandCoverClass]:
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key


def _num(raw: Any, hi: float, where: str, p: list[str], lo: float = 0.0) -> float:
    if raw is None:
        p.append(f"{where}: missing")
    elif isinstance(raw, bool) or not isinstance(raw, int | float):
        p.append(f"{where}: not a number ({raw!r})")
    elif not lo <= raw <= hi:
        p.append(f"{where}: {raw} is outside {lo:g}..{hi:g}")
    else:
        return float(raw)
    return float("nan")


def _table(
    raw: Any, where: str, fields: Sequence[str], srcs: Mapping[str, Any], p: list[str]
) -> Any:
    """A parameter table's mapping (empty if missing), with its source and note checked."""
    if not isinstance(raw, Mapping):
        p.append(f"{where}: {'missing' if raw is None else 'not a table'}")
        return {}
    what = "threat" if where.endswith("sensitivity") else "field"
    p.extend(f"{where}.{k}: unknown {what}" for k in sorted(set(raw) - {*fields, "source", "note"}))
    source, note = raw.get("source"), raw.get("note")
    if not isinstance(source, str) or not source:
        p.append(f"{where}: source: missing")
    elif source not in srcs:
        p.append(f"{where}: source: unknown source id {source!r}")
    if not isinstance(note, str) or not note.strip():
        p.append(f"{where}: note: missing")
    return raw


def _check_class(raw: Mapping[str, Any], at: str, srcs: Mapping[str, Any], p: list[str]) -> Any:
    p.extend(f"{at}: {k}: unknown field" for k in sorted(set(raw) - _FIELDS))
    for field, kind in _PLAIN.items():
        v = raw.get(field)
        if v is None:
            p.append(f"{at}: {field}: missing")
        elif not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
            p.append(f"{at}: {field}: must be {kind.__name__}, not {v!r}")
        elif kind is str and not str(v).strip():
            p.append(f"{at}: {field}: empty")
    code, group, colour = raw.get("code"), raw.get("group"), raw.get("colour")
    if type(code) is int and not 1 <= code <= 255:
        p.append(f"{at}: code: {code} is outside 1..255")
    if isinstance(group, str) and group not in GROUPS:
        p.append(f"{at}: group: {group!r} is not one of {sorted(GROUPS)}")
    if isinstance(colour, str) and not _COLOUR.fullmatch(colour):
        p.append(f"{at}: colour: {colour!r} is not a #rrggbb hex colour")
    if raw.get("green") is True and raw.get("paved") is True:
        p.append(f"{at}: green/paved: a class cannot be both green and paved")
    sc: dict[str, Any] = {}
    for field, hi in SCALARS.items():
        t = _table(raw.get(field), f"{at}: {field}", ("value",), srcs, p)
        value = _num(t.get("value"), hi, f"{at}: {field}", p) if t else float("nan")
        sc[field] = Sourced(value, str(t.get("source", "")), str(t.get("note", "")))
    s = _table(raw.get("sensitivity"), f"{at}: sensitivity", THREATS, srcs, p)
    sens = {r: _num(s.get(r), 1.0, f"{at}: sensitivity.{r}", p) for r in THREATS} if s else {}
    if sc["habitat"].value == 0 and any(v > 0 for v in sens.values()):
        p.append(f"{at}: sensitivity: non-habitat class (habitat 0) must be 0 for every threat")
    c = _table(raw.get("curve_number"), f"{at}: curve_number", SOIL_GROUPS, srcs, p)
    a, b, c_, d = (_num(c.get(g), 100.0, f"{at}: curve_number.{g}", p, 30.0) for g in SOIL_GROUPS)
    if c and any(x > y for x, y in pairwise((a, b, c_, d))):
        p.append(f"{at}: curve_number: must rise A <= B <= C <= D, got {[a, b, c_, d]}")
    return LandCoverClass(
        **dict[str, Any]({field: raw.get(field) for field in _PLAIN}),
        barrier=_check_barrier(raw.get("barrier"), at, srcs, p),
        sensitivity=Sensitivity(MappingProxyType(sens), s.get("source", ""), s.get("note", "")),
        curve_number=CurveNumbers(a, b, c_, d, c.get("source", ""), c.get("note", "")),
        **sc,
    )


def _check_barrier(raw: Any, at: str, srcs: Mapping[str, Any], p: list[str]) -> Barrier | None:
    """The optional ``barrier`` table: a rule, its parameter, a source and a note."""
    if raw is None:
        return None
    where = f"{at}: barrier"
    t = _table(raw, where, ("rule", "min_width_m", "min_hard_share"), srcs, p)
    if not t:
        return None
    rule = t.get("rule")
    if rule not in BARRIER_RULES:
        p.append(f"{where}: rule: {rule!r} is not one of {list(BARRIER_RULES)}")
    width: float | None = None
    share: float | None = None
    if rule == "wide":
        width = _num(t.get("min_width_m"), 1000.0, f"{where}: min_width_m", p)
        if width == 0:
            p.append(f"{where}: min_width_m: must be greater than 0")
    elif "min_width_m" in t:
        p.append(f"{where}: min_width_m: only for rule 'wide'")
    if rule == "hard_bank":
        share = _num(t.get("min_hard_share"), 1.0, f"{where}: min_hard_share", p)
    elif "min_hard_share" in t:
        p.append(f"{where}: min_hard_share: only for rule 'hard_bank'")
    return Barrier(str(rule), width, share, str(t.get("source", "")), str(t.get("note", "")))


def validate_table(data: Mapping[str, Any]) -> LandCoverTable:
    """Check a parsed land-cover table and build it, reporting every problem in one error.

    Raises CorruptInput listing each problem as ``class <key>: <field>: <problem>``.
    """
    p: list[str] = []
    meta = data.get("meta")
    if not isinstance(meta, Mapping) or not meta.get("version") or not meta.get("description"):
        p.append("meta: missing, or without version and description")
    raw_sources = data.get("sources")
    if not isinstance(raw_sources, Mapping) or not raw_sources:
        p.append("sources: missing")
        raw_sources = {}
    sources: dict[str, Source] = {}
    for sid, src in raw_sources.items():
        missing = [
            f for f in ("title", "citation") if not isinstance(src, Mapping) or not src.get(f)
        ]
        p.extend(f"sources.{sid}: {f}: missing" for f in missing)
        if not missing:
            sources[sid] = Source(sid, src["title"], src["citation"], str(src.get("url", "")))
    if list(data.get("threats") or []) != list(THREATS):
        p.append(f"threats: must be exactly {list(THREATS)}, got {data.get('threats')!r}")
    raw_classes = data.get("class")
    if not isinstance(raw_classes, list) or not raw_classes:
        p.append("class: no [[class]] entries")
        raw_classes = []
    classes: list[LandCoverClass] = []
    keys: dict[Any, str] = {}
    codes: dict[Any, str] = {}
    for i, raw in enumerate(raw_classes, start=1):
        if not isinstance(raw, Mapping):
            p.append(f"class #{i}: not a table")
            continue
        key = raw.get("key")
        name = key if isinstance(key, str) else f"#{i}"
        item = _check_class(raw, f"class {name}", raw_sources, p)
        for field, seen in (("key", keys), ("code", codes)):
            value = raw.get(field)
            if isinstance(value, int | str) and value in seen:
                p.append(f"class {name}: {field}: duplicate {value!r} (also class {seen[value]})")
            elif isinstance(value, int | str):
                seen[value] = name if field == "code" else f"#{i}"
        classes.append(item)
    p.extend(f"class {k}: key: missing from the table" for k in CLASS_KEYS if k not in keys)
    p.extend(
        f"class {k}: key: not one of the fixed class keys" for k in keys if k not in CLASS_KEYS
    )
    if p:
        listing = "\n  ".join(p)
        raise CorruptInput(f"land-cover table: {len(p)} problem(s):\n  {listing}", hint=_HINT)
    return LandCoverTable(classes, THREATS, sources, meta if isinstance(meta, Mapping) else {})


@lru_cache(maxsize=1)
def load_classes() -> LandCoverTable:
    """The package's land-cover table, read and validated once per process."""
    resource = resources.files("biostresstest.model").joinpath("data/landcover.toml")
    try:
        data = tomllib.loads(resource.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CorruptInput(f"land-cover table cannot be read: {exc}", hint=_HINT) from exc
    table = validate_table(data)
    table.digest = hashlib.sha256(resource.read_bytes()).hexdigest()[:16]
    return table
