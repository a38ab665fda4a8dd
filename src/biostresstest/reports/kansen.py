"""The koppelkansen and opportunities sections: ranked area units from the run's documents.

Both documents list area units of the run's finest level (buurten in a gemeente) with their
figures. A gemeente report shows the top of the list; a wijk report the buurten of that wijk; a
buurt report its own row, or says that the buurt is not among them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from biostresstest.measures.catalogue import load_catalogue
from biostresstest.model.areas import AreaLevel
from biostresstest.reports import fmt
from biostresstest.reports.target import resolve_area

if TYPE_CHECKING:
    from biostresstest.reports.sections import AreaReport
    from biostresstest.reports.spec import SectionSpec

TOP_AREAS = 10
"""Rows of the opportunities table in a gemeente report."""
MAX_ROWS = 25
"""Rows of any table in a wijk report."""
RECORD_LISTS = ("places", "areas")
"""Where a run document keeps its area units: ``places`` (koppelkansen), ``areas``
(opportunities, :func:`biostresstest.pipeline.potential.opportunities_document`)."""
OPPORTUNITY_KEYS = ("mean_opportunity",)
GAIN_SHARE_KEYS = ("share_with_gain",)
MEASURE_LIST_KEYS = ("measures",)
BEST_MEASURES = 3


def records_of(document: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The area-unit records of a document and its scalar values (level, notes …)."""
    if isinstance(document, list):
        return [r for r in document if isinstance(r, dict)], {}
    if not isinstance(document, dict):
        return [], {}
    scalars = {k: v for k, v in document.items() if fmt.is_scalar(v)}
    for key in RECORD_LISTS:
        if isinstance(document.get(key), list):
            return [r for r in document[key] if isinstance(r, dict)], scalars
    return [], scalars


