"""The report context: everything a report shows, read from the store for an area or a point.

Every figure comes from the published run (area values, cell layers, documents, manifest); the
sections of ``data/report.toml`` are included only when their data is there.
"""

from __future__ import annotations

from typing import Any

from biostresstest.core.settings import Settings
from biostresstest.model.areas import AreaLevel
from biostresstest.model.landcover import load_classes
from biostresstest.model.store import Store
from biostresstest.pipeline.common import INDICATOR_LAYERS
from biostresstest.reports import fmt
from biostresstest.reports.charts import Bar, bar_chart
from biostresstest.reports.maps import MapRequest, render_map
from biostresstest.reports.pdf import Asset
from biostresstest.reports.sections import (
    BUILDERS,
    AreaReport,
    class_colour,
    confidence_rows,
    ranked_buurten,
)
from biostresstest.reports.spec import ReportSpec, check_language, load_spec
from biostresstest.reports.target import (
    AreaTarget,
    PointTarget,
    class_shares,
    resolve_area,
    resolve_point,
)

ADDRESS_WINDOW_M = 600.0
"""Width of the map around an address."""
KEY_COLUMNS = ("green_share", "natura2000_share", "data_coverage")


def attribution(manifest: dict[str, Any], lang: str, spec: ReportSpec) -> str:
    """The sources line printed under every map."""
    parts = [
        f"{i.get('publisher')}, {i.get('title')} ({i.get('edition')}, {i.get('licence')})"
        for i in manifest.get("inputs", [])
    ]
    return f"{spec.text('map_source', lang)}: {'; '.join(parts)}; {spec.text('map_made', lang)}"


def _run(manifest: dict[str, Any], spec: ReportSpec, lang: str) -> dict[str, Any]:
    grid = manifest.get("grid", {})
    created = str(manifest.get("created", ""))[:10]
    return {
        "created": created,
        "version": manifest.get("score_version", "?"),
        "line": spec.text(
            "run_line",
            lang,
            created=manifest.get("created", "?"),
            version=manifest.get("versions", {}).get("biostresstest", "?"),
            crs=grid.get("crs", "?"),
            cell=fmt.value(grid.get("cell_size"), "integer", lang),
            key=manifest.get("key", "?"),
        ),
        "sources": manifest.get("inputs", []),
    }


def _score(report: AreaReport, values: dict[str, Any]) -> dict[str, Any]:
    cls = values.get("score_class")
    cls_value = None if cls is None else int(cls)
    return {
        "value": report.value("score", values.get("score")),
        "class": cls_value,
        "label": report.class_label(cls_value),
        "colour": class_colour(cls_value),
        "ink": "#ffffff" if cls_value in (1, 2, 6, 7) else "#222222",
    }


def _findings(report: AreaReport, shares: dict[int, float]) -> list[str]:
    target, score = report.target, _score(report, report.target.values)
    findings = [
        report.t(
            "finding_score",
            name=target.name,
            score=score["value"],
            cls=score["class"],
            label=score["label"],
        )
    ]
    vulnerable = sum(shares.get(k, 0.0) for k in (1, 2, 3))
    robust = sum(shares.get(k, 0.0) for k in (5, 6, 7))
    findings.append(
        report.t(
            "finding_classes",
            vulnerable=fmt.percent(vulnerable, report.lang),
            robust=fmt.percent(robust, report.lang),
        )
    )
    ranked = report.ranked
    if target.level is AreaLevel.BUURT:
        gemeente = resolve_area(report.store, target.key)
        everyone = ranked_buurten(report.store, gemeente)[0]
        codes = list(everyone["code"])
        findings.append(
            report.t(
                "finding_rank",
                name=target.name,
                rank=codes.index(target.code) + 1,
                count=len(codes),
                gemeente=gemeente.name,
                gemeente_score=report.value("score", gemeente.values.get("score")),
            )
        )
    elif len(ranked) >= 2:
        best, worst = ranked.iloc[0], ranked.dropna(subset=["score"]).iloc[-1]
        findings.append(
            report.t(
                "finding_extremes",
                worst=worst["name"],
                worst_score=report.value("score", worst["score"]),
                worst_class=int(worst["score_class"]),
                best=best["name"],
                best_score=report.value("score", best["score"]),
                best_class=int(best["score_class"]),
            )
        )
    return findings


def _key_figures(report: AreaReport) -> list[dict[str, str]]:
    values = report.target.values
    figures = [
        {
            "label": report.t("area_km2"),
            "value": fmt.number(report.target.geometry.area / 1e6, 1, report.lang) + " km²",
        }
    ]
    if values.get("inwoners") is not None:
        figures.append(
            {
                "label": report.label("inwoners"),
                "value": report.value("inwoners", values["inwoners"]),
            }
        )
    if report.target.level in (AreaLevel.GEMEENTE, AreaLevel.WIJK):
        figures.append({"label": report.t("buurten_count"), "value": str(len(report.ranked))})
    figures += [
        {"label": report.label(c), "value": report.value(c, values.get(c))}
        for c in KEY_COLUMNS
        if c in values
    ]
    confidence = confidence_rows(report)
    if confidence:
        top = confidence[0]
        figures.append(
            {"label": report.t("confidence"), "value": f"{top['label']} ({top['share']})"}
        )
    return figures


def _class_chart(report: AreaReport, shares: dict[int, float]) -> None:
    bars = [
        Bar(f"{k} {report.class_label(k)}", share, fmt.percent(share, report.lang), class_colour(k))
        for k, share in shares.items()
    ]
    chart = bar_chart(bars, lambda v: fmt.percent(v, report.lang), maximum=1.0, width=520)
    report.assets["classes.svg"] = Asset(chart, "image/svg+xml")


