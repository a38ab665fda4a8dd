"""OGC API – Features over the published results: Part 1 Core, GeoJSON, OpenAPI 3.0, Part 2 CRS.

One collection per store key and level (``GM0758-buurt``, ``otterlo-gebied``) or feature layer
(``otterlo-bermen``). Geometries are CRS84 unless ``crs`` asks for RD New (EPSG:28992). Unknown,
repeated or malformed query parameters answer 400 (OGC wants 400, not FastAPI's 422); a ``limit``
above 10,000 is reduced to 10,000, as the standard asks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any

import geopandas as gpd
import numpy as np
import shapely
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pyproj import Transformer
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from biostresstest.core.crs import RD_NEW
from biostresstest.core.errors import InvalidInput, NotLoaded
from biostresstest.model.areas import AreaLevel
from biostresstest.model.store import Store
from biostresstest.web.deps import get_store
from biostresstest.web.exports import EXPORT_FORMATS

router = APIRouter(prefix="/ogc", tags=["ogc"])
StoreDep = Annotated[Store, Depends(get_store)]
BBox = tuple[float, float, float, float]

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
RD = "http://www.opengis.net/def/crs/EPSG/0/28992"
CRS_LIST = [CRS84, RD]
_PYPROJ = {CRS84: "OGC:CRS84", RD: RD_NEW}
_CRS_ALIASES = {**{u: u for u in CRS_LIST}, **{v: k for k, v in _PYPROJ.items()}, "CRS84": CRS84}
RD_AREA_OF_USE = (3.2, 50.75, 7.22, 53.7)
"""Lon/lat bounds of EPSG:28992; a lon/lat bbox is clipped to them before it is transformed."""
DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET = 10, 10_000, 10_000_000
_SPEC = "http://www.opengis.net/spec/ogcapi-features-{}/1.0/conf/{}"
CONFORMANCE = [_SPEC.format(1, c) for c in ("core", "geojson", "oas30")] + [_SPEC.format(2, "crs")]
GEOJSON, JSON = "application/geo+json", "application/json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
_LICENCES = {
    "CC BY 4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC0 1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
}
_F = frozenset({"f"})
_ITEMS = frozenset({"f", "limit", "offset", "bbox", "bbox-crs", "crs", "datetime"})
_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")
_OPEN = ("", "..")


@dataclass(frozen=True)
class Collection:
    """The area units of one level (``level`` set), or one feature layer, of one store key."""

    key: str
    name: str
    level: AreaLevel | None

    @property
    def id(self) -> str:
        """The collection id, e.g. ``GM0758-buurt``."""
        return f"{self.key}-{self.name}"

    def read(self, store: Store, rd_bbox: BBox | None = None) -> Any:
        """The features (at least those in ``rd_bbox``) in EPSG:28992 with their id in ``_id``."""
        frame = self._load(store, rd_bbox)
        column = "code" if self.level else "lokaal_id"
        if column in frame:
            return frame.assign(_id=frame[column].astype(str)).sort_values("_id", kind="stable")
        frame = self._load(store, None)  # no id column: number the rows of the whole layer
        return frame.assign(_id=[str(n) for n in range(1, len(frame) + 1)])

    def _load(self, store: Store, rd_bbox: BBox | None) -> Any:
        if self.level is None:
            return store.features(self.key, self.name, rd_bbox)
        return store.areas(self.key, self.level, rd_bbox)


def _levels(key: str) -> list[AreaLevel]:
    gemeente = [AreaLevel.GEMEENTE, AreaLevel.WIJK, AreaLevel.BUURT]
    return gemeente if key.startswith("GM") else [AreaLevel.GEBIED]


def _collection(store: Store, collection_id: str) -> Collection:
    key, _, name = collection_id.rpartition("-")
    if key in store.gemeenten():
        if name in [level.value for level in _levels(key)]:
            return Collection(key, name, AreaLevel(name))
        if name in store.feature_layers(key):
            return Collection(key, name, None)
    raise NotLoaded(f"no collection {collection_id[:100]!r}", hint="see /ogc/collections")


@lru_cache(maxsize=16)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


_META: dict[tuple[str, ...], dict[str, Any]] = {}
"""Per collection and published run (a few hundred bytes each)."""


def _meta(store: Store, collection: Collection) -> dict[str, Any]:
    """Area name, CRS84 bbox and years (``jaar``) of a collection, cached per published run."""
    manifest = store.manifest(collection.key)
    stamp = (collection.id, str(manifest.get("key")), str(manifest.get("created")))
    if stamp not in _META:
        frame = collection.read(store)
        top = store.areas(collection.key, _levels(collection.key)[0])
        meta: dict[str, Any] = {"name": str(top.iloc[0]["name"]) if len(top) else collection.key}
        if len(frame):
            bounds = _transformer(RD_NEW, "OGC:CRS84").transform_bounds(*frame.total_bounds)
            lower, upper = [math.floor(v * 1e6) / 1e6 for v in bounds[:2]], bounds[2:]
            meta["bbox"] = lower + [math.ceil(v * 1e6) / 1e6 for v in upper]  # contains all
        if "jaar" in frame and frame["jaar"].notna().any():
            meta["years"] = (int(frame["jaar"].min()), int(frame["jaar"].max()))
        _META[stamp] = meta
    return _META[stamp]


def _query(request: Request, allowed: frozenset[str]) -> dict[str, str]:
    """The query parameters, refusing unknown or repeated ones and any format but JSON."""
    params = request.query_params
    if unknown := sorted(set(params.keys()) - allowed):
        names = ", ".join(repr(name[:40]) for name in unknown[:5])
        raise InvalidInput(
            f"unknown query parameter {names}", hint=f"use {', '.join(sorted(allowed))}"
        )
    if repeated := sorted(name for name in params if len(params.getlist(name)) > 1):
        raise InvalidInput(f"query parameter {', '.join(repeated)} given more than once")
    if params.get("f", "json") != "json":
        raise InvalidInput(f"unsupported format f={params['f'][:40]!r}", hint="use f=json")
    return dict(params)


def _integer(query: dict[str, str], name: str, default: int, minimum: int) -> int:
    text = query.get(name, str(default)).strip()
    if not _INTEGER.fullmatch(text):
        raise InvalidInput(f"{name} must be an integer, got {text[:40]!r}")
    if (value := int(text)) < minimum:
        raise InvalidInput(f"{name} must be at least {minimum}, got {value}")
    return value


def _crs(query: dict[str, str], name: str) -> str:
    text = query.get(name, CRS84).strip()
    if text not in _CRS_ALIASES:
        raise InvalidInput(f"unsupported {name} {text[:100]!r}", hint=f"use {', '.join(CRS_LIST)}")
    return _CRS_ALIASES[text]


def _area(query: dict[str, str]) -> BaseGeometry | None:
    """The ``bbox`` as a polygon in RD New (empty if it lies outside RD's area of use)."""
    if "bbox" not in query:
        return None
    bbox_crs, text = _crs(query, "bbox-crs"), query["bbox"][:100]  # text: for messages
    try:
        numbers = [float(part) for part in query["bbox"].split(",")]
    except ValueError:
        numbers = []
    if len(numbers) not in (4, 6) or not all(math.isfinite(n) for n in numbers):
        raise InvalidInput(
            f"bbox must be 4 (or 6) finite numbers, got {text!r}",
            hint="bbox=minx,miny,maxx,maxy, in CRS84 (lon,lat) unless bbox-crs says otherwise",
        )
    x0, y0, x1, y1 = numbers if len(numbers) == 4 else (*numbers[0:2], *numbers[3:5])
    if x0 > x1 or y0 > y1:
        raise InvalidInput(f"bbox minimum exceeds maximum in {text!r}")
    if bbox_crs == RD:
        return box(x0, y0, x1, y1)
    if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
        raise InvalidInput(f"bbox {text!r} lies outside -180…180 (lon), -90…90 (lat)")
    lonlat = box(x0, y0, x1, y1).intersection(box(*RD_AREA_OF_USE))
    if lonlat.area == 0:
        return Polygon()
    dense = shapely.segmentize(lonlat, max(x1 - x0, y1 - y0) / 32)
    return shapely.transform(
        dense, _transformer(_PYPROJ[CRS84], RD_NEW).transform, interleaved=False
    )


def _utc(text: str) -> datetime | None:
    if text in _OPEN:
        return None
    moment = datetime.fromisoformat(text)
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _years(query: dict[str, str]) -> tuple[int, int] | None:
    """The ``datetime`` instant or interval as whole years (area units carry their ``jaar``)."""
    if "datetime" not in query:
        return None
    text = query["datetime"][:100]  # for messages
    try:
        ends = [_utc(part) for part in query["datetime"].split("/")]
        first, last = ends[0], ends[-1]
        if len(ends) > 2 or ends.count(None) == len(ends) or (first and last and first > last):
            raise ValueError
    except ValueError:
        raise InvalidInput(
            f"datetime {text!r} is no RFC 3339 date(-time) or interval",
            hint="e.g. 2020-06-01, 2020-06-01T12:00:00Z, 2019-01-01/2021-12-31 or ../2020-12-31",
        ) from None
    return (first.year if first else 1, last.year if last else 9999)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + router.prefix


def _link(rel: str, href: str, media: str = JSON, title: str = "") -> dict[str, str]:
    return {"rel": rel, "type": media, "title": title or rel, "href": href}


def _collection_document(request: Request, store: Store, collection: Collection) -> dict[str, Any]:
    meta, inputs = _meta(store, collection), store.manifest(collection.key).get("inputs", [])
    href = f"{_base(request)}/collections/{collection.id}"
    licences: dict[tuple[str, str], list[str]] = {}
    for source in inputs:
        for name, url in _LICENCES.items():
            if str(source.get("licence", "")).startswith(name):
                licences.setdefault((name, url), []).append(str(source.get("title")))
    sources = "; ".join(
        f"{s.get('title')} ({s.get('publisher')}, {s.get('licence')})" for s in inputs
    )
    what = f"area units ({collection.name}) with green indicators and stress-test score"
    extent: dict[str, Any] = {}
    if "bbox" in meta:
        extent["spatial"] = {"bbox": [meta["bbox"]], "crs": CRS84}
    if "years" in meta:
        interval = [f"{meta['years'][0]}-01-01T00:00:00Z", f"{meta['years'][1]}-12-31T23:59:59Z"]
        extent["temporal"] = {"interval": [interval]}
    return {
        "id": collection.id,
        "title": f"{meta['name']} – {collection.name}",
        "description": f"{meta['name']}: {what if collection.level else 'feature layer'}. "
        f"Sources: {sources or 'not recorded'}.",
        "itemType": "feature",
        "crs": CRS_LIST,
        "storageCrs": RD,
        "extent": extent,
        "links": [
            _link("self", href, title="this collection"),
            _link("items", f"{href}/items", GEOJSON, "the features"),
            *(
                _link(
                    "enclosure",
                    f"{str(request.base_url).rstrip('/')}/api/export/"
                    f"{collection.key}/{collection.name}.{ext}",
                    media,
                    f"download ({ext})",
                )
                for ext, media in EXPORT_FORMATS.items()
            ),
            *(
                _link("license", u, "text/html", f"{n}: {'; '.join(t)}")
                for (n, u), t in licences.items()
            ),
        ],
    }


def _features(frame: Any, crs: str) -> list[dict[str, Any]]:
    """GeoJSON features of ``frame`` (EPSG:28992, with ``_id``) in ``crs``, coordinates rounded."""
    out = frame.to_crs(_PYPROJ[crs])
    digits = 3 if crs == RD else 7  # millimetres, or about a centimetre
    geometries = shapely.transform(np.asarray(out.geometry.values), lambda c: np.round(c, digits))
    out = out.set_geometry(gpd.GeoSeries(geometries, index=out.index, crs=out.crs))
    ids = list(out.pop("_id"))
    features = list(out.iterfeatures(na="null", drop_id=True))
    return [{**feature, "id": fid} for fid, feature in zip(ids, features, strict=True)]


def _geojson(body: dict[str, Any], crs: str) -> JSONResponse:
    return JSONResponse(body, media_type=GEOJSON, headers={"Content-Crs": f"<{crs}>"})


@router.get("")
def landing(request: Request) -> dict[str, Any]:
    """The landing page: links to the API definition, the conformance classes and the data."""
    _query(request, _F)
    base = _base(request)
    return {
        "title": "biostresstest – OGC API Features",
        "description": "Area units with biodiversity stress-test scores, and feature layers.",
        "links": [
            _link("self", base, title="this document"),
            _link("service-desc", f"{base}/openapi", OPENAPI, "the API definition"),
            _link("conformance", f"{base}/conformance", title="conformance classes"),
            _link("data", f"{base}/collections", title="the collections"),
        ],
    }


@router.get("/openapi")
def openapi(request: Request) -> JSONResponse:
    """The API definition as OpenAPI 3.0 (FastAPI's own /openapi.json is 3.1)."""
    _query(request, _F)
    return JSONResponse(_openapi_document(_base(request)), media_type=OPENAPI)


@router.get("/conformance")
def conformance(request: Request) -> dict[str, list[str]]:
    """The conformance classes this API claims."""
    _query(request, _F)
    return {"conformsTo": CONFORMANCE}


@router.get("/collections")
def collections(request: Request, store: StoreDep) -> dict[str, Any]:
    """All collections with their extent, CRSs, sources and licences."""
    _query(request, _F)
    found = []
    for key in store.gemeenten():  # per key its levels, then its feature layers
        found += [Collection(key, level.value, level) for level in _levels(key)]
        found += [Collection(key, layer, None) for layer in store.feature_layers(key)]
    return {
        "links": [_link("self", f"{_base(request)}/collections", title="this document")],
        "collections": [_collection_document(request, store, c) for c in found],
    }


@router.get("/collections/{collection_id}")
def collection(request: Request, store: StoreDep, collection_id: str) -> dict[str, Any]:
    """One collection."""
    _query(request, _F)
    return _collection_document(request, store, _collection(store, collection_id))


@router.get("/collections/{collection_id}/items")
def items(request: Request, store: StoreDep, collection_id: str) -> JSONResponse:
    """A page of features, filtered by ``bbox`` and ``datetime``, paged by ``limit``/``offset``."""
    query = _query(request, _ITEMS)
    limit = min(_integer(query, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    if (offset := _integer(query, "offset", 0, 0)) > MAX_OFFSET:
        raise InvalidInput(f"offset must be at most {MAX_OFFSET}, got {offset}")
    crs, area, years = _crs(query, "crs"), _area(query), _years(query)
    found = _collection(store, collection_id)
    page: list[dict[str, Any]] = []
    matched = 0
    if area is None or not area.is_empty:  # an empty area lies outside RD New: nothing matches
        frame = found.read(store, None if area is None else area.bounds)
        if area is not None:
            frame = frame[frame.intersects(area)]
        if years is not None and "jaar" in frame:
            frame = frame[frame["jaar"].between(*years)]
        matched, page = len(frame), _features(frame.iloc[offset : offset + limit], crs)
    url = request.url
    links = [
        _link("self", str(url), GEOJSON, "this page"),
        _link("collection", f"{_base(request)}/collections/{found.id}", title="the collection"),
    ]
    for rel, start, wanted in [
        ("next", offset + limit, offset + limit < matched),
        ("prev", max(offset - limit, 0), offset > 0),
    ]:
        href = str(url.include_query_params(offset=start, limit=limit))
        links += [_link(rel, href, GEOJSON, f"{rel} page")] if wanted else []
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"type": "FeatureCollection", "numberMatched": matched, "numberReturned": len(page)}
    return _geojson({**body, "timeStamp": stamp, "links": links, "features": page}, crs)


@router.get("/collections/{collection_id}/items/{feature_id}")
def item(request: Request, store: StoreDep, collection_id: str, feature_id: str) -> JSONResponse:
    """One feature by its id: the area code, or the BGT ``lokaal_id``."""
    crs = _crs(_query(request, frozenset({"f", "crs"})), "crs")
    found = _collection(store, collection_id)
    frame = found.read(store)
    if (match := frame[frame["_id"] == feature_id]).empty:
        raise NotLoaded(f"collection {found.id} has no feature {feature_id[:100]!r}")
    href = f"{_base(request)}/collections/{found.id}"
    links = [
        _link("self", f"{href}/items/{feature_id}", GEOJSON, "this feature"),
        _link("collection", href, title="the collection"),
    ]
    return _geojson({**_features(match.iloc[:1], crs)[0], "links": links}, crs)


def _openapi_document(base: str) -> dict[str, Any]:
    """A self-contained OpenAPI 3.0 document of the endpoints above."""

    def param(name: str, text: str, schema: dict[str, Any], where: str = "query") -> dict[str, Any]:
        form = {"style": "form", "explode": False} if where == "query" else {}
        head = {"name": name, "in": where, "required": where == "path", "description": text}
        return {**head, "schema": schema, **form}

    f = param("f", "output format", {"type": "string", "enum": ["json"], "default": "json"})
    refusals = {
        "400": {"description": "invalid query parameter"},
        "404": {"description": "not found"},
    }

    def get(summary: str, media: str, *params: dict[str, Any]) -> dict[str, Any]:
        ok = {"description": summary, "content": {media: {"schema": {"type": "object"}}}}
        answers = {"200": ok, **refusals}
        return {"get": {"summary": summary, "parameters": [*params, f], "responses": answers}}

    crs_schema = {"type": "string", "format": "uri", "enum": CRS_LIST, "default": CRS84}
    crs = param("crs", "CRS of the returned geometries", crs_schema)
    cid = param("collectionId", "collection id, e.g. GM0758-buurt", {"type": "string"}, "path")
    fid = param("featureId", "area code or BGT lokaal_id", {"type": "string"}, "path")
    limit = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}
    offset = {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}
    bbox = {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}
    query = [
        param("limit", f"page size; values above {MAX_LIMIT} are reduced to it", limit),
        param("offset", "number of features to skip", offset),
        param("bbox", "minx,miny,maxx,maxy in bbox-crs (default CRS84)", bbox),
        param("bbox-crs", "CRS of bbox", crs_schema),
        param("datetime", "RFC 3339 instant or interval, matched on jaar", {"type": "string"}),
        crs,
    ]
    return {
        "openapi": "3.0.3",
        "info": {"title": "biostresstest – OGC API Features", "version": "1.0.0"},
        "servers": [{"url": base}],
        "paths": {
            "/": get("landing page", JSON),
            "/conformance": get("conformance classes", JSON),
            "/collections": get("the collections", JSON),
            "/collections/{collectionId}": get("one collection", JSON, cid),
            "/collections/{collectionId}/items": get("features", GEOJSON, cid, *query),
            "/collections/{collectionId}/items/{featureId}": get(
                "a feature", GEOJSON, cid, fid, crs
            ),
        },
    }
