"""The standard rain events of the waterlogging stress test (package data ``rain_events.toml``).

Every event has a depth (mm), a duration (h), a return period (years; 0 = not stated in its
source), the climate it holds for, the id of its source and a ``verified`` text saying what was
read where. Validation reports every problem in one CorruptInput.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any

from biostresstest.core.errors import CorruptInput, InvalidInput

_HINT = "Fix src/biostresstest/model/data/rain_events.toml; every event needs a known source."
_KEY = re.compile(r"[a-z][a-z0-9_]*")
_TEXT = ("name_nl", "name_en", "climate", "source", "verified", "note")
CLIMATES = ("huidig", "2030", "2050", "2085", "onbekend")


@dataclass(frozen=True)
class RainEvent:
    """One design storm: uniform rain of ``depth_mm`` over ``duration_h`` hours."""

    key: str
    name_nl: str
    name_en: str
    depth_mm: float
    duration_h: float
    return_period_years: float
    """0 when the source states no return period."""
    climate: str
    source: str
    verified: str
    note: str


@dataclass(frozen=True)
class RainEvents:
    """The validated events, in file order, and the default event's key."""

    events: tuple[RainEvent, ...]
    default: str
    sources: Mapping[str, Mapping[str, str]]
    digest: str = ""

    def __iter__(self) -> Iterator[RainEvent]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    @property
    def keys(self) -> tuple[str, ...]:
        """Every event key in file order."""
        return tuple(e.key for e in self.events)

    def by_key(self, key: str) -> RainEvent:
        """The event ``key``; InvalidInput naming the known keys if there is none."""
        for event in self.events:
            if event.key == key:
                return event
        raise InvalidInput(
            f"unknown rain event {key!r}", hint=f"choose one of {', '.join(self.keys)}"
        )

    @property
    def default_event(self) -> RainEvent:
        """The event the maps use unless another is chosen."""
        return self.by_key(self.default)


def _event(raw: Any, at: str, sources: Mapping[str, Any], p: list[str]) -> RainEvent | None:
    if not isinstance(raw, Mapping):
        p.append(f"{at}: not a table")
        return None
    known = {"key", "depth_mm", "duration_h", "return_period_years", *_TEXT}
    p.extend(f"{at}: {k}: unknown field" for k in sorted(set(raw) - known))
    key = raw.get("key")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        p.append(f"{at}: key: must be lower-case letters, digits and _, not {key!r}")
    for field in _TEXT:
        value = raw.get(field)
        if not isinstance(value, str) or not value.strip():
            p.append(f"{at}: {field}: missing or empty")
    numbers: dict[str, float] = {}
    for field, lo, hi in (
        ("depth_mm", 0.0, 1000.0),
        ("duration_h", 0.0, 240.0),
        ("return_period_years", 0.0, 100000.0),
    ):
        value = raw.get(field)
        if isinstance(value, bool) or not isinstance(value, int | float):
            p.append(f"{at}: {field}: not a number ({value!r})")
        elif not lo <= value <= hi or (field != "return_period_years" and value == 0):
            p.append(f"{at}: {field}: {value} is outside {lo:g} < value <= {hi:g}")
        else:
            numbers[field] = float(value)
    if isinstance(raw.get("source"), str) and raw["source"] not in sources:
        p.append(f"{at}: source: unknown source id {raw['source']!r}")
    if isinstance(raw.get("climate"), str) and raw["climate"] not in CLIMATES:
        p.append(f"{at}: climate: {raw['climate']!r} is not one of {list(CLIMATES)}")
    if len(numbers) < 3 or not isinstance(key, str):
        return None
    return RainEvent(
        key=key,
        depth_mm=numbers["depth_mm"],
        duration_h=numbers["duration_h"],
        return_period_years=numbers["return_period_years"],
        **{f: str(raw.get(f, "")) for f in _TEXT},
    )


def validate_events(data: Mapping[str, Any]) -> RainEvents:
    """Check a parsed event table; raises CorruptInput listing every problem."""
    p: list[str] = []
    meta = data.get("meta")
    if not isinstance(meta, Mapping) or not meta.get("version") or not meta.get("default"):
        p.append("meta: missing, or without version and default")
        meta = {}
    sources = data.get("sources")
    if not isinstance(sources, Mapping) or not sources:
        p.append("sources: missing")
        sources = {}
    for sid, src in sources.items():
        for field in ("title", "citation", "url"):
            if not isinstance(src, Mapping) or not str(src.get(field, "")).strip():
                p.append(f"sources.{sid}: {field}: missing")
    raw_events = data.get("event")
    if not isinstance(raw_events, list) or not raw_events:
        p.append("event: no [[event]] entries")
        raw_events = []
    events: list[RainEvent] = []
    for i, raw in enumerate(raw_events, start=1):
        name = raw.get("key") if isinstance(raw, Mapping) else None
        event = _event(raw, f"event {name or f'#{i}'}", sources, p)
        if event is not None:
            if event.key in {e.key for e in events}:
                p.append(f"event {event.key}: key: duplicate")
            events.append(event)
    default = str(meta.get("default", ""))
    if events and default not in {e.key for e in events}:
        p.append(f"meta: default: {default!r} is not an event key")
    if p:
        listing = "\n  ".join(p)
        raise CorruptInput(f"rain-event table: {len(p)} problem(s):\n  {listing}", hint=_HINT)
    plain = {sid: {k: str(v) for k, v in src.items()} for sid, src in sources.items()}
    return RainEvents(tuple(events), default, plain)


@lru_cache(maxsize=1)
def load_rain_events() -> RainEvents:
    """The package's rain events, read and validated once per process."""
    resource = resources.files("biostresstest.model").joinpath("data/rain_events.toml")
    try:
        data = tomllib.loads(resource.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CorruptInput(f"rain-event table cannot be read: {exc}", hint=_HINT) from exc
    events = validate_events(data)
    return replace(events, digest=hashlib.sha256(resource.read_bytes()).hexdigest()[:16])
