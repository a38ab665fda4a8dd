"""InVEST 3.20.2 Habitat Quality on InVEST's own inputs: files in, InVEST's files out.

Takes ``lulc_cur`` (and optionally ``lulc_fut``/``lulc_bas``), the threats CSV, the sensitivity
CSV, the half-saturation constant k and an optional access vector, validates them as InVEST does
(plus clearer checks: every problem names its file, row and column, and all are reported at
once), aligns every raster to the current land cover as InVEST does (nearest neighbour, square
pixels of min(|dx|, |dy|), the current land cover's bounding box), and writes ``deg_sum_c.tif``,
``quality_c.tif`` (``_f`` with a future), ``rarity_c.tif``/``rarity_f.tif`` and their CSVs (with
a baseline) under InVEST's names, dtypes and nodata values.

Differences from InVEST, on purpose: threat rasters that do not overlap the land cover are an
error (InVEST silently treats them as "no threat"); no intermediate rasters; GeoTIFFs are not
compressed unless asked (LZW costs ~0.7 s per 9-million-cell float map and saves ~10 %).

Memory: nothing of the size of the map stays in memory. Land covers are checked strip by strip
and read again when computing; threat presence is spilled to 1-bit files and read back per
window; outputs are written strip by strip. Peak memory is the imports (numba's LLVM alone is
~125 MiB) plus a few strips, about half of InVEST's (bench/bench_habitat_quality.py).
Like InVEST 3.20.2 the baseline gets no degradation or quality map: with a ``base_path`` for every
threat InVEST 3.20.2 itself stops with ``KeyError: 'deg_sum_b'``; here base paths are checked
and a warning says they are not used.
"""

from __future__ import annotations

import contextlib
import csv
import io
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from biostresstest.analysis import habitat_quality as hq
from biostresstest.analysis import hq_kernels
from biostresstest.core.errors import CorruptInput, CRSMismatch, InvalidInput

SCENARIOS = ("cur", "fut", "bas")
SUFFIX = {"cur": "c", "fut": "f", "bas": "b"}
PATH_COLUMN = {"cur": "cur_path", "fut": "fut_path", "bas": "base_path"}
STRIP_ROWS = 128
"""Rows per strip: small buffers (strips need no halo: see ``_Presence.write_up``)."""
COMPRESSIONS = ("none", "lzw", "zstd", "deflate")


@dataclass(frozen=True)
class HabitatQualityArgs:
    """InVEST's arguments (``lulc_cur_path`` ... ``half_saturation_constant``)."""

    lulc_cur: Path
    threats_table: Path
    sensitivity_table: Path
    half_saturation: float
    lulc_fut: Path | None = None
    lulc_bas: Path | None = None
    access_vector: Path | None = None

    def lulc(self) -> dict[str, Path]:
        """The land covers given, by scenario."""
        paths = {"cur": self.lulc_cur, "fut": self.lulc_fut, "bas": self.lulc_bas}
        return {k: Path(v) for k, v in paths.items() if v is not None}


@dataclass
class HabitatQualityResult:
    """What a run wrote, and what it wants the user to know."""

    outputs: dict[str, Path]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class Grid:
    """The aligned grid: the current land cover's bounding box at square pixels."""

    crs: CRS
    transform: Affine
    width: int
    height: int

    @property
    def pixel(self) -> float:
        """Pixel size in metres."""
        return float(self.transform.a)


def _target_grid(ds: rasterio.io.DatasetReader) -> Grid:
    """pygeoprocessing's ``warp_raster`` grid for the LULC bbox at min(|dx|, |dy|)."""
    minx, miny, maxx, maxy = ds.bounds
    px = min(abs(ds.transform.a), abs(ds.transform.e))
    sizes = []
    for extent in (maxx - minx, maxy - miny):
        n = int(abs(float(extent) / px))
        if not np.isclose(abs(n * px) - extent, 0.0):
            n += 1
        sizes.append(max(n, 1))
    top = miny + px * sizes[1]
    return Grid(ds.crs, Affine(px, 0.0, minx, 0.0, -px, top), sizes[0], sizes[1])


