"""The ``invest`` command group: InVEST models on InVEST's own inputs (part of the cli layer).

Register it on the main command with ``main.add_command(invest)``. Errors of biostresstest
(:class:`~biostresstest.core.errors.BiostresstestError`) propagate to the caller, which prints
them; ``python -m biostresstest.invest_cli`` runs the group on its own.
"""

from __future__ import annotations

from pathlib import Path

import click

_FILE = click.Path(exists=False, dir_okay=False, path_type=Path)


@click.group()
def invest() -> None:
    """InVEST models, computed as natcap.invest 3.20.2 does, from InVEST's own input files."""


@invest.command("habitat-quality")
@click.option("--lulc-cur", required=True, type=_FILE, help="Current land cover (GeoTIFF).")
@click.option("--lulc-fut", type=_FILE, help="Future land cover (needs fut_path per threat).")
@click.option("--lulc-bas", type=_FILE, help="Baseline land cover (rarity).")
@click.option("--threats", required=True, type=_FILE, help="Threats table (CSV).")
@click.option("--sensitivity", required=True, type=_FILE, help="Sensitivity table (CSV).")
@click.option(
    "--half-saturation", required=True, type=float, help="Half-saturation constant k > 0."
)
@click.option("--access", type=_FILE, help="Polygons with an 'access' field 0..1.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder.",
)
@click.option(
    "--compress",
    type=click.Choice(["none", "lzw", "zstd", "deflate"]),
    default="none",
    show_default=True,
    help="GeoTIFF compression (InVEST uses lzw).",
)
def habitat_quality(
    lulc_cur: Path,
    lulc_fut: Path | None,
    lulc_bas: Path | None,
    threats: Path,
    sensitivity: Path,
    half_saturation: float,
    access: Path | None,
    out_dir: Path,
    compress: str,
) -> None:
    """Habitat Quality: deg_sum_*, quality_*, rarity_* as InVEST 3.20.2 writes them."""
    from biostresstest.pipeline.invest_hq import HabitatQualityArgs, run_habitat_quality

    args = HabitatQualityArgs(
        lulc_cur=lulc_cur,
        threats_table=threats,
        sensitivity_table=sensitivity,
        half_saturation=half_saturation,
        lulc_fut=lulc_fut,
        lulc_bas=lulc_bas,
        access_vector=access,
    )
    result = run_habitat_quality(args, out_dir, compress=compress)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    for name, path in result.outputs.items():
        click.echo(f"{name}: {path}")
    click.echo(f"done in {result.seconds:.2f} s")


if __name__ == "__main__":
    invest()
