"""The measures API: catalogue, recommendations, the "my place" card and scenarios."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse

from biostresstest.analysis.scoring import SCORE_CLASSES
from biostresstest.core.errors import AccessDenied, InvalidInput, NotLoaded
from biostresstest.core.settings import Settings
from biostresstest.measures import scenario as scenarios
from biostresstest.measures.baseline import Baseline, load_baseline
from biostresstest.measures.catalogue import load_catalogue
from biostresstest.measures.recommend import explain_gain, place_at_point, rank
from biostresstest.model.areas import normalise_area_key
from biostresstest.model.landcover import load_classes
from biostresstest.model.store import Store
from biostresstest.pipeline.scenarios import owner_gemeente, run_scenario
from biostresstest.web.auth import require_writer
from biostresstest.web.deps import get_store, to_rd
from biostresstest.web.explain import cell_at, clean
from biostresstest.web.scenario_crs import places_in_rd

router = APIRouter(prefix="/api", tags=["measures"])
StoreDep = Annotated[Store, Depends(get_store)]
Lang = Annotated[str, Query(pattern="^(nl|en)$", description="nl (default) or en")]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]


@router.get("/measures")
def measures(lang: Lang = "nl") -> dict[str, Any]:
    """The catalogue: each measure with key, names, where it fits, cost range and sources."""
    catalogue = load_catalogue()
    return {
        "digest": catalogue.digest,
        "sources": catalogue.sources,
        "measures": [m.as_dict(lang) for m in catalogue],
    }


def _baseline_at(store: Store, rx: float, ry: float) -> Baseline:
    if not (math.isfinite(rx) and math.isfinite(ry)):
        raise InvalidInput("coordinates must be finite numbers", hint="give x and y in RD metres")
    for key in store.gemeenten():
        base = load_baseline(store, key)
        if base.inside(rx, ry):
            return base
    raise InvalidInput(
        f"x={rx:.0f}, y={ry:.0f} lies outside every loaded area",
        hint="pick a point inside a loaded gemeente or study area (see /api/gemeenten)",
    )


@router.get("/recommend")
def recommend(
    store: StoreDep,
    x: Annotated[float, Query(description="x (RD) or longitude")],
    y: Annotated[float, Query(description="y (RD) or latitude")],
    crs: str = "EPSG:28992",
    lang: Lang = "nl",
    audience: Annotated[str | None, Query(pattern="^(gemeente|bedrijf|bewoner|agrarier)$")] = None,
) -> dict[str, Any]:
    """Measures that fit the place at (x, y), ranked by value per euro, each with its reason."""
    rx, ry = to_rd(x, y, crs)
    base = _baseline_at(store, rx, ry)
    place = place_at_point(base, rx, ry)
    ranked, refused = rank(place, audience=audience)
    return {
        "x": round(rx, 2),
        "y": round(ry, 2),
        "area": base.key,
        "place": {"label": place.label, "class_m2": place.class_m2, "width_m": place.width_m},
        "ranking": "value per euro; see docs/measures.md",
        "recommendations": [
            {**r.as_dict(lang), "effect": explain_gain(r, place, lang)} for r in ranked
        ],
        "refused": [
            {"key": f.measure.key, "name": f.measure.name(lang), "reason": f.reason(lang)}
            for f in refused
        ],
    }


def _value(store: Store, key: str, name: str, rx: float, ry: float) -> float | None:
    try:
        base = load_baseline(store, key)
        cell = base.grid.cell_of(rx, ry)
        return None if cell is None else clean(float(base.layer(name)[cell]))
    except NotLoaded:
        return None


@router.get("/place", response_class=JSONResponse)
def place_card(
    store: StoreDep,
    x: Annotated[float, Query(description="x (RD) or longitude")],
    y: Annotated[float, Query(description="y (RD) or latitude")],
    crs: str = "EPSG:28992",
    lang: Lang = "nl",
) -> JSONResponse:
    """The data behind a "my place" card: the spot, its buurt, and the three best measures."""
    rx, ry = to_rd(x, y, crs)
    base = _baseline_at(store, rx, ry)
    found = cell_at(store, rx, ry, layers=("score", "score_class"))
    place = place_at_point(base, rx, ry)
    ranked, _ = rank(place)
    score = found["cell"].get("score")
    klass = found["cell"].get("score_class") or 0
    label = next((c for c in SCORE_CLASSES if c.value == klass), None)
    potential = _value(store, base.key, "potential", rx, ry)
    code = int(base.landcover[base.grid.cell_of(rx, ry) or (0, 0)])
    cover = load_classes().by_code(code) if code else None
    cover_name = "" if cover is None else (cover.name_en if lang == "en" else cover.name_nl)
    class_label = "" if label is None else (label.label_en if lang == "en" else label.label_nl)
    best = [{**r.as_dict(lang), "effect": explain_gain(r, place, lang)} for r in ranked[:3]]
    if lang == "en":
        text = f"This spot is {cover_name.lower()}, scored {class_label} (class {klass} of 7)."
        if best:
            text += f" Best value for money here: {best[0]['name'].lower()}."
    else:
        text = f"Deze plek is {cover_name.lower()}, met score {class_label} (klasse {klass} van 7)."
        if best:
            text += f" De meeste winst per euro geeft hier: {best[0]['name'].lower()}."
    # plain JSON values already: answered as they are, without FastAPI's re-encoding of every
    # nested value (a third of the request's time under load)
    return JSONResponse(
        {
            "x": round(rx, 2),
            "y": round(ry, 2),
            "area": base.key,
            "spot": {
                "landcover": None if cover is None else cover.key,
                "landcover_name": cover_name,
                "score": score,
                "score_class": klass,
                "score_label": class_label,
                "potential": potential,
            },
            "buurt": found.get("area"),
            "buurt_values": found.get("unit_values"),
            "measures": best,
            "text": text,
        }
    )


def _flag(body: dict[str, Any], field: str, default: bool) -> bool:
    value = body.get(field, default)
    if not isinstance(value, bool):
        raise InvalidInput(f"{field} must be true or false, got {value!r}")
    return value


def _text(body: dict[str, Any], field: str, default: str = "") -> str:
    value = body.get(field, default)
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a text")
    return value


@router.post("/scenarios")
def create_scenario(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    body: Annotated[
        dict[str, Any],
        Body(
            description="{area, name, places: [{measure, wkt}], description?, save?, replace?, "
            "crs? (EPSG:28992 default, or EPSG:4326 lon/lat)}"
        ),
    ],
) -> dict[str, Any]:
    """Run a scenario on a published area; save it under its name unless ``save`` is false.

    Anyone may try a scenario (``save: false``, nothing is written) or save one under a new
    name. A name that is taken gives 409, unless ``replace: true`` is sent by an admin of the
    area's gemeente (login; CSRF token with the cookie). Limits (413/400): see
    ``measures.scenario`` — at most 50 places, 10,000 corners, a description of 2,000
    characters, names ``[a-z0-9_-]{1,64}``.
    """
    places = body.get("places")
    if not isinstance(places, list):
        raise InvalidInput("places must be a list of {measure, wkt|geojson}")
    places = places_in_rd(places, body.get("crs", "EPSG:28992"))  # lon/lat from the map
    area = normalise_area_key(_text(body, "area"))
    save, replace = _flag(body, "save", True), _flag(body, "replace", False)
    if replace and not save:
        raise InvalidInput("replace=true needs save=true", hint="leave replace out for a try")
    if replace:
        owner = owner_gemeente(settings, area, store)
        if owner is None:
            raise AccessDenied(
                f"no gemeente owns {area}, so its scenarios cannot be replaced",
                hint="save under a new name",
            )
        require_writer(request, owner)
    return run_scenario(
        settings,
        area,
        _text(body, "name"),
        places,
        soil_group=_text(body, "soil_group", scenarios.DEFAULT_SOIL_GROUP),
        description=_text(body, "description"),
        save=save,
        replace=replace,
        store=store,
    )


@router.get("/scenarios")
def list_scenarios(settings: SettingsDep, area: str) -> dict[str, Any]:
    """Names of the saved scenarios of an area."""
    key = normalise_area_key(area)
    return {"area": key, "scenarios": scenarios.list_names(settings.data_dir, key)}


@router.get("/scenarios/compare")
def compare_scenarios(settings: SettingsDep, area: str, a: str, b: str) -> dict[str, Any]:
    """Two saved scenarios side by side."""
    return scenarios.compare(settings.data_dir, normalise_area_key(area), a, b)


@router.get("/scenarios/{area}/{name}")
def get_scenario(settings: SettingsDep, area: str, name: str) -> dict[str, Any]:
    """One saved scenario with its result."""
    return scenarios.load(settings.data_dir, normalise_area_key(area), name)
