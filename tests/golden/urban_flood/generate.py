"""Build the Urban Flood Risk Mitigation golden files by running natcap.invest 3.20.2 itself.

Run it with the project's venv (it needs numpy, rasterio and geopandas)::

    .venv/bin/python tests/golden/urban_flood/generate.py [--invest-venv /tmp/invest-venv]

``tests/golden/_invest_cases.py`` builds natcap.invest 3.20.2 in the venv if it lacks it (the
recipe of ``shared/reference/invest.md`` §1). For each synthetic case it writes the inputs
(EPSG:28992 land cover, soil groups, AOI, CN table) into ``<case>/input/`` from fixed seeds, runs
``natcap.invest.urban_flood_risk_mitigation`` in a temporary workspace, stores InVEST's rasters
(DEFLATE) in ``<case>/expected/`` and writes ``manifest.json`` (versions, arguments, SHA-256 of
every file); ``--out DIR`` writes the files into another folder, ``--only CASE ...`` remakes some
cases. The tests read only these files.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _invest_cases as golden

HERE = Path(__file__).resolve().parent
ORIGIN = (112_000.0, 400_000.0)  # near Breda, top-left corner
OUTPUTS = (
    "Runoff_retention_index.tif",
    "Runoff_retention_m3.tif",
    "Q_mm.tif",
    "intermediate_files/Q_m3.tif",
    "intermediate_files/cn_raster.tif",
    "intermediate_files/s_max.tif",
)
CN_ROWS = (  # lucode, cn_a..cn_d: TR-55-like values, one class at CN 100 (no retention)
    (1, 98, 98, 98, 98),
    (2, 76, 85, 89, 91),
    (3, 39, 61, 74, 80),
    (4, 30, 55, 70, 77),
    (5, 67, 78, 85, 89),
    (6, 100, 100, 100, 100),
    (7, 12.5, 33.3, 47.25, 59.9),
)


def cases() -> dict[str, dict[str, Any]]:
    """Every case: rasters, AOI box, rain depth and notes."""
    rng = np.random.default_rng(20261128)
    lulc = rng.integers(1, 8, size=(30, 40)).astype("uint8")
    soil = rng.integers(1, 5, size=(30, 40)).astype("uint8")
    full = (ORIGIN[0], ORIGIN[1] - 300, ORIGIN[0] + 400, ORIGIN[1])
    holes_lulc = lulc.copy()
    holes_lulc[rng.random(lulc.shape) < 0.1] = 255
    holes_soil = soil.copy()
    holes_soil[rng.random(soil.shape) < 0.1] = 0
    coarse_soil = rng.integers(1, 5, size=(15, 20)).astype("uint8")
    return {
        "basic": {
            "lulc": (lulc, 10.0, None), "soil": (soil, 10.0, None), "aoi": full, "rain": 70.0,
            "notes": "same 10 m grid, AOI = the raster extent, 70 mm",
        },
        "nodata": {
            "lulc": (holes_lulc, 10.0, 255), "soil": (holes_soil, 10.0, 0), "aoi": full,
            "rain": 140.0, "notes": "10 % nodata in each raster, 140 mm",
        },
        "crop": {
            "lulc": (lulc, 10.0, None), "soil": (coarse_soil, 20.0, None),
            "aoi": (ORIGIN[0] + 35, ORIGIN[1] - 255, ORIGIN[0] + 333, ORIGIN[1] - 42),
            "rain": 25.0,
            "notes": "soil at 20 m (mode resampling), AOI inside the rasters off the grid, 25 mm",
        },
    }  # fmt: skip


def main() -> None:
    """Write every case, run InVEST on it and store its outputs."""
    opts = golden.options(__doc__.splitlines()[0], HERE)
    python = golden.invest_python(opts.invest_venv)
    head = {
        "generator": "tests/golden/urban_flood/generate.py",
        "invest": golden.invest_versions(python, ("natcap.invest",))["natcap.invest"],
        "tolerance": 1e-6,
    }
    manifest_path = opts.out / "manifest.json"
    manifest = golden.read_manifest(manifest_path, {**head, "cases": {}})
    manifest.update(head)
    for name, case in cases().items():
        if opts.only and name not in opts.only:
            continue
        folder = opts.out / name
        inp = golden.fresh_input(folder)
        for layer in ("lulc", "soil"):
            array, cell, nodata = case[layer]
            golden.write_raster(
                inp / f"{layer}.tif", array, ORIGIN, (cell, cell), nodata, compress=None
            )
        aoi = gpd.GeoDataFrame({"ws_id": [1]}, geometry=[box(*case["aoi"])], crs="EPSG:28992")
        aoi.to_file(inp / "aoi.gpkg")
        with (inp / "cn.csv").open("w", encoding="utf-8") as handle:
            handle.write("lucode,CN_A,CN_B,CN_C,CN_D\n")
            handle.writelines(",".join(str(v) for v in row) + "\n" for row in CN_ROWS)
        args = {
            "results_suffix": "",
            "aoi_watersheds_path": str(inp / "aoi.gpkg"),
            "rainfall_depth": case["rain"],
            "lulc_path": str(inp / "lulc.tif"),
            "soils_hydrological_group_raster_path": str(inp / "soil.tif"),
            "curve_number_table_path": str(inp / "cn.csv"),
            "built_infrastructure_vector_path": "",
            "infrastructure_damage_loss_table_path": "",
            "n_workers": -1,
        }
        model = "natcap.invest.urban_flood_risk_mitigation"
        expected = folder / "expected"
        golden.run_case(python, model, args, expected, OUTPUTS, validate=False, interleave="band")
        manifest["cases"][name] = {
            "rainfall_depth": case["rain"],
            "notes": case["notes"],
            "files": golden.file_hashes(folder),
        }
    golden.write_manifest(manifest_path, manifest, sort_cases=False)  # in the order made


if __name__ == "__main__":
    main()
