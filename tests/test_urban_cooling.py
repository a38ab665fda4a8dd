"""Urban Cooling against natcap.invest 3.20.2's own outputs (golden files), bad inputs, KNMI, heat.

The golden cases come from ``tests/golden/urban_cooling/generate.py``, which ran natcap.invest
itself; these tests only read the stored files.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from invest_golden import raster_difference, rewrite_raster
from rasterio.transform import from_origin

from biostresstest.analysis import urban_cooling as uc
from biostresstest.core.errors import BiostresstestError, CRSMismatch, InvalidInput
from biostresstest.core.settings import Settings
from biostresstest.invest_cli import invest
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes
from biostresstest.pipeline.common import RunContext
from biostresstest.pipeline.heat import HEAT_LAYERS, UHI_MAX_C, heat_step
from biostresstest.pipeline.invest_uc import UrbanCoolingArgs, run_urban_cooling
from biostresstest.sources import knmi
from biostresstest.sources.base import FetchedFile, fetch

GOLDEN = Path(__file__).parent / "golden" / "urban_cooling"
MANIFEST = json.loads((GOLDEN / "manifest.json").read_text("utf-8"))
CASES = sorted(MANIFEST["cases"])
TOLERANCE = {"cc.tif": 1e-6, "hm.tif": 1e-6, "T_air.tif": 1e-4}


def case_args(folder: Path, args: dict[str, Any]) -> UrbanCoolingArgs:
    return UrbanCoolingArgs(
        lulc=folder / args["lulc_raster_path"],
        ref_eto=folder / args["ref_eto_raster_path"],
        aoi=folder / args["aoi_vector_path"],
        biophysical_table=folder / args["biophysical_table_path"],
        green_area_cooling_distance=args["green_area_cooling_distance"],
        t_air_average_radius=args["t_air_average_radius"],
        t_ref=args["t_ref"],
        uhi_max=args["uhi_max"],
        weights=uc.CoolingWeights(
            args.get("cc_weight_shade", 0.6),
            args.get("cc_weight_albedo", 0.2),
            args.get("cc_weight_eti", 0.2),
        ),
    )


def assert_matches_golden(case: str, out: Path) -> None:
    """Every InVEST output equals ours within its tolerance, same grid, dtype, nodata and mask."""
    for name in MANIFEST["cases"][case]["outputs"]:
        worst, valid = raster_difference(GOLDEN / case / "expected" / name, out / name)
        assert valid > 1000, f"{case}/{name}: too few valid cells to prove anything"
        assert worst <= TOLERANCE[name], f"{case}/{name}: max |diff| {worst}"


# --------------------------------------------------------------------------------------------
# Golden cases
# --------------------------------------------------------------------------------------------


def test_manifest_records_the_invest_version() -> None:
    assert MANIFEST["versions"]["natcap.invest"] == "3.20.2"
    assert set(CASES) >= {"basic", "park", "nodata", "grid"}


@pytest.mark.parametrize("case", ["basic", "park"])
def test_golden_cases_exercise_park_cooling(case: str) -> None:
    """InVEST's hm differs from cc where a park >= 2 ha within reach cools more than the cell."""
    folder = GOLDEN / case / "expected"
    with rasterio.open(folder / "cc.tif") as cc_ds, rasterio.open(folder / "hm.tif") as hm_ds:
        cc, hm = cc_ds.read(1), hm_ds.read(1)
    valid = cc != -1
    assert (hm[valid] > cc[valid] + 1e-3).sum() >= 50
    assert (hm[valid] == cc[valid]).sum() > 100


@pytest.mark.parametrize("case", CASES)
def test_pipeline_reproduces_invest(case: str, tmp_path: Path) -> None:
    spec = MANIFEST["cases"][case]
    result = run_urban_cooling(case_args(GOLDEN / case / "input", spec["args"]), tmp_path)
    assert {p.name for p in result.outputs.values()} == set(spec["outputs"])
    assert_matches_golden(case, tmp_path)


