"""The sections of the area report, each built from the store when its data is there.

A section of ``data/report.toml`` names a template; the builder of that template turns the store's
data into what the template shows, or None to leave the section out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd

from biostresstest.core.errors import NotLoaded
from biostresstest.core.settings import Settings
from biostresstest.model.areas import AreaLevel
from biostresstest.model.confidence import Confidence
from biostresstest.model.landcover import load_classes
from biostresstest.model.store import Store
from biostresstest.pipeline.common import LEGEND
from biostresstest.reports import fmt
from biostresstest.reports.charts import Bar, bar_chart
from biostresstest.reports.kansen import build_koppelkansen, build_opportunities
from biostresstest.reports.pdf import Asset
from biostresstest.reports.scenarios import build_scenarios, saved_scenarios
from biostresstest.reports.spec import ReportSpec, SectionSpec
from biostresstest.reports.target import AreaTarget

MAX_DOCUMENT_ROWS = 25


@dataclass
class AreaReport:
    """The shared state while the sections of one area report are built."""

    store: Store
    target: AreaTarget
    spec: ReportSpec
    lang: str
    manifest: dict[str, Any]
    ranked: gpd.GeoDataFrame
    """The buurten to rank (of the gemeente, of the wijk, or of the buurt's wijk), best first."""
    scope_name: str
    settings: Settings | None = None
    """Where saved scenarios are found (none are shown without settings)."""
    assets: dict[str, Asset] = field(default_factory=dict)
    _documents: dict[str, Any] = field(default_factory=dict)
    _scenarios: list[dict[str, Any]] | None = None

    def t(self, text_id: str, /, **values: Any) -> str:
        """A text of the spec in the report's language."""
        return self.spec.text(text_id, self.lang, **values)

    def value(self, column: str, raw: Any) -> str:
        """A stored value in its column's format."""
        return fmt.value(raw, self.spec.column(column).format, self.lang)

    def label(self, column: str) -> str:
        """The label of a column in the report's language."""
        return self.spec.column(column).label[self.lang]

    def class_label(self, value: int | None) -> str:
        """The label of a score class."""
        for cls in LEGEND:
            if cls.value == value:
                return cls.label_nl if self.lang == "nl" else cls.label_en
        return self.t("no_data")

    def document(self, name: str) -> Any:
        """A stored JSON document of the run, or None when it has none."""
        if name not in self._documents:
            try:
                self._documents[name] = self.store.document(self.target.key, name)
            except NotLoaded:
                self._documents[name] = None
        return self._documents[name]

    def saved_scenarios(self) -> list[dict[str, Any]]:
        """The saved scenarios of the run's area (read once)."""
        if self._scenarios is None:
            self._scenarios = saved_scenarios(self.settings, self.target.key)
        return self._scenarios

    def has_raster(self, name: str) -> bool:
        """Whether the run published the cell layer ``name``."""
        try:
            self.store.raster_path(self.target.key, name)
        except NotLoaded:
            return False
        return True

    def shows(self, section: SectionSpec) -> bool:
        """Whether the store holds what ``section`` needs."""
        needs = section.requires
        if needs.columns and not self.spec.matching(needs.columns, list(self.target.values)):
            return False
        if needs.documents and all(self.document(d) is None for d in needs.documents):
            return False
        if needs.rasters and not all(self.has_raster(r) for r in needs.rasters):
            return False
        if needs.scenarios and len(self.saved_scenarios()) < needs.scenarios:
            return False
        return len(self.ranked) >= needs.buurten


def class_colour(value: int | None) -> str:
    """The colour of a score class (white for none)."""
    return next((c.colour for c in LEGEND if c.value == value), "#ffffff")


def build_map(report: AreaReport, section: SectionSpec) -> dict[str, Any]:
    """The components of the score with their weights, and the area per class."""
    weights = report.manifest.get("parameters", {}).get("weights", {})
    values = report.target.values
    components = []
    for column, weight in weights.items():
        raw = values.get(column)
        contribution = None if raw is None else float(weight) * float(raw)
        components.append(
            {
                "label": report.label(column),
                "weight": fmt.number(float(weight), 2, report.lang),
                "value": report.value(column, raw),
                "contribution": fmt.value(contribution, "score", report.lang),
            }
        )
    cell = report.manifest.get("grid", {}).get("cell_size")
    return {
        "components": components,
        "formula": report.t("formula", cell=fmt.value(cell, "integer", report.lang)),
        "score": report.value("score", values.get("score")),
    }


def build_landcover(report: AreaReport, section: SectionSpec) -> dict[str, Any] | None:
    """Land-cover shares of the area and the confidence of the cells."""
    document = report.document("landcover") or {}
    composition = document.get("classes", {}).get(report.target.code)
    if not composition:
        return None
    table = load_classes()
    total = sum(composition.values()) or 1.0
    rows = [
        {
            "colour": table.by_key(key).colour,
            "name": table.by_key(key).name_nl if report.lang == "nl" else table.by_key(key).name_en,
            "share": fmt.percent(m2 / total, report.lang, 1),
            "ha": fmt.value(m2 / 10_000, "hectares", report.lang),
        }
        for key, m2 in sorted(composition.items(), key=lambda item: -item[1])[:14]
    ]
    return {"rows": rows, "confidence": confidence_rows(report)}


def confidence_rows(report: AreaReport) -> list[dict[str, str]]:
    """Share of the area per confidence level of the land cover (from the stored document)."""
    document = report.document("landcover") or {}
    levels = document.get("confidence", {}).get(report.target.code, {})
    total = sum(levels.values()) or 1.0
    rows = []
    for name, m2 in sorted(levels.items(), key=lambda item: -Confidence[item[0]]):
        level = Confidence[name]
        rows.append(
            {
                "label": level.label_nl if report.lang == "nl" else level.label_en,
                "share": fmt.percent(m2 / total, report.lang, 1),
            }
        )
    return rows


def build_figures(report: AreaReport, section: SectionSpec) -> dict[str, Any] | None:
    """The section's columns for this area (and, when it is not the gemeente, the gemeente)."""
    columns = report.spec.matching(section.columns, list(report.target.values))
    rows = [
        {"label": report.label(c), "value": report.value(c, report.target.values.get(c))}
        for c in columns
    ]
    return {"rows": rows} if rows else None


def build_ranking(report: AreaReport, section: SectionSpec) -> dict[str, Any]:
    """The buurten in order of score, as a table and a chart."""
    rows, bars = [], []
    for rank, (_, row) in enumerate(report.ranked.iterrows(), start=1):
        score, cls = row["score"], row["score_class"]
        cls_value = None if fmt.is_missing(cls) else int(cls)
        highlight = row["code"] == report.target.code
        text = report.value("score", score)
        rows.append(
            {
                "rank": rank,
                "name": row["name"],
                "code": row["code"],
                "score": text,
                "class": cls_value,
                "label": report.class_label(cls_value),
                "colour": class_colour(cls_value),
                "highlight": highlight,
            }
        )
        value = 0.0 if fmt.is_missing(score) else float(score)
        bars.append(Bar(str(row["name"]), value, text, class_colour(cls_value), highlight))
    report.assets["ranking.svg"] = Asset(
        bar_chart(bars, lambda v: fmt.number(v, 1, report.lang)), "image/svg+xml"
    )
    intro = report.t("ranking_intro", count=len(rows), scope=report.scope_name)
    return {"rows": rows, "chart": "ranking.svg", "intro": intro}


def build_document(report: AreaReport, section: SectionSpec) -> dict[str, Any] | None:
    """Stored JSON documents as tables (for a section without a layout of its own)."""
    tables = []
    for name in section.documents:
        document = report.document(name)
        if document is None:
            continue
        headers, rows, note = document_table(document, report.target.code, report.lang)
        if rows or note:
            tables.append({"name": name, "headers": headers, "rows": rows, "note": note})
    return {"tables": tables} if tables else None


def document_table(
    document: Any, code: str, lang: str
) -> tuple[list[str], list[list[str]], str]:
    """Headers, rows and a note of a JSON document: the part for ``code`` if keyed by area.

    A list of records is the table; in an object the first list of records is the table and
    the single values are the note.
    """
    if isinstance(document, dict) and code in document:
        document = document[code]
    note = ""
    if isinstance(document, dict):
        scalars = {k: v for k, v in document.items() if fmt.is_scalar(v)}
        note = "; ".join(f"{k}: {fmt.cell(v, lang)}" for k, v in scalars.items())
        document = next((v for v in document.values() if isinstance(v, list)), [])
    if not isinstance(document, list):
        return [], [], note
    records = [r for r in document if isinstance(r, dict)][:MAX_DOCUMENT_ROWS]
    headers: list[str] = []
    for record in records:
        headers += [k for k, v in record.items() if fmt.is_scalar(v) and k not in headers]
    headers = headers[:7]
    return headers, [[fmt.cell(r.get(h), lang) for h in headers] for r in records], note


def build_nothing(report: AreaReport, section: SectionSpec) -> dict[str, Any]:
    """Sections whose template needs only the shared context (summary, sources, bijsluiter)."""
    return {}


BUILDERS: dict[str, Callable[[AreaReport, SectionSpec], dict[str, Any] | None]] = {
    "summary.html.j2": build_nothing,
    "map.html.j2": build_map,
    "landcover.html.j2": build_landcover,
    "figures.html.j2": build_figures,
    "ranking.html.j2": build_ranking,
    "document.html.j2": build_document,
    "koppelkansen.html.j2": build_koppelkansen,
    "opportunities.html.j2": build_opportunities,
    "scenarios.html.j2": build_scenarios,
    "sources.html.j2": build_nothing,
    "bijsluiter.html.j2": build_nothing,
}
"""The builder of each section template."""


def ranked_buurten(store: Store, target: AreaTarget) -> tuple[gpd.GeoDataFrame, AreaLevel | None]:
    """The buurten a report ranks, best score first, and the level of their scope."""
    if target.level is AreaLevel.GEBIED:
        return gpd.GeoDataFrame({"code": [], "name": []}), None
    buurten = store.areas(target.key, AreaLevel.BUURT)
    if target.level is AreaLevel.GEMEENTE:
        scope, level = buurten, AreaLevel.GEMEENTE
    elif target.level is AreaLevel.WIJK:
        scope, level = buurten[buurten["parent_code"] == target.code], AreaLevel.WIJK
    else:
        parent = target.values.get("parent_code")
        scope, level = buurten[buurten["parent_code"] == parent], AreaLevel.WIJK
    ordered = scope.sort_values(["score", "name"], ascending=[False, True], na_position="last")
    return ordered.reset_index(drop=True), level
