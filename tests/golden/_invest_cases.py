"""What the golden-file generators share: natcap.invest in its own venv, input rasters, a run of
one case in a temporary workspace, and the manifest that records it.

natcap.invest 3.20.2 lives in a venv of its own (the recipe of ``shared/reference/invest.md`` §1,
built here on first use); the generators run in the project's venv and call it as a subprocess.
Every generator takes ``--invest-venv``, ``--out`` (by default its own folder) and ``--only``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import rasterio
from affine import Affine


class NamedCase(Protocol):
    """A generator's case: anything with a name."""

    name: str


Case = TypeVar("Case", bound=NamedCase)
INVEST_VERSION = "3.20.2"
DEFAULT_VENV = Path("/tmp/invest-venv")

RUNNER = r"""
import importlib, json, logging, sys
logging.basicConfig(level=logging.WARNING)
model = importlib.import_module(sys.argv[1])
args = json.loads(sys.argv[2])
if sys.argv[3] == "validate":
    errors = model.validate(args)
    if errors:
        print(json.dumps({"validation": [[list(k), m] for k, m in errors]}))
        sys.exit(3)
model.execute(args)
"""
VERSIONS_PROBE = r"""
import importlib, json, sys
names = {"gdal": "osgeo.gdal"}
print(json.dumps({n: importlib.import_module(names.get(n, n)).__version__ for n in sys.argv[1:]}))
"""


# --- natcap.invest in its venv ---------------------------------------------------------------


