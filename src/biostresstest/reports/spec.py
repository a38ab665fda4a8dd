"""The declarative report spec (package data ``data/report.toml``): sections, maps, columns, texts.

Validation reports every problem in one CorruptInput. Every text exists in Dutch and English.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache
from importlib import resources
from typing import Any

from biostresstest.core.errors import CorruptInput, InvalidInput

LANGUAGES = ("nl", "en")
FORMATS = frozenset(
    {"score", "share", "percent", "number", "index", "integer", "metres", "hectares",
     "celsius", "mm", "m3"}
)  # fmt: skip
MAP_KINDS = frozenset({"score_classes", "landcover"})
_REQUIREMENTS = frozenset({"columns", "documents", "rasters", "buurten", "scenarios"})
_HINT = "Fix src/biostresstest/reports/data/report.toml."


@dataclass(frozen=True)
class Requirements:
    """What the store must hold for a section to be shown (any one of each list)."""

    columns: tuple[str, ...] = ()
    """Glob patterns; at least one column of the area layer must match one."""
    documents: tuple[str, ...] = ()
    rasters: tuple[str, ...] = ()
    buurten: int = 0
    """The minimum number of buurten to rank."""
    scenarios: int = 0
    """The minimum number of saved scenarios of the area."""


@dataclass(frozen=True)
class SectionSpec:
    """One section of the area report."""

    id: str
    template: str
    title: Mapping[str, str]
    requires: Requirements = field(default_factory=Requirements)
    columns: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()


@dataclass(frozen=True)
class MapSpec:
    """One map rendered from a cell layer of the store."""

    id: str
    raster: str
    kind: str
    title: Mapping[str, str]


@dataclass(frozen=True)
class ColumnSpec:
    """Label and number format of an area column."""

    id: str
    label: Mapping[str, str]
    format: str


@dataclass(frozen=True)
class ReportSpec:
    """The validated spec."""

    sections: tuple[SectionSpec, ...]
    maps: Mapping[str, MapSpec]
    columns: Mapping[str, ColumnSpec]
    texts: Mapping[str, Mapping[str, str]]

    def text(self, text_id: str, lang: str, /, **values: Any) -> str:
        """The text ``text_id`` in ``lang`` with ``values`` filled in."""
        return self.texts[text_id][lang].format(**values)

    def column(self, column_id: str) -> ColumnSpec:
        """The spec of a column; a column not in the spec is labelled by its name."""
        known = self.columns.get(column_id)
        if known is not None:
            return known
        return ColumnSpec(column_id, {lang: column_id for lang in LANGUAGES}, "number")

    def matching(self, patterns: tuple[str, ...], columns: list[str]) -> list[str]:
        """The columns matching any of the glob ``patterns``, in pattern order, no repeats."""
        found: list[str] = []
        for pattern in patterns:
            found += [c for c in columns if fnmatchcase(c, pattern) and c not in found]
        return found


def check_language(lang: str) -> str:
    """``lang`` if it is a report language, else a clear error."""
    value = lang.strip().lower()
    if value not in LANGUAGES:
        raise InvalidInput(f"unknown report language {lang!r}", hint="use nl or en")
    return value


def _bilingual(raw: Any, where: str, problems: list[str]) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: needs a table with nl and en")
        return {}
    for lang in LANGUAGES:
        if not isinstance(raw.get(lang), str) or not raw[lang].strip():
            problems.append(f"{where}: missing text in {lang}")
    return {lang: str(raw.get(lang, "")) for lang in LANGUAGES}


def _strings(raw: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        problems.append(f"{where}: needs a list of strings")
        return ()
    return tuple(raw)


def _requirements(raw: Any, where: str, problems: list[str]) -> Requirements:
    raw = raw or {}
    unknown = set(raw) - _REQUIREMENTS
    if unknown:
        problems.append(f"{where}: unknown requirements {sorted(unknown)}")
    counts = {}
    for name in ("buurten", "scenarios"):
        counts[name] = raw.get(name, 0)
        if not isinstance(counts[name], int) or isinstance(counts[name], bool):
            problems.append(f"{where}.{name}: needs a whole number")
            counts[name] = 0
    return Requirements(
        columns=_strings(raw.get("columns"), f"{where}.columns", problems),
        documents=_strings(raw.get("documents"), f"{where}.documents", problems),
        rasters=_strings(raw.get("rasters"), f"{where}.rasters", problems),
        buurten=counts["buurten"],
        scenarios=counts["scenarios"],
    )


def validate_spec(data: Mapping[str, Any], templates: set[str]) -> ReportSpec:
    """The spec from parsed TOML; ``templates`` are the names of the packaged templates."""
    problems: list[str] = []
    sections = []
    for i, raw in enumerate(data.get("section", [])):
        at = f"section {raw.get('id', f'#{i}')}"
        if raw.get("template") not in templates:
            problems.append(f"{at}: template {raw.get('template')!r} is not in the package")
        sections.append(
            SectionSpec(
                id=str(raw.get("id", "")),
                template=str(raw.get("template", "")),
                title=_bilingual(raw.get("title"), f"{at}.title", problems),
                requires=_requirements(raw.get("requires"), f"{at}.requires", problems),
                columns=_strings(raw.get("columns"), f"{at}.columns", problems),
                documents=_strings(raw.get("documents"), f"{at}.documents", problems),
            )
        )
    maps = {}
    for raw in data.get("map", []):
        at = f"map {raw.get('id')}"
        if raw.get("kind") not in MAP_KINDS:
            problems.append(f"{at}: kind must be one of {sorted(MAP_KINDS)}")
        title = _bilingual(raw.get("title"), f"{at}.title", problems)
        maps[str(raw.get("id"))] = MapSpec(
            str(raw.get("id")), str(raw.get("raster")), str(raw.get("kind")), title
        )
    columns = {}
    for column_id, raw in data.get("column", {}).items():
        if raw.get("format") not in FORMATS:
            problems.append(f"column {column_id}: format must be one of {sorted(FORMATS)}")
        label = _bilingual(raw, f"column {column_id}", problems)
        columns[column_id] = ColumnSpec(column_id, label, str(raw.get("format")))
    texts = {
        key: _bilingual(raw, f"text {key}", problems) for key, raw in data.get("text", {}).items()
    }
    ids = [s.id for s in sections]
    problems += [f"section {s}: duplicate id" for s in set(ids) if ids.count(s) > 1]
    if problems:
        raise CorruptInput("the report spec is invalid:\n  " + "\n  ".join(problems), hint=_HINT)
    return ReportSpec(tuple(sections), maps, columns, texts)


@lru_cache(maxsize=1)
def load_spec() -> ReportSpec:
    """The packaged spec, validated once."""
    package = resources.files("biostresstest.reports")
    raw = (package / "data" / "report.toml").read_text("utf-8")
    templates = {p.name for p in (package / "templates").iterdir()}
    return validate_spec(tomllib.loads(raw), templates)
