"""Natural patches, SICB connectivity (EMS, coherence), IIC and distance to core on known layouts.

Most layouts use 10 m cells, so a 4 × 4-cell block is a 40 × 40 m patch (1,600 m²) and a gap of
9 empty cells is 90 m from edge to edge.
"""

from __future__ import annotations

import copy
import itertools
import time
import tomllib
from importlib import resources
from typing import Any

import numpy as np
import pytest
import rasterio
from scipy import ndimage
from scipy.spatial import cKDTree

from biostresstest.analysis.barriers import (
    _any_clear,
    barrier_mask,
    cut_links,
    disc_radius,
    wide_parts,
)
from biostresstest.analysis.robustness import (
    barrier_cells,
    barrier_links,
    clusters,
    core_mask,
    distance_to_core,
    iic,
    mesh_metrics,
    natural_mask,
    natural_mask_from_share,
    patch_links,
    patches,
    sicb_connectivity_points,
)
from biostresstest.core.errors import CorruptInput, InvalidInput
from biostresstest.core.settings import Settings
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes, validate_table
from biostresstest.pipeline.run import RunSummary

A = 1600.0  # m², one 40 × 40 m patch


def _grid(rows: int, cols: int, cell: float = 10.0) -> AnalysisGrid:
    return AnalysisGrid(xmin=0.0, ymax=rows * cell, width=cols, height=rows, cell_size=cell)


def _layout(rows: int, cols: int, blocks: list[tuple[int, int, int, int]]) -> np.ndarray:
    """A mask with filled blocks (row, col, height, width) in cells."""
    mask = np.zeros((rows, cols), dtype=bool)
    for r, c, h, w in blocks:
        mask[r : r + h, c : c + w] = True
    return mask


def _whole(grid: AnalysisGrid) -> np.ndarray:
    return np.ones(grid.shape, dtype=np.int32)


def _n_clusters(mask: np.ndarray, grid: AnalysisGrid) -> int:
    labels, _ = patches(mask, grid)
    return int(clusters(labels, grid).max())


def test_natural_mask_takes_habitat_of_at_least_half_and_leaves_out_water() -> None:
    table = load_classes()
    code = {key: table.by_key(key).code for key in table.keys}
    keys = ["loofbos", "heide", "grasland_overig", "gras_openbaar", "berm", "erf", "akker"]
    keys += ["water_stilstaand", "begroeid_onbepaald"]
    classes = np.array([[code[k] for k in keys] + [0]], dtype=np.uint8)
    expected = [True, True, True, False, False, False, False, False, False, False]
    assert natural_mask(classes, table).tolist() == [expected]  # grasland_overig is exactly 0.5
    with_water = natural_mask(classes, table, include_water=True)[0]
    assert with_water[keys.index("water_stilstaand")]
    # a coarse grid that only knows "vegetated, type unknown" has no natural class at all
    coarse = np.full((3, 3), code["begroeid_onbepaald"], dtype=np.uint8)
    assert not natural_mask(coarse, table).any()
    share = np.array([0.8, 0.75, 0.74, np.nan])
    assert natural_mask_from_share(share).tolist() == [True, True, False, False]


def test_patches_are_8_connected_and_smaller_than_1000_m2_are_dropped() -> None:
    grid = _grid(30, 30)
    mask = _layout(30, 30, [(0, 0, 3, 3), (10, 0, 3, 4), (20, 0, 2, 5), (20, 20, 1, 9)])
    mask[3, 3] = True  # touches the 3 × 3 block only at a corner: same patch, 10 cells
    labels, areas = patches(mask, grid)
    # 3×3+1 = 10 cells = 1,000 m² (kept, ≥), 12 cells = 1,200 m², 10 cells (kept), 9 cells dropped
    assert labels.max() == 3
    assert areas.tolist() == [0.0, 1000.0, 1200.0, 1000.0]
    assert labels[3, 3] == labels[0, 0] == 1
    assert labels[20, 20] == 0
    assert patches(mask, grid, min_area_m2=1001)[0].max() == 1