def options(description: str, here: Path) -> argparse.Namespace:
    """The command line of a generator: the venv, the output folder and the cases to make."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--invest-venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--out", type=Path, default=here, help=f"folder (default: {here})")
    parser.add_argument("--only", nargs="*", help="case names to regenerate (default: all)")
    return parser.parse_args()


def invest_version(venv: Path) -> str | None:
    """The natcap.invest version installed in ``venv``, or None."""
    python = venv / "bin" / "python"
    if not python.exists():
        return None
    done = subprocess.run(
        [str(python), "-c", "import natcap.invest; print(natcap.invest.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def build_invest(venv: Path) -> None:
    """Build natcap.invest 3.20.2 from sdist into ``venv`` (invest.md §1, about 4 minutes)."""
    if shutil.which("gdal-config") is None:
        sys.exit(
            "gdal-config not found: run `apt-get update && apt-get install -y libgdal-dev gdal-bin`"
        )
    gdal = subprocess.run(
        ["gdal-config", "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    pip = [str(venv / "bin" / "pip"), "install", "--no-input"]
    env = dict(os.environ, PATH=f"{venv / 'bin'}:{os.environ['PATH']}")
    pinned = ["pygeoprocessing==2.4.11", "numpy<2", f"GDAL=={gdal}"]
    steps = [
        ["python3", "-m", "venv", str(venv)],
        [*pip, "-U", "pip", "setuptools>=77", "wheel"],
        [*pip, "numpy<2", "cython<3.2", "setuptools_scm>=8", "babel"],
        [*pip, "--no-build-isolation", f"GDAL=={gdal}"],
        [*pip, "--no-build-isolation", *pinned],
        [*pip, "--no-build-isolation", f"natcap.invest=={INVEST_VERSION}", *pinned],
    ]
    for step in steps:
        print("+", " ".join(step), flush=True)
        subprocess.run(step, check=True, env=env)


def invest_python(venv: Path) -> str:
    """The python of ``venv`` with natcap.invest 3.20.2, building it there first if need be."""
    if invest_version(venv) != INVEST_VERSION:
        build_invest(venv)
    return str(venv / "bin" / "python")


def invest_versions(python: str, packages: tuple[str, ...]) -> dict[str, str]:
    """``package -> __version__`` in the InVEST venv, in the order given (gdal is osgeo.gdal)."""
    done = subprocess.run(
        [python, "-c", VERSIONS_PROBE, *packages], capture_output=True, text=True, check=True
    )
    versions: dict[str, str] = json.loads(done.stdout)
    return versions


def run_case(
    python: str,
    model: str,
    args: dict[str, Any],
    expected: Path,
    outputs: tuple[str, ...],
    *,
    validate: bool = True,
    optional: bool = False,
    interleave: str | None = None,
) -> tuple[list[str], list[str]]:
    """Run the InVEST ``model`` module on ``args`` in a temporary workspace and store ``outputs``
    in ``expected`` (emptied first): GeoTIFFs re-compressed, other files copied.

    ``args`` hold absolute paths and no workspace. Without ``optional`` every output must be
    there; ``interleave`` is the GeoTIFFs' layout tag (for single bands a tag only, but part of
    the stored bytes). Return the outputs stored and InVEST's warning lines.
    """
    if expected.exists():
        shutil.rmtree(expected)
    expected.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="invest-golden-") as tmp:
        workspace = Path(tmp) / "ws"
        full = json.dumps({**args, "workspace_dir": str(workspace)})
        mode = "validate" if validate else "execute"
        done = subprocess.run(
            [python, "-c", RUNNER, model, full, mode], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            sys.exit(f"InVEST failed on {expected.parent}:\n{done.stdout}\n{done.stderr[-4000:]}")
        stored = []
        for name in outputs:
            source = workspace / name
            if not source.exists():
                if optional:
                    continue
                sys.exit(f"InVEST wrote no {name} for {expected.parent}")
            (expected / name).parent.mkdir(parents=True, exist_ok=True)
            if name.endswith(".tif"):
                recompress(source, expected / name, interleave)
            else:
                shutil.copyfile(source, expected / name)
            stored.append(name)
    return stored, [line for line in done.stderr.splitlines() if "WARNING" in line]


def absolute_args(args: dict[str, Any], inp: Path) -> dict[str, Any]:
    """``args`` with the ``*_path`` values below ``inp``, no suffix and no worker processes."""
    full = {k: (str(inp / v) if k.endswith("_path") else v) for k, v in args.items()}
    full.update(results_suffix="", n_workers=-1)
    return full


# --- files -----------------------------------------------------------------------------------


def seeded_cases(
    builders: Sequence[Callable[[np.random.Generator], Case]], seed: int, only: list[str] | None
) -> Iterator[Case]:
    """Each builder's case from its own generator (``seed + index``), the ``only`` ones if given.

    Every builder runs, selected or not, so a case never depends on which others are made.
    """
    for index, builder in enumerate(builders):
        case = builder(np.random.default_rng(seed + index))
        if not only or case.name in only:
            yield case


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], scale: int) -> np.ndarray:
    """Blocky noise smoothed by box sums: a cheap stand-in for a landscape pattern."""
    coarse = rng.random((shape[0] // scale + 3, shape[1] // scale + 3))
    fine = np.kron(coarse, np.ones((scale, scale)))
    kernel = np.ones(scale) / scale
    for axis in (0, 1):
        fine = np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="same"), axis, fine)
    return fine[: shape[0], : shape[1]]


def write_raster(
    path: Path,
    array: np.ndarray,
    origin: tuple[float, float],
    pixel: tuple[float, float] = (10.0, 10.0),
    nodata: float | None = None,
    compress: str | None = "deflate",
) -> None:
    """A single-band GeoTIFF in RD New with north-up pixels of ``pixel`` (width, height) metres
    and its top-left corner at ``origin``."""
    transform = Affine(pixel[0], 0.0, origin[0], 0.0, -pixel[1], origin[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    profile: dict[str, Any] = {"driver": "GTiff", "height": array.shape[0]}
    profile.update(width=array.shape[1], count=1, dtype=array.dtype.name, crs="EPSG:28992")
    profile.update(transform=transform, nodata=nodata)
    if compress:
        profile["compress"] = compress
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)


def recompress(source: Path, target: Path, interleave: str | None = None) -> None:
    """Copy a single-band GeoTIFF with DEFLATE compression, keeping dtype, nodata and grid."""
    with rasterio.open(source) as ds:
        profile = ds.profile.copy()
        data = ds.read(1)
    for key in ("blockxsize", "blockysize", "tiled", "compress", "interleave", "BIGTIFF"):
        profile.pop(key, None)
    profile.update(driver="GTiff", compress="deflate", predictor=1)
    if interleave:
        profile["interleave"] = interleave
    with rasterio.open(target, "w", **profile) as out:
        out.write(data, 1)


def fresh_input(folder: Path) -> Path:
    """``folder/input``, emptied."""
    inp = folder / "input"
    if inp.exists():
        shutil.rmtree(inp)
    inp.mkdir(parents=True)
    return inp


def file_hashes(folder: Path) -> dict[str, str]:
    """``relative path -> SHA-256`` of every file below ``folder``, sorted by path."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def read_manifest(path: Path, new: dict[str, Any]) -> dict[str, Any]:
    """The manifest at ``path``, or ``new`` where there is none yet (``--only`` keeps the rest)."""
    manifest: dict[str, Any] = json.loads(path.read_text("utf-8")) if path.exists() else new
    return manifest


def write_manifest(path: Path, manifest: dict[str, Any], sort_cases: bool = True) -> None:
    """Write the manifest (its cases sorted by name) and say how large the folder has become."""
    if sort_cases:
        manifest["cases"] = dict(sorted(manifest["cases"].items()))
    path.write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    total = sum(p.stat().st_size for p in path.parent.rglob("*") if p.is_file())
    print(f"golden folder: {total / 1e6:.2f} MB; manifest: {path}")
