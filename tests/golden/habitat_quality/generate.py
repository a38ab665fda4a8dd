"""Build the Habitat Quality golden files by running natcap.invest 3.20.2 itself.

Run it with the project's venv (it needs numpy, rasterio and pyogrio)::

    .venv/bin/python tests/golden/habitat_quality/generate.py [--invest-venv /tmp/invest-venv]

It
1. builds natcap.invest 3.20.2 in a separate venv if that venv lacks it (the recipe of
   ``shared/reference/invest.md`` §1 in ``tests/golden/_invest_cases.py``; needs
   ``apt-get install -y libgdal-dev gdal-bin``);
2. writes each synthetic case's inputs (EPSG:28992 land cover, threat rasters, tables, an access
   vector) into ``<case>/input/``, all from fixed seeds;
3. runs ``natcap.invest.habitat_quality.execute`` on each case in a temporary workspace;
4. stores InVEST's outputs, re-compressed with DEFLATE, in ``<case>/expected/``;
5. writes ``manifest.json``: versions, each case's arguments and notes, and every file's SHA-256.

``--out DIR`` writes the files into another folder, ``--only CASE ...`` remakes some cases.

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
ORIGIN = (155_000.0, 463_000.0)  # somewhere near Amersfoort, top-left corner
GOLDEN_OUTPUTS = (
    "deg_sum_c.tif",
    "quality_c.tif",
    "deg_sum_f.tif",
    "quality_f.tif",
    "rarity_c.tif",
    "rarity_f.tif",
    "rarity_c.csv",
    "rarity_f.csv",
)

# Land-cover classes of the synthetic cases: (code, name, habitat, sensitivity per threat kind).
CLASSES = (
    (1, "urban", 0.0),
    (2, "road", 0.0),
    (3, "arable", 0.2),
    (4, "grassland", 0.6),
    (5, "forest", 1.0),
    (6, "heath", 0.9),
    (7, "water", 0.4),
    (8, "wetland", 0.8),
)
SENSITIVITY = {  # threat kind -> sensitivity of classes 1..8
    "urban": (0.0, 0.0, 0.2, 0.5, 0.8, 0.9, 0.3, 0.7),
    "roads": (0.0, 0.0, 0.1, 0.4, 0.7, 0.6, 0.2, 0.9),
    "agri": (0.0, 0.0, 0.0, 0.3, 0.5, 0.75, 0.6, 0.8),
    "industry": (0.0, 0.0, 0.1, 0.2, 0.35, 0.5, 0.45, 1.0),
}


# --------------------------------------------------------------------------------------------
# Synthetic inputs
# --------------------------------------------------------------------------------------------


def landscape(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A land-cover map with classes 1..8: towns, a road grid, farmland, forest, water."""
    rows, cols = shape
    base = golden.smooth_field(rng, shape, 12)
    wet = golden.smooth_field(rng, shape, 20)
    lulc = np.full(shape, 4, dtype=np.int16)  # grassland
    lulc[base < 0.35] = 3  # arable
    lulc[base > 0.62] = 5  # forest
    lulc[(base > 0.5) & (base <= 0.62) & (wet < 0.45)] = 6  # heath
    lulc[wet > 0.72] = 8  # wetland
    lulc[wet > 0.8] = 7  # water
    towns = golden.smooth_field(rng, shape, 9)
    lulc[towns > 0.74] = 1  # urban
    for r in range(int(rng.integers(8, 20)), rows, int(rng.integers(35, 60))):
        lulc[r, :] = 2
    for c in range(int(rng.integers(5, 25)), cols, int(rng.integers(40, 70))):
        lulc[:, c] = 2
    return lulc


@dataclass
class Threat:
    """One row of a threats table and its rasters (name -> array per scenario)."""

    name: str
    kind: str
    max_dist: float
    weight: float
    decay: str
    rasters: dict[str, np.ndarray] = field(default_factory=dict)
    nodata: float | None = None
    dtype: str = "float32"
    pixel: tuple[float, float] = (10.0, 10.0)
    origin: tuple[float, float] = ORIGIN


@dataclass
class Case:
    """A golden case: its land covers, threats and arguments."""

    name: str
    note: str
    lulc: dict[str, np.ndarray]
    threats: list[Threat]
    half_saturation: float
    lulc_nodata: float | None = None
    lulc_pixel: tuple[float, float] = (10.0, 10.0)
    access: list[tuple[shapely.Polygon, float]] | None = None
    base_path_column: bool = False
    sensitivity_rows: list[tuple[int, str, float]] = field(default_factory=lambda: list(CLASSES))


