"""BGT (Basisregistratie Grootschalige Topografie): the land-cover layers of a PDOK download.

Reads the CityGML/IMGeo zip the PDOK BGT download delivers (one ``bgt_<layer>.gml`` per object
type) and handles what such a reader must: only current objects (historic versions carry an
``eindRegistratie``), ground level only for land cover (``relatieveHoogteligging`` 0), the
geometry in ``geometrie2d…`` and never the ``kruinlijn`` (slope crest) or the house-number label
points of panden, and arcs linearised. XML with a DOCTYPE or entity declaration is refused, and
entities are never resolved. Every value is mapped to a land-cover class through the crosswalk
in ``data/bgt_crosswalk.toml``; an unmapped value is an error that lists it.
"""

from __future__ import annotations

import tomllib
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
from lxml import etree

from biostresstest.core.crs import RD_NEW
from biostresstest.core.errors import CorruptInput, CRSMismatch
from biostresstest.sources.base import FetchedFile, Level, SourceSpec
from biostresstest.sources.gml import parse_geometry

SPEC = SourceSpec(
    id="bgt",
    title="Basisregistratie Grootschalige Topografie (BGT), CityGML download",
    publisher="Kadaster / bronhouders (via PDOK)",
    level=Level.NL,
    licence="CC0 1.0",
    theme="land cover",
    url="https://api.pdok.nl/lv/bgt/download/v1_0/full/custom",
    mirror_path="otterlo-ede-bgt-2020/bron/otterlo.zip",
    online_name="bgt.zip",
    format="CityGML / IMGeo 2.1 (zip)",
    crs="EPSG:28992",
    resolution="1:500–1:5,000 (object level)",
    date="2020-07-28",
    mirror_gemeenten=("GM0228",),
    protocol="pdok-bgt-download",
)

LAND_COVER_LAYERS = (
    "pand",
    "overigbouwwerk",
    "wegdeel",
    "ondersteunendwegdeel",
    "waterdeel",
    "ondersteunendwaterdeel",
    "begroeidterreindeel",
    "onbegroeidterreindeel",
    "vegetatieobject",
)
MAX_MEMBER_BYTES = 2 << 30
"""Largest uncompressed GML file accepted (a guard against zip bombs)."""
MAX_RATIO = 200
"""Largest compression ratio accepted for one member."""

_CITYGML = "{http://www.opengis.net/citygml/2.0}"
_IMGEO = "{http://www.geostandaarden.nl/imgeo/2.1}"
_FIELDS = {
    # model field → element local names, first present wins
    "fysiek": ("bgt-fysiekVoorkomen", "surfaceMaterial"),
    "functie": ("function", "bgt-functie"),
    "type": ("bgt-type",),
    "plus": ("plus-fysiekVoorkomen", "plus-type"),
}
_CLASS_FIELD = {  # the CityGML <class> element means fysiek voorkomen or type per layer
    "begroeidterreindeel": "fysiek",
    "waterdeel": "type",
    "ondersteunendwaterdeel": "type",
    "vegetatieobject": "class",
}


@dataclass(frozen=True)
class BgtLandCover:
    """What the BGT gives the land-cover map."""

    polygons: gpd.GeoDataFrame
    """Current ground-level objects with ``layer``, values, ``class_key`` and ``priority``."""
    lines: gpd.GeoDataFrame
    """Line objects on top of the partition (hedges), with ``class_key``."""
    trees: gpd.GeoDataFrame
    """Tree points (vegetatieobject type boom)."""
    historic_skipped: int
    above_ground_skipped: int


def read_land_cover(fetched: FetchedFile) -> BgtLandCover:
    """Read and classify every land-cover layer of a BGT CityGML download."""
    records: list[dict[str, Any]] = []
    historic = above = 0
    with _open_zip(fetched) as archive:
        members = {Path(n).stem.removeprefix("bgt_"): n for n in archive.namelist()}
        for layer in LAND_COVER_LAYERS:
            if layer not in members:
                raise CorruptInput(
                    f"BGT download {fetched.path} lacks the layer {layer!r}",
                    hint="request every land-cover layer: " + ", ".join(LAND_COVER_LAYERS),
                )
            with archive.open(members[layer]) as handle:
                for record in _features(handle, layer, members[layer]):
                    if record.pop("historic"):
                        historic += 1
                    elif record["hoogte"] != 0 and layer != "pand":
                        above += 1
                    else:
                        records.append(record)
    if not records:
        raise CorruptInput(f"BGT download {fetched.path} holds no current objects")
    frame = gpd.GeoDataFrame(records, geometry="geometry", crs=RD_NEW)
    frame["class_key"] = classify(frame)
    priorities = crosswalk()["layers"]
    frame["priority"] = frame["layer"].map(priorities).astype("int16")
    kinds = frame.geometry.geom_type
    polygons = frame[kinds.isin(["Polygon", "MultiPolygon"])]
    lines = frame[kinds.isin(["LineString", "MultiLineString"])]
    trees = frame[(kinds == "Point") & (frame["plus"] == "boom")]
    return BgtLandCover(
        polygons=polygons[polygons["class_key"] != ""].reset_index(drop=True),
        lines=lines[lines["class_key"] != ""].reset_index(drop=True),
        trees=trees[["lokaal_id", "bronhouder", "geometry"]].reset_index(drop=True),
        historic_skipped=historic,
        above_ground_skipped=above,
    )


@lru_cache(maxsize=1)
def crosswalk() -> dict[str, Any]:
    """The BGT → land-cover crosswalk (package data)."""
    text = resources.files("biostresstest.sources").joinpath("data/bgt_crosswalk.toml")
    return tomllib.loads(text.read_text("utf-8"))


