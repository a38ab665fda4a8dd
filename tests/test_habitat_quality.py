"""Habitat Quality against natcap.invest 3.20.2's own outputs (golden files) and bad inputs.

The golden cases come from ``tests/golden/habitat_quality/generate.py``, which ran natcap.invest
itself; these tests only read the stored files.
"""

from __future__ import annotations

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

from biostresstest.analysis import habitat_quality as hq
from biostresstest.analysis import hq_kernels as hk
from biostresstest.core.errors import CRSMismatch, InvalidInput
from biostresstest.invest_cli import invest
from biostresstest.pipeline.invest_hq import HabitatQualityArgs, run_habitat_quality

GOLDEN = Path(__file__).parent / "golden" / "habitat_quality"
MANIFEST = json.loads((GOLDEN / "manifest.json").read_text("utf-8"))
CASES = sorted(MANIFEST["cases"])
TOLERANCE = 1e-6
OPTIONAL = {
    "lulc_fut_path": "lulc_fut",
    "lulc_bas_path": "lulc_bas",
    "access_vector_path": "access_vector",
}
CLI_FLAG = {
    "lulc_cur_path": "--lulc-cur",
    "lulc_fut_path": "--lulc-fut",
    "lulc_bas_path": "--lulc-bas",
    "threats_table_path": "--threats",
    "sensitivity_table_path": "--sensitivity",
    "access_vector_path": "--access",
}


def case_args(folder: Path, args: dict[str, Any]) -> HabitatQualityArgs:
    extra = {OPTIONAL[k]: folder / v for k, v in args.items() if k in OPTIONAL}
    return HabitatQualityArgs(
        lulc_cur=folder / args["lulc_cur_path"],
        threats_table=folder / args["threats_table_path"],
        sensitivity_table=folder / args["sensitivity_table_path"],
        half_saturation=args["half_saturation_constant"],
        **extra,
    )


def assert_matches_golden(case: str, out: Path) -> dict[str, float]:
    """Every stored InVEST output equals ours within the tolerance, with identical masks."""
    diffs = {}
    for name in MANIFEST["cases"][case]["outputs"]:
        expected, ours = GOLDEN / case / "expected" / name, out / name
        assert ours.exists(), f"{case}: we wrote no {name}"
        if name.endswith(".csv"):
            exp_rows = [r.split(",") for r in expected.read_text("utf-8").split()]
            our_rows = [r.split(",") for r in ours.read_text("utf-8").split()]
            assert [r[0] for r in our_rows] == [r[0] for r in exp_rows]
            assert np.allclose(
                [float(r[1]) for r in our_rows[1:]],
                [float(r[1]) for r in exp_rows[1:]],
                rtol=0,
                atol=TOLERANCE,
            )
            continue
        diffs[name], _ = raster_difference(expected, ours)
        assert diffs[name] <= TOLERANCE, f"{case}/{name}: max |diff| {diffs[name]}"
    return diffs


# --------------------------------------------------------------------------------------------
# Golden cases
# --------------------------------------------------------------------------------------------


def test_manifest_records_the_invest_version() -> None:
    assert MANIFEST["versions"]["natcap.invest"] == "3.20.2"
    assert len(CASES) >= 6


@pytest.mark.parametrize("case", CASES)
def test_pipeline_reproduces_invest(case: str, tmp_path: Path) -> None:
    spec = MANIFEST["cases"][case]
    result = run_habitat_quality(case_args(GOLDEN / case / "input", spec["args"]), tmp_path)
    assert {p.name for p in result.outputs.values()} >= set(spec["outputs"])
    assert_matches_golden(case, tmp_path)