def threat_from(lulc: np.ndarray, codes: tuple[int, ...], value: float = 1.0) -> np.ndarray:
    """A threat raster: ``value`` where the land cover is one of ``codes``, else 0."""
    return np.where(np.isin(lulc, codes), value, 0.0).astype(np.float32)


def point_threats(rng: np.random.Generator, shape: tuple[int, int], n: int) -> np.ndarray:
    """Scattered 2x2 'industry' sites."""
    arr = np.zeros(shape, np.float32)
    for _ in range(n):
        r, c = int(rng.integers(0, shape[0] - 2)), int(rng.integers(0, shape[1] - 2))
        arr[r : r + 2, c : c + 2] = 1.0
    return arr


def case_linear(rng: np.random.Generator) -> Case:
    lulc = landscape(rng, (100, 120))
    threats = [
        Threat("urban", "urban", 600.0, 0.8, "linear", {"cur": threat_from(lulc, (1,))}),
        Threat("roads", "roads", 300.0, 1.0, "linear", {"cur": threat_from(lulc, (2,))}),
        Threat("agri", "agri", 250.0, 0.5, "linear", {"cur": threat_from(lulc, (3,), 0.05)}),
    ]
    return Case(
        "linear",
        "current only, three linear threats; agri threat values are 0.05 (intensity is ignored)",
        {"cur": lulc},
        threats,
        0.05,
    )


def case_mixed(rng: np.random.Generator) -> Case:
    lulc = landscape(rng, (160, 150))
    fut = lulc.copy()
    fut[40:90, 30:100][fut[40:90, 30:100] == 3] = 1  # town growth on farmland
    threats = [
        Threat(
            "Urban ",  # mixed case and a trailing blank: InVEST lowercases and strips
            "urban",
            1000.0,
            0.7,
            "exponential",
            {"cur": threat_from(lulc, (1,)), "fut": threat_from(fut, (1,))},
        ),
        Threat(
            "roads",
            "roads",
            400.0,  # exactly 40 pixels: ties at d == max_dist
            1.0,
            "linear",
            {"cur": threat_from(lulc, (2,)), "fut": threat_from(fut, (2,))},
        ),
        Threat(
            "agri",
            "agri",
            355.0,
            0.4,
            "exponential",
            {"cur": threat_from(lulc, (3,), 0.5), "fut": threat_from(fut, (3,), 0.5)},
        ),
        Threat(
            "industry",
            "industry",
            1500.0,
            0.25,
            "linear",
            {"cur": point_threats(rng, lulc.shape, 6), "fut": point_threats(rng, lulc.shape, 9)},
        ),
    ]
    return Case(
        "mixed",
        "current + future, four threats, linear and exponential decay, a max_dist on the grid",
        {"cur": lulc, "fut": fut},
        threats,
        0.1,
    )


def case_access(rng: np.random.Generator) -> Case:
    lulc = landscape(rng, (120, 100))
    x0, y0 = ORIGIN
    polys = [
        (shapely.box(x0 + 100, y0 - 700, x0 + 600, y0 - 200), 0.2),
        (shapely.box(x0 + 400, y0 - 1100, x0 + 900, y0 - 500), 0.0),  # overlaps the first
        (shapely.Point(x0 + 300, y0 - 950).buffer(180.0), 0.65),
    ]
    threats = [
        Threat("urban", "urban", 800.0, 1.0, "linear", {"cur": threat_from(lulc, (1,))}),
        Threat("roads", "roads", 450.0, 0.6, "exponential", {"cur": threat_from(lulc, (2,))}),
    ]
    return Case(
        "access",
        "access polygons (0.2, 0.0 overlapping it, a 0.65 disc); cells outside get 1",
        {"cur": lulc},
        threats,
        0.08,
        access=polys,
    )


