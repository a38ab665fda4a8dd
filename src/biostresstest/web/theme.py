"""The design tokens of the page: a gemeente's own NL Design System theme, or the example one.

The page loads ``/theme.css`` and puts ``settings.theme_class`` on ``<body>``; every colour,
font, spacing and focus style of the page comes from the CSS custom properties in that file.
Setting ``BIOSTRESSTEST_THEME_CSS`` to a token file of a gemeente (the ``dist/theme.css`` of its
``@nl-design-system-*/…-design-tokens`` package) and ``BIOSTRESSTEST_THEME_CLASS`` to the class
it is scoped to re-themes the whole tool without touching its code.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from biostresstest.core.errors import NotLoaded
from biostresstest.core.settings import Settings

DEFAULT_THEME = Path(__file__).parent / "static" / "vendor" / "nl-design-system" / "theme.css"

router = APIRouter(tags=["theme"])


@router.get("/theme.css", include_in_schema=False)
def theme_css(request: Request) -> FileResponse:
    """The token file in use."""
    settings: Settings = request.app.state.settings
    path = settings.theme_css or DEFAULT_THEME
    if not path.is_file():
        raise NotLoaded(
            f"the theme file {path.name} is missing",
            hint="run `make vendor`, or point BIOSTRESSTEST_THEME_CSS at a token file",
        )
    return FileResponse(path, media_type="text/css", headers={"Cache-Control": "max-age=300"})