@pytest.mark.parametrize("case", CASES)
def test_cli_reproduces_invest(case: str, tmp_path: Path) -> None:
    spec = MANIFEST["cases"][case]
    folder = GOLDEN / case / "input"
    argv = [
        "habitat-quality",
        "--half-saturation",
        str(spec["args"]["half_saturation_constant"]),
        "--out",
        str(tmp_path / "out"),
    ]
    for key, flag in CLI_FLAG.items():
        if key in spec["args"]:
            argv += [flag, str(folder / spec["args"][key])]
    result = CliRunner().invoke(invest, argv, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "deg_sum_c" in result.output
    assert_matches_golden(case, tmp_path / "out")


# --------------------------------------------------------------------------------------------
# Bad inputs: every message names the file, the row and the column
# --------------------------------------------------------------------------------------------


@pytest.fixture
def case_copy(tmp_path: Path) -> Path:
    """A writable copy of the 'linear' case's inputs (threats urban, roads, agri)."""
    folder = tmp_path / "input"
    shutil.copytree(GOLDEN / "linear" / "input", folder)
    return folder


def linear_args(folder: Path, **changes: Any) -> HabitatQualityArgs:
    args = case_args(folder, MANIFEST["cases"]["linear"]["args"])
    return HabitatQualityArgs(**{**args.__dict__, **changes})


def edit_csv(path: Path, row: int, column: str, value: str) -> None:
    lines = [line.split(",") for line in path.read_text("utf-8").splitlines()]
    lines[row - 1][lines[0].index(column)] = value
    path.write_text("\n".join(",".join(line) for line in lines) + "\n", "utf-8")


def problems_of(args: HabitatQualityArgs, tmp_path: Path, kind: type = InvalidInput) -> str:
    with pytest.raises(kind) as info:
        run_habitat_quality(args, tmp_path / "out")
    return info.value.message


def test_missing_threat_column_in_sensitivity(case_copy: Path, tmp_path: Path) -> None:
    sens = case_copy / "sensitivity.csv"
    sens.write_text(sens.read_text("utf-8").replace(",roads,", ",road,", 1), "utf-8")
    message = problems_of(linear_args(case_copy), tmp_path)
    assert f"{sens}, row 1, column 'roads': no column for threat 'roads'" in message
    assert "threats table row 3" in message


def test_sensitivity_outside_0_1(case_copy: Path, tmp_path: Path) -> None:
    sens = case_copy / "sensitivity.csv"
    edit_csv(sens, 5, "agri", "1.5")
    message = problems_of(linear_args(case_copy), tmp_path)
    assert f"{sens}, row 5, column 'agri': 1.5 is outside 0..1" in message


def test_all_problems_are_reported_at_once(case_copy: Path, tmp_path: Path) -> None:
    edit_csv(case_copy / "sensitivity.csv", 3, "habitat", "-0.2")
    edit_csv(case_copy / "threats.csv", 2, "decay", "gaussian")
    edit_csv(case_copy / "threats.csv", 4, "weight", "two")
    message = problems_of(linear_args(case_copy, half_saturation=0.0), tmp_path)
    assert message.startswith("4 problem(s)")
    assert "row 3, column 'habitat': -0.2 is outside 0..1" in message
    assert "threats.csv, row 2, column 'decay': 'gaussian' is not one of" in message
    assert "threats.csv, row 4, column 'weight': 'two' is not a number" in message
    assert "--half-saturation: 0.0 must be > 0" in message


def test_land_cover_value_missing_from_table(case_copy: Path, tmp_path: Path) -> None:
    lulc = case_copy / "lulc_cur.tif"
    with rasterio.open(lulc, "r+") as ds:
        data = ds.read(1)
        data[7, 3] = 42
        data[50, 60] = 42
        ds.write(data, 1)
    message = problems_of(linear_args(case_copy), tmp_path)
    assert (
        f"{lulc}: land-cover value 42 (2 cells, first at row 8, column 4) is missing from "
        f"{case_copy / 'sensitivity.csv'} column 'lucode'"
    ) in message


def test_geographic_crs_is_refused(case_copy: Path, tmp_path: Path) -> None:
    lulc = case_copy / "lulc_cur.tif"
    rewrite_raster(lulc, crs="EPSG:4326", transform=from_origin(5.0, 52.0, 1e-4, 1e-4))
    message = problems_of(linear_args(case_copy), tmp_path, CRSMismatch)
    assert f"{lulc}: the land cover must be in a projected CRS" in message


def test_rasters_that_do_not_overlap(case_copy: Path, tmp_path: Path) -> None:
    threat = case_copy / "threats" / "roads_c.tif"
    rewrite_raster(threat, transform=from_origin(10_000.0, 400_000.0, 10.0, 10.0))
    message = problems_of(linear_args(case_copy), tmp_path)
    assert (
        f"{threat}: threat raster ({case_copy / 'threats.csv'}, row 3, column 'cur_path') "
        "does not overlap the land cover" in message
    )


def test_future_land_cover_that_does_not_overlap(case_copy: Path, tmp_path: Path) -> None:
    fut = case_copy / "lulc_fut.tif"
    far = from_origin(10_000.0, 400_000.0, 10.0, 10.0)
    rewrite_raster(case_copy / "lulc_cur.tif", fut, transform=far)
    message = problems_of(linear_args(case_copy, lulc_fut=fut), tmp_path)
    assert f"{fut}: does not overlap the current land cover" in message
    # and the threats table lacks fut_path, which InVEST requires with a future land cover
    assert "threats.csv, row 1, column 'fut_path': the threats table has no column" not in message
    assert "column 'fut_path': threat 'urban' has no raster for the fut land cover" in message


def test_threat_values_outside_0_1(case_copy: Path, tmp_path: Path) -> None:
    threat = case_copy / "threats" / "agri_c.tif"
    with rasterio.open(threat, "r+") as ds:
        data = ds.read(1)
        data[2, 9] = 3.0
        ds.write(data, 1)
    message = problems_of(linear_args(case_copy), tmp_path)
    assert (
        f"{threat}: threat value 3 at row 3, column 10 is outside 0..1 "
        f"({case_copy / 'threats.csv'}, row 4, column 'cur_path')"
    ) in message


def test_baseline_needs_the_base_path_column(case_copy: Path, tmp_path: Path) -> None:
    message = problems_of(linear_args(case_copy, lulc_bas=case_copy / "lulc_cur.tif"), tmp_path)
    assert "threats.csv, row 1, column 'base_path': the threats table has no column" in message


def test_max_dist_in_kilometres_warns(case_copy: Path, tmp_path: Path) -> None:
    edit_csv(case_copy / "threats.csv", 3, "max_dist", "0.3")
    result = run_habitat_quality(linear_args(case_copy), tmp_path / "out")
    assert len(result.warnings) == 1
    warning = result.warnings[0]
    assert (
        f"{case_copy / 'threats.csv'}, row 3, column 'max_dist': 0.3 looks like kilometres"
        in warning
    )
    assert "Write 300 if you mean 0.3 km" in warning


def test_cli_lets_errors_propagate(case_copy: Path, tmp_path: Path) -> None:
    edit_csv(case_copy / "sensitivity.csv", 2, "urban", "7")
    argv = [
        "habitat-quality",
        "--lulc-cur",
        str(case_copy / "lulc_cur.tif"),
        "--threats",
        str(case_copy / "threats.csv"),
        "--sensitivity",
        str(case_copy / "sensitivity.csv"),
        "--half-saturation",
        "0.05",
        "--out",
        str(tmp_path / "out"),
    ]
    result = CliRunner().invoke(invest, argv)
    assert isinstance(result.exception, InvalidInput)
    assert "sensitivity.csv, row 2, column 'urban': 7 is outside 0..1" in result.exception.message


# --------------------------------------------------------------------------------------------
# Kernels against hand-computed values
# --------------------------------------------------------------------------------------------


def test_distance_transform_by_hand() -> None:
    present = np.zeros((5, 5), bool)
    present[2, 2] = True
    d = hk.distance_transform(present)
    r2, r5, r8 = np.sqrt(np.float32([2, 5, 8]))
    assert d.dtype == np.float32
    assert np.array_equal(d[2], np.float32([2, 1, 0, 1, 2]))
    assert np.array_equal(d[0], [r8, r5, 2, r5, r8])
    assert d[1, 1] == r2


def test_truncated_distance_transform_is_exact_within_reach() -> None:
    rng = np.random.default_rng(7)
    for density in (0.002, 0.02, 0.2):
        present = rng.random((70, 90)) < density
        ys, xs = np.nonzero(present)
        yy, xx = np.mgrid[0:70, 0:90]
        brute = np.sqrt(((yy[..., None] - ys) ** 2 + (xx[..., None] - xs) ** 2).min(axis=-1))
        brute = brute.astype(np.float32)
        assert np.array_equal(hk.distance_transform(present), brute)
        near = hk.distance_transform(present, 6.5)
        reach = brute <= 6.5
        assert np.array_equal(near[reach], brute[reach])
        assert np.all(near[~reach] > 6.5)


def test_empty_threat_is_invests_pseudo_infinity() -> None:
    d = hk.distance_transform(np.zeros((3, 4), bool))
    assert np.array_equal(d[:, 0], np.float32([7, 8, 9]))  # rows + cols + row


def test_decay_by_hand() -> None:
    d = np.float32([0, 1, 4, 4.5])
    assert np.array_equal(hk.decay(d, 4.0, "linear"), np.float32([1, 0.75, 0, 0]))
    e = hk.decay(d, 4.0, "exponential")
    assert e[0] == 1 and e[3] == 0
    assert e[2] == pytest.approx(np.exp(-2.99), rel=1e-6)  # about 5 % at max_dist, 0 beyond
    assert e[1] == pytest.approx(np.exp(-2.99 / 4), rel=1e-6)


def test_degradation_and_quality_by_hand() -> None:
    # one row: a threat at column 0; m = 2 pixels; classes: 0 habitat (sens 1), 1 road (sens 0)
    table = hq.ClassTable(
        np.array([1, 2]),
        np.float32([1.0, 0.0, 0, 0]),
        {"t": np.float32([1.0, 0.0, 0, 0]), "u": np.float32([0.5, 0.0, 0, 0])},
    )
    cls = np.array([[1, 0, 0, 0]], np.uint8)
    present = np.array([[True, False, False, False]])
    t = hq.ThreatSpec("t", 20.0, 3.0, "linear")
    u = hq.ThreatSpec("u", 20.0, 1.0, "linear")
    deg = hq.degradation(cls, [(t, present), (u, present)], table, pixel_m=10.0)
    # column 1: d = 1 -> i = 0.5; deg = 0.5*1*0.75 + 0.5*0.5*0.25 = 0.4375; column 2: d = m -> 0
    assert np.allclose(deg, [[0.0, 0.4375, 0.0, 0.0]])
    q = hq.quality(deg, hq.habitat_of(cls, table), k=0.4375)
    assert np.allclose(q, [[0.0, 0.5, 1.0, 1.0]])  # Q = H/2 where D = k


def test_access_scales_degradation() -> None:
    table = hq.ClassTable(np.array([1]), np.float32([1.0, 0, 0]), {"t": np.float32([1.0, 0, 0])})
    cls = np.zeros((1, 3), np.uint8)
    present = np.array([[True, False, False]])
    spec = hq.ThreatSpec("t", 30.0, 1.0, "linear")
    access = np.float32([[1.0, 0.5, 0.0]])
    deg = hq.degradation(cls, [(spec, present)], table, 10.0, access)
    assert np.allclose(deg, [[1.0, (2 / 3) * 0.5, 0.0]])


def test_rarity_by_hand() -> None:
    n = 3  # classes 0..2, index 3 is nodata
    cur = np.array([[0, 0, 1, 2, 3]], np.uint8)
    bas = np.array([[0, 1, 1, 3, 0]], np.uint8)
    raster, values = hq.rarity(cur, bas, n, area=100.0)
    # class 0: Nx = 2 (both over valid baseline), Nb = 2 -> 0.5; class 1: Nx 1, Nb 2 -> 2/3;
    # class 2 sits on baseline nodata, so it is not counted and its cell is nodata
    assert values == {0: 0.5, 1: pytest.approx(2 / 3)}
    assert raster[0, 3] == np.float32(hq.RARITY_NODATA) and raster[0, 4] == np.float32(
        hq.RARITY_NODATA
    )
    absent = hq.rarity_values(np.array([4]), np.array([0]), 1.0, 1.0)
    assert absent[0] == 0.0  # a class absent from the baseline gets 0


def test_classify_like_pygeoprocessing() -> None:
    codes = np.array([1, 5, 9])
    index, missing = hq.classify(np.array([[5, 9, -1, 7]], np.int16), codes, -1)
    assert index.tolist() == [[1, 2, 3, 4]] and missing.tolist() == [7]
    listed, _ = hq.classify(np.array([[5, -1]], np.int16), np.array([-1, 5]), -1)
    assert listed.tolist() == [[1, 0]]  # a table row for the nodata code makes it a class


def test_threat_presence_like_pygeoprocessing() -> None:
    values = np.float32([[0.0, 0.05, 1.0, -1.0, np.nan]])
    out = np.empty(values.shape, np.uint8)
    first, _ = hk.threat_scan(values, -1.0, out)
    assert first == -1 and out.tolist() == [[0, 1, 1, 0, 1]]  # intensity ignored; NaN counts
    hk.threat_scan(values, float("nan"), out)
    assert out.tolist() == [[0, 1, 1, 1, 1]]  # a NaN nodata is never "close": -1 counts too
    first, bad = hk.threat_scan(np.float32([[0.5, 2.0]]), None, np.empty((1, 2), np.uint8))
    assert (first, bad) == (1, 2.0)


def test_problem_names_file_row_and_column() -> None:
    problem = hq.Problem("t.csv", "is empty", 4, "weight")
    assert str(problem) == "t.csv, row 4, column 'weight': is empty"


@pytest.mark.parametrize("strip", [1, 7, 64])
def test_strips_without_a_halo_give_the_whole_column_distance(strip: int) -> None:
    """Carry from above plus the spilled upward pass equal the one-piece column transform."""
    rng = np.random.default_rng(strip)
    present = (rng.random((150, 90)) > 0.985).astype(np.uint8)
    present[:, 40] = 0  # a column without any threat: stays at the cap
    cap = 23
    whole = hk.column_distance(present, 0, present.shape[0], cap, np.empty(0, np.int32))
    up = np.empty(present.shape, np.uint16)
    carry = np.full(present.shape[1], cap + 1, np.int32)
    for r0 in reversed(range(0, present.shape[0], strip)):
        hk.column_up(present[r0 : r0 + strip], cap, carry, up[r0 : r0 + strip])
    carry = np.full(present.shape[1], cap + 1, np.int32)
    parts = [
        hk.column_down_min(present[r0 : r0 + strip], up[r0 : r0 + strip], cap, carry)
        for r0 in range(0, present.shape[0], strip)
    ]
    assert np.array_equal(np.concatenate(parts), whole)
    assert whole.max() == cap + 1 and (whole[:, 40] == cap + 1).all()