def case_rarity(rng: np.random.Generator) -> Case:
    lulc = landscape(rng, (90, 110))
    bas = landscape(rng, (90, 110))
    bas[bas == 6] = 5  # no heath in the baseline: heath gets rarity 0
    bas[:5, :] = 255  # a nodata strip in the baseline only
    fut = lulc.copy()
    fut[fut == 8] = 3  # wetland drained in the future
    threats = [
        Threat(
            "urban",
            "urban",
            500.0,
            1.0,
            "linear",
            {"cur": threat_from(lulc, (1,)), "fut": threat_from(fut, (1,))},
        ),
        Threat(
            "roads",
            "roads",
            250.0,
            0.5,
            "exponential",
            {"cur": threat_from(lulc, (2,)), "fut": threat_from(fut, (2,))},
        ),
    ]
    return Case(
        "rarity",
        "current + future + baseline (rarity); baseline has nodata 255 and lacks a class",
        {"cur": lulc, "fut": fut, "bas": bas},
        threats,
        0.05,
        lulc_nodata=255,
        base_path_column=True,
    )


def case_nodata(rng: np.random.Generator) -> Case:
    lulc = landscape(rng, (130, 130)).astype(np.int32)
    yy, xx = np.mgrid[0:130, 0:130]
    outside = (yy - 65) ** 2 + (xx - 65) ** 2 > 58**2  # a round municipality
    lulc[outside] = -9999
    urban = threat_from(lulc, (1,))
    urban[outside & (rng.random(lulc.shape) < 0.03)] = 1.0  # threats outside still count
    urban[100:115, 10:40] = -1.0  # threat nodata
    roads = np.where(lulc == 2, 1, 0).astype(np.uint8)
    roads[:, 120:] = 255  # uint8 nodata
    roads[60:64, 120:] = 1
    agri = threat_from(lulc, (3,), 0.3)
    agri[5:12, 60:90] = np.nan  # NaN nodata: pygeoprocessing counts NaN cells as threat
    return Case(
        "nodata",
        "LULC nodata -9999 outside a disc; threat nodata -1 (float), 255 (uint8) and NaN",
        {"cur": lulc},
        [
            Threat("urban", "urban", 700.0, 1.0, "linear", {"cur": urban}, nodata=-1.0),
            Threat(
                "roads",
                "roads",
                350.0,
                0.7,
                "exponential",
                {"cur": roads},
                nodata=255,
                dtype="uint8",
            ),
            Threat("agri", "agri", 300.0, 0.3, "linear", {"cur": agri}, nodata=float("nan")),
        ],
        0.07,
        lulc_nodata=-9999,
    )


def case_grid(rng: np.random.Generator) -> Case:
    lulc = landscape(rng, (96, 128))  # 12.5 m x 10 m pixels: resampled to 10 m x 10 m
    x0, y0 = ORIGIN
    # a threat on a 5 m grid shifted by 2.5 m and larger than the LULC on two sides
    fine = np.zeros((270, 300), np.float32)
    fine[40:60, :] = 1.0
    fine[:, 100:104] = 1.0
    fine[200:230, 150:190] = 1.0
    # a threat on a 20 m grid covering only part of the LULC extent
    coarse = np.zeros((30, 40), np.float32)
    coarse[5:8, 5:30] = 1.0
    coarse[20:25, 30:33] = 1.0
    return Case(
        "grid",
        "non-square LULC pixels (12.5 x 10 m), threats on a shifted 5 m grid "
        "and a partial 20 m grid",
        {"cur": lulc},
        [
            Threat(
                "fine",
                "roads",
                420.0,
                1.0,
                "linear",
                {"cur": fine},
                pixel=(5.0, 5.0),
                origin=(x0 - 102.5, y0 + 52.5),
            ),
            Threat(
                "coarse",
                "urban",
                900.0,
                0.5,
                "exponential",
                {"cur": coarse},
                pixel=(20.0, 20.0),
                origin=(x0 + 200.0, y0 - 100.0),
            ),
        ],
        0.06,
        lulc_pixel=(12.5, 10.0),
    )


def case_empty(rng: np.random.Generator) -> Case:
    lulc = landscape(rng, (60, 70))
    return Case(
        "empty_threat",
        "a threat raster without any threat cell and max_dist beyond rows+cols pixels: "
        "InVEST's distance transform returns rows+cols+row, so every cell is degraded",
        {"cur": lulc},
        [
            Threat("roads", "roads", 300.0, 1.0, "linear", {"cur": threat_from(lulc, (2,))}),
            Threat(
                "ghost", "industry", 2000.0, 1.0, "linear", {"cur": np.zeros_like(lulc, np.float32)}
            ),
        ],
        0.05,
    )


