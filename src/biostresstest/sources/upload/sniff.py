"""What an uploaded file really is, judged by its bytes, never by its name.

Only five formats get through: GeoPackage (SQLite with the GPKG application id), zip (a zipped
Shapefile), GeoTIFF (classic or BigTIFF), GeoJSON and CSV. Anything else — XML (a GDAL VRT
disguised as .tif, GML, KML, HTML) or binary of another kind — is refused before GDAL sees it.
A file whose name claims one of the five formats but whose bytes are another is refused too.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from biostresstest.core.errors import CorruptInput


class FileKind(StrEnum):
    """The accepted upload formats."""

    GPKG = "gpkg"
    ZIP = "zip"
    GEOTIFF = "tif"
    GEOJSON = "geojson"
    CSV = "csv"


EXTENSIONS = {
    ".gpkg": FileKind.GPKG,
    ".zip": FileKind.ZIP,
    ".tif": FileKind.GEOTIFF,
    ".tiff": FileKind.GEOTIFF,
    ".geojson": FileKind.GEOJSON,
    ".json": FileKind.GEOJSON,
    ".csv": FileKind.CSV,
    ".txt": FileKind.CSV,
}
_ACCEPTED = "GeoPackage, GeoJSON, zipped Shapefile, CSV with coordinates or GeoTIFF"
_GPKG_APP_IDS = (b"GPKG", b"GP10", b"GP11")


def sniff(path: Path, declared_name: str = "") -> FileKind:
    """The format of the file at ``path``; ``declared_name`` (the user's file name) must agree.

    Raises :class:`CorruptInput` for a format we do not accept and for a name that lies.
    """
    with path.open("rb") as handle:
        head = handle.read(4096)
    kind = _kind_of(head)
    suffix = Path(declared_name).suffix.lower()
    claimed = EXTENSIONS.get(suffix)
    if claimed is not None and claimed != kind:
        raise CorruptInput(
            f"the file is named {suffix!r} but its content is {kind.value}",
            hint="upload the file with its real extension; a renamed file is refused on purpose",
        )
    return kind


def _kind_of(head: bytes) -> FileKind:
    if head.startswith(b"SQLite format 3\x00"):
        if len(head) >= 72 and head[68:72] in _GPKG_APP_IDS:
            return FileKind.GPKG
        raise CorruptInput(
            "the file is an SQLite database but not a GeoPackage",
            hint=f"upload one of: {_ACCEPTED}",
        )
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return FileKind.ZIP
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return FileKind.GEOTIFF
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"{"):
        return FileKind.GEOJSON
    if text.startswith(b"<"):
        raise CorruptInput(
            "the file is XML or HTML (GML, KML, a GDAL VRT or a web page), which is not accepted",
            hint=f"upload one of: {_ACCEPTED}",
        )
    if head and b"\x00" not in head and _is_text(head):
        return FileKind.CSV
    raise CorruptInput(
        "the file is of a format that is not accepted", hint=f"upload one of: {_ACCEPTED}"
    )


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a multi-byte character cut at the 4096-byte boundary
        if exc.start < len(head) - 4:
            try:
                head.decode("cp1252")
            except UnicodeDecodeError:
                return False
    return True