@pytest.mark.parametrize(("gap_cells", "linked"), [(9, True), (10, True), (11, False)])
def test_two_patches_90_100_110_m_apart(gap_cells: int, linked: bool) -> None:
    grid = _grid(20, 40)
    mask = _layout(20, 40, [(5, 2, 4, 4), (5, 6 + gap_cells, 4, 4)])
    # 90 m and exactly 100 m (city_metrix: buffer(100) intersects) are one cluster, 110 m two
    assert _n_clusters(mask, grid) == (1 if linked else 2)


@pytest.mark.parametrize(("rows", "cols", "linked"), [(6, 8, True), (7, 8, False)])
def test_diagonal_gap_is_measured_corner_to_corner(rows: int, cols: int, linked: bool) -> None:
    # corner gap 60 m × 80 m = 100 m (linked); 70 m × 80 m = 106.3 m (not linked)
    grid = _grid(40, 40)
    mask = _layout(40, 40, [(0, 0, 4, 4), (4 + rows, 4 + cols, 4, 4)])
    assert _n_clusters(mask, grid) == (1 if linked else 2)


def _brute_force_links(labels: np.ndarray, link_cells: float) -> set[tuple[int, int]]:
    corners = {}
    for k in range(1, int(labels.max()) + 1):
        r, c = np.nonzero(labels == k)
        corners[k] = np.concatenate([np.stack([r + i, c + j], 1) for i in (0, 1) for j in (0, 1)])
    trees = {k: cKDTree(points) for k, points in corners.items()}
    return {
        (a, b)
        for a, b in itertools.combinations(corners, 2)
        if trees[b].query(corners[a])[0].min() <= link_cells + 1e-9
    }


def test_links_equal_the_brute_force_closest_corner_gap_on_random_layouts() -> None:
    rng = np.random.default_rng(7)
    grid = _grid(50, 50)
    for _ in range(12):
        mask = rng.random((50, 50)) > 0.96
        mask |= np.roll(mask, 1, axis=1)
        labels, _ = patches(mask, grid, min_area_m2=100)
        link_m = float(rng.choice([30.0, 55.0, 100.0]))
        got = {(int(a), int(b)) for a, b in patch_links(labels, grid, link_m)}
        assert got == _brute_force_links(labels, link_m / 10)


def test_ems_and_coherence_of_a_known_layout() -> None:
    # 1 km² (100 × 100 cells of 10 m). A: 200 × 200 m = 4 ha; B: 1 ha, 50 m from A;
    # C: 1 ha, far away. Clusters: A+B = 5 ha = 50,000 m², C = 10,000 m².
    grid = _grid(100, 100)
    mask = _layout(100, 100, [(10, 10, 20, 20), (10, 35, 10, 10), (70, 70, 10, 10)])
    labels, areas = patches(mask, grid)
    cluster_of = clusters(labels, grid)
    [(zone, m)] = mesh_metrics(labels, areas, cluster_of, _whole(grid), grid).items()
    sum_sq = 50_000.0**2 + 10_000.0**2  # 2.6e9 m⁴
    natural = 60_000.0  # A_total as in city_metrix: the natural area
    assert zone == 1
    assert m["natural_m2"] == natural and m["zone_m2"] == 1e6
    assert m["ems_ha"] == pytest.approx(sum_sq / natural / 1e4)  # 4.333 ha
    assert m["coherence_pct"] == pytest.approx(sum_sq / natural**2 * 100)  # 72.22 %
    assert m["mesh_ha"] == pytest.approx(sum_sq / 1e6 / 1e4)  # 0.26 ha over the zone area
    assert (m["n_patches"], m["n_clusters"], m["largest_patch_m2"]) == (3, 2, 40_000.0)
    assert sicb_connectivity_points(m["coherence_pct"]) == 3


