"""The map's cell layers with their legends (``/api/layers``), and the ranked tables a run
publishes: the koppelkansen and the opportunities per area unit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from biostresstest.core.errors import NotLoaded
from biostresstest.model.areas import normalise_area_key
from biostresstest.model.store import Store
from biostresstest.web.deps import get_store
from biostresstest.web.map_layers import load_map_layers

router = APIRouter(prefix="/api", tags=["api"])
StoreDep = Annotated[Store, Depends(get_store)]


@router.get("/layers")
def layers(
    store: StoreDep,
    area: Annotated[str | None, Query(description="a loaded gemeente or study area")] = None,
) -> dict[str, Any]:
    """Every map layer with its legend; with ``area``, only the layers its run published."""
    found = list(load_map_layers().values())
    if area is not None:
        key = normalise_area_key(area)
        store.manifest(key)  # NotLoaded (404) for an area without results
        found = [layer for layer in found if _published(store, key, layer.id)]
    return {"area": area, "layers": [layer.as_json() for layer in found]}


def _published(store: Store, key: str, name: str) -> bool:
    try:
        store.raster_path(key, name)
    except NotLoaded:
        return False
    return True


@router.get("/koppelkansen")
def koppelkansen(
    store: StoreDep,
    area: Annotated[str, Query(description="a loaded gemeente or study area")],
) -> dict[str, Any]:
    """The area units where low biodiversity meets heat or water stress most, best first."""
    key = normalise_area_key(area)
    document: dict[str, Any] = store.document(key, "koppelkansen")
    return {"area": key, **document}


@router.get("/opportunities")
def opportunities(
    store: StoreDep,
    area: Annotated[str, Query(description="a loaded gemeente or study area")],
) -> dict[str, Any]:
    """The gain from the current score to the potential per area unit, with its measures."""
    key = normalise_area_key(area)
    document: dict[str, Any] = store.document(key, "opportunities")
    return {"area": key, **document}
