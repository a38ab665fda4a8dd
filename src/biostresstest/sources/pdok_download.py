"""The PDOK BGT download API: an asynchronous request, polled until the zip is ready.

1. ``POST …/full/custom`` with the feature types, the format and a WKT polygon in RD New;
   the answer (202) carries a ``downloadRequestId``.
2. ``GET …/full/custom/{id}/status`` until ``status`` is ``COMPLETED``.
3. ``GET`` the host + ``_links.download.href``: a zip with one GML file per feature type.

PDOK delivers whole pre-cut squares, so the zip holds more than the polygon asked for.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from biostresstest.core.errors import SourceUnavailable

FINISHED = "COMPLETED"
FAILED = {"ERROR", "FAILED", "TIMEOUT", "EXPIRED"}


def download_bgt(
    url: str,
    featuretypes: tuple[str, ...],
    bounds: tuple[float, float, float, float],
    target: Path,
    *,
    timeout: float = 60.0,
    poll_seconds: float = 2.0,
    max_wait: float = 1800.0,
    client: httpx.Client | None = None,
) -> None:
    """Request, await and download a BGT CityGML extract of ``bounds`` (RD New) to ``target``."""
    xmin, ymin, xmax, ymax = bounds
    polygon = f"POLYGON(({xmin} {ymin},{xmax} {ymin},{xmax} {ymax},{xmin} {ymax},{xmin} {ymin}))"
    body = {"featuretypes": list(featuretypes), "format": "citygml", "geofilter": polygon}
    own = client is None
    http = client or httpx.Client(timeout=timeout, headers={"User-Agent": "biostresstest"})
    try:
        answer = _call(http, "POST", url, json=body, headers={"Accept": "application/json"})
        request_id = answer.json().get("downloadRequestId")
        if not request_id:
            raise SourceUnavailable(f"the BGT download API at {url} gave no downloadRequestId")
        status_url = f"{url.rstrip('/')}/{request_id}/status"
        deadline = time.monotonic() + max_wait
        while True:
            status = _call(http, "GET", status_url).json()
            state = str(status.get("status", "")).upper()
            if state == FINISHED:
                break
            if state in FAILED:
                raise SourceUnavailable(f"the BGT download {request_id} ended with {state}")
            if time.monotonic() > deadline:
                raise SourceUnavailable(
                    f"the BGT download {request_id} was not ready after {max_wait:.0f} s "
                    f"(last status {state or '?'}, progress {status.get('progress', '?')} %)",
                    hint="try again later or request a smaller area",
                )
            time.sleep(poll_seconds)
        href = status.get("_links", {}).get("download", {}).get("href")
        if not href:
            raise SourceUnavailable(f"the BGT download {request_id} has no download link")
        parts = urlsplit(url)
        download_url = href if href.startswith("http") else f"{parts.scheme}://{parts.netloc}{href}"
        part = target.with_name(target.name + ".part")
        with http.stream("GET", download_url) as stream:
            if stream.status_code != 200:
                raise SourceUnavailable(
                    f"the BGT download {download_url} answered {stream.status_code}"
                )
            with part.open("wb") as out:
                for chunk in stream.iter_bytes(1 << 20):
                    out.write(chunk)
        part.replace(target)
    except httpx.HTTPError as exc:
        raise SourceUnavailable(
            f"could not use the BGT download API at {url}: {exc}",
            hint="set BIOSTRESSTEST_MIRROR to a folder with a BGT download, or connect",
        ) from exc
    finally:
        if own:
            http.close()


def _call(http: httpx.Client, method: str, url: str, **kwargs: object) -> httpx.Response:
    answer = http.request(method, url, **kwargs)  # type: ignore[arg-type]
    if answer.status_code >= 400:
        raise SourceUnavailable(
            f"the BGT download API answered {answer.status_code} to {method} {url}: "
            f"{answer.text[:300]}"
        )
    return answer
