"""The source contract: a declarative spec, and fetch → raw cache for every source.

Each source keeps its real online address. When the setting ``BIOSTRESSTEST_MIRROR`` names a
folder laid out like the project's shared data folder, the same code reads the local copy at the
spec's ``mirror_path`` instead. Fetched bytes land in the raw cache with their checksum, so a
re-run does not fetch again and the run manifest can name exactly what it used.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from biostresstest.core.errors import SourceUnavailable
from biostresstest.core.settings import Settings
from biostresstest.model.provenance import Provenance


class Level(StrEnum):
    """Who publishes a source: the scale it covers."""

    EU = "EU"
    NL = "NL"
    PROVINCIE = "provincie"
    GEMEENTE = "gemeente"


@dataclass(frozen=True)
class SourceSpec:
    """What a source is and where it lives. Declarative: no behaviour here."""

    id: str
    title: str
    publisher: str
    level: Level
    licence: str
    theme: str
    url: str
    """The real online address; may hold ``{bbox}`` (RD xmin,ymin,xmax,ymax) for a clip."""
    mirror_path: str
    """Path of the local copy inside the mirror folder."""
    online_name: str
    """File name of the download in the raw cache."""
    format: str
    crs: str
    resolution: str
    date: str
    companion_suffixes: tuple[str, ...] = field(default=())
    """Files that travel with the main file (a Shapefile's .shx, .dbf, .prj …)."""
    mirror_gemeenten: tuple[str, ...] = field(default=())
    """For a mirror copy cut to some gemeenten: their codes (empty: the copy is complete)."""
    protocol: str = "http-get"
    """How the online copy is fetched: ``http-get`` (one GET of ``url``),
    ``ogcapi-features`` (all items of ``collection`` at the OGC API ``url``, paged and checked
    for truncation) or ``pdok-bgt-download`` (the asynchronous PDOK BGT download API)."""
    collection: str = ""
    """The OGC API collection, for ``ogcapi-features``."""

    def as_row(self) -> dict[str, str]:
        """The spec as a flat table row."""
        row = {k: str(v) for k, v in asdict(self).items()}
        row.pop("companion_suffixes")
        row.pop("protocol")
        if self.collection:
            row["url"] = f"{self.url}/collections/{self.collection}/items"
        row.pop("collection")
        row["mirror_gemeenten"] = ", ".join(self.mirror_gemeenten)
        return row


@dataclass(frozen=True)
class FetchedFile:
    """A source file in the raw cache."""

    spec: SourceSpec
    path: Path
    sha256: str
    retrieved_from: str
    retrieved_at: str

    def provenance(self, edition: str = "") -> Provenance:
        """The provenance record of this file."""
        return Provenance(
            source_id=self.spec.id,
            title=self.spec.title,
            publisher=self.spec.publisher,
            licence=self.spec.licence,
            url=self.spec.url,
            retrieved_from=self.retrieved_from,
            sha256=self.sha256,
            edition=edition or self.spec.date,
        )


OFFLINE_HINT = (
    "set BIOSTRESSTEST_MIRROR to a folder with local copies of the sources "
    "(laid out like shared/data), or connect to the internet"
)


def fetch(spec: SourceSpec, settings: Settings, **params: str) -> FetchedFile:
    """Bring the file of ``spec`` into the raw cache (once) and return it.

    With a mirror set, the local copy at ``spec.mirror_path`` is read; otherwise the online
    address, with ``params`` filled into its template (``{bbox}`` for instance). The cache is
    keyed on where the bytes come from, so a mirror copy and a download never mix.
    """
    if settings.mirror is not None:
        origin = str((settings.mirror / spec.mirror_path).resolve())
        name = Path(spec.mirror_path).name
    else:
        origin = spec.url.format(**params)
        if spec.collection:
            origin = f"{origin}/collections/{spec.collection}/items"
        if spec.protocol == "pdok-bgt-download":  # the request body, not the URL, names the area
            origin = f"{origin}#{json.dumps(params, sort_keys=True)}"
        name = spec.online_name
    cache_dir = settings.raw_dir / spec.id / hashlib.sha1(origin.encode()).hexdigest()[:12]
    target = cache_dir / name
    meta_path = cache_dir / "fetched.json"
    if target.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text("utf-8"))
        if meta.get("sha256") == sha256_of(target):
            return FetchedFile(spec, target, meta["sha256"], origin, meta["at"])
    cache_dir.mkdir(parents=True, exist_ok=True)
    if settings.mirror is None and settings.offline:
        raise SourceUnavailable(
            f"source {spec.id!r} ({spec.title}) is not cached and BIOSTRESSTEST_OFFLINE is set; "
            f"its address is {origin.split('#')[0]}",
            hint=OFFLINE_HINT,
        )
    if settings.mirror is not None:
        _copy_from_mirror(spec, Path(origin), cache_dir)
    elif spec.protocol == "pdok-bgt-download":
        _download_bgt(spec, target, settings, params)
    elif spec.protocol == "ogcapi-features":
        _download_ogcapi(spec, target, settings)
    else:
        _download(spec, origin, target, settings)
    digest = sha256_of(target)
    at = datetime.now(UTC).isoformat(timespec="seconds")
    meta_path.write_text(json.dumps({"sha256": digest, "from": origin, "at": at}), "utf-8")
    return FetchedFile(spec, target, digest, origin, at)


