"""Unpacking a zipped Shapefile safely (zip slip, zip bombs, symlinks, nested archives).

The central directory is checked before a single byte is extracted: number of entries, total
declared size, ratio per member, member names (no absolute paths, no ``..``, no backslashes, no
duplicates), no symlinks, no nested archives. Members are then written under names we make
ourselves (``layer.shp``, ``layer.dbf`` …), never under the names in the archive, and the bytes
actually inflated are counted, so an archive whose directory lies is stopped too.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from biostresstest.core.errors import CorruptInput, PayloadTooLarge
from biostresstest.sources.upload.limits import UploadLimits

SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_IGNORED = (
    ".xml",
    ".sbn",
    ".sbx",
    ".qix",
    ".qmd",
    ".txt",
    ".pdf",
    ".html",
    ".md",
    ".qml",
    ".lyr",
    ".lyrx",
    ".fix",
    ".aih",
    ".ain",
    ".atx",
    ".ixs",
    ".mxs",
)
_HINT = "zip only the files of one Shapefile (.shp, .shx, .dbf, .prj, optionally .cpg)"


def extract_shapefile(archive: Path, dest: Path, limits: UploadLimits) -> Path:
    """Extract the one Shapefile inside ``archive`` into ``dest``; return the ``.shp`` path."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = _checked_members(zf, limits)
            dest.mkdir(parents=True, exist_ok=True)
            for info, suffix in members:
                _extract_member(zf, info, dest / f"layer{suffix}", limits)
    except zipfile.BadZipFile as exc:
        raise CorruptInput(f"the zip file is damaged: {exc}", hint=_HINT) from exc
    return dest / "layer.shp"


def _checked_members(
    zf: zipfile.ZipFile, limits: UploadLimits
) -> list[tuple[zipfile.ZipInfo, str]]:
    infos = zf.infolist()
    if len(infos) > limits.max_zip_entries:
        raise PayloadTooLarge(
            f"the zip holds {len(infos)} entries; at most {limits.max_zip_entries} are accepted",
            hint=_HINT,
        )
    total = sum(info.file_size for info in infos)
    if total > limits.max_unzipped_bytes:
        raise PayloadTooLarge(
            f"the zip would unpack to {total:,} bytes; at most "
            f"{limits.max_unzipped_bytes:,} are accepted",
            hint="this looks like a zip bomb, or the data is too large for one upload",
        )
    chosen: dict[str, zipfile.ZipInfo] = {}
    stems: set[str] = set()
    for info in infos:
        _check_name(info)
        if info.is_dir():
            continue
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise CorruptInput(f"the zip member {info.filename!r} is a symbolic link", hint=_HINT)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1024 * 1024 and ratio > limits.max_zip_ratio:
            raise PayloadTooLarge(
                f"the zip member {info.filename!r} inflates {ratio:.0f}-fold "
                f"(at most {limits.max_zip_ratio:.0f}-fold is accepted)",
                hint="this looks like a zip bomb; upload the data uncompressed or zipped normally",
            )
        path = PurePosixPath(info.filename)
        suffix = path.suffix.lower()
        if suffix in (".zip", ".gz", ".7z", ".rar", ".tar", ".tgz", ".bz2", ".xz"):
            raise CorruptInput(f"the zip holds another archive ({info.filename!r})", hint=_HINT)
        if suffix in _IGNORED or path.name.startswith("._"):
            continue
        if suffix not in SHAPEFILE_PARTS:
            raise CorruptInput(
                f"the zip holds {info.filename!r}, not part of a Shapefile", hint=_HINT
            )
        if suffix in chosen:
            raise CorruptInput(f"the zip holds more than one {suffix} file", hint=_HINT)
        chosen[suffix] = info
        stems.add(path.stem.lower())
    missing = [s for s in (".shp", ".shx", ".dbf") if s not in chosen]
    if missing:
        raise CorruptInput(f"the zip lacks the Shapefile part(s) {', '.join(missing)}", hint=_HINT)
    if len(stems) > 1:
        raise CorruptInput(f"the zip mixes Shapefiles named {sorted(stems)}", hint=_HINT)
    return [(info, suffix) for suffix, info in chosen.items()]


def _check_name(info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = PurePosixPath(name).parts
    if (
        "\\" in name
        or name.startswith("/")
        or (len(name) > 1 and name[1] == ":")
        or any(part in ("..", "．．") for part in parts)
        or "\x00" in name
    ):
        raise CorruptInput(
            f"the zip member name {name!r} points outside the archive (zip slip)",
            hint="the archive is refused: re-create it with plain member names",
        )


def _extract_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limits: UploadLimits
) -> None:
    written = 0
    cap = min(info.file_size, limits.max_unzipped_bytes)
    with zf.open(info) as source, target.open("wb") as out:
        while block := source.read(1 << 20):
            written += len(block)
            if written > cap:
                raise PayloadTooLarge(
                    f"the zip member {info.filename!r} inflates beyond its declared size",
                    hint="the archive is damaged or crafted; it is refused",
                )
            out.write(block)
