"""Habitat Quality's threats on the grid: presence spilled to 1-bit files, and the access layer.

Each threat raster is checked (values 0..1, as InVEST checks the raster as given) while its
presence is written strip by strip to a temporary file; the computation reads back only the rows
of its window, so no threat map stays in memory (InVEST keeps its intermediates on disk too).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rasterio.crs import CRS
from rasterio.windows import Window

from biostresstest.analysis import habitat_quality as hq
from biostresstest.analysis import hq_kernels
from biostresstest.pipeline.invest_files import Grid, open_raster
from biostresstest.pipeline.invest_hq_strips import (
    STRIP_ROWS,
    cell_label,
    on_grid,
    overlaps,
    strips,
)


@dataclass
class ThreatPresence:
    """A threat's presence bits on the grid (1 bit a cell), spilled to a file.

    Written strip by strip while the threat raster is checked; the computation reads back only
    the rows of its window.
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


def scan_threat(
    path: Path,
    grid: Grid,
    where: hq.Problem,
    problems: list[hq.Problem],
    presence: ThreatPresence,
) -> None:
    """Presence of a threat on the grid into ``presence``; values outside 0..1 are problems.

    ``where`` locates the threat in the threats table (file, row, column) for the messages.
    """
    ds = open_raster(
        path, f"threat raster ({where.file}, row {where.row}, column '{where.column}')", problems
    )
    if ds is None:
        return
    with ds:
        if not overlaps(ds, grid):
            problems.append(
                hq.Problem(
                    str(path),
                    f"threat raster ({where.file}, row {where.row}, "
                    f"column '{where.column}') does not overlap the land cover",
                )
            )
            return
        nodata = ds.nodata
        aligned = on_grid(ds, grid)
        for r0, block in strips(ds, grid):
            present = np.empty(block.shape, np.uint8)
            first, value = hq_kernels.threat_scan(block, nodata, present)
            presence.append(present)
            if aligned and first >= 0:
                problems.append(_outside(path, where, value, r0 * grid.width + first, grid.width))
                aligned = False  # report the first only
        if not on_grid(ds, grid):  # InVEST checks the raster as given, not the aligned copy
            for r0 in range(0, ds.height, STRIP_ROWS):
                block = ds.read(1, window=Window(0, r0, ds.width, min(STRIP_ROWS, ds.height - r0)))
                first, value = hq_kernels.threat_scan(
                    block, nodata, np.empty(block.shape, np.uint8)
                )
                if first >= 0:
                    problems.append(_outside(path, where, value, r0 * ds.width + first, ds.width))
                    break


def _outside(path: Path, where: hq.Problem, value: float, index: int, width: int) -> hq.Problem:
    return hq.Problem(
        str(path),
        f"threat value {value:g} at {cell_label(index, width)} is outside "
        f"0..1 ({where.file}, row {where.row}, column '{where.column}')",
    )


def read_access(path: Path, grid: Grid, problems: list[hq.Problem]) -> np.ndarray | None:
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
