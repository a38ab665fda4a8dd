"""The app factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from biostresstest import __version__
from biostresstest.core.errors import BiostresstestError
from biostresstest.core.settings import Settings, get_settings
from biostresstest.model.store import Store
from biostresstest.model.stores import open_store
from biostresstest.web import (
    admin,
    api,
    explain,
    exports,
    feedback,
    layers_api,
    measures_api,
    ogc,
    reports_api,
    stories,
    theme,
    tiles,
)
from biostresstest.web.errors import install_error_handlers

STATIC_DIR = Path(__file__).parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"


class FrontendMissing(BiostresstestError):
    """The npm packages of the map page have not been installed."""

    exit_code = 6
    code = "frontend-missing"


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """A configured app serving ``store`` (by default the store the settings name)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="biostresstest",
        version=__version__,
        description="Biodiversiteitstresstest – kansenkaart voor biodiversiteit",
    )
    app.state.settings = settings
    app.state.store = store or open_store(settings)
    install_error_handlers(app)
    app.include_router(api.router)
    app.include_router(tiles.router)
    app.include_router(ogc.router)
    app.include_router(explain.router)
    app.include_router(admin.router)
    app.state.recompute_after_import = admin.recompute_if_published
    app.include_router(reports_api.router)
    app.include_router(stories.router)
    app.include_router(feedback.router)
    app.include_router(exports.router)
    app.include_router(theme.router)
    app.include_router(measures_api.router)
    app.include_router(layers_api.router)

    @app.get("/api/config", tags=["api"])
    def config() -> dict[str, Any]:
        """What the map page needs to start."""
        return {
            "basemap_url": settings.basemap_url,
            "version": __version__,
            "theme_class": settings.theme_class,
        }

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def check_frontend() -> None:
    """Fail clearly when the map page's npm packages are missing."""
    needed = (
        VENDOR_DIR / "maplibre-gl" / "maplibre-gl.mjs",
        VENDOR_DIR / "nl-design-system" / "theme.css",
    )
    if not all(path.exists() for path in needed):
        raise FrontendMissing(
            f"the map library or the NL Design System files are missing from {VENDOR_DIR}",
            hint="install the front-end packages: `make vendor` (runs npm ci and copies them)",
        )
