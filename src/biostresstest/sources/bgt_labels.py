"""Street names from the BGT: the ``openbareruimtelabel`` layer of a PDOK download.

Each current label object (no ``eindRegistratie``) carries the name of a public space
(``openbareRuimteNaam/Label/tekst``), its type (``Weg``, ``Water``, ``Kunstwerk`` …) and one or
more placement points (``Labelpositie/plaatsingspunt``), where the map puts the name. Every
placement point becomes one row, so a long street is found along its length. A download
without this layer gives an empty frame: the names are a convenience, never a reason to fail
a run. The same XML guards as the land-cover reader apply (no DOCTYPE or entities).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
from lxml import etree
from shapely.geometry import Point

from biostresstest.core.crs import RD_NEW
from biostresstest.core.errors import CorruptInput, CRSMismatch
from biostresstest.sources.base import FetchedFile
from biostresstest.sources.bgt import _open_zip, city_objects

LABEL_LAYER = "openbareruimtelabel"
"""The BGT object type holding the street names."""
COLUMNS = ("naam", "ruimte_type", "lokaal_id", "geometry")

_IMGEO = "{http://www.geostandaarden.nl/imgeo/2.1}"
_GML = "{http://www.opengis.net/gml}"


def read_street_names(fetched: FetchedFile) -> gpd.GeoDataFrame:
    """One point per placement of a current public-space label: ``naam``, ``ruimte_type``, id."""
    rows: list[dict[str, Any]] = []
    with _open_zip(fetched) as archive:
        members = {Path(n).stem.removeprefix("bgt_"): n for n in archive.namelist()}
        if LABEL_LAYER in members:
            with archive.open(members[LABEL_LAYER]) as handle:
                member = members[LABEL_LAYER]
                labels = city_objects(handle, member)
                rows = [row for label in labels for row in _rows(label, member)]
    frame = gpd.GeoDataFrame(rows, columns=list(COLUMNS), geometry="geometry", crs=RD_NEW)
    return frame.reset_index(drop=True)


def _rows(label: etree._Element, member: str) -> list[dict[str, Any]]:
    if any((e.text or "").strip() for e in label.iter(f"{_IMGEO}eindRegistratie")):
        return []  # a historic version
    name = " ".join((label.findtext(f".//{_IMGEO}tekst") or "").split())
    if not name:
        return []
    kind = (label.findtext(f"{_IMGEO}openbareRuimteType") or "").strip()
    lokaal_id = (label.findtext(f".//{_IMGEO}lokaalID") or "").strip()
    rows = []
    for point in label.iter(f"{_GML}Point"):
        srs = point.get("srsName", "")
        if srs and "28992" not in srs:
            raise CRSMismatch(
                f"BGT file {member} is in {srs}, not EPSG:28992 (RD New)",
                hint="request the BGT in RD New (the PDOK download delivers it so)",
            )
        try:
            x, y = (float(v) for v in (point.findtext(f"{_GML}pos") or "").split()[:2])
        except ValueError as exc:
            raise CorruptInput(
                f"BGT file {member}: label {lokaal_id or name!r} has an unreadable position"
            ) from exc
        rows.append(
            {"naam": name, "ruimte_type": kind, "lokaal_id": lokaal_id, "geometry": Point(x, y)}
        )
    return rows
