"""Fetching sources through the mirror and the cache, and the errors for bad input."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.warp import Resampling, calculate_default_transform, reproject

from biostresstest.core.errors import CorruptInput, CRSMismatch, SourceUnavailable
from biostresstest.core.settings import Settings
from biostresstest.model.grid import AnalysisGrid
from biostresstest.sources import cbs_gemeenten, cbs_wijkenbuurten, natura2000, rivm_groenkaart
from biostresstest.sources.base import fetch, sha256_of
from biostresstest.sources.registry import SOURCES

BREDA_BLOCK = AnalysisGrid.covering((112000, 398000, 113000, 399000))


def test_every_source_has_a_complete_spec() -> None:
    ids = [s.id for s in SOURCES]
    assert len(ids) == len(set(ids)) == 5
    for spec in SOURCES:
        row = spec.as_row()
        for field in (
            "id",
            "title",
            "publisher",
            "level",
            "licence",
            "theme",
            "url",
            "mirror_path",
            "format",
            "crs",
            "resolution",
            "date",
        ):
            assert row[field], f"{spec.id} has no {field}"
        assert spec.url.startswith("https://")


def test_fetch_copies_from_the_mirror_once(settings: Settings, mirror: Path) -> None:
    first = fetch(natura2000.SPEC, settings)
    assert first.sha256 == sha256_of(mirror / natura2000.SPEC.mirror_path)
    assert first.retrieved_from == str((mirror / natura2000.SPEC.mirror_path).resolve())
    mtime = first.path.stat().st_mtime_ns
    second = fetch(natura2000.SPEC, settings)
    assert second.path == first.path and second.path.stat().st_mtime_ns == mtime


def test_shapefile_companions_travel_along(settings: Settings) -> None:
    fetched = fetch(cbs_wijkenbuurten.SPEC, settings)
    assert {p.suffix for p in fetched.path.parent.iterdir()} >= {".shp", ".shx", ".dbf", ".prj"}


def test_offline_without_mirror_names_source_address_and_setting(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, mirror=None, offline=True)
    with pytest.raises(SourceUnavailable) as info:
        fetch(natura2000.SPEC, settings)
    text = str(info.value)
    assert "natura2000" in text and natura2000.SPEC.url in text
    assert "BIOSTRESSTEST_MIRROR" in text


def test_unreachable_server_names_source_address_and_setting(tmp_path: Path) -> None:
    spec = dataclasses.replace(natura2000.SPEC, url="http://127.0.0.1:9/natura2000.json")
    settings = Settings(data_dir=tmp_path, mirror=None, offline=False, http_timeout=5)
    with pytest.raises(SourceUnavailable) as info:
        fetch(spec, settings)
    assert "http://127.0.0.1:9/natura2000.json" in str(info.value)
    assert "BIOSTRESSTEST_MIRROR" in info.value.hint
    assert not list(tmp_path.rglob("*.part"))


def test_mirror_without_the_file_says_which(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", mirror=tmp_path / "empty-mirror")
    with pytest.raises(SourceUnavailable, match=r"nl-natura2000-160/natura2000_nl_160\.geojson"):
        fetch(natura2000.SPEC, settings)


def _mirror_with(tmp_path: Path, mirror: Path, rel: str, content: bytes | None) -> Path:
    """A mirror of symlinks to the real one, with file ``rel`` replaced by ``content``."""
    fake = tmp_path / "mirror"
    for folder in mirror.iterdir():
        if folder.is_dir():
            (fake / folder.name).mkdir(parents=True)
            for file in folder.iterdir():
                if file.is_file():
                    (fake / folder.name / file.name).symlink_to(file)
    target = fake / rel
    target.unlink()
    if content is not None:
        target.write_bytes(content)
    return fake


def test_truncated_raster_is_a_clear_error(tmp_path: Path, mirror: Path) -> None:
    rel = rivm_groenkaart.SPEC.mirror_path
    head = (mirror / rel).read_bytes()[:5000]
    settings = Settings(data_dir=tmp_path / "d", mirror=_mirror_with(tmp_path, mirror, rel, head))
    fetched = fetch(rivm_groenkaart.SPEC, settings)
    with pytest.raises(CorruptInput) as info:
        rivm_groenkaart.read_green(fetched, BREDA_BLOCK)
    assert "rivm-groenkaart" in str(info.value) and str(fetched.path) in str(info.value)


def test_raster_in_another_crs_is_refused(tmp_path: Path, mirror: Path) -> None:
    rel = rivm_groenkaart.SPEC.mirror_path
    fake = _mirror_with(tmp_path, mirror, rel, None)
    with rasterio.open(mirror / rel) as src:
        dst_crs = "EPSG:3035"
        transform, width, height = calculate_default_transform(
            src.crs, dst_crs, src.width // 4, src.height // 4, *src.bounds
        )
        out = np.zeros((height, width), dtype="uint8")
        reproject(
            rasterio.band(src, 1),
            out,
            dst_transform=transform,
            dst_crs=dst_crs,
            resampling=Resampling.nearest,
        )
        profile = {
            "driver": "GTiff",
            "width": width,
            "height": height,
            "count": 1,
            "dtype": "uint8",
            "crs": dst_crs,
            "transform": transform,
            "nodata": 255,
        }
    with rasterio.open(fake / rel, "w", **profile) as dst:
        dst.write(out, 1)
    fetched = fetch(rivm_groenkaart.SPEC, Settings(data_dir=tmp_path / "d", mirror=fake))
    with pytest.raises(CRSMismatch) as info:
        rivm_groenkaart.read_green(fetched, BREDA_BLOCK)
    assert "EPSG:28992" in info.value.message and "gdalwarp" in info.value.hint


def test_raster_that_does_not_cover_the_area(settings: Settings) -> None:
    fetched = fetch(rivm_groenkaart.SPEC, settings)
    ede = AnalysisGrid.covering((180000, 456000, 182000, 458000))
    with pytest.raises(CorruptInput, match="does not cover"):
        rivm_groenkaart.read_green(fetched, ede)


def test_green_share_equals_the_map_where_grids_coincide(settings: Settings) -> None:
    fetched = fetch(rivm_groenkaart.SPEC, settings)
    on_grid = rivm_groenkaart.read_green(fetched, BREDA_BLOCK)
    with rasterio.open(fetched.path) as src:
        window = rasterio.windows.from_bounds(*BREDA_BLOCK.bounds, transform=src.transform)
        raw = src.read(1, window=window)
    expected = np.where(raw == 255, 0, raw) / 100
    assert np.allclose(on_grid.green, expected, atol=1e-6)
    assert np.array_equal(on_grid.nodata_share == 1, raw == 255)


def test_vector_without_a_column_names_it(tmp_path: Path, mirror: Path) -> None:
    rel = natura2000.SPEC.mirror_path
    geojson = (
        b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"x":1},'
        b'"geometry":{"type":"Point","coordinates":[5,52]}}]}'
    )
    settings = Settings(
        data_dir=tmp_path / "d", mirror=_mirror_with(tmp_path, mirror, rel, geojson)
    )
    with pytest.raises(CorruptInput) as info:
        natura2000.read_sites(fetch(natura2000.SPEC, settings))
    assert "name (one of naam" in info.value.message


def test_broken_vector_file_is_a_clear_error(tmp_path: Path, mirror: Path) -> None:
    rel = cbs_gemeenten.SPEC.mirror_path
    settings = Settings(
        data_dir=tmp_path / "d", mirror=_mirror_with(tmp_path, mirror, rel, b'{"type": "Feat')
    )
    fetched = fetch(cbs_gemeenten.SPEC, settings)
    with pytest.raises(CorruptInput) as info:
        cbs_gemeenten.read_gemeenten(fetched)
    assert "cbs-gemeenten-2023" in info.value.message and "cannot be read" in info.value.message


def test_buurten_of_a_gemeente_missing_from_the_copy(settings: Settings) -> None:
    fetched = fetch(cbs_wijkenbuurten.SPEC, settings)
    with pytest.raises(CorruptInput) as info:
        cbs_wijkenbuurten.read_buurten(fetched, "GM0228")
    assert "GM0228" in info.value.message and "GM0758" in info.value.hint


def test_breda_buurten_are_read_with_codes(settings: Settings) -> None:
    buurten = cbs_wijkenbuurten.read_buurten(fetch(cbs_wijkenbuurten.SPEC, settings), "GM0758")
    assert len(buurten) == 56 and buurten["wijk_code"].nunique() == 11
    assert buurten["code"].str.match(r"^BU0758\d{4}$").all()
    assert buurten["inwoners"].sum() == 183920
    assert buurten.crs.to_epsg() == 28992


def test_gemeenten_search_and_unknown_code(settings: Settings) -> None:
    gemeenten = cbs_gemeenten.read_gemeenten(fetch(cbs_gemeenten.SPEC, settings))
    assert len(gemeenten) == 343
    assert cbs_gemeenten.search_gemeenten(gemeenten, "breda")["code"].tolist() == ["GM0758"]
    with pytest.raises(Exception, match="no gemeente with code GM9999") as info:
        cbs_gemeenten.find_gemeente(gemeenten, "GM9999")
    assert "biostresstest gemeenten --search" in info.value.hint  # type: ignore[attr-defined]
