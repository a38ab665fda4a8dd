"""Kaartverhalen: every published layer has its story in Dutch and English, served by the API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from biostresstest.core.errors import CorruptInput
from biostresstest.core.settings import Settings
from biostresstest.pipeline.co_benefits import PUBLISHED_LAYERS
from biostresstest.pipeline.common import RASTER_DESCRIPTIONS
from biostresstest.web.app import create_app
from biostresstest.web.explain import CLASS_LAYERS
from biostresstest.web.map_layers import load_map_layers
from biostresstest.web.stories import Story, load_stories

CLIMATE_LAYERS = (
    "cooling_capacity",
    "heat_mitigation",
    "air_temperature",
    "runoff",
    "retention",
    "drought",
    "koppelkansen",
    "potential",
    "opportunity",
)


def _published_layers() -> set[str]:
    """Every layer a run publishes, every story the map's layers point to, and the climate
    layers by the names the issue gives them."""
    map_stories = {layer.story for layer in load_map_layers().values()}
    return (
        set(RASTER_DESCRIPTIONS)
        | set(PUBLISHED_LAYERS)
        | set(CLASS_LAYERS)
        | map_stories
        | set(CLIMATE_LAYERS)
    )


@pytest.mark.parametrize("layer", sorted(_published_layers()))
def test_every_layer_has_a_story_in_both_languages(layer: str) -> None:
    story = load_stories()[layer]
    for text in (story.nl, story.en):
        assert text.title and text.shows and text.method and text.uncertainty and text.sources
        assert text.actions.gemeente and text.actions.bedrijf and text.actions.bewoner
    assert story.nl.title != story.en.title or story.nl.shows != story.en.shows


def test_schema_rejects_a_story_without_english() -> None:
    body = load_stories()["baf"].model_dump()
    del body["en"]
    with pytest.raises(ValueError, match="en"):
        Story.model_validate(body)
    body = load_stories()["baf"].model_dump()
    body["nl"]["actions"]["bewoner"] = "kort"
    with pytest.raises(ValueError, match="at least 20"):
        Story.model_validate(body)


def test_stories_api(settings: Settings) -> None:
    client = TestClient(create_app(settings))
    everything = client.get("/api/stories").json()["stories"]
    assert {s["layer"] for s in everything} >= set(CLIMATE_LAYERS) | {"score", "baf"}
    one = client.get("/api/stories/score_class", params={"lang": "en"})
    assert one.status_code == 200
    body = one.json()
    assert body["layer"] == "score" and "en" in body and "nl" not in body
    assert body["en"]["title"] == "Biodiversity stress test"
    missing = client.get("/api/stories/nonsense")
    assert missing.status_code == 400 and "known layers" in missing.json()["hint"]
    assert client.get("/api/stories", params={"lang": "fr"}).status_code == 400


def test_corrupt_story_fails_clearly(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    import biostresstest.web.stories as module

    class Entry:
        name = "baf.toml"

        def read_text(self, encoding: str) -> str:
            return 'layer = "baf"\ngroup = "nonsense"\n'

    class Folder:
        def iterdir(self) -> list[Entry]:
            return [Entry()]

    class Root:
        def joinpath(self, _name: str) -> Folder:
            return Folder()

    monkeypatch.setattr(module.resources, "files", lambda _pkg: Root())
    load_stories.cache_clear()
    try:
        with pytest.raises(CorruptInput, match=r"baf\.toml is invalid"):
            load_stories()
    finally:
        monkeypatch.undo()
        load_stories.cache_clear()
