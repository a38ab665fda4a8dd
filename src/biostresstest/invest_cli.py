"""The ``invest`` command group: InVEST models on InVEST's own inputs (part of the cli layer).

Register it on the main command with ``main.add_command(invest)``. Errors of biostresstest
(:class:`~biostresstest.core.errors.BiostresstestError`) propagate to the caller, which prints
them; ``python -m biostresstest.invest_cli`` runs the group on its own.
"""

from __future__ import annotations

from pathlib import Path

import click

_FILE = click.Path(exists=False, dir_okay=False, path_type=Path)
_out_option = click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder.",
)
_compress_option = click.option(
    "--compress",
    type=click.Choice(["none", "lzw", "zstd", "deflate"]),
    default="none",
    show_default=True,
    help="GeoTIFF compression (InVEST uses lzw).",
)


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
@_out_option
@_compress_option
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


@invest.command("urban-flood")
@click.option("--lulc", required=True, type=_FILE, help="Land cover (GeoTIFF).")
@click.option("--aoi", required=True, type=_FILE, help="Watersheds / area of interest (vector).")
@click.option("--rainfall-depth", required=True, type=float, help="Design storm depth P in mm.")
@click.option(
    "--soils-hydrological-group",
    "soils",
    required=True,
    type=_FILE,
    help="Hydrologic soil groups 1..4 = A..D (GeoTIFF).",
)
@click.option("--curve-number-table", required=True, type=_FILE, help="CSV: lucode, cn_a..cn_d.")
@_out_option
def urban_flood(
    lulc: Path,
    aoi: Path,
    rainfall_depth: float,
    soils: Path,
    curve_number_table: Path,
    out_dir: Path,
) -> None:
    """Urban Flood Risk Mitigation: Q_mm, Runoff_retention_index/_m3 as InVEST 3.20.2 writes."""
    from biostresstest.pipeline.invest_uf import UrbanFloodArgs, run_urban_flood

    args = UrbanFloodArgs(lulc, aoi, rainfall_depth, soils, curve_number_table)
    result = run_urban_flood(args, out_dir)
    for name, path in result.outputs.items():
        click.echo(f"{name}: {path}")
    click.echo(f"done in {result.seconds:.2f} s")


@invest.command("urban-cooling")
@click.option("--lulc", required=True, type=_FILE, help="Land cover (GeoTIFF, projected).")
@click.option("--ref-eto", required=True, type=_FILE, help="Reference evapotranspiration (mm).")
@click.option("--aoi", required=True, type=_FILE, help="Area of interest (vector).")
@click.option(
    "--biophysical-table",
    required=True,
    type=_FILE,
    help="CSV: lucode, kc, green_area, shade, albedo.",
)
@click.option("--green-area-cooling-distance", required=True, type=float, help="Metres.")
@click.option("--t-air-average-radius", required=True, type=float, help="Metres.")
@click.option("--t-ref", required=True, type=float, help="Rural reference temperature (°C).")
@click.option("--uhi-max", required=True, type=float, help="Urban heat island magnitude (°C).")
@click.option("--cc-weight-shade", type=float, default=0.6, show_default=True)
@click.option("--cc-weight-albedo", type=float, default=0.2, show_default=True)
@click.option("--cc-weight-eti", type=float, default=0.2, show_default=True)
@_out_option
@_compress_option
def urban_cooling(
    lulc: Path,
    ref_eto: Path,
    aoi: Path,
    biophysical_table: Path,
    green_area_cooling_distance: float,
    t_air_average_radius: float,
    t_ref: float,
    uhi_max: float,
    cc_weight_shade: float,
    cc_weight_albedo: float,
    cc_weight_eti: float,
    out_dir: Path,
    compress: str,
) -> None:
    """Urban Cooling (cc_method=factors): cc, hm and T_air as InVEST 3.20.2 writes them."""
    from biostresstest.analysis.urban_cooling import CoolingWeights
    from biostresstest.pipeline.invest_uc import UrbanCoolingArgs, run_urban_cooling

    args = UrbanCoolingArgs(
        lulc=lulc,
        ref_eto=ref_eto,
        aoi=aoi,
        biophysical_table=biophysical_table,
        green_area_cooling_distance=green_area_cooling_distance,
        t_air_average_radius=t_air_average_radius,
        t_ref=t_ref,
        uhi_max=uhi_max,
        weights=CoolingWeights(cc_weight_shade, cc_weight_albedo, cc_weight_eti),
    )
    result = run_urban_cooling(args, out_dir, compress=compress)
    for name, path in result.outputs.items():
        click.echo(f"{name}: {path}")
    click.echo(f"done in {result.seconds:.2f} s")


if __name__ == "__main__":
    invest()