def _on_grid(ds: rasterio.io.DatasetReader, grid: Grid) -> bool:
    return bool(
        ds.crs == grid.crs
        and ds.transform.almost_equals(grid.transform, precision=1e-9)
        and (ds.width, ds.height) == (grid.width, grid.height)
    )


def _strips(ds: rasterio.io.DatasetReader, grid: Grid) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (row0, band-1 block) over the grid, warped (nearest) when not already on it."""
    source = ds
    if not _on_grid(ds, grid):
        source = WarpedVRT(
            ds,
            crs=grid.crs,
            transform=grid.transform,
            width=grid.width,
            height=grid.height,
            resampling=Resampling.nearest,
            src_nodata=ds.nodata,
            nodata=ds.nodata,
        )
    for r0 in range(0, grid.height, STRIP_ROWS):
        n = min(STRIP_ROWS, grid.height - r0)
        yield r0, source.read(1, window=Window(0, r0, grid.width, n))


def _read_csv(
    path: Path, role: str, problems: list[hq.Problem]
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV as InVEST reads it (UTF-8, optional BOM, sniffed separator)."""
    try:
        text = path.read_text("utf-8-sig")
    except FileNotFoundError:
        problems.append(hq.Problem(str(path), f"the {role} does not exist"))
        return [], []
    except (UnicodeDecodeError, OSError) as exc:
        problems.append(
            hq.Problem(str(path), f"cannot read the {role} as UTF-8 text: {exc}", kind="corrupt")
        )
        return [], []
    first = text.splitlines()[0] if text.strip() else ""
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(first, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        problems.append(hq.Problem(str(path), f"the {role} is empty", kind="corrupt"))
        return [], []
    return rows[0], rows[1:]


def _open(path: Path, what: str, problems: list[hq.Problem]) -> rasterio.io.DatasetReader | None:
    if not path.exists():
        problems.append(hq.Problem(str(path), f"{what}: file not found"))
        return None
    try:
        return rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        problems.append(
            hq.Problem(str(path), f"{what}: not a raster GDAL can read ({exc})", kind="corrupt")
        )
        return None


def _overlaps(ds: rasterio.io.DatasetReader, grid: Grid) -> bool:
    if ds.crs is None:
        return False
    left, bottom, right, top = transform_bounds(ds.crs, grid.crs, *ds.bounds)
    g = rasterio.transform.array_bounds(grid.height, grid.width, grid.transform)
    return bool(min(right, g[2]) > max(left, g[0]) and min(top, g[3]) > max(bottom, g[1]))


def _cell(index: int, width: int) -> str:
    return f"row {index // width + 1}, column {index % width + 1}"


@dataclass
class _Presence:
    """A threat's presence bits on the grid (1 bit a cell), spilled to a file.

    Written strip by strip while the threat raster is checked; the computation reads back only
    the rows of its window, so no threat map stays in memory (InVEST keeps its intermediates
    on disk too).
    """

    file: Path
    row_bytes: int
    empty: bool = True
    """No threat cell at all (InVEST's pseudo-infinite distance)."""

    def append(self, present: np.ndarray) -> None:
        """Add rows of presence (uint8 0/1, the grid's width)."""
        with self.file.open("ab") as out:
            np.packbits(present, axis=1).tofile(out)
        self.empty = self.empty and not present.any()

    def window(self, r0: int, r1: int, cols: int) -> np.ndarray:
        """Rows ``r0 .. r1 - 1`` as uint8 0/1."""
        with self.file.open("rb") as src:
            src.seek(r0 * self.row_bytes)
            raw = np.fromfile(src, np.uint8, (r1 - r0) * self.row_bytes)
        return np.unpackbits(raw.reshape(r1 - r0, self.row_bytes), axis=1, count=cols)

    def write_up(self, cap: int, rows: int, cols: int) -> np.dtype[Any]:
        """Spill the upward column distances (capped at ``cap + 1``), strips bottom up.

        With them a strip needs no halo (:func:`hq_kernels.column_down_min`). Returns their
        dtype (uint16 unless the cap does not fit).
        """
        dtype = np.dtype(np.uint16 if cap + 1 < 65535 else np.int32)
        carry = np.full(cols, cap + 1, np.int32)
        with self.up_file.open("wb") as out:
            out.truncate(rows * cols * dtype.itemsize)
            for r0 in reversed(range(0, rows, STRIP_ROWS)):
                r1 = min(rows, r0 + STRIP_ROWS)
                up = np.empty((r1 - r0, cols), dtype)
                hq_kernels.column_up(self.window(r0, r1, cols), cap, carry, up)
                out.seek(r0 * cols * dtype.itemsize)
                up.tofile(out)
        return dtype

    def up_window(self, r0: int, r1: int, cols: int, dtype: np.dtype[Any]) -> np.ndarray:
        """Rows ``r0 .. r1 - 1`` of the upward column distances."""
        with self.up_file.open("rb") as src:
            src.seek(r0 * cols * dtype.itemsize)
            return np.fromfile(src, dtype, (r1 - r0) * cols).reshape(r1 - r0, cols)

    @property
    def up_file(self) -> Path:
        """Where :meth:`write_up` spills."""
        return self.file.with_suffix(".up")


@dataclass
class _Plan:
    """Everything validated and read before computing."""

    grid: Grid
    specs: list[hq.ThreatSpec]
    table: hq.ClassTable
    lulc: dict[str, Path] = field(default_factory=dict)
    """Per land cover that passed every check, its class indices spilled to a file."""
    counts: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    """Rarity counts per scenario (its classes where the baseline is valid, the baseline's)."""
    presence: dict[str, list[_Presence]] = field(default_factory=dict)
    access: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)