def _maps(report: AreaReport, credit: str) -> dict[str, str]:
    target, found = report.target, {}
    context = [] if target.level is AreaLevel.BUURT else list(report.ranked.geometry)
    for map_id, map_spec in report.spec.maps.items():
        if not report.has_raster(map_spec.raster):
            continue
        request = MapRequest(
            report.store,
            target.key,
            map_spec,
            target.geometry.bounds,
            target.geometry,
            credit,
            report.lang,
            context=context,
        )
        report.assets[f"map-{map_id}.png"] = Asset(render_map(request), "image/png")
        found[map_id] = f"map-{map_id}.png"
    return found


def area_context(
    store: Store, area: str, lang: str = "nl", settings: Settings | None = None
) -> tuple[dict[str, Any], dict[str, Asset]]:
    """The context of the report on an area unit, and the images it links.

    ``settings`` name the data folder with the saved scenarios; without them the report has no
    scenario section.
    """
    lang, spec = check_language(lang), load_spec()
    target = resolve_area(store, area)
    manifest = store.manifest(target.key)
    ranked, scope_level = ranked_buurten(store, target)
    scope_name = target.name
    if target.level is AreaLevel.BUURT and scope_level is not None:
        scope_name = str(resolve_area(store, str(target.values.get("parent_code"))).name)
    report = AreaReport(store, target, spec, lang, manifest, ranked, scope_name, settings)
    shares = (
        class_shares(store, target.key, target.geometry) if report.has_raster("score_class") else {}
    )
    if shares:
        _class_chart(report, shares)
    maps = _maps(report, attribution(manifest, lang, spec))
    sections = []
    for section in spec.sections:
        if not report.shows(section):
            continue
        data = BUILDERS[section.template](report, section)
        if data is not None:
            sections.append(
                {
                    "id": section.id,
                    "title": section.title[lang],
                    "template": section.template,
                    "data": data,
                }
            )
    context = {
        "lang": lang,
        "kind": target.level.value,
        "title": spec.text(f"report_{target.level.value}", lang, name=target.name),
        "target": {"code": target.code, "name": target.name, "level": target.level.value},
        "score": _score(report, target.values),
        "key_figures": _key_figures(report),
        "findings": _findings(report, shares) if shares else [],
        "has_class_chart": bool(shares),
        "maps": maps,
        "sections": sections,
        "run": _run(manifest, spec, lang),
        "confidence": confidence_rows(report),
        "cell_size": fmt.value(manifest.get("grid", {}).get("cell_size"), "integer", lang),
    }
    return context, report.assets


def address_context(
    store: Store, x: float, y: float, lang: str = "nl"
) -> tuple[dict[str, Any], dict[str, Asset]]:
    """The context of the one-pager for the place at RD (x, y), and its map."""
    lang, spec = check_language(lang), load_spec()
    point = resolve_point(store, x, y, [*INDICATOR_LAYERS, "score_class", "landcover"])
    unit = point.unit
    manifest = store.manifest(unit.key)
    report = AreaReport(
        store, unit, spec, lang, manifest, ranked_buurten(store, unit)[0], unit.name
    )
    cell_score = _score(report, point.cell)
    unit_score = _score(report, unit.values)
    assets: dict[str, Asset] = {}
    map_spec = spec.maps["score_class"]
    if report.has_raster(map_spec.raster):
        half = ADDRESS_WINDOW_M / 2
        request = MapRequest(
            store,
            unit.key,
            map_spec,
            (x - half, y - half, x + half, y + half),
            unit.geometry,
            attribution(manifest, lang, spec),
            lang,
            marker=(x, y),
            min_extent_m=ADDRESS_WINDOW_M,
            size_px=900,
        )
        assets["map-address.png"] = Asset(render_map(request), "image/png")
    return {
        "lang": lang,
        "kind": "address",
        "title": spec.text("report_address", lang),
        "x": f"{x:.0f}",
        "y": f"{y:.0f}",
        "gemeente": _gemeente_name(store, unit),
        "unit": {"code": unit.code, "name": unit.name, "level": unit.level.value},
        "cell": _cell_rows(report, point),
        "cell_score": cell_score,
        "unit_score": unit_score,
        "comparison": _comparison(report, point),
        "has_map": bool(assets),
        "run": _run(manifest, spec, lang),
        "cell_size": fmt.value(manifest.get("grid", {}).get("cell_size"), "integer", lang),
    }, assets


def _gemeente_name(store: Store, unit: AreaTarget) -> str:
    if unit.level is AreaLevel.GEBIED:
        return unit.name
    return resolve_area(store, unit.key).name


def _cell_rows(report: AreaReport, point: PointTarget) -> list[dict[str, str]]:
    rows = []
    code = point.cell.get("landcover")
    if code:
        land = load_classes().by_code(int(code))
        rows.append(
            {
                "label": report.t("address_landcover"),
                "value": land.name_nl if report.lang == "nl" else land.name_en,
            }
        )
    for column in (
        "score",
        "green_share",
        "natura2000_share",
        "habitat_quality",
        "distance_to_core",
    ):
        if column in point.cell:
            rows.append(
                {"label": report.label(column), "value": report.value(column, point.cell[column])}
            )
    return rows


def _comparison(report: AreaReport, point: PointTarget) -> str:
    here, there = point.cell.get("score"), point.unit.values.get("score")
    if here is None or there is None:
        return ""
    buurt_score = report.value("score", there)
    here_text = report.value("score", here)
    key = "address_compare_same"
    if here_text != buurt_score:
        key = "address_compare_higher" if here > there else "address_compare_lower"
    return report.t(key, buurt_score=buurt_score)
