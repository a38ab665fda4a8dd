"""Build the Urban Cooling golden files by running natcap.invest 3.20.2 itself.

Run it with the project's venv (it needs numpy, rasterio and geopandas)::

    .venv/bin/python tests/golden/urban_cooling/generate.py [--invest-venv /tmp/invest-venv]

It writes each synthetic case's inputs (land cover, ET0 raster, AOI, biophysical table) into
``<case>/input/`` from fixed seeds, runs ``natcap.invest.urban_cooling_model.execute`` with
``cc_method=factors`` in a temporary workspace, stores ``cc.tif``, ``hm.tif`` and ``T_air.tif``
(re-compressed with DEFLATE) in ``<case>/expected/`` and records versions, arguments and
checksums in ``manifest.json``. ``tests/golden/_invest_cases.py`` builds natcap.invest in the
venv if it lacks it (the recipe of ``shared/reference/invest.md`` §1); ``--out DIR`` writes the
files into another folder, ``--only CASE ...`` remakes some cases.
The tests read only the stored files: CI has no natcap.invest.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _invest_cases as golden

HERE = Path(__file__).resolve().parent
ORIGIN = (155_000.0, 463_000.0)
OUTPUTS = ("cc.tif", "hm.tif", "T_air.tif")
# code, name, kc, green_area, shade, albedo
CLASSES = (
    (1, "building", 0.0, 0, 0.0, 0.15),
    (2, "road", 0.0, 0, 0.05, 0.1),
    (3, "paved", 0.1, 0, 0.1, 0.2),
    (4, "garden", 0.7, 1, 0.3, 0.2),
    (5, "grass", 0.9, 1, 0.0, 0.25),
    (6, "trees", 1.0, 1, 0.8, 0.15),
    (7, "water", 1.05, 0, 0.0, 0.08),
    (8, "shrubs", 0.85, 1, 0.5, 0.18),
)


def town(rng: np.random.Generator, shape: tuple[int, int], park: bool = True) -> np.ndarray:
    """A town: buildings, paved yards, gardens, streets, scattered green, a pond, a park."""
    base = golden.smooth_field(rng, shape, 8)
    lulc = np.full(shape, 3, np.int16)
    lulc[base > 0.45] = 1
    lulc[(base > 0.3) & (base <= 0.45)] = 4
    lulc[base < 0.22] = 5
    lulc[base < 0.15] = 8
    rows, cols = shape
    for r in range(int(rng.integers(3, 9)), rows, int(rng.integers(18, 26))):
        lulc[r : r + 2, :] = 2
    for c in range(int(rng.integers(3, 9)), cols, int(rng.integers(20, 30))):
        lulc[:, c : c + 2] = 2
    if park:  # a park of about 3 ha with trees and a pond
        r0, c0 = rows // 3, cols // 3
        lulc[r0 : r0 + 18, c0 : c0 + 18] = 6
        lulc[r0 + 5 : r0 + 10, c0 + 6 : c0 + 12] = 7
        lulc[r0 + 12 : r0 + 18, c0 : c0 + 8] = 5
    return lulc


def eto_field(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """ET0 in mm for a hot day: 4..6 with a smooth gradient."""
    return (4.0 + 2.0 * golden.smooth_field(rng, shape, 15)).astype(np.float32)


@dataclass
class Case:
    """A golden case."""

    name: str
    note: str
    lulc: np.ndarray
    eto: np.ndarray
    aoi: shapely.Geometry
    params: dict[str, Any]
    lulc_pixel: tuple[float, float] = (10.0, 10.0)
    lulc_nodata: float | None = None
    eto_pixel: tuple[float, float] = (10.0, 10.0)
    eto_origin: tuple[float, float] = ORIGIN
    eto_nodata: float | None = None
    aoi_crs: str = "EPSG:28992"
    table_header: tuple[str, ...] = ("lucode", "kc", "green_area", "shade", "albedo")
    extra: dict[str, Any] = field(default_factory=dict)


def default_params(**changes: Any) -> dict[str, Any]:
    params = {
        "t_ref": 21.5,
        "uhi_max": 2.3,
        "t_air_average_radius": 100.0,
        "green_area_cooling_distance": 100.0,
    }
    params.update(changes)
    return params


def case_basic(rng: np.random.Generator) -> Case:
    shape = (110, 130)
    x0, y0 = ORIGIN
    return Case(
        "basic",
        "a town with a 3 ha park, ET0 on the same grid, an AOI smaller than the raster "
        "(outputs are cropped to its bbox), mixed-case column names",
        town(rng, shape),
        eto_field(rng, shape),
        shapely.box(x0 + 35, y0 - 1070, x0 + 1255, y0 - 45),
        default_params(),
        table_header=("LUCODE", "Kc", "Green_area", "Shade", "Albedo"),
    )


def case_park(rng: np.random.Generator) -> Case:
    shape = (150, 150)
    x0, y0 = ORIGIN
    lulc = town(rng, shape)
    lulc[90:130, 20:70] = 6  # a 20 ha wood: its park cooling reaches 450 m
    return Case(
        "park",
        "InVEST's recommended distances (450 m cooling, 500 m air mixing) on a 1.5 km town "
        "with a 20 ha wood and a 3 ha park; custom weights 0.5/0.3/0.2",
        lulc,
        eto_field(rng, shape),
        shapely.box(x0 - 100, y0 - 1600, x0 + 1600, y0 + 100),
        default_params(
            green_area_cooling_distance=450.0,
            t_air_average_radius=500.0,
            t_ref=24.1,
            uhi_max=3.5,
            cc_weight_shade=0.5,
            cc_weight_albedo=0.3,
            cc_weight_eti=0.2,
        ),
    )


def case_nodata(rng: np.random.Generator) -> Case:
    shape = (120, 120)
    x0, y0 = ORIGIN
    lulc = town(rng, shape).astype(np.int32)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    lulc[(yy - 60) ** 2 + (xx - 60) ** 2 > 55**2] = -9999
    eto = eto_field(rng, shape)
    eto[20:35, 40:70] = -1.0  # ET0 nodata inside the land cover
    return Case(
        "nodata",
        "land cover nodata -9999 outside a disc; ET0 nodata -1 in a block inside it",
        lulc,
        eto,
        shapely.box(x0, y0 - 1200, x0 + 1200, y0),
        default_params(green_area_cooling_distance=150.0, t_air_average_radius=80.0),
        lulc_nodata=-9999,
        eto_nodata=-1.0,
    )


def case_grid(rng: np.random.Generator) -> Case:
    shape = (96, 104)  # 12.5 x 10 m pixels: resampled to 10 m squares
    x0, y0 = ORIGIN
    eto = eto_field(rng, (40, 48))  # a 30 m ET0 grid, shifted and partly outside
    return Case(
        "grid",
        "non-square land-cover pixels (12.5 x 10 m), ET0 on a shifted 30 m grid covering part "
        "of the land cover (cubic-spline resampled), an AOI in EPSG:4326",
        town(rng, shape),
        eto,
        shapely.box(x0 - 50, y0 - 1000, x0 + 1400, y0 + 50),
        default_params(green_area_cooling_distance=120.0, t_air_average_radius=140.0),
        lulc_pixel=(12.5, 10.0),
        eto_pixel=(30.0, 30.0),
        eto_origin=(x0 + 95.0, y0 - 25.0),
        aoi_crs="EPSG:4326",
    )


CASE_BUILDERS: tuple[Callable[[np.random.Generator], Case], ...] = (
    case_basic,
    case_park,
    case_nodata,
    case_grid,
)


def write_case(case: Case, folder: Path) -> dict[str, Any]:
    """Write the inputs into ``folder/input`` and return InVEST's args (relative paths)."""
    inp = golden.fresh_input(folder)
    golden.write_raster(inp / "lulc.tif", case.lulc, ORIGIN, case.lulc_pixel, case.lulc_nodata)
    golden.write_raster(
        inp / "ref_eto.tif", case.eto, case.eto_origin, case.eto_pixel, case.eto_nodata
    )
    frame = gpd.GeoDataFrame({"name": ["aoi"]}, geometry=[case.aoi], crs="EPSG:28992")
    frame.to_crs(case.aoi_crs).to_file(inp / "aoi.gpkg", driver="GPKG")
    lines = [",".join(case.table_header)]
    for code, _name, kc, green, shade, albedo in CLASSES:
        lines.append(f"{code},{kc:g},{green},{shade:g},{albedo:g}")
    (inp / "biophysical.csv").write_text("\n".join(lines) + "\n", "utf-8")
    return {
        "lulc_raster_path": "lulc.tif",
        "ref_eto_raster_path": "ref_eto.tif",
        "aoi_vector_path": "aoi.gpkg",
        "biophysical_table_path": "biophysical.csv",
        "cc_method": "factors",
        **case.params,
    }