def test_zones_split_one_cluster_and_count_only_its_area_inside() -> None:
    # A (4 ha) straddles the zone border at column 50: 2 ha each side. B (1 ha) left, 50 m
    # from A, so A+B is one cluster. C (1 ha) right, far from everything.
    grid = _grid(100, 100)
    mask = _layout(100, 100, [(10, 40, 20, 20), (10, 25, 10, 10), (70, 80, 10, 10)])
    zones = np.ones(grid.shape, dtype=np.int32)
    zones[:, 50:] = 2
    labels, areas = patches(mask, grid)
    result = mesh_metrics(labels, areas, clusters(labels, grid), zones, grid)
    left, right = result[1], result[2]
    # left: A_left 2 ha + B 1 ha in one cluster: Σ A² = 30,000² = 9e8; A_total = 30,000 m²
    assert left["ems_ha"] == pytest.approx(9e8 / 30_000 / 1e4)  # 3 ha
    assert left["coherence_pct"] == pytest.approx(100.0)
    assert left["mesh_ha"] == pytest.approx(9e8 / 500_000 / 1e4)  # 0.18 ha
    # cross-boundary: the 3 ha inside weighed by the complete cluster (A+B = 5 ha)
    assert left["mesh_cbc_ha"] == pytest.approx(30_000 * 50_000 / 500_000 / 1e4)
    # right: A_right 2 ha and C 1 ha, two clusters: Σ A² = 4e8 + 1e8 = 5e8; A_total = 30,000
    assert right["ems_ha"] == pytest.approx(5e8 / 30_000 / 1e4)  # 1.667 ha
    assert right["coherence_pct"] == pytest.approx(5e8 / 9e8 * 100)  # 55.6 %
    assert right["largest_patch_m2"] == 20_000.0  # A clipped to the zone
    assert (right["n_patches"], right["n_clusters"]) == (2, 2)


def test_iic_of_two_equal_patches_linked_and_not_and_a_chain() -> None:
    grid = _grid(50, 50)  # A_L = 500 m × 500 m = 250,000 m²
    area_l2 = 250_000.0**2

    def value(blocks: list[tuple[int, int, int, int]], **kwargs: int) -> dict[str, float]:
        labels, _ = patches(_layout(50, 50, blocks), grid)
        return iic(labels, patch_links(labels, grid), _whole(grid), grid, **kwargs)[1]

    # linked (90 m, one link): a² + a² + 2 · a·a/(1+1) = 3a²
    assert value([(5, 0, 4, 4), (5, 13, 4, 4)])["iic"] == pytest.approx(3 * A**2 / area_l2)
    # not linked (110 m): only the a_i² terms
    assert value([(5, 0, 4, 4), (5, 15, 4, 4)])["iic"] == pytest.approx(2 * A**2 / area_l2)
    # chain A–B–C (90 m steps, A–C 220 m): 3a² + 2·a²/2 · 2 + 2·a²/3
    chain = [(5, 0, 4, 4), (5, 13, 4, 4), (5, 26, 4, 4)]
    assert value(chain)["iic"] == pytest.approx((3 + 2 + 2 / 3) * A**2 / area_l2)
    capped = value(chain, max_patches=2)
    assert capped["n_used"] == 2 and capped["n_patches"] == 3
    assert capped["iic"] < (3 + 2 + 2 / 3) * A**2 / area_l2 <= capped["iic_upper"]


def test_distance_to_core_is_exact_euclidean_and_capped() -> None:
    grid = _grid(10, 10)
    core = np.zeros(grid.shape, dtype=bool)
    core[0, 0] = True
    dist = distance_to_core(core, grid)
    assert dist.dtype == np.float32
    assert dist[0, 0] == 0.0
    assert dist[3, 4] == pytest.approx(50.0)  # 3-4-5 triangle of 10 m cells
    assert dist[4, 3] == pytest.approx(50.0)
    assert dist[0, 7] == pytest.approx(70.0)
    assert distance_to_core(core, grid, max_m=40.0)[3, 4] == 40.0
    assert (distance_to_core(np.zeros(grid.shape, dtype=bool), grid, max_m=123.0) == 123.0).all()


def test_core_is_natura_2000_or_a_large_natural_patch() -> None:
    grid = _grid(40, 40)
    # 35 × 30 cells of 100 m² = 10.5 ha (core); 3 × 4 cells = 1,200 m² (not core)
    mask = _layout(40, 40, [(0, 0, 35, 30), (37, 35, 3, 4)])
    labels, areas = patches(mask, grid)
    n2k = np.full(grid.shape, np.nan, dtype=np.float32)
    n2k[39, 0] = 0.5
    core = core_mask(n2k, labels, areas)
    assert core[0, 0] and core[39, 0]
    assert not core[38, 36] and not core[39, 39]
    assert core.sum() == 35 * 30 + 1
    assert core_mask(None, labels, areas, min_core_ha=11).sum() == 0


