"""The kinds of local data (package data ``model/data/local_kinds.toml``), schema-checked on load.

A kind says which geometry a dataset must have, which model fields it can fill (with the column
names suggested for each, value ranges and allowed class values) and how it feeds the land cover.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from biostresstest.core.errors import CorruptInput, InvalidInput
from biostresstest.model.landcover import load_classes

FIELD_TYPES = frozenset({"text", "integer", "number", "class", "date"})
GEOMETRIES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "Raster"}
)
COVERS = frozenset({"", "tree_canopy", "classes"})
_HINT = "Fix src/biostresstest/model/data/local_kinds.toml."


@dataclass(frozen=True)
class FieldSpec:
    """One model field a kind can fill from a column of the dataset."""

    name: str
    type: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    min: float | None = None
    max: float | None = None
    missing: tuple[Any, ...] = ()
    classes: Mapping[str, str] = field(default_factory=dict)
    """For type ``class``: allowed model value → land-cover class key."""
    values: Mapping[str, str] = field(default_factory=dict)
    """For type ``class``: source spelling (lower case) → allowed model value."""


@dataclass(frozen=True)
class Kind:
    """One kind of local dataset (tree register, verge management …)."""

    key: str
    name_nl: str
    name_en: str
    geometry: tuple[str, ...]
    cover: str
    fields: Mapping[str, FieldSpec]
    options: Mapping[str, Any]
    """The remaining kind settings (``canopy_class``, ``default_crown_diameter_m`` …)."""

    @property
    def is_raster(self) -> bool:
        """True for a kind delivered as a GeoTIFF."""
        return self.geometry == ("Raster",)


def _field(kind: str, name: str, raw: Mapping[str, Any]) -> FieldSpec:
    where = f"local kind {kind!r}, field {name!r}"
    unknown = set(raw) - {
        "type",
        "aliases",
        "required",
        "min",
        "max",
        "missing",
        "classes",
        "values",
    }
    if unknown:
        raise CorruptInput(f"{where}: unknown key(s) {sorted(unknown)}", hint=_HINT)
    if raw.get("type") not in FIELD_TYPES:
        raise CorruptInput(f"{where}: type must be one of {sorted(FIELD_TYPES)}", hint=_HINT)
    classes_raw = raw.get("classes", {})
    if classes_raw == "landcover":
        classes: dict[str, str] = {c.key: c.key for c in load_classes()}
    elif isinstance(classes_raw, dict):
        classes = {str(k): str(v) for k, v in classes_raw.items()}
    else:
        raise CorruptInput(f'{where}: classes must be a table or "landcover"', hint=_HINT)
    known = {c.key for c in load_classes()}
    if bad := sorted(set(classes.values()) - known):
        raise CorruptInput(f"{where}: unknown land-cover class(es) {bad}", hint=_HINT)
    if raw["type"] == "class" and not classes:
        raise CorruptInput(f"{where}: a class field needs its classes", hint=_HINT)
    values = {str(k).lower(): str(v) for k, v in raw.get("values", {}).items()}
    if bad := sorted(set(values.values()) - set(classes)):
        raise CorruptInput(f"{where}: values map onto unknown class value(s) {bad}", hint=_HINT)
    low, high = raw.get("min"), raw.get("max")
    if low is not None and high is not None and float(low) > float(high):
        raise CorruptInput(f"{where}: min {low} > max {high}", hint=_HINT)
    return FieldSpec(
        name=name,
        type=raw["type"],
        aliases=tuple(str(a).lower() for a in raw.get("aliases", ())),
        required=bool(raw.get("required", False)),
        min=None if low is None else float(low),
        max=None if high is None else float(high),
        missing=tuple(raw.get("missing", ())),
        classes=MappingProxyType(classes),
        values=MappingProxyType(values),
    )


def _kind(key: str, raw: Mapping[str, Any]) -> Kind:
    for name in ("name_nl", "name_en", "geometry"):
        if name not in raw:
            raise CorruptInput(f"local kind {key!r} lacks {name!r}", hint=_HINT)
    geometry = tuple(raw["geometry"])
    if bad := sorted(set(geometry) - GEOMETRIES):
        raise CorruptInput(f"local kind {key!r}: unknown geometry {bad}", hint=_HINT)
    cover = str(raw.get("cover", ""))
    if cover not in COVERS:
        raise CorruptInput(f"local kind {key!r}: cover must be one of {sorted(COVERS)}", hint=_HINT)
    if cover == "tree_canopy":
        for name in ("canopy_class", "default_crown_diameter_m"):
            if name not in raw:
                raise CorruptInput(f"local kind {key!r} (tree canopy) lacks {name!r}", hint=_HINT)
        if raw["canopy_class"] not in {c.key for c in load_classes()}:
            raise CorruptInput(f"local kind {key!r}: unknown canopy class", hint=_HINT)
    fields = {name: _field(key, name, spec) for name, spec in raw.get("fields", {}).items()}
    if cover == "classes" and not any(f.type == "class" for f in fields.values()):
        raise CorruptInput(f"local kind {key!r}: cover 'classes' needs a class field", hint=_HINT)
    plain = {"name_nl", "name_en", "geometry", "cover", "fields"}
    options = {k: v for k, v in raw.items() if k not in plain}
    return Kind(
        key,
        raw["name_nl"],
        raw["name_en"],
        geometry,
        cover,
        MappingProxyType(fields),
        MappingProxyType(options),
    )


@lru_cache(maxsize=1)
def load_kinds() -> Mapping[str, Kind]:
    """All kinds of local data, validated."""
    text = resources.files("biostresstest.model").joinpath("data/local_kinds.toml").read_text()
    raw = tomllib.loads(text)
    kinds = {key: _kind(key, spec) for key, spec in raw.get("kind", {}).items()}
    if not kinds:
        raise CorruptInput("local_kinds.toml defines no kind", hint=_HINT)
    return MappingProxyType(kinds)


def get_kind(key: str) -> Kind:
    """The kind ``key``; an error listing the known kinds otherwise."""
    kinds = load_kinds()
    if key not in kinds:
        raise InvalidInput(
            f"unknown kind of local data {key!r}",
            hint=f"use one of: {', '.join(sorted(kinds))}",
        )
    return kinds[key]
