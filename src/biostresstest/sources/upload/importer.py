"""Upload → preview → import: the steps an admin goes through, shared by the API and the CLI.

1. ``prepare_upload`` (or ``prepare_from_address``) keeps the bytes under an id of our own,
   sniffs the format, reads it within the limits and checks CRS, geometry and extent; it answers
   a preview (columns with sample values, detected CRS, counts, a suggested mapping).
2. ``commit_upload`` reads it again, applies the admin's mapping (value ranges, class values)
   and hands the result to the local-data store, which switches it live in one atomic step and
   writes the audit log. A refusal at any step changes nothing and is noted in the audit log.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import shapely
from rasterio.warp import transform_bounds
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from biostresstest.core.crs import RD_NEW
from biostresstest.core.errors import BiostresstestError, CorruptInput, CRSMismatch, NotLoaded
from biostresstest.core.settings import Settings
from biostresstest.model.areas import normalise_gemeente_code
from biostresstest.model.local_data import (
    DatasetRecord,
    Kind,
    LocalDataStore,
    check_dataset_name,
    get_kind,
)
from biostresstest.model.local_data.layers import local_store
from biostresstest.sources import cbs_gemeenten
from biostresstest.sources.base import fetch, sha256_of
from biostresstest.sources.upload import readers, validate
from biostresstest.sources.upload.limits import UploadLimits
from biostresstest.sources.upload.remote import fetch_by_address
from biostresstest.sources.upload.sniff import FileKind, sniff

UPLOAD_MAX_AGE_S = 24 * 3600
"""Uploads not imported within a day are removed."""
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


@dataclass
class Inspected:
    """An upload read and checked, before the mapping."""

    format: FileKind
    frame: gpd.GeoDataFrame | None = None
    raster: readers.RasterSummary | None = None
    report: dict[str, int] = field(default_factory=dict)
    source_crs: str = ""


def prepare_upload(
    settings: Settings,
    gemeente: str,
    source: Path,
    declared_name: str,
    kind: str,
    who: str,
    limits: UploadLimits | None = None,
    crs: str | None = None,
    repair: bool = False,
    move: bool = True,
    origin: str = "",
) -> dict[str, Any]:
    """Keep an uploaded file under a new id and check it; the preview of its content."""
    code, spec, store = normalise_gemeente_code(gemeente), get_kind(kind), local_store(settings)
    limits = limits or UploadLimits()
    upload_id = uuid.uuid4().hex
    folder = _uploads(settings, code) / upload_id
    folder.mkdir(parents=True)
    try:
        original = folder / "original"
        (shutil.move if move else shutil.copyfile)(source, original)
        inspected = inspect(settings, code, spec, original, declared_name, limits, crs, repair)
        preview = _preview(upload_id, spec, inspected)
        meta = {
            "kind": spec.key,
            "declared_name": declared_name[:200],
            "crs": crs,
            "repair": repair,
            "sha256": sha256_of(original),
            "who": who,
            "origin": origin,
            "at": time.time(),
            "preview": preview,
        }
        (folder / "upload.json").write_text(json.dumps(meta, default=str), "utf-8")
        return preview
    except BiostresstestError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        store.note_refusal(code, who, "upload", exc.code, exc.message)
        raise
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def prepare_from_address(
    settings: Settings,
    gemeente: str,
    url: str,
    kind: str,
    who: str,
    limits: UploadLimits | None = None,
    allow: Collection[str] = (),
    crs: str | None = None,
    repair: bool = False,
) -> dict[str, Any]:
    """Fetch a dataset by address (SSRF-checked, see ``remote``) and prepare it like an upload."""
    code, limits = normalise_gemeente_code(gemeente), limits or UploadLimits()
    tmp = _uploads(settings, code) / f".download-{uuid.uuid4().hex}"
    try:
        fetch_by_address(url, tmp, limits, allow)
    except BiostresstestError as exc:
        tmp.unlink(missing_ok=True)
        local_store(settings).note_refusal(code, who, "upload-by-address", exc.code, exc.message)
        raise
    return prepare_upload(settings, code, tmp, "", kind, who, limits, crs, repair, origin=url[:500])


def commit_upload(
    settings: Settings,
    gemeente: str,
    upload_id: str,
    who: str,
    mapping: Mapping[str, str] | None = None,
    values: Mapping[str, Mapping[str, str]] | None = None,
    name: str | None = None,
    limits: UploadLimits | None = None,
) -> DatasetRecord:
    """Import a prepared upload with ``mapping`` (default: the suggested one), atomically."""
    code, store = normalise_gemeente_code(gemeente), local_store(settings)
    folder = _uploads(settings, code) / upload_id
    if not _UPLOAD_ID.fullmatch(upload_id) or not (folder / "upload.json").exists():
        raise NotLoaded(
            f"there is no upload {upload_id[:40]!r} for {code}",
            hint="upload the file again (uploads are kept for one day)",
        )
    meta = json.loads((folder / "upload.json").read_text("utf-8"))
    kind = get_kind(meta["kind"])
    try:
        check_dataset_name((name or kind.key).strip().lower())  # before the costly re-read
        inspected = inspect(
            settings,
            code,
            kind,
            folder / "original",
            meta["declared_name"],
            limits or UploadLimits(),
            meta["crs"],
            meta["repair"],
        )
        record, write = _prepared(kind, inspected, meta, mapping, values, name, who)
        store.commit(code, record, write, who)
    except BiostresstestError as exc:
        store.note_refusal(code, who, "import", exc.code, exc.message)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    return record


def import_file(
    settings: Settings,
    gemeente: str,
    path: Path,
    kind: str,
    who: str,
    mapping: Mapping[str, str] | None = None,
    values: Mapping[str, Mapping[str, str]] | None = None,
    name: str | None = None,
    crs: str | None = None,
    repair: bool = False,
    limits: UploadLimits | None = None,
) -> DatasetRecord:
    """Upload and import a file in one go (the CLI's ``local import``)."""
    preview = prepare_upload(
        settings, gemeente, path, path.name, kind, who, limits, crs, repair, move=False
    )
    return commit_upload(
        settings, gemeente, preview["upload_id"], who, mapping, values, name, limits
    )


def inspect(
    settings: Settings,
    code: str,
    kind: Kind,
    path: Path,
    declared_name: str,
    limits: UploadLimits,
    crs: str | None,
    repair: bool,
) -> Inspected:
    """Sniff, read and check an upload (everything except the mapping)."""
    if path.stat().st_size > limits.max_bytes:
        raise CorruptInput(f"the file is larger than {limits.max_bytes:,} bytes")
    fmt = sniff(path, declared_name)
    outline = gemeente_outline(settings, code)
    if kind.is_raster:
        if fmt is not FileKind.GEOTIFF:
            raise CorruptInput(f"a {kind.name_en.lower()} must be a GeoTIFF, not {fmt.value}")
        raster = readers.read_raster(path, limits)
        if raster.crs is None:
            raise CRSMismatch(
                "the GeoTIFF has no coordinate reference system",
                hint="export it as a GeoTIFF with its CRS (EPSG:28992)",
            )
        rd = box(*transform_bounds(raster.crs, RD_NEW, *raster.bounds, densify_pts=21))
        validate.check_extent(gpd.GeoDataFrame(geometry=[rd], crs=RD_NEW), outline, code)
        low, high = kind.options.get("band_min"), kind.options.get("band_max")
        if (
            raster.valid_cells == 0
            or (low is not None and raster.minimum < float(low))
            or (high is not None and raster.maximum > float(high))
        ):
            raise CorruptInput(
                f"band 1 runs from {raster.minimum} to {raster.maximum} "
                f"({raster.valid_cells} valid cells); accepted: {low}..{high}",
                hint=str(kind.options.get("band_note", "")),
            )
        return Inspected(
            fmt, raster=raster, source_crs=raster.crs, report={"features": raster.valid_cells}
        )
    if fmt is FileKind.GEOTIFF:
        raise CorruptInput(
            f"a {kind.name_en.lower()} is vector data, not a GeoTIFF",
            hint="choose the kind 'heat' for a raster, or upload vectors",
        )
    work = path.parent / "work"
    work.mkdir(exist_ok=True)
    gdal_path = path if fmt is FileKind.CSV else readers.vector_path(path, fmt, work, limits)
    frame = readers.read_vector(gdal_path, fmt, limits, crs)
    source_crs = frame.crs.to_string() if frame.crs is not None else ""
    rd = validate.to_rd(frame)
    rd, report = validate.check_geometry(rd, kind, repair)
    validate.check_extent(rd, outline, code)
    return Inspected(fmt, frame=rd, report=report, source_crs=source_crs)


def gemeente_outline(settings: Settings, code: str) -> BaseGeometry:
    """The CBS 2023 outline of gemeente ``code`` in RD New (cached per process)."""
    fetched = fetch(cbs_gemeenten.SPEC, settings)
    return _outline(str(fetched.path), fetched.sha256, code)


@lru_cache(maxsize=32)
def _outline(path: str, sha256: str, code: str) -> BaseGeometry:
    from biostresstest.sources.base import FetchedFile

    fetched = FetchedFile(cbs_gemeenten.SPEC, Path(path), sha256, path, "")
    row = cbs_gemeenten.find_gemeente(cbs_gemeenten.read_gemeenten(fetched), code)
    geometry: BaseGeometry = shapely.make_valid(row.geometry.iloc[0])
    return geometry


def _prepared(
    kind: Kind,
    inspected: Inspected,
    meta: dict[str, Any],
    mapping: Mapping[str, str] | None,
    values: Mapping[str, Mapping[str, str]] | None,
    name: str | None,
    who: str,
) -> tuple[DatasetRecord, Any]:
    name = check_dataset_name((name or kind.key).strip().lower())
    at = datetime.now(UTC).isoformat(timespec="seconds")
    source = {
        "format": inspected.format.value,
        "file_name": meta["declared_name"],
        "address": meta.get("origin", ""),
        "crs": inspected.source_crs,
    }
    if inspected.raster is not None:
        raster = inspected.raster
        bounds = transform_bounds(raster.crs, RD_NEW, *raster.bounds, densify_pts=21)
        record = DatasetRecord(
            name,
            kind.key,
            f"{name}.tif",
            meta["sha256"],
            raster.valid_cells,
            str(raster.crs),
            _bounds(bounds),
            source=source,
            imported_at=at,
            imported_by=who,
        )
        return record, lambda target: shutil.copyfile(raster.path, target)
    assert inspected.frame is not None
    chosen = dict(mapping) if mapping is not None else meta["preview"]["suggested_mapping"]
    mapped = validate.apply_mapping(inspected.frame, kind, chosen, values)
    record = DatasetRecord(
        name,
        kind.key,
        f"{name}.gpkg",
        meta["sha256"],
        len(mapped),
        RD_NEW,
        _bounds(mapped.total_bounds),
        mapping=chosen,
        values={k: dict(v) for k, v in (values or {}).items()},
        source=source,
        imported_at=at,
        imported_by=who,
    )

    def write(target: Path) -> None:
        pyogrio.write_dataframe(mapped, target, layer=name, driver="GPKG")

    return record, write


def _preview(upload_id: str, kind: Kind, inspected: Inspected) -> dict[str, Any]:
    preview: dict[str, Any] = {
        "upload_id": upload_id,
        "kind": kind.key,
        "format": inspected.format.value,
        "crs": inspected.source_crs,
        "report": inspected.report,
        "fields": {
            n: {
                "type": f.type,
                "required": f.required,
                "min": f.min,
                "max": f.max,
                "classes": list(f.classes),
            }
            for n, f in kind.fields.items()
        },
    }
    if inspected.raster is not None:
        r = inspected.raster
        preview.update(
            columns=[],
            suggested_mapping={},
            features=r.valid_cells,
            band={"min": r.minimum, "max": r.maximum, "width": r.width, "height": r.height},
        )
        return preview
    frame = inspected.frame
    assert frame is not None
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    preview.update(
        features=len(frame),
        geometry_types=sorted(set(frame.geom_type)),
        bounds_rd=[round(float(v), 1) for v in frame.total_bounds],
        columns=[
            {"name": c, "samples": [str(v)[:80] for v in frame[c].dropna().unique()[:5]]}
            for c in columns
        ],
        suggested_mapping=validate.suggest_mapping(columns, kind),
    )
    return preview


def _uploads(settings: Settings, code: str) -> Path:
    root = settings.data_dir / "local" / ".uploads" / code
    root.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in root.iterdir():  # the janitor: forgotten uploads and broken downloads
        if now - old.stat().st_mtime > UPLOAD_MAX_AGE_S:
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)
    return root


def list_datasets(settings: Settings, gemeente: str) -> list[DatasetRecord]:
    """The live local datasets of a gemeente."""
    store: LocalDataStore = local_store(settings)
    return store.datasets(gemeente)


def _bounds(values: Any) -> tuple[float, float, float, float]:
    xmin, ymin, xmax, ymax = (float(v) for v in values)
    return (xmin, ymin, xmax, ymax)
