"""The published state of an area, read from the store's cell layers (COGs) on demand.

Layers are read whole on first use and kept, so a second scenario on the same area reads
nothing. A baseline is tied to the manifest key of the run it was read from; a new publish
gives a new baseline.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import rasterio
from scipy import ndimage

from biostresstest.analysis import robustness
from biostresstest.analysis.scoring import connectivity, score_class, stress_score
from biostresstest.core.errors import InvalidInput, NotLoaded
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes
from biostresstest.model.store import Store

COARSE_CLASSES = frozenset({"begroeid_onbepaald", "onbegroeid_onbepaald"})
"""Classes of a coarse raster land cover (vegetated or not, type unknown)."""
NEEDED = ("landcover", "habitat_quality", "degradation", "baf", "distance_to_core", "score")


@dataclass
class Baseline:
    """The published cell layers of one area (``key``) on its grid."""

    store: Store
    key: str
    grid: AnalysisGrid
    run_key: str
    _layers: dict[str, np.ndarray] = field(default_factory=dict)
    _coarse: bool | None = None
    _patches: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    _totals: tuple[float, int, np.ndarray] | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def layer(self, name: str) -> np.ndarray:
        """The whole published layer ``name`` (read once)."""
        with self._lock:
            if name not in self._layers:
                try:
                    path = self.store.raster_path(self.key, name)
                except (KeyError, FileNotFoundError) as exc:
                    raise NotLoaded(f"{self.key} has no published layer {name!r}") from exc
                with rasterio.open(path) as src:
                    data = src.read(1)
                    if src.nodata is not None and data.dtype.kind == "f":
                        data[data == src.nodata] = np.nan
                self._layers[name] = data
            return self._layers[name]

    @property
    def landcover(self) -> np.ndarray:
        """Land-cover class codes (0 = none)."""
        return self.layer("landcover")

    @property
    def coarse(self) -> bool:
        """True when the land cover knows only vegetated / not vegetated (a raster source).

        Then the natural areas of the connectivity component come from the green share
        (``robustness.natural_mask_from_share``), as in the gemeente run.
        """
        with self._lock:
            if self._coarse is None:
                table = load_classes()
                present = np.bincount(self.landcover.ravel(), minlength=256).nonzero()[0]
                codes = {int(c) for c in present} - {0}
                self._coarse = codes <= {table.by_key(k).code for k in COARSE_CLASSES}
            return self._coarse

    def natural(self, rows: slice, cols: slice) -> np.ndarray:
        """The natural mask of the published state in a window."""
        if self.coarse:
            return robustness.natural_mask_from_share(self.layer("green_share")[rows, cols])
        return robustness.natural_mask(self.landcover[rows, cols], load_classes())

    def natural_patches(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(natural mask, 8-connected labels of all its patches, area m² per label), kept."""
        with self._lock:
            cached = self._patches
        if cached is None:
            mask = self.natural(slice(None), slice(None))
            labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
            areas = np.bincount(labels.ravel(), minlength=n + 1) * self.grid.cell_area
            cached = (mask, labels.astype(np.int32), areas.astype(np.float64))
            with self._lock:
                self._patches = cached
        return cached

    def score_totals(self) -> tuple[float, int, np.ndarray]:
        """(sum, number of cells, counts of classes 1..7) of the published v2 score, kept."""
        with self._lock:
            cached = self._totals
        if cached is None:
            full = self.score_before()
            counts = np.bincount(score_class(full).ravel(), minlength=8)[1:8]
            valid = ~np.isnan(full)
            cached = (float(full[valid].sum(dtype=np.float64)), int(valid.sum()), counts)
            with self._lock:
                self._totals = cached
        return cached

    def score_before(self) -> np.ndarray:
        """The v2 score of the published components, NaN outside the area (computed once)."""
        with self._lock:
            cached = self._layers.get("_score_v2")
        if cached is not None:
            return cached
        score = components_score(
            self.layer("habitat_quality"),
            self.layer("baf"),
            self.layer("distance_to_core"),
            self.layer("score"),
        )
        with self._lock:
            self._layers["_score_v2"] = score
        return score

    def inside(self, x: float, y: float) -> bool:
        """Whether RD point (x, y) lies in a cell with a published score."""
        cell = self.grid.cell_of(x, y)
        return cell is not None and not np.isnan(self.layer("score")[cell])


def components_score(
    quality: np.ndarray, baf: np.ndarray, distance: np.ndarray, published: np.ndarray
) -> np.ndarray:
    """stress_score of the components, NaN where the published score is NaN (outside)."""
    score = stress_score(quality, baf, connectivity(distance))
    score[np.isnan(published)] = np.nan
    return score


def grid_of(path: object) -> AnalysisGrid:
    """The analysis grid of a published COG."""
    with rasterio.open(str(path)) as src:
        t = src.transform
        if abs(t.a + t.e) > 1e-9 or t.b or t.d:
            raise InvalidInput(f"{path} is not on a north-up square grid")
        return AnalysisGrid(t.c, t.f, src.width, src.height, t.a, str(src.crs or "EPSG:28992"))


_CACHE: OrderedDict[tuple[int, str, str], Baseline] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


def load_baseline(store: Store, key: str) -> Baseline:
    """The baseline of area ``key`` (kept per store and run, the last few in memory)."""
    manifest = store.manifest(key)
    run_key = str(manifest.get("key", ""))
    ident = (id(store), key, run_key)
    with _CACHE_LOCK:
        if ident in _CACHE:
            _CACHE.move_to_end(ident)
            return _CACHE[ident]
    grid = grid_of(store.raster_path(key, "landcover"))
    baseline = Baseline(store, key, grid, run_key)
    with _CACHE_LOCK:
        _CACHE[ident] = baseline
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return baseline
