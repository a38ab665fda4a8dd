"""InVEST 3.20.2 Urban Cooling (``cc_method=factors``) on arrays: CC, HM and air temperature.

The equations and casting steps follow ``natcap.invest.urban_cooling_model`` 3.20.2 as
``shared/reference/invest.md`` §3 describes it:

* ``ETI = kc · ET0 / ET_max`` in float32 (ET_max: the largest ET0 of the aligned grid, rounded to
  9 decimals);
* ``CC = w_s·shade + w_a·albedo + w_e·ETI`` in float32, the weights divided by their sum;
* ``CC_park``: CC of green cells (0 elsewhere) convolved with ``exp(-d/R)`` on a disc of radius
  5R, divided by the same convolution of the valid cells (nodata and the raster edge are "not
  there", not 0); R = round(cooling distance / cell);
* ``GA``: the same edge-corrected count of green cells within R (a 0/1 disc);
* ``HM = CC`` where ``CC >= CC_park`` or ``GA < 2 ha / cell area``, else ``CC_park``;
* ``T_nomix = T_ref + (1 - HM)·UHI_max`` (float32), blurred like CC_park with
  r = round(t_air_average_radius / cell) into ``T_air`` (float64).

The convolutions are FFTs over the whole grid: CC_park in float64 (its tolerance is 1e-6), the
green-area count in float32 rounded to the exact integers InVEST's float32 tiles hold (checked,
else float64; large discs go to float64 at once), T_air in float32 on ``T_nomix - T_ref``
(error ~1e-5 °C against 1e-4). A kernel reaching beyond the grid (at 1 m, 5 x 500 m) is cut
at the grid's extent, and the FFT is circular of size ``rows + reach`` rather than zero-padded
to ``rows + 2·reach``: what wraps around lands outside the grid. The kernel's spectrum is real
(it is even) and computed from one quadrant; the grid is transformed a block of rows at a time.
No file I/O here: :mod:`biostresstest.pipeline.invest_uc` reads InVEST's files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import scipy.fft as sfft

from biostresstest.analysis.habitat_quality import ColumnSpec, TableSpec
from biostresstest.core.errors import InvalidInput
from biostresstest.model.landcover import LandCoverTable

CC_NODATA = -1.0
"""Nodata of ``cc.tif`` and ``hm.tif`` (InVEST's ``TARGET_NODATA``)."""
T_AIR_NODATA = float(np.finfo(np.float32).min)
"""Nodata of the float64 ``T_air.tif`` (pygeoprocessing's ``convolve_2d`` default)."""
GREEN_AREA_M2 = 2e4
"""A park cools its surroundings only when the green area within reach is at least 2 ha."""
SCALE = 5
"""The exponential kernels reach 5 times their 1/e distance."""
INTEGER_SLACK = 0.25
"""Largest distance from an integer that a float32 FFT count may show before float64 is used."""
ROW_BLOCK = 256
"""Rows transformed at a time along the second axis (bounds the temporaries)."""
FLOAT32_COUNT_CELLS = 2**17
"""Discs of more cells are counted in float64 straight away: float32 FFT errors grow with the
count (a 450-cell radius, 636,000 cells, misses an integer by 0.4)."""

BIOPHYSICAL_TABLE = TableSpec(
    "biophysical table",
    (
        ColumnSpec("lucode", "integer"),
        ColumnSpec("kc", "number"),
        ColumnSpec("green_area", "option", options=("0", "1", "true", "false")),
        ColumnSpec("shade", "ratio"),
        ColumnSpec("albedo", "ratio"),
    ),
)
"""The columns ``cc_method=factors`` reads (names are matched case-insensitively)."""


@dataclass(frozen=True)
class CoolingWeights:
    """Weights of shade, albedo and ETI in CC (InVEST divides them by their sum)."""

    shade: float = 0.6
    albedo: float = 0.2
    eti: float = 0.2

    def normalised(self) -> tuple[float, float, float]:
        """The three weights divided by their sum, as Python floats like InVEST's."""
        total = self.shade + self.albedo + self.eti
        if not all(0.0 <= w <= 1.0 for w in (self.shade, self.albedo, self.eti)) or total <= 0:
            raise InvalidInput(
                f"cooling-capacity weights {self.shade}, {self.albedo}, {self.eti} must each be "
                "in 0..1 and not all 0",
                hint="the defaults are shade 0.6, albedo 0.2, eti 0.2",
            )
        return self.shade / total, self.albedo / total, self.eti / total


@dataclass(frozen=True)
class CoolingResult:
    """The layers of one run on the aligned grid, with InVEST's dtypes (NaN = nodata)."""

    eti: np.ndarray
    cc: np.ndarray
    cc_park: np.ndarray
    green_area_sum: np.ndarray
    hm: np.ndarray
    t_air_nomix: np.ndarray
    t_air: np.ndarray
    """float64, as InVEST writes it."""
    eto_max: float


def radius_pixels(distance_m: float, cell_size: float, what: str) -> int:
    """``int(numpy.round(distance / cell))``: InVEST's kernel radius in pixels (half to even)."""
    if not distance_m >= 0:
        raise InvalidInput(f"{what} must be >= 0 m, not {distance_m}")
    pixels = int(np.round(distance_m / cell_size))
    if pixels < 1:
        raise InvalidInput(
            f"{what} {distance_m:g} m is less than half a cell ({cell_size:g} m): the kernel "
            "would have radius 0 (InVEST 3.20.2 then divides 0 by 0 and writes NaN)",
            hint=f"use a distance of at least {cell_size / 2:g} m",
        )
    return pixels


def exponential_kernel(radius: int) -> np.ndarray:
    """pygeoprocessing's ``exponential_decay_kernel(max=5R, expected=R)``, normalised, float32.

    Built from one quadrant (the kernel is symmetric in both axes), the values and their
    float32 sum exactly as from the whole disc.
    """
    reach = SCALE * radius
    offsets = np.arange(reach + 1, dtype=np.float64)
    dist = np.hypot(offsets[:, None], offsets[None, :])
    quadrant = np.exp(-dist / radius)
    quadrant[dist > reach] = 0.0
    del dist
    kernel = _mirrored(quadrant.astype(np.float32))
    total = kernel.sum(dtype=np.float32)
    kernel /= total
    return kernel


def _mirrored(quadrant: np.ndarray) -> np.ndarray:
    """The whole kernel from its quadrant of offsets ``0..reach`` on both axes."""
    reach = quadrant.shape[0] - 1
    kernel = np.empty((2 * reach + 1, 2 * reach + 1), quadrant.dtype)
    kernel[reach:, reach:] = quadrant
    kernel[reach:, : reach + 1] = quadrant[:, ::-1]
    kernel[: reach + 1, reach:] = quadrant[::-1, :]
    kernel[: reach + 1, : reach + 1] = quadrant[::-1, ::-1]
    return kernel


def disc_kernel(radius: int) -> np.ndarray:
    """pygeoprocessing's ``dichotomous_kernel(R, normalize=False)``: 1 where d <= R."""
    dy, dx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return (dy * dy + dx * dx <= radius * radius).astype(np.float32)


def _fft_plan(grid: tuple[int, int], reach: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """(FFT shape, kernel reach used per axis) of a "same" convolution on ``grid``.

    Input and output both lie on the grid, so offsets beyond ``rows - 1`` (``cols - 1``) never
    meet a cell: the kernel is cut there. A circular convolution of size ``rows + reach`` then
    equals the zero-padded one on every grid cell (what wraps around lands outside the grid).
    """
    rows, cols = grid
    ry, rx = min(reach, rows - 1), min(reach, cols - 1)
    shape = (sfft.next_fast_len(rows + ry), sfft.next_fast_len(cols + rx, real=True))
    return shape, (ry, rx)


def _kernel_spectrum(
    kernel: np.ndarray, grid: tuple[int, int], dtype: type[np.floating]
) -> tuple[np.ndarray, tuple[int, int]]:
    """(real spectrum, FFT shape) of a kernel symmetric in both axes, centred on cell (0, 0).

    The kernel wraps around the FFT array, so the output needs no shift. Being even in both
    axes, its spectrum is real and even: rows are transformed only where the kernel has them
    (offsets ``0..ry``), columns with a real FFT, and the other half is mirrored (the
    imaginary parts are rounding noise and are dropped).
    """
    reach = kernel.shape[0] // 2
    shape, (ry, rx) = _fft_plan(grid, reach)
    workers = _workers()
    rows = np.zeros((ry + 1, shape[1]), dtype)
    rows[:, : rx + 1] = kernel[reach : reach + ry + 1, reach : reach + rx + 1]
    if rx:
        rows[:, shape[1] - rx :] = kernel[reach : reach + ry + 1, reach - rx : reach]
    rows_hat = sfft.rfft(rows, axis=1, workers=workers, overwrite_x=True).real
    del rows
    columns = np.zeros((shape[0], rows_hat.shape[1]), dtype)
    columns[: ry + 1] = rows_hat
    if ry:
        columns[shape[0] - ry :] = rows_hat[ry:0:-1]
    del rows_hat
    half = sfft.rfft(columns, axis=0, workers=workers, overwrite_x=True).real
    del columns
    spectrum = np.empty((shape[0], half.shape[1]), dtype)
    spectrum[: half.shape[0]] = half
    rest = shape[0] - half.shape[0]
    spectrum[half.shape[0] :] = half[1 : rest + 1][::-1]
    return spectrum, shape


def _workers() -> int:
    return os.cpu_count() or 1


def _convolve(
    array: np.ndarray, k_hat: np.ndarray, shape: tuple[int, int], dtype: type[np.floating]
) -> np.ndarray:
    """``array`` (rows x cols) convolved with the kernel of ``k_hat``, on the grid.

    The result has the FFT's precision: float64, or float32 (exactly the values a float64
    copy would hold, at half the memory).

    Only the grid's rows are transformed along the second axis, both ways, a block of rows at
    a time into one spectrum (transformed in place), so no padded copy of the grid is made.
    """
    rows, cols = array.shape
    workers = _workers()
    spectrum = np.zeros((shape[0], shape[1] // 2 + 1), np.result_type(dtype, np.complex64))
    for start in range(0, rows, ROW_BLOCK):
        stop = min(start + ROW_BLOCK, rows)
        padded = np.zeros((stop - start, shape[1]), dtype)
        padded[:, :cols] = array[start:stop]
        spectrum[start:stop] = sfft.rfft(padded, axis=1, workers=workers, overwrite_x=True)
    spectrum = sfft.fft(spectrum, axis=0, workers=workers, overwrite_x=True)
    spectrum *= k_hat
    spectrum = sfft.ifft(spectrum, axis=0, workers=workers, overwrite_x=True)
    out = np.empty((rows, cols), dtype)
    for start in range(0, rows, ROW_BLOCK):
        stop = min(start + ROW_BLOCK, rows)
        block = sfft.irfft(spectrum[start:stop], n=shape[1], axis=1, workers=workers)
        out[start:stop] = block[:, :cols]
    return out


def _convolve_pair(
    signal: np.ndarray, valid: np.ndarray, k_hat: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """``(Σ K·signal, Σ K·valid)`` per cell, zero beyond the grid ("same" output).

    ``k_hat`` and ``shape`` come from :func:`_kernel_spectrum`; its dtype is the FFT's.
    """
    dtype = k_hat.dtype.type
    return _convolve(signal, k_hat, shape, dtype), _convolve(valid, k_hat, shape, dtype)


def _counts(
    mask: np.ndarray, valid: np.ndarray, kernel: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Exact integer disc counts of ``mask`` and ``valid`` (float32 FFT, checked; else float64)."""
    tries: tuple[type[np.floating], ...] = (
        (np.float32, np.float64) if kernel.sum() <= FLOAT32_COUNT_CELLS else (np.float64,)
    )
    for dtype in tries:
        k_hat, shape = _kernel_spectrum(kernel, mask.shape, dtype)
        pair = list(_convolve_pair(mask, valid, k_hat, shape))
        del k_hat
        slack = 0.0
        for i, raw in enumerate(pair):
            pair[i] = np.rint(raw)
            raw -= pair[i]
            slack = max(slack, float(np.abs(raw).max(initial=0.0)))
        del raw
        if slack <= INTEGER_SLACK:
            break
    return pair[0], pair[1]


def green_area_sum(
    green_area: np.ndarray, cell_size: float, green_area_cooling_distance: float
) -> np.ndarray:
    """GA: the edge-corrected count of green cells within R (float64, NaN at nodata).

    ``(green count / valid count) · disc cells`` in float64 from exact integer counts, as
    pygeoprocessing's normalised convolution of InVEST's float32 tiles gives it.
    """
    radius = radius_pixels(green_area_cooling_distance, cell_size, "green_area_cooling_distance")
    land = np.isfinite(green_area)
    green = land & (np.nan_to_num(green_area) != 0)
    disc = disc_kernel(radius)
    result = _normalised(*_counts(green, land, disc), land)
    result *= float(disc.sum(dtype=np.float32))
    return result


def _normalised(total: np.ndarray, weight: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``total / weight`` in float64 where ``valid`` and ``weight > 0``, else NaN.

    A float64 ``total`` is divided in place (its buffer is the result).
    """
    divisible = valid & (weight > 0)
    if total.dtype == np.float64:
        np.divide(total, weight, out=total, where=divisible)
        total[~divisible] = np.nan
        return total
    result = np.full(total.shape, np.nan)
    np.divide(total, weight, out=result, where=divisible, dtype=np.float64)
    return result


def eto_maximum(ref_eto: np.ndarray) -> float:
    """ET_max as InVEST takes it: the largest valid ET0 of the grid, rounded to 9 decimals."""
    finite = ref_eto[np.isfinite(ref_eto)]
    if finite.size == 0:
        raise InvalidInput("the reference evapotranspiration has no valid cell on the grid")
    top = float(np.round(float(finite.max()), 9))
    if top <= 0:
        raise InvalidInput(
            f"the largest reference evapotranspiration is {top:g}: ETI = kc·ET0/ET_max needs "
            "ET_max > 0",
            hint="ET0 is in mm (for a hot Dutch summer day about 4-6 mm)",
        )
    return top


def compute(
    shade: np.ndarray,
    albedo: np.ndarray,
    kc: np.ndarray,
    green_area: np.ndarray,
    ref_eto: np.ndarray,
    *,
    cell_size: float,
    green_area_cooling_distance: float,
    t_air_average_radius: float,
    t_ref: float,
    uhi_max: float,
    weights: CoolingWeights = CoolingWeights(),
    eto_max: float | None = None,
    green_sum: np.ndarray | None = None,
) -> CoolingResult:
    """Every layer of the model; NaN in an input marks nodata. See :func:`urban_cooling`.

    ``green_sum``: :func:`green_area_sum` of the same inputs when already computed.
    """
    big_r = radius_pixels(green_area_cooling_distance, cell_size, "green_area_cooling_distance")
    small_r = radius_pixels(t_air_average_radius, cell_size, "t_air_average_radius")
    if not uhi_max >= 0:
        raise InvalidInput(f"uhi_max must be >= 0 °C, not {uhi_max}")
    w_shade, w_albedo, w_eti = (np.float32(w) for w in weights.normalised())
    top = eto_maximum(ref_eto) if eto_max is None else eto_max
    land = np.isfinite(green_area) & np.isfinite(kc) & np.isfinite(shade) & np.isfinite(albedo)
    ok = land & np.isfinite(ref_eto)
    # ETI: float32 when ET0 is float32 (NumPy 1.x casts the float64 ET_max down), else float64
    work = np.result_type(np.float32, ref_eto.dtype)
    product = kc.astype(work) * ref_eto.astype(work, copy=False)
    eti = np.where(ok, product / work.type(top), np.nan).astype(np.float32)
    del product
    cc = w_shade * shade.astype(np.float32, copy=False)
    cc += w_albedo * albedo.astype(np.float32, copy=False)
    cc += w_eti * eti
    cc[~ok] = np.nan
    green = land & (np.nan_to_num(green_area) != 0)
    cc_green = np.where(green & ok, cc, np.float32(0))
    kernel = exponential_kernel(big_r)
    big_total = float(kernel.sum(dtype=np.float32))
    k_hat, shape = _kernel_spectrum(kernel, ok.shape, np.float64)
    del kernel  # the kernel of a 1 m grid is larger than the grid itself
    cc_park = _normalised(*_convolve_pair(cc_green, ok, k_hat, shape), ok)
    del k_hat
    del cc_green
    cc_park *= big_total
    if green_sum is None:
        green_sum = green_area_sum(green_area, cell_size, green_area_cooling_distance)
    threshold = GREEN_AREA_M2 / float(cell_size) ** 2
    keep_cc = (cc >= cc_park) | (green_sum < threshold)  # compared in float64
    hm = np.where(keep_cc, cc, cc_park.astype(np.float32))
    hm[~ok] = np.nan
    t_nomix = np.float32(t_ref) + (np.float32(1) - hm) * np.float32(uhi_max)
    kernel = exponential_kernel(small_r)
    small_total = float(kernel.sum(dtype=np.float32))
    k_hat, shape = _kernel_spectrum(kernel, ok.shape, np.float32)
    del kernel
    excess = t_nomix.astype(np.float64)
    excess -= t_ref
    excess[~ok] = 0.0
    excess = excess.astype(np.float32)  # as the float32 FFT reads it
    t_air = _normalised(*_convolve_pair(excess, ok, k_hat, shape), ok)
    del excess
    t_air += t_ref
    t_air *= small_total
    return CoolingResult(eti, cc, cc_park, green_sum, hm, t_nomix, t_air, top)


def urban_cooling(
    shade: np.ndarray,
    albedo: np.ndarray,
    kc: np.ndarray,
    green_area: np.ndarray,
    ref_eto: np.ndarray,
    *,
    cell_size: float,
    green_area_cooling_distance: float,
    t_air_average_radius: float,
    t_ref: float,
    uhi_max: float,
    weights: CoolingWeights = CoolingWeights(),
    valid: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Cooling capacity ``cc``, heat mitigation ``hm`` and air temperature ``t_air`` (°C).

    The land-cover parameters (``shade``, ``albedo`` 0..1, ``kc``, ``green_area`` 0/1) are NaN
    where the land cover is nodata; ``ref_eto`` (mm) is NaN where it is nodata. Cells outside
    ``valid`` count as nodata too. ET_max is taken over every valid ET0 cell of the grid (as
    InVEST takes it over the whole aligned raster, inside ``valid`` or not). Outputs are float32,
    NaN where InVEST writes nodata.
    """
    if valid is not None:
        outside = ~np.asarray(valid, bool)
        shade, albedo, kc, green_area = (
            np.where(outside, np.nan, a).astype(np.float32) for a in (shade, albedo, kc, green_area)
        )
    result = compute(
        shade,
        albedo,
        kc,
        green_area,
        ref_eto,
        cell_size=cell_size,
        green_area_cooling_distance=green_area_cooling_distance,
        t_air_average_radius=t_air_average_radius,
        t_ref=t_ref,
        uhi_max=uhi_max,
        weights=weights,
    )
    return {
        "cc": result.cc,
        "hm": result.hm,
        "t_air": result.t_air.astype(np.float32),
        "eti": result.eti,
    }


def class_parameters(classes: np.ndarray, table: LandCoverTable) -> dict[str, np.ndarray]:
    """``shade``, ``albedo``, ``kc`` and ``green_area`` (float32) per cell from class codes.

    ``classes`` holds the land-cover codes of ``table`` (0 = no class); cells without a class
    or with a code the table lacks get NaN (nodata).
    """
    luts = {name: np.full(256, np.nan, np.float32) for name in ("shade", "albedo", "kc")}
    luts["green_area"] = np.full(256, np.nan, np.float32)
    for item in table:
        luts["shade"][item.code] = item.shade.value
        luts["albedo"][item.code] = item.albedo.value
        luts["kc"][item.code] = item.kc.value
        luts["green_area"][item.code] = 1.0 if item.green else 0.0
    codes = np.asarray(classes)
    if codes.dtype != np.uint8:
        inside = (codes >= 0) & (codes <= 255)
        codes = np.where(inside, codes, 0).astype(np.uint8)
    return {name: lut[codes] for name, lut in luts.items()}