def test_empty_mask_gives_zeros_everywhere() -> None:
    grid = _grid(20, 20)
    labels, areas = patches(np.zeros(grid.shape, dtype=bool), grid)
    assert labels.max() == 0 and areas.tolist() == [0.0]
    links = patch_links(labels, grid)
    assert links.shape == (0, 2)
    cluster_of = clusters(labels, grid, links=links)
    m = mesh_metrics(labels, areas, cluster_of, _whole(grid), grid)[1]
    assert m["natural_m2"] == m["ems_ha"] == m["coherence_pct"] == m["n_patches"] == 0
    assert iic(labels, links, _whole(grid), grid)[1]["iic"] == 0
    assert sicb_connectivity_points(m["coherence_pct"]) == 0


def test_sicb_connectivity_bands() -> None:
    values = [0.0, 19.99, 20.0, 39.89, 39.9, 59.89, 59.9, 78.99, 79.0, 100.0]
    assert [sicb_connectivity_points(v) for v in values] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    array = sicb_connectivity_points(np.array([10.0, np.nan, 80.0]))
    assert array.tolist() == [0, -1, 4]
    with pytest.raises(InvalidInput):
        sicb_connectivity_points(float("nan"))


def test_shape_mismatch_is_refused() -> None:
    with pytest.raises(InvalidInput):
        patches(np.zeros((3, 3), dtype=bool), _grid(4, 4))


def test_a_2000_by_2000_random_mask_runs_in_seconds() -> None:
    rng = np.random.default_rng(0)
    field = ndimage.gaussian_filter(rng.random((2000, 2000), dtype=np.float32), 6)
    mask = field > np.quantile(field, 0.7)  # ragged blobs: about 300 patches ≥ 1,000 m²
    grid = _grid(2000, 2000, cell=1.0)
    zones = np.repeat(np.arange(1, 11, dtype=np.int32), 200)[:, None] * np.ones(2000, np.int32)
    start = time.perf_counter()
    labels, areas = patches(mask, grid)
    links = patch_links(labels, grid)
    cluster_of = clusters(labels, grid, links=links)
    metrics = mesh_metrics(labels, areas, cluster_of, zones, grid)
    connectivity = iic(labels, links, zones, grid)
    dist = distance_to_core(core_mask(None, labels, areas, min_core_ha=0.5), grid)
    seconds = time.perf_counter() - start
    print(
        f"\n2000×2000 at 1 m: {labels.max()} patches, {len(links)} links, "
        f"{cluster_of.max()} clusters, {seconds:.2f} s"
    )
    assert labels.max() > 100 and len(metrics) == len(connectivity) == 10
    assert np.isfinite(dist).all()
    assert seconds < 120  # a sanity bound only; expect a few seconds


def test_otterlo_natural_patches_and_mesh_are_plausible(
    otterlo: tuple[Settings, RunSummary],
) -> None:
    settings, _ = otterlo
    store = EmbeddedStore(settings.data_dir / "store")
    with rasterio.open(store.raster_path("otterlo", "landcover")) as src:
        classes = src.read(1)
        t = src.transform
    grid = AnalysisGrid(xmin=t.c, ymax=t.f, width=src.width, height=src.height, cell_size=t.a)
    labels, areas = patches(natural_mask(classes, load_classes()), grid)
    links = patch_links(labels, grid)
    cluster_of = clusters(labels, grid, links=links)
    whole = (classes > 0).astype(np.int32)
    quarters = np.zeros(grid.shape, dtype=np.int32)
    quarters[:1000, :1000], quarters[:1000, 1000:] = 1, 2  # NW (farmland), NE (forest)
    quarters[1000:, :1000], quarters[1000:, 1000:] = 3, 4  # SW (forest), SE (forest, park)
    m = mesh_metrics(labels, areas, cluster_of, whole, grid)[1]
    q = mesh_metrics(labels, areas, cluster_of, quarters, grid)
    connectivity = iic(labels, links, whole, grid)[1]
    cluster_ha = np.sort(np.bincount(cluster_of, weights=areas))[::-1] / 1e4
    print(
        f"\nOtterlo: natural {m['natural_m2'] / 1e4:.1f} ha "
        f"({m['natural_m2'] / m['zone_m2']:.1%}), {m['n_patches']:.0f} patches, "
        f"{len(links)} links, {m['n_clusters']:.0f} clusters, largest clusters "
        f"{np.round(cluster_ha[:4], 1).tolist()} ha, EMS {m['ems_ha']:.1f} ha, coherence "
        f"{m['coherence_pct']:.1f} %, MESH {m['mesh_ha']:.2f} ha, IIC {connectivity['iic']:.5f}; "
        + ", ".join(f"Q{k} coherence {v['coherence_pct']:.1f} %" for k, v in q.items())
    )
    # The square is village and farmland with forest in three corners (18 % forest): three
    # forest clusters of 25-31 ha more than 100 m apart, so coherence is about a third.
    assert 0.15 < m["natural_m2"] / m["zone_m2"] < 0.35
    assert cluster_ha[2] > 20 and cluster_ha[:3].sum() > 0.9 * cluster_ha.sum()
    assert 25 < m["coherence_pct"] < 40
    assert m["ems_ha"] == pytest.approx(m["coherence_pct"] / 100 * m["natural_m2"] / 1e4)
    # each forest quarter is dominated by one cluster
    assert all(q[k]["coherence_pct"] > 50 for k in (2, 3, 4))
    assert q[1]["natural_m2"] < q[2]["natural_m2"]


