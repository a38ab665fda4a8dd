"""Shared fixtures: the mirror of real open data, and one Breda run per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from biostresstest.core.settings import Settings
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.study_area import NAMED_AREAS
from biostresstest.pipeline.run import RunSummary, run_gemeente
from biostresstest.pipeline.run_area import run_area

REPO = Path(__file__).resolve().parents[1]
pytest_plugins = [
    "postgis_fixtures",  # postgis_url, postgis_schema (PostGIS store tests)
    "web_server",  # server, page (the map app in chromium, browser tests)
]


def _mirror() -> Path:
    configured = os.environ.get("BIOSTRESSTEST_MIRROR")
    path = Path(configured) if configured else REPO.parent / "shared" / "data"
    if not (path / "breda-rivm-groenkaart-10m").is_dir():
        raise RuntimeError(
            f"the tests read real open data from the mirror folder, not found at {path}; "
            "set BIOSTRESSTEST_MIRROR to a folder laid out like shared/data"
        )
    return path


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The folder with local copies of the sources."""
    return _mirror()


@pytest.fixture
def settings(tmp_path: Path, mirror: Path) -> Settings:
    """Settings with a fresh data folder and the mirror."""
    return Settings(data_dir=tmp_path / "data", mirror=mirror, offline=True, basemap_url="")


@pytest.fixture(scope="session")
def session_settings(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Settings:
    """One data folder for the session: Breda and Otterlo are published side by side."""
    data_dir = tmp_path_factory.mktemp("store") / "data"
    return Settings(data_dir=data_dir, mirror=mirror, offline=True, basemap_url="")


@pytest.fixture(scope="session")
def breda(session_settings: Settings) -> tuple[Settings, RunSummary]:
    """Breda computed once into the session data folder."""
    return session_settings, run_gemeente("GM0758", session_settings)


@pytest.fixture(scope="session")
def otterlo(session_settings: Settings) -> tuple[Settings, RunSummary]:
    """The Otterlo BGT square computed once at 1 m into the session data folder."""
    return session_settings, run_area(NAMED_AREAS["otterlo"], session_settings)


@pytest.fixture(scope="session")
def breda_store(breda: tuple[Settings, RunSummary]) -> EmbeddedStore:
    """The store holding the Breda results."""
    settings, _ = breda
    return EmbeddedStore(settings.data_dir / "store")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for screenshots and other files a person may want to look at."""
    path = REPO / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
