"""The "scenarios compared" section: the saved scenarios of the area, side by side.

Saved scenarios live beside the store, in ``<data dir>/scenarios/<area>/`` (see
:mod:`biostresstest.measures.scenario`), so the report needs the settings to find them; their
summaries come from :func:`biostresstest.pipeline.scenarios.saved_scenarios`. Each one is shown
with its measures, the mean score of the whole area before and after, the cost range and the
years to full effect. A wijk or buurt report shows only the scenarios with a place in it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import shapely
from shapely.errors import ShapelyError

from biostresstest.core.errors import BiostresstestError
from biostresstest.core.settings import Settings
from biostresstest.measures import scenario as saved
from biostresstest.model.areas import AreaLevel
from biostresstest.pipeline import scenarios as pipeline_scenarios
from biostresstest.reports import fmt
from biostresstest.reports.charts import Bar, bar_chart
from biostresstest.reports.kansen import euro_range, gemeente_name, measure_name
from biostresstest.reports.pdf import Asset

if TYPE_CHECKING:
    from biostresstest.reports.sections import AreaReport
    from biostresstest.reports.spec import SectionSpec

log = logging.getLogger(__name__)
MAX_SCENARIOS = 20
DESCRIPTION_CHARS = 160
GAIN_COLOUR = "#1a9850"
SCORE_DECIMALS = 5
"""A scenario moves the mean score of a whole gemeente in the fourth or fifth decimal."""


def saved_scenarios(settings: Settings | None, area: str) -> list[dict[str, Any]]:
    """The summaries of the saved scenarios of ``area`` (a store key); none without settings."""
    if settings is None:
        return []
    try:
        return pipeline_scenarios.saved_scenarios(settings, area)
    except BiostresstestError as exc:  # an area key that cannot name a scenario folder
        log.warning("no saved scenarios of %s in the report: %s", area, exc)
        return []


def touches(scenario: dict[str, Any], report: AreaReport) -> bool:
    """Whether a place of ``scenario`` lies in the report's area unit (always for the whole)."""
    if report.target.level in (AreaLevel.GEMEENTE, AreaLevel.GEBIED) or report.settings is None:
        return True
    try:
        places = saved.load(report.settings.data_dir, report.target.key, scenario["name"])["places"]
    except (BiostresstestError, OSError, ValueError, KeyError):
        return True  # summarised but unreadable now: show it rather than hide it
    for place in places:
        try:
            if shapely.from_wkt(str(place["wkt"])).intersects(report.target.geometry):
                return True
        except (ShapelyError, ValueError, KeyError, TypeError):
            continue
    return False


def _keys(text: Any) -> list[str]:
    """Measure keys from the comma-separated text of a summary."""
    return [k.strip() for k in str(text or "").split(",") if k.strip()]


def build_scenarios(report: AreaReport, section: SectionSpec) -> dict[str, Any] | None:
    """The saved scenarios of the area (those with a place in the unit) side by side."""
    chosen = [s for s in report.saved_scenarios() if touches(s, report)][:MAX_SCENARIOS]
    if not chosen:
        return None
    lang = report.lang
    rows: list[dict[str, Any]] = []
    bars: list[Bar] = []
    for scenario in chosen:
        name = str(scenario.get("name", "?"))
        before, after = scenario.get("score_before"), scenario.get("score_after")
        gain = None
        if isinstance(before, int | float) and isinstance(after, int | float):
            gain = float(after) - float(before)
        gain_text = "–" if gain is None else _signed(gain, lang)
        window = scenario.get("window_gain")
        places = scenario.get("places")
        rows.append(
            {
                "name": name,
                "description": str(scenario.get("description") or "")[:DESCRIPTION_CHARS],
                "measures": [measure_name(k, report) for k in _keys(scenario.get("measures"))],
                "places": "" if places is None else report.t("places_count", n=places),
                "before_after": f"{_score(before, lang)} → {_score(after, lang)}",
                "gain": gain_text,
                "window_gain": _signed(window, lang) if isinstance(window, int | float) else "–",
                "cost": _cost_text(scenario, report),
                "years": fmt.value(scenario.get("years_to_full_effect"), "number", lang),
            }
        )
        bars.append(Bar(name, max(gain or 0.0, 0.0), gain_text, GAIN_COLOUR))
    top = max((b.value for b in bars), default=0.0) or 1.0
    chart = bar_chart(bars, lambda v: fmt.number(v, SCORE_DECIMALS, lang), maximum=top)
    report.assets["scenarios.svg"] = Asset(chart, "image/svg+xml")
    notes = [report.t("scenarios_intro", scope=gemeente_name(report))]
    if report.target.level in (AreaLevel.WIJK, AreaLevel.BUURT):
        notes.append(report.t("scenarios_here", name=report.target.name))
    return {"intro": " ".join(notes), "rows": rows, "chart": "scenarios.svg"}


def _cost_text(scenario: dict[str, Any], report: AreaReport) -> str:
    """The total cost range, and which measures have no or only a partial cost."""
    low, high = scenario.get("cost_low_eur"), scenario.get("cost_high_eur")
    unknown, parts = _keys(scenario.get("cost_unknown")), []
    if isinstance(low, int | float) and isinstance(high, int | float) and (high > 0 or not unknown):
        parts.append(euro_range((float(low), float(high)), report))
    for keys, text_id in (
        (unknown, "cost_unknown"),
        (_keys(scenario.get("cost_partial")), "cost_partial"),
    ):
        if keys:
            names = ", ".join(measure_name(k, report) for k in keys)
            parts.append(f"{report.t(text_id)}: {names}")
    return "; ".join(parts) or euro_range(None, report)


def _score(value: Any, lang: str) -> str:
    return "–" if fmt.is_missing(value) else fmt.number(float(value), SCORE_DECIMALS, lang)


def _signed(value: float, lang: str) -> str:
    text = fmt.number(abs(value), SCORE_DECIMALS, lang)
    return ("+" if value >= 0 else "−") + text
