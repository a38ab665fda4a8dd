"""PDOK Locatieserver: the national geocoder for addresses, streets, woonplaatsen and areas.

Used by the search when the tool is online. ``free`` answers matching places with their
coordinates in one request; ``suggest`` answers ids for type-ahead, resolved by ``lookup``.
The answer is a Solr document list (``response.docs``) whose points come as WKT
(``POINT(x y)``) in RD New (``centroide_rd``) and WGS84 (``centroide_ll``).

Every call has a short timeout; a failure raises SourceUnavailable so the caller can fall back
to the local gazetteer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from biostresstest.core.errors import CorruptInput, SourceUnavailable


@dataclass(frozen=True)
class GeocoderSpec:
    """What the geocoder is and how we ask it. Declarative: no behaviour here."""

    id: str
    title: str
    publisher: str
    licence: str
    url: str
    """Base URL; the endpoints below are appended."""
    free: str
    suggest: str
    lookup: str
    fields: tuple[str, ...]
    """The ``fl`` fields asked for (Solr field list)."""
    types: tuple[str, ...]
    """The ``fq=type:`` filter: kinds of places we show."""
    max_rows: int


SPEC = GeocoderSpec(
    id="pdok-locatieserver",
    title="PDOK Locatieserver v3.1",
    publisher="PDOK (Kadaster), on BAG, BGT, CBS and NWB",
    licence="CC0 1.0",
    url="https://api.pdok.nl/bzk/locatieserver/search/v3_1",
    free="free",
    suggest="suggest",
    lookup="lookup",
    fields=(
        "id",
        "type",
        "weergavenaam",
        "centroide_rd",
        "centroide_ll",
        "gemeentecode",
        "gemeentenaam",
        "wijkcode",
        "buurtcode",
        "score",
    ),
    types=("adres", "weg", "postcode", "woonplaats", "gemeente", "wijk", "buurt"),
    max_rows=50,
)

_POINT = re.compile(r"^\s*POINT\s*\(\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\)\s*$")


@dataclass(frozen=True)
class GeocodedPlace:
    """One answer of the Locatieserver."""

    id: str
    name: str
    type: str
    x: float
    y: float
    lon: float
    lat: float
    gemeente: str
    """GM code of the gemeente, or empty."""
    code: str
    """The area code for gemeente, wijk and buurt answers, else the Locatieserver id."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, shaped like a place of the local gazetteer."""
        pad = 0.002 if self.type in ("adres", "postcode") else 0.01
        return {
            "name": self.name,
            "type": self.type,
            "code": self.code,
            "gemeente": self.gemeente,
            "x": round(self.x, 1),
            "y": round(self.y, 1),
            "lon": round(self.lon, 6),
            "lat": round(self.lat, 6),
            "bbox_wgs84": [
                round(self.lon - pad, 6),
                round(self.lat - pad, 6),
                round(self.lon + pad, 6),
                round(self.lat + pad, 6),
            ],
            "source": SPEC.id,
        }


def free(
    query: str, *, base_url: str = SPEC.url, timeout: float = 1.5, rows: int = 10
) -> list[GeocodedPlace]:
    """Places matching ``query`` with their coordinates (one request)."""
    params = {
        "q": query,
        "rows": str(min(rows, SPEC.max_rows)),
        "fl": " ".join(SPEC.fields),
        "fq": f"type:({' OR '.join(SPEC.types)})",
    }
    return [p for p in (_place(d) for d in _docs(base_url, SPEC.free, params, timeout)) if p]


def suggest(
    query: str, *, base_url: str = SPEC.url, timeout: float = 1.5, rows: int = 10
) -> list[tuple[str, str, str]]:
    """Type-ahead: ``(id, type, weergavenaam)`` of the best matches."""
    params = {"q": query, "rows": str(min(rows, SPEC.max_rows))}
    return [
        (str(d["id"]), str(d.get("type", "")), str(d.get("weergavenaam", "")))
        for d in _docs(base_url, SPEC.suggest, params, timeout)
        if "id" in d
    ]


def lookup(identifier: str, *, base_url: str = SPEC.url, timeout: float = 1.5) -> GeocodedPlace:
    """The full answer for an id from ``suggest``."""
    params = {"id": identifier, "fl": " ".join(SPEC.fields)}
    for doc in _docs(base_url, SPEC.lookup, params, timeout):
        place = _place(doc)
        if place is not None:
            return place
    raise SourceUnavailable(
        f"the Locatieserver knows no place {identifier[:60]!r}", hint="search again"
    )


def _docs(base_url: str, endpoint: str, params: dict[str, str], timeout: float) -> list[Any]:
    url = f"{base_url.rstrip('/')}/{endpoint}"
    try:
        response = httpx.get(url, params=params, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise SourceUnavailable(
            f"the Locatieserver did not answer: {type(exc).__name__}",
            hint="showing places of the loaded data only; check the internet connection",
        ) from exc
    if response.status_code != 200:
        raise SourceUnavailable(
            f"the Locatieserver answered HTTP {response.status_code}",
            hint="showing places of the loaded data only; try again later",
        )
    try:
        docs = response.json()["response"]["docs"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptInput(
            "the Locatieserver answer is not the expected JSON (response.docs)",
            hint="the service may have changed; see sources/locatieserver.py",
        ) from exc
    if not isinstance(docs, list):
        raise CorruptInput("the Locatieserver answer holds no list of places", hint="try again")
    return docs


def _point(text: Any) -> tuple[float, float] | None:
    match = _POINT.match(str(text or ""))
    return (float(match.group(1)), float(match.group(2))) if match else None


def _place(doc: Any) -> GeocodedPlace | None:
    """One document as a place; None when it lacks a name or valid coordinates."""
    if not isinstance(doc, dict):
        return None
    rd, ll = _point(doc.get("centroide_rd")), _point(doc.get("centroide_ll"))
    if rd is None or ll is None or not doc.get("weergavenaam"):
        return None
    if not (-7000 <= rd[0] <= 300000 and 289000 <= rd[1] <= 629000):
        return None  # outside RD New: not a Dutch place
    kind = str(doc.get("type", ""))
    gemeente = f"GM{doc['gemeentecode']}" if doc.get("gemeentecode") else ""
    codes = {"gemeente": gemeente, "wijk": doc.get("wijkcode"), "buurt": doc.get("buurtcode")}
    return GeocodedPlace(
        id=str(doc.get("id", "")),
        name=str(doc["weergavenaam"])[:200],
        type=kind,
        x=rd[0],
        y=rd[1],
        lon=ll[0],
        lat=ll[1],
        gemeente=gemeente,
        code=str(codes.get(kind) or doc.get("id", "")),
    )
