"""The cell layers of the map: how each is drawn as raster tiles and explained in its legend.

Declared in ``data/map_layers.toml`` (validated on load). Three kinds: class layers with a
colour per class, scores drawn in the 7 fixed classes of the stress test, and continuous layers
drawn with a sequential colour ramp over a fixed domain (the same for every gemeente, so maps
compare). The legend of every layer comes from the same spec as its tiles.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from biostresstest.analysis.koppelkansen import CLASS_NAMES as KOPPELKANS_NAMES
from biostresstest.analysis.scoring import CLASS_BOUNDS, SCORE_CLASSES
from biostresstest.core.errors import CorruptInput
from biostresstest.model.confidence import Confidence
from biostresstest.model.landcover import load_classes

KINDS = ("classes", "score", "ramp")
GROUPS = ("biodiversity", "components", "climate", "data")
CONFIDENCE_COLOURS = {
    Confidence.EU_RASTER: "#fdae61",
    Confidence.NATIONAL_RASTER: "#fee08b",
    Confidence.NATIONAL_VECTOR: "#66bd63",
    Confidence.MUNICIPAL: "#1a9850",
}
KOPPELKANS_COLOURS = {1: "#e0e0e0", 2: "#f4a582", 3: "#4393c3", 4: "#40004b"}
"""No opportunity light grey; heat orange; water mid blue; both very dark purple (they differ
in lightness as well as hue, so they stay apart for colour-blind readers)."""
RAMP_STEPS = 254
"""Palette entries of a ramp (0 = transparent no data, 255 unused)."""


@dataclass(frozen=True)
class LegendEntry:
    """One swatch of a legend."""

    colour: str
    label_nl: str
    label_en: str
    value: float | int | None = None


@dataclass(frozen=True)
class MapLayer:
    """One cell layer of the map."""

    id: str
    kind: str
    group: str
    story: str
    title_nl: str
    title_en: str
    colours: str = ""
    ramp: tuple[str, ...] = ()
    domain: tuple[float, float] = (0.0, 1.0)
    unit: str = ""
    better: str = ""

    def class_colours(self) -> dict[int, str]:
        """The colour of every class value (class and score layers)."""
        if self.kind == "score":
            return {c.value: c.colour for c in SCORE_CLASSES}
        return _class_table(self.colours)

    def palette(self) -> list[int]:
        """A 768-long PNG palette: index 0 is transparent no data."""
        palette = [0] * 768
        if self.kind == "ramp":
            for index, rgb in enumerate(_interpolate(self.ramp, RAMP_STEPS), start=1):
                palette[index * 3 : index * 3 + 3] = rgb
            return palette
        for value, colour in self.class_colours().items():
            palette[value * 3 : value * 3 + 3] = _rgb(colour)
        return palette

    def indices(self, values: np.ndarray) -> np.ndarray:
        """Palette indices (uint8, 0 = no data) of the layer's values on a tile."""
        if self.kind == "classes":
            return values.astype("uint8")
        finite = np.isfinite(values)
        if self.kind == "score":
            index = np.ones(values.shape, dtype="uint8")
            for bound in CLASS_BOUNDS:
                index += (values >= bound) & finite
            return np.where(finite, index, 0).astype("uint8")
        lo, hi = self.domain
        scaled = np.clip((np.nan_to_num(values, nan=lo) - lo) / (hi - lo), 0.0, 1.0)
        index = 1 + np.round(scaled * (RAMP_STEPS - 1)).astype("uint8")
        return np.where(finite, index, 0).astype("uint8")

    def legend(self) -> list[LegendEntry]:
        """The legend swatches, from the same colours as the tiles."""
        if self.kind == "score":
            return [LegendEntry(c.colour, c.label_nl, c.label_en, c.value) for c in SCORE_CLASSES]
        if self.kind == "classes":
            labels = _class_labels(self.colours)
            return [
                LegendEntry(colour, *labels.get(value, (str(value), str(value))), value)
                for value, colour in self.class_colours().items()
            ]
        lo, hi = self.domain
        stops = np.linspace(lo, hi, len(self.ramp))
        return [
            LegendEntry(colour, _number(v, self.unit), _number(v, self.unit), float(v))
            for colour, v in zip(self.ramp, stops, strict=True)
        ]

    def as_json(self) -> dict[str, Any]:
        """The layer for the API: its title, kind, group, story and legend."""
        return {
            "id": self.id,
            "kind": self.kind,
            "group": self.group,
            "story": self.story,
            "title_nl": self.title_nl,
            "title_en": self.title_en,
            "unit": self.unit,
            "domain": list(self.domain) if self.kind == "ramp" else None,
            "better": self.better or None,
            "legend": [vars(entry) for entry in self.legend()],
        }