def _copy_from_mirror(spec: SourceSpec, source: Path, cache_dir: Path) -> None:
    if not source.is_file():
        raise SourceUnavailable(
            f"source {spec.id!r} ({spec.title}): the mirror has no file {spec.mirror_path!r} "
            f"(looked at {source})",
            hint="check BIOSTRESSTEST_MIRROR: it must point at a folder laid out like "
            "shared/data; unset it to fetch the source online",
        )
    for file in [source, *(source.with_suffix(s) for s in spec.companion_suffixes)]:
        if file.exists():
            tmp = cache_dir / (file.name + ".part")
            shutil.copyfile(file, tmp)
            tmp.replace(cache_dir / file.name)


def _download(spec: SourceSpec, url: str, target: Path, settings: Settings) -> str:
    tmp = target.with_name(target.name + ".part")
    request = urllib.request.Request(url, headers={"User-Agent": "biostresstest"})
    try:
        with (
            urllib.request.urlopen(request, timeout=settings.http_timeout) as answer,
            tmp.open("wb") as out,
        ):
            shutil.copyfileobj(answer, out, length=1 << 20)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        tmp.unlink(missing_ok=True)
        reason = getattr(exc, "reason", exc)
        raise SourceUnavailable(
            f"could not fetch source {spec.id!r} ({spec.title}) from {url}: {reason}",
            hint=OFFLINE_HINT,
        ) from exc
    tmp.replace(target)
    return url


def _download_ogcapi(spec: SourceSpec, target: Path, settings: Settings) -> None:
    """All items of the collection into one GeoJSON file (CRS84, as RFC 7946 wants)."""
    from biostresstest.sources.ogcapi import OGCFeaturesClient

    where = f"{spec.url}/collections/{spec.collection}/items"
    try:
        with OGCFeaturesClient.from_settings(spec.url, settings) as client:
            features = list(client.items(spec.collection))
    except SourceUnavailable as exc:
        raise SourceUnavailable(
            f"could not fetch source {spec.id!r} ({spec.title}) from {where}: {exc.message}",
            hint=OFFLINE_HINT,
        ) from exc
    part = target.with_name(target.name + ".part")
    part.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    part.replace(target)


def _download_bgt(
    spec: SourceSpec, target: Path, settings: Settings, params: dict[str, str]
) -> None:
    from biostresstest.sources.pdok_download import download_bgt

    if "bounds" not in params or "featuretypes" not in params:
        raise SourceUnavailable(f"source {spec.id!r} needs bounds and feature types to download")
    xmin, ymin, xmax, ymax = (float(v) for v in params["bounds"].split(","))
    download_bgt(
        spec.url,
        tuple(params["featuretypes"].split(",")),
        (xmin, ymin, xmax, ymax),
        target,
        timeout=settings.http_timeout,
    )


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
