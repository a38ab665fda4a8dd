"""Build the Urban Flood Risk Mitigation golden files by running natcap.invest 3.20.2 itself.

Run it with the project's venv (it needs numpy, rasterio and geopandas)::

    .venv/bin/python tests/golden/urban_flood/generate.py [--invest-venv /tmp/invest-venv]

The venv must already hold natcap.invest 3.20.2 (build it with
``tests/golden/habitat_quality/generate.py``, the recipe of ``shared/reference/invest.md`` §1).
For each synthetic case it writes the inputs (EPSG:28992 land cover, soil groups, AOI, CN table)
into ``<case>/input/`` from fixed seeds, runs ``natcap.invest.urban_flood_risk_mitigation`` in a
temporary workspace, stores InVEST's rasters (DEFLATE) in ``<case>/expected/`` and writes
``manifest.json`` (versions, arguments, SHA-256 of every file). The tests read only these files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
from affine import Affine
from shapely.geometry import box

HERE = Path(__file__).resolve().parent
INVEST_VERSION = "3.20.2"
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
RUNNER = r"""
import json, logging, sys
logging.basicConfig(level=logging.WARNING)
from natcap.invest import urban_flood_risk_mitigation as ufrm
ufrm.execute(json.loads(sys.argv[1]))
"""


def write_raster(path: Path, array: np.ndarray, cell: float, nodata: float | None) -> None:
    """A GeoTIFF in RD New with its top-left corner at ORIGIN."""
    profile = {
        "driver": "GTiff", "width": array.shape[1], "height": array.shape[0], "count": 1,
        "dtype": array.dtype.name, "crs": "EPSG:28992", "nodata": nodata,
        "transform": Affine(cell, 0, ORIGIN[0], 0, -cell, ORIGIN[1]),
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(array, 1)


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


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    """Write every case, run InVEST on it and store its outputs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invest-venv", type=Path, default=Path("/tmp/invest-venv"))
    opts = parser.parse_args()
    python = str(opts.invest_venv / "bin" / "python")
    version = subprocess.run(
        [python, "-c", "import natcap.invest as i; print(i.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if version != INVEST_VERSION:
        raise SystemExit(f"{python} has natcap.invest {version}, not {INVEST_VERSION}")
    manifest: dict[str, Any] = {
        "generator": "tests/golden/urban_flood/generate.py",
        "invest": version,
        "tolerance": 1e-6,
        "cases": {},
    }
    for name, case in cases().items():
        folder = HERE / name
        shutil.rmtree(folder, ignore_errors=True)
        (folder / "input").mkdir(parents=True)
        (folder / "expected" / "intermediate_files").mkdir(parents=True)
        write_raster(folder / "input" / "lulc.tif", *case["lulc"])
        write_raster(folder / "input" / "soil.tif", *case["soil"])
        gpd.GeoDataFrame({"ws_id": [1]}, geometry=[box(*case["aoi"])], crs="EPSG:28992").to_file(
            folder / "input" / "aoi.gpkg"
        )
        with (folder / "input" / "cn.csv").open("w", encoding="utf-8") as handle:
            handle.write("lucode,CN_A,CN_B,CN_C,CN_D\n")
            handle.writelines(",".join(str(v) for v in row) + "\n" for row in CN_ROWS)
        with tempfile.TemporaryDirectory(prefix=f"uf-golden-{name}-") as tmp:
            args = {
                "workspace_dir": str(Path(tmp) / "ws"),
                "results_suffix": "",
                "aoi_watersheds_path": str(folder / "input" / "aoi.gpkg"),
                "rainfall_depth": case["rain"],
                "lulc_path": str(folder / "input" / "lulc.tif"),
                "soils_hydrological_group_raster_path": str(folder / "input" / "soil.tif"),
                "curve_number_table_path": str(folder / "input" / "cn.csv"),
                "built_infrastructure_vector_path": "",
                "infrastructure_damage_loss_table_path": "",
                "n_workers": -1,
            }
            subprocess.run([python, "-c", RUNNER, json.dumps(args)], check=True)
            for output in OUTPUTS:
                with rasterio.open(Path(tmp) / "ws" / output) as src:
                    profile = src.profile | {"compress": "deflate", "tiled": False}
                    profile.pop("blockxsize", None)
                    profile.pop("blockysize", None)
                    with rasterio.open(folder / "expected" / output, "w", **profile) as dst:
                        dst.write(src.read())
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        manifest["cases"][name] = {
            "rainfall_depth": case["rain"],
            "notes": case["notes"],
            "files": {str(p.relative_to(folder)): sha256(p) for p in files},
        }
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
