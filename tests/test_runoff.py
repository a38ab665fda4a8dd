"""Runoff (SCS curve number) by hand, the rain events, and ``invest urban-flood`` against InVEST.

The golden files come from ``tests/golden/urban_flood/generate.py``, which ran natcap.invest
3.20.2's Urban Flood Risk Mitigation itself; CI has no natcap.invest and reads only the files.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from biostresstest.analysis import runoff
from biostresstest.core.errors import CorruptInput, InvalidInput
from biostresstest.core.settings import Settings
from biostresstest.invest_cli import invest
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes
from biostresstest.model.rain_events import load_rain_events, validate_events
from biostresstest.pipeline import climate
from biostresstest.pipeline.common import RunContext
from biostresstest.pipeline.invest_uf import OUTPUTS, UrbanFloodArgs, run_urban_flood

GOLDEN = Path(__file__).parent / "golden" / "urban_flood"
MANIFEST = json.loads((GOLDEN / "manifest.json").read_text("utf-8"))
CASES = sorted(MANIFEST["cases"])


def _package_toml(name: str) -> dict[str, Any]:
    text = resources.files("biostresstest.model").joinpath(f"data/{name}").read_text("utf-8")
    return tomllib.loads(text)


def _by_hand(p: float, cn: float) -> tuple[float, float]:
    """(runoff mm, retention mm) from TR-55 with Ia = 0.2 S, in plain Python floats."""
    s = 25400.0 / cn - 254.0
    ia = 0.2 * s
    q = (p - ia) ** 2 / (p - ia + s) if p > ia else 0.0
    return q, p - q


# --------------------------------------------------------------------------------------------
# The equations by hand
# --------------------------------------------------------------------------------------------


def test_methods_worked_example_paved_and_lawn_at_70_mm() -> None:
    """methods.md §b.3: paved CN 98 keeps ≈ 8 %, lawn on soil B (CN 61) ≈ 90 % of 70 mm."""
    q = runoff.runoff_mm(70.0, np.array([98.0, 61.0]))
    # 98: S = 5.1837, Ia = 1.0367, Q = 68.963² / 74.147 = 64.14 mm
    # 61: S = 162.39, Ia = 32.48,  Q = 37.52² / 199.91 = 7.04 mm
    assert q[0] == pytest.approx(64.14, abs=0.01)
    assert q[1] == pytest.approx(7.04, abs=0.01)
    index = runoff.retention_index(70.0, np.array([98.0, 61.0]))
    assert index[0] == pytest.approx(0.0837, abs=1e-3)
    assert index[1] == pytest.approx(0.8994, abs=1e-3)


def test_retention_of_every_class_soil_and_rain_event_by_hand() -> None:
    raw = _package_toml("landcover.toml")
    events = _package_toml("rain_events.toml")["event"]
    table = load_classes()
    checked = 0
    for cls in raw["class"]:
        for group in "ABCD":
            cn_table = float(cls["curve_number"][group])
            codes = np.array([[cls["code"]]], dtype="uint8")
            cn = runoff.curve_numbers(codes, table, group)
            assert cn[0, 0] == cn_table
            for event in events:
                p = float(event["depth_mm"])
                q_hand, kept_hand = _by_hand(p, cn_table)
                assert runoff.retention_mm(p, cn)[0, 0] == pytest.approx(kept_hand, abs=2e-3)
                assert runoff.runoff_mm(p, cn)[0, 0] == pytest.approx(q_hand, abs=2e-3)
                checked += 1
    assert checked == len(raw["class"]) * 4 * len(events) >= 32 * 4 * 6


def test_small_rain_is_all_kept_and_cn_zero_keeps_everything() -> None:
    # CN 61: Ia = 32.48 mm, so 30 mm never runs off; CN 0 is InVEST's "infinite" retention
    assert runoff.runoff_mm(30.0, np.array([61.0]))[0] == 0.0
    assert runoff.max_retention_mm(np.array([0.0]))[0] == 100000.0
    assert runoff.runoff_mm(500.0, np.array([0.0]))[0] == 0.0
    assert runoff.runoff_mm(70.0, np.array([100.0]))[0] == pytest.approx(70.0)


def test_no_data_classes_and_unknown_soil_give_nan() -> None:
    table = load_classes()
    paved = table.by_key("pand").code
    classes = np.array([[0, paved, paved]], dtype="uint8")
    soil = np.array([[2, 0, 3]])
    cn = runoff.curve_numbers(classes, table, soil)
    assert np.isnan(cn[0, 0]) and np.isnan(cn[0, 1]) and cn[0, 2] == 98
    assert np.isnan(runoff.runoff_mm(70.0, cn)[0, 0])


def test_bad_rain_and_soil_are_refused() -> None:
    with pytest.raises(InvalidInput, match="not > 0"):
        runoff.runoff_mm(0.0, np.array([80.0]))
    with pytest.raises(InvalidInput, match="hydrologic soil group 'E'"):
        runoff.curve_numbers(np.zeros((1, 1), "uint8"), load_classes(), "E")


def test_volume_per_cell() -> None:
    assert runoff.volume_m3(np.array([64.0]), 100.0)[0] == pytest.approx(6.4)


def test_fractions_refine_only_the_coarse_classes_local_cells_keep_their_own_cn(
    settings: Settings,
) -> None:
    """The Groenkaart run: vegetated/bare cells mix by the green share; a cell the gemeente's
    tree register or own land cover decided runs off with its own class's curve number."""
    table = load_classes()
    green, bare = table.by_key("begroeid_onbepaald").code, table.by_key("onbegroeid_onbepaald").code
    wood, pond = table.by_key("loofbos").code, table.by_key("water_stilstaand").code
    assert [table.by_code(c).curve_number.B for c in (green, bare, wood, pond)] == [61, 98, 55, 99]
    classes = np.array([[green, bare, wood, wood, pond, 0]], dtype="uint8")
    share = np.array([[0.7, 0.2, 0.0, np.nan, 0.3, 0.5]], dtype="float32")
    grid = AnalysisGrid(xmin=0, ymax=10, width=6, height=1, cell_size=10.0)
    ctx = RunContext.create(settings, None, None)
    water = climate.water_step(
        ctx, classes, grid, depends="local", fractions={green: share, bare: 1 - share}
    )
    for event in load_rain_events():
        p = event.depth_mm
        q = {cn: _by_hand(p, cn)[0] for cn in (61.0, 98.0, 55.0, 99.0)}
        expected = [
            0.7 * q[61] + 0.3 * q[98],  # Groenkaart cell, 70 % green
            0.2 * q[61] + 0.8 * q[98],  # Groenkaart cell, 20 % green
            q[55],  # register tree where the Groenkaart saw no green at all
            q[55],  # register tree outside the Groenkaart's extent
            q[99],  # the gemeente's own water
        ]
        index = water[f"runoff_retention__{event.key}"][0]
        assert index[:5] == pytest.approx([1 - v / p for v in expected], abs=1e-4)
        assert np.isnan(index[5])  # no class: no runoff
        if event.key == load_rain_events().default:
            assert water["runoff_mm"][0, :5] == pytest.approx(expected, abs=2e-3)
            assert water["runoff_m3"][0, 2] == pytest.approx(q[55] * 100 / 1000, abs=1e-3)


