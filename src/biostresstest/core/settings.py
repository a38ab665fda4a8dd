"""Settings, all read from the environment with the one prefix ``BIOSTRESSTEST_``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_BASEMAP_URL = (
    "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/grijs/EPSG:3857/{z}/{x}/{y}.png"
)


class Settings(BaseSettings):
    """Run-time settings.

    ``mirror`` is a folder laid out like the project's shared data folder: when set, every
    source reads its local copy there instead of its online address.
    """

    model_config = SettingsConfigDict(env_prefix="BIOSTRESSTEST_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Folder of the embedded store.")
    mirror: Path | None = Field(default=None, description="Folder with local copies of sources.")
    offline: bool = Field(default=False, description="Never use the network.")
    http_timeout: float = Field(default=60.0, description="Seconds before a download gives up.")
    step_cache_mib: int = Field(
        default=4096,
        ge=0,
        description="Size budget of the cache of finished steps; least recently used go first.",
    )
    basemap_url: str = Field(
        default=DEFAULT_BASEMAP_URL,
        description="XYZ raster tiles under the map; empty for none (PDOK BRT-Achtergrondkaart).",
    )
    locatieserver_url: str = Field(
        default="https://api.pdok.nl/bzk/locatieserver/search/v3_1",
        description="PDOK Locatieserver for the search when online (BIOSTRESSTEST_OFFLINE unset).",
    )
    locatieserver_timeout: float = Field(
        default=1.5, gt=0, le=10, description="Seconds before the online search gives up."
    )
    theme_css: Path | None = Field(
        default=None,
        description="NL Design System token file (CSS custom properties) of a gemeente's theme; "
        "default: the example theme from npm.",
    )
    theme_class: str = Field(
        default="voorbeeld-theme",
        pattern=r"^[a-z][a-z0-9-]{0,60}$",
        description="The CSS class the token file scopes its tokens to (e.g. utrecht-theme).",
    )
    store: Literal["embedded", "postgis"] = Field(
        default="embedded",
        description="Where results are published: files in the data folder, or PostGIS.",
    )
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL/PostGIS connection URL of the postgis store "
        "(postgresql://user:password@host:port/database).",
    )

    @property
    def raw_dir(self) -> Path:
        """Raw cache of fetched source files."""
        return self.data_dir / "raw"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (read once from the environment)."""
    return Settings()