@lru_cache(maxsize=1)
def load_map_layers() -> dict[str, MapLayer]:
    """The packaged map layers by id, validated (all problems reported at once)."""
    raw = tomllib.loads(
        (resources.files("biostresstest.web") / "data" / "map_layers.toml").read_text("utf-8")
    )
    return validate_map_layers(raw)


def validate_map_layers(raw: dict[str, Any]) -> dict[str, MapLayer]:
    """Map layers from their TOML form; CorruptInput naming every problem."""
    problems: list[str] = []
    ramps = raw.get("ramps", {})
    for name, colours in ramps.items():
        if len(colours) < 2 or not all(_is_colour(c) for c in colours):
            problems.append(f"ramp {name}: needs at least two #rrggbb colours")
    layers: dict[str, MapLayer] = {}
    for i, entry in enumerate(raw.get("layer", [])):
        at = f"layer {entry.get('id', i)}"
        kind, title = entry.get("kind"), entry.get("title", {})
        if kind not in KINDS:
            problems.append(f"{at}: kind must be one of {KINDS}")
        if entry.get("group") not in GROUPS:
            problems.append(f"{at}: group must be one of {GROUPS}")
        if not (title.get("nl") and title.get("en")):
            problems.append(f"{at}: title needs nl and en")
        if kind == "classes" and entry.get("colours") not in _CLASS_TABLES:
            problems.append(f"{at}: colours must be one of {sorted(_CLASS_TABLES)}")
        domain = tuple(entry.get("domain", (0.0, 1.0)))
        if kind == "ramp":
            if entry.get("ramp") not in ramps:
                problems.append(f"{at}: unknown ramp {entry.get('ramp')!r}")
            if len(domain) != 2 or not domain[0] < domain[1]:
                problems.append(f"{at}: domain must be [lo, hi] with lo < hi")
            if entry.get("better") not in ("high", "low"):
                problems.append(f"{at}: better must be 'high' or 'low'")
        if entry.get("id") in layers:
            problems.append(f"{at}: duplicate id")
        if problems:
            continue
        layers[entry["id"]] = MapLayer(
            id=entry["id"],
            kind=kind,
            group=entry["group"],
            story=entry.get("story", entry["id"]),
            title_nl=title["nl"],
            title_en=title["en"],
            colours=entry.get("colours", ""),
            ramp=tuple(ramps.get(entry.get("ramp", ""), ())),
            domain=(float(domain[0]), float(domain[1])),
            unit=entry.get("unit", ""),
            better=entry.get("better", ""),
        )
    if problems:
        raise CorruptInput(
            "the map layer table has problems: " + "; ".join(problems),
            hint="fix web/data/map_layers.toml",
        )
    return layers


def _landcover_colours() -> dict[int, str]:
    return {c.code: c.colour for c in load_classes()}


_CLASS_TABLES = {
    "score": lambda: {c.value: c.colour for c in SCORE_CLASSES},
    "landcover": _landcover_colours,
    "confidence": lambda: {int(k): v for k, v in CONFIDENCE_COLOURS.items()},
    "koppelkans": lambda: dict(KOPPELKANS_COLOURS),
}


def _class_table(name: str) -> dict[int, str]:
    return dict(_CLASS_TABLES[name]())


def _class_labels(name: str) -> dict[int, tuple[str, str]]:
    if name == "score":
        return {c.value: (c.label_nl, c.label_en) for c in SCORE_CLASSES}
    if name == "landcover":
        return {c.code: (c.name_nl, c.name_en) for c in load_classes()}
    if name == "confidence":
        return {int(level): (level.label_nl, level.label_en) for level in Confidence if level}
    return {k: v for k, v in KOPPELKANS_NAMES.items() if k}


def _is_colour(text: Any) -> bool:
    return isinstance(text, str) and len(text) == 7 and text[0] == "#"


def _rgb(colour: str) -> list[int]:
    return [int(colour[i : i + 2], 16) for i in (1, 3, 5)]


def _interpolate(colours: tuple[str, ...], steps: int) -> list[list[int]]:
    """``steps`` colours evenly along the ramp, linear in RGB between its stops."""
    stops = np.array([_rgb(c) for c in colours], dtype="float64")
    where = np.linspace(0, len(colours) - 1, steps)
    low = np.minimum(where.astype(int), len(colours) - 2)
    frac = (where - low)[:, None]
    rgb = stops[low] * (1 - frac) + stops[low + 1] * frac
    return [[round(float(c)) for c in row] for row in rgb]


def _number(value: float, unit: str) -> str:
    if unit in ("share",):
        return f"{value * 100:.0f} %"
    if unit in ("m", "°C"):
        return f"{value:.0f} {unit}"
    return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"
