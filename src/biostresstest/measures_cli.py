"""``biostresstest measures list`` and ``biostresstest scenario run | list | compare``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from biostresstest.core.errors import InvalidInput
from biostresstest.core.settings import get_settings


@click.group()
def measures() -> None:
    """The measures catalogue (maatregelen)."""


@measures.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
@click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", show_default=True)
def measures_list(as_json: bool, lang: str) -> None:
    """Print every measure: key, name, for whom, cost range and sources."""
    from biostresstest.measures.catalogue import AUDIENCE_NAMES, load_catalogue

    catalogue = load_catalogue()
    if as_json:
        click.echo(json.dumps([m.as_dict(lang) for m in catalogue], ensure_ascii=False, indent=1))
        return
    for m in catalogue:
        who = ", ".join(AUDIENCE_NAMES[a][1 if lang == "en" else 0] for a in m.audience)
        cost = (
            f"€{m.cost.low:g}–{m.cost.high:g} per {m.cost.unit}"
            if m.cost.known
            else ("cost unknown (m)" if lang == "en" else "kosten onbekend (m)")
        )
        if m.cost.partial:
            cost += " (partial: not all priced)" if lang == "en" else " (deels geprijsd)"
        click.echo(f"{m.key}: {m.name(lang)}")
        click.echo(f"    {m.description(lang)}")
        click.echo(f"    {who} · {cost} · {m.years_to_effect:g} yr · {', '.join(m.sources)}")
    click.echo(f"\n{len(catalogue)} measures; catalogue {catalogue.digest}")


@click.group()
def scenario() -> None:
    """Scenarios with measures (met maatregelen): run, list, compare."""


@scenario.command("run")
@click.option("--area", required=True, help="A published area: otterlo or a gemeente code.")
@click.option("--name", required=True, help="Name to save the scenario under.")
@click.option("--measure", "measure_keys", multiple=True, required=True, help="Measure key.")
@click.option("--polygon", "polygons", multiple=True, help="A place as WKT in RD New.")
@click.option(
    "--geojson", "geojson", type=click.Path(exists=True, dir_okay=False), default=None,
    help="A GeoJSON file in RD New: one place per feature (one --measure for all, or one each).",
)  # fmt: skip
@click.option("--soil-group", default="B", show_default=True, help="Hydrologic soil group A–D.")
@click.option("--replace", is_flag=True, help="Overwrite a saved scenario of the same name.")
@click.option("--try", "try_only", is_flag=True, help="Run and print, but do not save.")
def scenario_run(
    area: str,
    name: str,
    measure_keys: tuple[str, ...],
    polygons: tuple[str, ...],
    geojson: str | None,
    soil_group: str,
    replace: bool,
    try_only: bool,
) -> None:
    """Apply measures to places, recompute, print the deltas and save the scenario."""
    from biostresstest.pipeline.scenarios import run_scenario

    shapes: list[object] = list(polygons)
    if geojson:
        data = json.loads(Path(geojson).read_text("utf-8"))
        shapes += [f["geometry"] for f in data.get("features", [])] or [data]
    if not shapes:
        raise InvalidInput("give a place with --polygon WKT or --geojson FILE")
    if len(measure_keys) not in (1, len(shapes)):
        raise InvalidInput(
            f"{len(measure_keys)} measures for {len(shapes)} places",
            hint="give one --measure for all places, or one per place in the same order",
        )
    keys = list(measure_keys) * len(shapes) if len(measure_keys) == 1 else list(measure_keys)
    places = [
        {"measure": k, "wkt" if isinstance(s, str) else "geojson": s}
        for k, s in zip(keys, shapes, strict=True)
    ]
    data = run_scenario(
        get_settings(),
        area,
        name,
        places,
        soil_group=soil_group,
        save=not try_only,
        replace=replace and not try_only,
    )
    _print_result(data)


def _print_result(data: dict[str, object]) -> None:
    result = data["result"]
    assert isinstance(result, dict)
    score = result["score"]
    click.echo(f"scenario {data['name']} on {data['area']} ({result['seconds']} s)")
    for extent in ("place", "window", "area"):
        s = score[extent]
        click.echo(f"  score {extent:6}: {s['before']} → {s['after']}")
    click.echo(
        f"  classes in the window: {score['window']['classes_before']} → "
        f"{score['window']['classes_after']}"
    )
    for name, c in result["components"].items():
        click.echo(f"  {name:16}: {c['window_before']} → {c['window_after']} (window)")
    for event in result["water"]["events"]:
        click.echo(
            f"  rain {event['event']:18} {event['rain_mm']:g} mm: kept "
            f"{event['kept_m3_before']} → {event['kept_m3_after']} m³"
        )
    cost = result["cost"]
    unknown = f" (+ unknown: {', '.join(cost['unknown'])})" if cost["unknown"] else ""
    click.echo(f"  cost: €{cost['total_eur'][0]:,.0f}–{cost['total_eur'][1]:,.0f}{unknown}")
    if "file" in data:
        click.echo(f"  saved: {data['file']}")


@scenario.command("list")
@click.option("--area", required=True)
def scenario_list(area: str) -> None:
    """The saved scenarios of an area."""
    from biostresstest.measures.scenario import list_names
    from biostresstest.model.areas import normalise_area_key

    for name in list_names(get_settings().data_dir, normalise_area_key(area)):
        click.echo(name)


@scenario.command("compare")
@click.argument("a")
@click.argument("b")
@click.option("--area", required=True)
def scenario_compare(a: str, b: str, area: str) -> None:
    """Two saved scenarios side by side."""
    from biostresstest.measures.scenario import compare
    from biostresstest.model.areas import normalise_area_key

    result = compare(get_settings().data_dir, normalise_area_key(area), a, b)
    rows = [k for k in result["a"] if k not in ("name", "places")]
    click.echo(f"{'':24}{a:>24}{b:>24}")
    for row in rows:
        click.echo(f"{row:24}{result['a'][row]!s:>24}{result['b'][row]!s:>24}")
    click.echo(f"difference b − a: {result['difference_b_minus_a']}")