# --- barriers (SICB: links across roads ≥15 m or busy, railways, concreted canals are cut) ---


def _raw_table() -> dict[str, Any]:
    text = resources.files("biostresstest.model").joinpath("data/landcover.toml").read_text("utf-8")
    return copy.deepcopy(tomllib.loads(text))


def _codes() -> dict[str, int]:
    table = load_classes()
    return {key: table.by_key(key).code for key in table.keys}


def test_the_class_table_declares_the_barriers() -> None:
    table = load_classes()
    rules = {c.key: c.barrier.rule for c in table if c.barrier is not None}
    assert rules == {
        "weg_hoofd": "always",
        "weg_lokaal": "wide",
        "spoor": "always",
        "water_stromend": "hard_bank",
    }
    lokaal = table.by_key("weg_lokaal").barrier
    assert lokaal is not None and lokaal.min_width_m == 15.0
    assert all(c.barrier.source in table.sources for c in table if c.barrier is not None)


def test_a_bad_barrier_entry_is_refused_with_every_problem() -> None:
    raw = _raw_table()
    first = raw["class"][0]
    first["barrier"] = {"rule": "sometimes", "min_width_m": 5, "source": "nope", "note": ""}
    raw["class"][1]["barrier"] = {"rule": "wide", "source": "sicb", "note": "n"}
    with pytest.raises(CorruptInput) as err:
        validate_table(raw)
    text = str(err.value)
    assert "barrier: rule: 'sometimes' is not one of" in text
    assert "barrier: source: unknown source id 'nope'" in text
    assert "barrier: note: missing" in text
    assert "min_width_m: only for rule 'wide'" in text
    assert f"class {raw['class'][1]['key']}: barrier: min_width_m: missing" in text


@pytest.mark.parametrize(("width", "barrier"), [(14, False), (15, True), (16, True)])
def test_a_road_is_a_barrier_from_15_m_across_at_1_m(width: int, barrier: bool) -> None:
    mask = np.zeros((60, 40), dtype=bool)
    mask[:, 10 : 10 + width] = True
    wide = wide_parts(mask, 1.0, 15.0)
    assert wide.sum() == (mask.sum() if barrier else 0)
    # a 15 m square plaza on a 4 m street: only the plaza is wide
    street = np.zeros((60, 60), dtype=bool)
    street[:, 20:24] = True
    street[30:45, 15:30] = True
    plaza = wide_parts(street, 1.0, 15.0)
    assert plaza[37, 22] and plaza[37, 15] and plaza[30, 22] and not plaza[30, 15]  # a disc
    assert not plaza[:25].any() and not plaza[52:].any() and not (plaza & ~street).any()
    assert disc_radius(1.0, 15.0) == 7 and disc_radius(10.0, 15.0) == 1
    assert disc_radius(0.5, 15.0) == 15 and disc_radius(20.0, 15.0) == 0


