"""Scenarios (*met maatregelen*): named sets of placed measures on a published area.

A scenario is run on the published state read from the store, recomputed in a window around
its places (:mod:`biostresstest.measures.effects`), and reported as before/after deltas
(:mod:`biostresstest.measures.deltas`). Scenarios are saved as JSON in
``<data dir>/scenarios/<area>/<name>.json`` (written to a temporary name and renamed, so a
crash never leaves half a file) and two of them can be compared side by side.

Limits keep one request small: at most ``MAX_PLACES`` places with ``MAX_VERTICES`` corners in
all and a description of ``MAX_DESCRIPTION`` characters; names are ``[a-z0-9_-]{1,64}`` after
trimming and lower-casing. Saving never overwrites silently: an existing name is a
:class:`Conflict` unless replacing is asked for (who may replace is the caller's business:
the API asks for an admin of the area's gemeente).
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import shapely

from biostresstest.core.errors import Conflict, InvalidInput, NotLoaded, PayloadTooLarge
from biostresstest.measures.baseline import load_baseline
from biostresstest.measures.catalogue import load_catalogue
from biostresstest.measures.deltas import (
    component_deltas,
    cooling_deltas,
    cost_deltas,
    score_deltas,
    water_deltas,
)
from biostresstest.measures.effects import recompute
from biostresstest.measures.overlay import window_overlay
from biostresstest.measures.places import PlacedMeasure, check_overlaps, parse_geometry, to_edit
from biostresstest.model.landcover import SOIL_GROUPS
from biostresstest.model.store import Store

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""Area keys as folder names (GM0758, otterlo, bbox-…)."""
SCENARIO_NAME = re.compile(r"[a-z0-9_-]{1,64}")
MAX_PLACES = 50
MAX_VERTICES = 10_000
"""Corners of all places of one scenario together."""
MAX_DESCRIPTION = 2_000
MAX_SAVED = 500
"""Saved scenarios per area."""
_MAX_GEOMETRY_CHARS = MAX_VERTICES * 64
"""A geometry text longer than this cannot hold ``MAX_VERTICES`` corners: refused unparsed."""
DEFAULT_SOIL_GROUP = "B"
"""Hydrologic soil group used while no soil map is loaded (the §b.3 worked example's lawn)."""


