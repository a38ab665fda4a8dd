"""``GET /api/report``: the PDF report of an area unit or the one-pager of a point."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from biostresstest.core.errors import InvalidInput
from biostresstest.model.store import Store
from biostresstest.reports.render import address_report, area_report
from biostresstest.reports.spec import check_language
from biostresstest.web.deps import get_store, to_rd

router = APIRouter(prefix="/api", tags=["reports"])
StoreDep = Annotated[Store, Depends(get_store)]


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
        rendered, name = area_report(store, area, lang, settings), area.strip().upper()
    elif x is not None and y is not None:
        rx, ry = to_rd(x, y, crs)
        rendered, name = address_report(store, rx, ry, lang), f"{rx:.0f}-{ry:.0f}"
    else:
        raise InvalidInput("give area (a code) or x and y (a point)", hint="e.g. ?area=GM0758")
    filename = "".join(c for c in f"biostresstest-{name}-{lang}.pdf" if c.isalnum() or c in "-.")
    return Response(
        rendered.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