def test_cli_reproduces_invest(tmp_path: Path) -> None:
    spec = MANIFEST["cases"]["park"]["args"]
    folder = GOLDEN / "park" / "input"
    argv = ["urban-cooling", "--out", str(tmp_path / "out")]
    argv += ["--lulc", str(folder / spec["lulc_raster_path"])]
    argv += ["--ref-eto", str(folder / spec["ref_eto_raster_path"])]
    argv += ["--aoi", str(folder / spec["aoi_vector_path"])]
    argv += ["--biophysical-table", str(folder / spec["biophysical_table_path"])]
    for key in ("green_area_cooling_distance", "t_air_average_radius", "t_ref", "uhi_max"):
        argv += [f"--{key.replace('_', '-')}", str(spec[key])]
    for key in ("cc_weight_shade", "cc_weight_albedo", "cc_weight_eti"):
        argv += [f"--{key.replace('_', '-')}", str(spec[key])]
    result = CliRunner().invoke(invest, argv, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "T_air:" in result.output
    assert_matches_golden("park", tmp_path / "out")


def test_arrays_interface_matches_the_pipeline(tmp_path: Path) -> None:
    """urban_cooling() on arrays gives the pipeline's numbers; NaN outside ``valid``."""
    spec = MANIFEST["cases"]["basic"]
    run_urban_cooling(case_args(GOLDEN / "basic" / "input", spec["args"]), tmp_path)
    with rasterio.open(tmp_path / "cc.tif") as ds:
        bounds, cc_ref = ds.bounds, ds.read(1)
    inp = GOLDEN / "basic" / "input"
    with rasterio.open(inp / "lulc.tif") as ds:
        lulc = ds.read(1, window=rasterio.windows.from_bounds(*bounds, transform=ds.transform))
    with rasterio.open(inp / "ref_eto.tif") as ds:
        eto = ds.read(1, window=rasterio.windows.from_bounds(*bounds, transform=ds.transform))
    assert lulc.shape == cc_ref.shape
    rows = list(csv.DictReader((inp / "biophysical.csv").read_text("utf-8").splitlines()))
    lut = {int(r["LUCODE"]): r for r in rows}
    layer = {
        name: np.array([[float(lut[int(c)][col]) for c in row] for row in lulc], np.float32)
        for name, col in (
            ("shade", "Shade"),
            ("albedo", "Albedo"),
            ("kc", "Kc"),
            ("green", "Green_area"),
        )
    }
    args = spec["args"]
    valid = np.ones(lulc.shape, bool)
    valid[:5, :] = False
    out = uc.urban_cooling(
        layer["shade"],
        layer["albedo"],
        layer["kc"],
        layer["green"],
        eto,
        cell_size=10.0,
        green_area_cooling_distance=args["green_area_cooling_distance"],
        t_air_average_radius=args["t_air_average_radius"],
        t_ref=args["t_ref"],
        uhi_max=args["uhi_max"],
    )
    assert np.abs(out["cc"] - cc_ref).max() <= 1e-6
    assert {a.dtype for a in out.values()} == {np.dtype(np.float32)}
    masked = uc.urban_cooling(
        layer["shade"], layer["albedo"], layer["kc"], layer["green"], eto,
        cell_size=10.0, green_area_cooling_distance=100.0, t_air_average_radius=100.0,
        t_ref=21.5, uhi_max=2.3, valid=valid,
    )  # fmt: skip
    assert np.isnan(masked["t_air"][:5]).all() and np.isfinite(masked["t_air"][5:]).all()
    t = masked["t_air"][5:]
    assert (t >= 21.5 - 1e-4).all() and (t <= 21.5 + 2.3 + 1e-4).all()


def test_weights_are_divided_by_their_sum() -> None:
    assert uc.CoolingWeights(0.6, 0.2, 0.2).normalised() == pytest.approx((0.6, 0.2, 0.2))
    assert uc.CoolingWeights(1.0, 1.0, 0.0).normalised() == (0.5, 0.5, 0.0)
    with pytest.raises(InvalidInput):
        uc.CoolingWeights(0.0, 0.0, 0.0).normalised()


def test_class_parameters_follow_the_class_table() -> None:
    table = load_classes()
    codes = np.array(
        [[0, table.by_key("loofbos").code], [table.by_key("pand").code, 250]], np.uint8
    )
    layers = uc.class_parameters(codes, table)
    assert layers["green_area"][0, 1] == 1.0 and layers["green_area"][1, 0] == 0.0
    assert layers["shade"][0, 1] == pytest.approx(table.by_key("loofbos").shade.value)
    assert layers["kc"][1, 0] == pytest.approx(table.by_key("pand").kc.value)
    assert np.isnan(layers["albedo"][0, 0]) and np.isnan(layers["albedo"][1, 1])


# --------------------------------------------------------------------------------------------
# Bad inputs: every message names the file, the row and the column
# --------------------------------------------------------------------------------------------


@pytest.fixture
def case_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "input"
    shutil.copytree(GOLDEN / "basic" / "input", folder)
    return folder


def basic_args(folder: Path, **changes: Any) -> UrbanCoolingArgs:
    args = case_args(folder, MANIFEST["cases"]["basic"]["args"])
    return UrbanCoolingArgs(**{**args.__dict__, **changes})


def message_of(
    args: UrbanCoolingArgs, tmp_path: Path, kind: type[BiostresstestError] = InvalidInput
) -> str:
    with pytest.raises(kind) as info:
        run_urban_cooling(args, tmp_path / "out")
    assert not (tmp_path / "out" / "cc.tif").exists()
    return info.value.message


def test_missing_column(case_copy: Path, tmp_path: Path) -> None:
    table = case_copy / "biophysical.csv"
    table.write_text(table.read_text("utf-8").replace("Albedo", "Albedos"), "utf-8")
    message = message_of(basic_args(case_copy), tmp_path)
    assert (
        f"{table}, row 1, column 'albedo': the biophysical table has no column 'albedo'" in message
    )


def test_value_outside_0_1_and_all_problems_at_once(case_copy: Path, tmp_path: Path) -> None:
    table = case_copy / "biophysical.csv"
    lines = table.read_text("utf-8").splitlines()
    lines[3] = "3,0.1,0,1.5,0.2"  # shade 1.5 on row 4
    lines[5] = "5,0.9,maybe,0,0.25"  # green_area not 0/1 on row 6
    table.write_text("\n".join(lines) + "\n", "utf-8")
    message = message_of(basic_args(case_copy, uhi_max=-1.0), tmp_path)
    assert message.startswith("3 problem(s)")
    assert f"{table}, row 4, column 'shade': 1.5 is outside 0..1" in message
    assert (
        f"{table}, row 6, column 'green_area': 'maybe' is not one of 0, 1, true, false" in message
    )
    assert "--uhi-max: -1.0 must be >= 0" in message


def test_land_cover_value_missing_from_table(case_copy: Path, tmp_path: Path) -> None:
    table = case_copy / "biophysical.csv"
    lines = table.read_text("utf-8").splitlines()
    table.write_text("\n".join(line for line in lines if not line.startswith("8,")) + "\n", "utf-8")
    message = message_of(basic_args(case_copy), tmp_path)
    assert f"{case_copy / 'lulc.tif'}: land-cover value 8 (" in message
    assert f"is missing from {table} column 'lucode'" in message


def test_geographic_crs_is_refused(case_copy: Path, tmp_path: Path) -> None:
    lulc = case_copy / "lulc.tif"
    rewrite_raster(lulc, crs="EPSG:4326", transform=from_origin(5.0, 52.0, 1e-4, 1e-4))
    message = message_of(basic_args(case_copy), tmp_path, CRSMismatch)
    assert f"{lulc}: the land cover must be in a projected CRS in metres" in message


def test_no_overlap_is_refused(case_copy: Path, tmp_path: Path) -> None:
    import geopandas as gpd
    import shapely

    far = gpd.GeoDataFrame(geometry=[shapely.box(0, 300_000, 1000, 301_000)], crs="EPSG:28992")
    far.to_file(case_copy / "far.gpkg", driver="GPKG")
    message = message_of(basic_args(case_copy, aoi=case_copy / "far.gpkg"), tmp_path)
    assert "do not overlap" in message and "far.gpkg" in message


def test_radius_below_half_a_cell_is_refused(case_copy: Path, tmp_path: Path) -> None:
    message = message_of(basic_args(case_copy, t_air_average_radius=4.0), tmp_path)
    assert "t_air_average_radius 4 m is less than half a cell (10 m)" in message


# --------------------------------------------------------------------------------------------
# KNMI weather and the heat step
# --------------------------------------------------------------------------------------------


def test_knmi_heat_parameters_from_the_mirror(settings: Settings, mirror: Path) -> None:
    fetched = fetch(knmi.SPEC, settings)
    days = knmi.read_daily(fetched, "Gilze-Rijen")
    assert len(days) == 367 and days[0].day.isoformat() == "2019-10-01"
    hottest = max(days, key=lambda d: d.max_temp)
    assert (hottest.day.isoformat(), hottest.max_temp, hottest.ref_evaporation) == (
        "2020-08-08",
        36.2,
        4.8,
    )
    with (mirror / knmi.SPEC.mirror_path).open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["station"] == "Gilze-Rijen"]
    hot = [r for r in rows if float(r["max_temp"]) >= 25]
    found = knmi.heat_parameters(days)
    assert found.summer_days == len(hot) == 45
    assert found.tropical_days == sum(float(r["max_temp"]) >= 30 for r in rows)
    assert found.t_ref == pytest.approx(np.mean([float(r["max_temp"]) for r in hot]), abs=1e-3)
    assert found.ref_eto == pytest.approx(
        np.mean([float(r["crop_evaporation"]) for r in hot]), abs=1e-3
    )
    assert knmi.read_daily(fetched, "370")[0].station == "Eindhoven"
    with pytest.raises(InvalidInput, match="no days of station 'Utrecht'"):
        knmi.read_daily(fetched, "Utrecht")