@dataclass
class Scenario:
    """A named set of measures on places of one published area."""

    name: str
    area: str
    items: list[PlacedMeasure]
    soil_group: str = DEFAULT_SOIL_GROUP
    description: str = ""
    result: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON form, with the result when it has been run."""
        return {
            "name": self.name,
            "area": self.area,
            "description": self.description,
            "soil_group": self.soil_group,
            "places": [item.as_dict() for item in self.items],
            "result": self.result,
        }


def check_name(name: str) -> str:
    """An area key that is safe as a folder name."""
    if not NAME.fullmatch(name or ""):
        raise InvalidInput(
            f"area key {name!r} is not allowed",
            hint="use a gemeente code such as GM0758 or a study area key such as otterlo",
        )
    return name


def scenario_name(name: object) -> str:
    """The normalised scenario name (trimmed, lower case), checked against ``[a-z0-9_-]{1,64}``."""
    text = name.strip().lower() if isinstance(name, str) else ""
    if not SCENARIO_NAME.fullmatch(text):
        shown = name if not isinstance(name, str) or len(name) <= 80 else name[:80] + "…"
        raise InvalidInput(
            f"scenario name {shown!r} is not allowed",
            hint="use 1–64 characters: letters a–z, digits, '-' or '_' (e.g. daken-centrum)",
        )
    return text


def check_limits(places: list[Any], description: str) -> None:
    """Refuse a request above the limits of the module doc (413), before any work."""
    if len(places) > MAX_PLACES:
        raise PayloadTooLarge(
            f"a scenario may have at most {MAX_PLACES} places, this one has {len(places)}",
            hint="split it into several scenarios, or use a rule for many similar places",
        )
    if len(description) > MAX_DESCRIPTION:
        raise PayloadTooLarge(
            f"the description has {len(description):,} characters, at most "
            f"{MAX_DESCRIPTION:,} are allowed",
            hint="shorten the description",
        )


def build(
    name: str,
    area: str,
    places: list[dict[str, Any]],
    soil_group: str = DEFAULT_SOIL_GROUP,
    description: str = "",
) -> Scenario:
    """A scenario from plain data: each place ``{"measure": key, "wkt"|"geojson": …}``."""
    catalogue = load_catalogue()
    if not places:
        raise InvalidInput("a scenario needs at least one measure on a place")
    check_limits(places, description)
    name = scenario_name(name)
    if soil_group not in SOIL_GROUPS:
        raise InvalidInput(f"soil group {soil_group!r} is not one of {list(SOIL_GROUPS)}")
    items = []
    vertices = 0
    for i, raw in enumerate(places, start=1):
        if not isinstance(raw, dict):
            raise InvalidInput(f"place #{i} is not an object {{measure, wkt|geojson}}")
        geometry = raw.get("wkt") or raw.get("geojson") or raw.get("geometry")
        if geometry is None:
            raise InvalidInput(f"place #{i} has no geometry", hint="give wkt or geojson")
        if len(geometry if isinstance(geometry, str) else json.dumps(geometry)) > (
            _MAX_GEOMETRY_CHARS
        ):
            raise PayloadTooLarge(
                f"place #{i}: the geometry text is too long for {MAX_VERTICES:,} corners",
                hint="simplify the polygon",
            )
        shape = parse_geometry(geometry, f"place #{i}")
        vertices += int(shapely.get_num_coordinates(shape))
        if vertices > MAX_VERTICES:
            raise PayloadTooLarge(
                f"the places have more than {MAX_VERTICES:,} corners together "
                f"(reached at place #{i})",
                hint="simplify the polygons (a few metres of tolerance is plenty at 1–10 m cells)",
            )
        items.append(
            PlacedMeasure(
                catalogue.get(str(raw.get("measure", ""))), shape, str(raw.get("label", ""))[:200]
            )
        )
    return Scenario(name, area, items, soil_group, description)


def run(store: Store, scenario: Scenario) -> dict[str, Any]:
    """Recompute ``scenario`` on the published area and return its deltas (also kept on it)."""
    started = time.perf_counter()
    base = load_baseline(store, scenario.area)
    edits = [to_edit(base, item, i) for i, item in enumerate(scenario.items, start=1)]
    check_overlaps(scenario.items)
    if not any(e.share.any() for e in edits):
        raise InvalidInput("no cell of the places can take its measure")
    rec = recompute(base, edits)
    result = {
        "area": scenario.area,
        "run_key": base.run_key,
        "catalogue": load_catalogue().digest,
        "cell_size": base.grid.cell_size,
        "score": score_deltas(base, rec),
        "components": component_deltas(base, rec),
        "water": water_deltas(base, rec, edits, scenario.soil_group),
        "cooling": cooling_deltas(rec, edits),
        "cost": cost_deltas(edits, base.grid.cell_area),
        "years_to_full_effect": max(e.measure.years_to_effect for e in edits),
        "overlay": window_overlay(base, rec),
        "seconds": round(time.perf_counter() - started, 3),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    scenario.result = result
    return result


def folder(data_dir: Path, area: str) -> Path:
    """Where the scenarios of ``area`` are saved."""
    return Path(data_dir) / "scenarios" / check_name(area)


def path_of(data_dir: Path, area: str, name: str) -> Path:
    """The file of the saved scenario ``name`` of ``area`` (which need not exist)."""
    return folder(data_dir, area) / f"{scenario_name(name)}.json"


def exists(data_dir: Path, area: str, name: str) -> bool:
    """Whether a scenario of that name is saved for ``area``."""
    return path_of(data_dir, area, name).exists()


def save(data_dir: Path, scenario: Scenario, replace: bool = False) -> Path:
    """Write the scenario (with its result) atomically; returns the file.

    An existing name is a :class:`Conflict` unless ``replace``; the check and the write are one
    step (a hard link fails if the name exists), so two savers never overwrite each other.
    """
    target = path_of(data_dir, scenario.area, scenario.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not replace and not target.exists() and len(list_names(data_dir, scenario.area)) >= (
        MAX_SAVED
    ):
        raise PayloadTooLarge(
            f"{scenario.area} already has {MAX_SAVED} saved scenarios",
            hint="ask an admin of the gemeente to replace or remove old ones",
        )
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        tmp.write_text(json.dumps(scenario.as_dict(), indent=1, ensure_ascii=False), "utf-8")
        if replace:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise _taken(scenario.area, scenario.name) from None
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _taken(area: str, name: str) -> Conflict:
    return Conflict(
        f"a scenario {name!r} is already saved for {area}",
        hint="choose another name, or replace it with replace=true as an admin of the gemeente",
    )


def refuse_taken(data_dir: Path, area: str, name: str) -> None:
    """:class:`Conflict` if ``name`` is saved for ``area`` (checked before a run)."""
    if exists(data_dir, area, name):
        raise _taken(area, scenario_name(name))


def load(data_dir: Path, area: str, name: str) -> dict[str, Any]:
    """A saved scenario as JSON data."""
    path = path_of(data_dir, area, name)
    if not path.exists():
        raise NotLoaded(
            f"no saved scenario {name!r} for {area}",
            hint=f"saved: {', '.join(list_names(data_dir, area)) or 'none'}",
        )
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def list_names(data_dir: Path, area: str) -> list[str]:
    """Names of the saved scenarios of ``area``."""
    path = folder(data_dir, area)
    return sorted(p.stem for p in path.glob("*.json")) if path.is_dir() else []


def compare(data_dir: Path, area: str, a: str, b: str) -> dict[str, Any]:
    """Two saved scenarios side by side, with the differences b − a of the main figures."""
    first, second = load(data_dir, area, a), load(data_dir, area, b)

    def figures(data: dict[str, Any]) -> dict[str, Any]:
        r = data["result"]
        default = r["water"]["events"][0] if r["water"]["events"] else {}
        return {
            "score_area_after": r["score"]["area"]["after"],
            "score_area_gain": _minus(r["score"]["area"]["after"], r["score"]["area"]["before"]),
            "score_window_gain": _minus(
                r["score"]["window"]["after"], r["score"]["window"]["before"]
            ),
            "cost_eur": r["cost"]["total_eur"],
            "cost_unknown": r["cost"]["unknown"],
            "kept_m3_gain": [
                round(v - default.get("kept_m3_before", 0.0), 1)
                for v in default.get("kept_m3_after", [])
            ],
            "years_to_full_effect": r["years_to_full_effect"],
        }

    fa, fb = figures(first), figures(second)
    return {
        "area": area,
        "a": {"name": a, **fa, "places": first["places"]},
        "b": {"name": b, **fb, "places": second["places"]},
        "difference_b_minus_a": {
            "score_area_after": _minus(fb["score_area_after"], fa["score_area_after"]),
            "cost_eur": [
                round(y - x, 2) for x, y in zip(fa["cost_eur"], fb["cost_eur"], strict=True)
            ],
        },
    }


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 5)