def test_barrier_mask_from_classes_roads_rail_and_hard_banked_canal() -> None:
    code = _codes()
    classes = np.full((80, 120), code["gras_openbaar"], dtype=np.uint8)
    classes[:, 2:6] = code["weg_hoofd"]  # a 4 m main road: busy, always a barrier
    classes[:, 10:20] = code["weg_lokaal"]  # a 10 m local road: not
    classes[:, 25:41] = code["weg_lokaal"]  # a 16 m local road: a barrier
    classes[:, 45:48] = code["spoor"]
    classes[:, 52:54] = code["verhard_overig"]  # quay
    classes[:, 54:60] = code["water_stromend"]  # canal between quays: concreted
    classes[:, 60:62] = code["verhard_overig"]
    classes[:, 70:72] = code["oever"]  # a brook with green banks: not a barrier
    classes[:, 72:78] = code["water_stromend"]
    classes[:, 78:80] = code["oever"]
    mask = barrier_mask(classes, load_classes(), 1.0)
    row = mask[40]
    assert row[2:6].all() and not row[10:20].any() and row[25:41].all() and row[45:48].all()
    assert row[54:60].all() and not row[52:54].any() and not row[72:78].any()
    assert not row[[0, 8, 22, 50, 65, 100]].any()


def _two_forests_and_a_strip(strip: str, width: int, length: int = 80) -> np.ndarray:
    """1 m cells: two 40 × 80 m forests 40 m apart with a strip of a class between them."""
    code = _codes()
    classes = np.full((80, 140), code["gras_openbaar"], dtype=np.uint8)
    classes[:, 10:50] = code["loofbos"]
    classes[:, 90:130] = code["loofbos"]
    start = 70 - width // 2
    classes[:length, start : start + width] = code[strip]
    return classes


@pytest.mark.parametrize(
    ("strip", "width", "length", "n_clusters"),
    [
        ("weg_hoofd", 6, 80, 2),  # a main road across the whole gap cuts the link
        ("spoor", 4, 80, 2),
        ("weg_lokaal", 8, 80, 1),  # an 8 m local road does not
        ("weg_lokaal", 20, 80, 2),  # a 20 m one does
        ("weg_hoofd", 6, 40, 1),  # a main road that ends halfway: linked past its end
        ("gras_openbaar", 6, 80, 1),  # no barrier at all
    ],
)
def test_a_barrier_between_two_patches_cuts_their_link(
    strip: str, width: int, length: int, n_clusters: int
) -> None:
    classes = _two_forests_and_a_strip(strip, width, length)
    table = load_classes()
    grid = _grid(classes.shape[0], classes.shape[1], cell=1.0)
    labels, _ = patches(natural_mask(classes, table), grid)
    assert labels.max() == 2
    links = barrier_links(labels, grid, barrier_mask(classes, table, 1.0))
    assert int(clusters(labels, grid, links=links).max()) == n_clusters
    assert len(patch_links(labels, grid)) == 1  # 40 m apart: linked without barriers


def test_a_diagonal_line_of_barrier_cells_has_no_gaps() -> None:
    grid = _grid(40, 40)
    mask = _layout(40, 40, [(0, 0, 4, 4), (8, 8, 4, 4)])  # 40 m apart diagonally
    labels, _ = patches(mask, grid, min_area_m2=100)
    barrier = np.zeros(grid.shape, dtype=bool)
    for i in range(12):  # the anti-diagonal r + c = 11 from edge to edge: cells touch at corners
        barrier[i, 11 - i] = True
    links = patch_links(labels, grid)
    assert len(links) == 1
    # the main diagonal passes the corner between (5, 6) and (6, 5) exactly: it counts as crossing
    assert len(barrier_links(labels, grid, barrier, links=links)) == 0
    barrier[6, 5] = False  # one cell of the line missing: a gap the two can see through
    assert len(barrier_links(labels, grid, barrier, links=links)) == 1


def test_without_barrier_cells_every_link_is_kept() -> None:
    rng = np.random.default_rng(11)
    grid = _grid(60, 60)
    mask = rng.random((60, 60)) > 0.95
    mask |= np.roll(mask, 1, axis=1)
    labels, _ = patches(mask, grid, min_area_m2=100)
    links = patch_links(labels, grid)
    empty = np.zeros(grid.shape, dtype=bool)
    assert np.array_equal(barrier_links(labels, grid, empty, links=links), links)
    assert np.array_equal(barrier_links(labels, grid, None), links)
    # barrier cells far from two linked patches do not touch their link
    far = empty.copy()
    far[0, 0] = True
    kept = barrier_links(labels, grid, far, links=links)
    assert len(kept) >= len(links) - np.count_nonzero((links == labels[0, 0]).any(axis=1))
    with pytest.raises(InvalidInput):
        barrier_links(labels, grid, np.zeros((3, 3), dtype=bool))