# --------------------------------------------------------------------------------------------
# Rain events
# --------------------------------------------------------------------------------------------


def test_rain_events_load_with_sources_and_the_default() -> None:
    events = load_rain_events()
    assert events.default_event.depth_mm == 70 and events.default_event.duration_h == 2
    assert {e.duration_h for e in events} == {1, 2, 48}
    assert all(e.source in events.sources and e.verified for e in events)
    assert events.by_key("kea_140mm_2h").return_period_years == 1000
    with pytest.raises(InvalidInput, match="unknown rain event"):
        events.by_key("100mm")


def test_rain_event_table_problems_are_all_listed() -> None:
    data = _package_toml("rain_events.toml")
    data["event"][0]["depth_mm"] = -5
    data["event"][1]["source"] = "nowhere"
    data["event"][2]["key"] = data["event"][3]["key"]
    data["meta"]["default"] = "gone"
    with pytest.raises(CorruptInput) as info:
        validate_events(data)
    message = info.value.message
    assert "event regio_70mm_1h: depth_mm: -5" in message
    assert "unknown source id 'nowhere'" in message
    assert "key: duplicate" in message and "default: 'gone'" in message


# --------------------------------------------------------------------------------------------
# invest urban-flood against InVEST 3.20.2's own outputs
# --------------------------------------------------------------------------------------------


def assert_matches_golden(case: str, out: Path) -> None:
    for relative, nodata in OUTPUTS.values():
        with (
            rasterio.open(GOLDEN / case / "expected" / relative) as want,
            rasterio.open(out / relative) as got,
        ):
            assert got.dtypes[0] == "float32" and got.nodata == nodata == want.nodata
            assert got.transform.almost_equals(want.transform) and got.shape == want.shape
            a, b = want.read(1), got.read(1)
            assert np.array_equal(a == nodata, b == nodata), relative
            assert np.allclose(a, b, rtol=0, atol=MANIFEST["tolerance"]), relative