def classify(frame: gpd.GeoDataFrame) -> list[str]:
    """The class key of every object; unmapped values stop with a list of them all.

    Tree points need no class (they are kept as points), so they get an empty key.
    """
    rules = crosswalk()["rule"]
    keys: list[str] = []
    unmapped: Counter[str] = Counter()
    for row in frame[["layer", "fysiek", "functie", "type", "plus"]].itertuples(index=False):
        values = row._asdict()
        key = next((r["class"] for r in rules if _matches(r, values)), None)
        if key is None and not (row.layer == "vegetatieobject" and row.plus == "boom"):
            unmapped[_describe(values)] += 1
        keys.append(key or "")
    if unmapped:
        listed = "; ".join(f"{text} ({count}×)" for text, count in unmapped.most_common())
        raise CorruptInput(
            f"BGT values without a land-cover class: {listed}",
            hint="add them to sources/data/bgt_crosswalk.toml",
        )
    return keys


def _matches(rule: dict[str, Any], values: dict[str, str]) -> bool:
    if rule["layer"] != values["layer"]:
        return False
    return all(values[field] in rule[field] for field in _FIELDS if field in rule)


def _describe(values: dict[str, str]) -> str:
    shown = [f"{field}={values[field]!r}" for field in _FIELDS if values[field]]
    return f"{values['layer']} " + ", ".join(shown)


def _open_zip(fetched: FetchedFile) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(fetched.path)
        bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise CorruptInput(
            f"BGT download {fetched.path} is not a readable zip: {exc}",
            hint="the download was cut off or damaged: fetch it again",
        ) from exc
    if bad is not None:
        raise CorruptInput(f"BGT download {fetched.path}: member {bad!r} is damaged")
    for info in archive.infolist():
        name = info.filename
        if name.startswith("/") or ".." in Path(name).parts:
            raise CorruptInput(f"BGT download {fetched.path}: unsafe member name {name!r}")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_MEMBER_BYTES or ratio > MAX_RATIO:
            raise CorruptInput(
                f"BGT download {fetched.path}: member {name!r} unpacks to {info.file_size} "
                f"bytes (ratio {ratio:.0f}); refused as a possible zip bomb"
            )
    return archive


def _features(handle: IO[bytes], layer: str, member: str) -> Iterator[dict[str, Any]]:
    for element in city_objects(handle, member):
        yield _record(element, layer, member)


def city_objects(handle: IO[bytes], member: str) -> Iterator[etree._Element]:
    """The city objects of a BGT CityGML file, streamed (each cleared once it has been used).

    DOCTYPE and entities are refused and never resolved; a file that is not well-formed XML
    raises :class:`CorruptInput` naming it.
    """
    _refuse_doctype(handle, member)
    parser = etree.iterparse(
        handle,
        events=("end",),
        tag=f"{_CITYGML}cityObjectMember",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,
    )
    try:
        for _, member_element in parser:
            if len(member_element):
                yield member_element[0]
            member_element.clear()
            while member_element.getprevious() is not None:
                del member_element.getparent()[0]
    except etree.XMLSyntaxError as exc:
        raise CorruptInput(f"BGT file {member} is not well-formed XML: {exc}") from exc


def _refuse_doctype(handle: IO[bytes], member: str) -> None:
    """Refuse DOCTYPE and ENTITY declarations (billion laughs, external entities)."""
    head = handle.peek(65536)[:65536] if hasattr(handle, "peek") else b""
    prolog = head.split(b"<CityModel", 1)[0]
    if b"<!DOCTYPE" in prolog.upper() or b"<!ENTITY" in prolog.upper():
        raise CorruptInput(
            f"BGT file {member} declares a DOCTYPE or entities; refused",
            hint="a PDOK BGT download has none: this file was altered",
        )


def _record(feature: etree._Element, layer: str, member: str) -> dict[str, Any]:
    values: dict[str, Any] = {"layer": layer, "fysiek": "", "functie": "", "type": "", "plus": ""}
    geometry_element = None
    historic = False
    hoogte = 0
    lokaal_id = bronhouder = begin = ""
    for child in feature:
        if not isinstance(child.tag, str):
            continue
        name = child.tag.rpartition("}")[2]
        text = (child.text or "").strip()
        if name == "class":
            values[_CLASS_FIELD.get(layer, "type")] = text
        elif name.startswith("geometrie2d"):
            geometry_element = child
        elif name == "eindRegistratie" and text:
            historic = True
        elif name == "relatieveHoogteligging":
            hoogte = int(text or 0)
        elif name == "identificatie":
            lokaal_id = "".join(child.itertext()).split()[-1] if len(child) else text
        elif name == "bronhouder":
            bronhouder = text
        elif name == "creationDate":
            begin = text
        else:
            for field, names in _FIELDS.items():
                if name in names and not values[field]:
                    values[field] = text
    if geometry_element is None or len(geometry_element) == 0:
        raise CorruptInput(f"BGT file {member}: object {lokaal_id or '?'} has no geometry")
    srs = geometry_element[0].get("srsName", "")
    if srs and "28992" not in srs:
        raise CRSMismatch(
            f"BGT file {member} is in {srs}, not EPSG:28992 (RD New)",
            hint="request the BGT in RD New (the PDOK download delivers it so)",
        )
    # historic versions are counted, never used: skip the costly geometry (over half the file)
    geometry = None if historic else parse_geometry(geometry_element[0])
    return {
        **values,
        "lokaal_id": lokaal_id,
        "bronhouder": bronhouder,
        "begin": begin,
        "hoogte": hoogte,
        "historic": historic,
        "geometry": geometry,
    }
