"""Settings, all read from the environment with the one prefix ``BIOSTRESSTEST_``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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
    basemap_url: str = Field(
        default=DEFAULT_BASEMAP_URL,
        description="XYZ raster tiles under the map; empty for none (PDOK BRT-Achtergrondkaart).",
    )

    @property
    def raw_dir(self) -> Path:
        """Raw cache of fetched source files."""
        return self.data_dir / "raw"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (read once from the environment)."""
    return Settings()