def _argv(case: str, out: Path, folder: Path | None = None) -> list[str]:
    folder = folder or GOLDEN / case / "input"
    return [
        "urban-flood",
        "--lulc", str(folder / "lulc.tif"),
        "--aoi", str(folder / "aoi.gpkg"),
        "--rainfall-depth", str(MANIFEST["cases"][case]["rainfall_depth"]),
        "--soils-hydrological-group", str(folder / "soil.tif"),
        "--curve-number-table", str(folder / "cn.csv"),
        "--out", str(out),
    ]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_cli_reproduces_invest(case: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(invest, _argv(case, tmp_path / "out"), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Runoff_retention_index" in result.output
    assert_matches_golden(case, tmp_path / "out")


def test_golden_files_are_the_ones_invest_wrote() -> None:
    import hashlib

    for case in CASES:
        for name, digest in MANIFEST["cases"][case]["files"].items():
            data = (GOLDEN / case / name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == digest, f"{case}/{name}"


@pytest.fixture
def case_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "input"
    shutil.copytree(GOLDEN / "basic" / "input", folder)
    return folder


def _run(folder: Path, tmp_path: Path, rain: float = 70.0) -> None:
    args = UrbanFloodArgs(
        folder / "lulc.tif", folder / "aoi.gpkg", rain, folder / "soil.tif", folder / "cn.csv"
    )
    run_urban_flood(args, tmp_path / "out")


def test_table_errors_name_file_row_and_column(case_copy: Path, tmp_path: Path) -> None:
    lines = (case_copy / "cn.csv").read_text("utf-8").splitlines()
    lines[2] = lines[2].replace("76", "130", 1)  # row 3: lucode 2, cn_a
    lines[4] = "x," + lines[4].split(",", 1)[1]  # row 5: lucode
    (case_copy / "cn.csv").write_text("\n".join(lines) + "\n", "utf-8")
    with pytest.raises(InvalidInput) as info:
        _run(case_copy, tmp_path, rain=-1)
    message = info.value.message
    assert f"{case_copy / 'cn.csv'}, row 3, column 'cn_a': '130' is not a number" in message
    assert f"{case_copy / 'cn.csv'}, row 5, column 'lucode'" in message
    assert "--rainfall-depth: -1 must be > 0" in message
    assert not (tmp_path / "out").exists()


def test_missing_column_and_missing_lucode(case_copy: Path, tmp_path: Path) -> None:
    text = (case_copy / "cn.csv").read_text("utf-8")
    (case_copy / "cn.csv").write_text(text.replace("CN_D", "CN_X"), "utf-8")
    with pytest.raises(InvalidInput, match=r"row 1, column 'cn_d': required column is missing"):
        _run(case_copy, tmp_path)
    rows = text.splitlines()
    kept = [r for r in rows if not r.startswith("3,")]
    (case_copy / "cn.csv").write_text("\n".join(kept), "utf-8")
    with pytest.raises(InvalidInput) as info:
        _run(case_copy, tmp_path)
    assert "no row for lucode(s) [3]" in info.value.message
    assert "cn.csv" in info.value.message and "first at pixel row" in info.value.message


def test_soil_values_outside_1_to_4(case_copy: Path, tmp_path: Path) -> None:
    with rasterio.open(case_copy / "soil.tif", "r+") as ds:
        soil = ds.read(1)
        soil[4, 7] = 5
        ds.write(soil, 1)
    with pytest.raises(InvalidInput) as info:
        _run(case_copy, tmp_path)
    assert "values [5.0] are not soil groups 1, 2, 3, 4" in info.value.message
    assert "first at pixel row 5, column 8" in info.value.message


def test_unreadable_and_missing_files(case_copy: Path, tmp_path: Path) -> None:
    (case_copy / "lulc.tif").write_bytes(b"not a tiff")
    (case_copy / "aoi.gpkg").unlink()
    with pytest.raises(InvalidInput) as info:
        _run(case_copy, tmp_path)
    assert "lulc.tif: land cover: not a raster GDAL can read" in info.value.message
    assert "aoi.gpkg: AOI vector: file not found" in info.value.message


def test_command_line_prints_the_error_and_exits_2(case_copy: Path, tmp_path: Path) -> None:
    (case_copy / "cn.csv").write_text("lucode,cn_a\n1,98\n", "utf-8")
    argv = _argv("basic", tmp_path / "o", case_copy)
    done = subprocess.run(
        [sys.executable, "-m", "biostresstest.cli", "invest", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "column 'cn_b': required column is missing" in done.stderr + done.stdout