CASE_BUILDERS: tuple[Callable[[np.random.Generator], Case], ...] = (
    case_linear,
    case_mixed,
    case_access,
    case_rarity,
    case_nodata,
    case_grid,
    case_empty,
)


def write_case(case: Case, folder: Path) -> dict[str, Any]:
    """Write a case's inputs into ``folder/input`` and return InVEST's args (relative paths)."""
    inp = golden.fresh_input(folder)
    args: dict[str, Any] = {"half_saturation_constant": case.half_saturation}
    for scen, arr in case.lulc.items():
        name = f"lulc_{scen}.tif"
        golden.write_raster(inp / name, arr, ORIGIN, pixel=case.lulc_pixel, nodata=case.lulc_nodata)
        args[f"lulc_{scen}_path"] = name
    scen_col = {"cur": "cur_path", "fut": "fut_path", "bas": "base_path"}
    columns = ["threat", "max_dist", "weight", "decay", "cur_path", "fut_path"]
    if case.base_path_column:
        columns.append("base_path")
    lines = [",".join(columns)]
    (inp / "threats").mkdir()
    for threat in case.threats:
        paths = {}
        for scen, arr in threat.rasters.items():
            rel = f"threats/{threat.name.strip().lower()}_{scen[0]}.tif"
            golden.write_raster(
                inp / rel,
                arr.astype(threat.dtype),
                threat.origin,
                pixel=threat.pixel,
                nodata=threat.nodata,
            )
            paths[scen_col[scen]] = rel
        row = [threat.name, f"{threat.max_dist:g}", f"{threat.weight:g}", threat.decay]
        row += [paths.get(c, "") for c in columns[4:]]
        lines.append(",".join(row))
    (inp / "threats.csv").write_text("\n".join(lines) + "\n", "utf-8")
    args["threats_table_path"] = "threats.csv"
    kinds = [t.kind for t in case.threats]
    names = [t.name.strip().lower() for t in case.threats]
    sens = ["lucode,name,habitat," + ",".join(names)]
    for code, cname, habitat in case.sensitivity_rows:
        values = [f"{SENSITIVITY[k][code - 1]:g}" for k in kinds]
        sens.append(f"{code},{cname},{habitat:g}," + ",".join(values))
    (inp / "sensitivity.csv").write_text("\n".join(sens) + "\n", "utf-8")
    args["sensitivity_table_path"] = "sensitivity.csv"
    if case.access:
        geoms = [p for p, _ in case.access]
        frame = gpd.GeoDataFrame(
            {"access": [a for _, a in case.access]}, geometry=geoms, crs="EPSG:28992"
        )
        frame.to_file(inp / "access.gpkg", driver="GPKG")
        args["access_vector_path"] = "access.gpkg"
    return args


def invest_args(args: dict[str, Any], inp: Path) -> dict[str, Any]:
    """InVEST's args with absolute paths, the fixed settings and no future or baseline."""
    full = golden.absolute_args(args, inp)
    for key in ("lulc_fut_path", "lulc_bas_path", "access_vector_path"):
        full.setdefault(key, "")
    return full


def main() -> None:
    """Build InVEST if needed, write every case, run InVEST and store the outputs."""
    opts = golden.options(__doc__.splitlines()[0], HERE)
    python = golden.invest_python(opts.invest_venv)
    packages = ("natcap.invest", "pygeoprocessing", "taskgraph", "gdal", "numpy")
    manifest_path = opts.out / "manifest.json"
    manifest = golden.read_manifest(manifest_path, {"cases": {}})
    manifest["generator"] = "tests/golden/habitat_quality/generate.py"
    manifest["versions"] = golden.invest_versions(python, packages)
    manifest["tolerance"] = 1e-6
    for case in golden.seeded_cases(CASE_BUILDERS, 20261100, opts.only):
        folder = opts.out / case.name
        args = write_case(case, folder)
        full = invest_args(args, folder / "input")
        model = "natcap.invest.habitat_quality"
        stored, warnings = golden.run_case(
            python, model, full, folder / "expected", GOLDEN_OUTPUTS, optional=True
        )
        manifest["cases"][case.name] = {
            "note": case.note,
            "args": args,
            "outputs": stored,
            "invest_warnings": warnings,
            "sha256": golden.file_hashes(folder),
        }
        print(f"{case.name}: {', '.join(stored)}")
    golden.write_manifest(manifest_path, manifest)


if __name__ == "__main__":
    main()
