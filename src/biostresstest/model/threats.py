"""The Dutch threat table for Habitat Quality (package data ``data/threats.toml``).

Each threat is made of land-cover classes (roads by class, rail, buildings, paved surface,
intensive agriculture, and light as a proxy of buildings and roads) with a maximum distance in
metres, a weight and a decay; every value names its source. Validated on load against the class
table: unknown classes or threats, distances, weights and decays out of range are all reported.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any

from biostresstest.core.errors import CorruptInput
from biostresstest.model.landcover import load_classes

DECAYS = ("linear", "exponential")


@dataclass(frozen=True)
class Threat:
    """One threat: its source classes and InVEST parameters."""

    key: str
    classes: tuple[str, ...]
    max_dist_m: float
    weight: float
    decay: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ThreatTable:
    """The validated threats and the fixed half-saturation constant."""

    threats: tuple[Threat, ...]
    half_saturation: float
    version: str
    digest: str = ""
    """Hash of the table file, so cached results computed with other values are not reused."""


@lru_cache(maxsize=1)
def load_threats() -> ThreatTable:
    """The package's threat table, read and validated once per process."""
    resource = resources.files("biostresstest.model").joinpath("data/threats.toml")
    try:
        data = tomllib.loads(resource.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CorruptInput(f"threat table cannot be read: {exc}") from exc
    table = validate_threats(data)
    return replace(table, digest=hashlib.sha256(resource.read_bytes()).hexdigest()[:16])


def validate_threats(data: dict[str, Any]) -> ThreatTable:
    """Check a parsed threat table; every problem is reported in one error."""
    classes = load_classes()
    problems: list[str] = []
    threats = []
    for i, entry in enumerate(data.get("threat", []), start=1):
        key = str(entry.get("key", f"#{i}"))
        if key not in classes.threats:
            problems.append(f"threat {key}: not a threat of the class table {classes.threats}")
        unknown = [c for c in entry.get("classes", []) if c not in classes.keys]
        if unknown or not entry.get("classes"):
            problems.append(f"threat {key}: classes: unknown or none {unknown}")
        values = {}
        for name in ("max_dist", "weight", "decay"):
            field = entry.get(name)
            if not isinstance(field, dict) or "value" not in field or "source" not in field:
                problems.append(f"threat {key}: {name}: needs a value and a source")
                continue
            if field["source"] not in classes.sources:
                problems.append(f"threat {key}: {name}: unknown source {field['source']!r}")
            values[name] = field["value"]
        if not 0 < float(values.get("max_dist", 0)) <= 50_000:
            problems.append(f"threat {key}: max_dist: must be 0 < m ≤ 50,000 (metres)")
        if not 0 <= float(values.get("weight", -1)) <= 1:
            problems.append(f"threat {key}: weight: must be 0..1")
        if values.get("decay") not in DECAYS:
            problems.append(f"threat {key}: decay: must be one of {DECAYS}")
        threats.append(
            Threat(
                key=key,
                classes=tuple(entry.get("classes", [])),
                max_dist_m=float(values.get("max_dist", 0)),
                weight=float(values.get("weight", 0)),
                decay=str(values.get("decay", "")),
                sources=tuple(str(entry.get(n, {}).get("source", "")) for n in values),
            )
        )
    missing = set(classes.threats) - {t.key for t in threats}
    if missing:
        problems.append(f"threats missing from the table: {sorted(missing)}")
    k = data.get("meta", {}).get("half_saturation")
    if not isinstance(k, int | float) or k <= 0:
        problems.append("meta: half_saturation: must be a number > 0")
    if problems:
        raise CorruptInput("the threat table has problems:\n  " + "\n  ".join(problems))
    return ThreatTable(tuple(threats), float(k), str(data.get("meta", {}).get("version", "")))
