"""``GET /api/report``: the PDF report of an area unit or the one-pager of a point."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from biostresstest.core.errors import Busy, InvalidInput, NotLoaded
from biostresstest.model.store import Store
from biostresstest.reports.render import address_report, area_report
from biostresstest.reports.spec import check_language
from biostresstest.web.deps import get_store, to_rd

router = APIRouter(prefix="/api", tags=["reports"])
StoreDep = Annotated[Store, Depends(get_store)]

RENDERS_AT_ONCE = 2
"""PDF renders that may run at the same time (each takes seconds of CPU and ~300 MiB)."""
RENDER_WAIT_S = 15.0
"""How long a request waits for a free render before it is told to come back."""
CACHED_REPORTS = 32
"""Rendered PDFs kept per process, keyed on the published run, so a repeat costs nothing."""
_renders = threading.BoundedSemaphore(RENDERS_AT_ONCE)
_cache: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
_cache_lock = threading.Lock()


@router.get("/report", response_class=Response)
def report(
    request: Request,
    store: StoreDep,
    area: Annotated[
        str | None, Query(max_length=40, description="GM…, WK…, BU… or a study area")
    ] = None,
    x: Annotated[float | None, Query(description="x (RD) or longitude")] = None,
    y: Annotated[float | None, Query(description="y (RD) or latitude")] = None,
    crs: Annotated[str, Query(description="EPSG:28992 (default) or EPSG:4326")] = "EPSG:28992",
    lang: Annotated[str, Query(description="nl (default) or en")] = "nl",
) -> Response:
    """The report as ``application/pdf`` (a gemeente, wijk or buurt, or the page of a point)."""
    lang = check_language(lang)
    if area is not None and (x is not None or y is not None):
        raise InvalidInput("give either area or x and y, not both")
    if area is not None:
        settings = request.app.state.settings
        name = area.strip().upper()
        key = ("area", _published(store), name, lang)
        pdf = _rendered(key, lambda: area_report(store, area, lang, settings).pdf)
    elif x is not None and y is not None:
        rx, ry = to_rd(x, y, crs)
        name = f"{rx:.0f}-{ry:.0f}"
        key = ("point", _published(store), f"{rx:.1f},{ry:.1f}", lang)
        pdf = _rendered(key, lambda: address_report(store, rx, ry, lang).pdf)
    else:
        raise InvalidInput("give area (a code) or x and y (a point)", hint="e.g. ?area=GM0758")
    filename = "".join(c for c in f"biostresstest-{name}-{lang}.pdf" if c.isalnum() or c in "-.")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


def _published(store: Store) -> str:
    """The keys of the published runs: a new publish makes every cached report stale."""
    keys = []
    for code in store.gemeenten():
        try:
            keys.append(f"{code}:{store.manifest(code).get('key')}")
        except NotLoaded:  # switched away while we looked
            continue
    return ",".join(keys)


def _rendered(key: tuple[str, ...], render: Callable[[], bytes]) -> bytes:
    """The PDF of ``key``: from the cache, or rendered when one of the render slots is free."""
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    if not _renders.acquire(timeout=RENDER_WAIT_S):
        raise Busy(
            "the server is rendering as many reports as it can at once",
            hint="try again in a minute",
        )
    try:
        pdf = render()
    finally:
        _renders.release()
    with _cache_lock:
        _cache[key] = pdf
        while len(_cache) > CACHED_REPORTS:
            _cache.popitem(last=False)
    return pdf
