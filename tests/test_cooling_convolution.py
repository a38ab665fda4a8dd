"""The Urban Cooling FFT convolutions equal a direct zero-padded convolution.

At 1 m the cooling kernels (5 x 450 m, 5 x 500 m) are larger than a study area, so the kernel
is cut at the grid's extent and the FFT is circular of size ``rows + reach``; the golden
InVEST cases (10 m, small kernels) do not reach that case. Here a direct convolution decides.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from biostresstest.analysis import urban_cooling as uc


def direct(array: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Σ K·array per cell with zero padding beyond the grid, summed one product at a time."""
    return np.asarray(signal.convolve(array.astype(np.float64), kernel, "same", "direct"))


@pytest.mark.parametrize(
    ("shape", "radius"),
    [((23, 31), 9), ((40, 12), 2), ((1, 50), 3), ((50, 1), 3), ((64, 48), 1), ((7, 7), 20)],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exponential_convolution_matches_direct(
    shape: tuple[int, int], radius: int, dtype: type[np.floating]
) -> None:
    """Kernels much larger than the grid (reach 5R up to 100 cells on a 7 x 7 grid) included."""
    rng = np.random.default_rng(sum(shape) + radius)
    values = rng.random(shape)
    valid = rng.random(shape) > 0.2
    kernel = uc.exponential_kernel(radius)
    k_hat, fft_shape = uc._kernel_spectrum(kernel, shape, dtype)
    total, weight = uc._convolve_pair(values, valid, k_hat, fft_shape)
    tolerance = 1e-12 if dtype is np.float64 else 2e-6
    np.testing.assert_allclose(total, direct(values, kernel), rtol=0, atol=tolerance)
    np.testing.assert_allclose(weight, direct(valid, kernel), rtol=0, atol=tolerance)


def test_green_area_beyond_the_grid_counts_exactly() -> None:
    """GA with a disc wider than the grid: whole counts, as the direct convolution gives."""
    rng = np.random.default_rng(7)
    green = (rng.random((30, 45)) > 0.6).astype(np.float32)
    green[:3, :5] = np.nan  # nodata corner
    land = np.isfinite(green)
    disc = uc.disc_kernel(50)
    expected = direct(np.nan_to_num(green) * land, disc) / direct(land, disc)
    expected *= float(disc.sum())
    expected[~land] = np.nan
    got = uc.green_area_sum(green, cell_size=1.0, green_area_cooling_distance=50.0)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


def test_exponential_kernel_is_the_whole_disc_normalised() -> None:
    """Built from a quadrant, the kernel equals the one computed on the whole disc."""
    radius = 6
    reach = uc.SCALE * radius
    dy, dx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    dist = np.hypot(dy, dx)
    whole = np.zeros(dist.shape, np.float32)
    inside = dist <= reach
    whole[inside] = np.exp(-dist[inside] / radius)
    whole /= whole.sum(dtype=np.float32)
    np.testing.assert_array_equal(uc.exponential_kernel(radius), whole)
