"""InVEST 3.20.2 Habitat Quality on arrays: input spec, degradation, quality and rarity.

The equations and every casting step follow ``natcap.invest.habitat_quality`` 3.20.2 as
``shared/reference/invest.md`` §2 describes it (float32 throughout, weights normalised over all
threats, z = 2.5, the rarity of classes absent from the baseline is 0). No file I/O here: the
pipeline (``biostresstest.pipeline.invest_hq``) reads InVEST's own files and calls these.

The input spec is declarative (:data:`THREATS_TABLE`, :data:`SENSITIVITY_TABLE`); the checks
return every :class:`Problem` at once, each naming its file, row and column.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from biostresstest.analysis import hq_kernels

Decay = Literal["linear", "exponential"]
DEG_NODATA = float(np.finfo(np.float32).max)
"""Nodata of ``deg_sum_*`` and ``quality_*`` (pygeoprocessing's ``raster_map`` default)."""
RARITY_NODATA = float(np.finfo(np.float32).min)
"""Nodata of ``rarity_*`` (InVEST's ``_OUT_NODATA``)."""
SCALING = np.float32(2.5)
"""z of the half-saturation curve, hard-coded in InVEST."""
QUALITY_BLOCK = 1 << 18
"""Cells per block of :func:`quality` (1 MiB of float32)."""
KM_SUSPECT_M = 50.0
"""A ``max_dist`` below this (or below one pixel) probably means kilometres (InVEST < 3.17)."""


@dataclass(frozen=True)
class ThreatSpec:
    """One threat of the threats table."""

    name: str
    max_dist_m: float
    weight: float
    decay: Decay


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the inputs, located as precisely as possible."""

    file: str
    message: str
    row: int | None = None
    """1-based line of a table (the header is row 1), or the feature number of a vector."""
    column: str | None = None
    kind: Literal["invalid", "corrupt", "crs"] = "invalid"

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}"


@dataclass(frozen=True)
class ColumnSpec:
    """What one column of an InVEST table must hold."""

    name: str
    kind: Literal["text", "number", "ratio", "integer", "option", "path"]
    required: Literal["always", "never", "with_future", "with_baseline"] = "always"
    blank_ok: bool = False
    positive: bool = False
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    """A CSV table: its columns and the spec of every column not listed (if any is allowed)."""

    role: str
    columns: tuple[ColumnSpec, ...]
    other: ColumnSpec | None = None


THREATS_TABLE = TableSpec(
    "threats table",
    (
        ColumnSpec("threat", "text"),
        ColumnSpec("max_dist", "number", positive=True),
        ColumnSpec("weight", "ratio"),
        ColumnSpec("decay", "option", options=("exponential", "linear")),
        ColumnSpec("cur_path", "path"),
        ColumnSpec("fut_path", "path", required="with_future", blank_ok=True),
        ColumnSpec("base_path", "path", required="with_baseline", blank_ok=True),
    ),
)
SENSITIVITY_TABLE = TableSpec(
    "sensitivity table",
    (
        ColumnSpec("lucode", "integer"),
        ColumnSpec("name", "text", required="never", blank_ok=True),
        ColumnSpec("habitat", "ratio"),
    ),
    other=ColumnSpec("[threat]", "ratio"),  # InVEST reads every other column as a threat 0..1
)


@dataclass
class Table:
    """A checked table: lowercased header and the rows as {column: typed value}."""

    file: str
    rows: list[dict[str, object]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)


def _typed(spec: ColumnSpec, text: str) -> tuple[object, str | None]:
    """A cell's value as the spec types it, or an error message."""
    if spec.kind in ("text", "path"):
        return (text.lower() if spec.kind == "text" else text), None
    if spec.kind == "option":
        value = text.lower()
        ok = value in spec.options
        return value, None if ok else f"'{text}' is not one of {', '.join(spec.options)}"
    try:
        number = float(text)
    except ValueError:
        return None, f"'{text}' is not a number"
    if math.isnan(number):
        return None, "is empty (NaN)"
    if spec.kind == "integer":
        if number != int(number):
            return None, f"'{text}' is not a whole number"
        return int(number), None
    if spec.kind == "ratio" and not 0.0 <= number <= 1.0:
        return number, f"{text} is outside 0..1"
    if spec.positive and not number > 0:
        return number, f"{text} must be greater than 0"
    return number, None


def check_table(
    spec: TableSpec,
    file: str,
    header: Sequence[str],
    body: Sequence[Sequence[str]],
    *,
    with_future: bool = False,
    with_baseline: bool = False,
) -> tuple[Table, list[Problem]]:
    """Type and check every cell of a table as InVEST would; return all problems found."""
    problems: list[Problem] = []
    names = [h.strip().lower() for h in header]
    table = Table(file, columns=[n for n in names if n])
    wanted = {
        "always": True,
        "never": False,
        "with_future": with_future,
        "with_baseline": with_baseline,
    }
    specs: dict[str, ColumnSpec] = {}
    for col in spec.columns:
        if col.name in names:
            specs[col.name] = col
        elif wanted[col.required]:
            problems.append(
                Problem(file, f"the {spec.role} has no column '{col.name}'", 1, col.name)
            )
    for name in names:
        if name and name not in specs:
            if spec.other is None:
                continue
            specs[name] = spec.other
    seen = set()
    for name in names:
        if name and name in seen:
            problems.append(Problem(file, "this column appears twice", 1, name))
        seen.add(name)
    for offset, cells in enumerate(body):
        line = offset + 2
        if not any(c.strip() for c in cells):
            continue  # InVEST drops empty rows
        record: dict[str, object] = {}
        for index, name in enumerate(names):
            if name not in specs:
                continue
            text = cells[index].strip() if index < len(cells) else ""
            col = specs[name]
            if not text:
                if not col.blank_ok:
                    problems.append(Problem(file, "is empty", line, name))
                record[name] = "" if col.kind in ("text", "path") else None
                continue
            value, error = _typed(col, text)
            if error:
                problems.append(Problem(file, error, line, name))
            record[name] = value
        table.rows.append(record)
        table.lines.append(line)
    return table, problems


def cross_check(threats: Table, sensitivity: Table) -> list[Problem]:
    """Checks between the two tables: sensitivity columns, duplicates, the weight sum."""
    problems: list[Problem] = []
    names: dict[str, int] = {}
    for row, line in zip(threats.rows, threats.lines, strict=True):
        name = str(row.get("threat", ""))
        if not name:
            continue
        if name in names:
            problems.append(
                Problem(threats.file, f"threat '{name}' also on row {names[name]}", line, "threat")
            )
        names.setdefault(name, line)
        if name not in sensitivity.columns:
            problems.append(
                Problem(
                    sensitivity.file,
                    f"no column for threat '{name}' (threats table row {line}); "
                    f"columns are {', '.join(sensitivity.columns)}",
                    1,
                    name,
                )
            )
    weights = [r.get("weight") for r in threats.rows]
    if weights and all(isinstance(w, float) for w in weights) and sum(weights) <= 0:  # type: ignore[arg-type]
        problems.append(Problem(threats.file, "the weights add up to 0", None, "weight"))
    codes: dict[object, int] = {}
    for row, line in zip(sensitivity.rows, sensitivity.lines, strict=True):
        code = row.get("lucode")
        if code is None:
            continue
        if code in codes:
            problems.append(
                Problem(
                    sensitivity.file, f"lucode {code} also on row {codes[code]}", line, "lucode"
                )
            )
        codes.setdefault(code, line)
    return problems


def km_warnings(threats: Table, pixel_m: float) -> list[str]:
    """Warn about max_dist values that look like kilometres (the unit before InVEST 3.17)."""
    warnings = []
    for row, line in zip(threats.rows, threats.lines, strict=True):
        dist = row.get("max_dist")
        if isinstance(dist, float) and dist > 0 and dist < max(KM_SUSPECT_M, pixel_m):
            warnings.append(
                f"{threats.file}, row {line}, column 'max_dist': {dist:g} looks like kilometres; "
                f"InVEST 3.17+ reads metres ({dist:g} m = {dist / pixel_m:.2g} pixels). "
                f"Write {dist * 1000:g} if you mean {dist:g} km."
            )
    return warnings


def _number(value: object) -> float:
    """A checked numeric cell as float."""
    if not isinstance(value, int | float):
        raise TypeError(f"not a number: {value!r}")
    return float(value)


def threat_specs(threats: Table) -> list[ThreatSpec]:
    """The threats of a checked table, in table order."""
    return [
        ThreatSpec(
            str(r["threat"]),
            _number(r["max_dist"]),
            _number(r["weight"]),
            "linear" if r["decay"] == "linear" else "exponential",
        )
        for r in threats.rows
    ]


@dataclass(frozen=True)
class ClassTable:
    """The sensitivity table as lookup arrays over class indices (last index: nodata)."""

    codes: np.ndarray
    habitat: np.ndarray
    sensitivity: Mapping[str, np.ndarray]

    @classmethod
    def from_table(cls, table: Table, threats: Sequence[ThreatSpec]) -> ClassTable:
        """Codes sorted; float32 values as InVEST's reclassification stores them."""
        rows = sorted(table.rows, key=lambda r: int(r["lucode"]))  # type: ignore[call-overload]
        codes = np.array([int(r["lucode"]) for r in rows], np.int64)  # type: ignore[call-overload]

        def lut(column: str) -> np.ndarray:
            values = [float(r[column]) for r in rows]  # type: ignore[arg-type]
            return np.array([*values, 0.0, 0.0], np.float64).astype(np.float32)

        return cls(codes, lut("habitat"), {t.name: lut(t.name) for t in threats})

    @property
    def nodata_index(self) -> int:
        """The class index of nodata cells."""
        return len(self.codes)


def classify(
    lulc: np.ndarray, codes: np.ndarray, nodata: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Class index per cell (nodata -> ``len(codes)``) and the codes missing from the table.

    Like pygeoprocessing's ``reclassify_raster``: a table row whose code is the nodata value
    maps the nodata cells to that row instead of to nodata. Cells with a missing code get
    ``len(codes) + 1``.
    """
    values = np.ascontiguousarray(lulc)
    dtype = np.uint8 if len(codes) < 254 else np.uint16
    finite = nodata is not None and math.isfinite(nodata) and float(nodata).is_integer()
    code = int(nodata) if finite and nodata is not None else None
    if values.dtype in (np.uint8, np.uint16):  # a look-up table over every possible value
        n = len(codes)
        lut = np.full(1 << (8 * values.dtype.itemsize), n + 1, dtype)
        fits = (codes >= 0) & (codes < lut.size)
        lut[codes[fits]] = np.flatnonzero(fits)
        if code is not None and 0 <= code < lut.size and code not in codes:
            lut[code] = n
        index = lut[values]
        missing_values = values[index == n + 1]
        return index, np.unique(missing_values) if missing_values.size else codes[:0]
    index = np.empty(values.shape, dtype)
    n_missing = hq_kernels.classify_codes(
        values, codes.astype(np.int64), 0 if code is None else code, code is not None, index
    )
    missing = np.unique(values[index == len(codes) + 1]) if n_missing else codes[:0]
    return index, missing


def degradation(
    lulc_index: np.ndarray,
    threats: Sequence[tuple[ThreatSpec, np.ndarray]],
    table: ClassTable,
    pixel_m: float,
    access: np.ndarray | None = None,
) -> np.ndarray:
    """``deg_sum`` (float32, nodata :data:`DEG_NODATA`) from threat presence masks.

    ``threats``: (spec, presence) in table order; presence is True where the aligned threat
    raster is not 0 and not nodata. The sum runs in float32 in table order, as numpy.sum did.
    """
    acc = np.zeros(lulc_index.shape, np.float32)
    weight_sum = sum(t.weight for t, _ in threats)
    rows, cols = lulc_index.shape
    for spec, present in threats:
        mask = np.ascontiguousarray(present, dtype=np.uint8)
        hq_kernels.accumulate_threat(
            mask,
            0,
            lulc_index,
            table.sensitivity[spec.name],
            max_dist_px=spec.max_dist_m / pixel_m,
            decay=spec.decay,
            weight=spec.weight / weight_sum,
            acc=acc,
            access=access,
            empty_rows_cols=None if mask.any() else (rows, cols),
        )
    acc[lulc_index == table.nodata_index] = DEG_NODATA
    return acc


def quality(deg_sum: np.ndarray, habitat: np.ndarray, k: float) -> np.ndarray:
    """``Q = H (1 - D^z / (D^z + k^z))`` in float32; nodata where D or H is nodata.

    Computed in blocks of :data:`QUALITY_BLOCK` cells, so the temporaries stay small whatever
    the size of the map (the values are the same, cell by cell).
    """
    d = np.asarray(deg_sum, np.float32).reshape(-1)
    h = np.asarray(habitat, np.float32).reshape(-1)
    ksq = np.float32(k**2.5)
    out = np.full(d.shape, np.float32(DEG_NODATA), np.float32)
    for start in range(0, d.size, QUALITY_BLOCK):
        part = slice(start, start + QUALITY_BLOCK)
        dp, hp = d[part], h[part]
        valid = (dp != np.float32(DEG_NODATA)) & ~np.isnan(hp)
        dz = dp[valid] ** SCALING
        out[part][valid] = hp[valid] * (np.float32(1) - dz / (dz + ksq))
    return out.reshape(np.shape(deg_sum))


def habitat_of(lulc_index: np.ndarray, table: ClassTable) -> np.ndarray:
    """Habitat suitability per cell (float32, NaN where the land cover is nodata)."""
    values = table.habitat.copy()
    values[table.nodata_index :] = np.nan
    return values[lulc_index]


def rarity_values(
    counts_x: np.ndarray, counts_b: np.ndarray, area_x: float, area_b: float
) -> np.ndarray:
    """Per class: ``1 - Nx ax / (Nb ab + Nx ax)``, 0 where the baseline lacks the class.

    ``counts_x`` counts the scenario's classes only where the baseline is valid. float64, as
    InVEST computes it (it stores float32 in the raster, the float64 value in the CSV).
    """
    nx = counts_x.astype(np.float64) * area_x
    nb = counts_b.astype(np.float64) * area_b
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = 1.0 - nx / (nb + nx)
    return np.where(counts_b > 0, ratio, 0.0)


def rarity_counts(
    index_x: np.ndarray, index_b: np.ndarray, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cells per class: of the scenario where both maps are valid, and of the baseline."""
    valid = (index_x < n_classes) & (index_b < n_classes)
    counts_x = np.bincount(index_x[valid], minlength=n_classes)[:n_classes]
    counts_b = np.bincount(index_b[index_b < n_classes], minlength=n_classes)[:n_classes]
    return counts_x, counts_b


def rarity(
    index_x: np.ndarray, index_b: np.ndarray, n_classes: int, area: float = 1.0
) -> tuple[np.ndarray, dict[int, float]]:
    """``rarity_x`` (float32, nodata :data:`RARITY_NODATA`) and {class index: value}.

    ``index_*``: class indices with ``n_classes`` (or more) as nodata. Nodata where either map
    is; values only for the classes present in the scenario where the baseline is valid.
    """
    counts_x, counts_b = rarity_counts(index_x, index_b, n_classes)
    values = rarity_values(counts_x, counts_b, area, area)
    lut = np.append(values.astype(np.float32), np.float32(RARITY_NODATA))
    valid = (index_x < n_classes) & (index_b < n_classes)
    out = lut[np.where(valid, index_x, n_classes)]
    return out, {int(i): float(values[i]) for i in np.flatnonzero(counts_x)}
