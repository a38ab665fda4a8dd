"""The limits every upload and download is held to (sizes, counts, complexity, time)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UploadLimits:
    """Upper bounds, checked before the costly step they protect.

    The defaults fit a gemeente's own data (a tree register of 100,000 trees, a land-cover map
    of 500,000 polygons) on one machine; a deployment may pass its own.
    """

    max_bytes: int = 512 * 1024 * 1024
    """Largest upload or download, in bytes (HTTP answer 413 beyond it); for a collection
    fetched page by page, all pages together."""
    max_page_bytes: int = 64 * 1024 * 1024
    """Largest single page of an OGC API collection (each page is parsed whole)."""
    max_zip_entries: int = 64
    max_unzipped_bytes: int = 2 * 1024 * 1024 * 1024
    max_zip_ratio: float = 200.0
    """Largest uncompressed/compressed size ratio of one zip member (zip bombs reach 1000s)."""
    max_features: int = 2_000_000
    max_vertices_per_feature: int = 250_000
    max_vertices_total: int = 50_000_000
    max_raster_cells: int = 400_000_000
    max_raster_bands: int = 4
    max_csv_line_bytes: int = 64 * 1024
    url_timeout_s: float = 60.0
    """Total time for a download by address (every hop and page together)."""
    max_redirects: int = 5
    max_pages: int = 200
    """Pages followed for an OGC API Features collection."""
