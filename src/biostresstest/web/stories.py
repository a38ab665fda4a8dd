"""Kaartverhalen: the story behind every map layer, in Dutch and English.

Each layer has one TOML file in ``web/stories/`` holding, per language, what the layer shows,
how it is made, its sources and uncertainty, and what a gemeente, a company or a resident can
do with it. The files are validated on load against the schema below, so a missing language or
an empty section fails at start-up and in the tests, not in front of a user.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from biostresstest.core.errors import CorruptInput, InvalidInput

LANGUAGES = ("nl", "en")
Language = Literal["nl", "en"]
_Text = Annotated[str, Field(min_length=20, max_length=2000)]


class Actions(BaseModel):
    """What each kind of user can do with the layer."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    gemeente: _Text
    bedrijf: _Text
    bewoner: _Text


class StoryText(BaseModel):
    """The story of one layer in one language."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: Annotated[str, Field(min_length=3, max_length=80)]
    shows: _Text
    method: _Text
    sources: Annotated[list[Annotated[str, Field(min_length=3)]], Field(min_length=1)]
    uncertainty: _Text
    actions: Actions


class Story(BaseModel):
    """One layer's story, Dutch and English."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    layer: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    aliases: list[str] = Field(default_factory=list)
    """Other layer names the story covers (``score_class`` for ``score``)."""
    group: Literal["stresstest", "components", "context", "climate", "opportunity"]
    unit: Annotated[str, Field(min_length=1)]
    nl: StoryText
    en: StoryText

    def text(self, lang: Language) -> StoryText:
        """The story in ``lang``."""
        return self.nl if lang == "nl" else self.en

    def as_dict(self, lang: Language | None = None) -> dict[str, Any]:
        """JSON-ready: both languages, or only ``lang``."""
        body = self.model_dump()
        if lang is not None:
            body.pop("en" if lang == "nl" else "nl")
        return body


@lru_cache(maxsize=1)
def load_stories() -> dict[str, Story]:
    """All stories by layer name (aliases included), validated."""
    folder = resources.files("biostresstest.web").joinpath("stories")
    stories: dict[str, Story] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        try:
            story = Story.model_validate(tomllib.loads(entry.read_text(encoding="utf-8")))
        except (tomllib.TOMLDecodeError, ValidationError) as exc:
            raise CorruptInput(
                f"story {entry.name} is invalid: {exc}",
                hint="fix the file in src/biostresstest/web/stories/ (schema in web/stories.py)",
            ) from exc
        if entry.name != f"{story.layer}.toml":
            raise CorruptInput(
                f"story {entry.name} describes layer {story.layer!r}",
                hint="name each story file after its layer",
            )
        for name in (story.layer, *story.aliases):
            if name in stories:
                raise CorruptInput(f"two stories for layer {name!r}", hint="keep one")
            stories[name] = story
    return stories


def story_of(layer: str) -> Story:
    """The story of ``layer`` (or of the layer it is an alias of)."""
    stories = load_stories()
    if layer not in stories:
        raise InvalidInput(
            f"no story for layer {layer!r}",
            hint=f"known layers: {', '.join(sorted(stories))}",
        )
    return stories[layer]


router = APIRouter(prefix="/api/stories", tags=["api"])
LangQuery = Annotated[Language | None, Query(description="nl or en; both when left out")]


@router.get("")
def stories(lang: LangQuery = None) -> dict[str, Any]:
    """The stories of all layers (each once, aliases listed with it)."""
    unique = {story.layer: story for story in load_stories().values()}
    return {"stories": [unique[name].as_dict(lang) for name in sorted(unique)]}


@router.get("/{layer}")
def story(layer: str, lang: LangQuery = None) -> dict[str, Any]:
    """The story of one layer."""
    return story_of(layer).as_dict(lang)