def main() -> None:
    """Write every case, run InVEST on it and store the outputs."""
    opts = golden.options(__doc__.splitlines()[0], HERE)
    python = golden.invest_python(opts.invest_venv)
    packages = ("natcap.invest", "pygeoprocessing", "gdal", "numpy")
    manifest_path = opts.out / "manifest.json"
    manifest = golden.read_manifest(manifest_path, {"cases": {}})
    manifest["generator"] = "tests/golden/urban_cooling/generate.py"
    manifest["versions"] = golden.invest_versions(python, packages)
    manifest["tolerance"] = {"cc": 1e-6, "hm": 1e-6, "T_air": 1e-4}
    for case in golden.seeded_cases(CASE_BUILDERS, 20261128, opts.only):
        folder = opts.out / case.name
        args = write_case(case, folder)
        full = golden.absolute_args(args, folder / "input")
        full.update(do_energy_valuation=False, do_productivity_valuation=False)
        model = "natcap.invest.urban_cooling_model"
        stored, _ = golden.run_case(python, model, full, folder / "expected", OUTPUTS)
        manifest["cases"][case.name] = {
            "note": case.note,
            "args": args,
            "outputs": stored,
            "sha256": golden.file_hashes(folder),
        }
        print(f"{case.name}: done")
    golden.write_manifest(manifest_path, manifest)


if __name__ == "__main__":
    main()