def test_otterlo_barriers_cut_links_and_lower_coherence(
    otterlo: tuple[Settings, RunSummary],
) -> None:
    settings, _ = otterlo
    store = EmbeddedStore(settings.data_dir / "store")
    with rasterio.open(store.raster_path("otterlo", "landcover")) as src:
        classes = src.read(1)
        t = src.transform
    grid = AnalysisGrid(xmin=t.c, ymax=t.f, width=src.width, height=src.height, cell_size=t.a)
    table = load_classes()
    labels, areas = patches(natural_mask(classes, table), grid)
    barrier = barrier_mask(classes, table, grid.cell_size)
    start = time.perf_counter()
    links = patch_links(labels, grid)
    cut = barrier_links(labels, grid, barrier, links=links)
    seconds = time.perf_counter() - start
    whole = (classes > 0).astype(np.int32)
    before = mesh_metrics(labels, areas, clusters(labels, grid, links=links), whole, grid)[1]
    after = mesh_metrics(labels, areas, clusters(labels, grid, links=cut), whole, grid)[1]
    share = {
        key: float(np.mean(barrier & (classes == table.by_key(key).code)))
        for key in ("weg_hoofd", "weg_lokaal", "spoor", "water_stromend")
    }
    print(
        f"\nOtterlo barriers: {barrier.mean():.2%} of cells "
        + ", ".join(f"{k} {v:.2%}" for k, v in share.items())
        + f"; links {len(links)} -> {len(cut)}, clusters {before['n_clusters']:.0f} -> "
        f"{after['n_clusters']:.0f}, coherence {before['coherence_pct']:.1f} % -> "
        f"{after['coherence_pct']:.1f} %, EMS {before['ems_ha']:.1f} -> {after['ems_ha']:.1f} ha "
        f"({seconds:.1f} s)"
    )
    assert barrier.any() and share["weg_hoofd"] > 0
    assert len(cut) <= len(links) and after["coherence_pct"] <= before["coherence_pct"]
    assert after["n_clusters"] >= before["n_clusters"]


def test_the_shortcuts_of_cut_links_agree_with_checking_every_pair() -> None:
    rng = np.random.default_rng(5)
    grid = _grid(70, 70, cell=1.0)
    for _ in range(6):
        field = ndimage.gaussian_filter(rng.random((70, 70)), 2)
        mask = field > np.quantile(field, 0.75)
        barrier = np.zeros(grid.shape, dtype=bool)
        for _ in range(3):  # straight strips that may or may not cross the whole square
            r, c, length = (int(v) for v in rng.integers(0, 70, size=3))
            if rng.random() < 0.5:
                barrier[r : r + 2, c : c + length] = True
            else:
                barrier[r : r + length, c : c + 2] = True
        mask &= ~barrier
        labels, _ = patches(mask, grid, min_area_m2=4)
        links = patch_links(labels, grid, 12.0)
        got = cut_links(labels, links, barrier, grid, 12.0)
        edge = {k: np.argwhere(labels == k) for k in range(1, int(labels.max()) + 1)}
        block = barrier.astype(np.uint8)
        lim2 = (12.0 + 1e-9) ** 2
        expected = [bool(_any_clear(edge[a], edge[b], lim2, block)) for a, b in links]
        assert got.tolist() == links[np.array(expected, dtype=bool)].tolist()


def test_barrier_cells_of_a_coarse_raster_are_none_and_of_classes_the_mask() -> None:
    code = _codes()
    table = load_classes()
    coarse = np.full((30, 30), code["begroeid_onbepaald"], dtype=np.uint8)
    coarse[:, 10:12] = code["onbegroeid_onbepaald"]  # Breda's Groenkaart knows only these two
    assert not barrier_cells(coarse, table, 10.0).any()
    classes = _two_forests_and_a_strip("weg_hoofd", 6)
    assert np.array_equal(barrier_cells(classes, table, 1.0), barrier_mask(classes, table, 1.0))
    assert barrier_cells(classes, table, 1.0).sum() == 6 * 80
