"""Opening the configured store: the embedded files (default) or PostGIS."""

from __future__ import annotations

import threading
from pathlib import Path

from biostresstest.core.errors import InvalidInput
from biostresstest.core.settings import Settings
from biostresstest.model.store import Store

_OPEN: dict[tuple[str, Path], Store] = {}
_LOCK = threading.Lock()


def embedded_root(settings: Settings) -> Path:
    """The folder of the embedded store."""
    return settings.data_dir / "store"


def postgis_raster_dir(settings: Settings) -> Path:
    """The folder of the PostGIS store's cell layers (COG files)."""
    return settings.data_dir / "postgis-rasters"


def open_store(settings: Settings) -> Store:
    """The store ``settings`` name (``BIOSTRESSTEST_STORE``).

    A PostGIS store is opened once per database URL and raster folder in a process (it holds a
    connection pool) and migrated to the newest table revision on first open.
    """
    if settings.store == "embedded":
        from biostresstest.model.embedded import EmbeddedStore

        return EmbeddedStore(embedded_root(settings))
    if not settings.database_url:
        raise InvalidInput(
            "the postgis store needs a database URL",
            hint="set BIOSTRESSTEST_DATABASE_URL=postgresql://user:password@host:5432/database, "
            "or BIOSTRESSTEST_STORE=embedded",
        )
    key = (settings.database_url, postgis_raster_dir(settings).resolve())
    with _LOCK:
        if key not in _OPEN:
            from biostresstest.model.postgis import PostgisStore  # psycopg: load on use

            _OPEN[key] = PostgisStore(settings.database_url, postgis_raster_dir(settings))
        return _OPEN[key]