def _read_access(path: Path, grid: Grid, problems: list[hq.Problem]) -> np.ndarray | None:
    """The access layer: polygons' ``access`` burnt (cell centres) over 1.0, float32."""
    import pyogrio
    import shapely
    from pyproj import Transformer
    from rasterio.features import rasterize

    if not path.exists():
        problems.append(hq.Problem(str(path), "access vector: file not found"))
        return None
    try:
        meta, _, wkb, fields = pyogrio.raw.read(path)
    except Exception as exc:  # pyogrio raises several kinds for unreadable files
        problems.append(
            hq.Problem(str(path), f"access vector: cannot read it ({exc})", kind="corrupt")
        )
        return None
    names = [str(n).lower() for n in meta["fields"]]
    if "access" not in names:
        problems.append(hq.Problem(str(path), "access vector has no field 'access'", 1, "access"))
        return None
    values = fields[names.index("access")]
    geoms = shapely.from_wkb(wkb)
    before = len(problems)
    shapes = []
    for i, (geom, value) in enumerate(zip(geoms, values, strict=True), start=1):
        if geom is None or geom.geom_type not in ("Polygon", "MultiPolygon"):
            kind = "no geometry" if geom is None else f"a {geom.geom_type}"
            problems.append(hq.Problem(str(path), f"feature {i} is {kind}, not a polygon", i))
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if not 0.0 <= number <= 1.0:
            problems.append(
                hq.Problem(str(path), f"access {value} is not a number in 0..1", i, "access")
            )
        shapes.append((geom, number))
    if len(problems) > before:
        return None
    source = CRS.from_user_input(meta["crs"]) if meta.get("crs") else grid.crs
    if source != grid.crs:
        move = Transformer.from_crs(source, grid.crs, always_xy=True)
        shapes = [
            (shapely.transform(g, lambda xy: np.column_stack(move.transform(*xy.T))), v)
            for g, v in shapes
        ]
    out = np.ones((grid.height, grid.width), np.float32)
    if shapes:
        rasterize(shapes, out=out, transform=grid.transform, all_touched=False)
    return out


