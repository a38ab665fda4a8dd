"""CSV with coordinate columns in, and CSV out, without spreadsheet formula injection.

Import: a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return and is
not a plain number is **refused** (the whole upload, with the row and column named). Such a cell
is never legitimate data in a tree register or an observation list, and storing it would pass
the attack on to everyone who later opens an export in a spreadsheet. Negative numbers
(``-3.5``) are numbers and pass.

Export: :func:`neutralise_cell` prefixes any such text cell with ``'`` so a spreadsheet shows it
as text; every CSV we write goes through :func:`write_csv`.

Coordinates: columns ``x``/``y`` (RD New, EPSG:28992 unless a CRS is given) or
``lon``/``lat`` (WGS84); a Dutch decimal comma is accepted with ``;`` as separator.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

import geopandas as gpd
import numpy as np
import pandas as pd

from biostresstest.core.errors import CorruptInput, CRSMismatch, PayloadTooLarge
from biostresstest.sources.upload.limits import UploadLimits

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")
X_NAMES = ("x", "x_rd", "rd_x", "xcoord", "x_coord", "easting")
Y_NAMES = ("y", "y_rd", "rd_y", "ycoord", "y_coord", "northing")
LON_NAMES = ("lon", "lng", "long", "longitude", "lengtegraad", "decimallongitude")
LAT_NAMES = ("lat", "latitude", "breedtegraad", "decimallatitude")


def is_formula(cell: str) -> bool:
    """True for text a spreadsheet would run as a formula (a plain number is not)."""
    return cell.startswith(FORMULA_START) and not _NUMBER.fullmatch(cell.strip())


def neutralise_cell(value: Any) -> Any:
    """A cell safe to open in a spreadsheet: formula-like text gets a leading ``'``."""
    if isinstance(value, str) and is_formula(value):
        return "'" + value
    return value


def write_csv(handle: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV whose every cell is neutralised (see the module docstring)."""
    writer = csv.writer(handle)
    writer.writerow([neutralise_cell(h) for h in header])
    for row in rows:
        writer.writerow([neutralise_cell(v) for v in row])


def read_csv_points(path: Path, limits: UploadLimits, crs: str | None = None) -> gpd.GeoDataFrame:
    """Points from a CSV with coordinate columns; refuses formula cells (see module docstring)."""
    raw = path.read_bytes()
    text = _decode(raw)
    lines = text.splitlines()
    if not lines:
        raise CorruptInput("the CSV file is empty", hint="upload a CSV with a header line")
    if max(len(line) for line in lines) > limits.max_csv_line_bytes:
        raise PayloadTooLarge(
            f"a line of the CSV is longer than {limits.max_csv_line_bytes:,} characters",
            hint="check the separator and the quoting",
        )
    delimiter = max((";", ",", "\t"), key=lines[0].count)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header, body = [h.strip() for h in rows[0]], [r for r in rows[1:] if any(c.strip() for c in r)]
    if len(body) > limits.max_features:
        raise PayloadTooLarge(
            f"the CSV has {len(body):,} rows; at most {limits.max_features:,} are accepted"
        )
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise CorruptInput(
                f"CSV line {number} has {len(row)} cells, the header {len(header)}",
                hint=f"the separator found was {delimiter!r}; check quoting",
            )
        for column, cell in zip(header, row, strict=True):
            if is_formula(cell):
                raise CorruptInput(
                    f"CSV line {number}, column {column!r} holds a spreadsheet formula "
                    f"({cell[:20]!r}); formulas are refused",
                    hint="remove the leading =, +, -, @ (or tab) from text cells, "
                    "or export the sheet as values",
                )
    frame = pd.DataFrame(body, columns=header)
    lower = {h.lower(): h for h in header}
    xy = _pair(lower, X_NAMES, Y_NAMES)
    lonlat = _pair(lower, LON_NAMES, LAT_NAMES)
    if xy is None and lonlat is None:
        raise CRSMismatch(
            f"the CSV has no coordinate columns (its columns: {', '.join(header)})",
            hint="name them x and y (RD New, EPSG:28992) or lon and lat (WGS84)",
        )
    if xy is not None:
        xcol, ycol, default_crs = *xy, "EPSG:28992"
    else:
        assert lonlat is not None
        xcol, ycol, default_crs = *lonlat, "EPSG:4326"
    xs, ys = _numbers(frame[xcol], xcol), _numbers(frame[ycol], ycol)
    return gpd.GeoDataFrame(
        frame.drop(columns=[xcol, ycol]),
        geometry=gpd.points_from_xy(xs, ys),
        crs=crs or default_crs,
    )


def _decode(raw: bytes) -> str:
    if b"\x00" in raw:
        raise CorruptInput("the CSV file holds NUL bytes", hint="save it as UTF-8 text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="strict")


def _pair(lower: dict[str, str], xs: Sequence[str], ys: Sequence[str]) -> tuple[str, str] | None:
    x = next((lower[n] for n in xs if n in lower), None)
    y = next((lower[n] for n in ys if n in lower), None)
    return (x, y) if x and y else None


def _numbers(column: pd.Series, name: str) -> np.ndarray:
    cleaned = column.astype(str).str.strip().str.replace(",", ".", regex=False)
    values = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(values)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise CorruptInput(
            f"coordinate column {name!r}: {int(bad.sum())} row(s) without a number "
            f"(first on CSV line {first + 2}: {column.iloc[first]!r})",
            hint="every row needs both coordinates",
        )
    return values
