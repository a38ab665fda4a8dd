"""A generic OGC API – Features client, written for PDOK's OGC APIs (BGT, BAG, CBS, Natura 2000 …).

PDOK rules it follows: at most 1,000 features per request, paging only by the ``rel=next`` links
of each page (cursor paging; an offset parameter is ignored there, so none is ever built here),
CRS given as URIs in ``crs=``/``bbox-crs=`` and echoed in the ``Content-Crs`` header. A result is
trusted only when the count received equals ``numberMatched`` (reliability G-05): a short result,
a ``next`` link that loops, or a page that is not a FeatureCollection raises ``CorruptInput``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any, Self

import geopandas as gpd
import httpx

from biostresstest import __version__
from biostresstest.core.errors import CorruptInput, CRSMismatch, InvalidInput, SourceUnavailable
from biostresstest.core.settings import Settings

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_CRS84_URIS = {CRS84, CRS84 + "h"}
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"
MAX_RETRY_AFTER = 30.0
"""Seconds: the longest ``Retry-After`` wait honoured."""
_RETRY_STATUS = {429, 500, 502, 503, 504}
_ACCEPT = "application/geo+json, application/json;q=0.9"
_MAX_EMPTY_PAGES = 3


def crs_uri(crs: int | str) -> str:
    """The OGC URI of a CRS given as an EPSG code, ``"EPSG:28992"``, ``"CRS84"`` or a URI."""
    if isinstance(crs, int):
        return EPSG_URI.format(code=crs)
    text = crs.strip()
    if text.upper() in {"CRS84", "OGC:CRS84"}:
        return CRS84
    if text.upper().startswith("EPSG:") and text[5:].isdigit():
        return EPSG_URI.format(code=text[5:])
    if text.startswith(("http://", "https://")):
        return text
    raise InvalidInput(f"not a CRS: {crs!r}", hint="give an EPSG code, 'CRS84' or a CRS URI")


class OGCFeaturesClient:
    """Reads collections and features of one OGC API – Features endpoint."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 60,
        retries: int = 3,
        backoff: float = 0.5,
        client: httpx.Client | None = None,
        offline: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.offline = offline
        self._own_client = client is None
        self._client = client if client is not None else httpx.Client(follow_redirects=True)
        self._headers = {"User-Agent": f"biostresstest/{__version__}", "Accept": _ACCEPT}

    @classmethod
    def from_settings(cls, base_url: str, settings: Settings, **kwargs: Any) -> Self:
        """A client using the timeout and offline switch of ``settings``."""
        return cls(base_url, timeout=settings.http_timeout, offline=settings.offline, **kwargs)

    def close(self) -> None:
        """Close the HTTP client, if this object made it."""
        if self._own_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def collections(self) -> list[dict[str, Any]]:
        """The ``collections`` array of ``/collections``."""
        data, _ = self._get_json(f"{self.base_url}/collections", {"f": "json"})
        found = data.get("collections")
        if not isinstance(found, list):
            raise CorruptInput(f"{self.base_url}/collections holds no 'collections' list")
        return found

    def collection(self, collection: str) -> dict[str, Any]:
        """The metadata document of one collection (its ``crs`` list, extent, links …)."""
        data, _ = self._get_json(f"{self.base_url}/collections/{collection}", {"f": "json"})
        return data

    def items(
        self,
        collection: str,
        *,
        bbox: Sequence[float] | None = None,
        bbox_crs: int | str | None = None,
        crs: int | str | None = None,
        limit: int = 1000,
        params: Mapping[str, str | int | float] | None = None,
        max_features: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The GeoJSON features of ``collection``, fetched page by page along ``rel=next`` links.

        ``bbox`` is (xmin, ymin, xmax, ymax) in ``bbox_crs`` (default CRS84); ``crs`` asks for the
        output CRS; ``params`` adds filters such as ``gemeentecode``. Raises ``CorruptInput``
        when fewer features arrive than ``numberMatched`` said (unless ``max_features`` stopped
        the reading early), on a ``next`` loop, and on a malformed page.
        """
        yield from self._features(collection, bbox, bbox_crs, crs, limit, params, max_features, [])

    def read_collection(
        self,
        collection: str,
        *,
        bbox: Sequence[float] | None = None,
        bbox_crs: int | str | None = None,
        crs: int = 28992,
        limit: int = 1000,
        params: Mapping[str, str | int | float] | None = None,
        max_features: int | None = None,
    ) -> gpd.GeoDataFrame:
        """All features of ``collection`` as a GeoDataFrame in ``EPSG:{crs}``.

        Asks the server for ``crs`` when the collection offers it, and checks the ``Content-Crs``
        header of every page. A server that answers in CRS84 (by header, or without a header and
        with lon/lat coordinates) is reprojected here. Each feature's ``id`` becomes column ``id``
        unless the properties hold one already.
        """
        wanted = crs_uri(crs)
        offered = self.collection(collection).get("crs")
        ask = wanted if not isinstance(offered, list) or wanted in offered else None
        headers: list[str | None] = []
        features = list(
            self._features(collection, bbox, bbox_crs, ask, limit, params, max_features, headers)
        )
        given = {h.strip().strip("<>").strip() if h else None for h in headers}
        if len(given) > 1:
            raise CRSMismatch(
                f"pages of {collection} came in different CRSs: {sorted(map(str, given))}"
            )
        header = given.pop() if given else None
        frame = gpd.GeoDataFrame.from_features(features)
        if features and "id" not in frame.columns and all("id" in f for f in features):
            frame.insert(0, "id", [f["id"] for f in features])
        if header is None and ask is not None and not _looks_lonlat(frame):
            header = ask  # no header, but the coordinates are evidently the projected ones asked
        if header is None or header in _CRS84_URIS:
            return frame.set_crs("OGC:CRS84", allow_override=True).to_crs(epsg=crs)
        if header != wanted:
            raise CRSMismatch(
                f"{self.base_url}/collections/{collection} answered in {header}, "
                f"asked for {ask or CRS84}",
                hint="the server ignored crs=; check the collection's 'crs' list",
            )
        return frame.set_crs(epsg=crs, allow_override=True)

    # -- internals ------------------------------------------------------------------------------

    def _features(
        self,
        collection: str,
        bbox: Sequence[float] | None,
        bbox_crs: int | str | None,
        crs: int | str | None,
        limit: int,
        params: Mapping[str, str | int | float] | None,
        max_features: int | None,
        content_crs: list[str | None],
    ) -> Iterator[dict[str, Any]]:
        if limit < 1 or (max_features is not None and max_features < 0):
            raise InvalidInput(
                f"limit must be >= 1 and max_features >= 0, got {limit}, {max_features}"
            )
        query: dict[str, str | int | float] = {"f": "json", **(params or {})}
        query["limit"] = min(limit, max_features) if max_features else limit
        if bbox is not None:
            if len(bbox) != 4:
                raise InvalidInput(f"bbox needs 4 numbers, got {list(bbox)}")
            query["bbox"] = ",".join(f"{float(v):.12g}" for v in bbox)
            if bbox_crs is not None:
                query["bbox-crs"] = crs_uri(bbox_crs)
        if crs is not None:
            query["crs"] = crs_uri(crs)
        url: str | None = f"{self.base_url}/collections/{collection}/items"
        q: Mapping[str, str | int | float] | None = query
        seen: set[str] = set()
        ids: set[Any] = set()
        matched: int | None = None
        received = empty = 0
        while url is not None:
            if max_features is not None and received >= max_features:
                return
            page, response = self._get_json(url, q)
            here = str(response.request.url)
            seen.add(here)
            content_crs.append(response.headers.get("Content-Crs"))
            feats = page.get("features")
            if page.get("type") != "FeatureCollection" or not isinstance(feats, list):
                raise CorruptInput(f"{here} is not a GeoJSON FeatureCollection (truncated result)")
            returned = page.get("numberReturned")
            if isinstance(returned, int) and returned != len(feats):
                raise CorruptInput(
                    f"{here} says numberReturned={returned} but holds {len(feats)} features"
                )
            if matched is None and isinstance(page.get("numberMatched"), int):
                matched = page["numberMatched"]
            for feature in feats:
                if max_features is not None and received >= max_features:
                    return
                if not isinstance(feature, dict):
                    raise CorruptInput(f"{here} holds a non-feature: {str(feature)[:80]}")
                fid = feature.get("id")
                if isinstance(fid, str | int):
                    if fid in ids:
                        raise CorruptInput(f"{here} repeats feature id {fid!r}: paging loops")
                    ids.add(fid)
                received += 1
                yield feature
            url, q = _next_link(page, response.request.url), None
            empty = empty + 1 if not feats else 0
            if url is not None and (url in seen or empty >= _MAX_EMPTY_PAGES):
                raise CorruptInput(
                    f"paging of {collection} loops: next link {url} was fetched already"
                    if url in seen
                    else f"paging of {collection} gives empty pages with next links ({url})"
                )
        if matched is not None and received != matched:
            raise CorruptInput(
                f"truncated result: {self.base_url}/collections/{collection} matched {matched} "
                f"features but {received} arrived",
                hint="the server cut the result short; run again later, or cut the bbox smaller",
            )

    def _get_json(
        self, url: str, params: Mapping[str, str | int | float] | None
    ) -> tuple[dict[str, Any], httpx.Response]:
        """GET with bounded retries; the parsed JSON object and the response."""
        if self.offline:
            raise SourceUnavailable(f"offline: not fetching {url}", hint="unset offline mode")
        attempt = 0
        while True:
            wait = self.backoff * 2**attempt
            try:
                response = self._client.get(
                    url, params=params, headers=self._headers, timeout=self.timeout
                )
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 400:
                    try:
                        data = response.json()
                    except ValueError as exc:
                        raise CorruptInput(f"{response.url} answered no valid JSON: {exc}") from exc
                    if not isinstance(data, dict):
                        raise CorruptInput(f"{response.url} answered JSON that is not an object")
                    return data, response
                problem = f"HTTP {response.status_code}: {_server_message(response)}"
                if response.status_code not in _RETRY_STATUS:
                    raise SourceUnavailable(
                        f"{response.url} answered {problem}",
                        hint="not retried: check the collection name and the parameters",
                    )
                wait = max(wait, _retry_after(response) or 0.0)
            if attempt >= self.retries:
                shown = url if params is None else str(httpx.URL(url, params=params))
                raise SourceUnavailable(
                    f"{shown} failed after {attempt + 1} attempts; last: {problem}",
                    hint="the server is down or overloaded; try again later",
                )
            attempt += 1
            time.sleep(min(wait, MAX_RETRY_AFTER))


def _next_link(page: Mapping[str, Any], current: httpx.URL) -> str | None:
    """The absolute URL of the page's ``rel=next`` link (GeoJSON type first), or None."""
    nexts = [
        link
        for link in page.get("links") or []
        if isinstance(link, dict) and link.get("rel") == "next" and link.get("href")
    ]
    if not nexts:
        return None
    json_types = ("application/geo+json", "application/json")
    nexts.sort(key=lambda link: 0 if str(link.get("type", "")).startswith(json_types) else 1)
    return str(current.join(str(nexts[0]["href"])))


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _server_message(response: httpx.Response) -> str:
    """The server's own error text (OGC exception ``description`` when JSON), shortened."""
    try:
        data = response.json()
    except ValueError:
        data = response.text.strip() or response.reason_phrase
    if isinstance(data, dict):
        data = data.get("description") or data.get("detail") or data
    return str(data)[:300]


def _looks_lonlat(frame: gpd.GeoDataFrame) -> bool:
    """Whether all coordinates fit the lon/lat ranges (true for an empty frame)."""
    if frame.empty:
        return True
    xmin, ymin, xmax, ymax = frame.total_bounds
    return bool(xmin >= -180 and xmax <= 180 and ymin >= -90 and ymax <= 90)