def test_knmi_native_csv_is_read_in_tenths(tmp_path: Path) -> None:
    path = tmp_path / "daggegevens.csv"
    path.write_text(
        "# BRON: KONINKLIJK NEDERLANDS METEOROLOGISCH INSTITUUT (KNMI)\n"
        "# STN,YYYYMMDD,   TG,   TN,   TX, EV24\n"
        "  350,20200808,  273,  160,  362,   48\n"
        "  350,20200809,  279,  216,  353,   47\n"
        "  350,20200810,  201,  150,  240,   30\n",
        "utf-8",
    )
    days = knmi.read_daily(FetchedFile(knmi.SPEC, path, "", "", ""), "Gilze-Rijen")
    assert [d.max_temp for d in days] == pytest.approx([36.2, 35.3, 24.0])
    found = knmi.heat_parameters(days)
    assert (found.summer_days, found.tropical_days) == (2, 2)
    assert found.t_ref == pytest.approx(35.75) and found.ref_eto == pytest.approx(4.75)


def test_heat_step_on_a_small_grid(settings: Settings) -> None:
    table = load_classes()
    code = {k: table.by_key(k).code for k in ("pand", "weg_lokaal", "loofbos", "gras_openbaar")}
    classes = np.full((80, 90), code["pand"], np.uint8)
    classes[::10, :] = code["weg_lokaal"]
    classes[30:60, 30:65] = code["loofbos"]  # a 10.5 ha wood
    classes[5:12, 70:80] = code["gras_openbaar"]
    classes[:, :4] = 0  # outside the area
    grid = AnalysisGrid(xmin=110_000.0, ymax=400_000.0, width=90, height=80, cell_size=10.0)
    ctx = RunContext.create(settings, None, None)
    weather = fetch(knmi.SPEC, settings)
    first = heat_step(ctx, classes, grid, weather, depends="test")
    assert set(HEAT_LAYERS) <= set(first)
    t_ref = first["parameters"]["t_ref"]
    air = first["air_temperature"]
    assert air.dtype == np.float32 and np.isnan(air[:, :4]).all()
    inside = air[:, 4:]
    assert np.isfinite(inside).all()
    assert (inside >= t_ref - 1e-4).all() and (inside <= t_ref + UHI_MAX_C + 1e-4).all()
    assert air[45, 47] < air[70, 10]  # the wood is cooler than the built-up corner
    hm, cc = first["heat_mitigation"], first["cooling_capacity"]
    assert (hm[:, 4:] >= cc[:, 4:] - 1e-7).all() and (hm[:, 4:] > cc[:, 4:] + 0.05).any()
    second = heat_step(ctx, classes, grid, weather, depends="test")
    assert second["key"] == first["key"] and ctx.log.entries["heat"]["cached"] is True
    assert np.array_equal(second["air_temperature"], air, equal_nan=True)
