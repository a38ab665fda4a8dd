"""HTML → PDF with WeasyPrint, fetching nothing but our own assets.

WeasyPrint's default fetcher follows ``file://``, ``http(s)://``, ``data:`` and redirects, so a
name from data such as ``<img src="file:///etc/passwd">`` could pull a local file or reach an
internal address while a PDF is made. The templates escape every value, and as a second wall
:class:`AssetFetcher` serves only the images rendered for this report and the packaged files
under the private scheme ``bst-asset:``; it refuses everything else before any I/O happens and
records every request, so tests can prove nothing else was asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

SCHEME = "bst-asset:"
_PACKAGED = {"report.css": "text/css"}
"""Files of ``reports/templates`` the fetcher may serve besides the rendered images."""


@dataclass(frozen=True)
class Asset:
    """Bytes made for the report (a map PNG, a chart SVG) and their media type."""

    body: bytes
    media_type: str


def asset_url(name: str) -> str:
    """The URL under which the fetcher serves the asset ``name``."""
    return SCHEME + name


class AssetFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint has no type hints
    """A URL fetcher that serves only ``bst-asset:`` names it knows and refuses all else."""

    def __init__(self, assets: Mapping[str, Asset]) -> None:
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
        self._assets = dict(assets)
        self.requested: list[str] = []
        """Every URL WeasyPrint asked for, in order."""
        self.refused: list[str] = []
        """The URLs that were refused."""

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """Serve an asset, or raise (WeasyPrint then leaves the resource out)."""
        self.requested.append(url)
        if url.startswith(SCHEME):
            name = url[len(SCHEME) :]
            asset = self._assets.get(name) or _packaged(name)
            if asset is not None:
                return URLFetcherResponse(
                    url, asset.body, {"Content-Type": asset.media_type}, status=200
                )
        self.refused.append(url)
        raise ValueError(f"the report may only use its own assets, not {url[:80]!r}")

    @property
    def outside(self) -> list[str]:
        """Requests for anything but our own assets (must stay empty)."""
        return [u for u in self.requested if not u.startswith(SCHEME)]


def _packaged(name: str) -> Asset | None:
    media_type = _PACKAGED.get(name)
    if media_type is None:
        return None
    body = (resources.files("biostresstest.reports") / "templates" / name).read_bytes()
    return Asset(body, media_type)


@dataclass
class RenderedPdf:
    """A PDF and the requests its rendering made."""

    pdf: bytes
    fetcher: AssetFetcher
    html: str = field(repr=False, default="")


def html_to_pdf(html: str, assets: Mapping[str, Asset]) -> RenderedPdf:
    """Render ``html`` with the packaged stylesheet to PDF bytes."""
    fetcher = AssetFetcher(assets)
    stylesheet = _packaged("report.css")
    assert stylesheet is not None
    css = CSS(string=stylesheet.body.decode("utf-8"), url_fetcher=fetcher)
    document = HTML(string=html, url_fetcher=fetcher, base_url=None)
    pdf: bytes = document.write_pdf(stylesheets=[css])
    return RenderedPdf(pdf, fetcher, html)