def _plan(args: HabitatQualityArgs, spill: Path) -> _Plan:
    """Validate every input (all problems at once) and read what the computation needs.

    Threat presence goes to files in ``spill``.
    """
    problems: list[hq.Problem] = []
    warnings: list[str] = []
    lulc_paths = args.lulc()
    if not args.half_saturation > 0:
        problems.append(hq.Problem("--half-saturation", f"{args.half_saturation} must be > 0"))
    t_file, s_file = Path(args.threats_table), Path(args.sensitivity_table)
    threats, p1 = hq.check_table(
        hq.THREATS_TABLE,
        str(t_file),
        *_read_csv(t_file, "threats table", problems),
        with_future="fut" in lulc_paths,
        with_baseline="bas" in lulc_paths,
    )
    sens, p2 = hq.check_table(
        hq.SENSITIVITY_TABLE, str(s_file), *_read_csv(s_file, "sensitivity table", problems)
    )
    problems += p1 + p2 + hq.cross_check(threats, sens)
    cur = _open(Path(args.lulc_cur), "current land cover", problems)
    if cur is None or cur.crs is None or not cur.crs.is_projected:
        if cur is not None:
            problems.append(
                hq.Problem(
                    str(args.lulc_cur),
                    f"the land cover must be in a projected CRS in metres, not {cur.crs or 'none'}",
                    kind="crs",
                )
            )
        _raise(problems)
    assert cur is not None
    grid = _target_grid(cur)
    warnings += hq.km_warnings(threats, grid.pixel)
    specs = hq.threat_specs(threats) if not problems else []
    table = hq.ClassTable.from_table(sens, specs) if not p2 else None
    plan = _Plan(
        grid,
        specs,
        table or hq.ClassTable(np.zeros(0, np.int64), np.zeros(2, np.float32), {}),
        warnings=warnings,
    )
    readable: dict[str, Path] = {}
    for scen, path in lulc_paths.items():
        ds = cur if scen == "cur" else _open(path, f"{scen} land cover", problems)
        if ds is None:
            continue
        with ds:
            if scen != "cur" and (ds.crs is None or not ds.crs.is_projected):
                problems.append(
                    hq.Problem(
                        str(path),
                        "the land cover must be in a projected CRS "
                        f"in metres, not {ds.crs or 'none'}",
                        kind="crs",
                    )
                )
                continue
            if scen != "cur" and not _overlaps(ds, grid):
                problems.append(
                    hq.Problem(
                        str(path), f"does not overlap the current land cover {args.lulc_cur}"
                    )
                )
                continue
            if ds.dtypes[0].startswith("float"):
                problems.append(
                    hq.Problem(str(path), f"land cover must hold integers, not {ds.dtypes[0]}")
                )
                continue
            readable[scen] = Path(path)
    if table is not None and readable:
        plan.counts = _check_classes(readable, grid, table, s_file, problems, spill)
        plan.lulc = {scen: spill / f"classes-{scen}.idx" for scen in readable}
    seen: dict[Path, str] = {}
    for scen in lulc_paths:
        plan.presence[scen] = []
        for row, line in zip(threats.rows, threats.lines, strict=True):
            col = PATH_COLUMN[scen]
            text = str(row.get(col) or "")
            where = hq.Problem(str(t_file), "", line, col)
            if not text:
                if scen != "bas" and col in threats.columns:
                    problems.append(
                        hq.Problem(
                            where.file,
                            f"threat '{row.get('threat')}' has no raster for the {scen} land cover",
                            line,
                            col,
                        )
                    )
                continue
            path = (t_file.parent / text).resolve()
            if path in seen:
                problems.append(
                    hq.Problem(
                        where.file,
                        f"threat rasters must be unique: {text} is also {seen[path]}",
                        line,
                        col,
                    )
                )
                continue
            seen[path] = f"row {line} column '{col}'"
            presence = _Presence(spill / f"{scen}-{line}.bits", (grid.width + 7) // 8)
            plan.presence[scen].append(presence)
            _scan_threat(path, grid, where, problems, presence)
    bas_paths = [r.get("base_path") for r in threats.rows]
    if "bas" in lulc_paths and any(bas_paths):
        warnings.append(
            "base_path rasters are checked but not used: InVEST 3.20.2 writes no "
            "baseline degradation or quality (with every base_path it fails with "
            "KeyError 'deg_sum_b'); the baseline serves rarity only"
        )
    if args.access_vector is not None:
        plan.access = _read_access(Path(args.access_vector), grid, problems)
    _raise(problems)
    return plan


def _raise(problems: list[hq.Problem]) -> None:
    if not problems:
        return
    kinds = {p.kind for p in problems}
    cls = (
        CRSMismatch if kinds == {"crs"} else CorruptInput if kinds == {"corrupt"} else InvalidInput
    )
    lines = "\n".join(f"  - {p}" for p in problems)
    raise cls(
        f"{len(problems)} problem(s) with the Habitat Quality inputs:\n{lines}",
        hint="fix these in the files named; InVEST 3.20.2 would refuse them too "
        "(max_dist is in metres since InVEST 3.17)",
    )


def _check_classes(
    paths: dict[str, Path],
    grid: Grid,
    table: hq.ClassTable,
    s_file: Path,
    problems: list[hq.Problem],
    spill: Path,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Classify the land covers on the grid together, strip by strip; return the rarity counts.

    Missing codes become problems. Nothing of the size of a map is kept: the class indices go
    to ``spill/classes-<scenario>.idx`` for :func:`_class_strips`. With a
    baseline, returns per scenario the counts of its classes where the baseline is valid and
    the baseline's counts (one pass, so the outputs can be written in one pass too).
    """
    n = table.nodata_index
    missing: dict[str, dict[int, tuple[int, int]]] = {scen: {} for scen in paths}
    counts = {
        scen: (np.zeros(n, np.int64), np.zeros(n, np.int64))
        for scen in paths
        if scen != "bas" and "bas" in paths
    }
    with contextlib.ExitStack() as stack:
        sets = {scen: stack.enter_context(rasterio.open(path)) for scen, path in paths.items()}
        outs = {
            scen: stack.enter_context((spill / f"classes-{scen}.idx").open("wb")) for scen in paths
        }
        strips = [_strips(ds, grid) for ds in sets.values()]
        for blocks in zip(*strips, strict=True):
            index = {}
            for (scen, ds), (r0, block) in zip(sets.items(), blocks, strict=True):
                index[scen], miss = hq.classify(block, table.codes, ds.nodata)
                index[scen].tofile(outs[scen])
                for code in miss:
                    hit = np.flatnonzero(block == code)
                    seen = missing[scen].get(int(code), (r0 * grid.width + int(hit[0]), 0))
                    missing[scen][int(code)] = (seen[0], seen[1] + hit.size)
            for scen, (cx, cb) in counts.items():
                x, b = hq.rarity_counts(index[scen], index["bas"], n)
                cx += x
                cb += b
    for scen, found in missing.items():
        for code, (first, count) in sorted(found.items()):
            problems.append(
                hq.Problem(
                    str(paths[scen]),
                    f"land-cover value {code} ({count} cells, first at "
                    f"{_cell(first, grid.width)}) is missing from {s_file} column 'lucode'",
                )
            )
    return counts


def _class_strips(path: Path, grid: Grid, table: hq.ClassTable) -> Iterator[np.ndarray]:
    """The spilled class indices of a land cover, strip by strip (STRIP_ROWS rows)."""
    dtype = np.uint8 if len(table.codes) < 254 else np.uint16  # as hq.classify makes them
    with path.open("rb") as src:
        for r0 in range(0, grid.height, STRIP_ROWS):
            n = min(STRIP_ROWS, grid.height - r0) * grid.width
            yield np.fromfile(src, dtype, n).reshape(-1, grid.width)


def _scan_threat(
    path: Path,
    grid: Grid,
    where: hq.Problem,
    problems: list[hq.Problem],
    presence: _Presence,
) -> None:
    """Presence of a threat on the grid into ``presence``; values outside 0..1 are problems."""
    ds = _open(
        path, f"threat raster ({where.file}, row {where.row}, column '{where.column}')", problems
    )
    if ds is None:
        return
    with ds:
        if not _overlaps(ds, grid):
            problems.append(
                hq.Problem(
                    str(path),
                    f"threat raster ({where.file}, row {where.row}, "
                    f"column '{where.column}') does not overlap the land cover",
                )
            )
            return
        nodata = ds.nodata
        aligned = _on_grid(ds, grid)
        for r0, block in _strips(ds, grid):
            present = np.empty(block.shape, np.uint8)
            first, value = hq_kernels.threat_scan(block, nodata, present)
            presence.append(present)
            if aligned and first >= 0:
                problems.append(
                    hq.Problem(
                        str(path),
                        f"threat value {value:g} at "
                        f"{_cell(r0 * grid.width + first, grid.width)} is outside "
                        f"0..1 ({where.file}, row {where.row}, column '{where.column}')",
                    )
                )
                aligned = False  # report the first only
        if not _on_grid(ds, grid):  # InVEST checks the raster as given, not the aligned copy
            for r0 in range(0, ds.height, STRIP_ROWS):
                block = ds.read(1, window=Window(0, r0, ds.width, min(STRIP_ROWS, ds.height - r0)))
                first, value = hq_kernels.threat_scan(
                    block, nodata, np.empty(block.shape, np.uint8)
                )
                if first >= 0:
                    problems.append(
                        hq.Problem(
                            str(path),
                            f"threat value {value:g} at "
                            f"{_cell(r0 * ds.width + first, ds.width)} is outside "
                            f"0..1 ({where.file}, row {where.row}, column '{where.column}')",
                        )
                    )
                    break


def _profile(grid: Grid, nodata: float, compress: str) -> dict[str, object]:
    profile: dict[str, object] = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "nodata": nodata,
        "crs": grid.crs,
        "transform": grid.transform,
        "width": grid.width,
        "height": grid.height,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "BIGTIFF": "IF_SAFER",
    }
    if compress != "none":
        profile.update(compress=compress, num_threads="ALL_CPUS")
    return profile


def run_habitat_quality(
    args: HabitatQualityArgs, out_dir: Path, *, compress: str = "none"
) -> HabitatQualityResult:
    """Validate, align, compute and write InVEST's Habitat Quality outputs into ``out_dir``."""
    if compress not in COMPRESSIONS:
        raise InvalidInput(f"unknown compression {compress!r}", hint=f"use one of {COMPRESSIONS}")
    start = time.perf_counter()
    with (
        rasterio.Env(GDAL_CACHEMAX=8, GDAL_NUM_THREADS="ALL_CPUS"),
        tempfile.TemporaryDirectory(prefix="bst-hq-") as spill,
    ):
        plan = _plan(args, Path(spill))
        out_dir.mkdir(parents=True, exist_ok=True)
        result = HabitatQualityResult({}, plan.warnings)
        for scen in ("cur", "fut"):
            if scen in plan.lulc:
                result.outputs.update(
                    _write_scenario(scen, plan, args.half_saturation, out_dir, compress)
                )
    result.seconds = round(time.perf_counter() - start, 3)
    return result


def _write_scenario(
    scen: str, plan: _Plan, k: float, out_dir: Path, compress: str
) -> dict[str, Path]:
    """deg_sum, quality (and rarity with a baseline) in one pass of strips.

    Each threat's window reaches ``cap`` rows around the strip.
    """
    grid, table = plan.grid, plan.table
    rows, cols = grid.height, grid.width
    n = table.nodata_index
    weight_sum = sum(t.weight for t in plan.specs)
    threats = []
    for spec, presence in zip(plan.specs, plan.presence[scen], strict=True):
        m_px = spec.max_dist_m / grid.pixel
        cap = hq_kernels.distance_cap(m_px)
        carry = np.full(cols, cap + 1, np.int32)  # the downward distance between strips
        up_dtype = None if presence.empty else presence.write_up(cap, rows, cols)
        threats.append((spec, presence, m_px, cap, up_dtype, carry))
    s = SUFFIX[scen]
    paths = {name: out_dir / f"{name}.tif" for name in (f"deg_sum_{s}", f"quality_{s}")}
    rarity = None
    if scen in plan.counts:
        counts_x, counts_b = plan.counts[scen]
        values = hq.rarity_values(counts_x, counts_b, grid.pixel**2, grid.pixel**2)
        rarity = np.append(values.astype(np.float32), np.float32(hq.RARITY_NODATA))
        paths[f"rarity_{s}"] = out_dir / f"rarity_{s}.tif"
        paths[f"rarity_{s}_csv"] = out_dir / f"rarity_{s}.csv"
        lines = ["lucode,rarity_value"] + [
            f"{table.codes[i]},{float(values[i])!r}" for i in np.flatnonzero(counts_x)
        ]
        paths[f"rarity_{s}_csv"].write_text("\r\n".join(lines) + "\r\n", "utf-8")
    profile = _profile(grid, hq.DEG_NODATA, compress)
    with contextlib.ExitStack() as stack:
        deg_ds = stack.enter_context(rasterio.open(paths[f"deg_sum_{s}"], "w", **profile))
        q_ds = stack.enter_context(rasterio.open(paths[f"quality_{s}"], "w", **profile))
        strips = _class_strips(plan.lulc[scen], grid, table)
        if rarity is not None:
            r_profile = _profile(grid, hq.RARITY_NODATA, compress)
            r_ds = stack.enter_context(rasterio.open(paths[f"rarity_{s}"], "w", **r_profile))
            baseline = _class_strips(plan.lulc["bas"], grid, table)
        for r0, strip in zip(range(0, rows, STRIP_ROWS), strips, strict=True):
            r1 = r0 + strip.shape[0]
            place = Window(0, r0, cols, r1 - r0)
            if rarity is not None:
                b = next(baseline)
                r_ds.write(rarity[np.where((strip < n) & (b < n), strip, n)], 1, window=place)
            acc = np.zeros(strip.shape, np.float32)
            for spec, presence, m_px, _cap, up_dtype, carry in threats:
                # no halo: what lies above is in ``carry``, what lies below in the spilled ``up``
                empty = up_dtype is None
                window = np.empty((0, 0), np.uint8) if empty else presence.window(r0, r1, cols)
                up = None if up_dtype is None else presence.up_window(r0, r1, cols, up_dtype)
                hq_kernels.accumulate_threat(
                    window,
                    0,
                    strip,
                    table.sensitivity[spec.name],
                    max_dist_px=m_px,
                    decay=spec.decay,
                    weight=spec.weight / weight_sum,
                    acc=acc,
                    access=None if plan.access is None else plan.access[r0:r1],
                    empty_rows_cols=(rows, cols) if empty else None,
                    row0=r0,
                    carry=carry,
                    up=up,
                )
            acc[strip >= n] = hq.DEG_NODATA
            deg_ds.write(acc, 1, window=place)
            q_ds.write(hq.quality(acc, hq.habitat_of(strip, table), k), 1, window=place)
            del acc
    return paths
