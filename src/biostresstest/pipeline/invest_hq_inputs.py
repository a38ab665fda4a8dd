"""Habitat Quality's inputs: InVEST's arguments, checked all at once and read for the computation.

Validates as InVEST does, plus clearer checks: every problem names its file, row and column, and
all are reported at once (:func:`raise_problems`). What the computation needs (class indices of
each land cover, threat presence) is spilled to a temporary folder, strip by strip.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio

from biostresstest.analysis import habitat_quality as hq
from biostresstest.pipeline.invest_files import Grid, open_raster, raise_problems, read_csv
from biostresstest.pipeline.invest_hq_strips import cell_label, overlaps, strips, target_grid
from biostresstest.pipeline.invest_hq_threats import ThreatPresence, read_access, scan_threat

PATH_COLUMN = {"cur": "cur_path", "fut": "fut_path", "bas": "base_path"}
"""The threats table's column of raster paths, by land-cover scenario."""
HINT = (
    "fix these in the files named; InVEST 3.20.2 would refuse them too "
    "(max_dist is in metres since InVEST 3.17)"
)


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
class Plan:
    """Everything validated and read before computing."""

    grid: Grid
    specs: list[hq.ThreatSpec]
    table: hq.ClassTable
    lulc: dict[str, Path] = field(default_factory=dict)
    """Per land cover that passed every check, its class indices spilled to a file."""
    counts: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    """Rarity counts per scenario (its classes where the baseline is valid, the baseline's)."""
    presence: dict[str, list[ThreatPresence]] = field(default_factory=dict)
    access: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)


def raise_hq_problems(problems: list[hq.Problem]) -> None:
    """All problems of the Habitat Quality inputs as one error (nothing when there are none)."""
    raise_problems(problems, "Habitat Quality", HINT)


def read_inputs(args: HabitatQualityArgs, spill: Path) -> Plan:
    """Validate every input (all problems at once) and read what the computation needs.

    Class indices and threat presence go to files in ``spill``.
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
        *read_csv(t_file, "threats table", problems),
        with_future="fut" in lulc_paths,
        with_baseline="bas" in lulc_paths,
    )
    sens, p2 = hq.check_table(
        hq.SENSITIVITY_TABLE, str(s_file), *read_csv(s_file, "sensitivity table", problems)
    )
    problems += p1 + p2 + hq.cross_check(threats, sens)
    cur = _open_current(args.lulc_cur, problems)
    grid = target_grid(cur)
    warnings += hq.km_warnings(threats, grid.pixel)
    specs = hq.threat_specs(threats) if not problems else []
    table = hq.ClassTable.from_table(sens, specs) if not p2 else None
    plan = Plan(
        grid,
        specs,
        table or hq.ClassTable(np.zeros(0, np.int64), np.zeros(2, np.float32), {}),
        warnings=warnings,
    )
    readable = _readable_land_covers(lulc_paths, cur, grid, args.lulc_cur, problems)
    if table is not None and readable:
        plan.counts = _check_classes(readable, grid, table, s_file, problems, spill)
        plan.lulc = {scen: spill / f"classes-{scen}.idx" for scen in readable}
    seen: dict[Path, str] = {}
    for scen in lulc_paths:
        plan.presence[scen] = _spill_threats(scen, threats, t_file, grid, problems, spill, seen)
    bas_paths = [r.get("base_path") for r in threats.rows]
    if "bas" in lulc_paths and any(bas_paths):
        warnings.append(
            "base_path rasters are checked but not used: InVEST 3.20.2 writes no "
            "baseline degradation or quality (with every base_path it fails with "
            "KeyError 'deg_sum_b'); the baseline serves rarity only"
        )
    if args.access_vector is not None:
        plan.access = read_access(Path(args.access_vector), grid, problems)
    raise_hq_problems(problems)
    return plan


def _not_projected(path: Path, ds: rasterio.io.DatasetReader) -> hq.Problem:
    """Areas and distances are in metres: a land cover in degrees is refused."""
    return hq.Problem(
        str(path),
        f"the land cover must be in a projected CRS in metres, not {ds.crs or 'none'}",
        kind="crs",
    )


def _open_current(path: Path, problems: list[hq.Problem]) -> rasterio.io.DatasetReader:
    """The current land cover, which sets the grid; all problems so far are raised without it."""
    cur = open_raster(Path(path), "current land cover", problems)
    if cur is None or cur.crs is None or not cur.crs.is_projected:
        if cur is not None:
            problems.append(_not_projected(path, cur))
        raise_hq_problems(problems)
    assert cur is not None
    return cur


def _readable_land_covers(
    paths: dict[str, Path],
    cur: rasterio.io.DatasetReader,
    grid: Grid,
    cur_path: Path,
    problems: list[hq.Problem],
) -> dict[str, Path]:
    """The land covers (by scenario) that open, are projected, overlap and hold integers.

    Closes ``cur`` (the current land cover at ``cur_path``, already open) with the others.
    """
    readable: dict[str, Path] = {}
    for scen, path in paths.items():
        ds = cur if scen == "cur" else open_raster(path, f"{scen} land cover", problems)
        if ds is None:
            continue
        with ds:
            if scen != "cur" and (ds.crs is None or not ds.crs.is_projected):
                problems.append(_not_projected(path, ds))
                continue
            if scen != "cur" and not overlaps(ds, grid):
                problems.append(
                    hq.Problem(str(path), f"does not overlap the current land cover {cur_path}")
                )
                continue
            if ds.dtypes[0].startswith("float"):
                problems.append(
                    hq.Problem(str(path), f"land cover must hold integers, not {ds.dtypes[0]}")
                )
                continue
            readable[scen] = Path(path)
    return readable


def _spill_threats(
    scen: str,
    threats: hq.Table,
    t_file: Path,
    grid: Grid,
    problems: list[hq.Problem],
    spill: Path,
    seen: dict[Path, str],
) -> list[ThreatPresence]:
    """Check the threat rasters of one scenario and spill their presence into ``spill``.

    A raster named twice in the table is a problem: ``seen`` holds, over all scenarios, where
    each raster was named first.
    """
    col = PATH_COLUMN[scen]
    found: list[ThreatPresence] = []
    for row, line in zip(threats.rows, threats.lines, strict=True):
        text = str(row.get(col) or "")
        where = hq.Problem(str(t_file), "", line, col)
        if not text:
            if scen != "bas" and col in threats.columns:
                message = f"threat '{row.get('threat')}' has no raster for the {scen} land cover"
                problems.append(hq.Problem(where.file, message, line, col))
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
        presence = ThreatPresence(spill / f"{scen}-{line}.bits", (grid.width + 7) // 8)
        found.append(presence)
        scan_threat(path, grid, where, problems, presence)
    return found


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
    to ``spill/classes-<scenario>.idx`` for :func:`.invest_hq_strips.class_strips`. With a
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
        for blocks in zip(*(strips(ds, grid) for ds in sets.values()), strict=True):
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
                    f"{cell_label(first, grid.width)}) is missing from {s_file} column 'lucode'",
                )
            )
    return counts
