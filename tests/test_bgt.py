"""The BGT reader on the real Otterlo download, and on damaged or hostile copies of it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from biostresstest.core.errors import CorruptInput, CRSMismatch
from biostresstest.core.settings import Settings
from biostresstest.sources import bgt
from biostresstest.sources.base import FetchedFile, fetch

SQUARE = (180000, 456000, 182000, 458000)


@pytest.fixture(scope="module")
def otterlo(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> bgt.BgtLandCover:
    settings = Settings(data_dir=tmp_path_factory.mktemp("bgt"), mirror=mirror)
    return bgt.read_land_cover(fetch(bgt.SPEC, settings))


def test_only_current_ground_level_objects(otterlo: bgt.BgtLandCover) -> None:
    polygons = otterlo.polygons
    assert otterlo.historic_skipped > 4000  # the download holds history
    assert polygons["lokaal_id"].is_unique
    assert (polygons["layer"] == "pand").sum() == 1711
    assert len(otterlo.trees) == 2088
    assert polygons.is_valid.all()
    assert set(polygons["layer"]) == set(bgt.LAND_COVER_LAYERS) - {"vegetatieobject"}


def test_panden_take_their_footprint_not_the_label_point(otterlo: bgt.BgtLandCover) -> None:
    panden = otterlo.polygons[otterlo.polygons["layer"] == "pand"]
    assert set(panden.geom_type) <= {"Polygon", "MultiPolygon"}
    assert panden.area.min() > 0.5


def test_every_object_has_a_class_and_the_square_is_covered(otterlo: bgt.BgtLandCover) -> None:
    from shapely.geometry import box

    polygons = otterlo.polygons
    assert (polygons["class_key"] != "").all()
    clipped = polygons.clip(box(*SQUARE))
    covered = clipped.union_all().area
    assert covered == pytest.approx(4_000_000, abs=500)  # 0.03 ha of real BGT gaps
    erf = clipped[clipped["class_key"] == "erf"].area.sum()
    assert erf == pytest.approx(987_800, rel=0.01)  # 98.8 ha per the provenance notes


def test_hedges_are_lines_on_top(otterlo: bgt.BgtLandCover) -> None:
    assert len(otterlo.lines) == 16
    assert set(otterlo.lines["class_key"]) == {"haag_houtwal"}


def _hostile_copy(tmp_path: Path, mirror: Path, edit: dict[str, bytes | None]) -> FetchedFile:
    """A copy of the Otterlo zip with members replaced (bytes) or left out (None)."""
    source = mirror / bgt.SPEC.mirror_path
    target = tmp_path / "mirror" / bgt.SPEC.mirror_path
    target.parent.mkdir(parents=True)
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            if name in edit:
                if edit[name] is not None:
                    dst.writestr(name, edit[name])  # type: ignore[arg-type]
            else:
                dst.writestr(name, src.read(name))
    return fetch(bgt.SPEC, Settings(data_dir=tmp_path / "data", mirror=tmp_path / "mirror"))


def _member(mirror: Path, name: str) -> bytes:
    with zipfile.ZipFile(mirror / bgt.SPEC.mirror_path) as src:
        return src.read(name)


def test_truncated_zip(tmp_path: Path, mirror: Path) -> None:
    target = tmp_path / "mirror" / bgt.SPEC.mirror_path
    target.parent.mkdir(parents=True)
    target.write_bytes((mirror / bgt.SPEC.mirror_path).read_bytes()[:1_000_000])
    fetched = fetch(bgt.SPEC, Settings(data_dir=tmp_path / "d", mirror=tmp_path / "mirror"))
    with pytest.raises(CorruptInput, match="not a readable zip"):
        bgt.read_land_cover(fetched)


@pytest.mark.parametrize(
    "prolog",
    [
        b'<!DOCTYPE CityModel [<!ENTITY lol "lol">]>',
        b'<!DOCTYPE CityModel SYSTEM "file:///etc/passwd">',
    ],
)
def test_doctype_and_entities_are_refused(tmp_path: Path, mirror: Path, prolog: bytes) -> None:
    original = _member(mirror, "bgt_waterdeel.gml")
    head, rest = original.split(b"\n", 1)
    fetched = _hostile_copy(tmp_path, mirror, {"bgt_waterdeel.gml": head + b"\n" + prolog + rest})
    with pytest.raises(CorruptInput, match="DOCTYPE"):
        bgt.read_land_cover(fetched)


def test_other_crs_is_refused(tmp_path: Path, mirror: Path) -> None:
    original = _member(mirror, "bgt_waterdeel.gml")
    changed = original.replace(b"EPSG::28992", b"EPSG::4258")
    fetched = _hostile_copy(tmp_path, mirror, {"bgt_waterdeel.gml": changed})
    with pytest.raises(CRSMismatch, match="EPSG::4258"):
        bgt.read_land_cover(fetched)


def test_missing_layer_is_named(tmp_path: Path, mirror: Path) -> None:
    fetched = _hostile_copy(tmp_path, mirror, {"bgt_wegdeel.gml": None})
    with pytest.raises(CorruptInput, match="lacks the layer 'wegdeel'"):
        bgt.read_land_cover(fetched)


def test_empty_download_is_refused(tmp_path: Path, mirror: Path) -> None:
    empty = b'<?xml version="1.0"?><CityModel xmlns="http://www.opengis.net/citygml/2.0"/>'
    fetched = _hostile_copy(
        tmp_path, mirror, {f"bgt_{layer}.gml": empty for layer in bgt.LAND_COVER_LAYERS}
    )
    with pytest.raises(CorruptInput, match="no current objects"):
        bgt.read_land_cover(fetched)


def test_value_outside_the_crosswalk_is_listed(tmp_path: Path, mirror: Path) -> None:
    original = _member(mirror, "bgt_begroeidterreindeel.gml")
    changed = original.replace(b">heide</class>", b">maanlandschap</class>")
    fetched = _hostile_copy(tmp_path, mirror, {"bgt_begroeidterreindeel.gml": changed})
    with pytest.raises(CorruptInput) as info:
        bgt.read_land_cover(fetched)
    assert "begroeidterreindeel fysiek='maanlandschap'" in info.value.message


def test_broken_xml_is_a_clear_error(tmp_path: Path, mirror: Path) -> None:
    original = _member(mirror, "bgt_pand.gml")
    fetched = _hostile_copy(tmp_path, mirror, {"bgt_pand.gml": original[: len(original) // 2]})
    with pytest.raises(CorruptInput, match=r"bgt_pand\.gml is not well-formed"):
        bgt.read_land_cover(fetched)


def test_empty_layer_file_is_a_clear_error(tmp_path: Path, mirror: Path) -> None:
    """A layer file of zero bytes is damaged (a layer without objects is still a document)."""
    fetched = _hostile_copy(tmp_path, mirror, {"bgt_waterdeel.gml": b""})
    with pytest.raises(CorruptInput, match="bgt_waterdeel"):
        bgt.read_land_cover(fetched)