def first_of(record: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    """The value of the first of ``keys`` that ``record`` has."""
    return next((record[k] for k in keys if k in record), None)


def gemeente_name(report: AreaReport) -> str:
    """The name of the whole area of the run (the gemeente or study area)."""
    if report.target.level in (AreaLevel.GEMEENTE, AreaLevel.GEBIED):
        return report.target.name
    return resolve_area(report.store, report.target.key).name


def in_scope(
    report: AreaReport, ranked: list[tuple[int, dict[str, Any]]]
) -> list[tuple[int, dict[str, Any]]]:
    """The ranked records that belong to the report's area unit (all of them for a gemeente)."""
    target = report.target
    if target.level is AreaLevel.BUURT:
        return [(rank, r) for rank, r in ranked if r.get("code") == target.code]
    if target.level is AreaLevel.WIJK:
        codes = set(report.ranked["code"]) | {target.code}
        return [(rank, r) for rank, r in ranked if r.get("code") in codes][:MAX_ROWS]
    return ranked


def _units(report: AreaReport, level: Any) -> str:
    return report.t("units_buurt" if level in (None, "buurt") else "units_area")


def build_koppelkansen(report: AreaReport, section: SectionSpec) -> dict[str, Any] | None:
    """The ranked places of the ``koppelkansen`` document, the scalars as a note."""
    records, scalars = records_of(report.document("koppelkansen"))
    if not records:
        return None
    ranked = [(int(r.get("rank") or i), r) for i, r in enumerate(records, start=1)]
    shown = in_scope(report, ranked)
    target, lang = report.target, report.lang
    words = {
        "count": len(records),
        "units": _units(report, scalars.get("level")),
        "name": target.name,
    }
    if target.level in (AreaLevel.GEMEENTE, AreaLevel.GEBIED):
        intro = [report.t("koppelkansen_intro", scope=target.name, **words)]
    else:
        if target.level is AreaLevel.WIJK:
            key = "koppelkansen_wijk" if shown else "koppelkansen_wijk_absent"
        else:
            key = "koppelkansen_buurt" if shown else "koppelkansen_absent"
        intro = [report.t(key, gemeente=gemeente_name(report), **words)]
        own = target.values.get("koppelkans")
        if target.level is AreaLevel.BUURT and not shown and not fmt.is_missing(own):
            intro.append(
                report.t("koppelkansen_own", name=target.name, value=report.value("score", own))
            )
    rows = [
        {
            "rank": rank,
            "code": str(r.get("code", "")),
            "name": str(r.get("name", r.get("code", ""))),
            "koppelkans": fmt.value(r.get("koppelkans"), "score", lang),
            "share_heat": fmt.value(r.get("share_heat"), "share", lang),
            "share_water": fmt.value(r.get("share_water"), "share", lang),
            "priority": fmt.value(r.get("priority"), "score", lang),
            "highlight": r.get("code") == target.code,
        }
        for rank, r in shown
    ]
    return {"intro": " ".join(intro), "rows": rows, "note": _koppelkansen_note(report, scalars)}


def _koppelkansen_note(report: AreaReport, scalars: dict[str, Any]) -> str:
    heat = scalars.get("heat_layer")
    note = report.t(
        "koppelkansen_note",
        level=scalars.get("level", "–"),
        heat_layer="–" if heat is None else report.label(str(heat)),
    )
    others = [
        f"{k}: {fmt.cell(v, report.lang)}"
        for k, v in scalars.items()
        if k not in ("level", "heat_layer")
    ]
    return " ".join([note, *others])


def build_opportunities(report: AreaReport, section: SectionSpec) -> dict[str, Any] | None:
    """The area units with the largest opportunity and their three best measures."""
    records, scalars = records_of(report.document("opportunities"))
    scored = [r for r in records if isinstance(first_of(r, OPPORTUNITY_KEYS), int | float)]
    if not scored:
        return None
    scored.sort(key=lambda r: -float(first_of(r, OPPORTUNITY_KEYS)))
    ranked = list(enumerate(scored, start=1))
    target = report.target
    if target.level in (AreaLevel.GEMEENTE, AreaLevel.GEBIED):
        shown = ranked[:TOP_AREAS]
        intro = report.t("opportunities_intro", count=len(shown), scope=target.name)
    else:
        shown = in_scope(report, ranked)
        intro = "" if shown else report.t("opportunities_absent", name=target.name)
    rows = [
        {
            "rank": rank,
            "code": str(r.get("code", "")),
            "name": str(r.get("name", r.get("code", ""))),
            "opportunity": fmt.value(first_of(r, OPPORTUNITY_KEYS), "score", report.lang),
            "share_gain": fmt.value(first_of(r, GAIN_SHARE_KEYS), "share", report.lang),
            "measures": measure_lines(first_of(r, MEASURE_LIST_KEYS), report),
            "highlight": r.get("code") == target.code,
        }
        for rank, r in shown
    ]
    note = " ".join(f"{k}: {fmt.cell(v, report.lang)}" for k, v in scalars.items())
    return {"intro": intro, "rows": rows, "note": note}


def measure_lines(measures: Any, report: AreaReport) -> list[str]:
    """``name (€ low–high)`` for each of the best measures of an area unit."""
    if not isinstance(measures, list):
        return []
    lines = []
    for item in measures[:BEST_MEASURES]:
        entry = item if isinstance(item, dict) else {"key": item}
        key = str(entry.get("key") or "")
        name = entry.get(f"name_{report.lang}") or entry.get("name") or measure_name(key, report)
        lines.append(f"{name} ({euro_range(cost_of(entry), report)})")
    return lines


def measure_name(key: str, report: AreaReport) -> str:
    """The catalogue name of a measure in the report's language (its key if unknown)."""
    catalogue = load_catalogue()
    return catalogue.get(key).name(report.lang) if key in catalogue else key


def cost_of(entry: Mapping[str, Any]) -> tuple[float, float] | None:
    """A cost range in euro from ``cost_eur: [low, high]`` (None when the cost is unknown)."""
    pair = entry.get("cost_eur")
    if (
        isinstance(pair, list | tuple)
        and len(pair) == 2
        and all(isinstance(v, int | float) for v in pair)
    ):
        return float(pair[0]), float(pair[1])
    return None


def euro_range(cost: tuple[float, float] | None, report: AreaReport) -> str:
    """``€ 1.200–3.400`` in the report's language, or that the cost is unknown."""
    if cost is None:
        return report.t("cost_unknown")
    low, high = (fmt.number(v, 0, report.lang) for v in cost)
    return f"€ {low}" if low == high else f"€ {low}–{high}"
