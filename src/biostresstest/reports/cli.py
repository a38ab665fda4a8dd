"""``biostresstest report``: a PDF report of an area or an address, from the stored results."""

from __future__ import annotations

from pathlib import Path

import click

from biostresstest.core.errors import InvalidInput
from biostresstest.core.settings import get_settings
from biostresstest.model.stores import open_store
from biostresstest.reports.spec import LANGUAGES


def parse_point(text: str) -> tuple[float, float]:
    """RD New ``x,y`` from ``"112500,400300"``; a clear error for anything else."""
    parts = text.replace(";", ",").split(",")
    try:
        x, y = (float(p) for p in parts)
    except ValueError:
        raise InvalidInput(
            f"{text!r} is not a point x,y in RD New", hint='for example --address "112500,400300"'
        ) from None
    return x, y


@click.command("report")
@click.option("--area", default=None, help="GM0758 (gemeente), WK075801 (wijk) or BU07580101.")
@click.option("--address", default=None, help='A point "x,y" in RD New (EPSG:28992).')
@click.option("--x", "x", type=float, default=None, help="x in RD New (with --y).")
@click.option("--y", "y", type=float, default=None, help="y in RD New (with --x).")
@click.option("--lang", type=click.Choice(LANGUAGES), default="nl", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def report(
    area: str | None,
    address: str | None,
    x: float | None,
    y: float | None,
    lang: str,
    out: Path,
) -> None:
    """Write the PDF report of an area unit or the one-pager of an address."""
    from biostresstest.reports.render import address_report, area_report

    point = parse_point(address) if address is not None else None
    if x is not None or y is not None:
        if x is None or y is None or point is not None:
            raise InvalidInput("give --x and --y together, or --address, not both")
        point = (x, y)
    if (area is None) == (point is None):
        raise InvalidInput(
            "give either --area or an address (--address or --x/--y)",
            hint="for example --area GM0758 or --address 112500,400300",
        )
    settings = get_settings()
    store = open_store(settings)
    rendered = (
        area_report(store, str(area), lang, settings)
        if point is None
        else address_report(store, *point, lang)
    )
    tmp = out.with_name(f".{out.name}.partial")
    tmp.write_bytes(rendered.pdf)
    tmp.replace(out)
    click.echo(f"{out} ({len(rendered.pdf) // 1024} KiB)")
